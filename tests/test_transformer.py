"""init_transformer: roles by type and attribute, per-scheme stds against the papers' formulas.

Expected values are written out here from the formulas (true fans counted by
hand from the layer shapes), never read back from keras_inits.
"""

import math

import keras
import numpy as np
import pytest

import keras_inits as ki
from keras_inits.transformer import deepnet_constants, detect_roles
from tests.helpers import assert_moments, to_numpy

# d_model 64, 4 heads of 8: heads * key_dim (32) != d_model, so true fans and
# Keras' conv-style fans of a (64, 4, 8) kernel (256, 512) differ 3x in std.
D, HEADS, KEY, FF, VOCAB, SEQ = 64, 4, 8, 128, 50, 8
QKV_FANS = (D, HEADS * KEY)  # query/key/value kernel (d, heads, key_dim)
OUT_FANS = (HEADS * KEY, D)  # output kernel (heads, key_dim, d)


def glorot(fan_in, fan_out):
    return math.sqrt(2.0 / (fan_in + fan_out))


def embed(tokens, positions):
    t = keras.layers.Embedding(VOCAB, D)(tokens)
    p = keras.layers.Embedding(SEQ, D)(positions)
    return keras.layers.Add()([t, p])


def encoder(blocks=3, pre_ln=False):
    """emb -> [MHA, add, LN, FFN, add, LN] x blocks -> head (post-LN), from Keras layers."""
    tokens, positions = keras.Input((SEQ,), dtype="int32"), keras.Input((SEQ,), dtype="int32")
    h = embed(tokens, positions)
    for _ in range(blocks):
        x = keras.layers.LayerNormalization()(h) if pre_ln else h
        h = keras.layers.Add()([h, keras.layers.MultiHeadAttention(HEADS, KEY)(x, x)])
        h = h if pre_ln else keras.layers.LayerNormalization()(h)
        x = keras.layers.LayerNormalization()(h) if pre_ln else h
        f = keras.layers.Dense(D)(keras.layers.Dense(FF, activation="relu")(x))
        h = keras.layers.Add()([h, f])
        h = h if pre_ln else keras.layers.LayerNormalization()(h)
    return keras.Model([tokens, positions], keras.layers.Dense(VOCAB)(h))


def encoder_decoder(n_enc=2, n_dec=2):
    src, tgt = keras.Input((SEQ,), dtype="int32"), keras.Input((SEQ,), dtype="int32")
    e = keras.layers.Embedding(VOCAB, D)(src)
    for _ in range(n_enc):
        e = keras.layers.LayerNormalization()(e + keras.layers.MultiHeadAttention(HEADS, KEY)(e, e))
        f = keras.layers.Dense(D)(keras.layers.Dense(FF, activation="relu")(e))
        e = keras.layers.LayerNormalization()(e + f)
    h = keras.layers.Embedding(VOCAB, D)(tgt)
    for _ in range(n_dec):
        a = keras.layers.MultiHeadAttention(HEADS, KEY)(h, h, use_causal_mask=True)
        h = keras.layers.LayerNormalization()(h + a)
        c = keras.layers.MultiHeadAttention(HEADS, KEY)(query=h, value=e)
        h = keras.layers.LayerNormalization()(h + c)
        f = keras.layers.Dense(D)(keras.layers.Dense(FF, activation="relu")(h))
        h = keras.layers.LayerNormalization()(h + f)
    return keras.Model([src, tgt], keras.layers.Dense(VOCAB)(h))


def pick(model, role, weight="kernel", part=None, cross=None):
    roles, _ = detect_roles(model)
    return [
        r.variable for r in roles
        if r.role == role and r.weight == weight and (part is None or r.part == part)
        and (cross is None or r.cross == cross)
    ]


def pooled(variables):
    return np.concatenate([to_numpy(v).ravel() for v in variables])


def snapshot(model):
    return [to_numpy(v).copy() for v in model.weights]


def assert_unchanged(model, before):
    for a, v in zip(before, model.weights):
        np.testing.assert_array_equal(a, to_numpy(v), err_msg=v.path)


# --- Roles ------------------------------------------------------------------


