"""Transformer-aware initialization: roles found by type, schemes from the papers.

:func:`init_transformer` finds every weight's role by layer type and
attribute (never by layer names): token and position embeddings, the
query/key/value/output projections of every ``keras.layers.MultiHeadAttention``
(and subclasses such as keras_hub's ``CachedMultiHeadAttention``), the two
FFN layers of each block, normalization layers and the output head, with the
block index and encoder/decoder part. Then it applies one scheme with the
true einsum fans of the attention kernels.

Where the FFN is found:
- keras_hub ``TransformerEncoder``/``TransformerDecoder`` blocks: their
  ``_feedforward_intermediate_dense`` / ``_feedforward_output_dense``;
- functional models built from Keras layers: the kernel layers of every
  residual branch (``keras_inits.graph.residual_branches``) that holds no
  attention layer: the first is FFN-in, the last FFN-out; the block is that
  of the attention layer before it.
Kernel layers outside every block after the first attention are the output
head; before it, input projections (treated as embeddings' projections:
Xavier). Subclassed blocks other than keras_hub's are listed as unknown.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Literal

import keras
import numpy as np
from keras import ops

from keras_inits import graph
from keras_inits._model import atomic_weights, check_model_seed, scalar, seed_for
from keras_inits.fans import einsum_fans
from keras_inits.initializers._base import check_choice
from keras_inits.report import InitReport

SCHEMES = ("xavier", "gpt2", "t_fixup", "deepnet", "mimetic", "small_init")
MIMETIC_QK = (0.7, 0.7)  # (alpha_1, beta_1), Trockman & Kolter 2023 defaults
MIMETIC_VO = (0.4, 0.4)  # (alpha_2, beta_2)


@dataclasses.dataclass
class Role:
    """One weight and what it does in the transformer."""

    variable: object
    layer: keras.layers.Layer
    role: str  # embedding, position, input, q, k, v, o, ffn_in, ffn_out, head, norm, bias
    block: int | None = None
    part: str = "encoder"  # or "decoder"
    cross: bool = False


def _keras_hub_classes():
    try:
        import keras_hub
    except ImportError:
        return (), (), ()
    layers = keras_hub.layers
    return (
        (layers.TransformerEncoder,),
        (layers.TransformerDecoder,),
        (layers.PositionEmbedding,),
    )


def _attention_roles(mha, block, part, cross):
    out = []
    for attr, role in (("query_dense", "q"), ("key_dense", "k"), ("value_dense", "v"),
                       ("output_dense", "o")):
        dense = getattr(mha, attr)
        out.append(Role(dense.kernel, dense, role, block, part, cross))
        if getattr(dense, "bias", None) is not None:
            out.append(Role(dense.bias, dense, "bias", block, part, cross))
    return out


def _dense_roles(dense, role, block, part="encoder"):
    out = [Role(dense.kernel, dense, role, block, part)]
    if getattr(dense, "bias", None) is not None:
        out.append(Role(dense.bias, dense, "bias", block, part))
    return out


def _norm_roles(layer, block, part):
    return [Role(v, layer, "norm", block, part) for v in layer.weights]


def detect_roles(model) -> tuple[list[Role], list[tuple[str, str]]]:
    """Every weight's role, by layer type and attribute; and what is unknown."""
    enc_types, dec_types, pos_types = _keras_hub_classes()
    roles, unknown, claimed = [], [], []
    counters = {"encoder": 0, "decoder": 0}
    attention_seen = False
    branches, _ = graph.residual_branches(model) if graph.is_graph_model(model) else ([], [])
    ffn_of = {}
    for branch in branches:
        if any(isinstance(x, keras.layers.MultiHeadAttention) for x in branch.layers):
            continue
        kernels = branch.kernel_layers
        for i, layer in enumerate(kernels):
            ffn_of[id(layer)] = "ffn_out" if i == len(kernels) - 1 and len(kernels) > 1 else "ffn_in"
    current_block = None
    for layer in graph.all_layers(model):
        if enc_types and isinstance(layer, enc_types + dec_types):
            part = "decoder" if isinstance(layer, dec_types) else "encoder"
            block = counters[part]
            counters[part] += 1
            roles += _attention_roles(layer._self_attention_layer, block, part, False)
            cross = getattr(layer, "_cross_attention_layer", None)
            if cross is not None:
                roles += _attention_roles(cross, block, part, True)
            roles += _dense_roles(layer._feedforward_intermediate_dense, "ffn_in", block, part)
            roles += _dense_roles(layer._feedforward_output_dense, "ffn_out", block, part)
            for sub in graph.sublayers(layer):
                if isinstance(sub, graph.NORM_TYPES):
                    roles += _norm_roles(sub, block, part)
            attention_seen = True
        elif isinstance(layer, keras.layers.MultiHeadAttention):
            current_block = counters["encoder"]
            counters["encoder"] += 1
            roles += _attention_roles(layer, current_block, "encoder", False)
            attention_seen = True
        elif isinstance(layer, keras.layers.Embedding):
            roles.append(Role(layer.embeddings, layer, "embedding"))
        elif pos_types and isinstance(layer, pos_types):
            roles += [Role(v, layer, "position") for v in layer.weights]
        elif isinstance(layer, graph.NORM_TYPES):
            roles += _norm_roles(layer, current_block, "encoder")
        elif graph.has_kernel(layer) and not list(layer._flatten_layers(include_self=False)):
            if id(layer) in ffn_of:
                role = ffn_of[id(layer)]
            else:
                role = "head" if attention_seen else "input"
            roles += _dense_roles(layer, role, current_block if role.startswith("ffn") else None)
        elif layer.weights:
            for sub in graph.sublayers(layer)[1:]:
                if isinstance(sub, keras.layers.Embedding):
                    roles.append(Role(sub.embeddings, sub, "embedding"))
                elif pos_types and isinstance(sub, pos_types):
                    roles += [Role(v, sub, "position") for v in sub.weights]
        claimed = [r.variable for r in roles]
    for v in model.weights:
        if not any(v is c for c in claimed):
            unknown.append((v.path, "no transformer role found (left unchanged)"))
    return roles, unknown


