"""Property tests (hypothesis): any valid shape, dtype and argument gives finite
values with the documented moments; any invalid argument gives a ValueError
or TypeError naming it."""

import math

import keras
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import keras_inits as ki
from tests.helpers import Z, assert_float_dtype, assert_moments, float_dtypes, to_numpy
from tests.initializers.test_structured import zero_reference

# Few examples: each draws a kernel on the backend (JAX compiles per shape,
# about 1 s each, so it gets fewer).
SETTINGS = settings(max_examples=5 if keras.backend.backend() == "jax" else 12,
                    deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])

dense_shapes = st.tuples(st.integers(8, 96), st.integers(8, 96))
conv_shapes = st.tuples(st.integers(1, 3), st.integers(1, 3), st.integers(2, 24), st.integers(2, 24))
shapes = st.one_of(dense_shapes, conv_shapes)
modes = st.sampled_from(["fan_in", "fan_out"])
slopes = st.floats(0.0, 1.0)


def fans(shape):
    receptive = math.prod(shape[:-2])
    return shape[-2] * receptive, shape[-1] * receptive


def check_moments(values, std, dist):
    """Mean and variance within Z standard errors; bounds for uniform."""
    x = to_numpy(values).astype(np.float64).ravel()
    assert np.isfinite(x).all()
    n = x.size
    kurtosis = {"normal": 3.0, "uniform": 1.8}[dist]
    assert abs(x.mean()) <= Z * std / math.sqrt(n)
    assert abs(x.var() - std**2) <= Z * std**2 * math.sqrt((kurtosis - 1) / n)
    if dist == "uniform":
        assert np.abs(x).max() <= math.sqrt(3) * std * (1 + 1e-6)


@SETTINGS
@given(shape=shapes, mode=modes, slope=slopes, seed=st.integers(0, 2**16),
       uniform=st.booleans())
def test_kaiming_any_valid_arguments(shape, mode, slope, seed, uniform):
    if math.prod(shape) < 64:  # moments need a sample
        shape = (*shape[:-1], 64)
    cls = ki.KaimingUniform if uniform else ki.KaimingNormal
    values = cls(negative_slope=slope, mode=mode, seed=seed)(shape)
    fan = fans(shape)[0 if mode == "fan_in" else 1]
    std = math.sqrt(2.0 / (1.0 + slope**2)) / math.sqrt(fan)
    check_moments(values, std, "uniform" if uniform else "normal")


@SETTINGS
@given(shape=shapes, gain=st.floats(0.1, 4.0), seed=st.integers(0, 2**16),
       uniform=st.booleans())
def test_xavier_any_valid_arguments(shape, gain, seed, uniform):
    if math.prod(shape) < 64:
        shape = (*shape[:-1], 64)
    cls = ki.XavierUniform if uniform else ki.XavierNormal
    values = cls(gain=gain, seed=seed)(shape)
    fan_in, fan_out = fans(shape)
    check_moments(values, gain * math.sqrt(2.0 / (fan_in + fan_out)),
                  "uniform" if uniform else "normal")


def dtype_check(name, shape):
    """The values' structure or moments for a (fan_in, fan_out) Dense shape."""
    n_in, n_out = shape

    def check(x, tol):
        if name == "KaimingNormal":
            assert_moments(x, math.sqrt(2.0 / n_in), rounding=tol)
        elif name == "XavierUniform":
            std = math.sqrt(2.0 / (n_in + n_out))
            assert_moments(x, std, dist="uniform", rounding=tol)
            assert np.abs(x).max() <= math.sqrt(3) * std * (1 + tol)
        elif name == "ZerO":  # the paper's matrix from scipy's Hadamard
            np.testing.assert_allclose(x, zero_reference(n_in, n_out), rtol=tol)
        else:  # Sparse(0.1, 0.01): ceil(0.1 * n_in) zeros per unit
            np.testing.assert_array_equal((x == 0).sum(axis=0), math.ceil(round(0.1 * n_in, 9)))
            assert_moments(x[x != 0], 0.01, rounding=tol)

    return check


@SETTINGS
@given(dtype=st.sampled_from(float_dtypes()), shape=dense_shapes,
       name=st.sampled_from(["KaimingNormal", "XavierUniform", "ZerO", "Sparse"]))
def test_every_float_dtype_is_kept_finite_and_right(dtype, shape, name):
    # One instance for both calls: unseeded, it repeats its seed (Keras).
    init = getattr(ki, name)()
    assert_float_dtype(lambda: init, shape, dtype, dtype_check(name, shape))


@SETTINGS
@given(bad=st.one_of(st.floats(-10, -1e-3), st.just(float("nan")), st.just(float("inf"))))
def test_bad_gain_names_the_argument(bad):
    with pytest.raises(ValueError, match="gain"):
        ki.XavierNormal(gain=bad)


@SETTINGS
@given(bad=st.text(min_size=1, max_size=8).filter(lambda m: m not in ("fan_in", "fan_out")))
def test_bad_mode_names_the_argument(bad):
    with pytest.raises(ValueError, match="mode"):
        ki.KaimingNormal(mode=bad)


@SETTINGS
@given(bad=st.one_of(st.floats(-1.0, -1e-6), st.floats(1.000001, 5.0)))
def test_bad_sparsity_names_the_argument(bad):
    with pytest.raises(ValueError, match="sparsity"):
        ki.Sparse(sparsity=bad)


@SETTINGS
@given(dtype=st.sampled_from(["int32", "int64", "uint8", "bool"]))
def test_non_float_dtype_is_refused(dtype):
    with pytest.raises(ValueError, match="Argument `dtype` must be a float dtype"):
        ki.KaimingNormal()((8, 8), dtype=dtype)


# Every class, and a bad shape of every kind: README promises a ValueError
# naming `shape` (not a TypeError for a float or None dimension, not a
# backend error from a wrapped Keras initializer).
EVERY_CLASS = {
    "KaimingNormal": lambda: ki.KaimingNormal(seed=0),
    "KaimingUniform": lambda: ki.KaimingUniform(seed=0),
    "XavierNormal": lambda: ki.XavierNormal(seed=0),
    "XavierUniform": lambda: ki.XavierUniform(seed=0),
    "DeltaOrthogonal": lambda: ki.DeltaOrthogonal(seed=0),
    "Dirac": lambda: ki.Dirac(),
    "ZerO": lambda: ki.ZerO(),
    "Sparse": lambda: ki.Sparse(seed=0),
    "ICNR": lambda: ki.ICNR(seed=0),
    "Scaled-keras-base": lambda: ki.Scaled("ones", 2.0),
    "Scaled": lambda: ki.Scaled(ki.KaimingNormal(seed=0), 2.0),
    "PriorBias": lambda: ki.PriorBias(0.1),
    "ChronoBias": lambda: ki.ChronoBias(10, seed=0),
}
BAD_SHAPES = [(3, 3, 4, -1), (3, 3, 4, 2.5), (None, 3, 4, 8), "ab", 8, (3, 3, True, 8)]


@pytest.mark.parametrize("shape", BAD_SHAPES, ids=repr)
@pytest.mark.parametrize("name", sorted(EVERY_CLASS))
def test_bad_shape_is_a_value_error(name, shape):
    with pytest.raises(ValueError, match="Argument `shape` must be a tuple of non-negative"):
        EVERY_CLASS[name]()(shape)
