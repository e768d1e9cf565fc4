"""Placeholder until issue 5 lands."""


def zero_residual(*args, **kwargs):
    raise NotImplementedError("zero_residual is not implemented yet (issue 5)")


class ResidualScale:
    def __init__(self, *args, **kwargs):
        raise NotImplementedError("ResidualScale is not implemented yet (issue 5)")
