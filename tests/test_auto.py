"""ki.auto_init: each rule's std against its formula (tolerance from the
sample size), on layers whose weights were first set to something wrong, so
a no-op cannot pass."""

import math

import keras
import numpy as np
import pytest

import keras_inits as ki
from keras_inits.auto import find_activation
from keras_inits.graph import layer_scale as graph_scale
from keras_inits.graph import output_chains
from tests.helpers import assert_moments, to_numpy

RNG = np.random.default_rng(0)
W = 64  # width: 64 x 64 = 4096 kernel entries per moment check


def _spoil(model, value=3.0):
    """Every float weight (PReLU slopes excepted: they set a gain) set to a
    constant: a rule that does nothing fails."""
    for v in model.weights:
        if "float" in str(v.dtype) and v.name != "alpha":
            v.assign(np.full(tuple(v.shape), value, dtype="float32"))


def _rows(report):
    return {r.layer.rsplit("/", 1)[-1]: r for r in report.rows}


def _mlp(after, fused=None):
    """Input -> Dense(W, name="d") -> `after` ops -> Dense(W, name="next")."""
    x = keras.Input((W,))
    h = keras.layers.Dense(W, activation=fused, name="d")(x)
    for op in after:
        h = op(h)
    h = keras.layers.Dense(W, name="next")(h)
    return keras.Model(x, keras.layers.Add()([h, h]))  # "next" is no head


def _relu6_moment():
    # E[min(max(z, 0), 6)^2] = 1/2 - 6 phi(6) + 35 Q(6), z ~ N(0, 1).
    phi = math.exp(-18.0) / math.sqrt(2 * math.pi)
    q = 0.5 * math.erfc(6 / math.sqrt(2))
    return 0.5 - 6 * phi + 35 * q


