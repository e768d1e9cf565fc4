"""Tests that kill mutants of keras_inits/residual.py (benchmarks/mutation_score.py).

Each checks a value derived by hand or from the paper (Fixup's
L^(-1/(2m-2))), or the documented report contents, not with the module's
own formula. Models are tiny (width 4).
"""

import keras
import numpy as np
import pytest

import keras_inits as ki
from keras_inits.residual import fixup_factor
from tests.helpers import to_numpy

W = 4


@pytest.mark.parametrize(
    "num_branches,depth,expected",
    [(16, 2, 0.25),  # L^(-1/2)
     (16, 3, 0.5),  # L^(-1/4)
     (64, 4, 0.5),  # L^(-1/6)
     (16, 1, 1.0)],  # one kernel: zeroed, nothing scaled
)
def test_fixup_factor_from_the_paper(num_branches, depth, expected):
    # Zhang, Dauphin & Ma 2019: scale the branch kernels by L^(-1/(2m-2)).
    assert fixup_factor(num_branches, depth) == pytest.approx(expected, rel=1e-12)


def _norm_block(scale=True):
    inp = keras.Input((W,))
    b = keras.layers.Dense(W, name="d")(inp)
    b = keras.layers.LayerNormalization(scale=scale, name="ln")(b)
    return keras.Model(inp, keras.layers.Add(name="add")([inp, b]))


def test_zero_gamma_report_row():
    model = _norm_block()
    gamma = model.get_layer("ln").gamma
    values = np.array([0.5, 1.0, 1.5, 2.0], dtype="float32")
    gamma.assign(values)
    report = ki.zero_residual(model, "zero_gamma")
    (row,) = report.rows
    assert row.layer == "ln" and row.action == "gamma = 0" and row.stat == "gamma std"
    assert row.before == pytest.approx(float(np.std(values)))  # sqrt(1.25 / 4)
    assert row.after == 0.0
    assert row.note  # the block's name
    assert not to_numpy(gamma).any()


def test_zero_gamma_without_gamma_says_why():
    with pytest.raises(ValueError, match="normalization layer 'ln' has no scale"):
        ki.zero_residual(_norm_block(scale=False), "zero_gamma")


def test_gate_and_bias_weights_are_named_and_scalar():
    gate, bias = ki.layers.ResidualScale(0.5), ki.layers.ScalarBias(0.25)
    y = bias(gate(keras.ops.ones((2, W))))
    assert gate.alpha.name == "alpha" and tuple(gate.alpha.shape) == ()
    assert bias.bias.name == "bias" and tuple(bias.bias.shape) == ()
    np.testing.assert_allclose(to_numpy(y), np.full((2, W), 0.75))


def test_gate_and_bias_keep_a_mixed_precision_compute_dtype():
    # Variables in float32, computation (and output) in float16.
    x = keras.ops.ones((2, W), dtype="float16")
    for layer in (ki.layers.ResidualScale(1.0, dtype="mixed_float16"),
                  ki.layers.ScalarBias(1.0, dtype="mixed_float16")):
        assert keras.backend.standardize_dtype(layer(x).dtype) == "float16"


def test_zero_scale_report_rows_scalar_and_vector():
    from keras.src.applications.convnext import LayerScale

    inp = keras.Input((W,))
    b0 = keras.layers.Dense(W, name="d0")(inp)
    h = keras.layers.Add()([inp, ki.layers.ResidualScale(-0.5, name="gate")(b0)])
    b1 = keras.layers.Dense(W, name="d1")(h)
    vector = LayerScale(1.0, W, name="ls")
    h = keras.layers.Add()([h, vector(b1)])
    model = keras.Model(inp, h)
    values = np.array([0.1, 0.2, 0.3, 0.6], dtype="float32")
    vector.gamma.assign(values)
    report = ki.zero_residual(model)
    rows = {r.layer: r for r in report.rows}
    assert set(rows) == {"gate", "ls"}
    for row in rows.values():
        assert row.action == "layer scale = 0" and row.stat == "scale std"
        assert row.after == 0.0 and row.note
    assert rows["gate"].before == pytest.approx(0.5)  # |alpha| of a scalar gate
    assert rows["ls"].before == pytest.approx(float(np.std(values)))
    assert float(to_numpy(model.get_layer("gate").alpha)) == 0.0
    assert not to_numpy(vector.gamma).any()


# ------------------------------------------------------------ zero_head ---

def _hub_model(head_after=True, proj_before=True):
    keras_hub = pytest.importorskip("keras_hub")
    x = keras.Input((3, 8))
    h = keras.layers.Dense(8, name="proj")(x) if proj_before else x
    h = keras_hub.layers.TransformerEncoder(intermediate_dim=16, num_heads=2, name="enc")(h)
    if head_after:
        h = keras.layers.Activation("softmax")(keras.layers.Dense(5, name="head")(h))
    return keras.Model(x, h)


