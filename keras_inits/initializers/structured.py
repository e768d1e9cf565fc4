"""Placeholder until the structured-initializers issue lands (issue 3)."""


class Dirac:
    def __init__(self, *args, **kwargs):
        raise NotImplementedError("Dirac is not implemented yet (issue 3)")


class Sparse:
    def __init__(self, *args, **kwargs):
        raise NotImplementedError("Sparse is not implemented yet (issue 3)")


class ZerO:
    def __init__(self, *args, **kwargs):
        raise NotImplementedError("ZerO is not implemented yet (issue 3)")

