"""Placeholder until issue 4 lands."""


def lsuv(*args, **kwargs):
    raise NotImplementedError("lsuv is not implemented yet (issue 4)")


def data_dependent_init(*args, **kwargs):
    raise NotImplementedError("data_dependent_init is not implemented yet (issue 4)")
