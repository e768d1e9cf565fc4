"""Tests that kill mutants of keras_inits/lsuv.py (benchmarks/mutation_score.py).

Each checks a value derived by hand or the documented report contents, not
with the module's own formula. Models are tiny.
"""

import importlib
import sys
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

lsuv_module = importlib.import_module("keras_inits.lsuv")  # ki.lsuv is the function

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


def test_lsuv_lists_a_layer_the_batch_never_reaches():
    model = _Unused()
    model(X)
    report = ki.lsuv(model, X, seed=0, verbose=0)
    assert dict(report.skipped)["unused"] == "not called by the forward pass on this batch"


# --- lsuv's iteration, checked on scripted variances -------------------------
#
# The rescaling loop is tested with `_variance` replaced by a script of
# values (the forward pass still runs): which iterate is kept, the bias kept
# with it, how many iterations and measurements are made. Dense(2) on
# x in {0, 2} (mean 1), kernel [[2, -2]]: unit u's mean is 2 w_u, so centring
# to `target_mean` m sets the bias to m - s w_u (s the kernel scale).


X2 = np.array([[0.0], [2.0], [0.0], [2.0]], "float32")


def _dense2(bias=(0.0, 0.0)):
    layer = keras.layers.Dense(2, name="d")
    model = keras.Sequential([keras.Input((1,)), layer])
    layer.kernel.assign(np.array([[2.0, -2.0]], "float32"))
    layer.bias.assign(np.array(bias, "float32"))
    return model, layer


def _script(monkeypatch, values):
    """Replace lsuv's variance by `values`, in order; return the call log."""
    calls = []

    def fake(out, label):
        calls.append(label)
        if len(calls) > len(values):
            raise AssertionError(f"measured {len(calls)} times, scripted {len(values)}")
        return values[len(calls) - 1]

    monkeypatch.setattr(lsuv_module, "_variance", fake)
    return calls


def test_lsuv_keeps_the_best_iterate_and_its_centred_bias(monkeypatch):
    # variances: start 4, s=0.5 -> 1.5 (best), then 3 and 3; restoring s=0.5
    # re-measures once more. Bias centred for s=0.5: m - 0.5 * 2 * [1, -1].
    model, layer = _dense2()
    calls = _script(monkeypatch, [4.0, 1.5, 3.0, 3.0, 1.5])
    with pytest.warns(UserWarning, match="within 3 iterations"):
        report = ki.lsuv(model, X2, target_var=1.0, tol=0.1, max_iters=3, orthonormal=False,
                         target_mean=0.5, verbose=0)
    (row,) = report.rows
    assert (row.converged, row.iterations, row.scale, row.after) == (False, 3, 0.5, 1.5)
    assert (row.action, row.stat, row.note) == ("lsuv", "output var", "")
    np.testing.assert_array_equal(to_numpy(layer.kernel), [[1.0, -1.0]])
    np.testing.assert_allclose(to_numpy(layer.bias), [-0.5, 1.5], atol=1e-6)
    assert len(calls) == 5


def test_lsuv_keeps_the_start_and_its_centred_bias_when_no_iterate_is_better(monkeypatch):
    # start 1.5 (best: |1.5 - 1| = 0.5 < |3 - 1|): scale 1, the start's bias
    # (centred for s = 2: 0.5 - 2 * [1, -1]).
    model, layer = _dense2()
    _script(monkeypatch, [1.5, 3.0, 3.0, 1.5])
    with pytest.warns(UserWarning):
        report = ki.lsuv(model, X2, target_var=1.0, tol=0.1, max_iters=2, orthonormal=False,
                         target_mean=0.5, verbose=0)
    (row,) = report.rows
    assert (row.scale, row.after, row.iterations) == (1.0, 1.5, 2)
    np.testing.assert_array_equal(to_numpy(layer.kernel), [[2.0, -2.0]])
    np.testing.assert_allclose(to_numpy(layer.bias), [-1.5, 2.5], atol=1e-6)


def test_lsuv_keeps_the_first_of_equally_good_iterates(monkeypatch):
    # s=0.5 -> 3, s=0.5/sqrt(3) -> 3: a tie; the first (s=0.5) is kept.
    model, layer = _dense2()
    _script(monkeypatch, [4.0, 3.0, 3.0, 3.0])
    with pytest.warns(UserWarning):
        report = ki.lsuv(model, X2, target_var=1.0, tol=0.1, max_iters=2, orthonormal=False,
                         verbose=0)
    assert report.rows[0].scale == 0.5
    np.testing.assert_array_equal(to_numpy(layer.kernel), [[1.0, -1.0]])


