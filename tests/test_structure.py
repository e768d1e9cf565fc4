"""The model-structure layer: role adapters, frozen weights, fused qkv, shared
blocks, and the residual rules real models need (multi-path merges, separable
convs, layer scales, step composition)."""

import math

import keras
import numpy as np
import pytest

import keras_inits as ki
from keras_inits import graph
from keras_inits.transformer import count_blocks, detect_roles
from tests.helpers import assert_moments, to_numpy

RNG = np.random.default_rng(0)


@keras.saving.register_keras_serializable(package="keras_inits_tests")
class GatedBlock(keras.layers.Layer):
    """A pre-norm block with attributes no built-in rule knows: fused qkv,
    SwiGLU FFN, its own attention arithmetic (no MultiHeadAttention)."""

    def __init__(self, d=16, ff=32, **kwargs):
        super().__init__(**kwargs)
        self.d, self.ff = d, ff
        self.norm_a = keras.layers.LayerNormalization(name="norm_a")
        self.fused = keras.layers.Dense(3 * d, use_bias=False, name="fused")
        self.proj = keras.layers.Dense(d, name="proj")
        self.norm_b = keras.layers.LayerNormalization(name="norm_b")
        self.up = keras.layers.Dense(ff, name="up")
        self.gate = keras.layers.Dense(ff, name="gate")
        self.down = keras.layers.Dense(d, name="down")

    def call(self, x):
        q, k, v = keras.ops.split(self.fused(self.norm_a(x)), 3, axis=-1)
        att = keras.ops.softmax(keras.ops.einsum("btd,bsd->bts", q, k) / math.sqrt(self.d))
        x = x + self.proj(keras.ops.einsum("bts,bsd->btd", att, v))
        h = self.norm_b(x)
        return x + self.down(self.up(h) * keras.activations.silu(self.gate(h)))

    def get_config(self):
        return {**super().get_config(), "d": self.d, "ff": self.ff}


ROLES = {"norm_a": "norm", "fused": "qkv", "proj": "o", "norm_b": "norm",
         "up": "ffn_in", "gate": "ffn_gate", "down": "ffn_out"}


def gated_model(blocks=2, shared=False, d=16):
    ki.register_roles(GatedBlock, ROLES, part="decoder")
    inp = keras.Input((8, d))
    h = keras.layers.Dense(d, name="embed_proj")(inp)
    one = GatedBlock(d, name="block") if shared else None
    for i in range(blocks):
        h = (one or GatedBlock(d, name=f"block{i}"))(h)
    return keras.Model(inp, keras.layers.Dense(5, name="head")(h))


def test_registered_block_roles_and_gpt2_stds():
    model = gated_model(blocks=2, d=64)
    roles, unknown = detect_roles(model)
    by = {(r.layer.name, r.weight): r for r in roles}
    assert by[("fused", "kernel")].role == "qkv" and by[("gate", "kernel")].role == "ffn_gate"
    assert {r.part for r in roles if r.block is not None} == {"decoder"}
    assert sorted({r.block for r in roles if r.block is not None}) == [0, 1]
    report = ki.init_transformer(model, "gpt2", seed=0)
    assert "found 0 encoder and 2 decoder blocks (L = 2)" in report.notes
    for block in ("block0", "block1"):
        layer = model.get_layer(block)
        for name in ("fused", "up", "gate"):
            assert_moments(getattr(layer, name).kernel, 0.02)
        for name in ("proj", "down"):  # residual projections: 0.02 / sqrt(2L)
            assert_moments(getattr(layer, name).kernel, 0.02 / math.sqrt(4))
        np.testing.assert_array_equal(to_numpy(layer.norm_a.gamma), 1.0)