def _std(v) -> float:
    return scalar(ops.std(ops.cast(v, "float32")))


def _fans(role: Role):
    layer, shape = role.layer, tuple(role.variable.shape)
    if isinstance(layer, keras.layers.EinsumDense):
        return einsum_fans(layer.equation, shape)
    if len(shape) >= 2:
        return math.prod(shape[:-1]), shape[-1]
    return shape[0], shape[0]


def _normal(shape, std, seed):
    return keras.random.normal(shape, stddev=std, dtype="float32", seed=seed)


def _xavier_normal(role, gain, seed):
    fan_in, fan_out = _fans(role)
    return _normal(tuple(role.variable.shape), gain * math.sqrt(2.0 / (fan_in + fan_out)), seed)


def _xavier_uniform(role, gain, seed):
    fan_in, fan_out = _fans(role)
    limit = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return keras.random.uniform(tuple(role.variable.shape), -limit, limit, dtype="float32", seed=seed)


def _d_model(roles):
    for r in roles:
        if r.role == "q":
            return int(r.variable.shape[0])
    for r in roles:
        if r.role in ("embedding", "position"):
            return int(r.variable.shape[-1])
    raise ValueError("init_transformer found no attention layer and no embedding.")


def deepnet_constants(n_enc: int, n_dec: int) -> dict[str, tuple[float, float]]:
    """DeepNorm's (alpha, beta) per part (Wang et al. 2022, Table 1)."""
    if n_enc and n_dec:
        return {
            "encoder": (0.81 * (n_enc**4 * n_dec) ** (1 / 16), 0.87 * (n_enc**4 * n_dec) ** (-1 / 16)),
            "decoder": ((3 * n_dec) ** 0.25, (12 * n_dec) ** -0.25),
        }
    if n_dec:
        return {"decoder": ((2 * n_dec) ** 0.25, (8 * n_dec) ** -0.25)}
    return {"encoder": ((2 * n_enc) ** 0.25, (8 * n_enc) ** -0.25)}