def test_lsuv_does_not_remeasure_when_the_last_iterate_is_the_best(monkeypatch):
    model, layer = _dense2()
    calls = _script(monkeypatch, [4.0, 3.0, 2.5])
    with pytest.warns(UserWarning):
        report = ki.lsuv(model, X2, target_var=1.0, tol=0.1, max_iters=2, orthonormal=False,
                         verbose=0)
    assert len(calls) == 3 and report.rows[0].after == 2.5
    # s = 2 * 0.5 * sqrt(1/3): the last iterate's kernel is kept
    np.testing.assert_allclose(to_numpy(layer.kernel), [[1 / 3**0.5, -1 / 3**0.5]], rtol=1e-6)


def test_lsuv_rescales_cumulatively_until_within_tol(monkeypatch):
    # 4 -> s = 0.5 -> 2 -> s = 0.5 / sqrt(2) -> 1.05 (within 0.1): 2 iterations.
    model, layer = _dense2()
    calls = _script(monkeypatch, [4.0, 2.0, 1.05])
    report = ki.lsuv(model, X2, target_var=1.0, tol=0.1, max_iters=5, orthonormal=False,
                     verbose=0)
    (row,) = report.rows
    assert (row.converged, row.iterations, len(calls)) == (True, 2, 3)
    assert row.scale == pytest.approx(0.5 / 2**0.5, rel=1e-12)
    np.testing.assert_allclose(to_numpy(layer.kernel), [[2**-0.5, -(2**-0.5)]], rtol=1e-6)


def test_lsuv_default_is_ten_iterations_and_warns_at_the_callers_line(monkeypatch):
    model, _ = _dense2()
    _script(monkeypatch, [4.0] * 12)  # start, 10 iterates, the kept start re-measured
    with pytest.warns(UserWarning) as record:
        report = ki.lsuv(model, X2, orthonormal=False, verbose=0)
    assert report.rows[0].iterations == 10
    (warning,) = [w for w in record if issubclass(w.category, UserWarning)]
    assert warning.category is UserWarning
    assert str(warning.message) == ("lsuv: layers ['d'] did not reach variance 1.0 +- 0.1 "
                                    "within 10 iterations; each kept its best scale.")
    # Not lsuv.py's own line. The caller's file exactly, except under
    # mutmut, whose trampoline adds a frame between the test and the step.
    assert warning.filename != lsuv_module.__file__
    if "mutmut" not in sys.modules:
        assert warning.filename == __file__


def test_lsuv_tolerance_boundary_is_converged_without_iterating():
    # Exact in binary: x = +-2, kernel 1, no bias: variance 4; target 2, tol 2.
    layer = keras.layers.Dense(1, use_bias=False, name="d")
    model = keras.Sequential([keras.Input((1,)), layer])
    layer.kernel.assign(np.ones((1, 1), "float32"))
    x = np.array([[-2.0], [2.0]], "float32")
    report = ki.lsuv(model, x, target_var=2.0, tol=2.0, orthonormal=False, verbose=0)
    (row,) = report.rows
    assert (row.converged, row.iterations, row.scale, row.after) == (True, 0, 1.0, 4.0)


def test_lsuv_kernel_is_scaled_in_float64_and_cast_once():
    layer = keras.layers.Dense(16, name="d")
    model = keras.Sequential([keras.Input((6,)), layer])
    start = to_numpy(layer.kernel).astype(np.float64)
    report = ki.lsuv(model, X, target_var=0.7, tol=1e-4, orthonormal=False, verbose=0)
    expected = (start * report.rows[0].scale).astype(np.float32)
    np.testing.assert_array_equal(to_numpy(layer.kernel), expected)


@pytest.mark.parametrize("kwargs,name", [
    ({"target_var": -1.0}, "target_var"), ({"tol": 0.0}, "tol"),
    ({"target_mean": "a"}, "target_mean"), ({"max_iters": 2.5}, "max_iters"),
    ({"max_iters": True}, "max_iters"),
])
def test_lsuv_argument_errors_name_the_argument(kwargs, name):
    with pytest.raises((ValueError, TypeError), match=rf"Argument `{name}`"):
        ki.lsuv(_dense2()[0], X2, verbose=0, **kwargs)


