"""Placeholder until the structured-initializers issue lands (issue 3)."""


class ChronoBias:
    def __init__(self, *args, **kwargs):
        raise NotImplementedError("ChronoBias is not implemented yet (issue 3)")


class PriorBias:
    def __init__(self, *args, **kwargs):
        raise NotImplementedError("PriorBias is not implemented yet (issue 3)")

