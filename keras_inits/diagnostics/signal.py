"""Signal-propagation report: does a network start healthy?

One forward pass (and with labels one backward pass) over a batch gives, per
layer, the statistics of Brock et al. 2021's signal-propagation plots plus
the failure modes an initialization causes: vanishing or exploding
activations, dead ReLU units, and units that are exact copies of each other
(symmetry never broken).
"""

from __future__ import annotations

import dataclasses
import math

import keras
import numpy as np
from keras import ops

from keras_inits import graph
from keras_inits._model import ensure_built, first_batch
from keras_inits.report import format_table

#: A fall (rise) of activation variance of at least this many decades between
#: two kernel layers is reported as vanishing (exploding).
VANISH_DECADES = 2.0
#: A layer with at least this fraction of dead units is reported.
DEAD_FRACTION = 0.25
#: A first/last kernel gradient-norm ratio of at least this many decades
#: (either way) is reported as vanishing (exploding) gradients.
GRADIENT_DECADES = 2.0
#: Two channels are identical when they differ nowhere on the batch by more
#: than this fraction of the layer's root-mean-square output (float32 sums of
#: the same products may differ in the last bits; a random init never comes
#: this close on a whole batch).
IDENTICAL_RTOL = 1e-5
#: Activations whose outputs are probabilities: bounded by construction, so
#: their variance says nothing about propagation and is left out of the
#: vanishing/exploding comparison.
PROBABILITY_ACTIVATIONS = frozenset({"softmax", "log_softmax", "sigmoid", "hard_sigmoid"})

_STATISTICS = (
    "mean", "variance", "channel_mean_sq", "channel_variance", "dead_fraction",
    "identical_units", "symmetric_groups", "grad_norm",
)


@dataclasses.dataclass
class LayerSignal:
    """Statistics of one layer's output on the batch (channels = last axis).

    Attributes:
        name: layer name.
        mean, variance: over every element.
        channel_mean_sq: mean over channels of the squared channel mean
            (NFNets' "average channel squared mean").
        channel_variance: mean over channels of the channel variance.
        dead_fraction: fraction of channels that are exactly 0 for the whole
            batch, for layers whose output is non-negative (ReLU family);
            None for the others.
        identical_groups: sizes of the groups of identical, non-constant
            channels, largest first (empty: symmetry broken).
        has_kernel: the layer (or a layer inside it) has a kernel.
        zero_kernel: every kernel of the layer is exactly zero.
        probability: the layer outputs probabilities (softmax, sigmoid).
        grad_norm: L2 norm of the loss gradient w.r.t. the layer's kernels
            (all of them together, e.g. q/k/v/output of an attention layer),
            when labels were given.
    """

    name: str
    mean: float
    variance: float
    channel_mean_sq: float
    channel_variance: float
    dead_fraction: float | None
    identical_groups: tuple[int, ...]
    has_kernel: bool
    zero_kernel: bool = False
    probability: bool = False
    grad_norm: float | None = None

    @property
    def identical_units(self) -> int:
        """Size of the largest group of identical units (1: symmetry broken)."""
        return self.identical_groups[0] if self.identical_groups else 1

    @property
    def symmetric_groups(self) -> int:
        """How many groups of identical units the layer has."""
        return len(self.identical_groups)


def _kernels(layer) -> list:
    return [graph.kernel_of(sub) for sub in graph.sublayers(layer) if graph.has_kernel(sub)]


def _is_probability(layer) -> bool:
    if isinstance(layer, keras.layers.Softmax):
        return True
    activation = getattr(layer, "activation", None)
    return getattr(activation, "__name__", None) in PROBABILITY_ACTIVATIONS


def identical_groups(channels, rtol=IDENTICAL_RTOL) -> tuple[int, ...]:
    """Sizes of the groups of identical columns of ``channels`` (rows: samples).

    Constant columns (dead units) are left out. Columns are sorted by a fixed
    random projection, so identical ones end up next to each other; a group
    continues while neighbours differ by at most ``rtol`` times the root mean
    square of the live columns. Cost O(C log C + C N), not O(C^2 N).
    """
    live = channels[:, channels.var(axis=0) > 0].T
    if live.shape[0] < 2:
        return ()
    projection = np.random.default_rng(0).standard_normal(live.shape[1])
    ordered = live[np.argsort(live @ projection, kind="stable")]
    atol = rtol * math.sqrt(float(np.mean(live * live)))
    new_group = np.max(np.abs(np.diff(ordered, axis=0)), axis=1) > atol
    sizes = np.bincount(np.concatenate([[0], np.cumsum(new_group)]))
    return tuple(int(s) for s in sorted(sizes[sizes > 1], reverse=True))


