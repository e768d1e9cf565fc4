"""LSUV: variances measured independently after the fact, safety, determinism."""

import keras
import numpy as np
import pytest

import keras_inits as ki
from tests.helpers import to_numpy

RNG = np.random.default_rng(0)
X = RNG.standard_normal((128, 16)).astype("float32")


def weights(model):
    return [to_numpy(v).copy() for v in model.weights]


def assert_same(before, model):
    for a, v in zip(before, model.weights):
        np.testing.assert_array_equal(a, to_numpy(v))


def mlp(depth, activation, fused=False, width=32):
    layers = [keras.Input((16,))]
    for i in range(depth):
        layers.append(keras.layers.Dense(width, activation=activation if fused else None, name=f"d{i}"))
        if not fused:
            layers.append(keras.layers.Activation(activation))
    layers.append(keras.layers.Dense(10, name="head"))
    return keras.Sequential(layers)


def output_var(model, name, x):
    """Variance of a layer's output through a sub-model built here."""
    sub = keras.Model(model.inputs[0], model.get_layer(name).output)
    return float(np.var(to_numpy(sub(x))))


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_every_layer_within_tol_deep_mlp(activation):
    model = mlp(12, activation)
    report = ki.lsuv(model, X, tol=0.05, seed=0, verbose=0)
    assert len(report.rows) == 13 and not report.not_converged
    for row in report.rows:
        assert abs(output_var(model, row.layer, X) - 1.0) <= 0.05, row


def test_fused_activation_measures_pre_activation():
    model = mlp(6, "relu", fused=True)
    ki.lsuv(model, X, seed=0, verbose=0)
    h = X
    for layer in model.layers:
        w, b = (to_numpy(v) for v in (layer.kernel, layer.bias))
        z = h @ w + b
        assert abs(z.var() - 1.0) <= 0.1, layer.name
        h = np.maximum(z, 0) if layer.name != "head" else z
    assert "pre-activation" in ki.lsuv(model, X, verbose=0).rows[0].note


def test_cnn():
    inp = keras.Input((8, 8, 3))
    h = keras.layers.Conv2D(8, 3, padding="same", name="c0")(inp)
    h = keras.layers.Activation("relu")(h)
    h = keras.layers.Conv2D(8, 3, strides=2, name="c1")(h)
    h = keras.layers.Activation("relu")(h)
    h = keras.layers.Conv2DTranspose(4, 3, name="t2")(h)
    out = keras.layers.Dense(5, name="head")(keras.layers.Flatten()(h))
    model = keras.Model(inp, out)
    x = RNG.standard_normal((32, 8, 8, 3)).astype("float32")
    report = ki.lsuv(model, x, seed=1, verbose=0)
    for row in report.rows:
        assert abs(output_var(model, row.layer, x) - 1.0) <= 0.1, row


def test_orthonormal_preinit_per_fan_layout():
    layer = keras.layers.Conv2D(32, 3)
    layer.build((None, 8, 8, 2))  # fan_in 18 <= 32: orthonormal rows of the (18, 32) view
    from keras_inits.lsuv import orthonormal_kernel

    assert orthonormal_kernel(layer, seed=0)
    m = to_numpy(layer.kernel).reshape(18, 32).astype("float64")
    np.testing.assert_allclose(m @ m.T, np.eye(18), atol=1e-5)


def test_residual_functional_model():
    inp = keras.Input((16,))
    h = keras.layers.Dense(16, name="stem")(inp)
    for i in range(3):
        b = keras.layers.Dense(16, name=f"b{i}a")(h)
        b = keras.layers.Activation("relu")(b)
        b = keras.layers.Dense(16, name=f"b{i}b")(b)
        h = keras.layers.Add()([h, b])
    model = keras.Model(inp, keras.layers.Dense(3, name="head")(h))
    report = ki.lsuv(model, X, seed=0, verbose=0)
    for row in report.rows:
        assert abs(output_var(model, row.layer, X) - 1.0) <= 0.1, row


