"""Zero-residual initialization: zero-gamma, zero-last, Fixup; SkipInit/ReZero gates.

Every residual block ``x + f(x)`` starts as the identity when ``f`` starts at
zero, so a deep residual network starts as a shallow one and its gradients
reach every block unchanged. :func:`zero_residual` finds the blocks from the
model's graph (:func:`keras_inits.graph.residual_branches`) and zeroes the
right weight of each; :class:`ResidualScale` is a learnable scalar gate that
does the same by construction.
"""

from __future__ import annotations

import math
import warnings
from typing import Literal

import keras
from keras import ops

from keras_inits import graph
from keras_inits._model import (
    atomic_weights,
    check_model_seed,
    ensure_built,
    first_batch,
    scalar,
    seed_for,
)
from keras_inits.fans import layer_fans
from keras_inits.initializers._base import check_choice, check_number
from keras_inits.registry import register
from keras_inits.report import InitReport

MODES = ("auto", "zero_gamma", "zero_last", "fixup")


def _std(variable) -> float:
    return scalar(ops.std(ops.cast(variable, "float32")))


def _zero(variable):
    variable.assign(ops.zeros(variable.shape, dtype=variable.dtype))


def _zero_layer(report, layer, action, note):
    """Kernel (separable: pointwise kernel) and bias of `layer` = 0."""
    kernel = graph.kernel_of(layer)
    before = _std(kernel)
    _zero(kernel)
    if getattr(layer, "bias", None) is not None:
        _zero(layer.bias)
    report.add(layer.name, action, before=before, after=0.0, stat="kernel std", note=note)


def _zero_gamma(report, layer, note):
    gamma = graph.norm_scale(layer)
    if gamma is None:
        raise ValueError(
            f"normalization layer {layer.name!r} has no scale (gamma): it was built "
            "with scale=False, so zero_gamma cannot silence its branch (use "
            "mode='zero_last')"
        )
    before = _std(gamma)
    _zero(gamma)
    report.add(layer.name, "gamma = 0", before=before, after=0.0, stat="gamma std", note=note)


def _fixup_draw(report, layer, factor, seed_of, note):
    """He (fan-in) normal kernel times `factor`, bias 0.

    A separable conv is one Fixup layer: its depthwise kernel (linear, no
    activation before the pointwise) is redrawn variance-preserving,
    N(0, 1/fan_in) with its true fans, and the pointwise kernel is the He
    draw times `factor`.
    """
    kernel = graph.kernel_of(layer)
    depthwise = getattr(layer, "depthwise_kernel", None)
    if depthwise is not None and depthwise is not kernel:
        fan = max(1, layer_fans(layer, depthwise)[0])
        values = keras.random.normal(
            depthwise.shape, stddev=fan**-0.5, dtype="float32", seed=seed_of(depthwise)
        )
        depthwise.assign(ops.cast(values, depthwise.dtype))
    fan_in, _ = layer_fans(layer, kernel)
    std = factor * math.sqrt(2.0 / max(1, fan_in))
    before = _std(kernel)
    values = keras.random.normal(kernel.shape, stddev=std, dtype="float32", seed=seed_of(kernel))
    kernel.assign(ops.cast(values, kernel.dtype))
    if getattr(layer, "bias", None) is not None:
        _zero(layer.bias)
    report.add(
        layer.name, "He normal x factor", before=before, after=_std(kernel), scale=factor,
        stat="kernel std", note=note,
    )


def fixup_factor(num_branches: int, branch_depth: int) -> float:
    """Fixup's scale of the branch kernels: ``L ** (-1 / (2m - 2))``.

    `num_branches` is L, `branch_depth` m, the number of kernel layers of the
    branch. For ``m = 1`` the only kernel is zeroed and nothing is scaled: 1.
    """
    if branch_depth < 2:
        return 1.0
    return num_branches ** (-1.0 / (2 * branch_depth - 2))