def test_lsuv_one_iteration_is_allowed():
    model, _ = _dense2()
    report = ki.lsuv(model, X2, max_iters=1, target_mean=0.0, orthonormal=False, verbose=0)
    assert report.rows[0].iterations == 1


def test_lsuv_checks_the_seed_even_without_orthonormal_draws():
    with pytest.raises(TypeError, match=r"Argument `seed` must be an int or None. Received: seed='s'"):
        ki.lsuv(_dense2()[0], X2, orthonormal=False, seed="s", verbose=0)


class _KernelNoBias(keras.layers.Layer):
    """A custom kernel layer: no orthonormal view, no `bias` attribute."""

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], 3), name="kernel")

    def call(self, x):
        return keras.ops.matmul(x, self.kernel)


@pytest.mark.parametrize("target_mean,layer,note", [
    (0.0, lambda: _KernelNoBias(name="d"), "no orthonormal view (kept kernel), no bias to centre"),
    (None, lambda: keras.layers.Dense(3, use_bias=False, name="d"), ""),
    (0.0, lambda: keras.layers.Dense(3, name="d"), ""),
    (None, lambda: keras.layers.Dense(3, activation="relu", name="d"), "pre-activation"),
])
def test_lsuv_report_notes(target_mean, layer, note):
    model = keras.Sequential([keras.Input((6,)), layer()])
    report = ki.lsuv(model, X, target_mean=target_mean, seed=0, verbose=0)
    assert report.rows[0].note == note


class _TwoOutputs(keras.layers.Dense):
    """A Dense (with its bias) that returns its output twice, as a list."""

    def call(self, x):
        y = super().call(x)
        return [y, y]

    def compute_output_shape(self, input_shape):
        shape = super().compute_output_shape(input_shape)
        return [shape, shape]


@pytest.mark.parametrize("step,kwargs", [
    (ki.lsuv, {}), (ki.lsuv, {"target_mean": 0.0}), (ki.data_dependent_init, {}),
])
def test_a_kernel_layer_with_several_outputs_is_named(step, kwargs):
    inp = keras.Input((6,))
    a, _ = _TwoOutputs(3, name="two")(inp)
    model = keras.Model(inp, a)
    with pytest.raises(ValueError, match=r"^Layer 'two' returns list, not one tensor"):
        step(model, X, verbose=0, **kwargs)


def test_lsuv_names_a_layer_with_inf_outputs():
    layer = keras.layers.Dense(2, name="big")
    model = keras.Sequential([keras.Input((6,)), layer])
    layer.kernel.assign(np.full((6, 2), 3e38, "float32"))
    with pytest.raises(ValueError, match=r"^Layer 'big' produced NaN or inf outputs; every "
                                         "weight was restored\\.$"):
        ki.lsuv(model, np.abs(X) + 1.0, orthonormal=False, verbose=0)


def test_lsuv_target_mean_on_channels_first_units():
    # (batch, 4 channels, 5 steps): per-channel means are moved, on axis 1.
    inp = keras.Input((3, 5))
    layer = _ChannelsFirstDense(4, name="cf")
    model = keras.Model(inp, layer(inp))
    x = RNG.standard_normal((8, 3, 5)).astype("float32") + 1.0
    ki.lsuv(model, x, target_mean=0.25, tol=1e-3, seed=0, verbose=0)
    out = to_numpy(model(x))
    np.testing.assert_allclose(out.mean(axis=(0, 2)), 0.25, atol=1e-4)