def test_roles_of_a_post_ln_encoder():
    model = encoder(blocks=3)
    roles, skipped = detect_roles(model)
    assert skipped == []
    count = {}
    for r in roles:
        count[(r.role, r.weight)] = count.get((r.role, r.weight), 0) + 1
    assert count == {
        ("embedding", "embeddings"): 2, ("head", "kernel"): 1, ("head", "bias"): 1,
        **{(role, w): 3 for role in ("q", "k", "v", "o", "ffn_in", "ffn_out")
           for w in ("kernel", "bias")},
        ("norm", "gamma"): 6, ("norm", "beta"): 6,
    }
    assert [r.block for r in roles if r.role == "ffn_out" and r.weight == "kernel"] == [0, 1, 2]
    assert {r.part for r in roles if r.block is not None} == {"encoder"}
    assert len({id(r.variable) for r in roles}) == len(model.weights)


def test_roles_of_a_pre_ln_encoder_with_a_gated_ffn():
    """Pre-LN, and an FFN with two input projections (GLU): both are ffn_in."""
    tokens, positions = keras.Input((SEQ,), dtype="int32"), keras.Input((SEQ,), dtype="int32")
    h = embed(tokens, positions)
    for _ in range(2):
        x = keras.layers.LayerNormalization()(h)
        h = h + keras.layers.MultiHeadAttention(HEADS, KEY)(x, x)
        x = keras.layers.LayerNormalization()(h)
        gate = keras.layers.Dense(FF, activation="silu")(x)
        up = keras.layers.Dense(FF)(x)
        h = h + keras.layers.Dense(D)(keras.layers.Multiply()([gate, up]))
    model = keras.Model([tokens, positions], keras.layers.Dense(VOCAB)(keras.layers.LayerNormalization()(h)))
    roles, skipped = detect_roles(model)
    assert skipped == []
    kernels = [(r.role, r.block) for r in roles if r.weight == "kernel" and r.role.startswith("ffn")]
    assert sorted(kernels) == [("ffn_in", 0), ("ffn_in", 0), ("ffn_in", 1), ("ffn_in", 1),
                               ("ffn_out", 0), ("ffn_out", 1)]


def test_roles_of_an_encoder_decoder():
    model = encoder_decoder(n_enc=2, n_dec=3)
    roles, skipped = detect_roles(model)
    assert skipped == []
    q = [(r.part, r.block, r.cross) for r in roles if r.role == "q" and r.weight == "kernel"]
    assert sorted(q) == sorted(
        [("encoder", b, False) for b in range(2)]
        + [("decoder", b, c) for b in range(3) for c in (False, True)]
    )
    ffn = [(r.part, r.block) for r in roles if r.role == "ffn_out" and r.weight == "kernel"]
    assert sorted(ffn) == [("decoder", 0), ("decoder", 1), ("decoder", 2), ("encoder", 0), ("encoder", 1)]


def test_unknown_layers_are_listed_not_guessed():
    """A Conv1D input projection and a subclassed block's Dense get no role."""

    class Block(keras.layers.Layer):
        def __init__(self):
            super().__init__()
            self.attention = keras.layers.MultiHeadAttention(HEADS, KEY)
            self.mix = keras.layers.Dense(D)

        def call(self, x):
            return x + self.mix(self.attention(x, x))

    x_in = keras.Input((SEQ, 3))
    h = keras.layers.Conv1D(D, 3, padding="same")(x_in)
    h = Block()(h)
    model = keras.Model(x_in, keras.layers.Dense(VOCAB)(h))
    before = snapshot(model)
    report = ki.init_transformer(model, "xavier", seed=0)
    conv, mix, head = model.layers[1], model.layers[2].mix, model.layers[3]
    reasons = dict(report.skipped)
    assert "not a transformer layer type" in reasons[conv.name]
    assert "cannot be told apart" in reasons[mix.name]
    assert set(reasons) == {conv.name, mix.name}
    left = {id(v) for v in conv.weights + mix.weights}
    for old, v in zip(before, model.weights):
        if id(v) in left:
            np.testing.assert_array_equal(old, to_numpy(v))
    assert not left & {id(r.variable) for r in detect_roles(model)[0]}
    assert [r.layer for r in detect_roles(model)[0] if r.role == "head"] == [head, head]
    assert len(pick(model, "q")) == 1


