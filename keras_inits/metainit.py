"""Gradient-based initialization: MetaInit and GradInit.

Both learn one positive scale per weight tensor from a batch of data, using
second-order information (the gradient of a quantity that itself holds a
gradient). That needs the backend's autodiff, so the one backend-specific
piece is :func:`_grad` (TensorFlow: nested ``tf.GradientTape``; JAX:
``jax.grad``). On the torch backend both raise ``NotImplementedError``:
Keras' torch variables do not keep the graph that double backprop needs
through ``stateless_call``.
"""

from __future__ import annotations

import math

import keras
import numpy as np
from keras import ops

from keras_inits._model import atomic_weights, ensure_built, first_batch, scalar
from keras_inits.initializers._base import check_number
from keras_inits.report import InitReport

SUPPORTED_BACKENDS = ("tensorflow", "jax")


def _grad(fn):
    """``xs -> d fn(xs) / d xs`` for a list of tensors, differentiable again."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        def grad(xs):
            with tf.GradientTape() as tape:
                tape.watch(xs)
                value = fn(xs)
            return tape.gradient(value, xs)

        return grad
    if backend == "jax":
        import jax

        return jax.grad(fn)
    raise NotImplementedError(
        f"metainit/gradinit need double backprop, implemented for {SUPPORTED_BACKENDS}; "
        f"not available on the {backend!r} backend."
    )


def _xy(data, batch_size):
    """(x, y) from a (x, y) tuple or an iterable of such batches."""
    if isinstance(data, tuple) and len(data) >= 2:
        x, y = data[0], data[1]
    elif hasattr(data, "__iter__") and not isinstance(data, (str, bytes, dict, np.ndarray)):
        try:
            batch = next(iter(data))
        except StopIteration:
            raise ValueError("Argument `data` yielded no batch (it is empty).") from None
        return _xy(batch, batch_size)
    else:
        raise TypeError(
            "Argument `data` must be an (x, y) tuple or an iterable of (x, y) batches: "
            f"these steps need labels. Received: data of type {type(data).__name__}"
        )
    x = first_batch(x, batch_size)
    y = ops.convert_to_tensor(y[:batch_size] if batch_size else y)
    return x, y


def _loss_fn(loss):
    if isinstance(loss, str):
        loss = keras.losses.get(loss)
    if not callable(loss):
        raise TypeError(f"Argument `loss` must be a loss name or callable. Received: loss={loss!r}")
    return loss


class _Functional:
    """The model's loss as a pure function of some of its trainable tensors."""

    def __init__(self, model, x, y, loss, kinds=("kernel",)):
        self.model, self.x, self.y, self.loss = model, x, y, loss
        self.trainable = list(model.trainable_variables)
        self.frozen = [v.value for v in model.non_trainable_variables]
        self.index = [
            i for i, v in enumerate(self.trainable)
            if v.name in kinds and len(v.shape) >= (2 if kinds == ("kernel",) else 1)
        ]
        if not self.index:
            raise ValueError(f"Model {model.name!r} has no trainable {kinds} to scale.")
        self.base = [ops.convert_to_tensor(self.trainable[i].value) for i in self.index]

    def loss_of(self, tensors, x=None, y=None):
        values = [v.value for v in self.trainable]
        for i, t in zip(self.index, tensors):
            values[i] = t
        pred, _ = self.model.stateless_call(values, self.frozen, self.x if x is None else x)
        return ops.mean(self.loss(self.y if y is None else y, pred))

    def scaled(self, scales):
        return [w * scales[j] for j, w in enumerate(self.base)]


def gradient_quotient(fn: _Functional, tensors, eps):
    """GQ = mean |(g - H g) / (g + eps sign(g)) - 1| over every scaled element."""
    grad_loss = _grad(lambda ts: fn.loss_of(ts))
    g = grad_loss(tensors)
    half_sq = _grad(lambda ts: 0.5 * sum(ops.sum(gi * gi) for gi in grad_loss(ts)))
    hg = half_sq(tensors)
    total, count = 0.0, 0
    for gi, hi in zip(g, hg):
        sign = ops.where(gi >= 0, 1.0, -1.0)
        total = total + ops.sum(ops.abs((gi - hi) / (gi + eps * sign) - 1.0))
        count += math.prod(gi.shape)
    return total / count