def test_zero_head_after_role_found_blocks_only():
    # The head is the last kernel layer after every block; the input
    # projection before the keras_hub block is not a head.
    model = _hub_model()
    report = ki.zero_residual(model, "zero_last", zero_head=True)
    assert np.any(to_numpy(model.get_layer("proj").kernel))
    assert not to_numpy(model.get_layer("head").kernel).any()
    (row,) = [r for r in report.rows if r.layer == "head"]
    assert (row.action, row.note, row.after) == ("head kernel = 0", "output head", 0.0)


def test_zero_head_without_a_head_after_the_blocks_says_so():
    model = _hub_model(head_after=False)
    report = ki.zero_residual(model, "zero_last", zero_head=True)
    assert np.any(to_numpy(model.get_layer("proj").kernel))
    assert "zero_head: no kernel layer after the last residual block." in report.notes


def test_zero_head_without_a_head_keeps_the_stem():
    inp = keras.Input((W,))
    h = keras.layers.Dense(W, name="stem")(inp)
    b = keras.layers.Dense(W, name="b")(h)
    model = keras.Model(inp, keras.layers.Add()([h, b]))
    report = ki.zero_residual(model, "zero_last", zero_head=True)
    assert np.any(to_numpy(model.get_layer("stem").kernel))
    assert "zero_head: no kernel layer after the last residual block." in report.notes


# ---------------------------------------------------------------- Fixup ---

def _sep_resnet(blocks=2, c=32, k=3, multiplier=1):
    inp = keras.Input((6, 6, c))
    h = inp
    for i in range(blocks):
        b = keras.layers.SeparableConv2D(c, k, padding="same", activation="relu",
                                         depth_multiplier=multiplier, name=f"s{i}a")(h)
        b = keras.layers.SeparableConv2D(c, k, padding="same", name=f"s{i}b")(b)
        h = keras.layers.Add()([h, b])
    return keras.Model(inp, h)


def _std(variable):
    return float(np.std(to_numpy(variable).astype(np.float64)))


@pytest.mark.parametrize("k,multiplier", [(3, 1), (3, 2), (1, 4)])
def test_fixup_separable_conv_is_one_fixup_layer(k, multiplier):
    # L = 2 branches of m = 2 kernel layers: factor 2^(-1/2). The depthwise
    # kernel (k, k, c, mult) is redrawn N(0, 1/fan_in), fan_in = k*k (one
    # input channel per output); the pointwise kernel (1, 1, c*mult, c) is He
    # normal with fan_in = c*mult, times the factor; its bias is 0.
    c = 32
    model = _sep_resnet(c=c, k=k, multiplier=multiplier)
    first = model.get_layer("s0a")
    first.bias.assign(np.ones(c, "float32"))
    before = _std(first.pointwise_kernel)
    report = ki.zero_residual(model, "fixup", seed=0)
    factor = 2 ** -0.5
    depthwise_std = (k * k) ** -0.5
    n_dw = k * k * c * multiplier
    assert _std(first.depthwise_kernel) == pytest.approx(depthwise_std, rel=5 / np.sqrt(2 * n_dw))
    pointwise_std = factor * np.sqrt(2.0 / (c * multiplier))
    n_pw = c * multiplier * c
    assert _std(first.pointwise_kernel) == pytest.approx(pointwise_std, rel=5 / np.sqrt(2 * n_pw))
    assert not to_numpy(first.bias).any()
    row = {r.layer: r for r in report.rows}["s0a"]
    assert (row.action, row.stat, row.scale) == ("He normal x factor", "kernel std", factor)
    assert row.before == pytest.approx(before) and row.after == pytest.approx(
        _std(first.pointwise_kernel), rel=1e-5)
    assert row.note


def test_fixup_kernel_fan_in_one():
    # A branch Conv1D(256, 1) on one input channel: fan_in = 1, std = factor * sqrt(2).
    inp = keras.Input((4, 1))
    b = keras.layers.Conv1D(256, 1, activation="relu", name="wide")(inp)
    b = keras.layers.Conv1D(1, 1, name="narrow")(b)
    model = keras.Model(inp, keras.layers.Add()([inp, b]))
    ki.zero_residual(model, "fixup", seed=0)
    # L = 1: factor 1.
    assert _std(model.get_layer("wide").kernel) == pytest.approx(np.sqrt(2.0), rel=5 / np.sqrt(512))


def test_fixup_is_seeded_and_does_not_follow_floatx():
    # Same weights, same seed: same Fixup draws, whatever keras.config.floatx().
    def run(floatx):
        keras.utils.set_random_seed(1)
        model = _sep_resnet(c=8)
        old = keras.config.floatx()
        try:
            keras.config.set_floatx(floatx)
            ki.zero_residual(model, "fixup", seed=3)
        finally:
            keras.config.set_floatx(old)
        return [to_numpy(v) for v in model.weights]

    first = run("float32")
    for floatx in ("float32", "float16"):
        for a, b in zip(first, run(floatx)):
            np.testing.assert_array_equal(a, b)
