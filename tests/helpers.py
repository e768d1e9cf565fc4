"""Shared test helpers: moment checks with sample-size tolerances, and the
serialization round trip every initializer must pass."""

from __future__ import annotations

import json
import math

import keras
import numpy as np
import pytest

# Kurtosis E[x^4]/sigma^4 of each distribution, for the variance's standard error.
KURTOSIS = {"normal": 3.0, "uniform": 1.8, "truncated_normal": 2.37}  # normal truncated at +-2 std
Z = 5.0  # standard errors allowed: a false alarm has probability < 1e-6


def assert_moments(values, std, *, mean=0.0, dist="normal", z=Z, rounding=0.0):
    """Sample mean and std within `z` standard errors of the formula's.

    The standard error of the mean is std/sqrt(n); of the variance,
    std^2 * sqrt((kurtosis - 1) / n). Both come from the sample size alone.

    `rounding`: the values were rounded with at most this relative error each
    (a dtype's unit roundoff u). That moves the mean by at most u E|x| and the
    variance by at most 6u E[x^2] (E[x^2] by (1+u)^2 - 1 < 3u of itself, the
    squared mean by u E|x| (2|m| + u E|x|) < 3u E[x^2]); both are added.
    """
    x = np.asarray(keras.ops.convert_to_numpy(values), dtype=np.float64).ravel()
    n = x.size
    assert n > 1, "need a sample"
    tol_mean = z * std / math.sqrt(n) + rounding * np.abs(x).mean()
    assert abs(x.mean() - mean) <= tol_mean, (
        f"mean {x.mean():.6g} vs {mean} (tolerance {tol_mean:.3g}, n={n})"
    )
    tol_var = z * std**2 * math.sqrt((KURTOSIS[dist] - 1.0) / n) + 6 * rounding * np.mean(x**2)
    assert abs(x.var() - std**2) <= tol_var, (
        f"variance {x.var():.6g} vs {std**2:.6g} (tolerance {tol_var:.3g}, n={n})"
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


# Unit roundoff u (half an ulp of 1) of each float dtype: rounding a value to
# the dtype changes it by at most u relatively.
UNIT_ROUNDOFF = {"float16": 2.0**-11, "bfloat16": 2.0**-8, "float32": 2.0**-24, "float64": 2.0**-53}


def assert_float_dtype(make, shape, dtype, check):
    """One case of the dtype sweep every initializer file runs.

    ``make()(shape, dtype=dtype)`` must come back in `dtype` itself (float16
    and bfloat16 not silently upcast), finite, and pass ``check(x, tol)``: the
    case's own structure or moments, on the values as float64, where `tol`
    bounds the relative rounding error of any value (the dtype's unit
    roundoff plus float32's, as values are computed in float32 and cast).
    For float16/bfloat16 the values must also be exactly the float32 result
    rounded once to the dtype (README: "computed in float32, cast once"):
    drawing in the narrow dtype, or computing in it, would differ.
    """
    values = make()(shape, dtype=dtype)
    assert keras.backend.standardize_dtype(values.dtype) == dtype
    assert tuple(values.shape) == tuple(shape)
    wide = values if dtype == "float64" else keras.ops.cast(values, "float32")
    x = to_numpy(wide).astype(np.float64)
    assert np.isfinite(x).all()
    if dtype in ("float16", "bfloat16"):
        reference = keras.ops.cast(make()(shape, dtype="float32"), dtype)
        np.testing.assert_array_equal(x, to_numpy(keras.ops.cast(reference, "float32")))
    check(x, UNIT_ROUNDOFF[dtype] + UNIT_ROUNDOFF["float32"])


def dtype_sweep(cases, checks):
    """The test over every case and float dtype, for a module to bind:
    ``test_dtypes = dtype_sweep(CASES, CHECKS)``. `cases` maps a name to
    ``(make, shape)``, `checks` the same names to ``check(x, tol)``."""
    assert set(checks) == set(cases), set(checks) ^ set(cases)

    @pytest.mark.parametrize("dtype", float_dtypes())
    @pytest.mark.parametrize("name", sorted(cases))
    def test_dtypes(name, dtype):
        make, shape = cases[name]
        assert_float_dtype(make, shape, dtype, checks[name])

    return test_dtypes


def int_dtype_sweep(cases):
    """``test_int_dtype_refused = int_dtype_sweep(CASES)``: every case refuses
    int32 with a ValueError naming `dtype`."""

    @pytest.mark.parametrize("name", sorted(cases))
    def test_int_dtype_refused(name):
        make, shape = cases[name]
        with pytest.raises(ValueError, match="dtype"):
            make()(shape, dtype="int32")

    return test_int_dtype_refused
