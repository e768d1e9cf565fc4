"""LSUV and data-dependent initialization: weights calibrated on one batch.

Both walk the model once (:func:`keras_inits.graph.walk`): each target layer
is evaluated on its cached input, rescaled until its output statistics are
right, and its calibrated output is passed on. The cost is one forward pass
plus the re-evaluations of single layers: linear in depth. A composite layer
(``MultiHeadAttention``, a subclassed block inside a functional model) is
re-evaluated as a whole on its cached inputs while one of its kernel
sublayers is calibrated, its sublayers taken in the order the layer calls
them. Subclassed models have no graph: they are treated as one composite, so
every iteration is a full forward pass (correct, slower).

Fused activations (``Dense(64, activation="relu")``): the statistic is taken
on the layer's pre-activation (the activation is bypassed while the layer is
measured). That is what the paper's layer-by-layer algorithm and its PyTorch
port measure (the output of the convolution or inner product, before a
separate nonlinearity), and it makes the result independent of how the model
was written: ``Dense(64, activation="relu")`` and ``Dense(64)`` followed by
``Activation("relu")`` get the same weights.
"""

from __future__ import annotations

import contextlib
import math
import sys
import warnings

import keras
import numpy as np
from keras import ops

from keras_inits import graph
from keras_inits._host import assign, orthogonal, to_host
from keras_inits._model import (
    atomic_weights,
    check_model_seed,
    ensure_built,
    first_batch,
    seed_for,
)
from keras_inits.fans import _EINSUM, einsum_axes
from keras_inits.initializers._base import check_number
from keras_inits.report import InitReport

_CONV = (keras.layers.Conv1D, keras.layers.Conv2D, keras.layers.Conv3D)
_SEPARABLE = (keras.layers.SeparableConv1D, keras.layers.SeparableConv2D)
_DEPTHWISE = (keras.layers.DepthwiseConv1D, keras.layers.DepthwiseConv2D)
_TRANSPOSED = (
    keras.layers.Conv1DTranspose,
    keras.layers.Conv2DTranspose,
    keras.layers.Conv3DTranspose,
)


@contextlib.contextmanager
def pre_activation(layer):
    """Bypass a fused activation while `layer` is measured; yields whether
    there was one."""
    activation = getattr(layer, "activation", None)
    fused = activation is not None and activation is not keras.activations.linear
    if fused:
        layer.activation = keras.activations.linear
    try:
        yield fused
    finally:
        if fused:
            layer.activation = activation


def _matrix_axes(layer, kernel):
    """(input axes, output axes) of the kernel as a fan_in x fan_out matrix, or None."""
    rank = len(kernel.shape)
    if isinstance(layer, keras.layers.EinsumDense):
        return einsum_axes(layer.equation)
    if isinstance(layer, _TRANSPOSED):
        return [*range(rank - 2), rank - 1], [rank - 2]
    if isinstance(layer, (keras.layers.Dense, *_CONV, *_SEPARABLE)):
        return list(range(rank - 1)), [rank - 1]
    return None


def orthonormal_kernel(layer, seed=None):
    """Replace `layer.kernel` by an orthonormal matrix in its fan layout.

    The kernel is viewed as a (fan_in, fan_out) matrix (conv: ``k... * in``
    rows; transposed conv: its ``in`` axis last; EinsumDense: from its
    equation) and set to one with orthonormal rows or columns (Saxe et al.
    2014), drawn in float32 and cast (QR on the host: see keras_inits._host).
    Returns False (and leaves the kernel) for layouts without a matrix view
    (depthwise kernels, custom layers).
    """
    kernel = graph.kernel_of(layer)
    axes = _matrix_axes(layer, kernel)
    if axes is None:
        return False
    in_axes, out_axes = axes
    shape = tuple(kernel.shape)
    perm = [*in_axes, *out_axes]
    rows = math.prod(shape[a] for a in in_axes)
    cols = math.prod(shape[a] for a in out_axes)
    q = orthogonal(rows, cols, seed).reshape([shape[a] for a in perm])
    assign(kernel, np.transpose(q, np.argsort(perm)))
    return True


