"""Placeholder until the structured-initializers issue lands (issue 3)."""


class ICNR:
    def __init__(self, *args, **kwargs):
        raise NotImplementedError("ICNR is not implemented yet (issue 3)")


class Scaled:
    def __init__(self, *args, **kwargs):
        raise NotImplementedError("Scaled is not implemented yet (issue 3)")

