"""DeltaOrthogonal, Dirac, ZerO, Sparse, ICNR, Scaled, PriorBias, ChronoBias."""

import math

import keras
import numpy as np
import pytest
from scipy.linalg import hadamard

import keras_inits as ki
from tests.helpers import (
    assert_config_roundtrip,
    assert_moments,
    float_dtypes,
    to_numpy,
)

DTYPES = float_dtypes()

# (instance, a shape it accepts) for the sweeps below.
CASES = {
    "DeltaOrthogonal": (lambda: ki.DeltaOrthogonal(gain=2.0, seed=1), (3, 3, 4, 8)),
    "Dirac": (lambda: ki.Dirac(groups=2), (3, 3, 4, 8)),
    "ZerO": (lambda: ki.ZerO(), (6, 10)),
    "Sparse": (lambda: ki.Sparse(sparsity=0.3, std=0.5, seed=2), (20, 6)),
    "ICNR": (lambda: ki.ICNR(scale=2, seed=3), (3, 3, 4, 8)),
    "Scaled": (lambda: ki.Scaled(ki.KaimingNormal(seed=4), 0.5), (8, 4)),
    "PriorBias": (lambda: ki.PriorBias([0.5, 0.25, 0.25]), (3,)),
    "ChronoBias": (lambda: ki.ChronoBias(max_timesteps=30, seed=5), (16,)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_config_roundtrip(name):
    make, shape = CASES[name]
    assert_config_roundtrip(make(), shape)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(CASES))
def test_dtypes(name, dtype):
    make, shape = CASES[name]
    values = make()(shape, dtype=dtype)
    assert keras.backend.standardize_dtype(values.dtype) == dtype
    assert tuple(values.shape) == shape


@pytest.mark.parametrize("name", sorted(CASES))
def test_int_dtype_refused(name):
    make, shape = CASES[name]
    with pytest.raises(ValueError, match="dtype"):
        make()(shape, dtype="int32")


# --- DeltaOrthogonal -------------------------------------------------------


@pytest.mark.parametrize("shape", [(3, 4, 8), (3, 3, 8, 8), (4, 4, 5, 16), (3, 3, 3, 2, 6)])
def test_delta_orthogonal_structure(shape):
    w = to_numpy(ki.DeltaOrthogonal(gain=1.5, seed=0)(shape)).astype("float64")
    centre = tuple(k // 2 for k in shape[:-2])
    q = w[centre]
    np.testing.assert_allclose(q @ q.T, 1.5**2 * np.eye(shape[-2]), atol=1e-5)
    rest = w.copy()
    rest[centre] = 0.0
    assert np.count_nonzero(rest) == 0


def test_delta_orthogonal_errors():
    with pytest.raises(ValueError, match="in_channels <= out_channels"):
        ki.DeltaOrthogonal()((3, 3, 8, 4))
    with pytest.raises(ValueError, match="rank 3, 4 or 5"):
        ki.DeltaOrthogonal()((8, 8))
    with pytest.raises(ValueError, match="gain"):
        ki.DeltaOrthogonal(gain=0.0)


def test_delta_orthogonal_conv_is_isometry():
    layer = keras.layers.Conv2D(16, 3, padding="same", use_bias=False, kernel_initializer="delta_orthogonal")
    x = np.random.default_rng(0).standard_normal((2, 6, 6, 8)).astype("float32")
    y = to_numpy(layer(x))
    np.testing.assert_allclose(np.linalg.norm(y, axis=-1), np.linalg.norm(x, axis=-1), rtol=1e-4)


# --- Dirac -----------------------------------------------------------------


def _torch_dirac_reference(out_c, in_per_group, k, groups):
    """torch.nn.init.dirac_'s loop, written out, in torch layout (out, in/g, k, k)."""
    w = np.zeros((out_c, in_per_group, k, k))
    out_per_group = out_c // groups
    for g in range(groups):
        for d in range(min(out_per_group, in_per_group)):
            w[g * out_per_group + d, d, k // 2, k // 2] = 1
    return w.transpose(2, 3, 1, 0)  # -> Keras (k, k, in/g, out)


@pytest.mark.parametrize("out_c,in_pg,k,groups", [(8, 8, 3, 1), (6, 4, 3, 1), (8, 2, 4, 2), (12, 3, 5, 3)])
def test_dirac_matches_torch_loop(out_c, in_pg, k, groups):
    w = to_numpy(ki.Dirac(groups=groups)((k, k, in_pg, out_c)))
    np.testing.assert_array_equal(w, _torch_dirac_reference(out_c, in_pg, k, groups))


def test_dirac_matches_real_torch():
    torch = pytest.importorskip("torch")
    w = torch.empty(8, 2, 3, 3)
    torch.nn.init.dirac_(w, groups=2)
    np.testing.assert_array_equal(to_numpy(ki.Dirac(groups=2)((3, 3, 2, 8))), w.numpy().transpose(2, 3, 1, 0))


def test_dirac_conv_is_identity():
    layer = keras.layers.Conv2D(5, 3, padding="same", use_bias=False, kernel_initializer="dirac")
    x = np.random.default_rng(0).standard_normal((2, 7, 7, 5)).astype("float32")
    np.testing.assert_array_equal(to_numpy(layer(x)), x)


def test_dirac_errors():
    with pytest.raises(ValueError, match="groups"):
        ki.Dirac(groups=0)
    with pytest.raises(ValueError, match="divisible"):
        ki.Dirac(groups=3)((3, 3, 2, 8))


# --- ZerO ------------------------------------------------------------------


def _zero_reference(n_in, n_out):
    if n_out <= n_in:
        return np.eye(n_in, n_out)
    c = math.ceil(math.log2(n_out))
    paper = hadamard(2**c)[:n_out, :n_in] / 2 ** (c / 2)  # (out, in)
    return paper.T


@pytest.mark.parametrize("n_in,n_out", [(8, 8), (10, 6), (4, 8), (3, 10), (16, 100)])
def test_zero_dense_matches_reference(n_in, n_out):
    np.testing.assert_allclose(to_numpy(ki.ZerO()((n_in, n_out))), _zero_reference(n_in, n_out), atol=1e-7)


def test_zero_expanding_is_an_isometry_when_out_is_a_power_of_two():
    w = to_numpy(ki.ZerO()((4, 8))).astype("float64")
    np.testing.assert_allclose(w @ w.T, np.eye(4), atol=1e-6)  # p = m = 8


def test_zero_conv_centre_tap():
    w = to_numpy(ki.ZerO()((3, 3, 4, 8)))
    np.testing.assert_allclose(w[1, 1], _zero_reference(4, 8), atol=1e-7)
    w[1, 1] = 0
    assert np.count_nonzero(w) == 0


def test_zero_errors():
    with pytest.raises(ValueError, match="rank >= 2"):
        ki.ZerO()((5,))


# --- Sparse ----------------------------------------------------------------


@pytest.mark.parametrize("shape,sparsity", [((50, 40), 0.1), ((3, 3, 8, 16), 0.5), ((7, 5), 0.0)])
def test_sparse_exact_zero_count_and_moments(shape, sparsity):
    w = to_numpy(ki.Sparse(sparsity=sparsity, std=0.2, seed=0)(shape)).reshape(-1, shape[-1])
    fan_in = w.shape[0]
    zeros_per_unit = (w == 0).sum(axis=0)
    np.testing.assert_array_equal(zeros_per_unit, math.ceil(sparsity * fan_in))


def test_sparse_nonzero_moments():
    w = to_numpy(ki.Sparse(sparsity=0.25, std=0.3, seed=1)((400, 100)))
    assert_moments(w[w != 0], 0.3)


def test_sparse_masks_differ_between_units():
    w = to_numpy(ki.Sparse(sparsity=0.5, seed=2)((20, 10)))
    assert len({tuple(col == 0) for col in w.T}) > 1


def test_sparse_errors():
    with pytest.raises(ValueError, match="sparsity"):
        ki.Sparse(sparsity=1.0)
    with pytest.raises(ValueError, match="std"):
        ki.Sparse(std=-1.0)
    with pytest.raises(ValueError, match="rank"):
        ki.Sparse()((5,))


# --- ICNR ------------------------------------------------------------------


def test_icnr_subpixels_identical_after_depth_to_space():
    scale, c = 2, 3
    layer = keras.layers.Conv2D(c * scale**2, 3, padding="same", kernel_initializer=ki.ICNR("kaiming_normal", scale=scale, seed=0))
    x = np.random.default_rng(0).standard_normal((2, 5, 5, 4)).astype("float32")
    y = to_numpy(keras.ops.depth_to_space(layer(x), scale))  # (2, 10, 10, c)
    blocks = y.reshape(2, 5, scale, 5, scale, c)
    for i in range(scale):
        for j in range(scale):
            np.testing.assert_allclose(blocks[:, :, i, :, j], blocks[:, :, 0, :, 0], atol=1e-6)


def test_icnr_tf_depth_to_space_channel_order():
    tf = pytest.importorskip("tensorflow")
    w = to_numpy(ki.ICNR(scale=3, seed=1)((1, 1, 2, 2 * 9)))
    x = np.random.default_rng(1).standard_normal((1, 2, 2, 2)).astype("float32")
    y = tf.nn.depth_to_space(np.einsum("bhwi,io->bhwo", x, w[0, 0]), 3).numpy()
    blocks = y.reshape(1, 2, 3, 2, 3, 2)
    assert np.ptp(blocks, axis=(2, 4)).max() < 1e-6


def test_icnr_sub_kernel_moments_from_base():
    w = to_numpy(ki.ICNR("kaiming_normal", scale=2, seed=2)((3, 3, 64, 4 * 32)))
    sub = w[..., :32]
    assert_moments(sub, math.sqrt(2.0 / (9 * 64)))


def test_icnr_errors():
    with pytest.raises(ValueError, match="scale"):
        ki.ICNR(scale=0)
    with pytest.raises(ValueError, match="multiple of scale"):
        ki.ICNR(scale=2)((3, 3, 4, 6))
    with pytest.raises(ValueError, match="base"):
        ki.ICNR(base="no_such_initializer")


# --- Scaled ----------------------------------------------------------------


def test_scaled_is_exactly_factor_times_base():
    base = to_numpy(ki.KaimingNormal(seed=9)((32, 16)))
    scaled = to_numpy(ki.Scaled(ki.KaimingNormal(seed=9), -2.5)((32, 16)))
    np.testing.assert_allclose(scaled, -2.5 * base, rtol=1e-6)


def test_scaled_accepts_string_dict_instance():
    for base in ["he_normal", {"class_name": "RandomNormal", "config": {"stddev": 0.3, "seed": 1}}, keras.initializers.Ones()]:
        assert tuple(ki.Scaled(base, 2.0)((4, 4)).shape) == (4, 4)
    np.testing.assert_array_equal(to_numpy(ki.Scaled("ones", 3.0)((2, 2))), 3.0)


def test_scaled_gets_true_einsum_fans():
    layer = keras.layers.EinsumDense(
        "abc,cde->abde", output_shape=(None, 8, 32), kernel_initializer=ki.Scaled("kaiming_normal", 0.5)
    )
    layer.build((None, 4, 128))
    assert_moments(layer.kernel, 0.5 * math.sqrt(2.0 / 128))


def test_scaled_in_multi_head_attention():
    mha = keras.layers.MultiHeadAttention(8, 32, kernel_initializer=ki.Scaled("xavier_normal", 2.0))
    x = keras.Input((4, 256))
    mha(x, x)
    assert_moments(mha.query_dense.kernel, 2.0 * math.sqrt(2.0 / (256 + 256)))


def test_scaled_nested_serialization():
    inner = ki.Scaled(ki.XavierUniform(gain=2.0, seed=1), 0.5)
    outer = ki.Scaled(inner, 3.0)
    clone = assert_config_roundtrip(outer, (8, 8))
    assert isinstance(clone.base, ki.Scaled) and isinstance(clone.base.base, ki.XavierUniform)


def test_scaled_errors():
    with pytest.raises(TypeError, match="factor"):
        ki.Scaled("ones", "2")
    with pytest.raises(ValueError, match="factor"):
        ki.Scaled("ones", float("nan"))


# --- PriorBias / ChronoBias -------------------------------------------------


def test_prior_bias_sigmoid():
    b = to_numpy(ki.PriorBias(0.01)((5,)))
    np.testing.assert_allclose(1 / (1 + np.exp(-b)), 0.01, rtol=1e-5)


def test_prior_bias_softmax():
    p = [0.7, 0.2, 0.1]
    b = to_numpy(ki.PriorBias(p)((3,))).astype("float64")
    np.testing.assert_allclose(np.exp(b) / np.exp(b).sum(), p, rtol=1e-6)


@pytest.mark.parametrize(
    "prior,match", [(0.0, "prior"), (1.0, "prior"), ([0.5, 0.6], "sum to 1"), ([1.0, 0.0], "prior"), ("x", "prior")]
)
def test_prior_bias_errors(prior, match):
    with pytest.raises((ValueError, TypeError), match=match):
        ki.PriorBias(prior)


def test_prior_bias_length_mismatch():
    with pytest.raises(ValueError, match="shape"):
        ki.PriorBias([0.5, 0.5])((3,))


def test_chrono_bias_layout_and_range():
    units, t = 500, 50
    b = to_numpy(ki.ChronoBias(max_timesteps=t, seed=0)((4 * units,))).astype("float64")
    b_i, b_f, b_c, b_o = np.split(b, 4)
    np.testing.assert_array_equal(b_i, -b_f)
    assert np.all(b_c == 0) and np.all(b_o == 0)
    assert b_f.min() >= 0.0 and b_f.max() <= math.log(t - 1) + 1e-6
    # exp(b_f) ~ U[1, T-1]: mean (T/2), variance (T-2)^2/12.
    u = np.exp(b_f)
    se = (t - 2) / math.sqrt(12 * units)
    assert abs(u.mean() - t / 2) <= 5 * se


def test_chrono_bias_in_lstm():
    layer = keras.layers.LSTM(6, bias_initializer=ki.ChronoBias(20, seed=1), unit_forget_bias=False)
    layer.build((None, 5, 3))
    b = to_numpy(layer.cell.bias)
    assert np.all(b[6:12] > 0) and np.allclose(b[:6], -b[6:12])


def test_chrono_bias_errors():
    with pytest.raises(ValueError, match="max_timesteps"):
        ki.ChronoBias(2)
    with pytest.raises(ValueError, match="4 \\* units"):
        ki.ChronoBias(10)((6,))
    with pytest.raises(ValueError, match="4 \\* units"):
        ki.ChronoBias(10)((2, 12))


@pytest.mark.parametrize(
    "layer",
    [
        lambda: keras.layers.Conv2D(8, 3, kernel_initializer="delta_orthogonal"),
        lambda: keras.layers.Conv2D(4, 3, kernel_initializer="dirac"),
        lambda: keras.layers.Dense(8, kernel_initializer="zer_o"),
        lambda: keras.layers.Dense(8, kernel_initializer="sparse"),
        lambda: keras.layers.Conv2D(16, 3, kernel_initializer="icnr"),
        lambda: keras.layers.Dense(1, bias_initializer="prior_bias"),
    ],
)
def test_string_aliases_in_layers(layer):
    built = layer()
    built.build((None, 6, 6, 4) if isinstance(built, keras.layers.Conv2D) else (None, 4))
    assert built.weights
