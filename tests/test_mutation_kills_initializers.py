"""Tests that kill mutants of keras_inits/initializers/ (benchmarks/mutation_score.py).

Each checks a property derived independently of the code: hand-computed
values, the definition of the construction, or the documented contract
(float64 is computed in float64, errors name their argument, defaults).
"""

import json
import math

import keras
import numpy as np
import pytest

import keras_inits as ki
from keras_inits.initializers.orthogonal import orthogonal_matrix
from tests.helpers import float_dtypes, to_numpy

needs_float64 = pytest.mark.skipif(
    "float64" not in float_dtypes(), reason="JAX without x64 has no float64"
)


def _finer_than_float32(x):
    """True if some value is not a float32 number: computed in float64."""
    x = np.asarray(x, dtype=np.float64)
    return bool(np.any(x.astype(np.float32).astype(np.float64) != x))


# ---------------------------------------------------------------- float64 ---

RANDOM_INITS = {
    "kaiming_normal": lambda: ki.KaimingNormal(seed=3),
    "delta_orthogonal": lambda: ki.DeltaOrthogonal(seed=3),
    "sparse": lambda: ki.Sparse(0.5, std=1.0, seed=3),
    "icnr": lambda: ki.ICNR(ki.KaimingNormal(seed=3), scale=2),
    "scaled": lambda: ki.Scaled(ki.KaimingNormal(seed=3), 0.5),
}


@needs_float64
@pytest.mark.parametrize("name", sorted(RANDOM_INITS))
def test_float64_is_drawn_in_float64(name):
    # README: only float16/bfloat16 are computed in float32.
    x = to_numpy(RANDOM_INITS[name]()((3, 1, 4, 8), dtype="float64"))
    assert x.dtype == np.float64
    assert _finer_than_float32(x)


@needs_float64
def test_chrono_bias_float64_is_computed_in_float64():
    x = to_numpy(ki.ChronoBias(10, seed=0)((16,), dtype="float64"))
    assert _finer_than_float32(x[4:8])


@needs_float64
def test_scaled_and_icnr_hand_the_requested_float64_to_the_base():
    base = ki.KaimingNormal(seed=5)
    ref = to_numpy(base((2, 2, 3, 4), dtype="float64"))
    scaled = to_numpy(ki.Scaled(ki.KaimingNormal(seed=5), 2.0)((2, 2, 3, 4), dtype="float64"))
    np.testing.assert_array_equal(scaled, 2.0 * ref)
    icnr = to_numpy(ki.ICNR(ki.KaimingNormal(seed=5), scale=2)((2, 2, 3, 16), dtype="float64"))
    np.testing.assert_array_equal(icnr[..., :4], ref)


@needs_float64
def test_delta_orthogonal_float64_is_orthogonal_to_float64_precision():
    k = to_numpy(ki.DeltaOrthogonal(seed=0)((3, 5, 7), dtype="float64"))
    q = k[1]
    np.testing.assert_allclose(q @ q.T, np.eye(5), atol=1e-12)


def test_float32_result_does_not_depend_on_floatx():
    # Computed in float32 whatever keras.config.floatx() is (a `dtype=None`
    # somewhere would follow floatx).
    makes = [lambda: ki.ChronoBias(10, seed=1), lambda: ki.Sparse(0.5, 1.0, seed=1),
             lambda: ki.DeltaOrthogonal(seed=1), lambda: ki.KaimingUniform(seed=1)]
    shapes = [(8,), (6, 5), (3, 4, 6), (6, 5)]
    expected = [to_numpy(m()(s, dtype="float32")) for m, s in zip(makes, shapes)]
    old = keras.config.floatx()
    try:
        keras.config.set_floatx("float16")
        for make, shape, want in zip(makes, shapes, expected):
            np.testing.assert_array_equal(to_numpy(make()(shape, dtype="float32")), want)
    finally:
        keras.config.set_floatx(old)


# ---------------------------------------------------- empty and 1-element ---

@pytest.mark.parametrize(
    "init,shape",
    [(ki.DeltaOrthogonal(), (3, 0, 4)), (ki.ZerO(), (0, 4)), (ki.ZerO(), (3, 3, 0, 2)),
     (ki.Sparse(), (3, 0)), (ki.Sparse(), (0, 3))],
)
def test_empty_shapes_give_empty_tensors_of_the_requested_dtype(init, shape):
    x = init(shape, dtype="float16")
    assert keras.backend.standardize_dtype(x.dtype) == "float16"
    assert tuple(x.shape) == shape