class _CallsTwice(keras.layers.Layer):
    """A composite layer that calls its Dense twice."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.inner = keras.layers.Dense(6, name="inner")
        self.other = keras.layers.Dense(6, name="other")

    def call(self, x):
        return self.other(self.inner(self.inner(x)))


def test_a_sublayer_called_twice_is_calibrated_once():
    inp = keras.Input((6,))
    model = keras.Model(inp, _CallsTwice(name="c")(inp))
    report = ki.lsuv(model, X, seed=0, verbose=0)
    assert [r.layer for r in report.rows] == ["inner", "other"]


# --- data_dependent_init: joined notes, the eps boundary, calls per layer ---

def _ddi_note(layer, x, **kwargs):
    inp = keras.Input(x.shape[1:])
    model = keras.Model(inp, layer(inp))
    return ki.data_dependent_init(model, x, verbose=0, **kwargs).rows[0].note


def test_ddi_note_joins_pre_activation_and_constant_units():
    layer = keras.layers.Dense(3, activation="relu", name="d")
    layer.build((None, 6))
    kernel = RNG.standard_normal((6, 3)).astype("float32")
    kernel[:, 0] = 0.0
    layer.kernel.assign(kernel)
    assert _ddi_note(layer, X) == ("pre-activation, 1 of 3 units constant on this batch "
                                   "(std < 1e-06): centred, not scaled")


def test_ddi_note_joins_pre_activation_and_an_einsum_bias_over_other_axes():
    layer = keras.layers.EinsumDense("abc,cd->abd", (5, 3), bias_axes="b", activation="relu")
    x = RNG.standard_normal((8, 5, 6)).astype("float32")
    assert _ddi_note(layer, x) == "pre-activation, bias is not one entry per unit: mean not centred"


def test_ddi_note_joins_pre_activation_and_a_bias_free_einsum():
    layer = keras.layers.EinsumDense("ab,bc->ac", 3, activation="relu")
    assert _ddi_note(layer, X) == "pre-activation, no bias: mean not centred"


def test_ddi_note_joins_pre_activation_and_the_norm_it_was_centred_through():
    inp = keras.Input((6,))
    h = keras.layers.Dense(3, activation="relu", use_bias=False, name="d")(inp)
    model = keras.Model(inp, keras.layers.BatchNormalization(name="bn")(h))
    note = ki.data_dependent_init(model, X, verbose=0).rows[0].note
    assert note == "pre-activation, no bias: centred through bn's moving mean (moving variance 1)"


def test_ddi_unit_with_std_exactly_eps_is_scaled_not_constant():
    # x = +-1, kernel 1: the unit's std is exactly 1 = eps (constant means std < eps).
    layer = keras.layers.Dense(1, use_bias=False, name="d")
    layer.build((None, 1))
    layer.kernel.assign(np.ones((1, 1), "float32"))
    note = _ddi_note(layer, np.array([[-1.0], [1.0]], "float32"), eps=1.0)
    assert note == ("no bias and its output goes to the model's output, not to one "
                    "BatchNormalization: mean not centred")


def test_ddi_calls_each_unfused_layer_twice():
    # Measure, then the final output the walk reuses: no third forward call.
    inp = keras.Input((6,))
    first, second = keras.layers.Dense(4, name="a"), keras.layers.Dense(3, name="b")
    model = keras.Model(inp, second(first(inp)))
    counts = {}
    for layer in (first, second):
        original = layer.call

        def counted(*args, _layer=layer, _call=original, **kwargs):
            counts[_layer.name] = counts.get(_layer.name, 0) + 1
            return _call(*args, **kwargs)

        layer.call = counted
    ki.data_dependent_init(model, X, verbose=0)
    assert counts == {"a": 2, "b": 2}


# --- targets, labels, skip reasons, verbosity --------------------------------

def test_skip_reasons_are_reported_verbatim():
    inp = keras.Input((5, 4))
    h = keras.layers.LSTM(6, name="lstm")(inp)
    h = keras.layers.Dense(6, name="lora")(h)
    h = keras.layers.Add()([h, keras.layers.Dense(6, name="zero")(h)])  # a zeroed branch
    model = keras.Model(inp, keras.layers.Dense(3, name="head")(h))
    model.get_layer("lora").enable_lora(2)
    model.get_layer("zero").kernel.assign(np.zeros((6, 6), "float32"))
    report = ki.lsuv(model, RNG.standard_normal((8, 5, 4)).astype("float32"), seed=0, verbose=0)
    assert dict(report.skipped) == {
        "lstm_cell": "recurrent cell: only feed-forward kernels are calibrated",
        "lora": "kernel is not a float variable (LoRA-enabled or quantized)",
        "zero": "kernel is all zeros (a residual branch zeroed on purpose?): kept zero",
    }


def test_ddi_skips_a_custom_kernel_layer_naming_its_type():
    inp = keras.Input((6,))
    h = _KernelNoBias(name="k")(inp)
    model = keras.Model(inp, keras.layers.Dense(2, name="d")(h))
    report = ki.data_dependent_init(model, X, verbose=0)
    assert report.skipped == [("k", "_KernelNoBias: no per-unit kernel axis")]


class _SameNames(keras.layers.Layer):
    """Two kernel sublayers with the same name (hence the same path)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.a = keras.layers.Dense(6, name="d")
        self.b = keras.layers.Dense(6, name="d")

    def call(self, x):
        return self.b(self.a(x))


