"""Tests that kill mutants of keras_inits/lsuv.py (benchmarks/mutation_score.py).

Each checks a value derived by hand or the documented report contents, not
with the module's own formula. Models are tiny.
"""

import types

import keras
import numpy as np
import pytest

import keras_inits as ki
from keras_inits.lsuv import (
    _bias_means,
    _centre_through_norm,
    _einsum_units,
    _units_last,
)
from tests.helpers import float_dtypes, to_numpy

RNG = np.random.default_rng(0)
X = RNG.standard_normal((64, 6)).astype("float32") * 2.0 + 1.0


def test_units_last_moves_the_channels_first_axis_last():
    out = np.arange(2 * 3 * 4 * 5, dtype=np.float32).reshape(2, 3, 4, 5)
    first = types.SimpleNamespace(data_format="channels_first")
    moved = _units_last(first, out, "x")
    assert moved.shape == (2, 4, 5, 3) and moved.dtype == np.float64
    np.testing.assert_array_equal(moved[1, 2, 3], out[1, :, 2, 3])
    # Rank 2 (Dense-like output) and channels_last are left as they are.
    np.testing.assert_array_equal(_units_last(first, out[:, :, 0, 0], "x"), out[:, :, 0, 0])
    last = types.SimpleNamespace(data_format="channels_last")
    np.testing.assert_array_equal(_units_last(last, out, "x"), out)


def test_bias_means_average_over_the_broadcast_axes():
    out = np.arange(24, dtype=np.float64).reshape(2, 3, 4)
    # A (3, 4) bias: the mean over the batch axis, out[0] + 12 over 2.
    np.testing.assert_array_equal(_bias_means(out, (3, 4)), out[0] + 6.0)
    # A (1, 4) bias is broadcast over axis 1 too: mean over 2 x 3 rows.
    got = _bias_means(out, (1, 4))
    assert got.shape == (1, 4)
    np.testing.assert_array_equal(got, [[10.0, 11.0, 12.0, 13.0]])
    # Also when the broadcast axis has size 2.
    two = np.arange(40, dtype=np.float64).reshape(5, 2, 4)
    np.testing.assert_array_equal(_bias_means(two, (1, 4)), [[18.0, 19.0, 20.0, 21.0]])
    # A (4,) bias: every leading axis.
    np.testing.assert_array_equal(_bias_means(out, (4,)), [10.0, 11.0, 12.0, 13.0])


# ------------------------------------------------ data_dependent_init BN ---

def _bn(axis, shape, trainable=True):
    norm = keras.layers.BatchNormalization(axis=axis, trainable=trainable)
    norm.build(shape)
    return norm


def test_centre_through_a_channels_first_norm():
    layer = types.SimpleNamespace(data_format="channels_first",
                                  output=types.SimpleNamespace(shape=(None, 3, 5, 5)))
    norm = _bn(1, (None, 3, 5, 5))
    mean = np.array([0.5, -1.0, 2.0])
    note = _centre_through_norm(layer, mean, {id(layer): [norm]})
    assert note == f"no bias: centred through {norm.name}'s moving mean (moving variance 1)"
    np.testing.assert_allclose(to_numpy(norm.moving_mean), mean)
    np.testing.assert_array_equal(to_numpy(norm.moving_variance), np.ones(3))


@pytest.mark.parametrize("axis,trainable", [(1, True), (-1, False)])
def test_not_centred_through_a_norm_of_another_axis_or_a_frozen_one(axis, trainable):
    layer = types.SimpleNamespace(output=types.SimpleNamespace(shape=(None, 3, 4)))
    norm = _bn(axis, (None, 3, 4), trainable)
    note = _centre_through_norm(layer, np.ones(4), {id(layer): [norm]})
    assert note == f"no bias; {norm.name} normalizes another axis or is frozen: mean not centred"
    assert not to_numpy(norm.moving_mean).any()


def test_bias_free_dense_is_centred_through_its_batch_norm():
    inp = keras.Input((6,))
    dense = keras.layers.Dense(4, use_bias=False, name="d")
    norm = keras.layers.BatchNormalization(name="bn")
    model = keras.Model(inp, keras.layers.Dense(2, name="out")(norm(dense(inp))))
    report = ki.data_dependent_init(model, X, verbose=0)
    assert dict((r.layer, r.note) for r in report.rows)["d"] == (
        "no bias: centred through bn's moving mean (moving variance 1)")
    z = X.astype(np.float64) @ to_numpy(dense.kernel).astype(np.float64)
    np.testing.assert_allclose(to_numpy(norm.moving_mean), z.mean(0), atol=1e-4)