def test_one_element_kernels_are_not_zero():
    # A 1x1 orthogonal matrix is +-1; the 1x1 ZerO matrix is the identity [1];
    # a 1x1 Sparse kernel with sparsity 0 has its one weight drawn.
    x = to_numpy(ki.DeltaOrthogonal(gain=2.0, seed=0)((1, 1, 1)))
    assert abs(float(x.ravel()[0])) == pytest.approx(2.0)
    np.testing.assert_array_equal(to_numpy(ki.ZerO()((1, 1))), [[1.0]])
    assert to_numpy(ki.Sparse(0.0, std=1.0, seed=0)((1, 1)))[0, 0] != 0.0


# --------------------------------------------------------- orthogonal QR ---

@pytest.mark.parametrize("rows,cols", [(3, 3), (5, 3), (3, 5)])
def test_orthogonal_matrix_is_the_sign_corrected_q_of_its_gaussian(rows, cols):
    # Mezzadri 2007: Q = A R^-1 with R's diagonal positive, i.e. Q^T A is
    # upper triangular with a positive diagonal; A is the (max, min) Gaussian
    # drawn with the same seed. Transposed exactly when rows < cols.
    q = to_numpy(orthogonal_matrix(rows, cols, 7))
    assert q.shape == (rows, cols) and q.dtype == np.float32
    big, small = max(rows, cols), min(rows, cols)
    a = to_numpy(keras.random.normal((big, small), dtype="float32", seed=7)).astype(np.float64)
    tall = q.T if rows < cols else q
    r = tall.T.astype(np.float64) @ a
    np.testing.assert_allclose(np.tril(r, -1), 0.0, atol=1e-5)
    assert np.all(np.diag(r) > 0)


# ------------------------------------------------------------------ ZerO ---

def _sylvester(p):
    h = np.ones((1, 1))
    while h.shape[0] < p:
        h = np.block([[h, h], [h, -h]])
    return h


def test_zero_widening_is_the_sylvester_hadamard_block():
    # n_in = 17, n_out = 32: c = 5, p = 32, W = H_32[:32, :17] / 2^(5/2).
    k = to_numpy(ki.ZerO()((17, 32)))
    np.testing.assert_allclose(k, _sylvester(32)[:32, :17].T / 2**2.5, rtol=1e-6)


def test_zero_square_conv_is_the_identity_at_the_centre():
    k = to_numpy(ki.ZerO()((3, 3, 4, 4)))
    np.testing.assert_array_equal(k[1, 1], np.eye(4))
    assert not k[0].any() and not k[2].any()


@pytest.mark.parametrize(
    "init,name",
    [(ki.ZerO(), "ZerO"), (ki.Dirac(), "Dirac"), (ki.DeltaOrthogonal(), "DeltaOrthogonal"),
     (ki.ICNR(), "ICNR")],
)
def test_conv_rank_errors_start_with_the_initializer_name(init, name):
    with pytest.raises(ValueError, match=f"^{name} is for convolution kernels of rank 3, 4 or 5"):
        init((1, 1, 1, 1, 1, 2))


# ---------------------------------------------------------------- Sparse ---

def test_sparse_defaults_from_martens():
    config = ki.Sparse().get_config()
    assert config["sparsity"] == 0.1 and config["std"] == 0.01


@pytest.mark.parametrize(
    "make,arg",
    [(lambda: ki.Sparse(sparsity="a"), "sparsity"), (lambda: ki.Sparse(std="a"), "std"),
     (lambda: ki.PriorBias("a"), "prior"), (lambda: ki.PriorBias(["a", 0.5]), "prior"),
     (lambda: ki.ChronoBias("a"), "max_timesteps"), (lambda: ki.Scaled("ones", "a"), "factor"),
     (lambda: ki.Scaled("ones", 1.0, input_axes=3), "input_axes"),
     (lambda: ki.Scaled("ones", 1.0, output_axes=3), "output_axes"),
     (lambda: ki.KaimingNormal(negative_slope="a"), "negative_slope"),
     (lambda: ki.KaimingNormal(nonlinearity=3), "nonlinearity")],
)
def test_type_errors_name_the_argument(make, arg):
    with pytest.raises(TypeError, match=f"`{arg}`"):
        make()


