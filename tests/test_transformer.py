"""init_transformer: roles by type, per-scheme stds against the formulas."""

import math

import keras
import numpy as np
import pytest

import keras_inits as ki
from keras_inits.transformer import deepnet_constants, detect_roles
from tests.helpers import assert_moments, to_numpy

D, HEADS, KEY, FF, BLOCKS = 64, 4, 16, 128, 3


def encoder(blocks=BLOCKS):
    """Post-LN encoder from Keras layers: emb -> [MHA, add, LN, FFN, add, LN] x blocks -> head."""
    tokens = keras.Input((8,), dtype="int32")
    h = keras.layers.Embedding(50, D)(tokens)
    for _ in range(blocks):
        a = keras.layers.MultiHeadAttention(HEADS, KEY)(h, h)
        h = keras.layers.LayerNormalization()(keras.layers.Add()([h, a]))
        f = keras.layers.Dense(FF, activation="relu")(h)
        f = keras.layers.Dense(D)(f)
        h = keras.layers.LayerNormalization()(keras.layers.Add()([h, f]))
    return keras.Model(tokens, keras.layers.Dense(10)(h))


def by_role(model, role, block=None):
    roles, _ = detect_roles(model)
    return [r.variable for r in roles if r.role == role and (block is None or r.block == block)]


def test_roles_of_a_functional_encoder():
    model = encoder()
    roles, unknown = detect_roles(model)
    assert not unknown
    count = {name: sum(r.role == name for r in roles) for name in ("embedding", "q", "k", "v", "o", "ffn_in", "ffn_out", "head")}
    assert count == {"embedding": 1, "q": 3, "k": 3, "v": 3, "o": 3, "ffn_in": 3, "ffn_out": 3, "head": 1}
    assert [r.block for r in roles if r.role == "ffn_out"] == [0, 1, 2]


def test_gpt2_scheme():
    model = encoder()
    report = ki.init_transformer(model, "gpt2", seed=0)
    for v in by_role(model, "q") + by_role(model, "ffn_in") + by_role(model, "embedding"):
        assert_moments(v, 0.02)
    for v in by_role(model, "o") + by_role(model, "ffn_out"):
        assert_moments(v, 0.02 / math.sqrt(2 * BLOCKS))
    for v in by_role(model, "bias"):
        assert not np.any(to_numpy(v))
    for v in by_role(model, "norm"):
        np.testing.assert_array_equal(to_numpy(v), 1.0 if v.name == "gamma" else 0.0)
    assert len(report.rows) == len(detect_roles(model)[0])


def test_xavier_uses_true_einsum_fans():
    model = encoder()
    ki.init_transformer(model, "xavier", seed=1)
    std = math.sqrt(2.0 / (D + HEADS * KEY))  # fans (d_model, heads * key_dim)
    for v in by_role(model, "q") + by_role(model, "o"):
        assert_moments(v, std, dist="uniform")


def test_t_fixup_encoder_scaling():
    model = encoder()
    ki.init_transformer(model, "t_fixup", seed=2)
    n = BLOCKS
    xavier = math.sqrt(2.0 / (D + HEADS * KEY))
    for v in by_role(model, "q"):
        assert_moments(v, xavier / math.sqrt(2), dist="uniform")
    for v in by_role(model, "v"):
        assert_moments(v, xavier / math.sqrt(2) * 0.67 * n**-0.25 * math.sqrt(2), dist="uniform")
    for v in by_role(model, "o"):
        assert_moments(v, xavier * 0.67 * n**-0.25, dist="uniform")
    for v in by_role(model, "ffn_in"):
        assert_moments(v, math.sqrt(2.0 / (D + FF)) * 0.67 * n**-0.25, dist="uniform")
    assert_moments(by_role(model, "embedding")[0], D**-0.5 * (9 * n) ** -0.25)


def test_deepnet_beta_and_alpha_note():
    model = encoder()
    report = ki.init_transformer(model, "deepnet", seed=3)
    alpha, beta = (2 * BLOCKS) ** 0.25, (8 * BLOCKS) ** -0.25
    assert deepnet_constants(BLOCKS, 0)["encoder"] == pytest.approx((alpha, beta))
    for v in by_role(model, "v") + by_role(model, "o"):
        assert_moments(v, beta * math.sqrt(2.0 / (D + HEADS * KEY)))
    for v in by_role(model, "k"):
        assert_moments(v, math.sqrt(2.0 / (D + HEADS * KEY)))
    assert any(f"alpha = {alpha:.4g}" in n for n in report.notes)