def test_fused_qkv_draws_each_chunk_with_its_own_fans():
    d = 64
    model = gated_model(blocks=1, d=d)
    ki.init_transformer(model, "t_fixup", seed=0)
    kernel = to_numpy(model.get_layer("block0").fused.kernel)
    glorot = math.sqrt(2.0 / (d + d))  # fans of one (d, d) chunk, not (d, 3d)
    # A decoder block (M = 1): q, k gain 1/sqrt(2); v 1/sqrt(2) (9M)^(-1/4) sqrt(2).
    factor = (9.0 * 1) ** -0.25
    for i, gain in enumerate((1 / math.sqrt(2), 1 / math.sqrt(2), factor)):
        chunk = kernel[:, i * d:(i + 1) * d]
        assert_moments(chunk, glorot * gain, dist="uniform")


def test_shared_block_counts_once_per_application():
    model = gated_model(blocks=3, shared=True, d=64)
    report = ki.init_transformer(model, "gpt2", seed=0)
    assert "found 0 encoder and 3 decoder blocks (L = 3)" in report.notes
    assert_moments(model.get_layer("block").proj.kernel, 0.02 / math.sqrt(6))


def test_frozen_weights_are_never_touched():
    model = gated_model(blocks=1)
    model.get_layer("block0").up.trainable = False
    before = to_numpy(model.get_layer("block0").up.kernel).copy()
    report = ki.init_transformer(model, "xavier", seed=0)
    np.testing.assert_array_equal(before, to_numpy(model.get_layer("block0").up.kernel))
    frozen = [name for name, why in report.skipped if "frozen" in why]
    assert any(name.endswith("up/kernel") for name in frozen), report.skipped


def test_register_roles_errors_name_the_argument():
    with pytest.raises(TypeError, match="layer_cls"):
        ki.register_roles("GatedBlock", ROLES)
    with pytest.raises(ValueError, match="unknown role 'attn'"):
        ki.register_roles(GatedBlock, {"fused": "attn"})
    with pytest.raises(ValueError, match="invalid attribute path"):
        ki.register_roles(GatedBlock, {"a..b": "q"})
    with pytest.raises(ValueError, match="part"):
        ki.register_roles(GatedBlock, ROLES, part="middle")
    with pytest.raises(TypeError, match="roles"):
        ki.register_roles(GatedBlock, ["fused"])


def test_zero_residual_uses_registered_branch_ends():
    model = gated_model(blocks=2)
    x = RNG.standard_normal((4, 8, 16)).astype("float32")
    report = ki.zero_residual(model)
    zeroed = {r.layer for r in report.rows}
    assert zeroed == {f"block{i}/{n}" for i in range(2) for n in ("proj", "down")}
    # Each block is now the identity: the head sees the embedding projection.
    emb = keras.Model(model.input, model.get_layer("embed_proj").output)(x)
    expected = to_numpy(model.get_layer("head")(emb))
    np.testing.assert_allclose(to_numpy(model(x)), expected, rtol=1e-5, atol=1e-6)


# --- residual structure on real-model patterns -------------------------------


def test_two_weighted_paths_are_a_merge_not_a_residual_branch():
    inp = keras.Input((8,))
    a = keras.layers.Dense(8, name="a2")(keras.layers.Dense(8, name="a1")(inp))
    b = keras.layers.Dense(8, name="b2")(keras.layers.Dense(8, name="b1")(inp))
    model = keras.Model(inp, keras.layers.Add(name="merge")([a, b]))
    branches, skipped = graph.residual_branches(model)
    assert branches == []
    assert "multi-path merge" in dict(skipped)["merge"]


def test_projection_shortcut_is_residual():
    inp = keras.Input((8,))
    short = keras.layers.Dense(8, name="proj")(inp)
    branch = keras.layers.Dense(8, name="b2")(keras.layers.Dense(8, name="b1")(inp))
    model = keras.Model(inp, keras.layers.Add(name="merge")([branch, short]))
    (found,), _ = graph.residual_branches(model)
    assert [x.name for x in found.skip_layers] == ["proj"]
    assert [x.name for x in found.kernel_layers] == ["b1", "b2"]