def _skip_reason(layer):
    """Why a layer with a kernel is not calibrated, or None if it is."""
    if not layer.trainable:
        return "frozen (trainable=False)"
    if hasattr(layer, "state_size"):
        return "recurrent cell: only feed-forward kernels are calibrated"
    kernel = graph.kernel_of(layer)
    if not isinstance(kernel, keras.Variable) or "float" not in str(kernel.dtype):
        return "kernel is not a float variable (LoRA-enabled or quantized)"
    if not np.any(to_host(kernel)):
        # Rescaling cannot move a zero kernel, and an orthonormal redraw would
        # undo zero_residual: a branch zeroed on purpose stays zero.
        return "kernel is all zeros (a residual branch zeroed on purpose?): kept zero"
    return None


def _kernel_layers(model):
    """``[(layer, label)]``: every layer with a kernel, graph layers and the
    kernel sublayers of composite layers (MultiHeadAttention's q/k/v/output),
    each once. The label is the layer's name, or its path where two kernel
    layers share a name (two attention layers each have a ``query``)."""
    found, seen = [], set()
    for top in graph.all_layers(model):
        for sub in graph.sublayers(top):
            if graph.has_kernel(sub) and id(sub) not in seen:
                seen.add(id(sub))
                found.append(sub)
    names = [layer.name for layer in found]
    labels = []
    for layer in found:
        label = layer.name
        if names.count(label) > 1:
            label = layer.path or label
        if label in labels:
            label = f"{label}#{labels.count(label) + 1}"
        labels.append(label)
    return list(zip(found, labels))


def _targets(model, layers):
    """The kernel layers to calibrate (``[(layer, label)]``), in model order.

    `layers` may hold kernel layers or their names, labels or paths, or
    composite layers / nested blocks of the model (meaning every kernel
    layer inside them).
    """
    everything = _kernel_layers(model)
    if layers is None:
        return everything
    if isinstance(layers, (str, keras.layers.Layer)):
        layers = [layers]
    members = graph.sublayers(model)
    member_ids = {id(layer) for layer in members}
    kernel_ids = {id(layer) for layer, _ in everything}
    chosen = set()
    for item in layers:
        if isinstance(item, str):
            match = [layer for layer, label in everything if item in (label, layer.path)]
            if not match:
                match = [layer for layer, _ in everything if layer.name == item]
                if len(match) > 1:
                    raise ValueError(
                        f"Argument `layers` names {item!r}, the name of several kernel "
                        f"layers; use their paths {[layer.path for layer in match]} or pass "
                        f"the layer objects. Received: layers={layers!r}"
                    )
            if not match:
                match = [
                    sub for top in members if top.name == item for sub in graph.sublayers(top)
                ]
        elif isinstance(item, keras.layers.Layer):
            match = graph.sublayers(item) if id(item) in member_ids else []
        else:
            raise TypeError(
                "Argument `layers` must hold layers of the model or their names. "
                f"Received: {item!r} in layers={layers!r}"
            )
        kernels = [layer for layer in match if id(layer) in kernel_ids]
        if not kernels:
            raise ValueError(
                f"Argument `layers` names {getattr(item, 'name', item)!r}, which is not "
                f"(and holds no) kernel layer of model {model.name!r}. "
                f"Received: layers={layers!r}"
            )
        chosen.update(id(layer) for layer in kernels)
    return [(layer, label) for layer, label in everything if id(layer) in chosen]


def _resolve_verbose(verbose):
    if verbose == "auto":
        isatty = getattr(sys.stdout, "isatty", None)
        return 1 if isatty is not None and isatty() else 0
    if verbose not in (0, 1, True, False):
        raise ValueError(
            f"Argument `verbose` must be 0, 1 or 'auto'. Received: verbose={verbose!r}"
        )
    return int(verbose)


