"""keras_hub families through the role adapters, checked on the weights.

Each backbone is built offline from a tiny config (benchmarks/hub_configs.py).
After ``init_transformer(model, "gpt2")`` every kernel's standard deviation is
measured from its values and compared with GPT-2's rule, with L taken from
the backbone's own ``num_layers`` (not from our detection): 0.02 for
projections, FFN inputs and embeddings, 0.02 / sqrt(2L) for the attention
output and FFN output. Every weight of every registered block must have a
role (routers of mixture-of-experts layers excepted, listed by the table).
"""

import importlib.util
import math
import pathlib
import warnings

import numpy as np
import pytest

import keras_inits as ki
from keras_inits import graph
from keras_inits.structure.roles import adapter_for
from keras_inits.transformer import detect_roles
from tests.helpers import Z, to_numpy

keras_hub = pytest.importorskip("keras_hub")
pytestmark = pytest.mark.slow

_PATH = pathlib.Path(__file__).parent.parent / "benchmarks" / "hub_configs.py"
_spec = importlib.util.spec_from_file_location("hub_configs", _PATH)
hub_configs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(hub_configs)

# One per adapter family: decoder LMs (gated FFN, GQA, fused qkv, MoE, untied
# head), encoders, encoder-decoders, vision transformers.
FAMILIES = ["llama_untied", "mistral", "mixtral", "gemma", "qwen3", "phi3", "gpt_neo_x",
            "falcon", "bloom", "deberta_v3", "esm", "t5", "whisper",
            "vit", "dinov2"]


def build(name):
    builders = hub_configs.hub_backbones()
    if name not in builders:
        pytest.skip(f"{name} does not build offline in this keras_hub version")
    with warnings.catch_warnings():
        # keras_hub's T5 warns (several UserWarnings) while Keras traces its
        # layers at build time; the built model is correct.
        warnings.simplefilter("ignore", UserWarning)
        return builders[name]()


def block_layers(model):
    """Layers of the model whose class has a registered block adapter."""
    seen, out = set(), []
    for layer in model._flatten_layers(include_self=False, recursive=True):
        adapter = adapter_for(layer)
        if adapter is not None and adapter.is_block and id(layer) not in seen:
            seen.add(id(layer))
            out.append(layer)
    return out


def assert_std(values, std, what):
    x = to_numpy(values).astype(np.float64).ravel()
    n = x.size
    se = std**2 * math.sqrt(2.0 / n)  # variance of a normal sample
    assert abs(x.var() - std**2) <= Z * se + 1e-12, (
        f"{what}: std {x.std():.4g}, expected {std:.4g} (n={n})")


@pytest.mark.parametrize("name", FAMILIES)
def test_family_roles_and_gpt2_rule_measured_from_the_weights(name):
    # One build per family (a few seconds each): roles first, then the scheme.
    model = build(name)
    blocks = block_layers(model)
    assert blocks, f"{name}: no registered block class found"
    roles, _ = detect_roles(model)
    have = {id(r.variable) for r in roles}
    for block in blocks:
        # Layer scales are no transformer role (zero_residual owns them);
        # MoE routers are left out by the table.
        scales = {id(graph.layer_scale(sub)) for sub in block._flatten_layers()}
        missing = [v.path for v in block.weights if id(v) not in have and id(v) not in scales
                   and "router" not in v.path and "gate_dense" not in v.path]
        assert not missing, f"{name}: weights without a role: {missing}"
    layers = model.num_layers if hasattr(model, "num_layers") else None
    report = ki.init_transformer(model, "gpt2", seed=0)
    roles, _ = detect_roles(model)
    total = {"encoder": 0, "decoder": 0}
    for r in roles:
        if r.block is not None and not r.cross:
            total[r.part] = max(total[r.part], r.block + 1)
    L = total["encoder"] + total["decoder"]
    if layers is not None and not hasattr(model, "num_groups"):
        # Encoder-decoders keep num_layers per stack in keras_hub.
        per_stack = [n for n in total.values() if n]
        assert all(n == layers for n in per_stack), (name, total, layers)
    assert f"(L = {L})" in " ".join(report.notes)
    trainable = {id(v) for v in model.trainable_weights}
    checked = 0
    for r in roles:
        if id(r.variable) not in trainable or r.weight not in ("kernel", "embeddings"):
            continue
        if math.prod(r.variable.shape) < 64:
            continue
        std = 0.02 / math.sqrt(2 * L) if r.role in ("o", "ffn_out") else 0.02
        assert_std(r.variable, std, f"{name} {r.variable.path} ({r.role})")
        checked += 1
    assert checked >= 4 * L, (name, checked)


@pytest.mark.parametrize("step", ["reinitialize", "init_transformer"])
def test_dinov2_redrawn_position_table_survives_save_and_load(step, tmp_path):
    # DINOV2Embedding saves `position_embeddings` (frozen) and re-derives the
    # `interpolated_position_embeddings` the model uses from it at load; it
    # refreshes the saved copy only when a signed sum of changes > epsilon.
    # Seed 0 redraws the table with a negative sum (measured): without
    # structure.roles.sync_derived the reloaded model differs by ~3.7.
    import keras

    model = build("dinov2")
    x = hub_configs.sample_inputs("dinov2", model)
    emb = next(layer for layer in graph.sublayers(model)
               if type(layer).__name__ == "DINOV2Embedding")
    used = to_numpy(emb.interpolated_position_embeddings)
    if step == "reinitialize":
        report = ki.reinitialize(model, seed=0)
    else:
        report = ki.init_transformer(model, "gpt2", seed=0)
    redrawn = to_numpy(emb.interpolated_position_embeddings)
    assert not np.array_equal(redrawn, used)
    # image_shape == position_embedding_shape here: the interpolation is a copy
    np.testing.assert_array_equal(to_numpy(emb.position_embeddings), redrawn)
    assert any("position_embeddings: set from interpolated" in n for n in report.notes)
    out = to_numpy(model(x, training=False))
    path = tmp_path / "m.keras"
    model.save(path)
    again = keras.models.load_model(path)
    np.testing.assert_array_equal(to_numpy(again(x, training=False)), out)
