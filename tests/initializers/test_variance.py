"""Kaiming/Xavier: moments against torch's formulas, exact scaling, dtypes, errors."""

import math

import keras
import numpy as np
import pytest

import keras_inits as ki
from tests.helpers import (
    KURTOSIS,
    Z,
    assert_config_roundtrip,
    assert_moments,
    dtype_sweep,
    to_numpy,
)

SHAPE = (256, 128)  # fan_in 256, fan_out 128, n = 32768
CONV = (3, 3, 32, 64)  # fan_in 288, fan_out 576


def kaiming_std(fan, slope=0.0):
    return math.sqrt(2.0 / (1.0 + slope**2)) / math.sqrt(fan)


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize(
    "kwargs,fan",
    [
        ({}, 256),
        ({"mode": "fan_out"}, 128),
        ({"negative_slope": 0.2}, 256),
        ({"negative_slope": 0.2, "nonlinearity": "leaky_relu"}, 256),
    ],
)
def test_kaiming_normal_moments(kwargs, fan, seed):
    values = ki.KaimingNormal(seed=seed, **kwargs)(SHAPE)
    assert_moments(values, kaiming_std(fan, kwargs.get("negative_slope", 0.0)))


@pytest.mark.parametrize("seed", [0, 1])
def test_kaiming_uniform_moments_and_bound(seed):
    values = to_numpy(ki.KaimingUniform(seed=seed)(CONV))
    std = kaiming_std(288)
    assert_moments(values, std, dist="uniform")
    assert np.abs(values).max() <= math.sqrt(3.0) * std


def test_kaiming_truncated_keeps_std_and_truncates():
    values = to_numpy(ki.KaimingNormal(truncated=True, seed=3)(SHAPE))
    std = kaiming_std(256)
    assert_moments(values, std, dist="truncated_normal")
    assert np.abs(values).max() <= 2.0 * std / 0.87962566103423978 + 1e-6


def test_kaiming_other_nonlinearity_uses_gain_table():
    values = ki.KaimingNormal(nonlinearity="tanh", seed=0)(SHAPE)
    assert_moments(values, (5.0 / 3.0) / math.sqrt(256))


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("gain", [1.0, 5.0 / 3.0])
def test_xavier_moments(gain, seed):
    std = gain * math.sqrt(2.0 / (256 + 128))
    assert_moments(ki.XavierNormal(gain=gain, seed=seed)(SHAPE), std)
    values = to_numpy(ki.XavierUniform(gain=gain, seed=seed)(SHAPE))
    assert_moments(values, std, dist="uniform")
    assert np.abs(values).max() <= gain * math.sqrt(6.0 / (256 + 128))


def assert_same_variance(a, b, dist):
    """Two independent samples of one distribution: their variances agree
    within Z standard errors of the difference, sqrt(se_a^2 + se_b^2), with
    se = var * sqrt((kurtosis - 1) / n) for each."""
    a, b = (np.asarray(v, dtype=np.float64).ravel() for v in (a, b))
    var = (a.var() + b.var()) / 2
    se = var * math.sqrt((KURTOSIS[dist] - 1.0) * (1 / a.size + 1 / b.size))
    assert abs(a.var() - b.var()) <= Z * se, (a.var(), b.var(), Z * se)


# (torch.nn.init function and kwargs, keras_inits initializer); the torch
# weight is (out, in, k...), the Keras kernel (k..., in, out): same fans.
TORCH_PAIRS = {
    "kaiming_normal": (("kaiming_normal_", {}), lambda: ki.KaimingNormal(seed=0), "normal"),
    "kaiming_normal-fan_out": (("kaiming_normal_", {"mode": "fan_out"}),
                               lambda: ki.KaimingNormal(mode="fan_out", seed=0), "normal"),
    "kaiming_normal-leaky": (("kaiming_normal_", {"a": 0.2, "nonlinearity": "leaky_relu"}),
                             lambda: ki.KaimingNormal(negative_slope=0.2, nonlinearity="leaky_relu", seed=0),
                             "normal"),
    "kaiming_normal-tanh": (("kaiming_normal_", {"nonlinearity": "tanh"}),
                            lambda: ki.KaimingNormal(nonlinearity="tanh", seed=0), "normal"),
    "kaiming_uniform": (("kaiming_uniform_", {}), lambda: ki.KaimingUniform(seed=0), "uniform"),
    "xavier_normal": (("xavier_normal_", {"gain": 2.0}), lambda: ki.XavierNormal(gain=2.0, seed=0), "normal"),
    "xavier_uniform": (("xavier_uniform_", {}), lambda: ki.XavierUniform(seed=0), "uniform"),
}