def test_multi_head_attention_sublayers():
    inp = keras.Input((6, 16))
    mha = keras.layers.MultiHeadAttention(2, 8, name="mha")
    model = keras.Model(inp, mha(inp, inp))
    x = RNG.standard_normal((8, 6, 16)).astype("float32")
    report = ki.lsuv(model, x, seed=0, verbose=0)
    assert [r.layer for r in report.rows] == ["query", "key", "value", "attention_output"]
    for dense in (mha.query_dense, mha.key_dense, mha.value_dense):
        z = np.einsum("abc,cde->abde", x, to_numpy(dense.kernel)) + to_numpy(dense.bias)
        assert abs(z.var() - 1.0) <= 0.1, dense.name
    assert abs(float(np.var(to_numpy(model(x)))) - 1.0) <= 0.1


def test_two_attention_layers_rows_named_by_path():
    inp = keras.Input((6, 16))
    first = keras.layers.MultiHeadAttention(2, 8, name="att1")
    second = keras.layers.MultiHeadAttention(2, 8, name="att2")
    h = first(inp, inp)
    model = keras.Model(inp, second(h, h))
    x = RNG.standard_normal((8, 6, 16)).astype("float32")
    report = ki.lsuv(model, x, tol=0.05, seed=0, verbose=0)
    assert [r.layer for r in report.rows] == [
        f"{a}/{d}" for a in ("att1", "att2") for d in ("query", "key", "value", "attention_output")
    ]
    h1 = to_numpy(keras.Model(inp, h)(x))
    q2 = np.einsum("abc,cde->abde", h1, to_numpy(second.query_dense.kernel))
    assert abs((q2 + to_numpy(second.query_dense.bias)).var() - 1.0) <= 0.05
    assert abs(float(np.var(to_numpy(model(x)))) - 1.0) <= 0.05
    with pytest.raises(ValueError, match="several kernel layers"):
        ki.lsuv(model, x, layers=["query"], verbose=0)
    only = ki.lsuv(model, x, layers=["att2/query", "att1"], verbose=0)
    assert [r.layer for r in only.rows] == [
        "att1/query", "att1/key", "att1/value", "att1/attention_output", "att2/query"
    ]


def test_constant_data_is_refused():
    model = mlp(3, "tanh")
    before = weights(model)
    with pytest.raises(ValueError, match="constant"):
        ki.lsuv(model, np.ones((16, 16), "float32"), verbose=0)
    assert_same(before, model)


def test_dead_layer_fails_naming_it_and_restores_every_weight():
    # d0's relu is dead on every input (bias -1000), so d1 sees zeros: d0 is
    # rescaled (written) before d1 fails. A zero kernel would be skipped
    # (kept zero on purpose), so the dead layer is made by its input.
    model = mlp(3, "relu", fused=True)
    model.get_layer("d0").bias.assign(np.full((32,), -1000.0, "float32"))
    before = weights(model)
    with pytest.raises(ValueError, match="'d1'.*variance 0"):
        ki.lsuv(model, X, orthonormal=False, verbose=0)
    assert_same(before, model)


def test_zero_kernel_is_kept_zero_and_listed():
    model = mlp(3, "relu", fused=True)
    model.get_layer("d1").kernel.assign(np.zeros((32, 32), "float32"))
    # d1's output is its bias alone: later layers still see a non-constant signal.
    model.get_layer("d1").bias.assign(np.linspace(0.1, 1.0, 32).astype("float32"))
    report = ki.lsuv(model, X, seed=0, verbose=0)
    assert "d1" not in [r.layer for r in report.rows]
    assert "all zeros" in dict(report.skipped)["d1"]
    assert not np.any(to_numpy(model.get_layer("d1").kernel))


def test_dead_layer_is_an_error_even_when_zero_is_within_tol():
    model = mlp(2, "relu", fused=True)
    model.get_layer("d0").bias.assign(np.full((32,), -1000.0, "float32"))
    before = weights(model)
    with pytest.raises(ValueError, match="'d1'.*variance 0"):
        ki.lsuv(model, X, target_var=0.05, tol=0.1, orthonormal=False, verbose=0)
    assert_same(before, model)


def test_failure_midway_restores(monkeypatch):
    model = mlp(4, "relu")
    before = weights(model)
    import sys

    mod = sys.modules["keras_inits.lsuv"]  # the package attribute `lsuv` is the function

    calls = {"n": 0}
    original = mod._variance

    def flaky(out, label):
        calls["n"] += 1
        if calls["n"] > 5:
            raise RuntimeError("simulated failure")
        return original(out, label)

    monkeypatch.setattr(mod, "_variance", flaky)
    with pytest.raises(RuntimeError, match="simulated"):
        ki.lsuv(model, X, verbose=0)
    assert_same(before, model)