def zero_residual(
    model,
    mode: Literal["auto", "zero_gamma", "zero_last", "fixup"] = "auto",
    *,
    zero_head: bool | None = None,
    seed: int | None = None,
    data=None,
) -> InitReport:
    """Start every residual branch of `model` at zero.

    Branches come from the graph (:func:`keras_inits.graph.residual_branches`):
    for each ``Add`` merge, the input that is an ancestor of the other is the
    skip path (for projection shortcuts: the one with fewer weight-bearing
    layers since the inputs' nearest common ancestor) and the other the branch.

    Modes:

    - ``"zero_gamma"`` (Goyal et al. 2017): the scale (gamma) of the last
      normalization layer of each branch = 0. A branch without a norm is an
      error in this mode.
    - ``"zero_last"``: kernel and bias of the last kernel layer of each
      branch = 0 (attention: the output projection).
    - ``"fixup"`` (Zhang, Dauphin & Ma 2019): with L branches and m kernel
      layers in a branch, every branch kernel but the last is redrawn He
      (fan-in) normal and scaled, ``std = L ** (-1 / (2m - 2)) *
      sqrt(2 / fan_in)`` (true fans, :func:`keras_inits.fans.layer_fans`),
      its bias 0; the last kernel and bias = 0; with `zero_head` (default
      True in this mode) the output head too. Fixup also adds a scalar
      multiplier (init 1) per branch and scalar biases (init 0) before each
      layer; Keras layers do not have them: put
      ``ki.layers.ResidualScale(init=1.0)`` at the end of each branch and
      ``ki.layers.ScalarBias()`` where the paper has its biases.
    - ``"auto"``: ``"zero_gamma"`` for a branch whose last kernel-or-norm
      layer is a normalization, ``"zero_last"`` otherwise.

    The output head is the last kernel layer of the model that lies in no
    branch or shortcut and comes after every branch (``zero_head``: its
    kernel and bias = 0, so the logits start at 0 and the loss at log C).

    Everything happens inside :func:`keras_inits._model.atomic_weights`: if
    any block fails, every weight is restored bitwise and the error names
    the block.

    Args:
        model: a built functional or Sequential model (or an unbuilt one,
            with `data`).
        mode: one of the modes above.
        zero_head: zero the output head (default: True for ``"fixup"``,
            False otherwise).
        seed: base seed of Fixup's He draws (a distinct seed per variable).
        data: a batch (or anything :func:`keras_inits._model.first_batch`
            takes) to build an unbuilt model with.

    Returns:
        An :class:`InitReport` with a row per touched layer, the block in
        each row's note. A model without residual branches gives a
        ``UserWarning`` and an empty report; layers that may hide branches
        (subclassed blocks) and ambiguous merges are in ``report.skipped``.

    Raises:
        ValueError: bad `mode`; unbuilt model without `data`; a branch the
            mode cannot silence (no norm for zero_gamma; a branch ending in
            a layer of unknown structure), naming the block.

    Example:

    >>> report = ki.zero_residual(model, mode="fixup", seed=0)
    >>> model.fit(x, y, callbacks=[ki.ZeroResidualCallback("zero_gamma")])

    Reference:
        Goyal et al. 2017, "Accurate, large minibatch SGD: training ImageNet
        in 1 hour"; Zhang, Dauphin & Ma 2019, "Fixup initialization: residual
        learning without normalization".
    """
    check_choice("mode", mode, MODES)
    if zero_head is not None and not isinstance(zero_head, bool):
        raise TypeError(
            f"Argument `zero_head` must be True, False or None. Received: zero_head={zero_head!r}"
        )
    check_model_seed(seed)
    if zero_head is None:
        zero_head = mode == "fixup"
    ensure_built(model, None if data is None else first_batch(data))
    report = InitReport(f"zero_residual({mode})")
    branches, not_analysable = graph.residual_branches(model)
    blocks = _transformer_blocks(model, branches)
    handled = {id(layer) for _, ends in blocks for layer, _ in ends}
    by_name = {layer.name: layer for layer in graph.all_layers(model)}
    for name, why in not_analysable:
        holder = by_name.get(name)
        if holder is not None and handled & {id(x) for x in graph.sublayers(holder)}:
            continue  # a registered transformer block: its branch ends are known
        report.skip(name, why)
    if blocks and mode == "fixup":
        raise ValueError(
            f"zero_residual(fixup) cannot scale the transformer blocks of model "
            f"{model.name!r} (found by role, not by graph): use "
            "ki.init_transformer(model, 't_fixup') for them"
        )
    if not branches and not blocks:
        warnings.warn(
            f"zero_residual: model {model.name!r} has no residual (Add) branch with "
            "kernel or normalization layers; nothing was changed.",
            UserWarning,
            stacklevel=2,
        )
        return report
    seed_of = seed_for(model, seed)
    with atomic_weights(model, report):
        for branch in branches:
            frozen = [layer.name for layer in branch.layers + branch.skip_layers
                      if layer.weights and not layer.trainable]
            if frozen:
                report.skip(branch.name, f"frozen layers {frozen} (trainable=False): left alone")
                continue
            try:
                _apply(report, branch, mode, len(branches), seed_of)
            except (ValueError, TypeError) as err:
                raise type(err)(f"zero_residual({mode}) failed on {branch.name}: {err}") from err
            except Exception as err:
                raise RuntimeError(
                    f"zero_residual({mode}) failed on {branch.name}: {type(err).__name__}: {err}"
                ) from err
        for name, ends in blocks:
            for layer, kernel in ends:
                before = _std(kernel)
                _zero(kernel)
                bias = getattr(layer, "bias", None)
                if bias is not None:
                    _zero(bias)
                report.add(layer.path or layer.name, "kernel = 0", before=before, after=0.0,
                           stat="kernel std", note=f"{name} (branch end by role)")
        if zero_head:
            _zero_head(report, model, branches, blocks)
    if mode == "fixup":
        report.notes.append(
            f"Fixup: L = {len(branches)} branches. Keras layers lack Fixup's scalar "
            "multiplier and biases: add ki.layers.ResidualScale(init=1.0) / ki.layers.ScalarBias()."
        )
    return report