def test_weights_with_no_role_are_listed_and_left_alone():
    """A weight of a recognised layer that no role names (an attention
    subclass with its own temperature) is listed by path, not guessed."""

    class TemperedAttention(keras.layers.MultiHeadAttention):
        def build(self, query_shape, value_shape, key_shape=None):
            super().build(query_shape, value_shape, key_shape)
            self.temperature = self.add_weight(shape=(), initializer="ones", name="temperature")

    x = keras.Input((SEQ, D))
    attention = TemperedAttention(HEADS, KEY)
    model = keras.Model(x, x + attention(x, x))
    attention.temperature.assign(3.0)
    report = ki.init_transformer(model, "xavier", seed=0)
    assert (attention.temperature.path, "no transformer role found") in report.skipped
    assert float(to_numpy(attention.temperature)) == 3.0
    assert {r.role for r in detect_roles(model)[0]} == {"q", "k", "v", "o"}


def test_subclassed_model_attention_found_dense_skipped():
    class Tiny(keras.Model):
        def __init__(self):
            super().__init__()
            self.embedding = keras.layers.Embedding(VOCAB, D)
            self.attention = keras.layers.MultiHeadAttention(HEADS, KEY)
            self.norm = keras.layers.LayerNormalization()
            self.head = keras.layers.Dense(VOCAB)

        def call(self, x):
            h = self.embedding(x)
            return self.head(self.norm(h + self.attention(h, h)))

    model = Tiny()
    model(np.zeros((2, SEQ), "int32"))
    roles, skipped = detect_roles(model)
    assert {r.role for r in roles} == {"embedding", "q", "k", "v", "o", "norm"}
    assert [name for name, _ in skipped] == [model.head.name]


# --- Schemes: std of each role against its formula ---------------------------


def test_gpt2_scheme():
    blocks = 3
    model = encoder(blocks)
    report = ki.init_transformer(model, "gpt2", seed=0)
    for role in ("q", "k", "v", "ffn_in", "head"):
        assert_moments(pooled(pick(model, role)), 0.02)
    assert_moments(pooled(pick(model, "embedding", "embeddings")), 0.02)
    for role in ("o", "ffn_out"):
        assert_moments(pooled(pick(model, role)), 0.02 / math.sqrt(2 * blocks))
    roles, _ = detect_roles(model)
    for r in roles:
        if r.weight in ("bias", "beta"):
            np.testing.assert_array_equal(to_numpy(r.variable), 0.0)
        elif r.weight == "gamma":
            np.testing.assert_array_equal(to_numpy(r.variable), 1.0)
    assert len(report.rows) == len(model.weights)


def test_gpt2_num_layers_and_range():
    model = encoder(blocks=1)
    ki.init_transformer(model, "gpt2", num_layers=8, seed=0, initializer_range=0.05)
    assert_moments(pooled(pick(model, "o") + pick(model, "ffn_out")), 0.05 / 4.0)
    assert_moments(pooled(pick(model, "q")), 0.05)


def test_xavier_uses_true_einsum_fans():
    model = encoder()
    ki.init_transformer(model, "xavier", seed=1)
    for role, fans in (("q", QKV_FANS), ("k", QKV_FANS), ("v", QKV_FANS), ("o", OUT_FANS),
                       ("ffn_in", (D, FF)), ("ffn_out", (FF, D)), ("head", (D, VOCAB))):
        assert_moments(pooled(pick(model, role)), glorot(*fans), dist="uniform")
    assert_moments(pooled(pick(model, "embedding", "embeddings")), D**-0.5)