def _single_output(out, label) -> np.ndarray:
    """A layer's output as a float64 host array (statistics are computed on
    the host: keras_inits._host says why)."""
    if not (ops.is_tensor(out) or isinstance(out, np.ndarray)):
        raise ValueError(
            f"Layer {label!r} returns {type(out).__name__}, not one tensor: its output "
            "statistics are undefined. Leave it out with `layers=`. Every weight was "
            "restored."
        )
    return to_host(out, np.float64)


def _units_last(layer, out, label) -> np.ndarray:
    """`out` as a float64 host array with the layer's channel axis last."""
    out = _single_output(out, label)
    if getattr(layer, "data_format", None) == "channels_first" and out.ndim > 2:
        out = np.moveaxis(out, 1, -1)
    return out


def _bias_means(out, bias_shape):
    """Mean of `out` over every axis the bias is broadcast along, in the
    bias' shape (a bias is aligned with the output's trailing axes)."""
    rank = len(bias_shape)
    mean = np.mean(out, axis=tuple(range(out.ndim - rank)))
    broadcast = tuple(i for i, d in enumerate(bias_shape) if d == 1 and mean.shape[i] != 1)
    if broadcast:
        mean = np.mean(mean, axis=broadcast, keepdims=True)
    return mean


def _variance(out, label):
    """Variance of a layer's whole output, checked: finite and positive."""
    out = _single_output(out, label)
    # Checked before np.var, which warns on inf (inf - inf) before returning NaN.
    value = float(np.var(out)) if np.all(np.isfinite(out)) else math.nan
    if not math.isfinite(value):
        raise ValueError(
            f"Layer {label!r} produced NaN or inf outputs; every weight was restored."
        )
    if value <= 0.0:
        raise ValueError(
            f"Layer {label!r} outputs a constant on this batch (variance 0): it cannot "
            "be rescaled (dead layer, zero kernel or constant input). Every weight was "
            "restored."
        )
    return value


class _Calibrator:
    """Runs one calibration step over the model's target layers, in the
    order the forward pass reaches them."""

    def __init__(self, model, x, targets, step, verbose):
        self.model, self.x, self.step = model, x, step
        self.targets = targets
        self.labels = {id(layer): label for layer, label in targets}
        self.done = set()
        self.progbar = (
            keras.utils.Progbar(len(targets), unit_name="layer") if verbose else None
        )

    def run(self):
        """Calibrate every reachable target; return those never called."""
        if graph.is_graph_model(self.model):
            graph.walk(self.model, self.x, self.visit)
        else:
            self.visit(self.model, lambda: self.model(self.x))
        return [(layer, label) for layer, label in self.targets if id(layer) not in self.done]

    def visit(self, layer, call):
        """Calibrate `layer` and the target layers inside it on its cached
        inputs (``call()`` re-evaluates it), then return its output."""
        subs = [
            s for s in graph.sublayers(layer)
            if id(s) in self.labels and id(s) not in self.done
        ]
        if len(subs) == 1 and subs[0] is layer:
            out = self._calibrate(layer, call)
            if out is not None:  # the step's last call, with the final weights
                return out
        elif subs:
            for sub in self._call_order(layer, subs, call):
                if sub is layer:
                    self._calibrate(layer, call)
                else:
                    self._calibrate(sub, lambda sub=sub: self._captured(sub, call))
        return call()

    @staticmethod
    def _call_order(layer, subs, call):
        """`subs` in the order `call` reaches them (tracking order is only
        attribute order); `layer` itself, whose output comes last, last."""
        inner = [s for s in subs if s is not layer]
        with graph.capture_outputs(inner) as seen:
            call()
        order, ids = [], set()
        for sub, _ in seen:
            if id(sub) not in ids:
                ids.add(id(sub))
                order.append(sub)
        return order + [s for s in subs if s is layer]

    @staticmethod
    def _captured(sub, call):
        with graph.capture_outputs([sub]) as seen:
            call()
        return seen[0][1]

    def _calibrate(self, layer, call):
        """Run the step; return what it returns: None, or the layer's output
        with its final weights (the walk then need not call it again)."""
        out = self.step(layer, self.labels[id(layer)], call)
        self.done.add(id(layer))
        if self.progbar is not None:
            self.progbar.add(1)
        return out