@pytest.mark.parametrize(
    "data,match",
    [
        (np.full((8, 16), np.nan, "float32"), "NaN"),
        (np.zeros((0, 16), "float32"), "empty"),
        ([], "empty|must be"),
        ("x", "must be"),
    ],
)
def test_bad_data(data, match):
    model = mlp(2, "tanh")
    before = weights(model)
    with pytest.raises((ValueError, TypeError), match=match):
        ki.lsuv(model, data, verbose=0)
    assert_same(before, model)


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"target_var": 0.0}, "target_var"),
        ({"tol": -1.0}, "tol"),
        ({"max_iters": 0}, "max_iters"),
        ({"layers": ["nope"]}, "nope"),
        ({"verbose": 3}, "verbose"),
        ({"seed": "s"}, "seed"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        ki.lsuv(mlp(2, "tanh"), X, **kwargs)


def test_non_convergence_warns_and_keeps_best():
    """A case, worked by hand, where the last iterate is not the best one.

    Dense(2) on x in {0, 2} (mean 1, E[x^2] = 2), kernel s * [1, -1], bias
    [-2, 2]: both units are +-(s x - 2), so the output variance (over every
    element; overall mean 0) is E[(s x - 2)^2] = 2 s^2 - 4 s + 4, never below
    2 (at s = 1). Target 1 is out of reach; LSUV's rescale s <- s sqrt(1 / var)
    shrinks s past 1 and the variance rises again:

        start  s = 2           var 4
        1      s = 1           var 2          <- best, |2 - 1| = 1
        2      s = 1/sqrt(2)   var 5 - 2 sqrt(2) = 2.1716
        3      s = 0.4798      var 2.5411

    so the kept kernel is the first rescale's [1, -1] (scale 0.5), not the
    last iterate's (0.2399) nor the start."""
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(2, name="d")])
    layer = model.layers[0]
    layer.kernel.assign(np.array([[2.0, -2.0]], "float32"))
    layer.bias.assign(np.array([-2.0, 2.0], "float32"))
    x = np.array([[0.0], [2.0], [0.0], [2.0]], "float32")
    with pytest.warns(UserWarning, match=r"\['d'\] did not reach variance 1.0"):
        report = ki.lsuv(model, x, target_var=1.0, tol=0.1, max_iters=3, orthonormal=False, verbose=0)
    (row,) = report.rows
    assert report.not_converged == ["d"] and not row.converged and row.iterations == 3
    np.testing.assert_allclose(to_numpy(layer.kernel), [[1.0, -1.0]], rtol=1e-6)
    np.testing.assert_array_equal(to_numpy(layer.bias), [-2.0, 2.0])  # no target_mean: kept
    assert row.scale == pytest.approx(0.5, rel=1e-6)
    assert (row.before, row.after) == (pytest.approx(4.0, rel=1e-6), pytest.approx(2.0, rel=1e-6))
    assert "not converged: d" in str(report)


def test_unbuilt_sequential_is_built_from_the_batch():
    model = keras.Sequential([keras.layers.Dense(8), keras.layers.Dense(2)])
    report = ki.lsuv(model, X, verbose=0)
    assert model.built and len(report.rows) == 2


def test_frozen_layers_skipped_and_listed():
    model = mlp(3, "tanh")
    model.get_layer("d1").trainable = False
    before = to_numpy(model.get_layer("d1").kernel).copy()
    report = ki.lsuv(model, X, verbose=0)
    assert ("d1", "frozen (trainable=False)") in report.skipped
    np.testing.assert_array_equal(before, to_numpy(model.get_layer("d1").kernel))


def test_layers_argument_restricts():
    model = mlp(3, "tanh")
    report = ki.lsuv(model, X, layers=["d1", model.get_layer("head")], verbose=0)
    assert [r.layer for r in report.rows] == ["d1", "head"]


def test_determinism_with_seed():
    a, b = mlp(3, "relu"), mlp(3, "relu")
    b.set_weights(a.get_weights())
    ki.lsuv(a, X, seed=4, verbose=0)
    ki.lsuv(b, X, seed=4, verbose=0)
    for va, vb in zip(a.weights, b.weights):
        np.testing.assert_array_equal(to_numpy(va), to_numpy(vb))


