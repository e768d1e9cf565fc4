"""Placeholder until the structured-initializers issue lands (issue 3)."""


class DeltaOrthogonal:
    def __init__(self, *args, **kwargs):
        raise NotImplementedError("DeltaOrthogonal is not implemented yet (issue 3)")