def metainit(
    model,
    data,
    loss,
    *,
    steps: int = 200,
    lr: float = 0.1,
    momentum: float = 0.9,
    eps: float = 1e-5,
    batch_size: int | None = None,
    verbose: int = 0,
) -> InitReport:
    """MetaInit (Dauphin & Schoenholz 2019): tune each kernel's norm to make
    the loss locally close to linear-with-curvature-matched gradients.

    Minimizes the gradient quotient ``GQ = (1/N) sum |(g - Hg) / (g + eps
    sign(g)) - 1|`` (g the loss gradient, H the Hessian, N the number of
    kernel entries) over one norm per kernel, keeping each kernel's direction:
    as in the paper's code, by signSGD with momentum on the norms
    (``m <- momentum * m - lr * sign(dGQ/dnorm)``, ``norm <- norm + m``).
    ``Hg`` is a Hessian-vector product by double backprop. Norms are kept
    at no less than 1e-3 of their start, so scales stay positive.

    Args:
        model: a built Keras model (or built here from the batch).
        data: an ``(x, y)`` tuple or an iterable of ``(x, y)`` batches.
        loss: a loss name, ``keras.losses.Loss`` or callable ``(y, pred)``.
        steps, lr, momentum, eps: the paper's defaults.
        batch_size: use only the first rows.
        verbose: print GQ every 10% of the steps.

    Returns:
        An :class:`InitReport`: per kernel the norm before/after and the
        scale; ``report.notes`` has GQ before and after.

    Raises:
        NotImplementedError: on the torch backend (see module doc).
        ValueError: bad data, or a non-finite GQ/loss (every weight restored).

    Reference:
        Dauphin & Schoenholz 2019, "MetaInit: initializing learning by
        learning to initialize".
    """
    _grad(lambda xs: xs)  # fail fast on unsupported backends
    lr = check_number("lr", lr, positive=True)
    momentum = check_number("momentum", momentum, non_negative=True, upper=1.0)
    eps = check_number("eps", eps, positive=True)
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"Argument `steps` must be a positive integer. Received: steps={steps!r}")
    x, y = _xy(data, batch_size)
    ensure_built(model, x)
    fn = _Functional(model, x, y, _loss_fn(loss))
    norms0 = np.array([scalar(ops.norm(ops.reshape(w, (-1,)))) for w in fn.base])
    scales = np.ones(len(fn.base), dtype="float32")
    memory = np.zeros(len(fn.base))
    report = InitReport("metainit")

    def gq_of(s):
        return gradient_quotient(fn, fn.scaled(s), eps)

    grad_gq = _grad(lambda s: gq_of(s[0]))
    with atomic_weights(model):
        first = _finite(float(gq_of(ops.convert_to_tensor(scales))), "GQ")
        for step in range(steps):
            s = ops.convert_to_tensor(scales)
            (ds,) = grad_gq([s])
            sign = np.sign(ops.convert_to_numpy(ds))
            memory = momentum * memory - lr * sign
            norms = np.maximum(norms0 * scales + memory, 1e-3 * norms0)
            scales = (norms / norms0).astype("float32")
            if verbose and (step + 1) % max(1, steps // 10) == 0:
                print(f"metainit step {step + 1}/{steps}: GQ {float(gq_of(ops.convert_to_tensor(scales))):.4g}")
        last = _finite(float(gq_of(ops.convert_to_tensor(scales))), "GQ")
        for j, i in enumerate(fn.index):
            var = fn.trainable[i]
            var.assign(ops.cast(fn.base[j] * float(scales[j]), var.dtype))
            report.add(var.path, "norm", before=float(norms0[j]), after=float(norms0[j] * scales[j]),
                       scale=float(scales[j]), iterations=steps, stat="norm")
    report.notes.append(f"GQ before {first:.4g}, after {last:.4g} ({steps} steps)")
    report.gq = (first, last)
    return report


def _finite(value, what):
    if not math.isfinite(value):
        raise ValueError(f"{what} is not finite ({value}); every weight was restored.")
    return value


def gradinit(
    model,
    data,
    loss,
    *,
    steps: int = 100,
    lr: float = 0.01,
    eta: float = 0.1,
    gamma: float = 1.0,
    min_scale: float = 0.01,
    batch_size: int | None = None,
) -> InitReport:
    """GradInit (Zhu et al. 2021): one scale per tensor so that one SGD step
    most reduces the loss, under a gradient-norm bound.

    With ``theta(alpha)`` every kernel and bias multiplied by its scale and
    the batch split in halves S1, S2: if ``||g(theta; S1)||_2 > gamma`` the
    scales take a step that reduces that gradient norm; otherwise one that
    reduces ``L(theta - eta g(theta; S1); S2)``, the loss after one SGD step
    of size `eta`. Scales are updated by Adam with learning rate `lr` and
    kept at or above `min_scale`. Defaults follow the paper's SGD setting
    (gamma 1, alpha_min 0.01, Adam on the scales).

    Args:
        model, data, loss, batch_size: as in :func:`metainit`.
        steps: scale updates.
        lr: Adam learning rate of the scales.
        eta: the SGD step size the objective simulates.
        gamma: the gradient-norm bound.
        min_scale: lower bound of every scale.

    Reference:
        Zhu, Ni, Xu, Kong, Huang, Goldstein 2021, "GradInit: learning to
        initialize neural networks for stable and efficient training".
    """
    _grad(lambda xs: xs)
    for name, value in (("lr", lr), ("eta", eta), ("gamma", gamma), ("min_scale", min_scale)):
        check_number(name, value, positive=True)
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"Argument `steps` must be a positive integer. Received: steps={steps!r}")
    x, y = _xy(data, batch_size)
    ensure_built(model, x)
    n = int(ops.shape(y)[0])
    if n < 4:
        raise ValueError(f"gradinit needs a batch of at least 4 samples (two halves). Received: {n}")
    half = n // 2
    x1, x2 = (x[:half], x[half:]) if not isinstance(x, (dict, list)) else (x, x)
    y1, y2 = y[:half], y[half:]
    fn = _Functional(model, x, y, _loss_fn(loss), kinds=("kernel", "bias"))
    scales = np.ones(len(fn.base), dtype="float32")
    m_t = np.zeros_like(scales)
    v_t = np.zeros_like(scales)
    report = InitReport("gradinit")

    def objective(s, constrained):
        tensors = fn.scaled(s)
        g = _grad(lambda ts: fn.loss_of(ts, x1, y1))(tensors)
        if constrained:
            return ops.sqrt(sum(ops.sum(gi * gi) for gi in g))
        stepped = [t - eta * gi for t, gi in zip(tensors, g)]
        return fn.loss_of(stepped, x2, y2)

    with atomic_weights(model):
        loss_before = _finite(float(fn.loss_of(fn.base)), "loss")
        for t in range(1, steps + 1):
            s = ops.convert_to_tensor(scales)
            g = _grad(lambda ts: fn.loss_of(ts, x1, y1))(fn.scaled(s))
            norm = scalar(ops.sqrt(sum(ops.sum(gi * gi) for gi in g)))
            constrained = norm > gamma
            (ds,) = _grad(lambda ss, c=constrained: objective(ss[0], c))([s])
            ds = np.nan_to_num(ops.convert_to_numpy(ds).astype("float64"), nan=0.0)
            m_t = 0.9 * m_t + 0.1 * ds
            v_t = 0.999 * v_t + 0.001 * ds**2
            step = lr * (m_t / (1 - 0.9**t)) / (np.sqrt(v_t / (1 - 0.999**t)) + 1e-8)
            scales = np.maximum(scales - step, min_scale).astype("float32")
        loss_after = _finite(float(fn.loss_of(fn.scaled(ops.convert_to_tensor(scales)))), "loss")
        for j, i in enumerate(fn.index):
            var = fn.trainable[i]
            before = scalar(ops.std(fn.base[j]))
            var.assign(ops.cast(fn.base[j] * float(scales[j]), var.dtype))
            report.add(var.path, "scale", before=before, after=before * float(scales[j]),
                       scale=float(scales[j]), iterations=steps, stat="std")
    report.notes.append(f"loss before {loss_before:.4g}, after {loss_after:.4g} ({steps} steps)")
    return report