def test_bias_free_layers_not_feeding_one_norm_say_where_they_go():
    inp = keras.Input((6,))
    shared = keras.layers.Dense(4, use_bias=False, name="shared")(inp)
    a = keras.layers.Dense(4, name="a")(shared)
    b = keras.layers.ReLU(name="r")(shared)
    last = keras.layers.Dense(3, use_bias=False, name="last")(keras.layers.Add()([a, b]))
    model = keras.Model(inp, last)
    notes = {r.layer: r.note for r in ki.data_dependent_init(model, X, verbose=0).rows}
    assert notes["shared"] == ("no bias and its output goes to Dense, ReLU, not to one "
                               "BatchNormalization: mean not centred")
    assert notes["last"] == ("no bias and its output goes to the model's output, not to one "
                             "BatchNormalization: mean not centred")


# ------------------------------------------------ data_dependent_init rows ---

def test_data_dependent_init_report_rows():
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(5, activation="relu", name="a"),
                              keras.layers.Dense(3, name="b")])
    kernel = to_numpy(model.get_layer("a").kernel).astype(np.float64)
    z = X.astype(np.float64) @ kernel  # bias 0: the pre-activation before
    report = ki.data_dependent_init(model, X, verbose=0)
    assert report.step == "data_dependent_init"
    rows = {r.layer: r for r in report.rows}
    assert rows["a"].action == "unit mean 0, var 1" and rows["a"].stat == "output var"
    assert rows["a"].note == "pre-activation" and rows["b"].note == ""
    assert rows["a"].before == pytest.approx(float(np.var(z)), rel=1e-4)
    assert rows["a"].after == pytest.approx(1.0, abs=1e-3)  # every unit var 1, mean 0
    assert rows["b"].after == pytest.approx(1.0, abs=1e-3)


@pytest.mark.parametrize(
    "equation,expected",
    [("ab,bc->ac", ([1], [-1])),
     ("abc,cde->abde", ([1, 2], [-2, -1])),  # MultiHeadAttention's query projection
     ("...b,bc->...c", ([1], [-1])),
     ("ab,bX->Xa", ([1], [-2])),  # an output letter X in front
     ("X...b,bc->X...c", None)],  # an ellipsis not in front
)
def test_einsum_units(equation, expected):
    # Kernel letters that reach the output, and where each sits in the output
    # counted from the end.
    assert _einsum_units(types.SimpleNamespace(equation=equation)) == expected


# ------------------------------------------- data_dependent_init, more ---

def _unit_moments(z, axes):
    return z.mean(axis=axes), z.var(axis=axes)


@pytest.mark.skipif("float64" not in float_dtypes(), reason="JAX without x64 has no float64")
@pytest.mark.skipif(keras.backend.backend() == "torch",
                    reason="keras.ops.matmul on torch returns float32 for two float64 "
                    "tensors (measured, Keras 3.15): a float64 Dense is not float64 there")
def test_data_dependent_init_is_exact_in_float64():
    # Krähenbühl et al.: W[:, u] /= s_u, b_u = (b_u - m_u) / s_u on the
    # pre-activation z = x W + b, computed here in float64.
    layer = keras.layers.Dense(3, dtype="float64", name="d")
    model = keras.Sequential([keras.Input((6,)), layer])
    b = RNG.standard_normal(3)
    layer.bias.assign(b)
    w = to_numpy(layer.kernel).astype(np.float64)
    x = X.astype(np.float64)
    z = x @ w + b
    m, s = z.mean(0), z.std(0)
    ki.data_dependent_init(model, x, verbose=0)
    np.testing.assert_allclose(to_numpy(layer.kernel), w / s, rtol=1e-12)
    np.testing.assert_allclose(to_numpy(layer.bias), (b - m) / s, rtol=1e-12, atol=1e-14)


class _ChannelsFirstDense(keras.layers.Dense):
    """A Dense over axis 1 of (batch, channels, length): channels_first units."""

    data_format = "channels_first"

    def build(self, input_shape):
        super().build((input_shape[0], input_shape[2], input_shape[1]))
        self.input_spec = None

    def call(self, x):
        return keras.ops.transpose(super().call(keras.ops.transpose(x, (0, 2, 1))), (0, 2, 1))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.units, input_shape[2])


