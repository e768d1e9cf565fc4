"""Transformer-aware initialization: roles found by type, schemes from the papers.

:func:`detect_roles` gives every weight of a built model a role, read from
layer types and attributes, never from layer names:

- ``embedding``: ``keras.layers.Embedding`` (keras_hub's ReversibleEmbedding
  is one; its untied ``reverse_embeddings`` is the ``head``); ``position``:
  keras_hub's PositionEmbedding (TokenAndPositionEmbedding holds both).
- ``q``/``k``/``v``/``o``: the ``query_dense``/``key_dense``/``value_dense``/
  ``output_dense`` of every ``keras.layers.MultiHeadAttention`` (subclasses
  such as keras_hub's CachedMultiHeadAttention included) and of
  ``keras.layers.GroupQueryAttention``, with their biases.
- ``ffn_in``/``ffn_out``: in keras_hub TransformerEncoder/TransformerDecoder
  blocks, their ``_feedforward_intermediate_dense``/``_feedforward_output_dense``.
  In a graph model built from Keras layers: the Dense/EinsumDense layers of a
  residual branch (``keras_inits.graph.residual_branches``) that holds no
  attention layer; the last one is ``ffn_out`` (it writes into the residual
  stream), the others ``ffn_in`` (a gated FFN has two).
- ``norm``: LayerNormalization and RMSNormalization (gamma/scale, beta).
- ``head`` / ``input``: any other Dense/EinsumDense of a graph model: ``head``
  when an attention layer is upstream of it, ``input`` (a projection of the
  model's inputs) otherwise.

Block index and part. keras_hub blocks: a TransformerEncoder is an encoder
block, a TransformerDecoder a decoder block (its ``_cross_attention_layer``,
when built, is its cross-attention). Graph models: each self-attention call
starts a block; it is a decoder block when called with
``use_causal_mask=True``, an encoder block otherwise; an attention called on
a value that is not its query is cross-attention, in the block of the latest
decoder self-attention upstream of it. FFN and norm layers belong to the
block of the latest attention upstream of them.

What is not recognised is listed in the report, never guessed: layers of
other types (Conv1D, custom layers), Dense layers inside subclassed blocks
other than keras_hub's, and every Dense of a subclassed model (no graph to
tell an FFN from a head). Attention, embedding and norm layers are found
anywhere, subclassed models included (their attention counts as encoder).
"""

from __future__ import annotations

import dataclasses
import math
import sys
from typing import Literal

import keras
from keras import ops

from keras_inits import graph
from keras_inits._model import (
    atomic_weights,
    check_model_seed,
    scalar,
    seed_for,
    variable_seed,
)
from keras_inits.fans import compute_fans, einsum_fans
from keras_inits.initializers._base import check_choice, check_number
from keras_inits.report import InitReport
from keras_inits.structure.roles import BLOCK_ROLES, adapter_for, resolve

SCHEMES = ("xavier", "gpt2", "t_fixup", "deepnet", "mimetic", "small_init")
MIMETIC_QK = (0.7, 0.7)  # (alpha_1, beta_1): Trockman & Kolter 2023 defaults
MIMETIC_VO = (0.4, 0.4)  # (alpha_2, beta_2)
ATTENTION_TYPES = (keras.layers.MultiHeadAttention, keras.layers.GroupQueryAttention)
NORM_TYPES = (keras.layers.LayerNormalization, keras.layers.RMSNormalization)
PROJECTION_TYPES = (keras.layers.Dense, keras.layers.EinsumDense)
KERNEL_ROLES = ("q", "k", "v", "o", "ffn_in", "ffn_out", "head", "input")


@dataclasses.dataclass
class Role:
    """One weight and what it does in the transformer.

    Attributes:
        variable: the weight.
        layer: the layer that owns it.
        role: one of embedding, position, q, k, v, o, ffn_in, ffn_out, head,
            input, norm.
        weight: kernel, bias, embeddings, gamma (also RMSNorm's scale), beta.
        block: the block index within its part (None outside blocks).
        part: "encoder" or "decoder".
        cross: True for a cross-attention projection.
        attention: the attention layer of a q/k/v/o weight.
    """

    variable: object
    layer: keras.layers.Layer
    role: str
    weight: str
    block: int | None = None
    part: str = "encoder"
    cross: bool = False
    attention: object = None
    uses: int = 1
    owner: object = None  # the registered or keras_hub block layer holding it

    @property
    def where(self) -> str:
        if self.block is None:
            return ""
        return f"{self.part} block {self.block}" + (" cross" if self.cross else "")