def test_branch_whose_layers_feed_elsewhere_is_not_residual():
    inp = keras.Input((8,))
    h = keras.layers.Dense(8, name="shared")(inp)
    other = keras.layers.Dense(8, name="other")(h)  # uses the branch's tensor
    merged = keras.layers.Add(name="merge")([inp, h])
    model = keras.Model(inp, keras.layers.Concatenate()([merged, other]))
    branches, skipped = graph.residual_branches(model)
    assert branches == []
    assert "feed layers outside" in dict(skipped)["merge"]


def separable_resnet(blocks=3):
    inp = keras.Input((8, 8, 4))
    h = keras.layers.Conv2D(8, 1, name="stem")(inp)
    for i in range(blocks):
        b = keras.layers.SeparableConv2D(8, 3, padding="same", activation="relu", name=f"s{i}a")(h)
        b = keras.layers.SeparableConv2D(8, 3, padding="same", name=f"s{i}b")(b)
        h = keras.layers.Add()([h, b])
    return keras.Model(inp, keras.layers.Conv2D(3, 1, name="head")(h))


def test_separable_convs_are_kernel_layers_for_every_step():
    x = RNG.standard_normal((16, 8, 8, 4)).astype("float32")
    model = separable_resnet()
    report = ki.lsuv(model, x, seed=0, verbose=0)
    assert {f"s{i}{j}" for i in range(3) for j in "ab"} <= {r.layer for r in report.rows}
    out = to_numpy(keras.Model(model.input, model.get_layer("s0b").output)(x))
    assert abs(out.var() - 1.0) <= 0.1
    report = ki.data_dependent_init(model, x, verbose=0)
    layer = model.get_layer("s1b")
    pre = to_numpy(keras.Model(model.input, layer.output)(x))  # no fused activation
    np.testing.assert_allclose(pre.mean(axis=(0, 1, 2)), 0.0, atol=1e-3)
    np.testing.assert_allclose(pre.var(axis=(0, 1, 2)), 1.0, atol=1e-3)


def test_fixup_on_separable_branches():
    model = separable_resnet(blocks=4)
    ki.zero_residual(model, "fixup", seed=0)
    factor = 4 ** (-1.0 / (2 * 2 - 2))  # L = 4 branches, m = 2 kernel layers
    first, last = model.get_layer("s0a"), model.get_layer("s0b")
    assert not np.any(to_numpy(last.pointwise_kernel))
    # Depthwise: variance-preserving N(0, 1/fan_in), fan_in = 3*3 taps.
    assert_moments(first.depthwise_kernel, math.sqrt(1 / 9))
    # Pointwise: He normal (fan_in = 8 channels) times Fixup's factor.
    std = factor * math.sqrt(2 / 8)
    values = to_numpy(first.pointwise_kernel)
    assert abs(values.std() - std) <= 0.35 * std  # 64 values: se of std ~ 9 %
    np.testing.assert_array_equal(
        to_numpy(model.get_layer("s1a").pointwise_kernel) != 0, True)


def test_lsuv_after_zero_residual_keeps_branches_zero():
    x = RNG.standard_normal((16, 8, 8, 4)).astype("float32")
    model = separable_resnet()
    ki.zero_residual(model, "zero_last")
    report = ki.lsuv(model, x, seed=0, verbose=0)
    for i in range(3):
        assert not np.any(to_numpy(model.get_layer(f"s{i}b").pointwise_kernel))
        assert "all zeros" in dict(report.skipped)[f"s{i}b"]


def test_layer_scale_is_the_branch_gamma():
    inp = keras.Input((8,))
    h = inp
    for i in range(2):
        b = keras.layers.Dense(8, name=f"d{i}")(keras.layers.LayerNormalization()(h))
        h = keras.layers.Add()([h, ki.layers.ResidualScale(init=1.0, name=f"scale{i}")(b)])
    model = keras.Model(inp, h)
    report = ki.zero_residual(model)
    assert [r.action for r in report.rows] == ["layer scale = 0"] * 2
    assert [float(to_numpy(model.get_layer(f"scale{i}").alpha)) for i in range(2)] == [0.0, 0.0]
    assert np.any(to_numpy(model.get_layer("d0").kernel))  # the kernel is kept


