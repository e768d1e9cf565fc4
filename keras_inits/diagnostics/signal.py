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
#: two layers is reported as vanishing (exploding).
VANISH_DECADES = 2.0
#: A layer with at least this fraction of dead units is reported.
DEAD_FRACTION = 0.25
#: Same for kernel gradient norms between the first and the last kernel.
GRADIENT_DECADES = 2.0


@dataclasses.dataclass
class LayerSignal:
    """Statistics of one layer's output on the batch (channels = last axis).

    Attributes:
        name: layer name.
        mean, variance: over every element.
        channel_mean_sq: mean over channels of the squared channel mean
            (NFNets' "mean squared channel mean").
        channel_variance: mean over channels of the channel variance.
        dead_fraction: fraction of channels that are exactly 0 for the whole
            batch (only for non-negative outputs, i.e. ReLU-family; else None).
        identical_units: size of the largest group of identical, non-constant
            channels (1: symmetry broken).
        grad_norm: L2 norm of the loss gradient w.r.t. the layer's kernel,
            when labels were given.
    """

    name: str
    mean: float
    variance: float
    channel_mean_sq: float
    channel_variance: float
    dead_fraction: float | None
    identical_units: int
    has_kernel: bool
    grad_norm: float | None = None


def _stats(layer, out) -> LayerSignal:
    a = np.asarray(ops.convert_to_numpy(ops.cast(out, "float32")), dtype=np.float64)
    channels = a.reshape(-1, a.shape[-1]) if a.ndim > 1 else a.reshape(-1, 1)
    ch_mean = channels.mean(axis=0)
    ch_var = channels.var(axis=0)
    dead = None
    if channels.size and channels.min() >= 0.0:
        dead = float(np.mean(np.all(channels == 0.0, axis=0)))
    live = channels[:, ch_var > 0]
    identical = 1
    if live.shape[1] > 1:
        _, counts = np.unique(live.T, axis=0, return_counts=True)
        identical = int(counts.max())
    return LayerSignal(
        name=layer.name,
        mean=float(a.mean()),
        variance=float(a.var()),
        channel_mean_sq=float(np.mean(ch_mean**2)),
        channel_variance=float(ch_var.mean()),
        dead_fraction=dead,
        identical_units=identical,
        has_kernel=graph.has_kernel(layer),
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
        raise TypeError(f"Argument `loss` must be a loss name or callable. Received: loss={loss!r}")
    return loss


def kernel_gradients(model, x, y, loss) -> dict[str, float]:
    """``{layer name: ||d loss / d kernel||}`` from one backward pass.

    Backend-specific by necessity (each backend differentiates its own way):
    tf.GradientTape on TensorFlow, jax.grad over ``stateless_call`` on JAX,
    autograd on PyTorch.
    """
    kernels = [
        (layer.name, layer.kernel) for layer in graph.all_layers(model) if graph.has_kernel(layer)
    ]
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape() as tape:
            value = ops.mean(loss(y, model(x, training=False)))
        grads = tape.gradient(value, [k.value for _, k in kernels])
    elif backend == "jax":
        import jax

        trainable = [v.value for v in model.trainable_variables]
        frozen = [v.value for v in model.non_trainable_variables]

        def objective(params):
            pred, _ = model.stateless_call(params, frozen, x, training=False)
            return ops.mean(loss(y, pred))

        all_grads = jax.grad(objective)(trainable)
        by_id = {id(v): g for v, g in zip(model.trainable_variables, all_grads)}
        grads = [by_id.get(id(k)) for _, k in kernels]
    elif backend == "torch":
        for _, kernel in kernels:
            kernel.value.grad = None
        value = ops.mean(loss(y, model(x, training=False)))
        value.backward()
        grads = [k.value.grad for _, k in kernels]
    else:
        raise NotImplementedError(
            f"signal_report gradients are implemented for tensorflow, jax and torch; "
            f"not for backend {backend!r}."
        )
    return {
        name: (math.nan if g is None else float(np.linalg.norm(ops.convert_to_numpy(g))))
        for (name, _), g in zip(kernels, grads)
    }


@dataclasses.dataclass
class SignalReport:
    """Per-layer signal statistics and findings of :func:`signal_report`.

    Prints as a table; ``to_rows()`` gives tidy rows (layer, index,
    statistic, value); ``to_dataframe()`` the same as a pandas DataFrame;
    ``plot(path)`` writes a signal-propagation PNG (see
    :func:`keras_inits.diagnostics.plot.plot_reports`).
    """

    model_name: str
    layers: list[LayerSignal]
    findings: list[str]
    gradient_ratio: float | None = None

    @property
    def healthy(self) -> bool:
        return not self.findings

    def to_rows(self) -> list[dict]:
        rows = []
        for i, s in enumerate(self.layers):
            for stat in ("mean", "variance", "channel_mean_sq", "channel_variance",
                         "dead_fraction", "identical_units", "grad_norm"):
                value = getattr(s, stat)
                if value is not None:
                    rows.append({"layer": s.name, "index": i, "statistic": stat, "value": value})
        return rows

    def to_dataframe(self):
        try:
            import pandas as pd
        except ImportError as err:
            raise ImportError("SignalReport.to_dataframe needs pandas: pip install pandas") from err
        return pd.DataFrame(self.to_rows())

    def plot(self, path, others=None, labels=None):
        """Write a signal-propagation plot of this report (and `others`) to `path`."""
        from keras_inits.diagnostics.plot import plot_reports

        reports = [self, *(others or [])]
        return plot_reports(reports, labels or [r.model_name for r in reports], path)

    def __str__(self):
        header = ("#", "layer", "mean", "variance", "ch mean^2", "ch var", "dead", "identical", "grad norm")
        body = [
            (i, s.name, s.mean, s.variance, s.channel_mean_sq, s.channel_variance,
             "" if s.dead_fraction is None else f"{100 * s.dead_fraction:.0f}%",
             s.identical_units if s.identical_units > 1 else "", s.grad_norm)
            for i, s in enumerate(self.layers)
        ]
        lines = [f"SignalReport({self.model_name}): {len(self.layers)} layers", format_table(header, body)]
        lines.append("findings: " + ("none, the network starts healthy" if self.healthy else ""))
        lines += [f"  - {f}" for f in self.findings]
        return "\n".join(lines)

    __repr__ = __str__


def _findings(layers, gradient_ratio) -> list[str]:
    found = []
    kernel = [(i, s) for i, s in enumerate(layers) if s.has_kernel and s.variance > 0]
    if len(kernel) >= 2:
        logs = [math.log10(s.variance) for _, s in kernel]
        drop = max((logs[a] - logs[b], a, b) for a in range(len(logs)) for b in range(a + 1, len(logs)))
        rise = max((logs[b] - logs[a], a, b) for a in range(len(logs)) for b in range(a + 1, len(logs)))
        if drop[0] >= VANISH_DECADES:
            a, b = kernel[drop[1]][1], kernel[drop[2]][1]
            found.append(
                f"vanishing: variance falls 10^{drop[0]:.1f} from layer {a.name} "
                f"({a.variance:.3g}) to layer {b.name} ({b.variance:.3g})"
            )
        if rise[0] >= VANISH_DECADES:
            a, b = kernel[rise[1]][1], kernel[rise[2]][1]
            found.append(
                f"exploding: variance grows 10^{rise[0]:.1f} from layer {a.name} "
                f"({a.variance:.3g}) to layer {b.name} ({b.variance:.3g})"
            )
    for s in layers:
        if s.has_kernel and s.variance == 0.0:
            found.append(f"dead layer {s.name}: its output is constant on the batch")
    for s in layers:
        if s.dead_fraction is not None and s.dead_fraction >= DEAD_FRACTION:
            found.append(f"dead units in layer {s.name}: {100 * s.dead_fraction:.0f}%")
    for s in layers:
        if s.identical_units > 1:
            found.append(f"symmetric units in layer {s.name}: {s.identical_units} identical")
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

    Per layer (one forward pass, each layer's output cached): mean, variance,
    mean squared channel mean and average channel variance (Brock et al.
    2021), fraction of dead units (non-negative outputs that are 0 for the
    whole batch), and the largest group of identical units. With `y`, one
    backward pass gives the gradient norm of every kernel and the ratio
    first/last. Findings, in words with their numbers: vanishing or exploding
    variance (a change of at least :data:`VANISH_DECADES` decades between
    kernel layers), dead units (at least :data:`DEAD_FRACTION`), symmetric
    units, vanishing/exploding gradients (:data:`GRADIENT_DECADES`).

    Args:
        model: a Keras model (built, or built here from the batch).
        data: inputs (array, tensor, dict/list, (x, y) tuple, dataset,
            iterable); one batch is used.
        y: labels for the gradient norms (optional).
        loss: loss for the gradients (default: the model's compiled loss).
        batch_size: use only the first rows of the batch.

    Reference:
        Brock, De, Smith 2021, "Characterizing signal propagation to close the
        performance gap in unnormalized ResNets".
    """
    x = first_batch(data, batch_size)
    ensure_built(model, x)
    outputs = graph.layer_outputs(model, x)
    layers, seen = [], []
    for layer, out in outputs:
        if graph._contains(seen, layer) or not hasattr(out, "shape"):
            continue
        seen.append(layer)
        layers.append(_stats(layer, out))
    ratio = None
    if y is not None:
        if batch_size is not None:
            y = y[:batch_size]
        norms = kernel_gradients(model, x, y, _resolve_loss(model, loss))
        for s in layers:
            s.grad_norm = norms.get(s.name)
        values = [v for v in norms.values() if math.isfinite(v)]
        if len(values) >= 2 and values[-1] > 0:
            ratio = values[0] / values[-1]
    return SignalReport(model.name, layers, _findings(layers, ratio), ratio)