def _keras_hub_types():
    """(encoder blocks, decoder blocks, position embeddings) of keras_hub, if imported.

    A model holds keras_hub layers only if keras_hub was imported, so it is
    never imported here: that import takes seconds and, on JAX or torch,
    brings in TensorFlow (ResNet50's zero_residual went from 3.4 s to 0.1 s).
    """
    keras_hub = sys.modules.get("keras_hub")
    if keras_hub is None:
        return (), (), ()
    layers = keras_hub.layers
    return (layers.TransformerEncoder,), (layers.TransformerDecoder,), (layers.PositionEmbedding,)


_HUB_PARTS = (
    "_self_attention_layer", "_feedforward_intermediate_dense", "_feedforward_output_dense",
)
_ATTENTION_PARTS = (("q", "_query_dense"), ("k", "_key_dense"), ("v", "_value_dense"),
                    ("o", "_output_dense"))


class _Detector:
    """One pass over a model's layers, collecting roles and unknown layers."""

    def __init__(self, ffn):
        self.encoders, self.decoders, self.positions = _keras_hub_types()
        self.ffn = ffn  # id(layer) -> "ffn_in" | "ffn_out"
        self.roles, self.skipped = [], []
        self.seen = set()  # ids of layers visited
        self.blocks = {}  # id(attention layer or hub block) -> (part, block)
        self.count = {"encoder": 0, "decoder": 0}
        self.last = None  # (part, block) of the latest attention found
        self.uses = {}  # (part, block) -> applications (a shared block counts each call)
        self.owners = {}  # (part, block) -> registered / keras_hub block layer
        self._claimed = set()  # ids of variables with a role
        self.after = {}  # id of a subclassed layer holding blocks -> its last (part, block)
        self.held = {}  # id of a subclassed layer -> every (part, block) inside it
        self.called = set()  # ids of layers met through a graph call
        self.inside = None  # (part, block) while visiting a registered block's sublayers
        self.attentions_inside = 0

    def _role(self, role):
        """Record `role` unless its variable already has one (first claim wins)."""
        if id(role.variable) not in self._claimed:
            self._claimed.add(id(role.variable))
            self.roles.append(role)

    def claimed(self):
        return {id(r.variable) for r in self.roles}

    def _add(self, layer, role, block=None, part="encoder", cross=False, attention=None):
        for weight, variable in (("kernel", getattr(layer, "kernel", None)),
                                 ("bias", getattr(layer, "bias", None))):
            if variable is not None:
                self._role(Role(variable, layer, role, weight, block, part, cross, attention))

    def _new_block(self, part):
        block = self.count[part]
        self.count[part] += 1
        self.uses[(part, block)] = 1
        return block

    def _latest_block(self, call, part=None):
        """(part, block) of the latest attention upstream of `call`, or None."""
        for layer in reversed(call.upstream if call else []):
            found = self.blocks.get(id(layer)) or self.after.get(id(layer))
            if found and (part is None or found[0] == part):
                return found
        return None

    def _mark(self, layer):
        self.seen.update(id(sub) for sub in graph.sublayers(layer))

    def visit(self, layer, call=None, container=None):
        """Give `layer` its roles. `call`: its graph call (None without a graph);
        `container`: the subclassed layer or model holding it, if any."""
        if id(layer) in self.seen:
            if call is not None and id(layer) in self.called:
                # Applied again (ALBERT's shared block): one more application
                # of every block it is or holds.
                found = self.blocks.get(id(layer)) or self.after.get(id(layer))
                held = self.held.get(id(layer)) or ([found] if found in self.uses else [])
                for block in held:
                    self.uses[block] += 1
                if found is not None:
                    self.last = found
            elif call is not None:
                # First application of a layer first met as another layer's
                # attribute (Gemma3n's text model, also held by its embedding
                # processor): not a second application.
                found = self.blocks.get(id(layer)) or self.after.get(id(layer))
                if found is not None:
                    self.last = found
            if call is not None:
                self.called.add(id(layer))
            return
        self.seen.add(id(layer))
        if call is not None:
            self.called.add(id(layer))
        adapter = adapter_for(layer)
        if adapter is not None:
            self._registered(layer, adapter, call)
        elif self.encoders and isinstance(layer, self.encoders + self.decoders) and all(
            getattr(layer, attr, None) is not None for attr in _HUB_PARTS
        ):
            self._hub_block(layer)
        elif isinstance(layer, ATTENTION_TYPES):
            self._attention(layer, call)
        elif isinstance(layer, keras.layers.Embedding):
            self._role(Role(layer.embeddings, layer, "embedding", "embeddings"))
            reverse = getattr(layer, "reverse_embeddings", None)  # only when untied
            if isinstance(reverse, keras.Variable):
                self._role(Role(reverse, layer, "head", "kernel"))
        elif self.positions and isinstance(layer, self.positions):
            for v in layer.weights:
                self._role(Role(v, layer, "position", "embeddings"))
        elif isinstance(layer, NORM_TYPES):
            self._norm(layer, self._latest_block(call))
        elif isinstance(layer, PROJECTION_TYPES) and container is None:
            self._projection(layer, call)
        elif not layer.weights:
            return
        elif any(sub.weights for sub in graph.sublayers(layer)[1:]):
            # A subclassed block: what it holds is recognised by type, the rest
            # of its weights end up in `skipped`; layers after it are after the
            # last attention found inside it.
            last, before = self.last, dict(self.count)
            for sub in graph.sublayers(layer)[1:]:
                self.visit(sub, container=layer)
            if self.last is not last:
                self.after[id(layer)] = self.last
            self.held[id(layer)] = [(part, i) for part, n in self.count.items()
                                    for i in range(before[part], n)]
        elif isinstance(layer, PROJECTION_TYPES):
            self.skipped.append((layer, f"{type(layer).__name__} inside "
                                        f"{type(container).__name__} (no graph): FFN or head "
                                        "cannot be told apart"))
        else:
            self.skipped.append((layer, f"{type(layer).__name__} is not a transformer layer type"))

    def _claim(self, owner, path, role, found, cross=False):
        """Give the variables at `path` of `owner` their role; their layers are seen."""
        obj = resolve(owner, path)
        if obj is None:
            return
        block, part = (found[1], found[0]) if found else (None, "encoder")
        parent = resolve(owner, path.rsplit(".", 1)[0]) if "." in path else owner
        attention = parent if role in ("q", "k", "v", "o") else None
        if isinstance(obj, keras.Variable):
            variables, layer = [obj], owner
        elif isinstance(obj, keras.layers.Layer):
            self._mark(obj)
            variables, layer = [v for v in obj.weights if not v.name.startswith("lora_")], obj
        else:
            return
        for variable in variables:
            self._role(Role(variable, layer, role, _weight_kind(variable, role),
                            block, part, cross, attention))

    def _registered(self, layer, adapter, call):
        """A layer whose class has registered roles (a keras_hub family, a user block)."""
        if adapter.is_block:
            part = adapter.part_of(layer)
            found = (part, self._new_block(part))
            self.blocks[id(layer)] = self.last = found
            self.owners[found] = layer
        else:
            found = self._latest_block(call) or self.last
        for path, role in adapter.roles.items():
            self._claim(layer, path, role, found if role in BLOCK_ROLES or role == "norm"
                        else None)
        for path, role in adapter.cross.items():
            self._claim(layer, path, role, found, cross=True)
        # What the adapter does not name: attention layers by type (the first
        # is the block's self-attention, a later one its cross-attention),
        # norms, embeddings; anything else is listed as unknown.
        outer = self.inside, self.attentions_inside
        if adapter.is_block:
            self.inside, self.attentions_inside = found, 0
        try:
            for sub in graph.sublayers(layer)[1:]:
                if id(sub) in self.seen:
                    continue
                if adapter.is_block and isinstance(sub, NORM_TYPES):
                    self.seen.add(id(sub))
                    self._norm(sub, found)
                else:
                    self.visit(sub, container=layer)
        finally:
            self.inside, self.attentions_inside = outer

    def _norm(self, layer, found, part=None):
        block, part = (found[1], found[0]) if found else (None, part or "encoder")
        gamma = layer.scale if isinstance(layer, keras.layers.RMSNormalization) else layer.gamma
        beta = getattr(layer, "beta", None) if isinstance(layer, keras.layers.LayerNormalization) else None
        for weight, variable in (("gamma", gamma), ("beta", beta)):
            if isinstance(variable, keras.Variable):
                self._role(Role(variable, layer, "norm", weight, block, part))

    def _attention_roles(self, layer, block, part, cross):
        self._mark(layer)
        for role, attr in _ATTENTION_PARTS:
            self._add(getattr(layer, attr), role, block, part, cross, attention=layer)

    def _attention(self, layer, call):
        if self.inside is not None:  # inside a registered block: its self, then cross
            part, block = self.inside
            self._attention_roles(layer, block, part, self.attentions_inside > 0)
            self.attentions_inside += 1
            return
        cross = causal = False
        if call is not None:
            args, kwargs = call.args, call.kwargs
            query = kwargs.get("query", args[0] if args else None)
            value = kwargs.get("value", args[1] if len(args) > 1 else None)
            key = kwargs.get("key", args[2] if len(args) > 2 else None)
            cross = any(t is not None and t is not query for t in (value, key))
            causal = bool(kwargs.get("use_causal_mask", False))
        if cross:
            found = self._latest_block(call, "decoder")
            block = found[1] if found else self._new_block("decoder")
            part = "decoder"
        else:
            part = "decoder" if causal else "encoder"
            block = self._new_block(part)
        self.blocks[id(layer)] = self.last = (part, block)
        self._attention_roles(layer, block, part, cross)

    def _hub_block(self, layer):
        part = "decoder" if isinstance(layer, self.decoders) else "encoder"
        block = self._new_block(part)
        self.blocks[id(layer)] = self.last = (part, block)
        self.owners[(part, block)] = layer
        self._attention_roles(layer._self_attention_layer, block, part, False)
        cross = getattr(layer, "_cross_attention_layer", None)
        if cross is not None:
            self._attention_roles(cross, block, part, True)
        self._add(layer._feedforward_intermediate_dense, "ffn_in", block, part)
        self._add(layer._feedforward_output_dense, "ffn_out", block, part)
        for sub in graph.sublayers(layer)[1:]:  # every norm in it (QK-norms included)
            if isinstance(sub, NORM_TYPES):
                self._norm(sub, (part, block))
        self._mark(layer)
        for sub in graph.sublayers(layer)[1:]:
            if sub.weights and not graph.sublayers(sub)[1:] and not any(
                r.layer is sub for r in self.roles
            ):
                self.skipped.append((sub, f"{type(sub).__name__} inside {type(layer).__name__}: "
                                          "no known role"))

    def _projection(self, layer, call):
        found = self._latest_block(call)
        if found is None:
            self._add(layer, "input")
        elif id(layer) in self.ffn:
            self._add(layer, self.ffn[id(layer)], found[1], found[0])
        else:
            self._add(layer, "head")


