"""Residual-branch detection, zero_residual modes, ZeroResidualCallback,
ResidualScale / ScalarBias.

Expected values come from the papers' formulas written out here (Fixup's
L^(-1/(2m-2)), He's sqrt(2/fan_in)) or from exact structure (zeros, bitwise
unchanged weights, the identity map), never from the code under test.
"""

import inspect
import math
import sys
import warnings

import keras
import numpy as np
import pytest

import keras_inits as ki
from keras_inits.graph import residual_branches
from tests.helpers import KURTOSIS, Z, assert_moments, to_numpy

RNG = np.random.default_rng(0)


def resnet(blocks=3, width=32, norm=None, merge="Add", gate=False, branch_depth=2,
           kernel_initializer="glorot_uniform", named=True):
    """stem -> `blocks` x [h + f(h)] -> head, f = Dense(relu) x (depth-1) -> Dense [-> norm]."""
    def name(s):
        return s if named else None

    inp = keras.Input((width,))
    h = keras.layers.Dense(width, name=name("stem"))(inp)
    for i in range(blocks):
        b = h
        for j in range(branch_depth):
            last = j == branch_depth - 1
            b = keras.layers.Dense(
                width, activation=None if last else "relu", kernel_initializer=kernel_initializer,
                name=name(f"b{i}_out" if last else f"b{i}_in{j}"),
            )(b)
        if norm is not None:
            b = norm(name=name(f"b{i}_norm"))(b)
        if gate:
            b = ki.layers.ResidualScale(name=name(f"b{i}_gate"))(b)
        if merge == "Add":
            h = keras.layers.Add(name=name(f"b{i}_add"))([h, b])
        elif merge == "add":
            h = keras.layers.add([h, b])
        else:  # the `+` operator on Keras tensors
            h = h + b
    return keras.Model(inp, keras.layers.Dense(10, name=name("head"))(h))


def snapshot(model):
    return {v.path: to_numpy(v).copy() for v in model.weights}


def changed(model, before):
    return {v.path for v in model.weights if not np.array_equal(before[v.path], to_numpy(v))}


def assert_unchanged(model, before):
    assert changed(model, before) == set()


# --- detection ---------------------------------------------------------------


@pytest.mark.parametrize("merge", ["Add", "add", "+"])
def test_detects_skip_and_branch(merge):
    model = resnet(norm=keras.layers.LayerNormalization, merge=merge)
    branches, opaque = residual_branches(model)
    assert opaque == []
    assert [b.index for b in branches] == [0, 1, 2]
    for i, b in enumerate(branches):
        assert [layer.name for layer in b.layers] == [f"b{i}_in0", f"b{i}_out", f"b{i}_norm"]
        assert (b.skip_input, b.branch_input) == (0, 1) and b.skip_layers == []
        assert b.last_kernel.name == f"b{i}_out" and b.last_norm.name == f"b{i}_norm"
        assert b.ends_in_norm


def test_projection_shortcut_branch_first():
    inp = keras.Input((8,))
    h = keras.layers.Dense(8, name="stem")(inp)
    branch = keras.layers.Dense(16, name="b")(keras.layers.Dense(8, name="a")(h))
    proj = keras.layers.Dense(16, name="proj")(h)
    (b,), opaque = residual_branches(keras.Model(inp, keras.layers.Add()([branch, proj])))
    assert opaque == []
    assert (b.skip_input, b.branch_input) == (1, 0)
    assert [layer.name for layer in b.layers] == ["a", "b"]
    assert [layer.name for layer in b.skip_layers] == ["proj"]


class PositionTable(keras.layers.Layer):
    """A learned table broadcast over the batch: weights, but no kernel."""

    def build(self, shape):
        self.table = self.add_weight(shape=shape[1:], initializer="random_normal")

    def call(self, x):
        return keras.ops.zeros_like(x) + self.table