def test_bias_free_conv_is_centred_through_the_next_batch_norm():
    x = RNG.standard_normal((16, 6, 6, 3)).astype("float32") + 3.0
    inp = keras.Input((6, 6, 3))
    conv = keras.layers.Conv2D(4, 3, use_bias=False, name="conv")
    norm = keras.layers.BatchNormalization(name="bn")
    ln_conv = keras.layers.Conv2D(4, 1, use_bias=False, name="ln_conv")
    out = keras.layers.LayerNormalization(name="ln")(ln_conv(norm(conv(inp))))
    model = keras.Model(inp, out)
    report = ki.data_dependent_init(model, x, verbose=0)
    notes = {r.layer: r.note for r in report.rows}
    assert "centred through bn" in notes["conv"]
    assert "not centred" in notes["ln_conv"] and "LayerNormalization" in notes["ln_conv"]
    z = to_numpy(keras.Model(inp, conv.output)(x))  # the conv output, mean not 0
    y = to_numpy(keras.Model(inp, norm.output)(x, training=False))
    # Inference BN: (z - moving_mean) / sqrt(moving_var + eps): centred per channel.
    np.testing.assert_allclose(y.mean(axis=(0, 1, 2)), 0.0, atol=1e-4)
    np.testing.assert_allclose(to_numpy(norm.moving_mean), z.mean(axis=(0, 1, 2)), rtol=1e-5)
    np.testing.assert_array_equal(to_numpy(norm.beta), 0.0)  # training output untouched


def test_depthwise_units_normalized_by_data_dependent_init():
    x = RNG.standard_normal((16, 6, 6, 3)).astype("float32") * 3.0 + 1.0
    inp = keras.Input((6, 6, 3))
    dw = keras.layers.DepthwiseConv2D(3, depth_multiplier=2, name="dw")
    model = keras.Model(inp, dw(inp))
    report = ki.data_dependent_init(model, x, verbose=0)
    assert [r.layer for r in report.rows] == ["dw"]
    out = to_numpy(model(x))  # channels c*2 + j, 6 of them
    np.testing.assert_allclose(out.mean(axis=(0, 1, 2)), 0.0, atol=1e-3)
    np.testing.assert_allclose(out.var(axis=(0, 1, 2)), 1.0, atol=1e-3)


def test_zero_residual_leaves_frozen_branches_and_lists_them():
    model = separable_resnet()
    model.get_layer("s1b").trainable = False
    before = to_numpy(model.get_layer("s1b").pointwise_kernel).copy()
    report = ki.zero_residual(model, "zero_last")
    np.testing.assert_array_equal(before, to_numpy(model.get_layer("s1b").pointwise_kernel))
    assert not np.any(to_numpy(model.get_layer("s0b").pointwise_kernel))
    assert any("frozen" in why and "s1b" in why for _, why in report.skipped)


@keras.saving.register_keras_serializable(package="keras_inits_tests")
class ScaleNorm(keras.layers.Layer):
    """An RMS norm of its own (like keras_hub's per-family norm classes)."""

    def build(self, shape):
        self.scale = self.add_weight(name="scale", shape=(shape[-1],), initializer="zeros")

    def call(self, x):
        return x * keras.ops.rsqrt(keras.ops.mean(x * x, axis=-1, keepdims=True) + 1e-6) * self.scale


def test_reinitialize_uses_roles_and_leaves_frozen_weights():
    ki.register_roles(ScaleNorm, {"scale": "norm"})
    d, vocab = 64, 300
    inp = keras.Input((6,), dtype="int32")
    emb = keras.layers.ReversibleEmbedding(vocab, d, tie_weights=False, name="emb")
    h = ScaleNorm(name="norm")(emb(inp))
    h = keras.layers.Dense(d, name="frozen")(h)
    model = keras.Model(inp, emb(h, reverse=True))
    model.get_layer("frozen").trainable = False
    before = to_numpy(model.get_layer("frozen").kernel).copy()
    report = ki.reinitialize(model, seed=0)
    np.testing.assert_array_equal(to_numpy(model.get_layer("norm").scale), 1.0)
    # The untied head (d, vocab) is a kernel with fans (d, vocab): He std sqrt(2/d).
    assert_moments(emb.reverse_embeddings, math.sqrt(2.0 / d))
    np.testing.assert_array_equal(before, to_numpy(model.get_layer("frozen").kernel))
    assert any("frozen" in why for path, why in report.skipped if path.startswith("frozen/"))


