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
