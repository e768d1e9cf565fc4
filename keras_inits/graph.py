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

    outputs = graph._run_through_graph(
        graph._standardize_inputs(inputs), operation_fn=operation_fn
    )
    # Like Functional.call: a model built with outputs=[y] returns y.
    if isinstance(outputs, (list, tuple)) and len(outputs) == 1:
        return outputs[0]
    return outputs


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
    patched = []  # (layer, its own instance-level `call` or None)
    try:
        for layer in layers:
            if any(layer is other for other, _ in patched):
                continue
            own = vars(layer).get("call")
            original = layer.call

            def wrapped(*args, _layer=layer, _original=original, **kwargs):
                out = _original(*args, **kwargs)
                seen.append((_layer, out))
                return out

            layer.call = wrapped
            patched.append((layer, own))
        yield seen
    finally:
        # Restore an instance-level `call` that was there before (an outer
        # capture of the same layer), else fall back to the class' method.
        for layer, own in reversed(patched):
            if own is None:
                del layer.call
            else:
                layer.call = own


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


@dataclasses.dataclass
class LayerCall:
    """One call of a leaf layer in a graph model, as the graph recorded it.

    Attributes:
        layer: the leaf layer called.
        args: the call's positional arguments (Keras tensors stand for
            tensors; the same tensor passed twice is the same object).
        kwargs: the call's keyword arguments (``use_causal_mask=True``...).
        upstream: the leaf layers whose outputs reach this call's inputs, in
            topological order. Inside a nested graph model, everything
            upstream of any of that model's inputs counts.
    """

    layer: keras.layers.Layer
    args: tuple
    kwargs: dict
    upstream: list


def layer_calls(model) -> list[LayerCall]:
    """Every call of a leaf layer of a graph model, in topological order.

    Nested graph models are expanded; a layer called at several nodes gives
    one :class:`LayerCall` per node. Keras operations that are not layers
    (``keras.ops.add``) give none but pass their upstream on.

    Raises:
        ValueError: if `model` has no graph (subclassed or unbuilt).
    """
    graph = _functional(model)
    if graph is None:
        raise ValueError(
            f"Model {model.name!r} has no layer graph (it is subclassed or not "
            "built): its layer calls are not recorded."
        )
    calls = []
    _record_calls(graph, {}, calls)
    order = {}
    for call in calls:
        order.setdefault(id(call.layer), len(order))
    for call in calls:
        call.upstream = sorted(call.upstream.values(), key=lambda layer: order[id(layer)])
    return calls


def consumers(model) -> dict:
    """``id(layer) -> [layers called on one of its outputs]`` for the leaf
    layers of a graph model (``{}`` without a graph). A Keras operation in
    between (``keras.ops.*``) hides the consumer: it is not listed."""
    if _functional(model) is None:
        return {}
    out = {}
    for call in layer_calls(model):
        for tensor in keras.tree.flatten((call.args, call.kwargs)):
            history = getattr(tensor, "_keras_history", None)
            if history is not None and history[0] is not None:
                users = out.setdefault(id(history[0]), [])
                if not _contains(users, call.layer):
                    users.append(call.layer)
    return out


def _record_calls(graph, outer, calls) -> dict:
    """Append `graph`'s calls (upstream as id -> layer dicts); return the
    layers reached at its outputs. `outer`: layers upstream of its inputs."""
    reach = {}
    for depth in sorted(graph._nodes_by_depth, reverse=True):
        for node in graph._nodes_by_depth[depth]:
            up = dict(outer) if node.is_input else {}
            for parent in node.parent_nodes:
                up.update(reach.get(id(parent), {}))
            op = node.operation
            if node.is_input or op is None:
                reach[id(node)] = up
            elif is_graph_model(op):
                reach[id(node)] = {**up, **_record_calls(_functional(op), up, calls)}
            elif isinstance(op, keras.layers.Layer):
                args = node.arguments
                calls.append(LayerCall(op, tuple(args.args), dict(args.kwargs), up))
                reach[id(node)] = {**up, id(op): op}
            else:
                reach[id(node)] = up
    out = {}
    for node in graph._nodes_by_depth.get(0, []):
        out.update(reach.get(id(node), {}))
    return out