def test_t_fixup_encoder():
    n = 3
    model = encoder(blocks=n)
    report = ki.init_transformer(model, "t_fixup", seed=2)
    scale = 0.67 * n**-0.25
    expected = {
        "q": glorot(*QKV_FANS) / math.sqrt(2),
        "k": glorot(*QKV_FANS) / math.sqrt(2),
        "v": glorot(*QKV_FANS) / math.sqrt(2) * scale * math.sqrt(2),
        "o": glorot(*OUT_FANS) * scale,
        "ffn_in": glorot(D, FF) * scale,
        "ffn_out": glorot(FF, D) * scale,
        "head": glorot(D, VOCAB),
    }
    for role, std in expected.items():
        assert_moments(pooled(pick(model, role)), std, dist="uniform")
    assert_moments(pooled(pick(model, "embedding", "embeddings")), D**-0.5 * (9 * n) ** -0.25)
    assert any("LayerNorm" in note for note in report.notes)


def decoder_only(m):
    """emb -> [causal MHA, add, LN, FFN, add, LN] x m -> head: m decoder blocks."""
    tokens = keras.Input((SEQ,), dtype="int32")
    h = keras.layers.Embedding(VOCAB, D)(tokens)
    for _ in range(m):
        h = keras.layers.LayerNormalization()(
            h + keras.layers.MultiHeadAttention(HEADS, KEY)(h, h, use_causal_mask=True))
        h = keras.layers.LayerNormalization()(
            h + keras.layers.Dense(D)(keras.layers.Dense(FF, activation="relu")(h)))
    return keras.Model(tokens, keras.layers.Dense(VOCAB)(h))


def test_t_fixup_decoder_only_uses_9m():
    """A causal self-attention makes decoder blocks: (9M)^(-1/4) everywhere."""
    m = 2
    model = decoder_only(m)
    report = ki.init_transformer(model, "t_fixup", seed=3)
    assert "found 0 encoder and 2 decoder blocks (L = 2)" in report.notes
    scale = 18 ** -0.25  # (9M)^(-1/4) = 0.4855
    assert_moments(pooled(pick(model, "v", part="decoder")), glorot(*QKV_FANS) * scale, dist="uniform")
    assert_moments(pooled(pick(model, "ffn_in", part="decoder")), glorot(D, FF) * scale, dist="uniform")
    assert_moments(pooled(pick(model, "embedding", "embeddings")), D**-0.5 * scale)


def test_t_fixup_encoder_decoder_factors():
    """Huang et al. 2020, Algorithm 2, with N = 2 encoder and M = 3 decoder
    blocks: encoder v/o/FFN x 0.67 N^(-1/4) = 0.5634; decoder (self and
    cross) v/o/FFN x (9M)^(-1/4) = 27^(-1/4) = 0.4387; both embeddings x
    (9M)^(-1/4). N != M, so a factor read from the wrong part (or from
    L = N + M = 5: 45^(-1/4) = 0.3861) gives another std."""
    model = encoder_decoder(n_enc=2, n_dec=3)
    report = ki.init_transformer(model, "t_fixup", seed=9)
    assert "found 2 encoder and 3 decoder blocks (L = 5)" in report.notes
    enc, dec = 0.67 * 2 ** -0.25, 27 ** -0.25
    for part, factor in (("encoder", enc), ("decoder", dec)):
        # q/k: gain 1/sqrt(2), not scaled; v: gain 1/sqrt(2) * factor * sqrt(2).
        assert_moments(pooled(pick(model, "q", part=part)), glorot(*QKV_FANS) / math.sqrt(2), dist="uniform")
        assert_moments(pooled(pick(model, "v", part=part)), glorot(*QKV_FANS) * factor, dist="uniform")
        assert_moments(pooled(pick(model, "o", part=part)), glorot(*OUT_FANS) * factor, dist="uniform")
        assert_moments(pooled(pick(model, "ffn_in", part=part)), glorot(D, FF) * factor, dist="uniform")
        assert_moments(pooled(pick(model, "ffn_out", part=part)), glorot(FF, D) * factor, dist="uniform")
    assert_moments(pooled(pick(model, "v", part="decoder", cross=True)), glorot(*QKV_FANS) * dec,
                   dist="uniform")
    assert_moments(pooled(pick(model, "embedding", "embeddings")), D**-0.5 * dec)
    assert_moments(pooled(pick(model, "head")), glorot(D, VOCAB), dist="uniform")


