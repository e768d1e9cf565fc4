"""Shared test helpers: moment checks with sample-size tolerances, and the
serialization round trip every initializer must pass."""

from __future__ import annotations

import json
import math

import keras
import numpy as np

# Kurtosis E[x^4]/sigma^4 of each distribution, for the variance's standard error.
KURTOSIS = {"normal": 3.0, "uniform": 1.8, "truncated_normal": 2.37}  # normal truncated at +-2 std
Z = 5.0  # standard errors allowed: a false alarm has probability < 1e-6


def assert_moments(values, std, *, mean=0.0, dist="normal", z=Z):
    """Sample mean and std within `z` standard errors of the formula's.

    The standard error of the mean is std/sqrt(n); of the variance,
    std^2 * sqrt((kurtosis - 1) / n). Both come from the sample size alone.
    """
    x = np.asarray(keras.ops.convert_to_numpy(values), dtype=np.float64).ravel()
    n = x.size
    assert n > 1, "need a sample"
    se_mean = std / math.sqrt(n)
    assert abs(x.mean() - mean) <= z * se_mean, (
        f"mean {x.mean():.6g} vs {mean} (tolerance {z * se_mean:.3g}, n={n})"
    )
    se_var = std**2 * math.sqrt((KURTOSIS[dist] - 1.0) / n)
    assert abs(x.var() - std**2) <= z * se_var, (
        f"variance {x.var():.6g} vs {std**2:.6g} (tolerance {z * se_var:.3g}, n={n})"
    )


def to_numpy(x):
    return np.asarray(keras.ops.convert_to_numpy(x))


def assert_config_roundtrip(init, shape=(16, 8), dtype="float32"):
    """get_config is JSON, from_config and keras (de)serialize give the same values."""
    config = init.get_config()
    json.dumps(config)  # raises if not JSON-serializable
    clone = type(init).from_config(json.loads(json.dumps(config)))
    assert clone.get_config() == config
    expected = to_numpy(init(shape, dtype=dtype))
    np.testing.assert_array_equal(to_numpy(clone(shape, dtype=dtype)), expected)
    serialized = keras.initializers.serialize(init)
    restored = keras.initializers.deserialize(json.loads(json.dumps(serialized)))
    assert type(restored) is type(init)
    np.testing.assert_array_equal(to_numpy(restored(shape, dtype=dtype)), expected)
    return clone


def float_dtypes():
    """Float dtypes the current backend can hold (JAX without x64 has no float64)."""
    dtypes = ["float16", "bfloat16", "float32", "float64"]
    if keras.backend.backend() == "jax":
        import jax

        if not jax.config.jax_enable_x64:
            dtypes.remove("float64")
    return dtypes