CASES = {
    "fused relu": (lambda: _mlp([], "relu"), "relu", math.sqrt(2)),
    "fused tanh": (lambda: _mlp([], "tanh"), "tanh", 5 / 3),
    "fused leaky_relu (keras slope 0.2)": (lambda: _mlp([], "leaky_relu"), "leaky_relu(0.2)",
                                           math.sqrt(2 / 1.04)),
    "fused selu: LeCun": (lambda: _mlp([], "selu"), "selu", 1.0),
    "Activation layer": (lambda: _mlp([keras.layers.Activation("tanh")]), "tanh", 5 / 3),
    "ReLU layer": (lambda: _mlp([keras.layers.ReLU()]), "relu", math.sqrt(2)),
    "ReLU layer with slope": (lambda: _mlp([keras.layers.ReLU(negative_slope=0.5)]),
                              "leaky_relu(0.5)", math.sqrt(2 / 1.25)),
    "LeakyReLU layer": (lambda: _mlp([keras.layers.LeakyReLU(0.3)]), "leaky_relu(0.3)",
                        math.sqrt(2 / 1.09)),
    "PReLU at its slope": (lambda: _mlp([keras.layers.PReLU(
        alpha_initializer=keras.initializers.Constant(0.25))]), "leaky_relu(0.25)",
        math.sqrt(2 / 1.0625)),
    "keras.ops.relu": (lambda: _mlp([keras.ops.relu]), "relu", math.sqrt(2)),
    "keras.activations.tanh": (lambda: _mlp([keras.activations.tanh]), "tanh", 5 / 3),
    "norm then relu": (lambda: _mlp([keras.layers.BatchNormalization(), keras.layers.ReLU()]),
                       "relu", math.sqrt(2)),
    "dropout then relu": (lambda: _mlp([keras.layers.Dropout(0.1), keras.ops.relu]),
                          "relu", math.sqrt(2)),
    "relu6 (numeric)": (lambda: _mlp([keras.layers.ReLU(max_value=6.0)]),
                        "relu (capped or thresholded)", 1 / math.sqrt(_relu6_moment())),
    "custom function (numeric)": (lambda: _mlp([keras.layers.Activation(lambda z: 2.0 * z)]),
                                  "<lambda>", 0.5),
    "none": (lambda: _mlp([]), "linear", 1.0),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_kernel_std_is_gain_of_the_activation_over_root_fan_in(case):
    build, name, gain = CASES[case]
    model = build()
    _spoil(model)
    report = ki.auto_init(model, seed=0)
    row = _rows(report)["d"]
    assert row.activation.split(" (gain")[0] == name, row.activation
    layer = model.get_layer("d")
    assert_moments(layer.kernel, gain / math.sqrt(W))
    np.testing.assert_array_equal(to_numpy(layer.bias), 0.0)


def test_find_activation_passes_norms_and_reports_them():
    model = _mlp([keras.layers.BatchNormalization(name="bn"), keras.layers.ReLU(name="r")])
    found = find_activation(model.get_layer("d"), output_chains(model)[id(model.get_layer("d"))])
    assert (found.name, found.via, found.passed) == ("relu", "ReLU layer r",
                                                     ("BatchNormalization bn",))
    assert found.gain == pytest.approx(math.sqrt(2), rel=1e-12)


def test_an_activation_without_a_gain_fails_and_restores_every_weight():
    # "d" is set before "bad" (after "next") is reached: the failure comes half-way.
    x = keras.Input((W,))
    h = keras.layers.Dense(W, activation="relu", name="d")(x)
    h = keras.layers.Dense(W, name="next")(h)
    h = keras.layers.Activation(lambda z: 0.0 * z, name="bad")(h)
    model = keras.Model(x, keras.layers.Dense(3, name="head")(h))
    _spoil(model, 0.5)
    before = [to_numpy(v).copy() for v in model.weights]
    with pytest.raises(ValueError, match="no variance-preserving gain"):
        ki.auto_init(model, seed=0)
    for v, b in zip(model.weights, before):
        np.testing.assert_array_equal(to_numpy(v), b)


def test_conv_fans_and_separable_depthwise_is_linear():
    x = keras.Input((12, 12, 16))
    h = keras.layers.Conv2D(32, 3, padding="same", activation="relu", name="conv")(x)
    h = keras.layers.SeparableConv2D(32, 3, padding="same", activation="tanh", name="sep")(h)
    model = keras.Model(x, keras.layers.Add()([h, h]))
    _spoil(model)
    ki.auto_init(model, seed=0)
    assert_moments(model.get_layer("conv").kernel, math.sqrt(2) / math.sqrt(9 * 16))
    sep = model.get_layer("sep")
    assert_moments(sep.depthwise_kernel, 1 / math.sqrt(9), z=5)  # 9 * 32 = 288 entries
    assert_moments(sep.pointwise_kernel, (5 / 3) / math.sqrt(32))


@pytest.mark.parametrize("known", [True, False])
def test_lstm_gates_orthogonal_recurrent_and_forget_bias(known):
    units, d, steps = 32, 48, 40
    x = keras.Input((steps if known else None, d))
    lstm = keras.layers.LSTM(units, name="lstm")
    model = keras.Model(x, keras.layers.Add()([lstm(x), lstm(x)]))
    _spoil(model)
    report = ki.auto_init(model, seed=0)
    kernel = to_numpy(lstm.cell.kernel).astype(np.float64)
    limit = math.sqrt(6 / (d + units))  # Glorot uniform with one gate's fans
    for g in range(4):
        block = kernel[:, g * units:(g + 1) * units]
        assert_moments(block, limit / math.sqrt(3), dist="uniform")
        assert np.abs(block).max() <= limit
    recurrent = to_numpy(lstm.cell.recurrent_kernel).astype(np.float64)
    for g in range(4):
        q = recurrent[:, g * units:(g + 1) * units]
        np.testing.assert_allclose(q.T @ q, np.eye(units), atol=1e-5)
    bias = to_numpy(lstm.cell.bias).astype(np.float64)
    i, f, c, o = (bias[k * units:(k + 1) * units] for k in range(4))
    np.testing.assert_array_equal(c, 0.0)
    np.testing.assert_array_equal(o, 0.0)
    if known:  # chrono: b_f = log U[1, T - 1], b_i = -b_f
        assert f.min() >= 0.0 and f.max() <= math.log(steps - 1) + 1e-6 and f.std() > 0.3
        np.testing.assert_allclose(i, -f, atol=1e-7)
        assert "chrono (T = 40" in _rows(report)["lstm"].note
    else:
        np.testing.assert_array_equal(f, 1.0)
        np.testing.assert_array_equal(i, 0.0)


@pytest.mark.parametrize("kind", ["gru", "bidirectional_simple_rnn"])
def test_gru_and_wrapped_rnn_cells_get_the_per_gate_rules(kind):
    units, d = 32, 48
    x = keras.Input((None, d))
    if kind == "gru":
        rnn = keras.layers.GRU(units, name="rnn")
        cells, gates = [lambda: rnn.cell], 3
    else:
        rnn = keras.layers.Bidirectional(keras.layers.SimpleRNN(units), name="rnn")
        cells, gates = [lambda: rnn.forward_layer.cell, lambda: rnn.backward_layer.cell], 1
    out = rnn(x)
    model = keras.Model(x, keras.layers.Add()([out, out]))
    _spoil(model)
    ki.auto_init(model, seed=0)
    limit = math.sqrt(6 / (d + units))
    for get in cells:
        cell = get()
        kernel = to_numpy(cell.kernel).astype(np.float64)
        recurrent = to_numpy(cell.recurrent_kernel).astype(np.float64)
        for g in range(gates):
            block = kernel[:, g * units:(g + 1) * units]
            assert_moments(block, limit / math.sqrt(3), dist="uniform")
            q = recurrent[:, g * units:(g + 1) * units]
            np.testing.assert_allclose(q.T @ q, np.eye(units), atol=1e-5)
        np.testing.assert_array_equal(to_numpy(cell.bias), 0.0)


def test_embedding_norm_and_head_rules():
    x = keras.Input((6,), dtype="int32")
    h = keras.layers.Embedding(200, W, name="emb")(x)
    h = keras.layers.LayerNormalization(name="ln")(h)
    h = keras.layers.GlobalAveragePooling1D()(h)
    model = keras.Model(x, keras.layers.Dense(3, activation="softmax", name="head")(h))
    _spoil(model)
    y = np.array([0, 0, 0, 1, 1, 2, 0, 1])  # counts 4, 3, 1
    data = (RNG.integers(0, 200, (8, 6)), y)
    report = ki.auto_init(model, data, seed=0)
    assert_moments(model.get_layer("emb").embeddings, 1.0)
    np.testing.assert_array_equal(to_numpy(model.get_layer("ln").gamma), 1.0)
    np.testing.assert_array_equal(to_numpy(model.get_layer("ln").beta), 0.0)
    head = model.get_layer("head")
    assert_moments(head.kernel, 0.1 / math.sqrt(W), z=6)  # 192 entries
    # Laplace-smoothed frequencies (4 + 1) / 11, (3 + 1) / 11, (1 + 1) / 11.
    np.testing.assert_allclose(to_numpy(head.bias), np.log([5 / 11, 4 / 11, 2 / 11]), rtol=1e-6)
    assert set(report.validation) == {"before", "after"}


@pytest.mark.parametrize("kind", ["sigmoid", "linear"])
def test_head_bias_from_labels(kind):
    x = keras.Input((W,))
    h = keras.layers.Dense(W, activation="relu", name="d")(x)
    model = keras.Model(x, keras.layers.Dense(1, activation=kind, name="head")(h))
    _spoil(model)
    xs = RNG.standard_normal((10, W)).astype("float32")
    y = (np.array([1, 0, 0, 0, 1, 0, 0, 0, 0, 0], "float32") if kind == "sigmoid"
         else np.arange(10, dtype="float32"))
    ki.auto_init(model, (xs, y), seed=0)
    bias = float(to_numpy(model.get_layer("head").bias)[0])
    if kind == "sigmoid":  # p = (2 + 1) / (10 + 2) = 0.25: logit log(1/3)
        assert bias == pytest.approx(math.log(1 / 3), rel=1e-6)
    else:
        assert bias == pytest.approx(4.5, rel=1e-6)


def test_residual_branches_norm_gamma_zero_and_fixup_without_norm():
    x = keras.Input((W,))
    h = keras.layers.Dense(W, activation="relu", name="stem")(x)
    # A branch ending in a norm: its gamma starts at 0.
    b = keras.layers.Dense(W, activation="relu", name="n1")(h)
    b = keras.layers.BatchNormalization(name="bn")(b)
    h = keras.layers.Add()([h, b])
    # A norm inside, a kernel last: that kernel 0, no Fixup scaling.
    b = keras.layers.Dense(W, name="m1")(h)
    b = keras.layers.BatchNormalization(name="mbn")(b)
    b = keras.layers.Dense(W, name="m2")(keras.layers.ReLU()(b))
    h = keras.layers.Add()([h, b])
    # Branches of m = 3 and m = 2 kernel layers without a norm: Fixup, L = 4.
    b = keras.layers.Dense(W, activation="relu", name="f1")(h)
    b = keras.layers.Dense(W, activation="relu", name="f2")(b)
    b = keras.layers.Dense(W, name="f3")(b)
    h = keras.layers.Add()([h, b])
    b = keras.layers.Dense(W, activation="relu", name="g1")(h)
    h = keras.layers.Add()([h, keras.layers.Dense(W, name="g2")(b)])
    model = keras.Model(x, keras.layers.Dense(2, name="head")(h))
    _spoil(model)
    ki.auto_init(model, seed=0)
    np.testing.assert_array_equal(to_numpy(model.get_layer("bn").gamma), 0.0)
    assert_moments(model.get_layer("n1").kernel, math.sqrt(2 / W))
    assert_moments(model.get_layer("m1").kernel, math.sqrt(2 / W))
    np.testing.assert_array_equal(to_numpy(model.get_layer("mbn").gamma), 1.0)
    np.testing.assert_array_equal(to_numpy(model.get_layer("m2").kernel), 0.0)
    factor = 4 ** (-1 / 4)  # L^(-1/(2m-2)), L = 4, m = 3
    for name in ("f1", "f2"):
        assert_moments(model.get_layer(name).kernel, factor * math.sqrt(2 / W))
    assert_moments(model.get_layer("g1").kernel, 0.5 * math.sqrt(2 / W))  # m = 2: L^(-1/2)
    np.testing.assert_array_equal(to_numpy(model.get_layer("g2").kernel), 0.0)
    np.testing.assert_array_equal(to_numpy(model.get_layer("f3").kernel), 0.0)
    np.testing.assert_array_equal(to_numpy(model.get_layer("f3").bias), 0.0)


class _Opaque(keras.layers.Layer):
    """A weighted layer of unknown structure (holds a kernel layer of its own)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.inner = keras.layers.Dense(W, name="inner")

    def build(self, shape):
        self.inner.build(shape)

    def call(self, x):
        return self.inner(x)


def test_a_branch_ending_in_a_layer_of_unknown_structure_is_listed_not_zeroed():
    # Zeroing "d" would not silence the branch: _Opaque's bias still reaches
    # the merge. zero_residual's rule refuses it; auto_init lists the branch.
    x = keras.Input((W,))
    b = keras.layers.Dense(W, activation="relu", name="d")(x)
    model = keras.Model(x, keras.layers.Add()([x, _Opaque(name="opaque")(b)]))
    _spoil(model)
    report = ki.auto_init(model, seed=0)
    assert_moments(model.get_layer("d").kernel, math.sqrt(2 / W))
    (why,) = [why for name, why in report.skipped if name.startswith("block 0")]
    assert why.startswith("not started at zero: the branch ends in layer 'opaque'")


def test_a_branch_with_a_layer_scale_starts_at_zero_through_the_scale():
    x = keras.Input((W,))
    b = keras.layers.Dense(W, activation="relu", name="d1")(x)
    b = keras.layers.Dense(W, name="d2")(b)
    gate = ki.layers.ResidualScale(init=0.5, name="gate")
    model = keras.Model(x, keras.layers.Add()([x, gate(b)]))
    _spoil(model)
    report = ki.auto_init(model, seed=0)
    np.testing.assert_array_equal(to_numpy(graph_scale(gate)), 0.0)
    assert_moments(model.get_layer("d1").kernel, math.sqrt(2 / W))  # no Fixup factor
    assert_moments(model.get_layer("d2").kernel, 1 / math.sqrt(W))  # not zeroed
    assert not [name for name, _ in report.skipped if name.startswith("gate")]


def test_transformer_blocks_go_to_init_transformer():
    d = 64
    x = keras.Input((8, d))
    h = keras.layers.LayerNormalization(name="ln")(x)
    mha = keras.layers.MultiHeadAttention(4, 16, name="mha")
    h = keras.layers.Add()([x, mha(h, h, use_causal_mask=True)])
    model = keras.Model(x, keras.layers.Dense(5, name="head")(h))
    _spoil(model)
    report = ki.auto_init(model, seed=0)
    assert any("init_transformer('xavier')" in n for n in report.notes)
    # Glorot uniform with the query's true fans (64, 4 x 16): std sqrt(2 / 128).
    assert_moments(mha._query_dense.kernel, math.sqrt(2 / 128), dist="uniform")
    assert_moments(model.get_layer("head").kernel, 0.1 / math.sqrt(d), z=6)
    np.testing.assert_array_equal(to_numpy(model.get_layer("ln").gamma), 1.0)


def test_transformer_without_norms_gets_t_fixup():
    x = keras.Input((8, 16))
    h = keras.layers.Add()([x, keras.layers.MultiHeadAttention(2, 8, name="mha")(x, x)])
    model = keras.Model(x, keras.layers.Dense(3, name="head")(h))
    report = ki.auto_init(model, seed=0)
    assert any("init_transformer('t_fixup') (no normalization layers: T-Fixup)" in n
               for n in report.notes)


def test_frozen_and_unknown_weights_are_listed_and_untouched():
    class Scale(keras.layers.Layer):
        def build(self, shape):
            self.s = self.add_weight(shape=(shape[-1],), initializer="ones", name="s")

        def call(self, x):
            return x * self.s

    x = keras.Input((W,))
    h = keras.layers.Dense(W, activation="relu", name="frozen")(x)
    h = Scale(name="scale")(h)
    model = keras.Model(x, keras.layers.Dense(2, name="head")(h))
    _spoil(model)
    model.get_layer("frozen").trainable = False
    report = ki.auto_init(model, seed=0)
    np.testing.assert_array_equal(to_numpy(model.get_layer("frozen").kernel), 3.0)
    np.testing.assert_array_equal(to_numpy(model.get_layer("scale").s), 3.0)
    skipped = dict(report.skipped)
    assert skipped["frozen/kernel"] == "frozen (trainable=False): left alone"
    assert skipped["scale/s"] == "no auto_init rule for Scale.s: left as it was"


def test_seeded_runs_repeat_and_seeds_differ():
    def run(seed):
        model = _mlp([], "relu")
        ki.auto_init(model, seed=seed)
        return to_numpy(model.get_layer("d").kernel)

    np.testing.assert_array_equal(run(1), run(1))
    assert not np.array_equal(run(1), run(2))


def test_validation_measures_every_row_and_refine_lsuv_calibrates_all_but_the_head():
    x = keras.Input((W,))
    h = keras.layers.Dense(W, activation="tanh", name="d0")(x)
    h = keras.layers.Dense(W, activation="tanh", name="d1")(h)
    model = keras.Model(x, keras.layers.Dense(3, activation="softmax", name="head")(h))
    _spoil(model, 0.01)
    xs = (3.0 * RNG.standard_normal((256, W))).astype("float32")
    report = ki.auto_init(model, (xs, RNG.integers(0, 3, 256)), seed=0, refine="lsuv")
    after = report.validation["after"]
    by_name = {s.name: s for s in after.layers}
    rule_rows = [r for r in report.rows if r.step == "auto_init"]
    assert [r.layer for r in rule_rows] == ["d0", "d1", "head"]
    for row in rule_rows:
        assert row.measured == pytest.approx(by_name[row.layer].variance, rel=1e-6)
    lsuv_rows = [r for r in report.rows if r.step == "auto_init(lsuv)"]
    assert sorted(r.layer for r in lsuv_rows) == ["d0", "d1"]
    for name in ("d0", "d1"):  # LSUV measures the pre-activation: variance 1 +- tol 0.1
        pre = keras.Model(model.input, model.get_layer(name).output)
        layer = model.get_layer(name)
        layer.activation = keras.activations.linear
        assert abs(float(np.var(to_numpy(pre(xs)))) - 1.0) <= 0.1
        layer.activation = keras.activations.tanh
    assert after.gradient_ratio is not None  # labels + a softmax head: a loss was chosen
    # to_dict: plain JSON, the validation as findings, gradient ratio and variances.
    import json

    out = report.to_dict()
    assert json.loads(json.dumps(out)) == out
    assert out["validation"]["after"] == {
        "findings": list(after.findings), "gradient_ratio": after.gradient_ratio,
        "variances": {s.name: s.variance for s in after.layers}}
    assert set(out["validation"]) == {"before", "after"}
    assert out["validation"]["before"]["variances"]["d0"] != by_name["d0"].variance


def test_errors_name_the_argument():
    model = _mlp([], "relu")
    with pytest.raises(ValueError, match="refine.*Received: refine='bad'"):
        ki.auto_init(model, refine="bad")
    with pytest.raises(ValueError, match="refine.*needs `data`"):
        ki.auto_init(model, refine="lsuv")
    with pytest.raises(TypeError, match="model"):
        ki.auto_init("model")
    with pytest.raises(TypeError, match="seed"):
        ki.auto_init(model, seed=1.5)
    with pytest.raises(ValueError, match="refine"):
        ki.AutoInitCallback(refine="bad")
    with pytest.raises(ValueError, match="refine.*needs `data`"):
        ki.AutoInitCallback(refine="lsuv")
    with pytest.raises(ValueError, match="is not built"):
        ki.auto_init(keras.Sequential([keras.layers.Dense(2)]))
    with pytest.raises(ValueError, match="empty batch"):
        ki.auto_init(model, np.zeros((0, W), "float32"))
    bad = np.full((4, W), np.nan, dtype="float32")
    before = [to_numpy(v).copy() for v in model.weights]
    with pytest.raises(ValueError, match="NaN"):
        ki.auto_init(model, bad)
    for v, b in zip(model.weights, before):
        np.testing.assert_array_equal(to_numpy(v), b)


def test_callback_runs_once_at_train_begin():
    def build():
        x = keras.Input((W,))
        h = keras.layers.Dense(W, activation="relu", name="d")(x)
        model = keras.Model(x, keras.layers.Dense(2, name="head")(h))
        model.compile(keras.optimizers.SGD(0.0), "mse")  # lr 0: fit keeps what init set
        _spoil(model)
        return model

    model = build()
    xs, ys = RNG.standard_normal((8, W)).astype("float32"), np.zeros((8, 2), "float32")
    callback = ki.AutoInitCallback(seed=3, verbose=0)
    model.fit(xs, ys, epochs=1, verbose=0, callbacks=[callback])
    reference = build()
    ki.auto_init(reference, seed=3)
    for v, r in zip(model.weights, reference.weights):
        np.testing.assert_allclose(to_numpy(v), to_numpy(r), rtol=1e-6, atol=1e-7)
    _spoil(model)
    model.fit(xs, ys, epochs=1, verbose=0, callbacks=[callback])  # not again
    np.testing.assert_array_equal(to_numpy(model.get_layer("d").kernel), 3.0)
    assert len(callback.reports) == 1


# ------------------------------------------------ models we did not write ---

def _applications(name):
    apps = keras.applications
    if name == "mobilenet_v3":
        return apps.MobileNetV3Small(weights=None, input_shape=(32, 32, 3), classes=4,
                                     include_preprocessing=False)
    if name == "resnet50v2":
        return apps.ResNet50V2(weights=None, input_shape=(32, 32, 3), classes=4)
    from tests.test_hub_families import build

    return build(name)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["mobilenet_v3", "resnet50v2", "llama_untied", "vit"])
def test_every_weight_of_a_real_model_is_set_or_listed(name):
    if name in ("llama_untied", "vit"):
        pytest.importorskip("keras_hub")
    model = _applications(name)
    _spoil(model)
    report = ki.auto_init(model, seed=0)
    listed = {path for path, _ in report.skipped}
    untouched = [v.path for v in model.weights if "float" in str(v.dtype) and v.name != "alpha"
                 and np.all(to_numpy(v) == 3.0) and v.path not in listed]
    assert not untouched, untouched
    for v in model.weights:
        assert np.all(np.isfinite(to_numpy(v).astype(np.float64))), v.path
    assert all(why for _, why in report.skipped)


def test_subclassed_model_sees_fused_activations_only_and_no_head():
    class Net(keras.Model):
        def __init__(self):
            super().__init__()
            self.a = keras.layers.Dense(W, activation="relu", name="a")
            self.b = keras.layers.Dense(W, name="b")

        def call(self, x):
            return self.b(keras.ops.tanh(self.a(x)))

    model = Net()
    model(np.zeros((2, W), "float32"))
    _spoil(model)
    report = ki.auto_init(model, seed=0)
    assert_moments(model.a.kernel, math.sqrt(2 / W))
    assert_moments(model.b.kernel, 1 / math.sqrt(W))  # tanh unseen, no head rule
    row = _rows(report)["b"]
    assert row.activation == ("linear (gain 1; none found (no graph: only a fused "
                              "activation is seen))")