def _stats(layer, out) -> LayerSignal:
    a = np.asarray(ops.convert_to_numpy(ops.cast(out, "float32")), dtype=np.float64)
    channels = a.reshape(-1, a.shape[-1]) if a.ndim > 1 else a.reshape(-1, 1)
    ch_mean = channels.mean(axis=0)
    dead = None
    if channels.size and channels.min() >= 0.0:
        dead = float(np.mean(np.all(channels == 0.0, axis=0)))
    kernels = _kernels(layer)
    return LayerSignal(
        name=layer.name,
        mean=float(a.mean()),
        variance=float(a.var()),
        channel_mean_sq=float(np.mean(ch_mean**2)),
        channel_variance=float(channels.var(axis=0).mean()),
        dead_fraction=dead,
        identical_groups=identical_groups(channels),
        has_kernel=bool(kernels),
        zero_kernel=bool(kernels) and all(
            not np.any(ops.convert_to_numpy(k)) for k in kernels
        ),
        probability=_is_probability(layer),
    )


def _resolve_loss(model, loss):
    if loss is None:
        loss = getattr(model, "loss", None)
        if loss is None:
            raise ValueError(
                "signal_report got `y` but no `loss`, and the model is not compiled "
                "with one: pass loss='sparse_categorical_crossentropy' (or any loss)."
            )
    if isinstance(loss, (str, dict)):
        loss = keras.losses.get(loss)
    if not callable(loss):
        raise TypeError(
            f"Argument `loss` must be a loss name or callable. Received: loss={loss!r}"
        )
    return loss


def _rows(x) -> int:
    first = next(iter(x.values())) if isinstance(x, dict) else x[0] if isinstance(x, list) else x
    return int(ops.shape(first)[0])


def _check_labels(y, rows, batch_size):
    if isinstance(y, dict):
        return {k: _check_labels(v, rows, batch_size) for k, v in y.items()}
    if isinstance(y, (list, tuple)) and y and all(hasattr(v, "shape") for v in y):
        return [_check_labels(v, rows, batch_size) for v in y]
    if batch_size is not None:
        y = y[:batch_size]
    arr = np.asarray(ops.convert_to_numpy(y))
    if arr.ndim == 0 or arr.shape[0] != rows:
        raise ValueError(
            f"Argument `y` must have one label per input row ({rows}). "
            f"Received: y of shape {arr.shape}"
        )
    if np.issubdtype(arr.dtype, np.floating) and not np.all(np.isfinite(arr)):
        raise ValueError(
            f"Argument `y` holds {int(np.sum(~np.isfinite(arr)))} NaN or inf values."
        )
    return y


def kernel_gradients(model, x, y, loss) -> dict[str, float]:
    """``{kernel variable path: ||d mean(loss) / d kernel||}``, one backward pass.

    The one backend-specific function of the diagnostics (each backend
    differentiates its own way): ``tf.GradientTape`` on TensorFlow,
    ``jax.grad`` over ``model.stateless_call`` on JAX, ``loss.backward()`` on
    PyTorch (every trainable variable's ``.grad`` is cleared before and
    after). The model runs with ``training=False``. A kernel that is not
    trainable, or does not reach the loss, gets NaN.
    """
    kernels = [k for layer in graph.all_layers(model) for k in _kernels(layer)]
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape() as tape:
            value = ops.mean(loss(y, model(x, training=False)))
        grads = tape.gradient(value, [k.value for k in kernels])
    elif backend == "jax":
        import jax

        trainable = [v.value for v in model.trainable_variables]
        frozen = [v.value for v in model.non_trainable_variables]

        def objective(params):
            pred, _ = model.stateless_call(params, frozen, x, training=False)
            return ops.mean(loss(y, pred))

        all_grads = jax.grad(objective)(trainable)
        by_id = {id(v): g for v, g in zip(model.trainable_variables, all_grads)}
        grads = [by_id.get(id(k)) for k in kernels]
    elif backend == "torch":
        for variable in model.trainable_variables:
            variable.value.grad = None
        try:
            value = ops.mean(loss(y, model(x, training=False)))
            value.backward()
            grads = [k.value.grad for k in kernels]
        finally:
            for variable in model.trainable_variables:
                variable.value.grad = None
    else:
        raise NotImplementedError(
            f"signal_report gradients are implemented for tensorflow, jax and torch; "
            f"not for backend {backend!r}."
        )
    return {
        k.path: (math.nan if g is None else float(np.linalg.norm(ops.convert_to_numpy(g))))
        for k, g in zip(kernels, grads)
    }


