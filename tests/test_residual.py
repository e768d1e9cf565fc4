"""Residual-branch detection and zero_residual modes; ResidualScale / ScalarBias."""

import math
import warnings

import keras
import numpy as np
import pytest

import keras_inits as ki
from keras_inits.graph import residual_branches
from tests.helpers import assert_config_roundtrip, to_numpy  # noqa: F401

RNG = np.random.default_rng(0)


def resnet(blocks=3, width=32, norm=False, functional_add=False, gate=False):
    inp = keras.Input((width,))
    h = keras.layers.Dense(width, name="stem")(inp)
    for i in range(blocks):
        b = keras.layers.Dense(width, activation="relu", name=f"b{i}_in")(h)
        b = keras.layers.Dense(width, name=f"b{i}_out")(b)
        if norm:
            b = keras.layers.LayerNormalization(name=f"b{i}_norm")(b)
        if gate:
            b = ki.layers.ResidualScale(name=f"b{i}_gate")(b)
        h = keras.layers.add([h, b]) if functional_add else keras.layers.Add()([h, b])
    return keras.Model(inp, keras.layers.Dense(10, name="head")(h))


def snapshot(model):
    return {v.path: to_numpy(v).copy() for v in model.weights}


def test_detects_skip_and_branch():
    model = resnet(norm=True, functional_add=True)
    branches, opaque = residual_branches(model)
    assert not opaque
    assert [b.index for b in branches] == [0, 1, 2]
    for i, b in enumerate(branches):
        assert [layer.name for layer in b.layers] == [f"b{i}_in", f"b{i}_out", f"b{i}_norm"]
        assert b.skip_layers == []
        assert b.last_kernel.name == f"b{i}_out" and b.last_norm.name == f"b{i}_norm"
        assert b.ends_in_norm


def test_projection_shortcut_and_order_of_inputs():
    inp = keras.Input((8,))
    h = keras.layers.Dense(8, name="stem")(inp)
    branch = keras.layers.Dense(8, name="a")(h)
    branch = keras.layers.Dense(16, name="b")(branch)
    proj = keras.layers.Dense(16, name="proj")(h)
    out = keras.layers.Add()([branch, proj])  # branch first: still found
    (b,), _ = residual_branches(keras.Model(inp, out))
    assert [layer.name for layer in b.layers] == ["a", "b"]
    assert [layer.name for layer in b.skip_layers] == ["proj"]


def test_nested_functional_block():
    blk_in = keras.Input((8,))
    blk = keras.layers.Dense(8, name="inner")(blk_in)
    block = keras.Model(blk_in, keras.layers.Add()([blk_in, blk]), name="block")
    inp = keras.Input((8,))
    model = keras.Model(inp, keras.layers.Dense(2)(block(block(inp))))
    branches, _ = residual_branches(model)
    assert len(branches) == 1 and branches[0].last_kernel.name == "inner"


class Opaque(keras.layers.Layer):
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
    with pytest.warns(UserWarning, match="no residual"):
        report = ki.zero_residual(model)
    assert report.skipped[0][0] == "opaque" and not report.rows


def test_zero_last_exact_zeros_and_nothing_else_touched():
    model = resnet()
    before = snapshot(model)
    report = ki.zero_residual(model, mode="zero_last")
    changed = {p for p, v in before.items() if not np.array_equal(v, to_numpy([w for w in model.weights if w.path == p][0]))}
    for i in range(3):
        layer = model.get_layer(f"b{i}_out")
        assert not np.any(to_numpy(layer.kernel)) and not np.any(to_numpy(layer.bias))
    assert changed <= {f"b{i}_out/kernel" for i in range(3)} | {f"b{i}_out/bias" for i in range(3)} | {
        p for p in before if p.endswith(("b0_out/kernel", "b1_out/kernel", "b2_out/kernel"))
    }
    assert len(report.rows) == 3


def test_zero_gamma_touches_only_last_norm():
    inp = keras.Input((16,))
    h = inp
    for i in range(2):
        b = keras.layers.Dense(16, name=f"x{i}")(h)
        b = keras.layers.BatchNormalization(name=f"bn{i}a")(b)
        b = keras.layers.Dense(16, name=f"y{i}")(b)
        b = keras.layers.BatchNormalization(name=f"bn{i}b")(b)
        h = keras.layers.Add()([h, b])
    model = keras.Model(inp, h)
    before = {v.path: to_numpy(v).copy() for v in model.weights}
    ki.zero_residual(model, mode="zero_gamma")
    for v in model.weights:
        if v.path.endswith(("bn0b/gamma", "bn1b/gamma")):
            assert not np.any(to_numpy(v))
        else:
            np.testing.assert_array_equal(before[v.path], to_numpy(v))


def test_auto_picks_per_branch():
    inp = keras.Input((8,))
    a = keras.layers.LayerNormalization(name="n0")(keras.layers.Dense(8, name="k0")(inp))
    h = keras.layers.Add()([inp, a])
    b = keras.layers.Dense(8, name="k1")(h)
    h = keras.layers.Add()([h, b])
    report = ki.zero_residual(keras.Model(inp, h))
    assert [(r.layer, r.action) for r in report.rows] == [("n0", "gamma = 0"), ("k1", "kernel = 0")]


