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
    ensure_built,
    first_batch,
    scalar,
    variable_seed,
)
from keras_inits.fans import compute_fans
from keras_inits.initializers._base import check_choice, check_number
from keras_inits.registry import register
from keras_inits.report import InitReport

MODES = ("auto", "zero_gamma", "zero_last", "fixup")


def _std(variable) -> float:
    return scalar(ops.std(ops.cast(variable, "float32")))


def _zero(variable):
    variable.assign(ops.zeros(variable.shape, dtype=variable.dtype))


def _zero_layer(report, layer, action, note=""):
    before = _std(layer.kernel)
    _zero(layer.kernel)
    if getattr(layer, "bias", None) is not None:
        _zero(layer.bias)
    report.add(layer.name, action, before=before, after=0.0, stat="kernel std", note=note)


def _zero_gamma(report, layer, note):
    gamma = getattr(layer, "gamma", None)
    if gamma is None:
        raise ValueError(
            f"Normalization layer {layer.name!r} has no scale (gamma): it was built with "
            "scale=False, so zero_gamma cannot silence its branch."
        )
    before = _std(gamma)
    _zero(gamma)
    report.add(layer.name, "gamma = 0", before=before, after=0.0, stat="gamma std", note=note)


def _fixup_scale(report, layer, factor, seed, note):
    """He (fan-in) normal init times `factor`, bias zero."""
    kernel = layer.kernel
    fan_in, _ = compute_fans(kernel.shape)
    if isinstance(layer, keras.layers.EinsumDense):
        from keras_inits.fans import einsum_fans

        fan_in, _ = einsum_fans(layer.equation, kernel.shape)
    std = factor * math.sqrt(2.0 / max(1, fan_in))
    before = _std(kernel)
    values = keras.random.normal(
        kernel.shape, stddev=std, dtype="float32", seed=variable_seed(seed, kernel.path)
    )
    kernel.assign(ops.cast(values, kernel.dtype))
    if getattr(layer, "bias", None) is not None:
        _zero(layer.bias)
    report.add(
        layer.name, f"fixup: He x {factor:.4g}", before=before, after=_std(kernel),
        scale=factor, stat="kernel std", note=note,
    )


def zero_residual(
    model,
    mode: Literal["auto", "zero_gamma", "zero_last", "fixup"] = "auto",
    *,
    zero_head: bool | None = None,
    seed: int | None = None,
    data=None,
) -> InitReport:
    """Start every residual branch of `model` at zero.

    Branches are found from the graph: for each ``Add`` merge, the input
    with fewer weight-bearing layers since the inputs' common ancestor is the
    skip path, the other the branch (ties: the first input is the skip).

    Modes:

    - ``"zero_gamma"`` (Goyal et al. 2017): the scale (gamma) of the last
      normalization layer of each branch = 0. A branch without a norm is an
      error in this mode.
    - ``"zero_last"``: the kernel and bias of the last kernel layer of each
      branch = 0.
    - ``"fixup"`` (Zhang, Dauphin & Ma 2019): with ``L`` branches of ``m``
      kernel layers each, every branch kernel but the last gets He (fan-in)
      normal init scaled by ``L ** (-1 / (2m - 2))`` (``m = 1``: no scaling),
      its bias 0, and the last kernel and bias = 0. ``zero_head`` (default
      True here) also zeroes the output head: the last kernel layer of the
      model outside every branch. Fixup's scalar multipliers and biases are
      layers Keras models do not have: add :class:`ResidualScale`
      (``init=1.0``) after a branch for the multiplier and :class:`ScalarBias`
      where the paper puts its biases.
    - ``"auto"``: ``"zero_gamma"`` for a branch whose last weight-bearing
      layer is a normalization, ``"zero_last"`` otherwise.

    Args:
        model: a built functional or Sequential model (or unbuilt, with `data`).
        mode: one of the modes above.
        zero_head: zero the output head too (default: True for fixup, else False).
        seed: seed of Fixup's He draws (a distinct seed per variable).
        data: a batch to build an unbuilt model with.

    Returns:
        An :class:`InitReport` with a row per touched layer. A model without
        residual branches gives a warning and an empty report; subclassed
        blocks that may hide branches are listed in ``report.skipped``.

    Reference:
        Goyal et al. 2017, "Accurate, large minibatch SGD"; Zhang, Dauphin &
        Ma 2019, "Fixup initialization: residual learning without
        normalization".
    """
    check_choice("mode", mode, MODES)
    if zero_head is None:
        zero_head = mode == "fixup"
    ensure_built(model, None if data is None else first_batch(data))
    report = InitReport(f"zero_residual({mode})")
    branches, opaque = graph.residual_branches(model)
    for name, why in opaque:
        report.skip(name, why)
    if not branches:
        warnings.warn(
            f"zero_residual: model {model.name!r} has no residual (Add) branch with "
            "weights; nothing was changed.",
            UserWarning,
            stacklevel=2,
        )
        return report
    with atomic_weights(model):
        for branch in branches:
            note = f"block {branch.index} ({branch.merge.name})"
            try:
                _apply(report, branch, mode, len(branches), seed, note)
            except Exception as err:
                raise type(err)(f"zero_residual failed on {note}: {err}") from err
        if zero_head:
            in_branch = [layer for b in branches for layer in b.layers]
            outside = [
                layer for layer in graph.all_layers(model)
                if graph.has_kernel(layer) and not graph._contains(in_branch, layer)
            ]
            if outside:
                _zero_layer(report, outside[-1], "head kernel = 0", note="output head")
    if mode == "fixup":
        report.notes.append(
            f"Fixup: L = {len(branches)} branches; Keras models lack Fixup's scalar "
            "multipliers/biases: add ki.layers.ResidualScale(init=1.0) / ScalarBias."
        )
    return report


def _apply(report, branch, mode, num_branches, seed, note):
    if mode == "zero_gamma" or (mode == "auto" and branch.ends_in_norm):
        if branch.last_norm is None:
            raise ValueError("the branch has no normalization layer (use mode='zero_last')")
        _zero_gamma(report, branch.last_norm, note)
    elif mode in ("zero_last", "auto"):
        if branch.last_kernel is None:
            raise ValueError("the branch has no kernel layer")
        _zero_layer(report, branch.last_kernel, "kernel = 0", note)
    elif mode == "fixup":
        kernels = branch.kernel_layers
        m = len(kernels)
        factor = 1.0 if m == 1 else num_branches ** (-1.0 / (2 * m - 2))
        for layer in kernels[:-1]:
            _fixup_scale(report, layer, factor, seed, note)
        _zero_layer(report, kernels[-1], "fixup: last = 0", note)
    else:
        raise ValueError(f"Argument `mode` must be one of {set(MODES)}. Received: mode={mode}")


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