def test_deepnet_encoder_beta_and_alpha_note():
    n = 3
    model = encoder(blocks=n)
    report = ki.init_transformer(model, "deepnet", seed=3)
    alpha, beta = (2 * n) ** 0.25, (8 * n) ** -0.25
    for role, fans in (("v", QKV_FANS), ("o", OUT_FANS), ("ffn_in", (D, FF)), ("ffn_out", (FF, D))):
        assert_moments(pooled(pick(model, role)), beta * glorot(*fans))
    for role in ("q", "k"):
        assert_moments(pooled(pick(model, role)), glorot(*QKV_FANS))
    assert any(f"alpha = {alpha:.4g}" in note for note in report.notes)


def test_deepnet_encoder_decoder():
    n, m = 2, 3
    model = encoder_decoder(n, m)
    report = ki.init_transformer(model, "deepnet", seed=4)
    # Wang et al. 2022, Table 1 (encoder-decoder row).
    enc_alpha, enc_beta = 0.81 * (n**4 * m) ** (1 / 16), 0.87 * (n**4 * m) ** (-1 / 16)
    dec_alpha, dec_beta = (3 * m) ** 0.25, (12 * m) ** -0.25
    assert deepnet_constants(n, m) == {
        "encoder": pytest.approx((enc_alpha, enc_beta)), "decoder": pytest.approx((dec_alpha, dec_beta))
    }
    assert deepnet_constants(0, m)["decoder"] == pytest.approx(((2 * m) ** 0.25, (8 * m) ** -0.25))
    assert_moments(pooled(pick(model, "ffn_in", part="encoder")), enc_beta * glorot(D, FF))
    assert_moments(pooled(pick(model, "v", part="decoder")), dec_beta * glorot(*QKV_FANS))
    assert_moments(pooled(pick(model, "o", part="decoder", cross=True)), dec_beta * glorot(*OUT_FANS))
    assert sum("use residual alpha" in note for note in report.notes) == 2


def test_deepnet_constants_table_1():
    """Wang et al. 2022, Table 1, evaluated by hand (4 digits):
    encoder-only N = 3: alpha = 6^(1/4) = 1.565, beta = 24^(-1/4) = 0.4518;
    decoder-only M = 2: alpha = 4^(1/4) = sqrt(2) = 1.414, beta = 16^(-1/4) = 0.5;
    encoder-decoder N = 2, M = 3: encoder alpha = 0.81 * 48^(1/16) = 1.032,
    beta = 0.87 * 48^(-1/16) = 0.6830; decoder alpha = 9^(1/4) = sqrt(3) = 1.732,
    beta = 36^(-1/4) = 1/sqrt(6) = 0.4082."""
    approx = lambda *v: pytest.approx(v, rel=5e-4)  # noqa: E731  (4 digits)
    assert deepnet_constants(3, 0) == {"encoder": approx(1.565, 0.4518)}
    assert deepnet_constants(0, 2) == {"decoder": approx(1.414, 0.5)}
    assert deepnet_constants(2, 3) == {"encoder": approx(1.032, 0.6830), "decoder": approx(1.732, 0.4082)}
    with pytest.raises(ValueError, match="at least one block"):
        deepnet_constants(0, 0)


def test_deepnet_decoder_only_beta():
    """M = 2 decoder blocks: beta = (8M)^(-1/4) = 1/2 on v, o and the FFN;
    q, k and the head keep Xavier normal; alpha = (2M)^(1/4) = sqrt(2) noted."""
    model = decoder_only(2)
    report = ki.init_transformer(model, "deepnet", seed=5)
    for role, fans in (("v", QKV_FANS), ("o", OUT_FANS), ("ffn_in", (D, FF)), ("ffn_out", (FF, D))):
        assert_moments(pooled(pick(model, role, part="decoder")), 0.5 * glorot(*fans))
    for role, fans in (("q", QKV_FANS), ("k", QKV_FANS), ("head", (D, VOCAB))):
        assert_moments(pooled(pick(model, role)), glorot(*fans))
    assert any("deepnet decoder: beta = 0.5 applied; use residual alpha = 1.414" in n for n in report.notes)