def test_side_inputs_and_non_residual_adds():
    """An attention mask feeding a branch is not part of it; a position
    embedding added to its own input is not a block; two parallel Dense
    layers merged by Add are ambiguous and reported, never guessed."""
    tokens = keras.Input((6, 16))
    mask_in = keras.Input((6, 6))
    mask = keras.layers.Dense(6, name="mask_proj")(mask_in)
    h = keras.layers.Add(name="embed_add")([tokens, PositionTable(name="pos")(tokens)])
    att = keras.layers.MultiHeadAttention(2, 8, name="mha")(h, h, attention_mask=mask)
    h = keras.layers.Add(name="att_add")([h, att])
    par = keras.layers.Add(name="par")([keras.layers.Dense(16, name="p1")(h),
                                        keras.layers.Dense(16, name="p2")(h)])
    branches, opaque = residual_branches(keras.Model([tokens, mask_in], par))
    names = {b.merge.name: b for b in branches}
    assert "mask_proj" not in [layer.name for b in branches for layer in b.layers]
    assert [layer.name for layer in names["att_add"].layers] == ["mha"]
    assert names["att_add"].last_kernel is names["att_add"].layers[0]._output_dense
    assert [name for name, _ in opaque] == ["par"] and "par" not in names
    assert "embed_add" not in names


def test_nested_functional_blocks():
    blk_in = keras.Input((8,))
    block = keras.Model(
        blk_in, keras.layers.Add()([blk_in, keras.layers.Dense(8, name="inner")(blk_in)]),
        name="block",
    )
    branch = keras.Sequential(
        [keras.Input((8,)), keras.layers.Dense(8, name="s1"), keras.layers.Dense(8, name="s2")],
        name="seq_branch",
    )
    inp = keras.Input((8,))
    h = block(block(inp))  # one block used twice: one set of weights, analysed once
    h = keras.layers.Add(name="outer")([h, branch(h)])
    branches, opaque = residual_branches(keras.Model(inp, keras.layers.Dense(2)(h)))
    assert opaque == []
    assert [b.last_kernel.name for b in branches] == ["inner", "s2"]
    assert branches[0].scope == "block" and [b.index for b in branches] == [0, 1]
    assert [layer.name for layer in branches[1].layers] == ["s1", "s2"]
    # A Sequential model made of functional blocks.
    seq = keras.Sequential([keras.Input((8,)), block, keras.layers.Dense(2)])
    (b,), _ = residual_branches(seq)
    assert b.last_kernel.name == "inner"


class Opaque(keras.layers.Layer):
    """A subclassed block hiding a residual connection."""

    def __init__(self, **kw):
        super().__init__(**kw)
        self.d = keras.layers.Dense(8)

    def call(self, x):
        return x + self.d(x)


def test_subclassed_block_reported_not_guessed():
    inp = keras.Input((8,))
    model = keras.Model(inp, Opaque(name="opaque")(inp))
    branches, opaque = residual_branches(model)
    assert branches == [] and opaque[0][0] == "opaque"
    before = snapshot(model)
    with pytest.warns(UserWarning, match="no residual"):
        report = ki.zero_residual(model)
    assert report.skipped[0][0] == "opaque" and len(report) == 0
    assert_unchanged(model, before)


def test_keras_hub_encoder_reported_not_guessed():
    keras_hub = pytest.importorskip("keras_hub")
    inp = keras.Input((4, 16))
    h = keras_hub.layers.TransformerEncoder(32, 2, name="enc")(inp)
    h = keras.layers.Add()([h, keras.layers.Dense(16, name="d")(h)])
    branches, opaque = residual_branches(keras.Model(inp, h))
    assert [b.last_kernel.name for b in branches] == ["d"]
    assert [name for name, _ in opaque] == ["enc"] and "TransformerEncoder" in opaque[0][1]


def test_deep_graph_without_recursion():
    """Detection is iterative: a graph with ~300 nodes under a recursion
    limit only a little above the current stack depth."""
    model = resnet(blocks=100, width=4)
    depth = len(inspect.stack(0))
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(depth + 120)
    try:
        branches, _ = residual_branches(model)
    finally:
        sys.setrecursionlimit(limit)
    assert len(branches) == 100 and branches[-1].last_kernel.name == "b99_out"


def test_subclassed_model_is_not_analysable():
    class Net(keras.Model):
        def __init__(self):
            super().__init__()
            self.d = keras.layers.Dense(4)

        def call(self, x):
            return x + self.d(x)

    net = Net()
    net(np.zeros((1, 4), "float32"))
    assert residual_branches(net) == ([], [(net.name, "subclassed model: no layer graph to analyse")])