@dataclasses.dataclass
class SignalReport:
    """Per-layer signal statistics and findings of :func:`signal_report`.

    Prints as a table; ``to_rows()`` gives tidy rows (layer, index,
    statistic, value); ``to_dataframe()`` the same as a pandas DataFrame;
    ``plot(path)`` writes a signal-propagation PNG (see
    :func:`keras_inits.diagnostics.plot.plot_reports`).

    Attributes:
        model_name: the model's name (the default plot label).
        layers: one :class:`LayerSignal` per layer, in topological order.
        findings: what looks wrong, in words with the numbers behind it
            (empty: the network starts healthy).
        gradient_ratio: gradient norm of the first kernel layer over that of
            the last (None without labels).
        gradient_norms: ``{kernel variable path: gradient norm}`` for every
            kernel, including those inside composite layers.
    """

    model_name: str
    layers: list[LayerSignal]
    findings: list[str]
    gradient_ratio: float | None = None
    gradient_norms: dict[str, float] = dataclasses.field(default_factory=dict)

    @property
    def healthy(self) -> bool:
        return not self.findings

    def to_rows(self) -> list[dict]:
        """One ``{"layer", "index", "statistic", "value"}`` dict per layer and
        statistic (mup-style tidy rows); statistics a layer lacks are left out."""
        rows = []
        for i, s in enumerate(self.layers):
            for stat in _STATISTICS:
                value = getattr(s, stat)
                if value is not None:
                    rows.append({"layer": s.name, "index": i, "statistic": stat, "value": value})
        return rows

    def to_dataframe(self):
        """:meth:`to_rows` as a pandas DataFrame (needs pandas)."""
        try:
            import pandas as pd
        except ImportError as err:
            raise ImportError(
                "SignalReport.to_dataframe needs pandas: pip install pandas "
                "(or use SignalReport.to_rows(), which needs nothing)."
            ) from err
        return pd.DataFrame(self.to_rows())

    def plot(self, path, others=None, labels=None):
        """Write a signal-propagation plot of this report (and `others`,
        overlaid, one legend entry per report) to `path`; returns `path`."""
        from keras_inits.diagnostics.plot import plot_reports

        reports = [self, *(others or [])]
        return plot_reports(reports, labels or [r.model_name for r in reports], path)

    def __str__(self):
        header = ("#", "layer", "mean", "variance", "ch mean^2", "ch var", "dead",
                  "identical", "grad norm")
        body = [
            (i, s.name, s.mean, s.variance, s.channel_mean_sq, s.channel_variance,
             "" if s.dead_fraction is None else f"{100 * s.dead_fraction:.0f}%",
             ", ".join(str(g) for g in s.identical_groups), s.grad_norm)
            for i, s in enumerate(self.layers)
        ]
        lines = [f"SignalReport({self.model_name}): {len(self.layers)} layers",
                 format_table(header, body)]
        if self.gradient_ratio is not None:
            lines.append(f"gradient norm ratio first/last kernel layer: {self.gradient_ratio:.3g}")
        lines.append("findings: " + ("none, the network starts healthy" if self.healthy else ""))
        lines += [f"  - {f}" for f in self.findings]
        return "\n".join(lines)

    __repr__ = __str__


def _largest_change(logs):
    """``(decades, a, b)`` with a < b maximising ``logs[a] - logs[b]`` (one pass)."""
    best, top = (-math.inf, 0, 1), 0
    for b in range(1, len(logs)):
        if logs[b - 1] > logs[top]:
            top = b - 1
        if logs[top] - logs[b] > best[0]:
            best = (float(logs[top] - logs[b]), top, b)
    return best


def _variance_findings(layers) -> list[str]:
    trend = [s for s in layers if s.has_kernel and not s.zero_kernel
             and not s.probability and s.variance > 0]
    if len(trend) < 2:
        return []
    logs = np.log10([s.variance for s in trend])
    found = []
    for word, verb, sign in (("vanishing", "falls", 1.0), ("exploding", "grows", -1.0)):
        decades, a, b = _largest_change(sign * logs)
        if decades >= VANISH_DECADES:
            first, last = trend[a], trend[b]
            found.append(
                f"{word}: variance {verb} 10^{decades:.1f} from layer {first.name} "
                f"({first.variance:.3g}) to layer {last.name} ({last.variance:.3g})"
            )
    return found