def test_small_init_touches_embeddings_only():
    model = encoder()
    before = snapshot(model)
    report = ki.init_transformer(model, "small_init", seed=5)
    embeddings = pick(model, "embedding", "embeddings")
    assert sorted(row.layer for row in report.rows) == sorted(v.path for v in embeddings)
    assert_moments(pooled(embeddings), math.sqrt(2.0 / (5 * D)))
    ids = {id(v) for v in embeddings}
    for old, v in zip(before, model.weights):
        if id(v) not in ids:
            np.testing.assert_array_equal(old, to_numpy(v))


def mha_model(heads, key_dim):
    x = keras.Input((SEQ, D))
    return keras.Model(x, keras.layers.MultiHeadAttention(heads, key_dim)(x, x))


def off_diagonal(m):
    return m[~np.eye(len(m), dtype=bool)]


def test_mimetic_exact_when_heads_are_full_rank():
    """key_dim = d: per head W_q W_k^T = 0.7 Z + 0.7 I exactly; W_v W_o = 0.4 Z - 0.4 I."""
    model = mha_model(heads=2, key_dim=D)
    ki.init_transformer(model, "mimetic", seed=6)
    q, k, v, o = (to_numpy(pick(model, r)[0]).astype(np.float64) for r in "qkvo")
    products = [q[:, h] @ k[:, h].T for h in range(2)]
    assert not np.allclose(products[0], products[1])  # a fresh Z per head
    for p in products:
        assert_moments(off_diagonal(p), 0.7 / math.sqrt(D))
        assert_moments(np.diag(p), 0.7 / math.sqrt(D), mean=0.7)
    vo = v.reshape(D, -1) @ o.reshape(-1, D)  # heads * value_dim = 128 >= d: exact
    assert_moments(off_diagonal(vo), 0.4 / math.sqrt(D))
    assert_moments(np.diag(vo), 0.4 / math.sqrt(D), mean=-0.4)


def test_mimetic_low_rank_heads():
    """key_dim < d: each head's W_q W_k^T is the best rank-key_dim approximation
    of a matrix with identity part 0.7 I: rank key_dim, positive trace."""
    model = mha_model(heads=HEADS, key_dim=KEY)
    ki.init_transformer(model, "mimetic", seed=7)
    q, k = (to_numpy(pick(model, r)[0]).astype(np.float64) for r in "qk")
    for h in range(HEADS):
        p = q[:, h] @ k[:, h].T
        assert np.linalg.matrix_rank(p, tol=1e-4) == KEY
        assert np.trace(p) > 0.0  # the identity part survives the truncation
        # balanced factors of a truncated SVD: W_q^T W_q = W_k^T W_k = S_k
        np.testing.assert_allclose(q[:, h].T @ q[:, h], k[:, h].T @ k[:, h], atol=1e-4)
    v, o = (to_numpy(pick(model, r)[0]).astype(np.float64) for r in "vo")
    assert np.linalg.matrix_rank(v.reshape(D, -1) @ o.reshape(-1, D), tol=1e-4) == HEADS * KEY


# --- Seeds, idempotence, atomicity, validation -------------------------------


@pytest.mark.parametrize("scheme", ["xavier", "gpt2", "t_fixup", "deepnet", "mimetic"])
def test_seeds_distinct_and_deterministic(scheme):
    model = encoder(blocks=1)
    ki.init_transformer(model, scheme, seed=7)
    q, k, v = (to_numpy(pick(model, r)[0]) for r in "qkv")
    assert not np.array_equal(q, k) and not np.array_equal(k, v) and not np.array_equal(q, v)
    first = snapshot(model)
    ki.init_transformer(model, scheme, seed=7)
    assert_unchanged(model, first)
    twin = encoder(blocks=1)  # same architecture, other auto-generated names
    ki.init_transformer(twin, scheme, seed=7)
    for a, b in zip(first, twin.weights):
        np.testing.assert_array_equal(a, to_numpy(b))
    ki.init_transformer(twin, scheme, seed=8)
    assert not np.array_equal(q, to_numpy(pick(twin, "q")[0]))