def test_kernel_layers_sharing_a_path_get_numbered_labels():
    inp = keras.Input((6,))
    block = _SameNames(name="blk")
    model = keras.Model(inp, block(inp))
    assert block.a.path == block.b.path
    report = ki.lsuv(model, X, seed=0, verbose=0)
    assert [r.layer for r in report.rows] == [block.a.path, f"{block.a.path}#2"]


class _Holder(keras.layers.Layer):
    def __init__(self, inner, **kwargs):
        super().__init__(**kwargs)
        self.inner = inner

    def call(self, x):
        return self.inner(x)


def test_a_kernel_layer_shared_by_two_blocks_is_calibrated_once():
    shared = keras.layers.Dense(6, name="shared")
    inp = keras.Input((6,))
    model = keras.Model(inp, _Holder(shared, name="h2")(_Holder(shared, name="h1")(inp)))
    report = ki.lsuv(model, X, seed=0, verbose=0)
    assert [r.layer for r in report.rows] == ["shared"]


class _OwnKernelAndInner(keras.layers.Layer):
    """A kernel layer that also holds a kernel sublayer, called first."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.inner = keras.layers.Dense(6, name="inner")

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(6, 3), name="kernel")

    def call(self, x):
        return keras.ops.matmul(self.inner(x), self.kernel)


def test_a_kernel_layer_is_calibrated_after_its_kernel_sublayers():
    inp = keras.Input((6,))
    outer = _OwnKernelAndInner(name="outer")
    model = keras.Model(inp, outer(inp))
    report = ki.lsuv(model, X, seed=0, verbose=0)
    assert [r.layer for r in report.rows] == ["inner", "outer"]
    assert all(r.converged for r in report.rows)
    assert abs(float(np.var(to_numpy(model(X)))) - 1.0) <= 0.1


def test_layers_accepts_one_name_or_one_layer():
    model, layer = _dense2()
    assert [r.layer for r in ki.lsuv(model, X2, layers="d", verbose=0).rows] == ["d"]
    assert [r.layer for r in ki.lsuv(model, X2, layers=layer, verbose=0).rows] == ["d"]


@pytest.mark.parametrize("item,shown", [("nope", "'nope'"), ("foreign", "'foreign'")])
def test_layers_error_names_the_item(item, shown):
    model, _ = _dense2()
    if item == "foreign":
        item = keras.layers.Dense(2, name="foreign")
    with pytest.raises(ValueError, match=rf"^Argument `layers` names {shown}, which is not "):
        ki.lsuv(model, X2, layers=[item], verbose=0)


class _Stdout:
    def __init__(self, tty):
        self.tty, self.text = tty, []

    def isatty(self):
        return self.tty

    def write(self, text):
        self.text.append(text)

    def flush(self):
        pass


@pytest.mark.parametrize("stdout,expected", [
    (_Stdout(True), 1), (_Stdout(False), 0), (types.SimpleNamespace(), 0),
])
def test_verbose_auto_follows_whether_stdout_is_a_terminal(monkeypatch, stdout, expected):
    monkeypatch.setattr(sys, "stdout", stdout)
    assert lsuv_module._resolve_verbose("auto") == expected


@pytest.mark.parametrize("verbose,expected", [(0, 0), (1, 1), (True, 1), (False, 0)])
def test_verbose_values(verbose, expected):
    assert lsuv_module._resolve_verbose(verbose) == expected


def test_verbose_2_is_refused():
    with pytest.raises(ValueError, match=r"^Argument `verbose` must be 0, 1 or 'auto'. "
                                         "Received: verbose=2$"):
        lsuv_module._resolve_verbose(2)


def test_progress_bar_counts_layers_and_is_silent_at_verbose_0(capsys):
    model, _ = _dense2()
    ki.lsuv(model, X2, verbose=0)
    assert capsys.readouterr().out == ""
    ki.lsuv(model, X2, verbose=1)
    assert "/layer" in capsys.readouterr().out
