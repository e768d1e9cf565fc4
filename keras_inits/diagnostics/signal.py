"""Placeholder until issue 7 lands."""


class SignalReport:
    def __init__(self, *args, **kwargs):
        raise NotImplementedError("SignalReport is not implemented yet (issue 7)")


def signal_report(*args, **kwargs):
    raise NotImplementedError("signal_report is not implemented yet (issue 7)")