def test_unseeded_gives_distinct_projections():
    model = encoder(blocks=1)
    ki.init_transformer(model, "xavier")
    q, k = (to_numpy(pick(model, r)[0]) for r in "qk")
    assert not np.array_equal(q, k)


def test_failure_restores_every_weight_bitwise():
    """An initializer range so large that float32 overflows: the step fails
    after assigning, and every weight is restored."""
    model = encoder(blocks=1)
    before = snapshot(model)
    with pytest.raises(ValueError, match="NaN or inf"):
        ki.init_transformer(model, "gpt2", seed=0, initializer_range=1e38)
    assert_unchanged(model, before)


def test_bad_input():
    model = encoder(blocks=1)
    before = snapshot(model)
    with pytest.raises(ValueError, match="Argument `scheme` must be one of"):
        ki.init_transformer(model, "nope")
    for bad in (0, -1, True, 2.0):
        with pytest.raises(ValueError, match="num_layers"):
            ki.init_transformer(model, "gpt2", num_layers=bad)
    with pytest.raises(TypeError, match="seed"):
        ki.init_transformer(model, "gpt2", seed="0")
    with pytest.raises(ValueError, match="initializer_range"):
        ki.init_transformer(model, "gpt2", initializer_range=-0.02)
    with pytest.raises(TypeError, match="keras.Model"):
        ki.init_transformer(model.layers[3], "gpt2")
    assert_unchanged(model, before)
    with pytest.raises(ValueError, match="not built"):
        ki.init_transformer(keras.Sequential([keras.layers.Dense(4)]))
    plain = keras.Sequential([keras.Input((4,)), keras.layers.Dense(4)])
    with pytest.raises(ValueError, match="no transformer block"):
        ki.init_transformer(plain)
    with pytest.raises(ValueError, match="no embedding"):
        ki.init_transformer(plain, "small_init")


