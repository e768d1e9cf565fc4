"""LSUV and data-dependent initialization: weights calibrated on one batch.

Both walk the model once (:func:`keras_inits.graph.walk`): each target layer
is evaluated on its cached input, rescaled until its output statistics are
right, and its calibrated output is passed on. The cost is one forward pass
plus the re-evaluations of single layers: linear in depth. Subclassed
models have no graph; they fall back to one full forward pass per iteration
(correct, slower).

Fused activations (``Dense(64, activation="relu")``): the statistic is taken
on the layer's pre-activation (the activation is bypassed while the layer is
measured), as in the paper, where the measured layer is the convolution
before its separate nonlinearity.
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
from keras_inits._model import (
    atomic_weights,
    check_model_seed,
    ensure_built,
    first_batch,
    scalar,
    seed_for,
)
from keras_inits.fans import einsum_axes
from keras_inits.initializers._base import check_number
from keras_inits.initializers.orthogonal import orthogonal_matrix
from keras_inits.report import InitReport

_CONV = (keras.layers.Conv1D, keras.layers.Conv2D, keras.layers.Conv3D)
_TRANSPOSED = (
    keras.layers.Conv1DTranspose,
    keras.layers.Conv2DTranspose,
    keras.layers.Conv3DTranspose,
)


@contextlib.contextmanager
def pre_activation(layer):
    """Bypass a fused activation while `layer` is measured."""
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
    if isinstance(layer, (keras.layers.Dense, *_CONV)) and not isinstance(
        layer, (keras.layers.DepthwiseConv1D, keras.layers.DepthwiseConv2D)
    ):
        return list(range(rank - 1)), [rank - 1]
    return None


def orthonormal_kernel(layer, seed=None):
    """Replace `layer.kernel` by an orthonormal matrix in its fan layout.

    The kernel is viewed as a (fan_in, fan_out) matrix (conv: ``k... * in``
    rows; transposed conv: its ``in`` axis last; EinsumDense: from its
    equation) and set to one with orthonormal rows or columns. Returns False
    (and leaves the kernel) for layouts without a matrix view (depthwise).
    """
    kernel = layer.kernel
    axes = _matrix_axes(layer, kernel)
    if axes is None:
        return False
    in_axes, out_axes = axes
    shape = tuple(kernel.shape)
    perm = [*in_axes, *out_axes]
    rows = math.prod(shape[a] for a in in_axes)
    cols = math.prod(shape[a] for a in out_axes)
    q = orthogonal_matrix(rows, cols, seed)
    q = ops.reshape(q, [shape[a] for a in perm])
    q = ops.transpose(q, np.argsort(perm).tolist())
    kernel.assign(ops.cast(q, kernel.dtype))
    return True


def _kernel_layers(model):
    """Every layer with a kernel, in order: graph layers, and the kernel
    sublayers of composite layers (MultiHeadAttention's q/k/v/output)."""
    out = []
    for layer in graph.all_layers(model):
        for sub in graph.sublayers(layer):
            if graph.has_kernel(sub) and not graph._contains(out, sub):
                out.append(sub)
    return out


def _targets(model, layers):
    everything = _kernel_layers(model)
    if layers is None:
        return everything
    chosen = []
    for item in layers:
        if isinstance(item, str):
            match = [layer for layer in everything if layer.name == item]
            if not match:
                raise ValueError(
                    f"Argument `layers` names {item!r}, which is not a kernel layer of "
                    f"model {model.name!r}. Received: layers={layers!r}"
                )
            chosen.append(match[0])
        elif isinstance(item, keras.layers.Layer) and graph._contains(everything, item):
            chosen.append(item)
        else:
            raise ValueError(
                f"Argument `layers` must hold kernel layers of the model (or their names). "
                f"Received: {item!r}"
            )
    return chosen


def _resolve_verbose(verbose):
    if verbose == "auto":
        return 1 if sys.stdout.isatty() else 0
    if verbose not in (0, 1, True, False):
        raise ValueError(f"Argument `verbose` must be 0, 1 or 'auto'. Received: verbose={verbose!r}")
    return int(verbose)


def _variance(out, layer_name):
    value = scalar(ops.var(ops.cast(out, "float32")))
    if not math.isfinite(value):
        raise ValueError(f"Layer {layer_name!r} produced NaN or inf outputs; every weight was restored.")
    return value


class _Calibrator:
    """Runs one model-level calibration over the model's target layers."""

    def __init__(self, model, x, targets, step, verbose):
        self.model, self.x, self.targets, self.step = model, x, targets, step
        self.done = []
        self.progbar = keras.utils.Progbar(len(targets), unit_name="layer") if verbose else None

    def run(self):
        if graph.is_graph_model(self.model):
            graph.walk(self.model, self.x, self.visit)
        else:
            for layer in self.targets:
                def call(layer=layer):
                    with graph.capture_outputs([layer]) as seen:
                        self.model(self.x)
                    return seen[0][1]

                self.visit(layer, call)
        missing = [t.name for t in self.targets if not graph._contains(self.done, t)]
        if missing:
            raise ValueError(
                f"Layers {missing} were not reached by a forward pass of model "
                f"{self.model.name!r} on the batch."
            )

    def visit(self, layer, call):
        """Calibrate `layer` (or its kernel sublayers, through `layer`'s call)
        on its cached inputs, then return its output."""
        for sub in graph.sublayers(layer):
            if not graph._contains(self.targets, sub) or graph._contains(self.done, sub):
                continue
            if sub is layer:
                self.step(layer, call)
            else:
                self.step(sub, lambda sub=sub: self._captured(sub, call))
            self._mark(sub)
        return call()

    @staticmethod
    def _captured(sub, call):
        with graph.capture_outputs([sub]) as seen:
            call()
        return seen[0][1]

    def _mark(self, layer):
        self.done.append(layer)
        if self.progbar is not None:
            self.progbar.add(1)


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

    For every kernel layer (Dense, Conv*, EinsumDense, ...) in topological
    order: optionally replace the kernel by an orthonormal one (in the
    layer's fan layout), then multiply it by ``sqrt(target_var / var)`` until
    the variance of the layer's output on the batch (pre-activation for
    fused activations) is within `tol` of `target_var`, at most `max_iters`
    times.

    Args:
        model: a Sequential/Functional model (built, or built here from the
            batch); subclassed models use full forward passes (slower).
        data: array, tensor, dict/list of them, (x, y) tuple, tf.data.Dataset
            or iterable of batches: one batch of inputs is used.
        target_var: the output variance to reach.
        tol: accepted absolute deviation from `target_var`.
        max_iters: cap on rescalings per layer.
        orthonormal: orthonormal pre-init of each kernel (the paper's step 1).
        layers: restrict to these layers (objects or names).
        batch_size: use only the first rows of the batch.
        target_mean: if set, also shift each unit's bias so its mean output
            is this value (as the PyTorch port's bias centring); default keeps
            biases.
        seed: seed of the orthonormal draws (a distinct seed per kernel).
        verbose: 0, 1 (Keras Progbar over layers) or "auto" (1 on a terminal).

    Returns:
        An :class:`InitReport`: per layer the variance before/after, the
        total scale applied, iterations and whether it converged.

    Raises:
        ValueError: bad data (NaN/inf, empty), a layer whose output variance
            is 0 (dead or constant) or not finite. Every weight is then
            restored bitwise. A layer that does not converge within
            `max_iters` keeps its best scale and is reported with a warning.

    Reference:
        Mishkin & Matas 2015, "All you need is a good init".
    """
    target_var = check_number("target_var", target_var, positive=True)
    tol = check_number("tol", tol, positive=True)
    if isinstance(max_iters, bool) or not isinstance(max_iters, int) or max_iters < 1:
        raise ValueError(f"Argument `max_iters` must be a positive integer. Received: max_iters={max_iters!r}")
    if target_mean is not None:
        target_mean = check_number("target_mean", target_mean)
    check_model_seed(seed)
    verbose = _resolve_verbose(verbose)
    x = first_batch(data, batch_size)
    ensure_built(model, x)
    report = InitReport("lsuv")
    seed_of = seed_for(model, seed)
    targets = []
    for layer in _targets(model, layers):
        if not layer.trainable:
            report.skip(layer.name, "frozen (trainable=False)")
        else:
            targets.append(layer)

    def step(layer, call):
        note = []
        if orthonormal and not orthonormal_kernel(layer, seed_of(layer.kernel)):
            note.append("no orthonormal view (kept kernel)")
        with pre_activation(layer) as fused:
            if fused:
                note.append("pre-activation")
            centre = target_mean is not None and getattr(layer, "bias", None) is not None

            def measure():
                out = call()
                if centre:
                    out = ops.cast(out, "float32")
                    axes = tuple(range(len(out.shape) - 1))
                    shift = target_mean - ops.mean(out, axis=axes)
                    layer.bias.assign(ops.cast(layer.bias + shift, layer.bias.dtype))
                    out = call()
                return _variance(out, layer.name)

            var = first = measure()
            start = ops.convert_to_numpy(layer.kernel)
            best = (abs(var - target_var), 1.0)
            scale, iters = 1.0, 0
            while abs(var - target_var) > tol and iters < max_iters:
                if var <= 0.0:
                    raise ValueError(
                        f"Layer {layer.name!r} outputs a constant on this batch (variance 0): "
                        "LSUV cannot rescale it (dead layer or constant data). Every "
                        "weight was restored."
                    )
                factor = math.sqrt(target_var / var)
                scale *= factor
                layer.kernel.assign(ops.cast(start * scale, layer.kernel.dtype))
                iters += 1
                var = measure()
                best = min(best, (abs(var - target_var), scale))
            converged = abs(var - target_var) <= tol
            if not converged:
                scale = best[1]
                layer.kernel.assign(ops.cast(start * scale, layer.kernel.dtype))
                var = measure()
        report.add(
            layer.name, "lsuv", before=first, after=var, scale=scale, iterations=iters,
            converged=converged, stat="output var", note=", ".join(note),
        )

    with atomic_weights(model):
        _Calibrator(model, x, targets, step, verbose).run()
    if report.not_converged:
        warnings.warn(
            f"lsuv: layers {report.not_converged} did not reach variance {target_var} +- "
            f"{tol} within {max_iters} iterations; each kept its best scale.",
            UserWarning,
            stacklevel=2,
        )
    return report


def _unit_axis(layer):
    if isinstance(layer, _TRANSPOSED):
        return -2
    if isinstance(layer, (keras.layers.Dense, *_CONV)) and not isinstance(
        layer, (keras.layers.DepthwiseConv1D, keras.layers.DepthwiseConv2D, keras.layers.SeparableConv1D, keras.layers.SeparableConv2D)
    ):
        return -1
    return None


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

    For every Dense / Conv* / Conv*Transpose layer in topological order, with
    ``z`` its pre-activation on the batch and ``m_u``, ``s_u`` the mean and
    std of unit (channel) ``u`` over every other axis: ``kernel[..., u] /= s_u``
    and ``bias[u] = (bias[u] - m_u) / s_u``, so every unit's pre-activation has
    mean 0 and variance 1 on the batch. Layers without a bias get the scale
    only (mean not centred, noted). Other kernel layers (depthwise,
    separable, EinsumDense) are listed as skipped.

    Args:
        model, data, layers, batch_size, verbose: as in :func:`lsuv`.
        eps: a unit whose std is below `eps` is dead on this batch: error.

    Raises:
        ValueError: bad data, or a unit with (near) zero variance (its layer
            named); every weight is then restored bitwise.

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
    targets = []
    for layer in _targets(model, layers):
        if not layer.trainable:
            report.skip(layer.name, "frozen (trainable=False)")
        elif _unit_axis(layer) is None:
            report.skip(layer.name, f"{type(layer).__name__}: no per-unit kernel axis")
        else:
            targets.append(layer)

    def step(layer, call):
        with pre_activation(layer) as fused:
            out = ops.cast(call(), "float32")
            axes = tuple(range(len(out.shape) - 1))
            mean = ops.mean(out, axis=axes)
            std = ops.sqrt(ops.var(out, axis=axes))
            smallest = scalar(ops.min(std))
            if not math.isfinite(smallest) or smallest < eps:
                raise ValueError(
                    f"Layer {layer.name!r} has a unit with variance {smallest**2:.3g} on this "
                    "batch (dead unit or constant data): cannot normalize it. Every "
                    "weight was restored."
                )
            before = scalar(ops.var(out))
            shape = [1] * len(layer.kernel.shape)
            shape[_unit_axis(layer)] = -1
            layer.kernel.assign(ops.cast(layer.kernel / ops.reshape(std, shape), layer.kernel.dtype))
            note = "pre-activation" if fused else ""
            if getattr(layer, "bias", None) is not None:
                layer.bias.assign(ops.cast((layer.bias - mean) / std, layer.bias.dtype))
            else:
                note = (note + ", no bias: mean not centred").strip(", ")
            after = scalar(ops.var(ops.cast(call(), "float32")))
        report.add(layer.name, "unit mean 0, var 1", before=before, after=after,
                   stat="output var", note=note)

    with atomic_weights(model):
        _Calibrator(model, x, targets, step, verbose).run()
    return report