def _select(model, layers, report, unit_axis=None):
    """Targets, with the layers left alone recorded in `report`."""
    targets = []
    for layer, label in _targets(model, layers):
        reason = _skip_reason(layer)
        if reason is None and unit_axis is not None and unit_axis(layer) is None:
            reason = f"{type(layer).__name__}: no per-unit kernel axis"
        if reason is None:
            targets.append((layer, label))
        else:
            report.skip(label, reason)
    return targets


def _run(model, x, targets, step, verbose, report):
    with atomic_weights(model, report):
        missed = _Calibrator(model, x, targets, step, verbose).run()
    for _, label in missed:
        report.skip(label, "not called by the forward pass on this batch")


def lsuv(
    model,
    data,
    *,
    target_var: float = 1.0,
    tol: float = 0.1,
    max_iters: int = 10,
    orthonormal: bool = True,
    layers=None,
    batch_size: int | None = None,
    target_mean: float | None = None,
    seed: int | None = None,
    verbose="auto",
) -> InitReport:
    """Layer-sequential unit-variance initialization (Mishkin & Matas 2015).

    For every kernel layer (Dense, Conv*, Conv*Transpose, EinsumDense, the
    q/k/v/output projections of MultiHeadAttention, ...) in the order the
    forward pass reaches it: optionally replace the kernel by an orthonormal
    one in the layer's fan layout, then rescale it,
    ``W <- W * sqrt(target_var / Var(z))``, with ``z`` the layer's output on
    the batch (pre-activation for fused activations; the variance over every
    element), until ``|Var(z) - target_var| <= tol``, at most `max_iters`
    times. Each later layer is measured on the calibrated outputs of the
    earlier ones.

    Args:
        model: a Sequential/Functional model (built, or built here from the
            batch); subclassed models use full forward passes (slower).
        data: array, tensor, dict/list of them, (x, y) tuple, tf.data.Dataset
            or iterable of batches: one batch of inputs is used.
        target_var: the output variance to reach.
        tol: accepted absolute deviation from `target_var`.
        max_iters: cap on rescalings per layer.
        orthonormal: orthonormal pre-init of each kernel (the paper's step 1).
            Depthwise and custom kernels have no matrix view and are kept
            (said in the report's note).
        layers: restrict to these layers (objects, names or paths; a
            composite layer or nested block means every kernel inside it).
        batch_size: use only the first rows of the batch.
        target_mean: if set, also shift each unit's bias at every iteration
            so its mean output is this value (the PyTorch port's bias
            centring); default None keeps biases.
        seed: seed of the orthonormal draws (a distinct seed per kernel).
        verbose: 0, 1 (Keras Progbar over layers) or "auto" (1 when stdout is
            a terminal).

    Returns:
        An :class:`InitReport`: per layer the variance before/after, the
        total scale applied, iterations and whether it converged; frozen,
        recurrent and non-float (LoRA, quantized) kernel layers are listed in
        ``skipped``.

    Raises:
        ValueError: bad data (NaN/inf, empty, constant), a layer whose output
            variance is 0 (dead) or not finite. Every weight is then restored
            bitwise. A layer that does not converge within `max_iters` keeps
            its best scale, is marked ``converged=False`` and a
            ``UserWarning`` names it.

    Example:

    >>> report = ki.lsuv(model, x_train[:256], seed=0)
    >>> print(report)

    Reference:
        Mishkin & Matas 2015, "All you need is a good init" (ICLR 2016).
    """
    target_var = check_number("target_var", target_var, positive=True)
    tol = check_number("tol", tol, positive=True)
    if isinstance(max_iters, bool) or not isinstance(max_iters, int) or max_iters < 1:
        raise ValueError(
            f"Argument `max_iters` must be a positive integer. Received: max_iters={max_iters!r}"
        )
    if target_mean is not None:
        target_mean = check_number("target_mean", target_mean)
    check_model_seed(seed)
    verbose = _resolve_verbose(verbose)
    x = first_batch(data, batch_size)
    ensure_built(model, x)
    report = InitReport("lsuv")
    seed_of = seed_for(model, seed)
    targets = _select(model, layers, report)

    def step(layer, label, call):
        note = []
        if orthonormal and not orthonormal_kernel(layer, seed_of(graph.kernel_of(layer))):
            note.append("no orthonormal view (kept kernel)")
        bias = getattr(layer, "bias", None) if target_mean is not None else None
        if target_mean is not None and bias is None:
            note.append("no bias to centre")
        with pre_activation(layer) as fused:
            if fused:
                note.append("pre-activation")

            def measure():
                out = call()
                if bias is not None:
                    shift = target_mean - _bias_means(_units_last(layer, out, label), bias.shape)
                    assign(bias, to_host(bias, np.float64) + shift.reshape(bias.shape))
                    out = call()
                return _variance(out, label)

            var = first = measure()
            kernel = graph.kernel_of(layer)
            start = to_host(kernel, np.float64)
            start_bias = None if bias is None else ops.convert_to_numpy(bias)
            best = (abs(var - target_var), 1.0, start_bias)
            scale, iters = 1.0, 0
            while abs(var - target_var) > tol and iters < max_iters:
                scale *= math.sqrt(target_var / var)
                assign(kernel, start * scale)
                iters += 1
                var = measure()
                current_bias = None if bias is None else ops.convert_to_numpy(bias)
                best = min(best, (abs(var - target_var), scale, current_bias), key=lambda b: b[0])
            converged = abs(var - target_var) <= tol
            if not converged and best[1] != scale:
                scale = best[1]
                assign(kernel, start * scale)
                if bias is not None:
                    bias.assign(best[2])
                var = _variance(call(), label)
        report.add(
            label, "lsuv", before=first, after=var, scale=scale, iterations=iters,
            converged=converged, stat="output var", note=", ".join(note),
        )

    _run(model, x, targets, step, verbose, report)
    if report.not_converged:
        warnings.warn(
            f"lsuv: layers {report.not_converged} did not reach variance {target_var} +- "
            f"{tol} within {max_iters} iterations; each kept its best scale.",
            UserWarning,
            stacklevel=2,
        )
    return report


