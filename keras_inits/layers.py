"""Layers keras_inits adds: ResidualScale (SkipInit / ReZero gate)."""

from keras_inits.residual import ResidualScale

__all__ = ["ResidualScale"]