@dataclasses.dataclass
class OutputChain:
    """What a graph model applies to one leaf layer's output, up to the next
    layer with weights (normalization layers and PReLU are passed through).

    Attributes:
        layer: the leaf layer.
        ops: the operations applied in order (weightless layers, norms,
            PReLU, and Keras operations such as ``keras.ops.relu``), each the
            only user of the previous one's output.
        end: why the chain stops: ``"weighted layer NAME"``, ``"model output"``,
            ``"output of nested model NAME"``, ``"merge NAME"`` (an operation
            with several graph inputs), ``"nested model NAME"``, ``"used by N
            operations"`` or ``"unused"``.
    """

    layer: keras.layers.Layer
    ops: list
    end: str


def _chain(graph, start, outputs, scope) -> tuple[list, str]:
    ops, j = [], start
    while True:
        if j in outputs:
            return ops, "model output" if scope is None else f"output of nested model {scope}"
        kids = sorted(set(graph.children[j]))
        if len(kids) != 1:
            return ops, "unused" if not kids else f"used by {len(kids)} operations"
        node = graph.nodes[kids[0]]
        op = node.operation
        if op is None or is_graph_model(op):
            return ops, f"nested model {getattr(op, 'name', '?')}"
        if len(graph.parents[kids[0]]) > 1:
            return ops, f"merge {op.name}"
        if isinstance(op, keras.layers.Layer) and op.weights and not isinstance(
            op, (*NORM_TYPES, keras.layers.PReLU)
        ):
            return ops, f"weighted layer {op.name}"
        ops.append(op)
        j = kids[0]


def output_chains(model) -> dict[int, OutputChain]:
    """``id(layer) -> OutputChain`` for every leaf layer of a graph model
    (``{}`` without a graph), from its first call. Nested graph models are
    analysed in place; a chain does not leave the model it is in."""
    out, outputs = {}, {}
    for scope, graph, i, node in _operation_nodes(model):
        op = node.operation
        if isinstance(op, keras.layers.Layer) and id(op) not in out:
            if id(graph) not in outputs:
                tensors = keras.tree.flatten(_functional(scope).outputs)
                outputs[id(graph)] = {graph.producer(t) for t in tensors}
            ops, end = _chain(graph, i, outputs[id(graph)], None if scope is model else scope.name)
            out[id(op)] = OutputChain(op, ops, end)
    return out


# --- Residual branches -------------------------------------------------------
#
# A residual merge is an ``Add`` whose inputs share an ancestor in the graph.
# Ancestor and descendant sets of every node are Python ints used as bitsets
# (bit i = the i-th node in topological order): one pass each way, then every
# merge is a few bitwise operations. No recursion over the graph, so depth is
# only limited by memory (a 256-block ResNet: ~800 nodes, milliseconds).

NORM_TYPES = (
    keras.layers.BatchNormalization,
    keras.layers.LayerNormalization,
    keras.layers.GroupNormalization,
    keras.layers.RMSNormalization,
)
ATTENTION_TYPES = (keras.layers.MultiHeadAttention, keras.layers.GroupQueryAttention)
_ATTENTION_PARTS = ("_query_dense", "_key_dense", "_value_dense", "_output_dense")


def kernel_of(layer):
    """The kernel whose scale sets the layer's output scale, or None.

    ``layer.kernel`` for Dense, Conv*, Conv*Transpose, DepthwiseConv*,
    EinsumDense...; the ``pointwise_kernel`` of ``SeparableConv1D/2D`` (its
    depthwise kernel is linear and comes first: the output is linear in the
    pointwise kernel, which also carries the output units).
    """
    if is_graph_model(layer):
        return None
    kernel = getattr(layer, "kernel", None)
    if kernel is None:
        kernel = getattr(layer, "pointwise_kernel", None)
    return kernel


def has_kernel(layer) -> bool:
    """A layer with a learnable kernel (Dense, Conv*, SeparableConv*, EinsumDense, ...)."""
    return kernel_of(layer) is not None


def is_norm(layer) -> bool:
    return isinstance(layer, NORM_TYPES)


def norm_scale(layer):
    """The scale (gamma) variable of a normalization layer, or None.

    ``RMSNormalization`` calls it ``scale``; the others ``gamma`` (None when
    built with ``scale=False``).
    """
    if isinstance(layer, keras.layers.RMSNormalization):
        return getattr(layer, "scale", None)
    return getattr(layer, "gamma", None)