def _zero_scale(report, layer, note):
    scale = graph.layer_scale(layer)
    before = _std(scale) if len(scale.shape) else abs(scalar(scale))
    _zero(scale)
    report.add(layer.name, "layer scale = 0", before=before, after=0.0, stat="scale std",
               note=note)


def _apply(report, branch, mode, num_branches, seed_of):
    note = branch.name
    if mode in ("zero_gamma", "auto") and branch.last_scale is not None:
        # ConvNeXt / CaiT-style layer scale: its multiplier is the branch's gamma.
        _zero_scale(report, branch.last_scale, note)
        return
    if mode == "zero_gamma" or (mode == "auto" and branch.ends_in_norm):
        if branch.last_norm is None:
            raise ValueError("the branch has no normalization layer (use mode='zero_last')")
        if not branch.ends_in_norm:
            # Silences the branch only up to the biases of the kernels after it.
            note += "; a kernel layer follows this norm"
        _zero_gamma(report, branch.last_norm, note)
        return
    _check_known_tail(branch)
    if mode in ("zero_last", "auto"):
        _zero_layer(report, branch.last_kernel, "kernel = 0", note)
    elif mode == "fixup":
        if branch.opaque_layers:
            raise ValueError(
                f"layer {branch.opaque_layers[0].name!r} "
                f"({type(branch.opaque_layers[0]).__name__}) has kernels Fixup cannot "
                "count or scale"
            )
        kernels = branch.kernel_layers  # not empty: _check_known_tail found a last kernel
        factor = fixup_factor(num_branches, len(kernels))
        for layer in kernels[:-1]:
            _fixup_draw(report, layer, factor, seed_of, note)
        _zero_layer(report, kernels[-1], "last kernel = 0", note)
    else:
        raise ValueError(f"Argument `mode` must be one of {set(MODES)}. Received: mode={mode}")