@pytest.mark.parametrize("torch_shape", [(128, 256), (64, 32, 3, 3)], ids=["dense", "conv"])
@pytest.mark.parametrize("name", sorted(TORCH_PAIRS))
def test_defaults_match_torch_when_installed(name, torch_shape):
    """The same distribution as torch.nn.init's function, drawn by torch itself:
    same variance (two-sample test), same bound for the uniform ones."""
    torch = pytest.importorskip("torch")
    (fn, kwargs), make, dist = TORCH_PAIRS[name]
    torch.manual_seed(0)
    theirs = getattr(torch.nn.init, fn)(torch.empty(*torch_shape), **kwargs).numpy()
    ours = to_numpy(make()((*torch_shape[2:], torch_shape[1], torch_shape[0])))
    assert_same_variance(ours, theirs, dist)
    assert abs(ours.mean()) <= Z * theirs.std() / math.sqrt(ours.size)
    if dist == "uniform":
        # U(-b, b): the largest of n draws is within b / n * log(1e6) of b
        # with probability 1 - 1e-6; both stay within b (float32 slack).
        bound = np.abs(theirs).max()
        assert np.abs(ours).max() <= bound * (1 + math.log(1e6) / theirs.size) + 1e-6
        assert np.abs(theirs).max() <= np.abs(ours).max() * (1 + math.log(1e6) / ours.size) + 1e-6


def test_scale_is_exact_for_the_same_seed():
    a = to_numpy(ki.XavierNormal(gain=1.0, seed=7)(SHAPE))
    b = to_numpy(ki.XavierNormal(gain=3.0, seed=7)(SHAPE))
    np.testing.assert_allclose(b, 3.0 * a, rtol=1e-6)
    c = to_numpy(ki.KaimingNormal(seed=7)(SHAPE))
    d = to_numpy(ki.KaimingNormal(negative_slope=1.0, seed=7)(SHAPE))
    np.testing.assert_allclose(c, d * math.sqrt(2.0), rtol=1e-6)


DTYPE_CASES = {
    "KaimingNormal": (lambda: ki.KaimingNormal(seed=1), (64, 32)),
    "KaimingUniform": (lambda: ki.KaimingUniform(seed=1), (64, 32)),
    "XavierNormal": (lambda: ki.XavierNormal(seed=1), (64, 32)),
    "XavierUniform": (lambda: ki.XavierUniform(seed=1), (64, 32)),
}


def check_variance(std, dist):
    def check(x, tol):
        assert_moments(x, std, dist=dist, rounding=tol)
        if dist == "uniform":
            assert np.abs(x).max() <= math.sqrt(3) * std * (1 + tol)

    return check


DTYPE_CHECKS = {
    "KaimingNormal": check_variance(kaiming_std(64), "normal"),
    "KaimingUniform": check_variance(kaiming_std(64), "uniform"),
    "XavierNormal": check_variance(math.sqrt(2 / 96), "normal"),
    "XavierUniform": check_variance(math.sqrt(2 / 96), "uniform"),
}
test_dtypes = dtype_sweep(DTYPE_CASES, DTYPE_CHECKS)


def test_default_dtype_is_floatx():
    assert keras.backend.standardize_dtype(ki.KaimingNormal(seed=0)((4, 4)).dtype) == "float32"


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16", "float16"])
def test_layers_under_dtype_policies(policy):
    keras.config.set_dtype_policy(policy)
    layer = keras.layers.Dense(32, kernel_initializer="kaiming_normal")
    layer.build((None, 64))
    assert keras.backend.standardize_dtype(layer.kernel.dtype) == layer.variable_dtype
    k = to_numpy(layer.kernel).astype("float64")
    assert_moments(k, kaiming_std(64), z=6)


@pytest.mark.parametrize("shape", [(0, 5), (5,), ()])
def test_degenerate_shapes(shape):
    values = ki.KaimingNormal(seed=0)(shape)
    assert tuple(values.shape) == shape


@pytest.mark.parametrize(
    "make,err,match",
    [
        (lambda: ki.KaimingNormal(mode="fan_ni"), ValueError, "Received: mode=fan_ni"),
        (lambda: ki.KaimingNormal(nonlinearity="nope"), ValueError, "nonlinearity"),
        (lambda: ki.KaimingNormal(negative_slope=0.1, nonlinearity="tanh"), ValueError, "negative_slope"),
        (lambda: ki.KaimingNormal(negative_slope=float("nan")), ValueError, "negative_slope"),
        (lambda: ki.KaimingNormal(truncated="yes"), TypeError, "truncated"),
        (lambda: ki.XavierNormal(gain=-1.0), ValueError, "Received: gain=-1.0"),
        (lambda: ki.XavierNormal(gain=float("inf")), ValueError, "gain"),
        (lambda: ki.XavierUniform(gain="2"), TypeError, "gain"),
        (lambda: ki.XavierUniform(input_axes=0), TypeError, "input_axes"),
        (lambda: ki.KaimingNormal(seed="x"), ValueError, "seed"),
    ],
)
def test_bad_arguments(make, err, match):
    with pytest.raises(err, match=match):
        make()