def _einsum_units(layer):
    """For an EinsumDense layer: ``(kernel axes, output axes)`` of its output
    units (the kernel letters that reach the output, in kernel order, and
    where each sits in the output counted from the end), or None when the
    output spec has an ellipsis anywhere but in front."""
    match = _EINSUM.match(layer.equation)
    if match is None:
        return None
    _, kernel, out = match.groups()
    if "." in out.lstrip("."):
        return None
    out = out.lstrip(".")
    kernel_axes = [i for i, letter in enumerate(kernel) if letter in out]
    output_axes = [out.index(kernel[i]) - len(out) for i in kernel_axes]
    return kernel_axes, output_axes


def _unit_axis(layer):
    """The kernel axis of the output units, for layers whose units each own
    one kernel slice and one bias entry; None otherwise."""
    if isinstance(layer, keras.layers.EinsumDense):
        return "einsum" if _einsum_units(layer) is not None else None
    if isinstance(layer, _TRANSPOSED):
        return -2
    if isinstance(layer, (keras.layers.Dense, *_CONV, *_SEPARABLE)):
        return -1
    if isinstance(layer, _DEPTHWISE):
        return "depthwise"  # output channel c * m + j owns kernel[..., c, j]
    return None


def _unit_shape(layer, kernel) -> list:
    """Broadcast shape of a per-unit vector against `kernel`."""
    shape = [1] * len(kernel.shape)
    axis = _unit_axis(layer)
    if axis == "einsum":
        for i in _einsum_units(layer)[0]:
            shape[i] = kernel.shape[i]
    elif axis == "depthwise":
        shape[-2:] = kernel.shape[-2:]
    else:
        shape[axis] = -1
    return shape