# Learnable per-channel (or scalar) output multipliers ``y = gamma * x``
# (module, class name) -> attribute of the multiplier. Checked on keras 3.15.1
# and keras-hub 0.32.0.
LAYER_SCALES = {
    ("keras.src.applications.convnext", "LayerScale"): "gamma",
    ("keras_hub.src.models.dinov2.dinov2_layers", "DINOV2LayerScale"): "lambda1",
    ("keras_hub.src.models.dinov3.dinov3_layers", "DINOV3LayerScale"): "lambda1",
    ("keras_hub.src.models.mobilenetv5.mobilenetv5_layers", "LayerScale2d"): "gamma",
    ("keras_inits.residual", "ResidualScale"): "alpha",
}


def layer_scale(layer):
    """The multiplier variable of a known layer-scale layer (ConvNeXt's and
    DINOv2's LayerScale, ``ki.layers.ResidualScale``...), or None."""
    for cls in type(layer).__mro__:
        attr = LAYER_SCALES.get((cls.__module__, cls.__qualname__))
        if attr is not None:
            return getattr(layer, attr, None)
    return None


def kernel_sublayers(layer) -> list:
    """The kernel layers `layer` applies, in execution order, as far as known.

    A kernel layer is itself; an attention layer gives its query, key, value
    and output projections; anything else gives ``[]``.
    """
    if has_kernel(layer):
        return [layer]
    if isinstance(layer, ATTENTION_TYPES):
        return [getattr(layer, part) for part in _ATTENTION_PARTS if getattr(layer, part, None)]
    return []


def is_opaque(layer) -> bool:
    """A layer whose inner structure is unknown here: no graph, not a kernel,
    norm or attention layer, and it holds weight-bearing sublayers (a
    subclassed block, an RNN, a wrapper)."""
    if is_graph_model(layer) or has_kernel(layer) or is_norm(layer):
        return False
    if isinstance(layer, ATTENTION_TYPES):
        return False
    return any(sub.weights for sub in layer._flatten_layers(include_self=False, recursive=True))


def _may_hide_residuals(layer) -> bool:
    """Opaque and not a Keras built-in (Keras' own layers hold no residual add)."""
    return is_opaque(layer) and not type(layer).__module__.startswith("keras.")


# Layers that compute ``inputs[0] + c * inputs[1]`` (module, class name):
# keras.applications' InceptionResNet blocks (checked on keras 3.15.1).
_SCALED_ADDS = {("keras.src.applications.inception_resnet_v2", "CustomScaleLayer")}


def _is_add(op) -> bool:
    """``keras.layers.Add`` (``keras.layers.add``), the ``x + y`` /
    ``keras.ops.add`` operation of a functional graph, or a known scaled add."""
    from keras.src.ops.numpy import Add as AddOperation

    if isinstance(op, (keras.layers.Add, AddOperation)):
        return True
    return any((cls.__module__, cls.__qualname__) in _SCALED_ADDS for cls in type(op).__mro__)


@dataclasses.dataclass
class ResidualBranch:
    """One residual merge ``skip + branch`` found in a graph model.

    Attributes:
        merge: the ``keras.layers.Add`` layer (or the ``x + y`` operation).
        node: the merge's graph node.
        index: the block index: position among all branches of the model
            (0-based, topological order, nested models in place).
        skip_input: position of the skip path among the merge's inputs.
        branch_input: position of the branch among the merge's inputs.
        skip_layers: weight-bearing layers on the skip path (empty for an
            identity shortcut; a projection shortcut has its conv/dense here).
        layers: the branch's layers in topological order, from the fork to
            the merge (leaf layers; nested graph models expanded).
        scope: name of the graph model that holds the merge.
    """

    merge: object
    node: object
    index: int
    skip_input: int
    branch_input: int
    skip_layers: list
    layers: list
    scope: str = ""

    @property
    def kernel_layers(self) -> list:
        """Kernel layers of the branch in order (attention: q, k, v, output)."""
        return [k for layer in self.layers for k in kernel_sublayers(layer)]

    @property
    def norm_layers(self) -> list:
        return [layer for layer in self.layers if is_norm(layer)]

    @property
    def opaque_layers(self) -> list:
        return [layer for layer in self.layers if is_opaque(layer)]

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
        """The last kernel-or-norm layer of the branch is a normalization."""
        weighted = [
            layer for layer in self.layers if kernel_sublayers(layer) or is_norm(layer)
        ]
        return bool(weighted) and is_norm(weighted[-1])

    @property
    def tail(self) -> list:
        """Weight-bearing layers after the last kernel layer (norms, gates...)."""
        last = -1
        for i, layer in enumerate(self.layers):
            if kernel_sublayers(layer):
                last = i
        return [layer for layer in self.layers[last + 1:] if layer.weights]

    @property
    def last_scale(self):
        """The last layer-scale layer after the branch's last kernel, or None."""
        scales = [layer for layer in self.tail if layer_scale(layer) is not None]
        return scales[-1] if scales else None

    @property
    def name(self) -> str:
        where = f" in {self.scope!r}" if self.scope else ""
        return f"block {self.index} ({self.merge.name}{where})"