def test_target_mean_centres_units():
    model = mlp(2, "relu", fused=True)
    ki.lsuv(model, X, target_mean=0.0, verbose=0)
    z = X @ to_numpy(model.layers[0].kernel) + to_numpy(model.layers[0].bias)
    np.testing.assert_allclose(z.mean(0), 0.0, atol=1e-4)


def test_accepts_tuple_dict_iterable_and_dataset():
    model = mlp(2, "tanh")
    for data in [(X, np.zeros(128)), iter([X[:32], X[32:]])]:
        assert len(ki.lsuv(model, data, verbose=0).rows) == 3
    inp = {"a": keras.Input((4,), name="a"), "b": keras.Input((4,), name="b")}
    h = keras.layers.Dense(6)(keras.layers.Concatenate()([inp["a"], inp["b"]]))
    two = keras.Model(inp, keras.layers.Dense(2)(h))
    report = ki.lsuv(two, {"a": X[:, :4], "b": X[:, 4:8]}, verbose=0)
    assert len(report.rows) == 2


@pytest.mark.tf_only
def test_tf_data_dataset():
    import tensorflow as tf

    ds = tf.data.Dataset.from_tensor_slices((X, np.zeros(128))).batch(64)
    assert len(ki.lsuv(mlp(2, "tanh"), ds, verbose=0).rows) == 3


class Subclassed(keras.Model):
    def __init__(self):
        super().__init__()
        self.a = keras.layers.Dense(16, activation="tanh")
        self.b = keras.layers.Dense(8)

    def call(self, x):
        return self.b(self.a(x))


def test_subclassed_model_fallback():
    model = Subclassed()
    model(X[:2])
    report = ki.lsuv(model, X, verbose=0)
    assert len(report.rows) == 2
    assert abs(float(np.var(to_numpy(model(X)))) - 1.0) <= 0.1


def test_progbar_when_verbose(capsys):
    ki.lsuv(mlp(2, "tanh"), X, verbose=1)
    assert "3/3" in capsys.readouterr().out


def test_fused_and_separate_activations_get_the_same_weights():
    fused, separate = mlp(4, "relu", fused=True), mlp(4, "relu")
    separate.set_weights(fused.get_weights())
    ki.lsuv(fused, X, seed=3, verbose=0)
    ki.lsuv(separate, X, seed=3, verbose=0)
    for a, b in zip(fused.weights, separate.weights):
        np.testing.assert_allclose(to_numpy(a), to_numpy(b), rtol=1e-5, atol=1e-6)


def test_seeded_orthonormal_kernels_are_distinct_per_layer():
    model = mlp(3, "tanh")
    ki.lsuv(model, X, seed=0, verbose=0)
    k1, k2 = (to_numpy(model.get_layer(n).kernel) for n in ("d1", "d2"))
    c1, c2 = k1 / np.linalg.norm(k1[:, 0]), k2 / np.linalg.norm(k2[:, 0])
    np.testing.assert_allclose(c1.T @ c1, np.eye(32), atol=1e-4)  # still orthogonal
    assert not np.allclose(c1, c2, atol=1e-3)
    other = mlp(3, "tanh")
    ki.lsuv(other, X, seed=1, verbose=0)
    assert not np.allclose(to_numpy(other.get_layer("d1").kernel), k1, atol=1e-3)