def _weight_kind(variable, role) -> str:
    """kernel, bias, embeddings, gamma or beta, from the variable's own name."""
    name = variable.name.split("/")[-1]
    if role == "norm":
        return "beta" if name in ("beta", "bias", "offset") else "gamma"
    if name == "bias" or name.endswith("_bias") and "attention" not in name:
        return "bias"
    if role in ("embedding", "position"):
        return "embeddings"
    return "kernel"


def _ffn_layers(model) -> dict:
    """id(layer) -> "ffn_in"/"ffn_out" for the projections of attention-free residual branches."""
    encoders, decoders, _ = _keras_hub_types()
    blocks = ATTENTION_TYPES + encoders + decoders
    out = {}
    branches, _ = graph.residual_branches(model)
    for branch in branches:
        if any(isinstance(layer, blocks) for layer in branch.layers):
            continue
        dense = [layer for layer in branch.layers if isinstance(layer, PROJECTION_TYPES)]
        for i, layer in enumerate(dense):
            out.setdefault(id(layer), "ffn_out" if i == len(dense) - 1 else "ffn_in")
    return out


def detect_roles(model) -> tuple[list[Role], list[tuple[str, str]]]:
    """Every weight's role, by layer type and attribute; and what is unknown.

    Returns:
        ``(roles, skipped)``: a :class:`Role` per recognised weight, and
        ``(name, reason)`` for every weight-bearing layer (or, for weights
        of recognised layers that have no role, variable path) left alone.
    """
    if graph.is_graph_model(model):
        detector = _Detector(_ffn_layers(model))
        for call in graph.layer_calls(model):
            detector.visit(call.layer, call)
    else:
        detector = _Detector({})
        for layer in graph.sublayers(model)[1:]:
            detector.visit(layer, container=model)
    for r in detector.roles:
        if r.block is not None:
            r.uses = detector.uses.get((r.part, r.block), 1)
            r.owner = detector.owners.get((r.part, r.block))
    skipped = [(layer.name, why) for layer, why in detector.skipped]
    accounted = detector.claimed() | {
        id(v) for layer, _ in detector.skipped for v in layer.weights
    }
    skipped += [(v.path, "no transformer role found") for v in model.weights
                if id(v) not in accounted]
    return detector.roles, skipped


