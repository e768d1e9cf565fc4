"""Tests that kill mutants of keras_inits/transformer.py (benchmarks/mutation_score.py).

Each checks a value derived by hand or from the papers (Wang et al. 2022's
DeepNorm table, Trockman & Kolter 2023's mimetic targets), not with the
module's own formula. Models are tiny (d = 8).
"""

import keras
import numpy as np
import pytest

import keras_inits as ki
from keras_inits.transformer import _factor, _qkv_axis, deepnet_constants, detect_roles
from tests.helpers import to_numpy

D, HEADS, KEY, SEQ = 8, 2, 4, 4


def test_deepnet_constants_from_table_1():
    # Wang et al. 2022, Table 1, worked out for N = 6 encoder / M = 4 decoder blocks.
    enc = deepnet_constants(6, 0)["encoder"]
    assert enc == pytest.approx((12**0.25, 48**-0.25), rel=1e-12)
    dec = deepnet_constants(0, 4)["decoder"]
    assert dec == pytest.approx((8**0.25, 32**-0.25), rel=1e-12)
    both = deepnet_constants(6, 4)
    n4m = 6**4 * 4
    assert both["encoder"] == pytest.approx((0.81 * n4m ** (1 / 16), 0.87 * n4m ** (-1 / 16)))
    assert both["decoder"] == pytest.approx((12**0.25, 48**-0.25), rel=1e-12)
    assert set(both) == {"encoder", "decoder"}


def test_deepnet_constants_without_blocks_is_an_error():
    with pytest.raises(ValueError, match="^DeepNorm needs at least one block"):
        deepnet_constants(0, 0)


# ------------------------------------------------------------- _factor ---

def _target(d, alpha, beta, seed):
    z = to_numpy(keras.random.normal((d, d), stddev=d**-0.5, dtype="float32", seed=seed))
    return alpha * z.astype(np.float64) + beta * np.eye(d)


def test_factor_is_exact_when_rank_exceeds_d():
    a, b = (to_numpy(x).astype(np.float64) for x in _factor(4, 6, 0.7, 0.7, 11))
    assert a.shape == (4, 6) and b.shape == (4, 6)
    np.testing.assert_allclose(a @ b.T, _target(4, 0.7, 0.7, 11), atol=1e-5)


def test_factor_at_full_rank_is_u_and_v_times_root_s():
    # rank == d: A = U S^(1/2), so A^T A = S is diagonal (no spreading).
    a, b = (to_numpy(x).astype(np.float64) for x in _factor(4, 4, 0.4, -0.4, 5))
    np.testing.assert_allclose(a @ b.T, _target(4, 0.4, -0.4, 5), atol=1e-5)
    gram = a.T @ a
    np.testing.assert_allclose(gram - np.diag(np.diag(gram)), 0.0, atol=1e-5)
    s = np.linalg.svd(_target(4, 0.4, -0.4, 5), compute_uv=False)
    np.testing.assert_allclose(np.diag(gram), s, rtol=1e-4)


def test_factor_below_rank_is_the_best_low_rank_approximation():
    # Eckart-Young: the singular values of A B^T are the target's top `rank` ones.
    a, b = (to_numpy(x).astype(np.float64) for x in _factor(6, 2, 0.7, 0.7, 3))
    s = np.linalg.svd(_target(6, 0.7, 0.7, 3), compute_uv=False)
    np.testing.assert_allclose(np.linalg.svd(a @ b.T, compute_uv=False)[:2], s[:2], rtol=1e-4)


def test_factor_with_a_seed_is_deterministic_and_unseeded_works():
    first = [to_numpy(x) for x in _factor(4, 6, 0.7, 0.7, 9)]
    second = [to_numpy(x) for x in _factor(4, 6, 0.7, 0.7, 9)]
    for x, y in zip(first, second):
        np.testing.assert_array_equal(x, y)
    a, b = _factor(4, 6, 0.7, 0.7, None)
    assert tuple(a.shape) == (4, 6)


def test_factor_does_not_follow_floatx():
    expected = [to_numpy(x) for x in _factor(4, 6, 0.7, 0.7, 9)]
    old = keras.config.floatx()
    try:
        keras.config.set_floatx("float16")
        got = [to_numpy(x) for x in _factor(4, 6, 0.7, 0.7, 9)]
    finally:
        keras.config.set_floatx(old)
    for x, y in zip(expected, got):
        assert y.dtype == np.float32
        np.testing.assert_allclose(x, y, atol=1e-6)


# ------------------------------------------------------------- mimetic ---

def _vo_diag_mean(attention):
    v = to_numpy(attention._value_dense.kernel).astype(np.float64)
    o = to_numpy(attention._output_dense.kernel).astype(np.float64)
    vo = v.reshape(v.shape[0], -1) @ o.reshape(-1, o.shape[-1])
    return float(np.mean(np.diag(vo)))


def _two_attention_model(first_output_shape=None, cross=False):
    x = keras.Input((SEQ, D))
    other = keras.Input((SEQ, D))
    a1 = keras.layers.MultiHeadAttention(HEADS, KEY, output_shape=first_output_shape, name="a1")
    h = a1(x, other) if cross else a1(x, x)
    if first_output_shape is not None:
        h = keras.layers.Dense(D)(h)
    a2 = keras.layers.MultiHeadAttention(HEADS, KEY, name="a2")
    h = keras.layers.Add()([h, a2(h, h)])
    return keras.Model([x, other], h), a1, a2


def test_mimetic_gives_every_square_self_attention_its_vo_target():
    # W_v W_o = a2 Z - b2 I with (a2, b2) = (0.4, 0.4): its diagonal averages
    # -0.4 (Z_ii ~ N(0, 1/d): the mean of d of them is 0.4/d = 0.05 wide);
    # under Xavier the diagonal averages 0.
    model, a1, a2 = _two_attention_model()
    ki.init_transformer(model, "mimetic", seed=0)
    for attention in (a1, a2):
        assert _vo_diag_mean(attention) == pytest.approx(-0.4, abs=0.2)


def test_mimetic_skips_a_non_square_attention_and_goes_on():
    model, a1, a2 = _two_attention_model(first_output_shape=12)
    report = ki.init_transformer(model, "mimetic", seed=0)
    assert any("a1 is not a square self-attention" in n for n in report.notes)
    assert _vo_diag_mean(a2) == pytest.approx(-0.4, abs=0.2)


def test_mimetic_gives_cross_attention_xavier():
    model, a1, a2 = _two_attention_model(cross=True)
    report = ki.init_transformer(model, "mimetic", seed=0)
    assert any("a1 is not a square self-attention" in n for n in report.notes)
    assert _vo_diag_mean(a1) == pytest.approx(0.0, abs=0.2)


def test_mimetic_gives_grouped_query_attention_xavier():
    x = keras.Input((SEQ, D))
    gqa = keras.layers.GroupQueryAttention(KEY, num_query_heads=2, num_key_value_heads=1,
                                           name="gqa")
    model = keras.Model(x, keras.layers.Add()([x, gqa(x, x)]))
    report = ki.init_transformer(model, "mimetic", seed=0)
    assert any("gqa is not a square self-attention" in n for n in report.notes)