def _findings(layers, gradient_ratio) -> list[str]:
    found = _variance_findings(layers)
    for s in layers:
        if s.zero_kernel:
            found.append(
                f"zero kernel in layer {s.name}: its output ignores its input (intended "
                "only for the last layer of a residual branch, e.g. after zero_residual)"
            )
        elif s.dead_fraction is not None and s.dead_fraction >= DEAD_FRACTION:
            found.append(f"dead units in layer {s.name}: {100 * s.dead_fraction:.0f}%")
        elif s.has_kernel and s.variance == 0.0:
            found.append(f"dead layer {s.name}: its output is constant on the batch")
    for s in layers:
        if s.identical_groups:
            groups = ("" if len(s.identical_groups) == 1 else
                      " (groups of " + ", ".join(map(str, s.identical_groups)) + ")")
            found.append(f"symmetric units in layer {s.name}: {s.identical_units} identical{groups}")
    no_gradient = [s.name for s in layers if s.grad_norm == 0.0]
    if no_gradient:
        found.append(
            f"zero gradients: {len(no_gradient)} kernel layer(s) get none "
            f"({', '.join(no_gradient)})"
        )
    if gradient_ratio is not None and gradient_ratio > 0 and math.isfinite(gradient_ratio):
        decades = math.log10(gradient_ratio)
        if abs(decades) >= GRADIENT_DECADES:
            word = "vanishing" if decades < 0 else "exploding"
            found.append(
                f"{word} gradients: first/last kernel gradient norm ratio {gradient_ratio:.3g}"
            )
    return found


def signal_report(model, data, y=None, loss=None, *, batch_size=None) -> SignalReport:
    """Signal-propagation statistics of `model` on one batch, with findings.

    Per layer, from one forward pass (graph models are walked node by node,
    each layer's output recorded; subclassed models run once with their
    layers' outputs captured), channels being the last axis:

        mean, variance              over every element of the output
        channel_mean_sq             mean_c (mean_n a[n, c])^2
        channel_variance            mean_c var_n a[n, c]
        dead_fraction               share of channels exactly 0 on the whole
                                    batch (non-negative outputs only)
        identical_groups            groups of channels equal on the whole batch

    With `y`, one backward pass gives the gradient norm of every kernel and
    the ratio first/last kernel layer. Findings, in words with their
    numbers: vanishing or exploding variance (a change of at least
    :data:`VANISH_DECADES` decades between two kernel layers, probability
    outputs excluded), dead units (at least :data:`DEAD_FRACTION` of a
    layer's channels), symmetric units, zero kernels, kernels without
    gradient, vanishing/exploding gradients (:data:`GRADIENT_DECADES`).
    The model's weights are not changed.

    Args:
        model: a Keras model (built, or built here from the batch).
        data: inputs (array, tensor, dict/list, (x, y) tuple, dataset,
            iterable); one batch is used.
        y: labels for the gradient norms (optional; not taken from `data`).
        loss: a loss name, ``keras.losses`` object or callable
            ``loss(y_true, y_pred)`` (default: the model's compiled loss).
        batch_size: use only the first rows of the batch (and of `y`).

    Returns:
        A :class:`SignalReport`.

    Raises:
        ValueError: empty batch, NaN/inf in the data or labels, labels not
            matching the batch, `y` without any loss.
        TypeError: `model` is not a keras.Model, `loss` is not a loss.

    Example:
        >>> report = ki.signal_report(model, x[:256], y[:256])
        >>> print(report)            # table and findings
        >>> report.plot("sp.png")

    Reference:
        Brock, De, Smith 2021, "Characterizing signal propagation to close the
        performance gap in unnormalized ResNets" (signal-propagation plots).
    """
    x = first_batch(data, batch_size)
    ensure_built(model, x)
    if y is not None:
        y = _check_labels(y, _rows(x), batch_size)
        loss = _resolve_loss(model, loss)
    layers, seen = [], []
    for layer, out in graph.layer_outputs(model, x):
        # A layer called at several nodes is reported at its first call.
        if any(layer is other for other in seen) or not hasattr(out, "shape"):
            continue
        seen.append(layer)
        layers.append(_stats(layer, out))
    ratio, norms = None, {}
    if y is not None:
        norms = kernel_gradients(model, x, y, loss)
        for layer, s in zip(seen, layers):
            values = [norms.get(k.path, math.nan) for k in _kernels(layer)]
            if values:
                s.grad_norm = math.sqrt(sum(v * v for v in values))
        with_grad = [s.grad_norm for s in layers
                     if s.grad_norm is not None and math.isfinite(s.grad_norm)]
        if len(with_grad) >= 2 and with_grad[-1] > 0:
            ratio = with_grad[0] / with_grad[-1]
    return SignalReport(model.name, layers, _findings(layers, ratio), ratio, norms)