# --- modes -------------------------------------------------------------------


def test_zero_last_exact_zeros_and_nothing_else_touched():
    model = resnet()
    before = snapshot(model)
    report = ki.zero_residual(model, mode="zero_last")
    for i in range(3):
        layer = model.get_layer(f"b{i}_out")
        assert not np.any(to_numpy(layer.kernel)) and not np.any(to_numpy(layer.bias))
    # bias was already 0; only the kernels had to change
    assert changed(model, before) == {f"b{i}_out/kernel" for i in range(3)}
    assert [r.layer for r in report.rows] == ["b0_out", "b1_out", "b2_out"]
    assert all("block" in r.note for r in report.rows)


@pytest.mark.parametrize("norm", [keras.layers.BatchNormalization, keras.layers.RMSNormalization])
def test_zero_gamma_touches_only_last_norm(norm):
    inp = keras.Input((16,))
    h = inp
    for i in range(2):
        b = norm(name=f"n{i}a")(keras.layers.Dense(16, name=f"x{i}")(h))
        b = norm(name=f"n{i}b")(keras.layers.Dense(16, name=f"y{i}")(b))
        h = keras.layers.Add()([h, b])
    model = keras.Model(inp, h)
    before = snapshot(model)
    ki.zero_residual(model, mode="zero_gamma")
    scale = "scale" if norm is keras.layers.RMSNormalization else "gamma"
    assert changed(model, before) == {f"n0b/{scale}", f"n1b/{scale}"}
    for i in range(2):
        assert not np.any(to_numpy(model.get_layer(f"n{i}b").weights[0]))


def test_auto_picks_per_branch():
    inp = keras.Input((8,))
    a = keras.layers.LayerNormalization(name="n0")(keras.layers.Dense(8, name="k0")(inp))
    h = keras.layers.Add()([inp, a])
    h = keras.layers.Add()([h, keras.layers.Dense(8, name="k1")(h)])
    report = ki.zero_residual(keras.Model(inp, h))
    assert [(r.layer, r.action) for r in report.rows] == [("n0", "gamma = 0"), ("k1", "kernel = 0")]


def test_attention_block_starts_as_identity():
    inp = keras.Input((5, 16))
    h = keras.layers.Add()([inp, keras.layers.MultiHeadAttention(2, 8, name="mha")(inp, inp)])
    model = keras.Model(inp, h)
    ki.zero_residual(model, mode="zero_last")
    x = RNG.standard_normal((3, 5, 16)).astype("float32")
    np.testing.assert_array_equal(to_numpy(model(x)), x)


def fixup_factor(L, m):
    # Zhang, Dauphin & Ma 2019, section 3: scale branch layers by L^(-1/(2m-2)).
    return L ** (-1.0 / (2 * m - 2))


# L = 16 branches, by hand: m = 2 kernels per branch: 16^(-1/2) = 1/4;
# m = 3: 16^(-1/4) = 1/2. Exponents -1/(2m-1), -1/m, -1/(2m) would give 0.397,
# 0.25, 0.5 at m = 2 and 0.574, 0.397, 0.630 at m = 3: m = 3 tells each apart.
FIXUP_BY_HAND = {2: 0.25, 3: 0.5}