def test_zero_gamma_without_norm_names_the_block():
    model = resnet()
    before = snapshot(model)
    with pytest.raises(ValueError, match="block 0"):
        ki.zero_residual(model, mode="zero_gamma")
    for v in model.weights:
        np.testing.assert_array_equal(before[v.path], to_numpy(v))


def test_fixup_factor_as_ratio_of_stds_and_zeros():
    width, blocks = 128, 16  # m = 2 kernels per branch: factor L^(-1/2)
    model = resnet(blocks=blocks, width=width)
    report = ki.zero_residual(model, mode="fixup", seed=0)
    factor = blocks ** (-1.0 / (2 * 2 - 2))
    he_std = math.sqrt(2.0 / width)
    n = width * width
    for i in range(blocks):
        k = to_numpy(model.get_layer(f"b{i}_in").kernel)
        # std of a normal sample: standard error std / sqrt(2n); 5 SE tolerance.
        assert abs(k.std() - factor * he_std) <= 5 * factor * he_std / math.sqrt(2 * n)
        assert not np.any(to_numpy(model.get_layer(f"b{i}_out").kernel))
    assert not np.any(to_numpy(model.get_layer("head").kernel))
    assert not np.any(to_numpy(model.get_layer("head").bias))
    assert any("L = 16" in n for n in report.notes)


def test_fixup_deterministic_with_seed():
    a, b = resnet(), resnet()
    ki.zero_residual(a, mode="fixup", seed=3)
    ki.zero_residual(b, mode="fixup", seed=3)
    for va, vb in zip(a.weights, b.weights):
        if "stem" not in va.path:
            np.testing.assert_array_equal(to_numpy(va), to_numpy(vb))


def test_zero_residual_starts_at_identity():
    """With zeroed branches the trunk output equals the stem's output."""
    model = resnet(blocks=32, width=16)
    x = RNG.standard_normal((64, 16)).astype("float32")
    stem = keras.Model(model.inputs[0], model.get_layer("stem").output)
    trunk = keras.Model(model.inputs[0], model.get_layer("head").input)
    default_ratio = np.var(to_numpy(trunk(x))) / np.var(to_numpy(stem(x)))
    ki.zero_residual(model, mode="zero_last")
    np.testing.assert_allclose(to_numpy(trunk(x)), to_numpy(stem(x)), rtol=1e-6, atol=1e-6)
    assert default_ratio > 100  # Keras defaults: the signal grows block after block


def test_no_branches_warns_with_empty_report():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(4)])
    with pytest.warns(UserWarning, match="no residual"):
        report = ki.zero_residual(model)
    assert len(report) == 0


def test_bad_mode_and_unbuilt():
    with pytest.raises(ValueError, match="Received: mode=zero"):
        ki.zero_residual(resnet(), mode="zero")
    unbuilt = keras.Sequential([keras.layers.Dense(4)])
    with pytest.raises(ValueError, match="not built"):
        ki.zero_residual(unbuilt)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        assert len(ki.zero_residual(unbuilt, data=RNG.standard_normal((2, 3)).astype("float32"))) == 0


def test_callback_runs_once_and_zeroes_before_first_batch():
    model = resnet()
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    seen = []

    class Probe(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            if batch == 0:
                seen.append(to_numpy(model.get_layer("b0_out").kernel).copy())

    x = RNG.standard_normal((32, 32)).astype("float32")
    cb = ki.ZeroResidualCallback("zero_last", verbose=0)
    model.fit(x, RNG.integers(0, 10, 32), epochs=1, verbose=0, callbacks=[cb, Probe()])
    assert not np.any(seen[0]) and len(cb.reports) == 1


def test_residual_scale_gate():
    layer = ki.layers.ResidualScale()
    x = RNG.standard_normal((3, 5)).astype("float32")
    assert not np.any(to_numpy(layer(x)))
    gate = ki.layers.ResidualScale(init=0.5)
    np.testing.assert_allclose(to_numpy(gate(x)), 0.5 * x, rtol=1e-6)
    assert len(gate.trainable_weights) == 1 and gate.trainable_weights[0].shape == ()
    bias = ki.layers.ScalarBias(init=2.0)
    np.testing.assert_allclose(to_numpy(bias(x)), x + 2.0, rtol=1e-6)


def test_residual_scale_serialization(tmp_path):
    model = resnet(blocks=2, width=8, gate=True)
    model.get_layer("b0_gate").alpha.assign(0.25)
    x = RNG.standard_normal((4, 8)).astype("float32")
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(to_numpy(loaded(x)), to_numpy(model(x)), rtol=1e-6)
    assert keras.saving.get_registered_name(ki.layers.ResidualScale) == "keras_inits>ResidualScale"
    with pytest.raises(ValueError, match="init"):
        ki.layers.ResidualScale(init=float("inf"))