# --------------------------------------------- data_dependent_init on EinsumDense


def _einsum_unit_stats(z, unit_axes):
    """Per-unit mean and variance of `z`, units = `unit_axes` (reduce the rest)."""
    rest = tuple(a for a in range(z.ndim) if a not in unit_axes)
    return z.mean(axis=rest), z.var(axis=rest)


@pytest.mark.parametrize(
    "equation, out_shape, bias_axes, unit_axes",
    [
        ("abc,cde->abde", (None, 3, 4), "de", (2, 3)),  # a MultiHeadAttention projection
        ("abc,cde->abed", (None, 4, 3), "ed", (2, 3)),  # kernel units in the other order
        ("...b,bc->...c", (5,), "c", (2,)),  # leading ellipsis
    ],
)
def test_ddi_einsum_units_are_the_axes_the_kernel_reaches(equation, out_shape, bias_axes, unit_axes):
    inp = keras.Input((7, 6))
    out = keras.layers.EinsumDense(equation, out_shape, bias_axes=bias_axes, name="ein")(inp)
    model = keras.Model(inp, out)
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((32, 7, 6)) * 3 + 1).astype("float32")
    model.get_layer("ein").bias.assign(rng.standard_normal(model.get_layer("ein").bias.shape))
    report = ki.data_dependent_init(model, x, verbose=0)
    assert [r.layer for r in report.rows] == ["ein"] and not report.skipped
    # Evaluated here with numpy's einsum from the weights, not by the step.
    layer = model.get_layer("ein")
    z = np.einsum(equation, x.astype("float64"), to_numpy(layer.kernel).astype("float64"))
    z = z + to_numpy(layer.bias)  # the bias is aligned with the output's trailing axes
    mean, var = _einsum_unit_stats(z, unit_axes)
    np.testing.assert_allclose(mean, 0.0, atol=1e-4)
    np.testing.assert_allclose(var, 1.0, atol=1e-3)


def test_ddi_einsum_bias_over_fewer_axes_scales_only_and_says_so():
    inp = keras.Input((7, 6))
    out = keras.layers.EinsumDense("abc,cde->abde", (None, 3, 4), bias_axes="e", name="ein")(inp)
    model = keras.Model(inp, out)
    x = (np.random.default_rng(1).standard_normal((32, 7, 6)) + 2).astype("float32")
    report = ki.data_dependent_init(model, x, verbose=0)
    assert "not centred" in report.rows[0].note
    layer = model.get_layer("ein")
    z = np.einsum("abc,cde->abde", x.astype("float64"), to_numpy(layer.kernel).astype("float64"))
    _, var = _einsum_unit_stats(z + to_numpy(layer.bias), (2, 3))
    np.testing.assert_allclose(var, 1.0, atol=1e-3)


def test_ddi_calibrates_every_multi_head_attention_projection():
    inp = keras.Input((5, 8))
    out = keras.layers.MultiHeadAttention(2, 3, name="mha")(inp, inp)
    model = keras.Model(inp, out)
    x = np.random.default_rng(2).standard_normal((16, 5, 8)).astype("float32")
    report = ki.data_dependent_init(model, x, verbose=0)
    assert sorted(r.layer for r in report.rows) == ["attention_output", "key", "query", "value"]
    q = model.get_layer("mha")._query_dense
    z = np.einsum("abc,cde->abde", x.astype("float64"), to_numpy(q.kernel)) + to_numpy(q.bias)
    mean, var = _einsum_unit_stats(z, (2, 3))  # per (head, key_dim)
    np.testing.assert_allclose(mean, 0.0, atol=1e-4)
    np.testing.assert_allclose(var, 1.0, atol=1e-3)
    # The output projection: units are the 8 model features; its input is
    # what the calibrated attention computes, so check it through the model.
    y = to_numpy(model(x)).astype("float64")
    np.testing.assert_allclose(y.reshape(-1, 8).mean(0), 0.0, atol=1e-4)
    np.testing.assert_allclose(y.reshape(-1, 8).var(0), 1.0, atol=1e-3)


