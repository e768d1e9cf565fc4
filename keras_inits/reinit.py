"""Placeholder until issue 3 lands."""


def reinitialize(*args, **kwargs):
    raise NotImplementedError("reinitialize is not implemented yet (issue 3)")