def count_blocks(roles) -> tuple[int, int]:
    """(encoder, decoder) block applications among `roles` (a block shared
    by several applications, as in ALBERT, counts once per application)."""
    blocks = {}
    for r in roles:
        if r.block is not None and r.role in BLOCK_ROLES and not r.cross:
            blocks[(r.part, r.block)] = r.uses
    return (sum(n for (part, _), n in blocks.items() if part == "encoder"),
            sum(n for (part, _), n in blocks.items() if part == "decoder"))


def _fans(role: Role) -> tuple[int, int]:
    """True fans: einsum kernels from their equation, others by Keras'
    convention (a 2D kernel (in, out); a Conv1D kernel (k, in, out), as in a
    registered GPT-style block: (k * in, k * out))."""
    shape = tuple(role.variable.shape)
    if isinstance(role.layer, keras.layers.EinsumDense):
        return einsum_fans(role.layer.equation, shape)
    return compute_fans(shape)


def deepnet_constants(n_enc: int, n_dec: int) -> dict[str, tuple[float, float]]:
    """DeepNorm's ``(alpha, beta)`` per part (Wang et al. 2022, Table 1).

    Encoder-only (N blocks): alpha = (2N)^(1/4), beta = (8N)^(-1/4).
    Decoder-only (M blocks): alpha = (2M)^(1/4), beta = (8M)^(-1/4).
    Encoder-decoder: encoder alpha = 0.81 (N^4 M)^(1/16), beta = 0.87
    (N^4 M)^(-1/16); decoder alpha = (3M)^(1/4), beta = (12M)^(-1/4).
    """
    if n_enc and n_dec:
        return {
            "encoder": (0.81 * (n_enc**4 * n_dec) ** (1 / 16), 0.87 * (n_enc**4 * n_dec) ** (-1 / 16)),
            "decoder": ((3 * n_dec) ** 0.25, (12 * n_dec) ** -0.25),
        }
    if n_dec:
        return {"decoder": ((2 * n_dec) ** 0.25, (8 * n_dec) ** -0.25)}
    if n_enc:
        return {"encoder": ((2 * n_enc) ** 0.25, (8 * n_enc) ** -0.25)}
    raise ValueError("DeepNorm needs at least one block. Received: n_enc=0, n_dec=0")