def init_transformer(
    model,
    scheme: Literal["xavier", "gpt2", "t_fixup", "deepnet", "mimetic", "small_init"] = "gpt2",
    num_layers: int | None = None,
    seed: int | None = None,
) -> InitReport:
    """Initialize a transformer's weights by role with a published scheme.

    Schemes (d = model width, L = `num_layers`, N/M = encoder/decoder blocks):

    - ``"xavier"``: Glorot uniform with the true einsum fans on every
      projection, FFN and head kernel; embeddings N(0, d^-1/2); biases 0,
      norms gamma 1 beta 0.
    - ``"gpt2"`` (Radford et al. 2019, the public GPT-2 code): N(0, 0.02)
      for embeddings and every projection, N(0, 0.02 / sqrt(2L)) for the
      attention-output and FFN-output projections; biases 0, norms 1/0.
    - ``"t_fixup"`` (Huang et al. 2020): Xavier uniform projections with
      q/k/v gain 1/sqrt(2), embeddings N(0, d^-1/2); then for encoder blocks
      embeddings x (9N)^(-1/4), FFN and attention-output x 0.67 N^(-1/4),
      value x 0.67 N^(-1/4) sqrt(2); for decoder blocks (and decoder-only
      models) the same with (9M)^(-1/4) in place of both factors.
    - ``"deepnet"`` (Wang et al. 2022): Xavier normal with gain beta for the
      FFN, value and output projections, gain 1 for q/k; beta (and the
      residual multiplier alpha the model should use, ``x * alpha + f(x)``
      before each post-LN) from DeepNorm's table for encoder-only,
      decoder-only and encoder-decoder models. Keras layers expose no alpha:
      it is reported in ``report.notes``.
    - ``"mimetic"`` (Trockman & Kolter 2023): per head ``W_q W_k^T ≈ a1 Z1
      + b1 I`` and over the layer ``W_v W_o ≈ a2 Z2 - b2 I``, Z ~ N(0, 1/d),
      built from the SVD of the target (the best rank-k factorization),
      (a1, b1) = (0.7, 0.7), (a2, b2) = (0.4, 0.4); other weights as "xavier".
    - ``"small_init"`` (Nguyen & Salazar 2019): embeddings only, N(0,
      sqrt(2 / (5d))); nothing else changes.

    Args:
        model: a built model holding attention layers (functional Keras
            encoder, keras_hub backbone, ...).
        scheme: one of the above.
        num_layers: L (default: the number of attention blocks found).
        seed: base seed; every variable gets its own, so q, k and v differ.

    Returns:
        An :class:`InitReport` with every variable touched (role, block,
        std before/after); weights with no role are listed in ``skipped``.

    Reference:
        Radford et al. 2019; Huang, Perez, Ba, Volkovs 2020, "Improving
        transformer optimization through better initialization"; Wang et al.
        2022, "DeepNet: scaling transformers to 1,000 layers"; Trockman &
        Kolter 2023, "Mimetic initialization of self-attention layers";
        Nguyen & Salazar 2019, "Transformers without tears".
    """
    check_choice("scheme", scheme, SCHEMES)
    check_model_seed(seed)
    if not model.built:
        raise ValueError(f"Model {model.name!r} is not built: build it (or call it) first.")
    roles, unknown = detect_roles(model)
    if not any(r.role == "q" for r in roles) and scheme != "small_init":
        raise ValueError(
            f"init_transformer found no attention layer (keras.layers.MultiHeadAttention) "
            f"in model {model.name!r}."
        )
    blocks = {(r.part, r.block) for r in roles if r.role == "q" and not r.cross}
    n_enc = sum(1 for p, _ in blocks if p == "encoder")
    n_dec = sum(1 for p, _ in blocks if p == "decoder")
    if num_layers is not None and (isinstance(num_layers, bool) or not isinstance(num_layers, int) or num_layers < 1):
        raise ValueError(f"Argument `num_layers` must be a positive integer. Received: num_layers={num_layers!r}")
    total = num_layers or (n_enc + n_dec)
    report = InitReport(f"init_transformer({scheme})")
    for name, why in unknown:
        report.skip(name, why)
    seed_of = seed_for(model, 0 if seed is None else seed)
    seeds = (lambda v: seed_of(v)) if seed is not None else (lambda v: None)
    d = _d_model(roles)
    values = {}
    with atomic_weights(model):
        if scheme == "mimetic":
            values.update(_mimetic(roles, seeds))
        for r in roles:
            if id(r.variable) in values:
                continue
            new = _value(r, scheme, d, total, n_enc, n_dec, num_layers, seeds)
            if new is not None:
                values[id(r.variable)] = new
        for r in roles:
            new = values.get(id(r.variable))
            if new is None:
                continue
            before = _std(r.variable)
            r.variable.assign(ops.cast(ops.reshape(new, r.variable.shape), r.variable.dtype))
            where = "" if r.block is None else f"{r.part} block {r.block}{' cross' if r.cross else ''}"
            report.add(r.variable.path, r.role, before=before, after=_std(r.variable), stat="std", note=where)
    if scheme == "deepnet":
        for part, (alpha, beta) in deepnet_constants(n_enc, n_dec).items():
            report.notes.append(
                f"deepnet {part}: beta = {beta:.4g} applied; use residual alpha = {alpha:.4g} "
                "(x * alpha + f(x) before each post-LN)"
            )
    return report