@pytest.mark.parametrize("m", [2, 3])
def test_fixup_factor_as_ratio_of_stds(m):
    """Branch kernels start He normal (Keras' truncated he_normal, std
    sqrt(2/fan_in)); after fixup std_after / std_before = L^(-1/(2m-2))
    within 5 standard errors of the ratio, and the pooled std of the scaled
    kernels is the factor (by hand) times He's sqrt(2/64)."""
    width, blocks = 64, 16
    model = resnet(blocks=blocks, width=width, branch_depth=m, kernel_initializer="he_normal")
    before = snapshot(model)
    report = ki.zero_residual(model, mode="fixup", seed=0)
    n = width * width
    # relative standard error of a sample std: sqrt((kurtosis - 1) / n) / 2
    rel_se = math.hypot(math.sqrt((KURTOSIS["truncated_normal"] - 1) / n) / 2,
                        math.sqrt((KURTOSIS["normal"] - 1) / n) / 2)
    expected = FIXUP_BY_HAND[m]
    assert fixup_factor(blocks, m) == pytest.approx(expected)  # the hand value is the formula's
    scaled = []
    for i in range(blocks):
        for j in range(m - 1):
            path = f"b{i}_in{j}/kernel"
            kernel = to_numpy(model.get_layer(f"b{i}_in{j}").kernel)
            scaled.append(kernel.ravel())
            ratio = kernel.std() / before[path].std()
            assert abs(ratio / expected - 1) <= Z * rel_se, (path, ratio, expected)
            assert not np.any(to_numpy(model.get_layer(f"b{i}_in{j}").bias))
        assert not np.any(to_numpy(model.get_layer(f"b{i}_out").kernel))
    # Fixup draws an untruncated He normal: std = factor * sqrt(2 / fan_in).
    assert_moments(np.concatenate(scaled), expected * math.sqrt(2.0 / width))
    assert not np.any(to_numpy(model.get_layer("head").kernel))
    assert not np.any(to_numpy(model.get_layer("head").bias))
    assert np.array_equal(before["stem/kernel"], to_numpy(model.get_layer("stem").kernel))
    assert any("L = 16" in note for note in report.notes)


def test_fixup_uses_true_conv_fans():
    c, blocks = 16, 4
    inp = keras.Input((6, 6, c))
    h = inp
    for i in range(blocks):
        b = keras.layers.Conv2D(c, 3, padding="same", activation="relu", name=f"c{i}a")(h)
        b = keras.layers.Conv2D(c, 3, padding="same", name=f"c{i}b")(b)
        h = keras.layers.Add()([h, b])
    model = keras.Model(inp, h)
    ki.zero_residual(model, mode="fixup", seed=1)
    std = fixup_factor(blocks, 2) * math.sqrt(2.0 / (9 * c))  # He: fan_in = 3*3*c
    values = np.concatenate([to_numpy(model.get_layer(f"c{i}a").kernel).ravel() for i in range(blocks)])
    se = std / math.sqrt(2 * values.size)  # standard error of a normal sample's std
    assert abs(values.std() - std) <= Z * se


def test_fixup_seeds_stable_and_distinct():
    a, b = resnet(named=False), resnet(named=False)  # auto names differ between the two
    ki.zero_residual(a, mode="fixup", seed=3)
    ki.zero_residual(b, mode="fixup", seed=3)
    kernels = []
    for va, vb in zip(a.weights, b.weights):
        if va.path != a.weights[0].path:  # the stem keeps its own random init
            np.testing.assert_array_equal(to_numpy(va), to_numpy(vb))
        if "kernel" in va.path and np.any(to_numpy(va)):
            kernels.append(to_numpy(va))
    scaled = kernels[1:]  # stem excluded: the three branch-input kernels
    assert len(scaled) == 3
    assert not any(np.array_equal(x, y) for i, x in enumerate(scaled) for y in scaled[i + 1:])


def test_zero_head_option_and_model_ending_in_a_block():
    model = resnet()
    head = to_numpy(model.get_layer("head").kernel).copy()
    ki.zero_residual(model, mode="fixup", zero_head=False, seed=0)
    np.testing.assert_array_equal(to_numpy(model.get_layer("head").kernel), head)
    ki.zero_residual(model, mode="zero_last", zero_head=True)
    assert not np.any(to_numpy(model.get_layer("head").kernel))
    inp = keras.Input((4,))
    no_head = keras.Model(inp, keras.layers.Add()([inp, keras.layers.Dense(4)(inp)]))
    report = ki.zero_residual(no_head, mode="fixup")
    assert any("no kernel layer after the last residual block" in n for n in report.notes)


