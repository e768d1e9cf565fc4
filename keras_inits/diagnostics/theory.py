"""Placeholder until issue 7 lands."""