@pytest.mark.parametrize(
    "make,arg",
    [(lambda: ki.Scaled("no_such_initializer"), "base"),
     (lambda: ki.ICNR("no_such_initializer"), "base"),
     (lambda: ki.ICNR(scale=True), "scale"), (lambda: ki.ICNR(scale=2.0), "scale"),
     (lambda: ki.ICNR(scale=0), "scale")],
)
def test_value_errors_name_the_argument(make, arg):
    with pytest.raises(ValueError, match=f"`{arg}`"):
        make()


# ------------------------------------------------------------- PriorBias ---

def test_prior_bias_bool_in_a_sequence_is_a_type_error():
    with pytest.raises(TypeError, match="`prior`"):
        ki.PriorBias([0.5, True])


def test_prior_bias_one_class_with_probability_one():
    # p in (0, 1] for a softmax prior: [1.0] is valid and gives log 1 = 0.
    np.testing.assert_array_equal(to_numpy(ki.PriorBias([1.0])((1,))), [0.0])


def test_prior_bias_probability_above_one_is_refused_as_out_of_range():
    with pytest.raises(ValueError, match=r"\(0, 1\]"):
        ki.PriorBias([1.5])


def test_prior_bias_numpy_scalars_are_stored_as_python_numbers():
    for init in (ki.PriorBias(np.float32(0.25)), ki.PriorBias([np.float64(0.5)] * 2)):
        config = init.get_config()
        json.dumps(config)
        values = config["prior"] if isinstance(config["prior"], list) else [config["prior"]]
        assert all(type(v) is float for v in values)


# ------------------------------------------------------------ ChronoBias ---

def test_chrono_bias_spans_log_1_to_log_t_minus_1():
    # T = 3: b_f = log u, u ~ U[1, 2]; 400 units cover [0, log 2].
    b = to_numpy(ki.ChronoBias(3, seed=0)((1600,)))
    forget = b[400:800]
    assert forget.min() >= 0.0 and forget.max() <= math.log(2.0) + 1e-6
    assert forget.min() < 0.05 and forget.max() > math.log(2.0) - 0.05
    np.testing.assert_array_equal(b[:400], -forget)
    assert not b[800:].any()


# ------------------------------------------------------- Kaiming / Xavier ---

def test_kaiming_uniform_defaults_and_bound():
    init = ki.KaimingUniform(seed=0)
    assert init.get_config()["nonlinearity"] == "relu"
    x = to_numpy(init((50, 400)))
    bound = math.sqrt(2.0) * math.sqrt(3.0 / 50)  # gain * sqrt(3 / fan_in)
    assert np.abs(x).max() <= bound * (1 + 1e-6)
    assert np.abs(x).max() > 0.99 * bound  # uniform: 20000 draws reach the bound


def test_kaiming_uniform_uses_the_axes_it_is_given():
    # (4, 3, 5) with input axis 0 and output axes (1, 2): fan_in = 4,
    # where the conv convention would give 3 * 4 = 12.
    init = ki.KaimingUniform(input_axes=[0], output_axes=[1, 2], seed=0)
    assert init.stddev((4, 3, 5)) == pytest.approx(math.sqrt(2.0 / 4))
    assert init.get_config()["input_axes"] == [0]
    assert init.get_config()["output_axes"] == [1, 2]


# ---------------------------------------------------------- ICNR / Scaled ---

def test_icnr_scale_one_is_the_base_itself():
    k = to_numpy(ki.ICNR(ki.KaimingNormal(seed=2), scale=1)((3, 3, 2, 5)))
    np.testing.assert_array_equal(k, to_numpy(ki.KaimingNormal(seed=2)((3, 3, 2, 5))))


def test_icnr_exposes_the_base_seed():
    assert ki.ICNR(ki.KaimingNormal(seed=5)).seed == 5
    assert ki.ICNR("zeros").seed is None


def test_icnr_channel_error_names_the_rank_and_block_count():
    with pytest.raises(ValueError, match=r"on a 2D convolution needs output channels that "
                                         r"are a multiple of scale\^2 = 4"):
        ki.ICNR(scale=2)((3, 3, 2, 6))


def test_scaled_default_factor_is_one():
    np.testing.assert_array_equal(to_numpy(ki.Scaled("ones")((2, 3))), np.ones((2, 3)))