@pytest.mark.parametrize("dtype", ["int32", "bool", "uint8"])
def test_int_dtype_refused(dtype):
    with pytest.raises(ValueError, match="dtype"):
        ki.KaimingNormal(seed=0)((3, 3), dtype=dtype)


@pytest.mark.parametrize(
    "init",
    [
        ki.KaimingNormal(negative_slope=0.1, mode="fan_out", seed=3),
        ki.KaimingNormal(truncated=True, nonlinearity="selu", seed=4),
        ki.KaimingUniform(seed=5),
        ki.XavierNormal(gain=2.0, seed=6),
        ki.XavierUniform(seed=7, input_axes=[0], output_axes=[1, 2]),
    ],
)
def test_config_roundtrip(init):
    shape = (8, 2, 4) if init.input_axes else (16, 8)
    assert_config_roundtrip(init, shape)


def test_user_seed_kept_in_config():
    assert ki.KaimingNormal().get_config()["seed"] is None
    assert ki.KaimingNormal(seed=3).get_config()["seed"] == 3


def test_einsum_dense_gets_true_fans():
    layer = keras.layers.EinsumDense(
        "abc,cde->abde", output_shape=(None, 8, 32), kernel_initializer="kaiming_normal"
    )
    layer.build((None, 4, 128))
    # fan_in = 128 (contracted axis); the conv convention would say 8 * 128.
    assert_moments(layer.kernel, kaiming_std(128))


def test_multi_head_attention_true_fans():
    mha = keras.layers.MultiHeadAttention(8, 32, kernel_initializer="xavier_normal")
    x = keras.Input((4, 256))
    mha(x, x)
    std = math.sqrt(2.0 / (256 + 8 * 32))
    assert_moments(mha.query_dense.kernel, std)
    assert_moments(mha.output_dense.kernel, std)


def test_int_seed_on_multi_head_attention_gives_identical_q_k_v():
    """README (Keras behaviour): an int seed given to MultiHeadAttention is
    cloned into q, k and v, which start identical; seed=None draws one seed
    per clone (the clone's config carries it), so they differ."""
    seeded = keras.layers.MultiHeadAttention(2, 8, kernel_initializer=ki.XavierNormal(seed=3))
    unseeded = keras.layers.MultiHeadAttention(2, 8, kernel_initializer=ki.XavierNormal())
    x = keras.Input((4, 16))
    for mha in (seeded, unseeded):
        mha(x, x)
    q, k, v = (to_numpy(d.kernel) for d in (seeded.query_dense, seeded.key_dense, seeded.value_dense))
    np.testing.assert_array_equal(q, k)
    np.testing.assert_array_equal(q, v)
    assert np.any(q)
    q, k, v = (to_numpy(d.kernel) for d in (unseeded.query_dense, unseeded.key_dense, unseeded.value_dense))
    assert not np.array_equal(q, k) and not np.array_equal(k, v) and not np.array_equal(q, v)


def test_string_and_class_lookup():
    for alias, cls in [
        ("kaiming_normal", ki.KaimingNormal),
        ("KaimingUniform", ki.KaimingUniform),
        ("xavier_normal", ki.XavierNormal),
        ("xavier_uniform", ki.XavierUniform),
    ]:
        assert isinstance(keras.initializers.get(alias), cls)
        assert isinstance(keras.initializers.get(alias), keras.initializers.VarianceScaling)


def test_shared_instance_gives_identical_kernels_keras_semantics():
    """Documented Keras behaviour: one unseeded instance shared by two layers
    gives two identical kernels; a string gives each layer its own instance."""
    shared = ki.KaimingNormal()
    a, b = keras.layers.Dense(8, kernel_initializer=shared), keras.layers.Dense(8, kernel_initializer=shared)
    a.build((None, 8))
    b.build((None, 8))
    np.testing.assert_array_equal(to_numpy(a.kernel), to_numpy(b.kernel))
    c, d = keras.layers.Dense(8, kernel_initializer="kaiming_normal"), keras.layers.Dense(8, kernel_initializer="kaiming_normal")
    c.build((None, 8))
    d.build((None, 8))
    assert not np.array_equal(to_numpy(c.kernel), to_numpy(d.kernel))