class _Graph:
    """Topological order and ancestor/descendant bitsets of a Functional graph."""

    def __init__(self, functional):
        self.nodes = [
            node
            for depth in sorted(functional._nodes_by_depth, reverse=True)
            for node in functional._nodes_by_depth[depth]
        ]
        self.index = {id(node): i for i, node in enumerate(self.nodes)}
        self.parents = [
            [self.index[id(p)] for p in node.parent_nodes if id(p) in self.index]
            for node in self.nodes
        ]
        self.children = [[] for _ in self.nodes]
        for i, parents in enumerate(self.parents):
            for p in parents:
                self.children[p].append(i)
        self.up = [0] * len(self.nodes)  # strict ancestors
        for i, parents in enumerate(self.parents):  # parents come first: deeper nodes
            for p in parents:
                self.up[i] |= self.up[p] | (1 << p)
        self.down = [0] * len(self.nodes)  # strict descendants
        for i in reversed(range(len(self.nodes))):
            for p in self.parents[i]:
                self.down[p] |= self.down[i] | (1 << i)

    def is_chain(self, bits, fork) -> bool:
        """Every node in `bits` is computed from `fork` and `bits` alone (no
        side input joins the path: it is a function of the fork)."""
        allowed = bits | (1 << fork)
        rest = bits
        while rest:
            low = rest & -rest
            rest ^= low
            if any(not (allowed >> p) & 1 for p in self.parents[low.bit_length() - 1]):
                return False
        return True

    def is_private(self, bits, merge) -> bool:
        """Every node in `bits` feeds only nodes in `bits` or the `merge` node."""
        allowed = bits | (1 << merge)
        rest = bits
        while rest:
            low = rest & -rest
            rest ^= low
            if any(not (allowed >> c) & 1 for c in self.children[low.bit_length() - 1]):
                return False
        return True

    def producer(self, tensor):
        """Index of the node that produced `tensor` (None: outside the graph)."""
        op, node_index, _ = tensor._keras_history
        if op is None:
            return None
        return self.index.get(id(op._inbound_nodes[node_index]))

    def layers(self, bits) -> list:
        """Leaf layers of the nodes in `bits`, topological order, nested expanded."""
        out = []
        while bits:
            low = bits & -bits
            node = self.nodes[low.bit_length() - 1]
            bits ^= low
            op = node.operation
            if node.is_input or op is None:
                continue
            inner = all_layers(op) if is_graph_model(op) else (
                [op] if isinstance(op, keras.layers.Layer) else []
            )
            out.extend(layer for layer in inner if not _contains(out, layer))
        return out


def _weighted(layers) -> list:
    return [layer for layer in layers if layer.weights]


def residual_branches(model) -> tuple[list[ResidualBranch], list[tuple[str, str]]]:
    """Every residual branch of a graph model, and what could not be analysed.

    For each ``Add`` merge (``keras.layers.Add``, ``keras.layers.add``, or
    ``x + y`` on Keras tensors) whose inputs share an ancestor:

    - if one input is an ancestor of (or equal to) every other, it is the
      skip path (identity shortcut) and each other input is a branch made of
      the nodes between the two;
    - otherwise (projection shortcut) the paths from the nearest common
      ancestor are compared: the input with strictly fewest weight-bearing
      layers is the skip. A tie, or several nearest common ancestors, is
      ambiguous and reported as not analysable.

    A branch must hold a kernel or normalization layer (an ``x +
    PositionEmbedding(x)`` merge is not a residual block). Nested graph
    models are analysed in place (a model used twice shares its weights and
    is analysed once). Layers without a graph that hold weight-bearing
    sublayers and are not Keras built-ins (subclassed blocks such as
    keras_hub's TransformerEncoder) may hide residual connections: they are
    reported, never guessed.

    Returns:
        ``(branches, not_analysable)``: the :class:`ResidualBranch` list in
        topological order (``index`` = position), and ``(name, reason)``
        pairs.
    """
    branches, opaque = [], []
    _collect(model, branches, opaque)
    for i, branch in enumerate(branches):
        branch.index = i
    return branches, opaque


