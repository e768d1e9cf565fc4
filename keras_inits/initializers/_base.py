"""Shared checks for every keras_inits initializer: dtype, shape, numbers.

Initializers compute in float32 (QR and Hadamard products fail or lose
precision in bfloat16/float16 on every backend) and cast once at the end.
"""

from __future__ import annotations

import math

import keras

from keras_inits.fans import check_shape

__all__ = [
    "COMPUTE_DTYPE",
    "check_choice",
    "check_number",
    "check_shape",
    "compute_dtype",
    "float_dtype",
    "resolve_initializer",
]

COMPUTE_DTYPE = "float32"


def float_dtype(dtype) -> str:
    """Standardize `dtype` (None means ``keras.config.floatx()``); refuse non-floats."""
    name = keras.backend.standardize_dtype(dtype or keras.config.floatx())
    if "float" not in name:
        raise ValueError(
            "Initializers of keras_inits produce floating-point values only. "
            f"Argument `dtype` must be a float dtype. Received: dtype={dtype}"
        )
    return name


def compute_dtype(dtype: str) -> str:
    """float64 stays float64; every narrower float is computed in float32."""
    return "float64" if dtype == "float64" else COMPUTE_DTYPE


def check_number(name, value, *, positive=False, non_negative=False, upper=None):
    """Return `value` as a float, or raise naming the argument and the value."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(
            f"Argument `{name}` must be a number. Received: {name}={value!r}"
        )
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"Argument `{name}` must be finite. Received: {name}={value}")
    if positive and value <= 0:
        raise ValueError(f"Argument `{name}` must be positive. Received: {name}={value}")
    if non_negative and value < 0:
        raise ValueError(
            f"Argument `{name}` must be non-negative. Received: {name}={value}"
        )
    if upper is not None and value > upper:
        raise ValueError(
            f"Argument `{name}` must be at most {upper}. Received: {name}={value}"
        )
    return value


def check_choice(name, value, choices):
    if value not in choices:
        raise ValueError(
            f"Argument `{name}` must be one of {set(choices)}. Received: {name}={value}"
        )
    return value


def resolve_initializer(value, name):
    """``keras.initializers.get(value)``, or a ValueError naming the argument."""
    try:
        return keras.initializers.get(value)
    except (ValueError, TypeError) as err:
        raise ValueError(
            f"Argument `{name}` must be an initializer, its name or its config. "
            f"Received: {name}={value!r} ({err})"
        ) from None