class ReversedBlock(keras.layers.Layer):
    """Tracks `second` before `first` but calls first, then second."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.second = keras.layers.Dense(8, name="second")
        self.first = keras.layers.Dense(16, activation="tanh", name="first")

    def call(self, x):
        return self.second(self.first(x))


class ReversedNet(keras.Model):
    def __init__(self):
        super().__init__()
        self.second = keras.layers.Dense(8, name="second")
        self.first = keras.layers.Dense(16, activation="tanh", name="first")

    def call(self, x):
        return self.second(self.first(x))


def assert_first_then_second_calibrated(first, second, x, tol):
    z1 = x @ to_numpy(first.kernel) + to_numpy(first.bias)
    z2 = np.tanh(z1) @ to_numpy(second.kernel) + to_numpy(second.bias)
    assert abs(z1.var() - 1.0) <= tol and abs(z2.var() - 1.0) <= tol, (z1.var(), z2.var())


def test_composite_and_subclassed_layers_follow_call_order_not_tracking_order():
    inp = keras.Input((16,))
    block = ReversedBlock(name="block")
    model = keras.Model(inp, block(inp))
    report = ki.lsuv(model, X, tol=0.02, seed=0, verbose=0)
    assert [r.layer for r in report.rows] == ["first", "second"]
    assert_first_then_second_calibrated(block.first, block.second, X, 0.02)

    net = ReversedNet()
    net(X[:2])
    report = ki.lsuv(net, X, tol=0.02, seed=0, verbose=0)
    assert [r.layer for r in report.rows] == ["first", "second"]
    assert_first_then_second_calibrated(net.first, net.second, X, 0.02)


def test_recurrent_and_lora_layers_are_skipped_and_listed():
    inp = keras.Input((5, 4))
    h = keras.layers.LSTM(6, name="lstm")(inp)
    h = keras.layers.Dense(6, name="lora")(h)
    model = keras.Model(inp, keras.layers.Dense(3, name="head")(h))
    model.get_layer("lora").enable_lora(2)
    x = RNG.standard_normal((32, 5, 4)).astype("float32")
    before = to_numpy(model.get_layer("lstm").cell.kernel).copy()
    report = ki.lsuv(model, x, seed=0, verbose=0)
    assert [r.layer for r in report.rows] == ["head"]
    reasons = dict(report.skipped)
    assert "recurrent" in reasons["lstm_cell"] and "LoRA" in reasons["lora"]
    np.testing.assert_array_equal(before, to_numpy(model.get_layer("lstm").cell.kernel))
    assert abs(output_var(model, "head", x) - 1.0) <= 0.1


def test_target_mean_channels_first_conv_and_einsum_bias():
    if keras.backend.backend() == "tensorflow":
        pytest.skip("TensorFlow's CPU Conv2D has no channels_first (NCHW) kernel")
    # Output (4, 5, 5): with a last axis equal to the channel count, Keras' TF
    # `ops.add` takes a (1, C, 1, 1) bias for NHWC (keras 3.15 bias_add fast path).
    inp = keras.Input((3, 7, 7))
    h = keras.layers.Conv2D(4, 3, data_format="channels_first", name="conv")(inp)
    h = keras.layers.Reshape((4, 25))(h)
    h = keras.layers.EinsumDense("abc,cde->abde", (4, 2, 3), bias_axes="de", name="ein")(h)
    model = keras.Model(inp, h)
    x = RNG.standard_normal((16, 3, 7, 7)).astype("float32") + 0.5
    report = ki.lsuv(model, x, target_mean=0.25, tol=0.05, seed=0, verbose=0)
    assert [r.layer for r in report.rows] == ["conv", "ein"]
    conv = to_numpy(keras.Model(inp, model.get_layer("conv").output)(x))
    np.testing.assert_allclose(conv.mean(axis=(0, 2, 3)), 0.25, atol=1e-4)  # per channel
    assert abs(conv.var() - 1.0) <= 0.05
    ein = to_numpy(model(x))
    np.testing.assert_allclose(ein.mean(axis=(0, 1)), np.full((2, 3), 0.25), atol=1e-4)
    assert abs(ein.var() - 1.0) <= 0.05


def test_mixed_precision():
    keras.config.set_dtype_policy("mixed_float16")
    model = mlp(3, "tanh")
    report = ki.lsuv(model, X, seed=0, verbose=0)
    assert not report.not_converged and model.layers[0].kernel.dtype == "float32"
    for row in report.rows:
        assert abs(output_var(model, row.layer, X) - 1.0) <= 0.1, row


# --- README claims: batch_size=, list data, depthwise note, InitReport.to_dict ---

# Four rows x in {0, 2} (variance 1) and then rows that would change every
# statistic if they were used.
FIRST_ROWS = np.array([[0.0], [2.0], [0.0], [2.0]], "float32")
WITH_TAIL = np.concatenate([FIRST_ROWS, np.linspace(-50, 80, 60, dtype="float32")[:, None]])


def test_batch_size_keeps_the_first_rows():
    # Bias-free Dense(1), kernel 2: on the first 4 rows Var(2x) = 4, one
    # rescale by sqrt(1/4) gives kernel 1 and variance 1 exactly.
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1, use_bias=False)])
    model.layers[0].kernel.assign([[2.0]])
    report = ki.lsuv(model, WITH_TAIL, batch_size=4, orthonormal=False, tol=1e-3, verbose=0)
    np.testing.assert_allclose(to_numpy(model.layers[0].kernel), [[1.0]], rtol=1e-6)
    (row,) = report.rows
    assert row.before == pytest.approx(4.0, rel=1e-6) and row.after == pytest.approx(1.0, rel=1e-6)


def test_list_of_arrays_feeds_inputs_by_position():
    """Two inputs whose data differ in scale 10x: each branch is calibrated on
    its own input (checked in numpy), so the list was not swapped or merged."""
    a, b = keras.Input((4,), name="a"), keras.Input((4,), name="b")
    ha = keras.layers.Dense(8, name="da")(a)
    hb = keras.layers.Dense(8, name="db")(b)
    model = keras.Model([a, b], keras.layers.Dense(2, name="head")(keras.layers.Concatenate()([ha, hb])))
    xa, xb = X[:, :4], 10.0 * X[:, 4:8]
    report = ki.lsuv(model, [xa, xb], tol=0.02, seed=0, verbose=0)
    assert [r.layer for r in report.rows] == ["da", "db", "head"]

    def affine(name, h):
        layer = model.get_layer(name)
        return h @ to_numpy(layer.kernel) + to_numpy(layer.bias)

    za, zb = affine("da", xa), affine("db", xb)
    assert abs(za.var() - 1.0) <= 0.02 and abs(zb.var() - 1.0) <= 0.02, (za.var(), zb.var())
    assert abs(affine("head", np.concatenate([za, zb], axis=1)).var() - 1.0) <= 0.02


def test_depthwise_kernel_is_kept_and_the_report_says_so():
    """orthonormal=True has no matrix view of a depthwise kernel: its
    directions are kept (only rescaled) and the row's note says so."""
    inp = keras.Input((6, 6, 3))
    model = keras.Model(inp, keras.layers.DepthwiseConv2D(3, depth_multiplier=2, name="dw")(inp))
    before = to_numpy(model.get_layer("dw").kernel).copy()
    x = RNG.standard_normal((16, 6, 6, 3)).astype("float32")
    report = ki.lsuv(model, x, tol=0.02, seed=0, verbose=0)
    (row,) = report.rows
    assert row.layer == "dw" and "no orthonormal view (kept kernel)" in row.note
    np.testing.assert_allclose(to_numpy(model.get_layer("dw").kernel), before * row.scale, rtol=1e-5)
    assert row.scale != 1.0 and abs(float(np.var(to_numpy(model(x)))) - 1.0) <= 0.02