def _unit_stats(layer, out):
    """Per-unit ``(mean, std)`` of a layer's output (units last, host float64).

    Dense/conv/depthwise units are the last axis: both are 1-D. EinsumDense
    units are the output axes its kernel reaches (MultiHeadAttention's query
    projection: every (head, key_dim) pair): both have the output's rank,
    with size 1 on every other axis (ready to broadcast against the output
    and its bias).
    """
    if isinstance(layer, keras.layers.EinsumDense):
        units = {a % out.ndim for a in _einsum_units(layer)[1]}
        axes = tuple(a for a in range(out.ndim) if a not in units)
        return (np.mean(out, axis=axes, keepdims=True),
                np.sqrt(np.var(out, axis=axes, keepdims=True)))
    axes = tuple(range(out.ndim - 1))
    return np.mean(out, axis=axes), np.sqrt(np.var(out, axis=axes))


def _kernel_order(layer, stat):
    """A per-unit statistic of `layer` laid out to broadcast against its kernel."""
    kernel = graph.kernel_of(layer)
    if not isinstance(layer, keras.layers.EinsumDense):
        return stat.reshape(_unit_shape(layer, kernel))
    _, output_axes = _einsum_units(layer)
    rank = stat.ndim
    positions = [a % rank for a in output_axes]  # output position of each kernel unit axis
    stat = np.transpose(stat, [a for a in range(rank) if a not in positions] + positions)
    return stat.reshape(_unit_shape(layer, kernel))


def _bias_aligned(layer, stat, bias):
    """A per-unit statistic in the bias' shape, or None if the bias does not
    hold exactly one entry per unit (an EinsumDense bias over other axes)."""
    if not isinstance(layer, keras.layers.EinsumDense):
        return stat
    rank = len(bias.shape)
    if any(d != 1 for d in stat.shape[: stat.ndim - rank]):
        return None
    trailing = stat.reshape(stat.shape[stat.ndim - rank:])
    return trailing if tuple(trailing.shape) == tuple(bias.shape) else None


def _centre_through_norm(layer, mean, users) -> str:
    """Centre bias-free `layer` through the BatchNormalization it feeds (its
    moving statistics); return the report note saying what was done or why not."""
    after = users.get(id(layer), [])
    if len(after) != 1 or not isinstance(after[0], keras.layers.BatchNormalization):
        found = ", ".join(type(x).__name__ for x in after) or "the model's output"
        return f"no bias and its output goes to {found}, not to one BatchNormalization: mean not centred"
    norm = after[0]
    axis = norm.axis if isinstance(norm.axis, int) else None
    rank = len(layer.output.shape)
    channels_first = getattr(layer, "data_format", "channels_last") == "channels_first"
    unit_axis = 1 if channels_first else rank - 1
    if axis is None or axis % rank != unit_axis or not norm.trainable:
        return f"no bias; {norm.name} normalizes another axis or is frozen: mean not centred"
    assign(norm.moving_mean, mean)
    assign(norm.moving_variance, np.ones(norm.moving_variance.shape))
    return f"no bias: centred through {norm.name}'s moving mean (moving variance 1)"


