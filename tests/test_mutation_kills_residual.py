"""Tests that kill mutants of keras_inits/residual.py (benchmarks/mutation_score.py).

Each checks a value derived by hand or from the paper (Fixup's
L^(-1/(2m-2))), or the documented report contents, not with the module's
own formula. Models are tiny (width 4).
"""

import re

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


# ------------------------------------------- reports, messages, skips ---

def _dense_block(bias=True, name="b"):
    inp = keras.Input((W,))
    b = keras.layers.Dense(W, use_bias=bias, name=name)(inp)
    return keras.Model(inp, keras.layers.Add(name="add")([inp, b]))


def test_zero_last_row_and_zeroed_bias():
    model = _dense_block()
    layer = model.get_layer("b")
    layer.bias.assign(np.ones(W, "float32"))
    before = _std(layer.kernel)
    report = ki.zero_residual(model, "zero_last")
    assert report.step == "zero_residual(zero_last)"
    (row,) = report.rows
    (branch,) = ki.graph.residual_branches(model)[0]
    assert (row.layer, row.action, row.stat, row.note) == ("b", "kernel = 0", "kernel std",
                                                            branch.name)
    assert row.before == pytest.approx(before, rel=1e-6) and row.after == 0.0
    assert not to_numpy(layer.kernel).any() and not to_numpy(layer.bias).any()


class _KernelOnly(keras.layers.Layer):
    """A layer with a kernel and no `bias` attribute at all."""

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], W), name="kernel")

    def call(self, x):
        return keras.ops.matmul(x, self.kernel)


def test_zero_last_on_a_layer_without_a_bias_attribute():
    inp = keras.Input((W,))
    layer = _KernelOnly(name="k")
    model = keras.Model(inp, keras.layers.Add()([inp, layer(inp)]))
    report = ki.zero_residual(model, "zero_last")
    assert [r.layer for r in report.rows] == ["k"]
    assert not to_numpy(layer.kernel).any()


def test_fixup_last_kernel_row():
    inp = keras.Input((W,))
    b = keras.layers.Dense(W, activation="relu", name="b0")(inp)
    b = keras.layers.Dense(W, name="b1")(b)
    model = keras.Model(inp, keras.layers.Add()([inp, b]))
    report = ki.zero_residual(model, "fixup", seed=0, zero_head=False)
    (branch,) = ki.graph.residual_branches(model)[0]
    row = {r.layer: r for r in report.rows}["b1"]
    assert (row.action, row.note, row.stat, row.after) == ("last kernel = 0", branch.name,
                                                           "kernel std", 0.0)


def test_zero_gamma_without_a_norm_names_the_branch_and_why():
    model = _dense_block()
    (branch,) = ki.graph.residual_branches(model)[0]
    with pytest.raises(ValueError, match=rf"^zero_residual\(zero_gamma\) failed on {re.escape(branch.name)}: "
                                         r"the branch has no normalization layer \(use "
                                         r"mode='zero_last'\)$"):
        ki.zero_residual(model, "zero_gamma")


def _norm_then_dense():
    inp = keras.Input((W,))
    b = keras.layers.LayerNormalization(name="ln")(inp)
    b = keras.layers.Dense(W, name="d")(b)
    return keras.Model(inp, keras.layers.Add()([inp, b]))


def test_zero_gamma_before_a_kernel_is_noted_and_a_final_norm_is_not():
    model = _norm_then_dense()
    (branch,) = ki.graph.residual_branches(model)[0]
    (row,) = ki.zero_residual(model, "zero_gamma").rows
    assert row.note == f"{branch.name}; a kernel layer follows this norm"
    model = _norm_block()
    (branch,) = ki.graph.residual_branches(model)[0]
    (row,) = ki.zero_residual(model, "zero_gamma").rows
    assert row.note == branch.name


def test_zero_gamma_mode_zeroes_a_layer_scale():
    # A branch ending in a layer scale: its multiplier is the gamma, also in
    # mode "zero_gamma" (not only "auto").
    from keras.src.applications.convnext import LayerScale

    inp = keras.Input((W,))
    b = keras.layers.Dense(W, name="d")(inp)
    model = keras.Model(inp, keras.layers.Add()([inp, LayerScale(1.0, W, name="ls")(b)]))
    (row,) = ki.zero_residual(model, "zero_gamma").rows
    assert (row.layer, row.action) == ("ls", "layer scale = 0")


@pytest.mark.parametrize("mode", ["zero_last", "fixup"])
def test_a_norm_only_branch_says_it_has_no_kernel(mode):
    inp = keras.Input((W,))
    b = keras.layers.LayerNormalization(name="ln")(inp)
    model = keras.Model(inp, keras.layers.Add()([inp, b]))
    (branch,) = ki.graph.residual_branches(model)[0]
    with pytest.raises(ValueError, match=rf"^zero_residual\({mode}\) failed on {re.escape(branch.name)}: "
                                         "the branch has no kernel layer$"):
        ki.zero_residual(model, mode)