def test_zero_residual_starts_at_identity_and_loss_drops():
    """32 blocks, width 16: with Keras defaults each block adds its own
    variance and the initial loss is huge; zeroed branches make the trunk the
    identity (output == stem output exactly) and the loss ordinary."""
    x = RNG.standard_normal((128, 16)).astype("float32")
    y = RNG.integers(0, 10, 128)
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    losses = {}
    for mode in (None, "zero_last", "fixup"):
        keras.utils.set_random_seed(0)
        model = resnet(blocks=32, width=16)
        stem = keras.Model(model.inputs[0], model.get_layer("stem").output)
        trunk = keras.Model(model.inputs[0], model.get_layer("head").input)
        ratio = np.var(to_numpy(trunk(x))) / np.var(to_numpy(stem(x)))
        if mode is None:
            assert ratio > 100
        else:
            ki.zero_residual(model, mode=mode, seed=0)
            np.testing.assert_array_equal(to_numpy(trunk(x)), to_numpy(stem(x)))
        losses[mode] = float(to_numpy(loss(y, model(x))))
    assert losses[None] > 10 * losses["zero_last"]
    assert losses["fixup"] == pytest.approx(math.log(10), rel=1e-6)  # zero head: uniform softmax


# --- bad input and failure -----------------------------------------------------


def test_no_branches_warns_with_empty_report():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(4)])
    with pytest.warns(UserWarning, match="no residual"):
        report = ki.zero_residual(model)
    assert len(report) == 0


def test_bad_arguments():
    model = resnet()
    with pytest.raises(ValueError, match="Received: mode=zero"):
        ki.zero_residual(model, mode="zero")
    with pytest.raises(TypeError, match="zero_head='yes'"):
        ki.zero_residual(model, zero_head="yes")
    with pytest.raises(TypeError, match="seed=1.5"):
        ki.zero_residual(model, seed=1.5)
    with pytest.raises(TypeError, match="keras.Model"):
        ki.zero_residual(keras.layers.Dense(3))