@dataclasses.dataclass
class _Context:
    scheme: str
    n_enc: int
    n_dec: int
    total: int
    std: float  # GPT-2's initializer range


def _qkv_axis(shape) -> int | None:
    """The axis a fused q/k/v kernel stacks its three projections on: an
    axis of size 3 after the input axis, else the last axis if it divides
    by 3; None if there is none."""
    for axis in range(1, len(shape)):
        if shape[axis] == 3:
            return axis
    return len(shape) - 1 if shape and shape[-1] % 3 == 0 else None


def _plan(r: Role, c: _Context):
    """``(kind, parameter)`` for one weight: ("normal", std), ("uniform", limit),
    ("const", value), ("chunks", (axis, [plan of q, k, v])) for a fused qkv
    kernel, or None to leave it."""
    if r.role == "qkv" and r.weight == "kernel" and c.scheme not in ("small_init", "gpt2"):
        axis = _qkv_axis(tuple(r.variable.shape))
        if axis is not None:
            fan_in, fan_out = _fans(r)
            return "chunks", (axis, [
                _plan_one(dataclasses.replace(r, role=role), c, fans=(fan_in, fan_out // 3))
                for role in ("q", "k", "v")
            ])
    return _plan_one(r, c)


def _plan_one(r: Role, c: _Context, fans=None):
    if c.scheme == "small_init":
        if r.role in ("embedding", "position"):
            return "normal", math.sqrt(2.0 / (5.0 * r.variable.shape[-1]))
        return None
    if r.role == "norm":
        return "const", 1.0 if r.weight == "gamma" else 0.0
    if r.weight == "bias":
        return "const", 0.0
    if c.scheme == "gpt2":
        return "normal", c.std / math.sqrt(2.0 * c.total) if r.role in ("o", "ffn_out") else c.std
    if r.role in ("embedding", "position"):
        std = r.variable.shape[-1] ** -0.5
        if c.scheme == "t_fixup":
            std *= (9.0 * (c.n_dec or c.n_enc)) ** -0.25
        return "normal", std
    fan_in, fan_out = fans or _fans(r)
    glorot = math.sqrt(2.0 / (fan_in + fan_out))  # Xavier std with gain 1
    if c.scheme in ("xavier", "mimetic"):
        return "uniform", math.sqrt(3.0) * glorot
    if c.scheme == "deepnet":
        beta = deepnet_constants(c.n_enc, c.n_dec)[r.part][1] if r.block is not None else 1.0
        return "normal", glorot * (beta if r.role in ("v", "o", "ffn_in", "ffn_gate", "ffn_out")
                                   else 1.0)
    if c.scheme == "t_fixup":
        gain = 1.0 / math.sqrt(2.0) if r.role in ("q", "k", "v") else 1.0
        if r.block is not None and r.role in ("v", "o", "ffn_in", "ffn_gate", "ffn_out"):
            factor = (9.0 * c.n_dec) ** -0.25 if r.part == "decoder" else 0.67 * c.n_enc**-0.25
            gain *= factor * (math.sqrt(2.0) if r.role == "v" else 1.0)
        return "uniform", math.sqrt(3.0) * glorot * gain
    raise ValueError(f"Argument `scheme` must be one of {set(SCHEMES)}. Received: scheme={c.scheme}")


def _describe(plan) -> str:
    kind, value = plan
    if kind == "normal":
        return f"N(0, {value:.4g})"
    if kind == "uniform":
        return f"U(+-{value:.4g})"
    if kind == "const":
        return f"= {value:g}"
    if kind == "chunks":
        return "q|k|v: " + " | ".join(_describe(p) for p in value[1])
    return kind


def _draw(plan, shape, seed):
    kind, value = plan
    if kind == "chunks":
        axis, plans = value
        size = shape[axis] // 3
        part = tuple(size if a == axis else n for a, n in enumerate(shape))
        return ops.concatenate([
            _draw(p, part, None if seed is None else variable_seed(seed, f"chunk{i}"))
            for i, p in enumerate(plans)
        ], axis=axis)
    if kind == "normal":
        return keras.random.normal(shape, stddev=value, dtype="float32", seed=seed)
    if kind == "uniform":
        return keras.random.uniform(shape, -value, value, dtype="float32", seed=seed)
    if kind == "const":
        return ops.full(shape, value, dtype="float32")
    raise ValueError(f"Unknown draw {kind!r}.")


def _factor(d, rank, alpha, beta, seed):
    """``(A, B)``, both ``(d, rank)``, with ``A @ B.T`` the best rank-`rank`
    approximation of ``alpha * Z + beta * I``, ``Z ~ N(0, 1/d)`` (exact when
    rank >= d: the SVD factors are then spread over `rank` columns by a
    random ``(d, rank)`` matrix with orthonormal rows)."""
    z = keras.random.normal((d, d), stddev=d**-0.5, dtype="float32", seed=seed)
    u, s, vt = ops.svd(alpha * z + beta * ops.eye(d, dtype="float32"))
    root = ops.sqrt(s)[None, :]
    left, right = u * root, ops.transpose(vt) * root
    if rank <= d:
        return left[:, :rank], right[:, :rank]
    spread_seed = None if seed is None else variable_seed(seed, "spread")
    q, _ = ops.qr(keras.random.normal((rank, d), dtype="float32", seed=spread_seed))
    spread = ops.transpose(q)  # (d, rank), spread @ spread.T = I
    return ops.matmul(left, spread), ops.matmul(right, spread)


def _mimetic(roles, seed_of, notes) -> dict:
    """id(variable) -> value for the q/k/v/o kernels of each self-attention."""
    out = {}
    groups = {}
    for r in roles:
        if r.role in ("q", "k", "v", "o") and r.weight == "kernel":
            groups.setdefault((id(r.attention), r.cross), {})[r.role] = r
    for parts in groups.values():
        if set(parts) != set("qkvo"):
            continue
        q, k, v, o = (parts[x] for x in "qkvo")
        qs, ks, vs, os_ = (tuple(x.variable.shape) for x in (q, k, v, o))
        d = qs[0]
        if q.cross or isinstance(q.attention, keras.layers.GroupQueryAttention) or not (
            len(qs) == len(ks) == len(vs) == len(os_) == 3 and qs == ks and vs[0] == d == os_[-1]
        ):
            notes.append(f"mimetic: {q.attention.name} is not a square self-attention with "
                         "one key per head: Xavier instead")
            continue
        heads, key_dim = qs[1], qs[2]
        wq, wk = [], []
        for h in range(heads):
            seed = seed_of(q.variable)
            a, b = _factor(d, key_dim, *MIMETIC_QK, None if seed is None else variable_seed(seed, f"head{h}"))
            wq.append(a)
            wk.append(b)
        out[id(q.variable)] = ops.stack(wq, axis=1)
        out[id(k.variable)] = ops.stack(wk, axis=1)
        alpha, beta = MIMETIC_VO
        a, b = _factor(d, vs[1] * vs[2], alpha, -beta, seed_of(v.variable))
        out[id(v.variable)] = ops.reshape(a, vs)
        out[id(o.variable)] = ops.reshape(ops.transpose(b), os_)
    return out


def init_transformer(
    model,
    scheme: Literal["xavier", "gpt2", "t_fixup", "deepnet", "mimetic", "small_init"] = "gpt2",
    num_layers: int | None = None,
    seed: int | None = None,
    *,
    initializer_range: float = 0.02,
) -> InitReport:
    """Initialize a transformer's weights by role with a published scheme.

    Notation: d = the width of an embedding (its last axis); fan_in/fan_out =
    the true fans of a kernel (EinsumDense: from its equation, so a query
    kernel (d_model, heads, key_dim) has (d_model, heads * key_dim));
    xavier = gain * sqrt(2 / (fan_in + fan_out)) (std); N/M = encoder/decoder
    blocks found (``num_layers`` replaces both); L = N + M. Every scheme but
    small_init sets biases to 0 and norms to gamma 1, beta 0.

    - ``"xavier"``: every kernel U(+-sqrt(3) * xavier); embeddings
      N(0, d^-1/2) (the fairseq convention T-Fixup starts from).
    - ``"gpt2"`` (Radford et al. 2019, the public GPT-2 code): every
      embedding and kernel N(0, 0.02) (``initializer_range``), the
      attention-output and FFN-output kernels N(0, 0.02 / sqrt(2L)).
    - ``"t_fixup"`` (Huang et al. 2020, Algorithm 2 and the authors' code):
      kernels Xavier uniform with gain 1/sqrt(2) for q/k/v and 1 otherwise;
      embeddings N(0, d^-1/2) x (9M)^(-1/4) (encoder-only: (9N)^(-1/4)).
      Encoder blocks: FFN and attention-output x 0.67 N^(-1/4), value x
      0.67 N^(-1/4) sqrt(2). Decoder blocks (self and cross attention):
      the same with (9M)^(-1/4). Head and input projections: plain Xavier.
      The paper also removes LayerNorm; the model's norms are kept here.
    - ``"deepnet"`` (Wang et al. 2022): kernels Xavier normal, gain beta on
      the FFN, value and attention-output kernels and 1 on q/k, head and
      input; embeddings N(0, d^-1/2). beta and the residual multiplier alpha
      (``LN(alpha * x + f(x))``) come from DeepNorm's table for
      encoder-only, decoder-only and encoder-decoder models
      (:func:`deepnet_constants`). Keras layers have no alpha to set: it is
      reported in ``report.notes`` for the model to use.
    - ``"mimetic"`` (Trockman & Kolter 2023): for each self-attention, per
      head ``W_q W_k^T ~ a1 Z + b1 I`` and per layer ``W_v W_o ~ a2 Z - b2 I``
      with a fresh ``Z ~ N(0, 1/d)`` each time and the paper's (a1, b1) =
      (0.7, 0.7), (a2, b2) = (0.4, 0.4). Construction as in the authors'
      code: the SVD ``U S V^T`` of the d x d target gives ``W_q = U
      S^(1/2)`` and ``W_k = V S^(1/2)`` cut to the head's key_dim columns
      (the best rank-key_dim approximation); ``W_v = U S^(1/2)`` and ``W_o
      = (V S^(1/2))^T`` split over the heads' value columns (exact when
      heads * value_dim >= d). Everything else as "xavier"; cross and
      grouped-query attention get Xavier (noted).
    - ``"small_init"`` (Nguyen & Salazar 2019): embeddings only, N(0,
      sqrt(2 / (5d))); no other weight changes.

    Args:
        model: a built ``keras.Model`` holding attention layers (a
            functional encoder from Keras layers, a keras_hub backbone...).
        scheme: one of the above.
        num_layers: the depth used by gpt2, t_fixup and deepnet (default:
            the blocks found; for an encoder-decoder it replaces N and M).
        seed: base seed; each variable gets its own, so q, k and v differ.
        initializer_range: gpt2's standard deviation (0.02).

    Returns:
        An :class:`InitReport`: one row per variable changed (role, block,
        the distribution drawn, std before/after), ``skipped`` for layers
        and variables with no role, ``notes`` with the blocks found (and the
        DeepNorm alpha).

    Raises:
        TypeError: `model` is not a keras.Model, or a bad `seed`.
        ValueError: unbuilt model, unknown scheme, bad `num_layers`, no
            attention layer (no embedding, for small_init), or a weight that
            became NaN/inf (every weight is then restored).

    Example:

    >>> report = ki.init_transformer(model, "t_fixup", seed=0)
    >>> model.fit(x, y, callbacks=[ki.InitCallback(
    ...     lambda m: ki.init_transformer(m, scheme="deepnet", seed=0))])

    Reference:
        Radford et al. 2019, "Language models are unsupervised multitask
        learners"; Huang, Perez, Ba & Volkovs 2020, "Improving transformer
        optimization through better initialization"; Wang et al. 2022,
        "DeepNet: scaling transformers to 1,000 layers"; Trockman & Kolter
        2023, "Mimetic initialization of self-attention layers"; Nguyen &
        Salazar 2019, "Transformers without tears".
    """
    if not isinstance(model, keras.Model):
        raise TypeError(f"Argument `model` must be a keras.Model. Received: model of type "
                        f"{type(model).__name__}")
    check_choice("scheme", scheme, SCHEMES)
    check_model_seed(seed)
    if num_layers is not None and (
        isinstance(num_layers, bool) or not isinstance(num_layers, int) or num_layers < 1
    ):
        raise ValueError("Argument `num_layers` must be a positive integer or None. "
                         f"Received: num_layers={num_layers!r}")
    std = check_number("initializer_range", initializer_range, positive=True)
    if not model.built or not model.weights:
        raise ValueError(f"Model {model.name!r} is not built or has no weights: call it on a "
                         "batch or give it an Input first.")
    roles, skipped = detect_roles(model)
    trainable = {id(v) for v in model.trainable_weights}
    frozen = [r for r in roles if id(r.variable) not in trainable]
    roles = [r for r in roles if id(r.variable) in trainable]
    n_enc, n_dec = count_blocks(roles)
    if scheme == "small_init":
        if not any(r.role in ("embedding", "position") for r in roles):
            raise ValueError(f"init_transformer(small_init) found no embedding layer in model "
                             f"{model.name!r}.")
    elif not n_enc + n_dec:
        raise ValueError(f"init_transformer found no transformer block in model {model.name!r}: "
                         "no keras.layers.MultiHeadAttention/GroupQueryAttention and no layer "
                         "of a class registered with ki.register_roles (see README, Real "
                         "models).")
    if num_layers is not None:
        n_enc, n_dec = (num_layers if n_enc else 0), (num_layers if n_dec else 0)
    context = _Context(scheme, n_enc, n_dec, num_layers or n_enc + n_dec, std)
    report = InitReport(f"init_transformer({scheme})")
    for name, why in skipped:
        report.skip(name, why)
    for r in frozen:
        report.skip(r.variable.path, f"{r.role} {r.weight}: frozen (trainable=False), left alone")
    report.notes.append(f"found {n_enc} encoder and {n_dec} decoder blocks (L = {context.total})")
    seed_of = seed_for(model, seed) if seed is not None else (lambda variable: None)
    special = _mimetic(roles, seed_of, report.notes) if scheme == "mimetic" else {}
    with atomic_weights(model, report):
        values = []
        for r in roles:
            plan = ("mimetic", None) if id(r.variable) in special else _plan(r, context)
            if plan is None:
                continue
            shape = tuple(r.variable.shape)
            new = special.get(id(r.variable))
            if new is None:
                new = _draw(plan, shape, seed_of(r.variable))
            values.append((r, plan, new))
        for r, plan, new in values:
            before = scalar(ops.std(ops.cast(r.variable, "float32")))
            r.variable.assign(ops.cast(new, r.variable.dtype))
            after = scalar(ops.std(ops.cast(r.variable, "float32")))
            note = "; ".join(x for x in (r.where, _describe(plan)) if x)
            report.add(r.variable.path, f"{r.role} {r.weight}", before=before, after=after,
                       stat="std", note=note)
    if scheme == "deepnet":
        for part, (alpha, beta) in deepnet_constants(n_enc, n_dec).items():
            report.notes.append(
                f"deepnet {part}: beta = {beta:.4g} applied; use residual alpha = {alpha:.4g} "
                "(LN(alpha * x + f(x)) in each post-LN block)"
            )
    if scheme == "t_fixup":
        report.notes.append("t_fixup: the paper trains without LayerNorm; the model's norms "
                            "were kept (gamma 1, beta 0)")
    return report