def test_deepnet_encoder_decoder_constants():
    c = deepnet_constants(6, 6)
    assert c["encoder"] == pytest.approx((0.81 * (6**4 * 6) ** (1 / 16), 0.87 * (6**4 * 6) ** (-1 / 16)))
    assert c["decoder"] == pytest.approx(((18) ** 0.25, (72) ** -0.25))


def test_mimetic_products():
    model = encoder(blocks=1)
    ki.init_transformer(model, "mimetic", seed=4)
    q, k, v, o = (to_numpy(by_role(model, r)[0]).astype("float64") for r in "qkvo")
    # Per head W_q W_k^T is a rank-KEY approximation of 0.7 Z + 0.7 I: its trace ~ 0.7 d
    # (the identity part dominates the top singular directions).
    for h in range(HEADS):
        prod = q[:, h] @ k[:, h].T
        assert np.trace(prod) > 0.3 * 0.7 * D
    vo = v.reshape(D, -1) @ o.reshape(-1, D)
    assert np.trace(vo) == pytest.approx(-0.4 * D, rel=0.25)  # 0.4 Z - 0.4 I, full rank


def test_small_init_touches_embeddings_only():
    model = encoder()
    before = {x.path: to_numpy(x).copy() for x in model.weights}
    report = ki.init_transformer(model, "small_init", seed=5)
    assert [r.action for r in report.rows] == ["embedding"]
    assert_moments(by_role(model, "embedding")[0], math.sqrt(2.0 / (5 * D)))
    for x in model.weights:
        if "embedding" not in x.path:
            np.testing.assert_array_equal(before[x.path], to_numpy(x))


def test_distinct_seeds_and_idempotence():
    model = encoder(blocks=1)
    ki.init_transformer(model, "xavier", seed=7)
    q, k, v = (to_numpy(by_role(model, r)[0]) for r in "qkv")
    assert not np.array_equal(q, k) and not np.array_equal(k, v)
    first = [to_numpy(x).copy() for x in model.weights]
    ki.init_transformer(model, "xavier", seed=7)
    for a, x in zip(first, model.weights):
        np.testing.assert_array_equal(a, to_numpy(x))


def test_failure_restores_and_bad_input():
    model = encoder(blocks=1)
    before = [to_numpy(x).copy() for x in model.weights]
    with pytest.raises(ValueError, match="scheme"):
        ki.init_transformer(model, "nope")
    with pytest.raises(ValueError, match="num_layers"):
        ki.init_transformer(model, "gpt2", num_layers=0)
    plain = keras.Sequential([keras.Input((4,)), keras.layers.Dense(4)])
    with pytest.raises(ValueError, match="no attention"):
        ki.init_transformer(plain)
    for a, x in zip(before, model.weights):
        np.testing.assert_array_equal(a, to_numpy(x))


def test_through_init_callback():
    model = encoder(blocks=1)
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    x = np.random.default_rng(0).integers(0, 50, (16, 8))
    cb = ki.InitCallback(lambda m: ki.init_transformer(m, scheme="t_fixup", seed=0), verbose=0)
    model.fit(x, np.zeros((16, 8)), epochs=1, verbose=0, callbacks=[cb])
    assert cb.reports[0].step == "init_transformer(t_fixup)"


def test_keras_hub_gpt2_backbone():
    keras_hub = pytest.importorskip("keras_hub")
    layers = 2
    model = keras_hub.models.GPT2Backbone(
        vocabulary_size=50, num_layers=layers, num_heads=2, hidden_dim=64,
        intermediate_dim=128, max_sequence_length=16,
    )
    report = ki.init_transformer(model, "gpt2", seed=0)
    roles, unknown = detect_roles(model)
    assert not unknown and not report.skipped
    assert {r.part for r in roles if r.role == "q"} == {"decoder"}
    for r in roles:
        if r.role in ("q", "k", "v", "ffn_in", "embedding", "position"):
            assert_moments(r.variable, 0.02)
        elif r.role in ("o", "ffn_out"):
            assert_moments(r.variable, 0.02 / math.sqrt(2 * layers))


def test_keras_hub_bert_backbone_t_fixup():
    keras_hub = pytest.importorskip("keras_hub")
    model = keras_hub.models.BertBackbone(
        vocabulary_size=50, num_layers=2, num_heads=2, hidden_dim=32, intermediate_dim=64,
        max_sequence_length=16,
    )
    report = ki.init_transformer(model, "t_fixup", seed=0)
    roles, unknown = detect_roles(model)
    assert not unknown
    assert sum(r.role == "q" for r in roles) == 2 and any(r.role == "head" for r in roles)
    assert len(report.rows) == len(roles)