def _operation_nodes(model, seen_models=None):
    """``(graph model, _Graph, index, node)`` for every operation node of
    `model`'s graph and of the graph models nested in it (each model once,
    expanded where it is called), in topological order."""
    functional = _functional(model)
    if functional is None:
        return
    seen_models = [] if seen_models is None else seen_models
    graph = _Graph(functional)
    for i, node in enumerate(graph.nodes):
        op = node.operation
        if node.is_input or op is None:
            continue
        if is_graph_model(op):
            if not _contains(seen_models, op):
                seen_models.append(op)
                yield from _operation_nodes(op, seen_models)
        else:
            yield model, graph, i, node


def _collect(model, branches, opaque):
    if _functional(model) is None:
        opaque.append((model.name, "subclassed model: no layer graph to analyse"))
        return
    for scope, graph, _, node in _operation_nodes(model):
        op = node.operation
        if _is_add(op):
            found, why = _analyse_merge(graph, node, scope.name)
            branches.extend(found)
            if why:
                opaque.append((op.name, why))
        elif isinstance(op, keras.layers.Layer) and _may_hide_residuals(op):
            if not any(name == op.name for name, _ in opaque):
                opaque.append((
                    op.name,
                    f"{type(op).__name__} holds weight-bearing sublayers but no graph: "
                    "residual connections inside it cannot be analysed",
                ))


def _analyse_merge(graph, node, scope):
    """``(branches, reason)`` for one Add node; reason is set when ambiguous."""
    sources = [graph.producer(t) for t in node.input_tensors]
    if len(sources) < 2 or None in sources:
        return [], None
    closed = [graph.up[s] | (1 << s) for s in sources]  # ancestors, inclusive
    skip = [j for j, s in enumerate(sources) if all((c >> s) & 1 for c in closed)]
    if skip:
        skip = skip[-1]
        fork = sources[skip]
        paths = [c & graph.down[fork] for c in closed]
    else:
        common = closed[0]
        for c in closed[1:]:
            common &= c
        if not common:
            return [], None  # independent inputs (e.g. two model inputs): not residual
        fork = common.bit_length() - 1  # deepest common ancestor
        if common & ~(graph.up[fork] | (1 << fork)):
            return [], "several nearest common ancestors: the skip path is ambiguous"
        paths = [c & graph.down[fork] for c in closed]
        weighted = [_weighted(graph.layers(p)) for p in paths]
        kernels = [sum(1 for layer in w if kernel_sublayers(layer)) for w in weighted]
        # A shortcut is a path without weights or a projection (one kernel
        # layer, norms allowed), as in He et al. 2016; anything heavier on
        # both sides is a multi-path merge (NASNet, Inception), not residual.
        shortcut = [
            j for j, w in enumerate(weighted)
            if kernels[j] <= 1 and all(kernel_sublayers(x) or is_norm(x) for x in w)
            and graph.is_chain(paths[j], fork)
        ]
        fewest = min((kernels[j] for j in shortcut), default=None)
        candidates = [j for j in shortcut if kernels[j] == fewest]
        if len(candidates) != 1 or sum(k > fewest for k in kernels) != len(kernels) - 1:
            sizes = " and ".join(str(len(w)) for w in weighted)
            return [], (
                "no input is a shortcut (an identity or one-layer projection computed "
                "from the inputs' common ancestor alone; weight-bearing layers per "
                f"input since it: {sizes}): a multi-path merge, not a residual branch; "
                "left alone"
            )
        skip = candidates[0]
    skip_layers = _weighted(graph.layers(paths[skip]))
    found = []
    merge = graph.index[id(node)]
    for j, path in enumerate(paths):
        if j == skip:
            continue
        layers = graph.layers(path)
        if not graph.is_private(path, merge) and _weighted(layers):
            return [], (
                "the branch's layers also feed layers outside it: silencing it would "
                "change them (a multi-path cell, not a residual branch); left alone"
            )
        if any(kernel_sublayers(layer) or is_norm(layer) for layer in layers):
            found.append(
                ResidualBranch(node.operation, node, 0, skip, j, skip_layers, layers, scope)
            )
    return found, None