def test_scaled_passes_both_axes_to_a_base_without_axes_only():
    # Both axes given, base without axes: the base gets them, keeps its drawn seed.
    base = ki.KaimingNormal()
    s = ki.Scaled(base, 1.0, input_axes=[0], output_axes=[1, 2])
    assert s.base.get_config()["input_axes"] == [0] and s.seed == base.seed
    assert s.base.get_config()["output_axes"] == [1, 2]
    # One axis only: nothing is passed on.
    one = ki.Scaled(ki.KaimingNormal(seed=1), 1.0, output_axes=[1])
    assert one.base.get_config()["output_axes"] is None
    # A base with axes of its own keeps them.
    own = ki.Scaled(ki.KaimingNormal(seed=1, input_axes=[0], output_axes=[1]), 1.0,
                    input_axes=[0], output_axes=[1, 2])
    assert own.base.get_config()["output_axes"] == [1]
    # A base with half its axes gets both.
    half = ki.Scaled(ki.KaimingNormal(seed=1, input_axes=[0]), 1.0,
                     input_axes=[0], output_axes=[1, 2])
    assert half.base.get_config()["output_axes"] == [1, 2]
    assert half.base.stddev((4, 3, 5)) == pytest.approx(math.sqrt(2.0 / 4))


# ------------------------------------------- float64 of the constant ones ---

@needs_float64
def test_zero_float64_entries_are_rounded_once_to_float64():
    # n_out = 5 > n_in = 2: c = 3, entries +-2^(-3/2) (docstring: "rounded once").
    k = to_numpy(ki.ZerO()((2, 5), dtype="float64"))
    np.testing.assert_allclose(np.abs(k), np.full((2, 5), 2.0**-1.5), rtol=1e-15)
    conv = to_numpy(ki.ZerO()((3, 2, 5), dtype="float64"))
    np.testing.assert_array_equal(conv[1], k)


@needs_float64
def test_prior_bias_float64_is_the_float64_logit():
    np.testing.assert_array_equal(to_numpy(ki.PriorBias(0.01)((3,), dtype="float64")),
                                  [math.log(0.01 / 0.99)] * 3)
    np.testing.assert_allclose(to_numpy(ki.PriorBias([0.7, 0.2, 0.1])((3,), dtype="float64")),
                               [math.log(0.7), math.log(0.2), math.log(0.1)], rtol=1e-15)


def test_prior_bias_float16_is_the_float32_logit_rounded_once():
    # README: float16 is computed in float32, then cast. For this p the float64
    # logit rounds to a different float16 directly than through float32.
    p = 0.12847045509322647
    logit = math.log(p / (1 - p))
    assert np.float16(logit) != np.float16(np.float32(logit))  # the case is a real one
    x = to_numpy(keras.ops.cast(ki.PriorBias(p)((1,), dtype="float16"), "float32"))
    assert x[0] == np.float32(np.float16(np.float32(logit)))


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_narrowing_zero_keeps_the_requested_dtype(dtype):
    x = ki.ZerO()((4, 3), dtype=dtype)
    assert keras.backend.standardize_dtype(x.dtype) == dtype
    np.testing.assert_array_equal(to_numpy(keras.ops.cast(x, "float32")), np.eye(4, 3))


def test_zero_matrix_default_is_float32_sylvester():
    from keras_inits.initializers.structured import zero_matrix

    m = zero_matrix(2, 5)
    assert m.dtype == np.float32 and m.shape == (2, 5)
    np.testing.assert_allclose(m, _sylvester(8)[:5, :2].T / 2**1.5, rtol=1e-6)


def test_kaiming_stddev_with_one_axis_given_uses_the_conv_convention():
    # Both axes are needed to use them; with one, (4, 3, 5) is a conv kernel:
    # fan_in = 4 * 3.
    assert ki.KaimingNormal(input_axes=[0]).stddev((4, 3, 5)) == pytest.approx(
        math.sqrt(2.0 / 12))


@pytest.mark.parametrize("shape", [(1, 1), (0, 3)])
def test_kaiming_stddev_fan_below_one_counts_as_one(shape):
    # std = gain / sqrt(max(1, fan)): relu gain sqrt(2).
    assert ki.KaimingNormal().stddev(shape) == pytest.approx(math.sqrt(2.0))


# ------------------------------------------------- session 28: survivors ---