def test_unbuilt_model_and_bad_data():
    unbuilt = keras.Sequential([keras.layers.Dense(4)])
    with pytest.raises(ValueError, match="not built"):
        ki.zero_residual(unbuilt)
    bad = np.full((2, 3), np.nan, "float32")
    with pytest.raises(ValueError, match="NaN"):
        ki.zero_residual(unbuilt, data=bad)
    with pytest.raises(ValueError, match="empty"):
        ki.zero_residual(unbuilt, data=np.zeros((0, 3), "float32"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the built model has no branch
        assert len(ki.zero_residual(unbuilt, data=RNG.standard_normal((2, 3)).astype("float32"))) == 0
    assert unbuilt.built


def test_zero_gamma_without_norm_names_the_block_and_restores():
    model = resnet()
    model.get_layer("b0_out").bias.assign(np.ones(32, "float32"))
    before = snapshot(model)
    with pytest.raises(ValueError, match="block 0"):
        ki.zero_residual(model, mode="zero_gamma")
    assert_unchanged(model, before)


def test_failure_on_a_later_block_restores_earlier_ones():
    inp = keras.Input((8,))
    h = keras.layers.Add()([inp, keras.layers.Dense(8, name="ok")(inp)])
    h = keras.layers.Add(name="bad_add")([h, Opaque(name="op")(keras.layers.Dense(8, name="k")(h))])
    model = keras.Model(inp, h)
    before = snapshot(model)
    with pytest.raises(ValueError, match=r"block 1 \(bad_add.*'op'"):
        ki.zero_residual(model, mode="zero_last")
    assert_unchanged(model, before)
    with pytest.raises(ValueError, match="block 1"):
        ki.zero_residual(model, mode="fixup")
    assert_unchanged(model, before)


# --- callback ----------------------------------------------------------------


class KernelAtFirstBatch(keras.callbacks.Callback):
    def __init__(self, name):
        super().__init__()
        self.name, self.seen = name, []

    def on_train_batch_begin(self, batch, logs=None):
        if batch == 0:
            self.seen.append(to_numpy(self.model.get_layer(self.name).kernel).copy())


def compiled(model):
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def test_callback_runs_once_per_model():
    model = compiled(resnet(blocks=2, width=8))
    x, y = RNG.standard_normal((32, 8)).astype("float32"), RNG.integers(0, 10, 32)
    cb, probe = ki.ZeroResidualCallback("zero_last", verbose=0), KernelAtFirstBatch("b0_out")
    model.fit(x, y, epochs=1, verbose=0, callbacks=[cb, probe])
    model.fit(x, y, epochs=1, verbose=0, callbacks=[cb, probe])
    assert not np.any(probe.seen[0])  # zeroed before the first batch
    assert np.any(probe.seen[1])  # the second fit starts from trained weights
    assert len(cb.reports) == 1 and len(cb.reports[0]) == 2


def test_callback_failure_restores_and_names_the_block():
    model = compiled(resnet(blocks=2, width=8))
    model.get_layer("b1_out").bias.assign(np.ones(8, "float32"))
    before = snapshot(model)
    x, y = RNG.standard_normal((16, 8)).astype("float32"), RNG.integers(0, 10, 16)
    with pytest.raises(ValueError, match="block 0"):
        model.fit(x, y, epochs=1, verbose=0, callbacks=[ki.ZeroResidualCallback("zero_gamma", verbose=0)])
    assert_unchanged(model, before)


# --- layers ------------------------------------------------------------------


def test_residual_scale_gate_and_gradient():
    x = RNG.standard_normal((3, 5)).astype("float32")
    layer = ki.layers.ResidualScale()
    np.testing.assert_array_equal(to_numpy(layer(x)), np.zeros_like(x))
    gate = ki.layers.ResidualScale(init=0.5)
    np.testing.assert_allclose(to_numpy(gate(x)), 0.5 * x, rtol=1e-6)
    assert [w.shape for w in gate.trainable_weights] == [()]
    bias = ki.layers.ScalarBias(init=2.0)
    np.testing.assert_allclose(to_numpy(bias(x)), x + 2.0, rtol=1e-6)
    # the gate learns: d(sum(alpha * x * x))/d alpha = sum(x^2) at alpha = 0
    model = keras.Sequential([keras.Input((5,)), ki.layers.ResidualScale(name="g")])
    model.compile(keras.optimizers.SGD(0.1), "mse")
    model.fit(x, x, epochs=1, batch_size=3, verbose=0)
    # one SGD step on mean((alpha x - x)^2): alpha = 0.1 * 2 * mean(x^2)
    np.testing.assert_allclose(to_numpy(model.get_layer("g").alpha), 0.2 * np.mean(x**2), rtol=1e-5)


def test_residual_scale_config_roundtrip_and_mixed_precision():
    gate = ki.layers.ResidualScale(init=0.25, name="g")
    config = gate.get_config()
    assert config["init"] == 0.25
    clone = ki.layers.ResidualScale.from_config(config)
    x = RNG.standard_normal((2, 4)).astype("float32")
    np.testing.assert_array_equal(to_numpy(clone(x)), to_numpy(gate(x)))
    restored = keras.layers.deserialize(keras.layers.serialize(gate))
    assert type(restored) is ki.layers.ResidualScale and restored.init == 0.25
    assert keras.saving.get_registered_name(ki.layers.ResidualScale) == "keras_inits>ResidualScale"
    mixed = ki.layers.ResidualScale(init=0.5, dtype="mixed_float16")
    out = mixed(x)
    assert keras.backend.standardize_dtype(out.dtype) == "float16"
    assert mixed.alpha.dtype == "float32"
    for bad, err in ((float("inf"), ValueError), ("0", TypeError), (True, TypeError)):
        with pytest.raises(err, match="init"):
            ki.layers.ResidualScale(init=bad)


def test_residual_scale_save_load(tmp_path):
    model = resnet(blocks=2, width=8, gate=True)
    model.get_layer("b0_gate").alpha.assign(0.25)
    model.get_layer("b0_out").kernel.assign(RNG.standard_normal((8, 8)).astype("float32"))
    x = RNG.standard_normal((4, 8)).astype("float32")
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    assert float(to_numpy(loaded.get_layer("b0_gate").alpha)) == 0.25
    np.testing.assert_allclose(to_numpy(loaded(x)), to_numpy(model(x)), rtol=1e-6)
    # a gated branch is still found, and zero_last still silences it
    (b0, b1), _ = residual_branches(loaded)
    assert b0.last_kernel.name == "b0_out" and b0.tail[0].name == "b0_gate"
