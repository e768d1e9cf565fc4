"""Placeholder until issue 6 lands."""


def init_transformer(*args, **kwargs):
    raise NotImplementedError("init_transformer is not implemented yet (issue 6)")
