"""Walk a built Keras model one layer at a time, with cached inputs.

This is the only module that touches Keras' private graph API
(``Functional._run_through_graph``, ``_nodes_by_depth``, ``Sequential._functional``,
``Layer._flatten_layers``). Everything else calls :func:`walk`,
:func:`layer_outputs` and :func:`all_layers`.

:func:`walk` evaluates a Sequential or Functional model node by node in
topological order, each node on the tensors its parents produced, and hands
every leaf layer to a visitor that may change the layer's weights and
re-evaluate that one layer before its output is passed on. A step such as
LSUV therefore costs one forward pass plus its re-evaluations: linear in
depth. Nested graph models (a Functional used as a block) are expanded;
multi-input/multi-output graphs and layers called with keyword arguments
(``MultiHeadAttention(q, v, attention_mask=...)``) are handled because each
node's own recorded arguments are replayed. Subclassed models have no graph:
:func:`is_graph_model` is False for them and callers fall back to full
forward passes (see :func:`capture_outputs`).
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable

import keras

Visitor = Callable[[keras.layers.Layer, Callable[[], object]], object]


def _functional(model):
    """The Functional graph behind `model`, or None (subclassed / unbuilt)."""
    from keras.src.models.functional import Functional

    if isinstance(model, keras.Sequential):
        graph = getattr(model, "_functional", None)
        return graph if isinstance(graph, Functional) else None
    if isinstance(model, Functional):
        return model
    return None


def is_graph_model(model) -> bool:
    """True for built Sequential and Functional models (those with a graph)."""
    return _functional(model) is not None


def _is_leaf(op) -> bool:
    return isinstance(op, keras.layers.Layer) and not is_graph_model(op)


def walk(model, inputs, visit: Visitor | None = None):
    """Evaluate `model` on `inputs` one node at a time; return its outputs.

    Args:
        model: a built Sequential or Functional model.
        inputs: what the model is called on (array, tensor, list or dict).
        visit: called as ``visit(layer, call)`` for every leaf layer, in
            topological order (nested models expanded); ``call()`` evaluates
            the layer on its cached inputs with its current weights. The
            visitor returns the layer's output (normally ``call()``, called
            again after it changed the weights). Keras operations that are not
            layers (``keras.ops.add`` in a functional graph) are evaluated
            without a visit. A layer called at several nodes is visited once
            per node.

    Raises:
        ValueError: if `model` has no graph (subclassed or unbuilt).
    """
    graph = _functional(model)
    if graph is None:
        raise ValueError(
            f"Model {model.name!r} has no layer graph (it is subclassed or not "
            "built); it can only be run as a whole."
        )

    def operation_fn(op):
        def call(*args, **kwargs):
            if is_graph_model(op):
                return walk(op, args[0] if len(args) == 1 else list(args), visit)
            if visit is None or not _is_leaf(op):
                return op(*args, **kwargs)
            return visit(op, lambda: op(*args, **kwargs))

        return call

    return graph._run_through_graph(
        graph._standardize_inputs(inputs), operation_fn=operation_fn
    )


def layer_outputs(model, inputs) -> list[tuple[keras.layers.Layer, object]]:
    """Every leaf layer's output, in topological order, from one forward pass.

    Graph models are walked (:func:`walk`); subclassed models are run once
    with every leaf layer's output captured (:func:`capture_outputs`).
    """
    if is_graph_model(model):
        seen = []

        def record(layer, call):
            out = call()
            seen.append((layer, out))
            return out

        walk(model, inputs, record)
        return seen
    with capture_outputs(all_layers(model)) as seen:
        model(inputs)
    return list(seen)


@contextlib.contextmanager
def capture_outputs(layers):
    """Record ``(layer, output)`` for each call of `layers` while active.

    The fallback for subclassed models: it wraps the instances' ``call``
    (not the class), so other instances are untouched, and always unwraps.
    """
    seen = []
    patched = []
    try:
        for layer in layers:
            original = layer.call

            def wrapped(*args, _layer=layer, _original=original, **kwargs):
                out = _original(*args, **kwargs)
                seen.append((_layer, out))
                return out

            layer.call = wrapped
            patched.append(layer)
        yield seen
    finally:
        for layer in patched:
            del layer.call


def all_layers(model) -> list[keras.layers.Layer]:
    """The layers `model` calls as units, once each (nested models expanded).

    For graph models: the layers at the graph's nodes, in topological order.
    For subclassed models: every tracked layer that tracks no sublayer, in
    Keras' tracking order (attribute assignment order, usually but not
    necessarily execution order).
    """
    graph = _functional(model)
    if graph is None:
        return [
            layer
            for layer in model._flatten_layers(include_self=False, recursive=True)
            if not list(layer._flatten_layers(include_self=False, recursive=False))
        ]
    order = []
    for depth in sorted(graph._nodes_by_depth, reverse=True):
        for node in graph._nodes_by_depth[depth]:
            op = node.operation
            if node.is_input or op is None:
                continue
            if is_graph_model(op):
                inner = all_layers(op)
            elif isinstance(op, keras.layers.Layer):
                inner = [op]
            else:
                inner = []
            order.extend(layer for layer in inner if not _contains(order, layer))
    return order


def sublayers(layer) -> list[keras.layers.Layer]:
    """`layer` and every layer it tracks, recursively (e.g. an attention
    layer's ``query_dense``), in tracking order."""
    return list(layer._flatten_layers(include_self=True, recursive=True))


def _contains(layers, layer) -> bool:
    return any(layer is other for other in layers)


# --- Residual branches -------------------------------------------------------

NORM_TYPES = (
    keras.layers.BatchNormalization,
    keras.layers.LayerNormalization,
    keras.layers.GroupNormalization,
    keras.layers.RMSNormalization,
)


def has_kernel(layer) -> bool:
    """A layer with a learnable ``kernel`` (Dense, Conv*, EinsumDense, ...)."""
    return getattr(layer, "kernel", None) is not None and not is_graph_model(layer)


def is_norm(layer) -> bool:
    return isinstance(layer, NORM_TYPES)


@dataclasses.dataclass
class ResidualBranch:
    """One residual merge ``skip + branch`` found in a functional graph.

    Attributes:
        merge: the ``keras.layers.Add`` layer.
        index: position of this merge among the model's merges (0-based,
            topological order).
        skip_layers: weight-bearing layers on the skip path (empty for an
            identity shortcut; a projection shortcut has its conv/dense here).
        layers: the branch's layers in topological order (leaf layers; nested
            graph models expanded).
    """

    merge: keras.layers.Layer
    index: int
    skip_layers: list
    layers: list

    @property
    def kernel_layers(self) -> list:
        return [layer for layer in self.layers if has_kernel(layer)]

    @property
    def norm_layers(self) -> list:
        return [layer for layer in self.layers if is_norm(layer)]

    @property
    def last_kernel(self):
        kernels = self.kernel_layers
        return kernels[-1] if kernels else None

    @property
    def last_norm(self):
        norms = self.norm_layers
        return norms[-1] if norms else None

    @property
    def ends_in_norm(self) -> bool:
        weighted = [layer for layer in self.layers if has_kernel(layer) or is_norm(layer)]
        return bool(weighted) and is_norm(weighted[-1])


def _node_depths(graph):
    return {id(n): d for d, nodes in graph._nodes_by_depth.items() for n in nodes}


def _ancestors(node, stop_ids, memo):
    """Nodes strictly above `node` (not crossing nodes whose id is in stop_ids)."""
    key = id(node)
    if key in memo:
        return memo[key]
    out = {}
    for parent in node.parent_nodes:
        if id(parent) in stop_ids:
            continue
        out[id(parent)] = parent
        out.update(_ancestors(parent, stop_ids, memo))
    memo[key] = out
    return out


def _expand(op) -> list:
    if is_graph_model(op):
        return all_layers(op)
    return [op] if isinstance(op, keras.layers.Layer) else []


def _path_layers(nodes, depths) -> list:
    ordered = sorted(nodes, key=lambda n: -depths.get(id(n), 0))
    layers = []
    for node in ordered:
        if node.is_input or node.operation is None:
            continue
        layers.extend(layer for layer in _expand(node.operation) if not _contains(layers, layer))
    return layers


def _weighted(layers) -> list:
    return [layer for layer in layers if layer.weights]


def residual_branches(model) -> tuple[list[ResidualBranch], list[tuple[str, str]]]:
    """Every residual merge of a graph model, and what could not be analysed.

    For each ``Add`` node with two inputs ``a`` and ``b``: the path from
    their nearest common ancestor to each input is traced through the graph.
    The input whose path holds fewer weight-bearing layers is the skip (an
    identity shortcut holds none); the other is the branch. Nested graph
    models used as layers are analysed recursively (their merges are
    returned too). Layers that hold weight-bearing sublayers but have no
    graph (subclassed blocks, e.g. keras_hub's TransformerEncoder) may hide
    residual connections: they are returned in the second list as
    ``(name, reason)``, never guessed.

    Returns:
        ``(branches, not_analysable)``.
    """
    graph = _functional(model)
    if graph is None:
        return [], [(model.name, "subclassed model: no layer graph to analyse")]
    depths = _node_depths(graph)
    branches, opaque, seen_models = [], [], []
    ordered_nodes = [
        n for d in sorted(graph._nodes_by_depth, reverse=True) for n in graph._nodes_by_depth[d]
    ]
    for node in ordered_nodes:
        op = node.operation
        if node.is_input or op is None:
            continue
        if is_graph_model(op):
            if _contains(seen_models, op):
                continue  # a block used twice shares its weights: analyse once
            seen_models.append(op)
            inner, inner_opaque = residual_branches(op)
            branches.extend(inner)
            opaque.extend(inner_opaque)
            continue
        if isinstance(op, keras.layers.Add) and len(node.parent_nodes) == 2:
            branch = _analyse_merge(node, depths)
            if branch is not None:
                branches.append(branch)
            continue
        if isinstance(op, keras.layers.Layer) and not is_graph_model(op):
            inner = [
                layer for layer in op._flatten_layers(include_self=False, recursive=True)
                if layer.weights
            ]
            if inner and not any(op is o for o, _ in opaque):
                opaque.append(
                    (op.name, f"{type(op).__name__} holds weight-bearing sublayers but no "
                              "graph: residual connections inside it cannot be analysed")
                )
    for i, branch in enumerate(branches):
        branch.index = i
    return branches, [(name, why) for name, why in opaque]


def _analyse_merge(node, depths):
    left, right = node.parent_nodes
    memo = {}
    up_left = {**_ancestors(left, set(), memo), id(left): left}
    up_right = {**_ancestors(right, set(), memo), id(right): right}
    common = set(up_left) & set(up_right)
    if not common:
        return None
    # Nodes on each path: ancestors of the input that are not common ancestors.
    path_left = [n for k, n in up_left.items() if k not in common]
    path_right = [n for k, n in up_right.items() if k not in common]
    layers_left = _path_layers(path_left, depths)
    layers_right = _path_layers(path_right, depths)
    if len(_weighted(layers_left)) <= len(_weighted(layers_right)):
        skip, branch = layers_left, layers_right
    else:
        skip, branch = layers_right, layers_left
    if not _weighted(branch):
        return None
    return ResidualBranch(node.operation, 0, _weighted(skip), branch)