# ------------------------------------------- block counts through subclassed holders


class _Stack(keras.layers.Layer):
    """An unregistered subclassed layer holding `n` attention blocks (a whole
    decoder stack inside a functional backbone, as Gemma3n's text model)."""

    def __init__(self, n, **kwargs):
        super().__init__(**kwargs)
        self.attn = [keras.layers.MultiHeadAttention(2, 4, name=f"attn{i}") for i in range(n)]

    def call(self, x):
        for attn in self.attn:
            x = x + attn(x, x)
        return x


@pytest.mark.parametrize("n", [1, 2])
def test_a_holder_applied_twice_applies_each_block_it_holds_twice(n):
    inp = keras.Input((5, 8))
    stack = _Stack(n, name="stack")
    model = keras.Model(inp, stack(stack(inp)))
    roles, _ = detect_roles(model)
    assert sum(count_blocks(roles)) == 2 * n


class _Processor(keras.layers.Layer):
    """Holds a reference to the stack it feeds (Gemma3n's embedding processor
    holds its text model): the stack is met twice, applied once."""

    def __init__(self, stack, **kwargs):
        super().__init__(**kwargs)
        self.stack = stack
        self.proj = keras.layers.Dense(8, name="proj")

    def build(self, input_shape):
        self.proj.build(input_shape)

    def call(self, x):
        return self.proj(x)


@pytest.mark.parametrize("n", [1, 2])
def test_a_stack_also_held_by_another_layer_counts_once(n):
    inp = keras.Input((5, 8))
    stack = _Stack(n, name="stack")
    model = keras.Model(inp, stack(_Processor(stack, name="processor")(inp)))
    roles, _ = detect_roles(model)
    assert sum(count_blocks(roles)) == n


# ------------------------------------------------------ list-indexed role paths


@keras.saving.register_keras_serializable(package="keras_inits_tests")
class SeqMLPBlock(keras.layers.Layer):
    """A block whose MLP is a keras Sequential (Flux, ViTDet, SAM)."""

    def __init__(self, d=8, **kwargs):
        super().__init__(**kwargs)
        self.attn = keras.layers.MultiHeadAttention(2, 4, name="attn")
        self.mlp = keras.Sequential([keras.layers.Dense(16), keras.layers.Activation("gelu"),
                                     keras.layers.Dense(16), keras.layers.Dense(d)])

    def call(self, x):
        x = x + self.attn(x, x)
        return x + self.mlp(x)


def test_integer_path_parts_index_a_sequentials_layers():
    from keras_inits.structure.roles import resolve

    ki.register_roles(SeqMLPBlock, {"mlp.layers.0": "ffn_in", "mlp.layers.-1": "ffn_out"})
    inp = keras.Input((5, 8))
    model = keras.Model(inp, SeqMLPBlock(name="blk")(inp))
    block = model.get_layer("blk")
    first, middle, last = (block.mlp.layers[i] for i in (0, 2, 3))
    assert resolve(block, "mlp.layers.0") is first and resolve(block, "mlp.layers.-1") is last
    assert resolve(block, "mlp.layers.7") is None and resolve(block, "mlp.layers.x") is None
    roles, skipped = detect_roles(model)
    by_var = {id(r.variable): r.role for r in roles}
    assert by_var[id(first.kernel)] == "ffn_in" and by_var[id(last.kernel)] == "ffn_out"
    assert id(middle.kernel) not in by_var  # not named: listed, not guessed
    assert any(name in (middle.name, middle.kernel.path) for name, _ in skipped)