def data_dependent_init(
    model,
    data,
    *,
    layers=None,
    batch_size: int | None = None,
    eps: float = 1e-6,
    verbose="auto",
) -> InitReport:
    """Per-unit data-dependent initialization (Krähenbühl et al. 2015;
    Salimans & Kingma 2016's weight-norm init).

    For every Dense / Conv* / Conv*Transpose / EinsumDense layer in the order the forward
    pass reaches it, with ``z`` its pre-activation on the batch (calibrated
    earlier layers upstream) and ``m_u``, ``s_u`` the mean and std of unit
    (channel) ``u`` over every other axis: ``kernel[..., u] /= s_u`` and
    ``bias[u] = (bias[u] - m_u) / s_u``, so every unit's pre-activation has
    mean 0 and variance 1 on the batch (one exact affine step: no iteration).
    The kernel's directions are kept (draw them with any initializer first).
    SeparableConv layers are normalized through their pointwise kernel.

    A layer without a bias whose output goes only to a ``BatchNormalization``
    over the same units is centred through that norm: its ``moving_mean``
    becomes ``m_u / s_u`` and its ``moving_variance`` 1 (the batch
    statistics of the normalized unit), so the norm's inference output is
    centred as its training output already is. Its ``beta`` is left alone:
    shifting it would move the training-mode output off zero. Any other
    bias-free layer gets the scale only, and the report says why its mean
    was not centred. DepthwiseConv units are the (channel, multiplier)
    pairs; EinsumDense units are the output axes its kernel reaches (every
    (head, key_dim) pair of an attention projection), centred through its
    bias when the bias has one entry per unit. An EinsumDense whose output
    has an ellipsis other than in front is listed as skipped.

    Args:
        model, data, layers, batch_size, verbose: as in :func:`lsuv`.
        eps: a unit whose std is below `eps` is constant on this batch: it is
            centred but not scaled, and the report's note counts such units.

    Returns:
        An :class:`InitReport` (whole-output variance before and after).

    Raises:
        ValueError: bad data, or a layer with NaN/inf outputs (named); every
            weight is then restored bitwise.

    Reference:
        Krähenbühl, Doersch, Donahue, Darrell 2015, "Data-dependent
        initializations of convolutional neural networks"; Salimans & Kingma
        2016, "Weight normalization".
    """
    eps = check_number("eps", eps, positive=True)
    verbose = _resolve_verbose(verbose)
    x = first_batch(data, batch_size)
    ensure_built(model, x)
    report = InitReport("data_dependent_init")
    targets = _select(model, layers, report, unit_axis=_unit_axis)
    users = graph.consumers(model)

    def step(layer, label, call):
        with pre_activation(layer) as fused:
            out = _units_last(layer, call(), label)
            if not out.size or not np.all(np.isfinite(out)):
                raise ValueError(
                    f"Layer {label!r} produced NaN or inf outputs on this batch: cannot "
                    "normalize it. Every weight was restored."
                )
            mean, std = _unit_stats(layer, out)
            # A unit constant on this batch (a learned query token, a timestep
            # embedding of a constant timestep, a dead ReLU upstream) cannot be
            # scaled to variance 1: it is centred and keeps its scale.
            constant = std < eps
            std = np.where(constant, 1.0, std)
            before = float(np.var(out))
            kernel = graph.kernel_of(layer)
            assign(kernel, to_host(kernel, np.float64) / _kernel_order(layer, std))
            note = "pre-activation" if fused else ""
            if np.any(constant):
                note = ", ".join(x for x in (note, f"{int(np.sum(constant))} of {constant.size} "
                                             f"units constant on this batch (std < {eps:g}): "
                                             "centred, not scaled") if x)
            bias = getattr(layer, "bias", None)
            if bias is not None and _bias_aligned(layer, std, bias) is None:
                note = ", ".join(x for x in (note, "bias is not one entry per unit: mean "
                                             "not centred") if x)
            elif bias is not None:
                m, sd = _bias_aligned(layer, mean, bias), _bias_aligned(layer, std, bias)
                assign(bias, (to_host(bias, np.float64) - m) / sd)
            elif isinstance(layer, keras.layers.EinsumDense):
                note = ", ".join(x for x in (note, "no bias: mean not centred") if x)
            else:
                note = ", ".join(x for x in (note, _centre_through_norm(layer, mean / std, users))
                                 if x)
            # Not _variance: a layer constant in every unit is centred to 0
            # (variance 0 is then right, not an error).
            final = call()
            after = float(np.var(_single_output(final, label)))
            if not math.isfinite(after):
                raise ValueError(
                    f"Layer {label!r} produced NaN or inf outputs after normalizing; every "
                    "weight was restored."
                )
        report.add(label, "unit mean 0, var 1", before=before, after=after,
                   stat="output var", note=note)
        # Measured with a fused activation bypassed, `final` is not the
        # layer's output; without one it is, and the walk reuses it.
        return None if fused else final

    _run(model, x, targets, step, verbose, report)
    return report