def test_through_init_callback():
    x = np.random.default_rng(0).integers(0, SEQ, (16, SEQ))
    model = encoder(blocks=1)
    model.compile(keras.optimizers.SGD(0.0), keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    cb = ki.InitCallback(lambda m: ki.init_transformer(m, scheme="t_fixup", seed=0), verbose=0)
    model.fit([x, x], x, epochs=1, batch_size=16, verbose=0, callbacks=[cb])
    assert cb.reports[0].step == "init_transformer(t_fixup)"
    reference = encoder(blocks=1)  # the same step applied directly
    ki.init_transformer(reference, "t_fixup", seed=0)
    for a, b in zip(reference.weights, model.weights):  # SGD(0): training changed nothing
        np.testing.assert_array_equal(to_numpy(a), to_numpy(b))


# --- keras_hub models built offline from small configs ----------------------


def test_keras_hub_gpt2_backbone_gpt2_scheme():
    keras_hub = pytest.importorskip("keras_hub")
    layers = 2
    model = keras_hub.models.GPT2Backbone(
        vocabulary_size=VOCAB, num_layers=layers, num_heads=2, hidden_dim=D,
        intermediate_dim=FF, max_sequence_length=16,
    )
    report = ki.init_transformer(model, "gpt2", seed=0)
    roles, skipped = detect_roles(model)
    assert skipped == [] and report.skipped == []
    assert {(r.part, r.cross) for r in roles if r.role == "q"} == {("decoder", False)}
    assert sorted({r.block for r in roles if r.role == "ffn_out"}) == [0, 1]
    assert len({id(r.variable) for r in roles}) == len(model.weights)
    for role in ("q", "k", "v", "ffn_in"):
        assert_moments(pooled(pick(model, role)), 0.02)
    assert_moments(pooled(pick(model, "embedding", "embeddings") + pick(model, "position", "embeddings")), 0.02)
    for role in ("o", "ffn_out"):
        assert_moments(pooled(pick(model, role)), 0.02 / math.sqrt(2 * layers))
    for r in roles:
        if r.weight in ("bias", "beta"):
            np.testing.assert_array_equal(to_numpy(r.variable), 0.0)
        elif r.weight == "gamma":
            np.testing.assert_array_equal(to_numpy(r.variable), 1.0)


def test_keras_hub_bert_backbone_t_fixup():
    """T-Fixup's std for every weight of a 2-layer BERT (d = 64, 2 heads of 32,
    so q/k/v/o kernels have fans (64, 64): Xavier std sqrt(2/128) = 0.125;
    FFN (64, 128): sqrt(2/192) = 0.1021). N = 2: encoder factor
    0.67 * 2^(-1/4) = 0.5634; embeddings N(0, 64^(-1/2) (9N)^(-1/4)) =
    N(0, 0.125 * 18^(-1/4)) = N(0, 0.06069)."""
    keras_hub = pytest.importorskip("keras_hub")
    n = 2
    model = keras_hub.models.BertBackbone(
        vocabulary_size=VOCAB, num_layers=n, num_heads=2, hidden_dim=D, intermediate_dim=FF,
        max_sequence_length=16,
    )
    report = ki.init_transformer(model, "t_fixup", seed=0)
    roles, skipped = detect_roles(model)
    assert skipped == [] and len(report.rows) == len(model.weights)
    assert {r.part for r in roles if r.block is not None} == {"encoder"}
    assert [r.layer.name for r in roles if r.role == "head" and r.weight == "kernel"] == ["pooled_dense"]
    factor = 0.67 * 2 ** -0.25
    expected = {
        "q": 0.125 / math.sqrt(2), "k": 0.125 / math.sqrt(2),
        "v": 0.125 * factor, "o": 0.125 * factor,
        "ffn_in": math.sqrt(2 / 192) * factor, "ffn_out": math.sqrt(2 / 192) * factor,
        "head": 0.125,
    }
    for role, std in expected.items():
        assert len(pick(model, role)) == (1 if role == "head" else n), role
        assert_moments(pooled(pick(model, role)), std, dist="uniform")
    # token (50 x 64) + segment (2 x 64) + position (16 x 64) tables, pooled
    tables = pick(model, "embedding", "embeddings") + pick(model, "position", "embeddings")
    assert len(tables) == 3
    assert_moments(pooled(tables), 0.125 * 18 ** -0.25)
    for r in roles:
        if r.weight in ("bias", "beta"):
            np.testing.assert_array_equal(to_numpy(r.variable), 0.0, err_msg=r.variable.path)
        elif r.weight == "gamma":
            np.testing.assert_array_equal(to_numpy(r.variable), 1.0, err_msg=r.variable.path)


def test_keras_hub_encoder_decoder_blocks():
    keras_hub = pytest.importorskip("keras_hub")
    src, tgt = keras.Input((SEQ,), dtype="int32"), keras.Input((SEQ,), dtype="int32")
    embedding = keras_hub.layers.TokenAndPositionEmbedding(VOCAB, SEQ, D)
    e = keras_hub.layers.TransformerEncoder(FF, 2)(embedding(src))
    h = keras_hub.layers.TokenAndPositionEmbedding(VOCAB, SEQ, D)(tgt)
    h = keras_hub.layers.TransformerDecoder(FF, 2)(h, e)
    model = keras.Model([src, tgt], keras.layers.Dense(VOCAB)(h))
    roles, skipped = detect_roles(model)
    assert skipped == []
    q = sorted((r.part, r.block, r.cross) for r in roles if r.role == "q" and r.weight == "kernel")
    assert q == [("decoder", 0, False), ("decoder", 0, True), ("encoder", 0, False)]
    assert sum(r.role == "position" for r in roles) == 2
    report = ki.init_transformer(model, "deepnet", seed=0)
    beta = deepnet_constants(1, 1)["decoder"][1]
    assert_moments(pooled(pick(model, "v", part="decoder")), beta * glorot(D, D))
    assert len(report.rows) == len(model.weights)


def test_grouped_query_attention_roles():
    x = keras.Input((SEQ, D))
    h = x + keras.layers.GroupQueryAttention(8, 4, 2)(x, x)
    model = keras.Model(x, h)
    report = ki.init_transformer(model, "mimetic", seed=0)
    assert {r.role for r in detect_roles(model)[0]} == {"q", "k", "v", "o"}
    assert any("Xavier instead" in note for note in report.notes)
    assert_moments(pick(model, "k")[0], glorot(D, 2 * 8), dist="uniform")