def test_mimetic_with_a_frozen_query_still_reaches_the_next_attention():
    model, a1, a2 = _two_attention_model()
    a1._query_dense.trainable = False
    ki.init_transformer(model, "mimetic", seed=0)
    assert _vo_diag_mean(a2) == pytest.approx(-0.4, abs=0.2)


def test_mimetic_unseeded_runs():
    model, a1, _ = _two_attention_model()
    ki.init_transformer(model, "mimetic")
    assert _vo_diag_mean(a1) == pytest.approx(-0.4, abs=0.2)


# ----------------------------------------------------------- keras_hub ---

def _hub_encoder(blocks=2, extra=None):
    """`blocks` keras_hub TransformerEncoders; `extra` adds a sublayer to a
    subclass: "built" (a Dense made in build, tracked last), "first" (a Dense
    made in __init__, tracked first), "prenorm" (a LayerNormalization made in
    __init__) or "nested" (a Sequential holding one Dense, made in __init__)."""
    keras_hub = pytest.importorskip("keras_hub")
    if extra in ("first", "prenorm", "nested") and keras.backend.backend() == "torch":
        # torch.nn.Module refuses attribute assignment before Module.__init__;
        # role detection itself does not depend on the backend.
        pytest.skip("a sublayer set before __init__ is impossible on the torch backend")

    class WithExtra(keras_hub.layers.TransformerEncoder):
        def __init__(self, **kwargs):
            if extra == "first":
                self.extra = keras.layers.Dense(D, name="extra")
            elif extra == "prenorm":
                self.extra = keras.layers.LayerNormalization(name="extra")
            elif extra == "nested":
                self.extra = keras.Sequential([keras.layers.Dense(D, name="inner")],
                                              name="extra")
            super().__init__(**kwargs)

        def build(self, input_shape):
            super().build(input_shape)
            if extra == "built":
                self.extra = keras.layers.Dense(D, name="extra")
            elif extra == "qknorm":  # a self-attention layer holding a norm
                attention = _QKNormAttention(HEADS, D // HEADS, name="self_attention")
                attention.build(input_shape, input_shape)
                self._self_attention_layer = attention
                self.extra = attention.qk_norm
            elif extra == "wrapped":  # a layer holding exactly one Dense
                self.extra = _Wrap1(name="extra")
            self.extra.build(input_shape)

    cls = WithExtra if extra else keras_hub.layers.TransformerEncoder
    x = keras.Input((SEQ, D))
    h = x
    encoders = []
    for i in range(blocks):
        enc = cls(intermediate_dim=16, num_heads=HEADS, name=f"enc{i}")
        encoders.append(enc)
        h = enc(h)
    return keras.Model(x, keras.layers.Dense(3)(h)), encoders


def test_hub_encoder_norms_belong_to_their_block():
    model, encoders = _hub_encoder()
    roles, _ = detect_roles(model)
    for i, enc in enumerate(encoders):
        norms = [r for r in roles if r.role == "norm" and r.owner is enc]
        # Two LayerNorms (attention, FFN), each gamma and beta.
        assert len(norms) == 4
        assert all(r.block == i and r.part == "encoder" for r in norms)


def test_hub_encoder_blocks_are_zeroed_by_zero_residual():
    model, encoders = _hub_encoder()
    ki.zero_residual(model, "zero_last")
    for enc in encoders:
        assert not to_numpy(enc._self_attention_layer._output_dense.kernel).any()
        assert not to_numpy(enc._feedforward_output_dense.kernel).any()


@pytest.mark.parametrize("extra", ["built", "first"])
def test_hub_encoder_sublayer_without_a_role_is_listed(extra):
    model, _ = _hub_encoder(blocks=1, extra=extra)
    _, skipped = detect_roles(model)
    assert ("extra", "Dense inside WithExtra: no known role") in skipped


def test_hub_encoder_lists_the_leaf_not_its_container():
    model, _ = _hub_encoder(blocks=1, extra="nested")
    _, skipped = detect_roles(model)
    assert [name for name, why in skipped if "inside WithExtra" in why] == ["inner"]


class _QKNormAttention(keras.layers.MultiHeadAttention):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.qk_norm = keras.layers.LayerNormalization(name="extra")


class _Wrap1(keras.layers.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.inner = keras.layers.Dense(D, name="inner")

    def build(self, input_shape):
        self.inner.build(input_shape)

    def call(self, x):
        return self.inner(x)


def test_hub_encoder_lists_the_leaf_of_a_one_layer_container():
    model, _ = _hub_encoder(blocks=1, extra="wrapped")
    _, skipped = detect_roles(model)
    assert [name for name, why in skipped if "inside WithExtra" in why] == ["inner"]


def test_hub_encoder_norm_inside_its_attention_is_a_norm_of_the_block():
    model, (enc,) = _hub_encoder(blocks=1, extra="qknorm")
    roles, skipped = detect_roles(model)
    norm = [r for r in roles if r.layer is enc.extra]
    assert {(r.role, r.weight, r.block) for r in norm} == {("norm", "gamma", 0), ("norm", "beta", 0)}
    assert not [name for name, _ in skipped if name == "extra"]


def test_hub_encoder_extra_norm_tracked_first_is_a_norm_of_the_block():
    model, (enc,) = _hub_encoder(blocks=1, extra="prenorm")
    roles, _ = detect_roles(model)
    norm = [r for r in roles if r.layer is enc.extra]
    assert {(r.role, r.weight, r.block) for r in norm} == {("norm", "gamma", 0), ("norm", "beta", 0)}


@pytest.mark.parametrize(
    "shape,axis",
    [((8, 3, 2, 4), 1),  # an axis of size 3 after the input axis
     ((8, 4, 3), 2),
     ((3, 8, 6), 2),  # the input axis does not count; last axis 6 = 3 * 2
     ((8, 12), 1), ((8, 6), 1), ((8, 4, 6), 2),
     ((8, 10), None), ((), None)],
)
def test_qkv_axis(shape, axis):
    assert _qkv_axis(shape) == axis


# ------------------------------------------------------ registered roles ---

class _Attn(keras.layers.Layer):
    """Single-head attention from four Dense layers (q, k, v, o)."""

    def __init__(self, d, **kwargs):
        super().__init__(**kwargs)
        self.q, self.k = keras.layers.Dense(d, name="q"), keras.layers.Dense(d, name="k")
        self.v, self.o = keras.layers.Dense(d, name="v"), keras.layers.Dense(d, name="o")

    def call(self, x, context=None):
        context = x if context is None else context
        scores = keras.ops.einsum("btd,bsd->bts", self.q(x), self.k(context))
        return self.o(keras.ops.einsum("bts,bsd->btd", keras.ops.softmax(scores), self.v(context)))


class _Block(keras.layers.Layer):
    """Pre-norm block with self-attention, cross-attention and an FFN."""

    def __init__(self, d, is_decoder=True, **kwargs):
        super().__init__(**kwargs)
        self.is_decoder = is_decoder
        self.ln = keras.layers.LayerNormalization(name="ln")
        self.attn, self.cross = _Attn(d, name="attn"), _Attn(d, name="cross")
        self.up, self.down = keras.layers.Dense(2 * d, name="up"), keras.layers.Dense(d, name="down")

    def call(self, inputs):
        x, memory = inputs
        x = x + self.attn(self.ln(x))
        x = x + self.cross(x, memory)
        return x + self.down(self.up(x))


class _Embed(keras.layers.Layer):
    """A registered non-block layer: a token table (LoRA-enabled) and a norm."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.table = keras.layers.Embedding(10, D, name="table")
        self.norm = keras.layers.LayerNormalization(name="norm")

    def call(self, tokens):
        return self.norm(self.table(tokens))


class _Final(keras.layers.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.norm = keras.layers.LayerNormalization(name="final_ln")

    def call(self, x):
        return self.norm(x)


def _registered_model():
    ki.register_roles(_Block, {"attn.q": "q", "attn.k": "k", "attn.v": "v", "attn.o": "o",
                               "ln": "norm", "up": "ffn_in", "down": "ffn_out"},
                      part="auto:is_decoder",
                      cross={"cross.q": "q", "cross.k": "k", "cross.v": "v", "cross.o": "o"})
    ki.register_roles(_Embed, {"table": "embedding", "norm": "norm"})
    ki.register_roles(_Final, {"norm": "norm"})
    tokens, memory = keras.Input((SEQ,), dtype="int32"), keras.Input((SEQ, D))
    embed = _Embed(name="embed")
    x = embed(tokens)
    blocks = [_Block(D, is_decoder=True, name="b0"), _Block(D, is_decoder=False, name="b1")]
    h0, h1 = blocks[0]([x, memory]), blocks[1]([x, memory])
    final = _Final(name="final")
    model = keras.Model([tokens, memory], [final(h0), h1])
    embed.table.enable_lora(2)
    return model, embed, blocks, final


def test_registered_roles_blocks_parts_cross_and_attention():
    model, embed, (b0, b1), final = _registered_model()
    roles, _ = detect_roles(model)
    by = {id(r.variable): r for r in roles}

    # Self-attention: the attention is the layer holding q/k/v/o ("attn").
    q0 = by[id(b0.attn.q.kernel)]
    assert (q0.role, q0.block, q0.part, q0.cross) == ("q", 0, "decoder", False)
    assert q0.attention is b0.attn
    # Cross-attention of the same block.
    for name in "qkvo":
        r = by[id(getattr(b0.cross, name).kernel)]
        assert (r.role, r.block, r.part, r.cross) == (name, 0, "decoder", True)
        assert r.attention is b0.cross
    # part="auto:is_decoder": b1 is an encoder block.
    assert by[id(b1.attn.q.kernel)].part == "encoder" and by[id(b1.attn.q.kernel)].block == 0
    # FFN and norm roles: in the block, no attention.
    up = by[id(b0.up.kernel)]
    assert (up.role, up.block, up.attention) == ("ffn_in", 0, None)
    assert (by[id(b0.ln.gamma)].role, by[id(b0.ln.gamma)].block) == ("norm", 0)

    # A non-block layer: its embedding has no block; LoRA factors get no role.
    table = by[id(embed.table._embeddings)]  # the variable (LoRA merges the property)
    assert (table.role, table.weight, table.block, table.part) == (
        "embedding", "embeddings", None, "encoder")
    assert not any(v.name.startswith("lora_") and id(v) in by for v in embed.table.weights)
    # A non-block norm after a block belongs to the latest block upstream of
    # it (b0), not to the block visited last (b1).
    ln = by[id(final.norm.gamma)]
    assert (ln.role, ln.block, ln.part) == ("norm", 0, "decoder")


# ------------------------------ registered block: what its adapter omits ---

class _Wrap(keras.layers.Layer):
    def __init__(self, d, **kwargs):
        super().__init__(**kwargs)
        self.attn = _Attn(d, name="attn")

    def call(self, x):
        return self.attn(x)


class _Mixed(keras.layers.Layer):
    """A registered block whose adapter names only some parts. Tracked in this
    order: an unnamed norm, a named 3-level q/k/v path, a named o, two unnamed
    attentions (self, then cross), an unnamed Dense, a named norm."""

    def __init__(self, d, **kwargs):
        super().__init__(**kwargs)
        self.pre = keras.layers.LayerNormalization(name="pre")
        self.inner = _Wrap(d, name="inner")
        self.oproj = keras.layers.Dense(d, name="oproj")
        self.mha = keras.layers.MultiHeadAttention(HEADS, KEY, name="mha")
        self.mha2 = keras.layers.MultiHeadAttention(HEADS, KEY, name="mha2")
        self.extra = keras.layers.Dense(d, name="extra")
        self.ln = keras.layers.LayerNormalization(name="ln")

    def call(self, inputs):
        x, memory = inputs
        x = x + self.oproj(self.inner(self.pre(x)))
        x = x + self.mha(x, x)
        x = x + self.mha2(x, memory)
        return self.ln(x + self.extra(x))


class _Head(keras.layers.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.proj = keras.layers.Dense(3, name="proj")

    def call(self, x):
        return self.proj(x)


def _build_mixed():
    ki.register_roles(_Mixed, {"inner.attn.q": "q", "inner.attn.k": "k", "inner.attn.v": "v",
                               "oproj": "o", "ln": "norm", "pre.gamma": "norm"}, part="decoder")
    ki.register_roles(_Head, {"proj": "head"})
    x, memory = keras.Input((SEQ, D)), keras.Input((SEQ, D))
    block, head = _Mixed(D, name="mixed"), _Head(name="top")
    return keras.Model([x, memory], head(block([x, memory]))), block, head


def _mixed_model():
    model, block, head = _build_mixed()
    roles, skipped = detect_roles(model)
    return block, head, {id(r.variable): r for r in roles}, skipped


def test_registered_block_unnamed_norm_tracked_first_belongs_to_the_block():
    block, _, by, _ = _mixed_model()
    for variable, weight in ((block.pre.gamma, "gamma"), (block.pre.beta, "beta")):
        r = by[id(variable)]
        assert (r.role, r.weight, r.block, r.part) == ("norm", weight, 0, "decoder")


def test_registered_block_gives_each_variable_one_role():
    # "pre.gamma" is claimed by its path, then met again when the unnamed
    # norm `pre` is found by type: the first claim wins.
    model, block, _ = _build_mixed()
    roles, _ = detect_roles(model)
    assert len(roles) == len({id(r.variable) for r in roles})
    assert [r.weight for r in roles if r.variable is block.pre.gamma] == ["gamma"]


def test_registered_block_named_norm_beta_is_beta():
    block, _, by, _ = _mixed_model()
    assert by[id(block.ln.gamma)].weight == "gamma"
    assert by[id(block.ln.beta)].weight == "beta"


def test_registered_attention_is_the_parent_of_the_path():
    block, _, by, _ = _mixed_model()
    for name in "qkv":  # "inner.attn.q": the attention is inner.attn
        assert by[id(getattr(block.inner.attn, name).kernel)].attention is block.inner.attn
    assert by[id(block.oproj.kernel)].attention is block  # "oproj": the block itself


def test_registered_block_unnamed_attentions_are_self_then_cross():
    block, _, by, _ = _mixed_model()
    first, second = by[id(block.mha._query_dense.kernel)], by[id(block.mha2._query_dense.kernel)]
    assert (first.role, first.block, first.part, first.cross) == ("q", 0, "decoder", False)
    assert (second.role, second.block, second.part, second.cross) == ("q", 0, "decoder", True)
    assert first.attention is block.mha and second.attention is block.mha2


def test_registered_block_unnamed_dense_is_listed_not_guessed():
    block, _, by, skipped = _mixed_model()
    assert id(block.extra.kernel) not in by
    assert ("extra", "Dense inside _Mixed (no graph): FFN or head cannot be told apart") in skipped


def test_registered_head_after_a_block_has_no_block():
    _, head, by, _ = _mixed_model()
    r = by[id(head.proj.kernel)]
    assert (r.role, r.block) == ("head", None)


# ------------------------------------------------------- _weight_kind ---

@pytest.mark.parametrize("name, role, kind", [
    ("beta", "norm", "beta"), ("bias", "norm", "beta"), ("offset", "norm", "beta"),
    ("gamma", "norm", "gamma"), ("scale", "norm", "gamma"),
    ("bias", "q", "bias"), ("query_bias", "q", "bias"), ("kernel", "q", "kernel"),
    # T5's relative_attention_bias is a learned table, not an additive bias.
    ("relative_attention_bias", "q", "kernel"),
    ("embeddings", "embedding", "embeddings"), ("position_embeddings", "position", "embeddings"),
    ("reverse_embeddings", "head", "kernel"),
])
def test_weight_kind_from_the_variable_name(name, role, kind):
    from types import SimpleNamespace

    from keras_inits.transformer import _weight_kind

    assert _weight_kind(SimpleNamespace(name=name), role) == kind


# -------------------------------------------------- qkv only for qkv ---

def _ffn_model(width):
    x = keras.Input((SEQ, D))
    h = keras.layers.Add()([x, keras.layers.MultiHeadAttention(HEADS, KEY)(x, x)])
    up = keras.layers.Dense(width, activation="relu", name="up")
    down = keras.layers.Dense(D, name="down")
    return keras.Model(x, keras.layers.Add()([h, down(up(h))])), up


def test_xavier_ffn_kernel_of_width_divisible_by_3_is_not_split_as_qkv():
    # Only a "qkv" kernel is drawn in three chunks; an FFN kernel (8, 12) is
    # U(+-sqrt(3) sqrt(2 / (8 + 12))) = U(+-0.5477); split in three chunks it
    # would be U(+-sqrt(3) sqrt(2 / (8 + 4))) = U(+-0.7071).
    model, up = _ffn_model(12)
    report = ki.init_transformer(model, "xavier", seed=0)
    row = [r for r in report.rows if r.layer == up.kernel.path]
    assert len(row) == 1 and row[0].note.endswith("U(+-0.5477)"), row


# ------------------------------------------ graph attention: self/cross ---

def _roles_of(model, attention):
    roles, _ = detect_roles(model)
    return [r for r in roles if r.attention is attention and r.weight == "kernel"]


@pytest.mark.parametrize("call", ["kw", "value_kw"])
def test_attention_called_with_keywords_on_itself_is_self_attention(call):
    x = keras.Input((SEQ, D))
    mha = keras.layers.MultiHeadAttention(HEADS, KEY, name="mha")
    h = mha(query=x, value=x) if call == "kw" else mha(x, value=x)
    model = keras.Model(x, h)
    roles = _roles_of(model, mha)
    assert len(roles) == 4 and all(r.cross is False and r.part == "encoder" for r in roles)


@pytest.mark.parametrize("call", ["kw", "positional"])
def test_attention_with_a_different_key_is_cross_attention(call):
    x, m = keras.Input((SEQ, D)), keras.Input((SEQ, D))
    dec = keras.layers.MultiHeadAttention(HEADS, KEY, name="dec")
    h = dec(x, x, use_causal_mask=True)
    cross = keras.layers.MultiHeadAttention(HEADS, KEY, name="cross")
    out = cross(query=h, value=h, key=m) if call == "kw" else cross(h, h, m)
    model = keras.Model([x, m], out)
    roles = _roles_of(model, cross)
    assert len(roles) == 4
    assert all((r.cross, r.part, r.block) == (True, "decoder", 0) for r in roles)


@pytest.mark.parametrize("memory_first", [False, True])
def test_cross_attention_joins_the_latest_decoder_block_not_a_later_encoder(memory_first):
    # Whichever of the decoder's and the encoders' self-attention comes later
    # in the model's order, cross attention belongs to the decoder block.
    memory, tokens = keras.Input((SEQ, D)), keras.Input((SEQ, D))
    if memory_first:
        tokens, memory = memory, tokens
    dec = keras.layers.MultiHeadAttention(HEADS, KEY, name="dec")
    h = dec(tokens, tokens, use_causal_mask=True)
    # Two encoder blocks: the latest upstream one has index 1, the decoder's 0.
    enc0 = keras.layers.MultiHeadAttention(HEADS, KEY, name="enc0")
    e = enc0(memory, memory)
    enc = keras.layers.MultiHeadAttention(HEADS, KEY, name="enc")
    e = enc(e, e)
    cross = keras.layers.MultiHeadAttention(HEADS, KEY, name="cross")
    model = keras.Model([tokens, memory], cross(h, e))
    roles = _roles_of(model, cross)
    assert len(roles) == 4
    assert all((r.cross, r.part, r.block) == (True, "decoder", 0) for r in roles)
    assert all(r.part == "encoder" for r in _roles_of(model, enc))


def test_attention_of_a_subclassed_model_is_encoder_self_attention():
    class Sub(keras.Model):
        def __init__(self):
            super().__init__()
            self.mha = keras.layers.MultiHeadAttention(HEADS, KEY)

        def call(self, x):
            return self.mha(x, x)

    model = Sub()
    model(np.zeros((1, SEQ, D), "float32"))
    roles = _roles_of(model, model.mha)
    assert len(roles) == 4
    assert all(r.cross is False and (r.part, r.block) == ("encoder", 0) for r in roles)


# ------------------------------------------------- Conv1D kernel fans ---

class _ConvBlock(keras.layers.Layer):
    """A GPT-style block whose FFN input is a Conv1D (kernel (k, in, out))."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.mha = keras.layers.MultiHeadAttention(HEADS, KEY, name="mha")
        self.fc = keras.layers.Conv1D(2 * D, 3, padding="same", name="fc")
        self.proj = keras.layers.Dense(D, name="proj")

    def call(self, x):
        x = x + self.mha(x, x)
        return x + self.proj(self.fc(x))


def test_conv1d_kernel_of_a_registered_block_uses_conv_fans():
    # Xavier with Keras' conv fans: (3 * 8, 3 * 16) -> limit sqrt(3) sqrt(2 / 72)
    # = 0.2887 (in/out of the last two axes alone would give 0.3536).
    ki.register_roles(_ConvBlock, {"fc": "ffn_in", "proj": "ffn_out"})
    x = keras.Input((SEQ, D))
    block = _ConvBlock(name="convblock")
    model = keras.Model(x, block(x))
    report = ki.init_transformer(model, "xavier", seed=0)
    row = [r for r in report.rows if r.layer == block.fc.kernel.path]
    assert len(row) == 1 and row[0].note.endswith("U(+-0.2887)"), row


# ------------------------------------- embeddings, positions, qkv plans ---

def _note(report, variable):
    rows = [r for r in report.rows if r.layer == variable.path]
    assert len(rows) == 1, rows
    return rows[0].note


def _embedded_model():
    keras_hub = pytest.importorskip("keras_hub")
    tokens = keras.Input((SEQ,), dtype="int32")
    table = keras.layers.Embedding(10, D, name="table")
    position = keras_hub.layers.PositionEmbedding(SEQ, name="position")
    h = table(tokens)
    h = keras.layers.Add()([h, position(h)])
    h = keras.layers.Add()([h, keras.layers.MultiHeadAttention(HEADS, KEY)(h, h)])
    return keras.Model(tokens, keras.layers.Dense(3)(h)), table, position


def test_small_init_draws_token_and_position_tables():
    # Nguyen & Salazar 2019: N(0, sqrt(2 / (5 d))), d = 8: std 0.2236.
    model, table, position = _embedded_model()
    report = ki.init_transformer(model, "small_init", seed=0)
    assert _note(report, table.embeddings) == "N(0, 0.2236)"
    assert _note(report, position.position_embeddings) == "N(0, 0.2236)"


def test_t_fixup_embeddings_scaled_by_9n_to_the_minus_quarter():
    # Huang et al. 2020: N(0, d^-1/2) x (9N)^(-1/4); d = 8, N = 1 encoder
    # block: 0.35355 x 0.57735 = 0.2041 (also for the position table).
    model, table, position = _embedded_model()
    report = ki.init_transformer(model, "t_fixup", seed=0)
    assert _note(report, table.embeddings) == "N(0, 0.2041)"
    assert _note(report, position.position_embeddings) == "N(0, 0.2041)"


def _fields(role):
    return role.layer, role.role, role.weight, role.block


def test_token_and_position_tables_roles_name_their_layer():
    model, table, position = _embedded_model()
    roles, _ = detect_roles(model)
    by = {id(r.variable): r for r in roles}
    assert _fields(by[id(table.embeddings)]) == (table, "embedding", "embeddings", None)
    assert _fields(by[id(position.position_embeddings)]) == (position, "position", "embeddings", None)


@pytest.mark.parametrize("tie", [True, False])
def test_reversible_embedding_untied_table_is_the_head(tie):
    tokens = keras.Input((SEQ,), dtype="int32")
    emb = keras.layers.ReversibleEmbedding(10, D, tie_weights=tie, name="emb")
    h = emb(tokens)
    h = keras.layers.Add()([h, keras.layers.MultiHeadAttention(HEADS, KEY)(h, h)])
    model = keras.Model(tokens, emb(h, reverse=True))
    roles, skipped = detect_roles(model)
    mine = [_fields(r) + (r.variable.path,) for r in roles if r.layer is emb or r.variable.path.startswith("emb/")]
    expected = [(emb, "embedding", "embeddings", None, "emb/embeddings")]
    if not tie:
        expected.append((emb, "head", "kernel", None, "emb/reverse_embeddings"))
    assert mine == expected
    assert skipped == []


class _FusedBlock(keras.layers.Layer):
    """A block with a fused (width, 3 D) qkv kernel on inputs of `width`."""

    def __init__(self, width=D, **kwargs):
        super().__init__(**kwargs)
        self.qkv = keras.layers.Dense(3 * D, name="qkv")
        self.out = keras.layers.Dense(width, name="out")

    def call(self, x):
        q, k, v = keras.ops.split(self.qkv(x), 3, axis=-1)
        scores = keras.ops.softmax(keras.ops.einsum("btd,bsd->bts", q, k))
        return x + self.out(keras.ops.einsum("bts,bsd->btd", scores, v))


def _fused_model(width=D):
    ki.register_roles(_FusedBlock, {"qkv": "qkv", "out": "o"})
    x = keras.Input((SEQ, width))
    block = _FusedBlock(width, name="fused")
    return keras.Model(x, block(x)), block


def test_gpt2_fused_qkv_is_one_draw():
    model, block = _fused_model()
    report = ki.init_transformer(model, "gpt2", seed=0)
    assert _note(report, block.qkv.kernel) == "encoder block 0; N(0, 0.02)"


def test_small_init_leaves_a_fused_qkv_kernel():
    ki.register_roles(_FusedBlock, {"qkv": "qkv", "out": "o"})
    tokens = keras.Input((SEQ,), dtype="int32")
    block = _FusedBlock(name="fused")
    model = keras.Model(tokens, block(keras.layers.Embedding(10, D)(tokens)))
    kernel = to_numpy(block.qkv.kernel).copy()
    report = ki.init_transformer(model, "small_init", seed=0)
    np.testing.assert_array_equal(to_numpy(block.qkv.kernel), kernel)
    assert not [r for r in report.rows if r.layer == block.qkv.kernel.path]


def test_xavier_fused_qkv_is_drawn_per_projection():
    # Each of q, k, v: fans (8, 8): U(+-sqrt(3) sqrt(2 / 16)) = U(+-0.6124).
    model, block = _fused_model()
    report = ki.init_transformer(model, "xavier", seed=0)
    assert _note(report, block.qkv.kernel) == (
        "encoder block 0; q|k|v: U(+-0.6124) | U(+-0.6124) | U(+-0.6124)")


class _GatedBlock(keras.layers.Layer):
    """Attention plus a gated FFN: up * silu(gate), then down."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.mha = keras.layers.MultiHeadAttention(HEADS, KEY, name="mha")
        self.up = keras.layers.Dense(2 * D, name="up")
        self.gate = keras.layers.Dense(2 * D, name="gate")
        self.down = keras.layers.Dense(D, name="down")

    def call(self, x):
        x = x + self.mha(x, x)
        return x + self.down(self.up(x) * keras.ops.silu(self.gate(x)))


@pytest.mark.parametrize("scheme, expected", [
    # DeepNorm, encoder-only N = 1: beta = (8N)^(-1/4) = 0.5946 times Xavier
    # normal sqrt(2 / (8 + 16)) = 0.2887: N(0, 0.1716).
    ("deepnet", "N(0, 0.1716)"),
    # T-Fixup encoder: 0.67 N^(-1/4) times Xavier uniform sqrt(3) 0.2887 = 0.5.
    ("t_fixup", "U(+-0.335)"),
])
def test_gate_kernel_of_a_gated_ffn_is_scaled_like_the_ffn(scheme, expected):
    ki.register_roles(_GatedBlock, {"up": "ffn_in", "gate": "ffn_gate", "down": "ffn_out"})
    x = keras.Input((SEQ, D))
    block = _GatedBlock(name="gated")
    model = keras.Model(x, block(x))
    report = ki.init_transformer(model, scheme, seed=0)
    assert _note(report, block.gate.kernel) == f"encoder block 0; {expected}"
    assert _note(report, block.up.kernel) == f"encoder block 0; {expected}"


class _CrossOnly(keras.layers.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.cross = _Attn(D, name="cross")

    def call(self, inputs):
        x, memory = inputs
        return x + self.cross(x, memory)


def test_a_layer_with_only_cross_attention_roles_is_a_block():
    ki.register_roles(_CrossOnly, {}, part="decoder",
                      cross={"cross.q": "q", "cross.k": "k", "cross.v": "v", "cross.o": "o"})
    x, memory = keras.Input((SEQ, D)), keras.Input((SEQ, D))
    layer = _CrossOnly(name="cross_only")
    model = keras.Model([x, memory], layer([x, memory]))
    roles, _ = detect_roles(model)
    v = [r for r in roles if r.variable is layer.cross.v.kernel]
    assert [(r.role, r.block, r.part, r.cross) for r in v] == [("v", 0, "decoder", True)]


def test_report_notes_name_the_constants_of_norms_and_biases():
    x = keras.Input((SEQ, D))
    mha = keras.layers.MultiHeadAttention(HEADS, KEY, name="mha")
    norm = keras.layers.LayerNormalization(name="norm")
    model = keras.Model(x, norm(keras.layers.Add()([x, mha(x, x)])))
    report = ki.init_transformer(model, "xavier", seed=0)
    assert _note(report, norm.gamma) == "encoder block 0; = 1"
    assert _note(report, norm.beta) == "encoder block 0; = 0"
    assert _note(report, mha._query_dense.bias) == "encoder block 0; = 0"


def test_fused_qkv_chunks_are_seeded_distinct_and_of_the_kernel_shape():
    model, block = _fused_model(width=6)  # kernel (6, 24): three projections of 8
    ki.init_transformer(model, "xavier", seed=3)
    first = to_numpy(block.qkv.kernel).copy()
    assert first.shape == (6, 24)
    q, k, v = first[:, :8], first[:, 8:16], first[:, 16:]
    assert not np.array_equal(q, k) and not np.array_equal(k, v) and not np.array_equal(q, v)
    # Each chunk: fans (6, 8), U(+-sqrt(3) sqrt(2 / 14)) = U(+-0.6547).
    assert np.abs(first).max() <= 0.6547 + 1e-6
    ki.init_transformer(model, "xavier", seed=3)
    np.testing.assert_array_equal(to_numpy(block.qkv.kernel), first)


def test_schemes_draw_in_float32_whatever_floatx():
    # Variables stay float32; floatx float16 must not round the draws.
    model, block = _fused_model()
    got = {}
    for floatx in ("float32", "float16"):
        old = keras.config.floatx()
        keras.config.set_floatx(floatx)
        try:
            for scheme in ("xavier", "gpt2"):
                before = {v.path: float(np.std(to_numpy(v).astype(np.float64)))
                          for v in model.weights}
                report = ki.init_transformer(model, scheme, seed=1)
                got[(floatx, scheme)] = [to_numpy(v).copy() for v in model.weights]
                # The report's stds are float32 stds of the float32 weights.
                for row in report.rows:
                    v = next(v for v in model.weights if v.path == row.layer)
                    assert row.before == pytest.approx(before[row.layer], rel=1e-5, abs=1e-7)
                    assert row.after == pytest.approx(
                        float(np.std(to_numpy(v).astype(np.float64))), rel=1e-5, abs=1e-7)
        finally:
            keras.config.set_floatx(old)
    for scheme in ("xavier", "gpt2"):
        for a, b in zip(got[("float32", scheme)], got[("float16", scheme)]):
            np.testing.assert_array_equal(a, b)


# ------------------------------------------------- init_transformer args ---

def _small_encoder():
    x = keras.Input((SEQ, D))
    mha = keras.layers.MultiHeadAttention(HEADS, KEY, name="mha")
    return keras.Model(x, keras.layers.Add()([x, mha(x, x)])), mha


def test_init_transformer_errors_name_the_argument_and_value():
    model, _ = _small_encoder()
    with pytest.raises(TypeError, match=r"`model` must be a keras.Model\. Received: model of type list"):
        ki.init_transformer([model])
    with pytest.raises(TypeError, match=r"`seed`.*seed=1\.5"):
        ki.init_transformer(model, seed=1.5)
    with pytest.raises(ValueError, match=r"^Argument `num_layers` must be a positive integer or "
                                         r"None\. Received: num_layers=0$"):
        ki.init_transformer(model, num_layers=0)
    with pytest.raises(ValueError, match=r"`initializer_range`.*initializer_range=0"):
        ki.init_transformer(model, initializer_range=0)


def test_init_transformer_on_a_built_model_without_weights_says_so():
    x = keras.Input((SEQ, D))
    model = keras.Model(x, keras.layers.ReLU()(x))
    with pytest.raises(ValueError, match="is not built or has no weights"):
        ki.init_transformer(model)


def test_gpt2_with_num_layers_1():
    # GPT-2: residual projections N(0, 0.02 / sqrt(2 L)), L = 1: 0.01414.
    model, mha = _small_encoder()
    report = ki.init_transformer(model, "gpt2", num_layers=1, seed=0)
    assert _note(report, mha._output_dense.kernel) == "encoder block 0; N(0, 0.01414)"


@pytest.mark.parametrize("part", ["encoder", "decoder"])
def test_deepnet_num_layers_replaces_the_depth_of_the_part_found(part):
    # One block found, num_layers=6: DeepNorm's encoder-only / decoder-only
    # row with N = 6: alpha = (2N)^(1/4) = 1.861, beta = (8N)^(-1/4) = 0.3799;
    # the other part is absent (not an encoder-decoder model).
    x = keras.Input((SEQ, D))
    h = keras.layers.MultiHeadAttention(HEADS, KEY)(x, x, use_causal_mask=part == "decoder")
    model = keras.Model(x, keras.layers.Add()([x, h]))
    report = ki.init_transformer(model, "deepnet", num_layers=6, seed=0)
    deepnet = [n for n in report.notes if n.startswith("deepnet ")]
    assert deepnet == [f"deepnet {part}: beta = 0.3799 applied; use residual alpha = 1.861 "
                       "(LN(alpha * x + f(x)) in each post-LN block)"]


def test_small_init_with_only_a_position_table():
    keras_hub = pytest.importorskip("keras_hub")
    x = keras.Input((SEQ, D))
    position = keras_hub.layers.PositionEmbedding(SEQ, name="position")
    h = keras.layers.Add()([x, position(x)])
    model = keras.Model(x, keras.layers.Add()([h, keras.layers.MultiHeadAttention(HEADS, KEY)(h, h)]))
    report = ki.init_transformer(model, "small_init", seed=0)
    assert _note(report, position.position_embeddings) == "N(0, 0.2236)"


def test_init_transformer_reports_the_derived_copy_it_refreshed():
    # keras_hub's DINOv2 saves a copy of its position table; init_transformer
    # refreshes it (structure.roles.sync_derived) and says so in its notes.
    pytest.importorskip("keras_hub")
    from tests.test_hub_families import build

    report = ki.init_transformer(build("dinov2"), "gpt2", seed=0)
    assert any("position_embeddings: set from interpolated" in n for n in report.notes)


def test_init_transformer_report_rows_hold_role_stds_and_note():
    model, mha = _small_encoder()
    kernel = mha._query_dense.kernel
    before = float(np.std(to_numpy(kernel).astype(np.float64)))
    report = ki.init_transformer(model, "mimetic", seed=0)
    after = float(np.std(to_numpy(kernel).astype(np.float64)))
    (row,) = [r for r in report.rows if r.layer == kernel.path]
    assert (row.action, row.stat, row.note) == ("q kernel", "std", "encoder block 0; mimetic")
    assert row.before == pytest.approx(before, rel=1e-5)
    assert row.after == pytest.approx(after, rel=1e-5) and after != pytest.approx(before)


def test_small_init_draws_an_embedding_met_after_attention():
    x, tokens = keras.Input((SEQ, D)), keras.Input((SEQ,), dtype="int32")
    h = keras.layers.MultiHeadAttention(HEADS, KEY, name="mha")(x, x)
    table = keras.layers.Embedding(10, D, name="table")
    model = keras.Model([x, tokens], keras.layers.Add()([h, table(tokens)]))
    report = ki.init_transformer(model, "small_init", seed=0)
    assert _note(report, table.embeddings) == "N(0, 0.2236)"


def test_layers_before_any_attention_are_input_projection_and_blockless_norm():
    x = keras.Input((SEQ, D))
    proj = keras.layers.Dense(D, name="proj")
    norm = keras.layers.LayerNormalization(name="norm")
    h = norm(proj(x))
    model = keras.Model(x, keras.layers.Add()([h, keras.layers.MultiHeadAttention(HEADS, KEY)(h, h)]))
    roles, _ = detect_roles(model)
    by = {id(r.variable): r for r in roles}
    assert (by[id(proj.kernel)].role, by[id(proj.kernel)].block) == ("input", None)
    assert (by[id(proj.bias)].role, by[id(proj.bias)].weight) == ("input", "bias")
    assert (by[id(proj.kernel)].part, by[id(proj.kernel)].cross) == ("encoder", False)
    for v in (norm.gamma, norm.beta):
        assert (by[id(v)].role, by[id(v)].block, by[id(v)].part) == ("norm", None, "encoder")


def test_cross_attention_without_a_decoder_block_is_not_counted_as_one():
    # A cross attention with no decoder self-attention upstream gets a block
    # of its own to hold its roles, but a block is counted by its
    # self-attention and FFN: 1 encoder and 0 decoder blocks.
    x, memory = keras.Input((SEQ, D)), keras.Input((SEQ, D))
    e = keras.layers.MultiHeadAttention(HEADS, KEY, name="enc")(memory, memory)
    out = keras.layers.MultiHeadAttention(HEADS, KEY, name="cross")(x, e)
    model = keras.Model([x, memory], out)
    report = ki.init_transformer(model, "xavier", seed=0)
    assert "found 1 encoder and 0 decoder blocks (L = 1)" in report.notes


# ------------------------------------------------ shared (reapplied) layers ---

class _TwoAttentions(keras.layers.Layer):
    """An unregistered subclassed layer holding two self-attention blocks."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.first = keras.layers.MultiHeadAttention(HEADS, KEY, name="first")
        self.second = keras.layers.MultiHeadAttention(HEADS, KEY, name="second")

    def call(self, x):
        x = x + self.first(x, x)
        return x + self.second(x, x)


class _Pair(keras.layers.Layer):
    """An unregistered subclassed layer with weights and no attention."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.a = keras.layers.Dense(D, name="a")
        self.b = keras.layers.Dense(D, name="b")

    def call(self, x):
        return x + self.b(self.a(x))


def test_a_shared_layer_holding_two_attentions_counts_both_per_application():
    from keras_inits.transformer import count_blocks

    x = keras.Input((SEQ, D))
    shared = _TwoAttentions(name="shared")
    model = keras.Model(x, shared(shared(x)))
    roles, _ = detect_roles(model)
    assert count_blocks(roles) == (4, 0)
    assert {(r.attention.name, r.block, r.uses) for r in roles} == {("first", 0, 2), ("second", 1, 2)}


def test_a_shared_attention_counts_once_per_application():
    from keras_inits.transformer import count_blocks

    x = keras.Input((SEQ, D))
    mha = keras.layers.MultiHeadAttention(HEADS, KEY, name="mha")
    h = x
    for _ in range(3):
        h = keras.layers.Add()([h, mha(h, h)])
    roles, _ = detect_roles(keras.Model(x, h))
    assert count_blocks(roles) == (3, 0) and {r.uses for r in roles} == {3}


def test_a_shared_weighted_layer_without_attention_is_no_block():
    from keras_inits.transformer import count_blocks

    x = keras.Input((SEQ, D))
    h = keras.layers.Add()([x, keras.layers.MultiHeadAttention(HEADS, KEY, name="mha")(x, x)])
    pair = _Pair(name="pair")
    roles, skipped = detect_roles(keras.Model(x, pair(pair(h))))
    assert count_blocks(roles) == (1, 0) and {r.uses for r in roles} == {1}
    reason = "Dense inside _Pair (no graph): FFN or head cannot be told apart"
    assert sorted(skipped) == [("a", reason), ("b", reason)]


class _Holds(keras.layers.Layer):
    """Holds an attention layer it does not apply (as Gemma3n's embedding
    processor holds its text model), plus a Dense of its own."""

    def __init__(self, attention, **kwargs):
        super().__init__(**kwargs)
        self.attention = attention
        self.dense = keras.layers.Dense(D, name="own")

    def build(self, shape):
        self.dense.build(shape)

    def call(self, x):
        return self.dense(x)


@pytest.mark.parametrize("held_first", [True, False])
def test_an_attention_also_held_by_a_later_layer_is_one_application(held_first):
    from keras_inits.transformer import count_blocks

    x = keras.Input((SEQ, D))
    mha = keras.layers.MultiHeadAttention(HEADS, KEY, name="mha")
    holder = _Holds(mha, name="holder")
    if held_first:  # met as an attribute first, then called
        h = holder(x)
        h = keras.layers.Add()([h, mha(h, h)])
    else:  # called first, then met as an attribute
        h = keras.layers.Add()([x, mha(x, x)])
        h = holder(h)
    roles, _ = detect_roles(keras.Model(x, h))
    assert count_blocks(roles) == (1, 0)
    assert {r.uses for r in roles if r.attention is mha} == {1}


@pytest.mark.parametrize("gated", [False, True])
def test_graph_ffn_branch_ends_in_ffn_out(gated):
    # The last projection of an attention-free residual branch writes into
    # the residual stream (ffn_out); the ones before it are ffn_in.
    x = keras.Input((SEQ, D))
    h = keras.layers.Add()([x, keras.layers.MultiHeadAttention(HEADS, KEY)(x, x)])
    up, down = keras.layers.Dense(2 * D, name="up"), keras.layers.Dense(D, name="down")
    inner = up(h)
    if gated:
        gate = keras.layers.Dense(2 * D, activation="silu", name="gate")
        inner = keras.layers.Multiply()([inner, gate(h)])
    model = keras.Model(x, keras.layers.Add()([h, down(inner)]))
    roles, _ = detect_roles(model)
    found = {r.layer.name: (r.role, r.block) for r in roles if r.weight == "kernel" and r.attention is None}
    expected = {"up": ("ffn_in", 0), "down": ("ffn_out", 0)}
    if gated:
        expected["gate"] = ("ffn_in", 0)
    assert found == expected


def test_draw_of_an_unknown_kind_names_it():
    from keras_inits.transformer import _draw

    with pytest.raises(ValueError, match="^Unknown draw 'laplace'.$"):
        _draw(("laplace", 1.0), (2, 2), 0)


def test_t_fixup_note_says_the_norms_were_kept():
    model, _ = _small_encoder()
    report = ki.init_transformer(model, "t_fixup", seed=0)
    assert ("t_fixup: the paper trains without LayerNorm; the model's norms were kept "
            "(gamma 1, beta 0)") in report.notes


# ------------- which block a layer met without a graph call belongs to ---

class _HoldsFinal(keras.layers.Layer):
    """An unregistered holder of a registered non-block layer (_Final): its
    sublayers are visited without a graph call, so _Final's norm joins the
    block applied last before the holder."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.final = _Final(name="final")
        self.proj = keras.layers.Dense(D, name="proj")

    def build(self, shape):
        self.final.norm.build(shape)
        self.proj.build(shape)

    def call(self, x):
        return self.proj(self.final(x))


def _final_norm_block(model, holder):
    roles, _ = detect_roles(model)
    (r,) = [r for r in roles if r.variable is holder.final.norm.gamma]
    return r.block


def _attend(mha, h):
    return keras.layers.Add()([h, mha(h, h)])


def _reapplied_attention(x):
    a = keras.layers.MultiHeadAttention(HEADS, KEY, name="a")
    b = keras.layers.MultiHeadAttention(HEADS, KEY, name="b")
    return _attend(a, _attend(b, _attend(a, x))), 0  # a's block, applied last


def _reapplied_holder(x):
    shared = _TwoAttentions(name="shared")
    c = keras.layers.MultiHeadAttention(HEADS, KEY, name="c")
    return shared(_attend(c, shared(x))), 1  # the last block inside `shared`


def _attribute_then_called(x):
    mha = keras.layers.MultiHeadAttention(HEADS, KEY, name="mha")
    b = keras.layers.MultiHeadAttention(HEADS, KEY, name="b")
    h = _attend(b, _Holds(mha, name="holds")(x))  # mha: block 0 (attribute); b: block 1
    return _attend(mha, h), 0


def _holder_attribute_then_called(x):
    shared = _TwoAttentions(name="shared")
    c = keras.layers.MultiHeadAttention(HEADS, KEY, name="c")
    h = _attend(c, _Holds(shared, name="holds")(x))  # shared: blocks 0, 1 (attribute); c: 2
    return shared(h), 1


@pytest.mark.parametrize("body", [_reapplied_attention, _reapplied_holder,
                                  _attribute_then_called, _holder_attribute_then_called])
def test_a_layer_met_without_a_graph_call_joins_the_latest_block(body):
    ki.register_roles(_Final, {"norm": "norm"})
    x = keras.Input((SEQ, D))
    h, expected = body(x)
    holder = _HoldsFinal(name="holder")
    model = keras.Model(x, holder(h))
    assert _final_norm_block(model, holder) == expected


def test_an_attention_met_as_an_attribute_then_called_twice_counts_twice():
    from keras_inits.transformer import count_blocks

    x = keras.Input((SEQ, D))
    mha = keras.layers.MultiHeadAttention(HEADS, KEY, name="mha")
    h = _Holds(mha, name="holds")(x)
    roles, _ = detect_roles(keras.Model(x, _attend(mha, _attend(mha, h))))
    assert count_blocks(roles) == (2, 0)


# ------------------------------------------ keras_hub blocks: by type only ---

class _LooksLikeHub(keras.layers.Layer):
    """keras_hub's private attribute names on a layer that is not keras_hub's."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._self_attention_layer = keras.layers.MultiHeadAttention(HEADS, KEY, name="mha")
        self._feedforward_intermediate_dense = keras.layers.Dense(2 * D, name="up")
        self._feedforward_output_dense = keras.layers.Dense(D, name="down")

    def build(self, shape):
        self._self_attention_layer.build(shape, shape)
        self._feedforward_intermediate_dense.build(shape)
        self._feedforward_output_dense.build((*shape[:-1], 2 * D))

    def call(self, x):
        x = x + self._self_attention_layer(x, x)
        return x + self._feedforward_output_dense(self._feedforward_intermediate_dense(x))


def test_a_layer_with_keras_hub_attribute_names_is_not_a_keras_hub_block():
    x = keras.Input((SEQ, D))
    layer = _LooksLikeHub(name="fake")
    roles, skipped = detect_roles(keras.Model(x, layer(x)))
    assert {r.role for r in roles} == {"q", "k", "v", "o"}  # its attention, by type
    assert ("up", "Dense inside _LooksLikeHub (no graph): FFN or head cannot be told apart") in skipped


def test_an_unbuilt_keras_hub_block_in_a_subclassed_model_is_passed_over():
    keras_hub = pytest.importorskip("keras_hub")

    class Model(keras.Model):
        def __init__(self):
            super().__init__()
            self.unused = keras_hub.layers.TransformerEncoder(8, 2)  # never called: no parts
            self.dense = keras.layers.Dense(D)

        def build(self, shape):
            self.dense.build(shape)

        def call(self, x):
            return self.dense(x)

    model = Model()
    model(np.zeros((1, SEQ, D), "float32"))
    roles, _ = detect_roles(model)
    assert not any(r.block is not None for r in roles)


class _WrapNorm(keras.layers.Layer):
    """A subclassed layer holding exactly one layer, a norm."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.norm = keras.layers.LayerNormalization(name="inner_ln")

    def build(self, shape):
        self.norm.build(shape)

    def call(self, x):
        return self.norm(x)


def test_a_layer_holding_one_norm_gives_it_its_role():
    x = keras.Input((SEQ, D))
    wrap = _WrapNorm(name="wrap")
    model = keras.Model(x, wrap(_attend(keras.layers.MultiHeadAttention(HEADS, KEY), x)))
    roles, skipped = detect_roles(model)
    by = {id(r.variable): r for r in roles}
    assert by[id(wrap.norm.gamma)].role == "norm" and by[id(wrap.norm.beta)].weight == "beta"
    assert skipped == []