def _transformer_blocks(model, branches) -> list:
    """``[(block name, [(layer, kernel)])]``: the residual-branch ends (the
    ``o`` and ``ffn_out`` roles) of transformer blocks found by role
    (keras_hub families, ``ki.register_roles`` blocks) that the graph
    analysis did not already cover."""
    from keras_inits.transformer import detect_roles

    covered = {id(k) for b in branches for layer in b.layers for k in graph.sublayers(layer)}
    trainable = {id(v) for v in model.trainable_weights}
    groups = {}
    for r in detect_roles(model)[0]:
        if (r.role in ("o", "ffn_out") and r.weight == "kernel" and r.owner is not None
                and id(r.layer) not in covered and id(r.variable) in trainable):
            key = (r.part, r.block)
            groups.setdefault(key, []).append((r.layer, r.variable))
    return [(f"{part} block {block}", ends) for (part, block), ends in groups.items()]


def _check_known_tail(branch):
    """Zeroing the last kernel silences the branch only if what follows it
    maps 0 to 0 (activations, norms, gates): refuse layers of unknown
    structure there."""
    if branch.last_kernel is None:
        raise ValueError("the branch has no kernel layer")
    unknown = [layer for layer in branch.tail if graph.is_opaque(layer)]
    if unknown:
        raise ValueError(
            f"the branch ends in layer {unknown[-1].name!r} ({type(unknown[-1]).__name__}) "
            "whose inner kernels are unknown; zeroing an earlier kernel would not "
            "silence it"
        )


def _zero_head(report, model, branches, blocks=()):
    inside = [layer for b in branches for layer in b.layers + b.skip_layers]
    # Blocks found by role: the layer that holds a branch end is a block too.
    ends = [layer for _, block_ends in blocks for layer, _ in block_ends]
    order = graph.all_layers(model)

    def in_block(layer):
        return graph._contains(inside, layer) or any(
            graph._contains(ends, sub) for sub in graph.sublayers(layer)
        )

    last_block = max((i for i, layer in enumerate(order) if in_block(layer)), default=-1)
    heads = [
        layer for layer in order[last_block + 1:]
        if graph.has_kernel(layer) and not graph._contains(inside, layer)
    ]
    if heads:
        _zero_layer(report, heads[-1], "head kernel = 0", "output head")
    else:
        report.notes.append("zero_head: no kernel layer after the last residual block.")


@register(
    formula="y = alpha * x, alpha a learnable scalar starting at init (0: SkipInit/ReZero)",
    reference="De & Smith 2020 (SkipInit); Bachlechner et al. 2020 (ReZero)",
    kind="layer",
)
class ResidualScale(keras.layers.Layer):
    """A learnable scalar gate for a residual branch: ``y = alpha * x``.

    Put it at the end of a branch, ``x + ResidualScale()(f(x))``: with
    ``init=0`` the block starts as the identity whatever ``f``'s weights are
    (SkipInit, De & Smith 2020; ReZero, Bachlechner et al. 2020), and
    training learns how much of the branch to let in. ``init=1`` gives
    Fixup's scalar multiplier.

    Args:
        init: the starting value of alpha.
        **kwargs: Layer arguments (name, dtype, trainable...).

    Reference:
        De & Smith 2020, "Batch normalization biases residual blocks towards
        the identity function in deep networks"; Bachlechner et al. 2020,
        "ReZero is all you need: fast convergence at large depth".
    """

    def __init__(self, init: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        self.init = check_number("init", init)

    def build(self, input_shape):
        self.alpha = self.add_weight(
            name="alpha", shape=(), initializer=keras.initializers.Constant(self.init)
        )

    def call(self, inputs):
        return inputs * ops.cast(self.alpha, inputs.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "init": self.init}


@register(
    formula="y = x + b, b a learnable scalar starting at init",
    reference="Zhang, Dauphin & Ma 2019 (Fixup's scalar biases)",
    kind="layer",
)
class ScalarBias(keras.layers.Layer):
    """A learnable scalar added to its input: Fixup's scalar bias.

    Reference:
        Zhang, Dauphin & Ma 2019, "Fixup initialization".
    """

    def __init__(self, init: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        self.init = check_number("init", init)

    def build(self, input_shape):
        self.bias = self.add_weight(
            name="bias", shape=(), initializer=keras.initializers.Constant(self.init)
        )

    def call(self, inputs):
        return inputs + ops.cast(self.bias, inputs.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "init": self.init}