class _Wrap(keras.layers.Layer):
    """A subclassed block: a Dense inside, no graph."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.inner = keras.layers.Dense(W)

    def call(self, x):
        return self.inner(x)


def test_a_branch_ending_in_an_opaque_layer_names_it_and_its_type():
    inp = keras.Input((W,))
    b = keras.layers.Dense(W, name="d")(inp)
    b = _Wrap(name="wrap")(b)
    model = keras.Model(inp, keras.layers.Add()([inp, b]))
    with pytest.raises(ValueError, match="the branch ends in layer 'wrap' \\(_Wrap\\) whose inner"):
        ki.zero_residual(model, "zero_last")


class _OtherWrap(_Wrap):
    pass


def test_fixup_names_the_first_opaque_layer():
    inp = keras.Input((W,))
    b = _Wrap(name="w0")(inp)
    b = _OtherWrap(name="w1")(b)
    b = keras.layers.Dense(W, name="d")(b)
    model = keras.Model(inp, keras.layers.Add()([inp, b]))
    with pytest.raises(ValueError, match="layer 'w0' \\(_Wrap\\) has kernels Fixup cannot count"):
        ki.zero_residual(model, "fixup")


def test_fixup_depthwise_fan_in_one_is_unit_variance():
    # SeparableConv2D(kernel 1): the depthwise fan_in is 1, so its draw is
    # N(0, 1) (variance preserving), not N(0, 1/2).
    c, multiplier = 64, 4
    model = _sep_resnet(blocks=1, c=c, k=1, multiplier=multiplier)
    ki.zero_residual(model, "fixup", seed=0)
    n = c * multiplier
    assert _std(model.get_layer("s0a").depthwise_kernel) == pytest.approx(1.0, rel=5 / np.sqrt(2 * n))


def test_fixup_depthwise_draw_is_seeded():
    # Two models with the same weights, Fixup with the same seed, the global
    # RNG not reset in between: the same depthwise draws.
    first, second = _sep_resnet(c=8), _sep_resnet(c=8)
    second.set_weights(first.get_weights())
    ki.zero_residual(first, "fixup", seed=5)
    ki.zero_residual(second, "fixup", seed=5)
    for name in ("s0a", "s1a"):
        np.testing.assert_array_equal(to_numpy(first.get_layer(name).depthwise_kernel),
                                      to_numpy(second.get_layer(name).depthwise_kernel))


def test_frozen_branch_is_listed_by_name_and_the_next_branch_still_zeroed():
    inp = keras.Input((W,))
    h = keras.layers.Add()([inp, keras.layers.Dense(W, name="d0", trainable=False)(inp)])
    h = keras.layers.Add()([h, keras.layers.Dense(W, name="d1")(h)])
    model = keras.Model(inp, h)
    first, _ = ki.graph.residual_branches(model)[0]
    report = ki.zero_residual(model, "zero_last")
    assert report.skipped == [(first.name, "frozen layers ['d0'] (trainable=False): left alone")]
    assert [r.layer for r in report.rows] == ["d1"]
    assert np.any(to_numpy(model.get_layer("d0").kernel))


def test_no_branch_warns_at_the_callers_line():
    inp = keras.Input((W,))
    model = keras.Model(inp, keras.layers.Dense(W)(inp))
    with pytest.warns(UserWarning) as record:
        report = ki.zero_residual(model)
    (warning,) = record
    assert warning.category is UserWarning
    assert str(warning.message) == (
        f"zero_residual: model {model.name!r} has no residual (Add) branch with kernel or "
        "normalization layers; nothing was changed.")
    # Not residual.py's own line. The caller's file exactly, except under
    # mutmut, whose trampoline adds a frame between the test and the step.
    import sys

    import keras_inits.residual as residual

    assert warning.filename != residual.__file__
    if "mutmut" not in sys.modules:
        assert warning.filename == __file__
    assert report.rows == []


def test_an_unexpected_error_is_a_runtime_error_naming_branch_and_type(monkeypatch):
    import keras_inits.residual as residual

    def fail(*args, **kwargs):
        raise KeyError("boom")

    monkeypatch.setattr(residual, "_apply", fail)
    model = _dense_block()
    (branch,) = ki.graph.residual_branches(model)[0]
    with pytest.raises(RuntimeError, match=rf"^zero_residual\(auto\) failed on {re.escape(branch.name)}: "
                                           "KeyError: 'boom'$"):
        ki.zero_residual(model)


def _hub_then_wrap():
    keras_hub = pytest.importorskip("keras_hub")
    x = keras.Input((3, 8))
    h = keras.layers.Dense(8, name="proj")(x)
    h = keras_hub.layers.TransformerEncoder(intermediate_dim=16, num_heads=2, name="enc")(h)
    return keras.Model(x, _Wrap(name="wrap")(h))


def test_role_found_block_ends_rows_bias_and_skips():
    # The keras_hub block is opaque to the graph but its branch ends are
    # known by role: not listed as skipped; the unknown block after it is.
    model = _hub_then_wrap()
    enc = model.get_layer("enc")
    ends = [enc._self_attention_layer._output_dense, enc._feedforward_output_dense]
    for layer in ends:
        layer.bias.assign(np.ones(layer.bias.shape, "float32"))
    before = {layer.path: _std(layer.kernel) for layer in ends}
    report = ki.zero_residual(model, "zero_last")
    assert report.skipped == [("wrap", "_Wrap holds weight-bearing sublayers but no graph: "
                                       "residual connections inside it cannot be analysed")]
    assert [r.layer for r in report.rows] == list(before)
    for row, layer in zip(report.rows, ends):
        assert (row.action, row.stat, row.after) == ("kernel = 0", "kernel std", 0.0)
        assert row.note == "encoder block 0 (branch end by role)"
        assert row.before == pytest.approx(before[row.layer], rel=1e-6)
        assert not to_numpy(layer.kernel).any() and not to_numpy(layer.bias).any()


def test_fixup_refuses_role_found_blocks():
    with pytest.raises(ValueError, match=r"^zero_residual\(fixup\) cannot scale the transformer "
                                         "blocks of model"):
        ki.zero_residual(_hub_then_wrap(), "fixup")


def test_an_attention_branch_in_the_graph_is_zeroed_once():
    # x + MHA(x, x) is a graph branch: its output projection must not also
    # be counted as a block end found by role.
    inp = keras.Input((3, W))
    mha = keras.layers.MultiHeadAttention(2, 2, name="mha")
    model = keras.Model(inp, keras.layers.Add()([inp, mha(inp, inp)]))
    report = ki.zero_residual(model, "zero_last")
    assert len(report.rows) == 1


def test_scalar_bias_config_round_trip():
    layer = ki.layers.ScalarBias(0.5, name="sb")
    config = layer.get_config()
    assert config["init"] == 0.5
    assert ki.layers.ScalarBias.from_config(config).init == 0.5


def test_reported_std_is_computed_in_float32_whatever_floatx():
    # The row's "before" is the kernel's std in float32 (1e-7 relative), not
    # in floatx: under float16 it would be off by ~1e-3.
    model = _dense_block()
    kernel = model.get_layer("b").kernel
    kernel.assign(np.linspace(-1.0, 1.3, W * W, dtype="float32").reshape(W, W) + 1e-3)
    expected = _std(kernel)
    old = keras.config.floatx()
    try:
        keras.config.set_floatx("float16")
        (row,) = ki.zero_residual(model, "zero_last").rows
    finally:
        keras.config.set_floatx(old)
    assert row.before == pytest.approx(expected, rel=1e-6)


class _KernelOnlyBlock(keras.layers.Layer):
    """A registered block whose output projection has no `bias` attribute."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.up = keras.layers.Dense(W, name="up")
        self.down = _KernelOnly(name="down")

    def call(self, x):
        return x + self.down(self.up(x))


