"""Placeholder until issue 8 lands."""


def metainit(*args, **kwargs):
    raise NotImplementedError("metainit is not implemented yet (issue 8)")


def gradinit(*args, **kwargs):
    raise NotImplementedError("gradinit is not implemented yet (issue 8)")
