"""Layers keras_inits adds: ResidualScale (SkipInit / ReZero gate) and ScalarBias."""

from keras_inits.residual import ResidualScale, ScalarBias

__all__ = ["ResidualScale", "ScalarBias"]