def test_role_found_end_without_a_bias_attribute_is_zeroed():
    ki.register_roles(_KernelOnlyBlock, {"up": "ffn_in", "down": "ffn_out"})
    inp = keras.Input((3, W))
    block = _KernelOnlyBlock(name="blk")
    model = keras.Model(inp, block(inp))
    report = ki.zero_residual(model, "zero_last")
    assert [r.layer for r in report.rows] == [block.down.path]
    assert not to_numpy(block.down.kernel).any()
    assert to_numpy(block.up.kernel).any()


def test_a_role_found_block_inside_a_graph_branch_is_left_to_the_graph():
    # Add([x, dense(encoder(x))]): the graph zeroes the branch's last kernel;
    # the encoder's own branch ends (found by role) are inside that branch and
    # are not zeroed a second time.
    keras_hub = pytest.importorskip("keras_hub")
    inp = keras.Input((3, W))
    enc = keras_hub.layers.TransformerEncoder(intermediate_dim=8, num_heads=2, name="enc")
    dense = keras.layers.Dense(W, name="dense")
    model = keras.Model(inp, keras.layers.Add()([inp, dense(enc(inp))]))
    report = ki.zero_residual(model, "zero_last")
    assert [r.layer for r in report.rows] == ["dense"]
    assert to_numpy(enc._feedforward_output_dense.kernel).any()
    assert to_numpy(enc._self_attention_layer._output_dense.kernel).any()