def test_init_report_to_dict_is_plain_json_data():
    import json

    from keras_inits.report import InitReport

    report = InitReport("lsuv")
    report.add("d0", "lsuv", before=2.0, after=1.0, scale=0.5, iterations=1, stat="output var",
               note="pre-activation")
    report.add("d2", "lsuv", before=9.0, after=1.5, scale=0.4, iterations=10, converged=False)
    report.skip("d1", "frozen (trainable=False)")
    report.notes.append("a note")
    expected = {
        "step": "lsuv",
        "rows": [
            {"layer": "d0", "step": "lsuv", "action": "lsuv", "before": 2.0, "after": 1.0,
             "scale": 0.5, "iterations": 1, "converged": True, "stat": "output var",
             "note": "pre-activation", "activation": "", "measured": None},
            {"layer": "d2", "step": "lsuv", "action": "lsuv", "before": 9.0, "after": 1.5,
             "scale": 0.4, "iterations": 10, "converged": False, "stat": "", "note": "",
             "activation": "", "measured": None},
        ],
        "skipped": [["d1", "frozen (trainable=False)"]],
        "notes": ["a note"],
        "validation": {},
    }
    out = report.to_dict()
    assert out == expected and json.loads(json.dumps(out)) == expected
    out["rows"][0]["layer"], out["notes"][0], out["skipped"][0][0] = "x", "y", "z"  # a copy
    assert report.rows[0].layer == "d0" and report.notes == ["a note"] and report.skipped[0][0] == "d1"
    # A real run's report: plain Python numbers, JSON as it is.
    model = mlp(2, "tanh")
    model.get_layer("d1").trainable = False
    real = ki.lsuv(model, X, seed=0, verbose=0).to_dict()
    assert json.loads(json.dumps(real)) == real
    assert [r["layer"] for r in real["rows"]] == ["d0", "head"]
    assert real["skipped"] == [["d1", "frozen (trainable=False)"]]