def test_check_number_accepts_its_upper_bound():
    # "at most upper": the bound itself is valid (MetaInit's momentum=1.0).
    from keras_inits.initializers._base import check_number

    assert check_number("momentum", 1.0, upper=1.0) == 1.0
    with pytest.raises(ValueError, match=r"`momentum` must be at most 1.0"):
        check_number("momentum", 1.0 + 2**-52, upper=1.0)


def test_scaled_placeholders_are_documented_and_not_a_keras_distribution():
    s = ki.Scaled(ki.KaimingNormal(seed=1), 0.5)
    assert (s.scale, s.mode, s.distribution) == (1.0, "fan_in", "scaled")
    with pytest.raises(ValueError, match="distribution"):
        keras.initializers.VarianceScaling(distribution=s.distribution)


def test_sparse_zeros_are_spread_uniformly_over_rows():
    # Per column the zeros are a uniform random subset of the fan_in rows:
    # the mean row index of a column's k zeros is (n - 1)/2 with the standard
    # error of sampling k of n without replacement,
    # sqrt((n^2 - 1)/12 * (n - k)/(n - 1) / k). Few output columns make ties
    # in any rank computed along the wrong axis, which pile zeros on low rows.
    n, cols, k = 256, 2, 64
    x = to_numpy(ki.Sparse(k / n, std=1.0, seed=5)((n, cols)))
    se = math.sqrt((n * n - 1) / 12 * (n - k) / (n - 1) / k)
    for j in range(cols):
        rows = np.flatnonzero(x[:, j] == 0)
        assert rows.size == k
        assert abs(rows.mean() - (n - 1) / 2) < 5 * se, (j, rows.mean(), se)


@pytest.mark.parametrize("n_in, n_out", [(4, 2), (2, 4)])
@pytest.mark.parametrize("dtype", ["float16", "float64"])
def test_zero_matrix_is_computed_in_the_dtype_asked(n_in, n_out, dtype):
    from keras_inits.initializers.structured import zero_matrix

    assert zero_matrix(n_in, n_out, dtype).dtype == np.dtype(dtype)


@pytest.mark.parametrize("bad", [(True, 1), "ab", 1])
@pytest.mark.parametrize("arg", ["input_axes", "output_axes"])
def test_axes_must_be_integers_and_the_error_names_the_argument(arg, bad):
    with pytest.raises(TypeError, match=rf"^Argument `{arg}` must be a list of integers or "
                                        rf"None\. Received: {arg}="):
        ki.KaimingNormal(**{arg: bad})


# Keras' truncated normal is cut at 2 standard deviations of the normal it
# is drawn from, whose std is std / 0.8796 (so the truncated sample has std).
_CUT = 2 / 0.87962566103423978


def _beyond_cut(init, n=40000):
    x = to_numpy(init((n, 1))).astype(np.float64).ravel()
    return float(np.mean(np.abs(x) > _CUT * init.stddev((n, 1))))


def test_kaiming_normal_is_untruncated_by_default_and_truncated_on_request():
    # An untruncated normal (torch.nn.init.kaiming_normal_) has P(|z| > 2.274)
    # = erfc(2.274 / sqrt 2) = 0.023 beyond the cut; a sample of n = 40000 has
    # standard error sqrt(p (1 - p) / n) = 0.00075. The truncated one has (almost) none.
    p = math.erfc(_CUT / math.sqrt(2))
    se = math.sqrt(p * (1 - p) / 40000)
    assert abs(_beyond_cut(ki.KaimingNormal(seed=0)) - p) < 5 * se
    assert abs(_beyond_cut(ki.KaimingNormal(truncated=False, seed=0)) - p) < 5 * se
    # Keras' torch backend draws 4 candidates per value and keeps the last
    # when all 4 are beyond the cut (p = 0.0455^4 = 4.3e-6): allow 1e-4.
    assert _beyond_cut(ki.KaimingNormal(truncated=True, seed=0)) < 1e-4


def test_kaiming_normal_default_config_uses_torch_names():
    config = ki.KaimingNormal().get_config()
    assert (config["nonlinearity"], config["mode"], config["negative_slope"]) == (
        "relu", "fan_in", 0.0)


@needs_float64
def test_truncated_kaiming_is_drawn_in_float64_for_float64():
    x = ki.KaimingNormal(truncated=True, seed=4)((64, 64), dtype="float64")
    assert to_numpy(x).dtype == np.float64
    assert _finer_than_float32(to_numpy(x))