def test_channels_first_units_are_normalized_on_axis_one():
    x = RNG.standard_normal((16, 3, 7)).astype("float32") * 2.0 + 1.0
    inp = keras.Input((3, 7))
    model = keras.Model(inp, _ChannelsFirstDense(4, name="cf")(inp))
    ki.data_dependent_init(model, x, verbose=0)
    mean, var = _unit_moments(to_numpy(model(x)).astype(np.float64), (0, 2))
    np.testing.assert_allclose(mean, 0.0, atol=1e-4)
    np.testing.assert_allclose(var, 1.0, atol=1e-3)


@pytest.mark.parametrize(
    "make,shape,units_axes",
    [(lambda: keras.layers.Conv1DTranspose(3, 2, name="t"), (5, 2), (0, 1)),
     (lambda: keras.layers.Conv3DTranspose(2, 2, name="t"), (3, 3, 3, 2), (0, 1, 2, 3)),
     (lambda: keras.layers.DepthwiseConv1D(2, depth_multiplier=2, name="t"), (6, 3), (0, 1))],
)
def test_transposed_and_depthwise_units_mean_zero_var_one(make, shape, units_axes):
    x = RNG.standard_normal((16, *shape)).astype("float32") + 1.0
    inp = keras.Input(shape)
    model = keras.Model(inp, make()(inp))
    ki.data_dependent_init(model, x, verbose=0)
    mean, var = _unit_moments(to_numpy(model(x)).astype(np.float64), units_axes)
    np.testing.assert_allclose(mean, 0.0, atol=1e-4)
    np.testing.assert_allclose(var, 1.0, atol=1e-3)


def test_einsum_units_in_a_permuted_output():
    # "abc,cde->aebd": the units (d, e) sit at output axes 3 and 1.
    x = RNG.standard_normal((16, 5, 6)).astype("float32") + 1.0
    inp = keras.Input((5, 6))
    layer = keras.layers.EinsumDense("abc,cde->aebd", (3, 5, 2), bias_axes="ed", name="e")
    model = keras.Model(inp, layer(inp))
    ki.data_dependent_init(model, x, verbose=0)
    mean, var = _unit_moments(to_numpy(model(x)).astype(np.float64), (0, 2))
    np.testing.assert_allclose(mean, 0.0, atol=1e-4)
    np.testing.assert_allclose(var, 1.0, atol=1e-3)


def test_einsum_notes_when_the_bias_cannot_be_centred():
    x = RNG.standard_normal((16, 5, 6)).astype("float32")
    inp = keras.Input((5, 6))
    part = keras.layers.EinsumDense("abc,cde->abde", (5, 2, 3), bias_axes="d", name="part")
    none = keras.layers.EinsumDense("abde,de->abe", (5, 3), name="none")
    model = keras.Model(inp, none(part(inp)))
    notes = {r.layer: r.note for r in ki.data_dependent_init(model, x, verbose=0).rows}
    assert notes == {"part": "bias is not one entry per unit: mean not centred",
                     "none": "no bias: mean not centred"}


def test_data_dependent_init_arguments_are_used():
    # Unbuilt Sequential built from the batch; `layers=` restricts; the
    # default verbose ("auto") works; verbose=1 draws a progress bar.
    model = keras.Sequential([keras.layers.Dense(4, name="a"), keras.layers.Dense(2, name="b")])
    report = ki.data_dependent_init(model, X, layers=["b"])
    assert [r.layer for r in report.rows] == ["b"]
    with pytest.raises(ValueError, match="`eps`"):
        ki.data_dependent_init(model, X, eps=-1.0, verbose=0)


def test_data_dependent_init_verbose_draws_a_progress_bar(capsys):
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(4), keras.layers.Dense(2)])
    capsys.readouterr()
    ki.data_dependent_init(model, X, verbose=1)
    assert "2/2" in capsys.readouterr().out


class _Unused(keras.Model):
    def __init__(self):
        super().__init__()
        self.used = keras.layers.Dense(3, name="used")
        self.unused = keras.layers.Dense(3, name="unused")

    def build(self, input_shape):
        self.used.build(input_shape)
        self.unused.build(input_shape)

    def call(self, x):
        return self.used(x)


def test_data_dependent_init_lists_a_layer_the_batch_never_reaches():
    model = _Unused()
    model(X)
    report = ki.data_dependent_init(model, X, verbose=0)
    assert dict(report.skipped)["unused"] == "not called by the forward pass on this batch"
