"""Diagnostics: signal-propagation report and plot, mean-field theory."""

from keras_inits.diagnostics import theory
from keras_inits.diagnostics.signal import SignalReport, signal_report

__all__ = ["SignalReport", "signal_report", "theory"]