def _value(r, scheme, d, total, n_enc, n_dec, num_layers, seeds):
    """The new value of one role's variable, or None to leave it."""
    seed = seeds(r.variable)
    shape = tuple(r.variable.shape)
    if scheme == "small_init":
        if r.role in ("embedding", "position"):
            return _normal(shape, math.sqrt(2.0 / (5.0 * d)), seed)
        return None
    if r.role == "norm":
        fill = 1.0 if r.variable.name in ("gamma", "scale") else 0.0
        return ops.full(shape, fill, dtype="float32")
    if r.role == "bias":
        return ops.zeros(shape, dtype="float32")
    if scheme == "gpt2":
        std = 0.02
        if r.role in ("o", "ffn_out"):
            std = 0.02 / math.sqrt(2.0 * total)
        return _normal(shape, std, seed)
    if r.role in ("embedding", "position"):
        value = _normal(shape, d**-0.5, seed)
        if scheme == "t_fixup":
            count = n_dec if (n_dec and not n_enc) else (num_layers or n_enc or n_dec)
            value = value * (9.0 * count) ** -0.25
        return value
    if scheme == "xavier" or scheme == "mimetic":
        return _xavier_uniform(r, 1.0, seed)
    if scheme == "t_fixup":
        qkv_gain = 1.0 / math.sqrt(2.0) if r.role in ("q", "k", "v") else 1.0
        value = _xavier_uniform(r, qkv_gain, seed)
        if r.block is None:
            return value
        if r.part == "decoder":
            m = num_layers or n_dec
            factor = (9.0 * m) ** -0.25
        else:
            n = num_layers or n_enc
            factor = 0.67 * n**-0.25
        if r.role in ("ffn_in", "ffn_out", "o"):
            return value * factor
        if r.role == "v":
            return value * factor * math.sqrt(2.0)
        return value
    if scheme == "deepnet":
        constants = deepnet_constants(n_enc, n_dec)
        beta = constants.get(r.part, next(iter(constants.values())))[1]
        gain = beta if r.role in ("ffn_in", "ffn_out", "v", "o") else 1.0
        return _xavier_normal(r, gain, seed)
    raise ValueError(f"Argument `scheme` must be one of {set(SCHEMES)}. Received: scheme={scheme}")


def _factor(target, rank):
    """(A, B) with A @ B.T the best rank-`rank` approximation of `target`."""
    u, s, vt = np.linalg.svd(target)
    root = np.sqrt(s[:rank])
    return u[:, :rank] * root, vt[:rank].T * root


def _mimetic(roles, seeds):
    """Mimetic q/k and v/o kernels (numpy: one small SVD per head / layer)."""
    out = {}
    attention = {}
    for r in roles:
        if r.role in ("q", "k", "v", "o"):
            attention.setdefault((r.part, r.block, r.cross), {})[r.role] = r
    for parts in attention.values():
        if set(parts) != {"q", "k", "v", "o"}:
            continue
        q, k, v, o = (parts[x] for x in "qkvo")
        d, heads, head_dim = q.variable.shape
        k_dim = k.variable.shape[0]
        if q.variable.shape[0] != k_dim or tuple(v.variable.shape)[:1] != (d,):
            continue
        rng = np.random.default_rng(seeds(q.variable))
        a1, b1 = MIMETIC_QK
        wq = np.zeros((d, heads, head_dim))
        wk = np.zeros((d, heads, head_dim))
        for h in range(heads):
            target = a1 * rng.standard_normal((d, d)) / math.sqrt(d) + b1 * np.eye(d)
            wq[:, h], wk[:, h] = _factor(target, head_dim)
        a2, b2 = MIMETIC_VO
        out_shape = tuple(o.variable.shape)  # (heads, value_dim, d_out)
        value_dim = v.variable.shape[-1]
        rank = heads * value_dim
        if out_shape[-1] == d:
            target = a2 * rng.standard_normal((d, d)) / math.sqrt(d) - b2 * np.eye(d)
            wv, wo = _factor(target, min(rank, d))
            wv = np.pad(wv, ((0, 0), (0, rank - wv.shape[1])))
            wo = np.pad(wo, ((0, 0), (0, rank - wo.shape[1])))
            out[id(v.variable)] = ops.convert_to_tensor(wv.reshape(d, heads, value_dim), "float32")
            out[id(o.variable)] = ops.convert_to_tensor(wo.T.reshape(heads, value_dim, d), "float32")
        out[id(q.variable)] = ops.convert_to_tensor(wq, "float32")
        out[id(k.variable)] = ops.convert_to_tensor(wk, "float32")
    return out
