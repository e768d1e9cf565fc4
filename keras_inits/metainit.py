"""Gradient-based initialization: MetaInit and GradInit.

Both keep every weight tensor's direction and learn one positive scale per
tensor from labelled data, by differentiating a quantity that itself holds a
gradient: the gradient quotient (MetaInit, a Hessian-vector product inside)
or the loss after one simulated optimizer step (GradInit). That needs the
backend's autodiff twice over, so the one backend-specific piece of this
module is the "Backend autodiff" section (:func:`_autodiff`):

- TensorFlow: nested ``tf.GradientTape``; each step runs in one ``tf.function``.
- JAX: ``jax.grad`` and, for MetaInit's Hessian-vector product,
  forward-over-reverse ``jax.linearize(jax.grad(f))``; each step ``jax.jit``-ed.
- PyTorch: ``torch.autograd.grad(create_graph=True)``, eagerly.
- Any other backend (``numpy``, ``openvino``: no autodiff) raises
  ``NotImplementedError`` naming the backend, before touching the model.

The model is evaluated with ``model.stateless_call(..., training=False)``:
weights are never assigned until the end, where the learned scales are
applied once, inside :func:`keras_inits._model.atomic_weights` (a failure or
a NaN weight restores every weight bitwise).
"""

from __future__ import annotations

import dataclasses
import itertools
import math

import keras
import numpy as np
from keras import ops

from keras_inits._model import atomic_weights, ensure_built, first_batch
from keras_inits.initializers._base import check_choice, check_number
from keras_inits.report import InitReport

SUPPORTED_BACKENDS = ("tensorflow", "jax", "torch")
# GradInit's per-scale gradient clipping (``--gradinit-grad-clip 1`` in the
# authors' scripts) and the Adam constants of its scale optimizer.
_GRAD_CLIP = 1.0
_BETA1, _BETA2, _ADAM_EPS = 0.9, 0.999, 1e-8


@dataclasses.dataclass
class LearnedScalesReport(InitReport):
    """An :class:`InitReport` that also keeps the optimisation's trace.

    Attributes:
        history: per quantity (``"gq"``; ``"grad_norm"``, ``"objective"``),
            its value at each step, before that step's update.
        summary: per quantity, ``(before, after)`` at the initial and the
            final scales.
    """

    history: dict = dataclasses.field(default_factory=dict)
    summary: dict = dataclasses.field(default_factory=dict)

    def to_dict(self) -> dict:
        out = super().to_dict()
        out["history"] = {k: list(v) for k, v in self.history.items()}
        out["summary"] = {k: list(v) for k, v in self.summary.items()}
        return out


# --------------------------------------------------------------------- data


def labelled_batch(data, *, name="data"):
    """The first ``(x, y)`` batch of `data`, as host arrays (see :class:`_Stream`)."""
    return _Stream(data, name=name).first_host


def _labelled(batch, name):
    """``(x, y)`` host arrays from one ``(x, y[, w])`` batch, validated.

    `x` goes through :func:`keras_inits._model.first_batch` (any input
    structure; empty, NaN/inf or constant batches rejected); `y` must have as
    many rows as `x` and be finite.
    """
    x, y = batch[0], batch[1]
    x = keras.tree.map_structure(_host, first_batch(x, name=name))
    y = _host(y)
    rows = len(keras.tree.flatten(x)[0])
    if y.ndim == 0 or len(y) != rows:
        raise ValueError(f"Argument `{name}` has {rows} input rows but labels of shape {y.shape}.")
    if np.issubdtype(y.dtype, np.floating) and not np.all(np.isfinite(y)):
        raise ValueError(f"Argument `{name}` has NaN or inf labels.")
    return x, y


def _host(value):
    return np.asarray(ops.convert_to_numpy(value))


def _tensors(x, y, index=None):
    def pick(a):
        return ops.convert_to_tensor(a if index is None else a[index])

    return keras.tree.map_structure(pick, x), pick(y)


def _is_batch(value):
    return isinstance(value, (tuple, list)) and len(value) in (2, 3)


def _iterable_of_batches(data):
    if isinstance(data, (dict, np.ndarray, str, bytes)) or ops.is_tensor(data):
        return False
    if isinstance(data, list):  # a list of arrays is a multi-input x without labels
        return all(_is_batch(b) for b in data)
    return hasattr(data, "__iter__")


class _Stream:
    """The batches of `data`, one (or two disjoint ones) per step, as ``fit`` draws them.

    - ``(x, y[, w])`` arrays: a pool of rows. Each step takes `count` disjoint
      batches of `batch_size` rows from a seeded permutation of the rows that
      is renewed every epoch (when fewer rows are left than a step needs).
      ``batch_size=None``: every row at every step if ``count == 1``, else
      ``rows // count`` rows per batch.
    - An iterable of ``(x, y[, w])`` batches (a ``tf.data.Dataset``, a list, a
      generator, a torch ``DataLoader``): the next batch at each step, the
      first step getting the first batch; it is iterated again when it runs
      out (a one-shot iterator cycles through the batches it gave). With
      ``count == 2`` each batch is split into its first and second half.
      `batch_size` must be None.

    ``first`` is the first batch (of arrays: their first ``count *
    batch_size`` rows, or all of them), at which the before/after quantities
    are measured; ``split(first)`` its two halves. Sample weights (a third
    entry) are not used.
    """

    def __init__(self, data, *, batch_size=None, count=1, seed=None, name="data"):
        self.name, self.count = name, count
        self.rng = np.random.default_rng(seed)
        self.pool = isinstance(data, tuple)
        if self.pool:
            if not _is_batch(data):
                raise TypeError(
                    f"Argument `{name}` must be an (x, y) tuple or an iterable of (x, y) "
                    f"batches. Received: a tuple of length {len(data)}"
                )
            self.first_host = _labelled(data, name)
            self.rows = len(self.first_host[1])
            self.size = _check_batch_size(batch_size, self.rows, count)
            if self.size is None and count > 1:
                self.size = self.rows // count
            self.queue = np.zeros(0, dtype="int64")
            # The first batch in order: bounded cost, and the shape of every step's.
            head = None if self.size is None else np.arange(self.size * count)
        elif _iterable_of_batches(data):
            if batch_size is not None:
                raise ValueError(
                    f"Argument `batch_size` must be None when `{name}` is an iterable of "
                    f"batches (its batches are used as they come). Received: batch_size={batch_size!r}"
                )
            self.iterator = iter(data)
            # A re-iterable (Dataset, list, DataLoader) starts over when it runs out;
            # a one-shot iterator then cycles through the batches it gave.
            self.source = None if self.iterator is data else data
            self.seen = [] if self.source is None else None
            self.first_host = self._pull()
            self.pending = [self.first_host]
            head = None
        else:
            raise TypeError(
                f"Argument `{name}` must be an (x, y) tuple or an iterable of (x, y) "
                f"batches: metainit and gradinit need labels. Received: {name} of type "
                f"{type(data).__name__}"
            )
        self.first = _tensors(*self.first_host, head)

    def _pull(self):
        try:
            batch = next(self.iterator)
        except StopIteration:
            if self.source is not None:
                self.iterator = iter(self.source)
            elif self.seen:
                self.iterator, self.seen = itertools.cycle(self.seen), None
            try:
                batch = next(self.iterator)
            except StopIteration:
                raise ValueError(f"Argument `{self.name}` yielded no batch (it is empty).") from None
        if not _is_batch(batch):
            raise TypeError(
                f"Argument `{self.name}` must yield (x, y) batches. Received: a batch of "
                f"type {type(batch).__name__}"
            )
        if self.seen is not None:
            self.seen.append(batch)
        return _labelled(batch, self.name)

    def split(self, batch):
        """The first and second half of the rows of `batch` (tensors)."""
        x, y = batch
        half = int(ops.shape(y)[0]) // 2
        if half < 1:
            raise ValueError(
                f"Argument `{self.name}` has a batch of {int(ops.shape(y)[0])} row(s): gradinit "
                "splits each batch into two disjoint halves, so it needs at least 2 rows."
            )

        def rows(lo, hi):
            return keras.tree.map_structure(lambda a: a[lo:hi], x), y[lo:hi]

        return [rows(0, half), rows(half, 2 * half)]

    def draw(self):
        """The `count` disjoint batches of the next step."""
        if not self.pool:
            host = self.pending.pop() if self.pending else self._pull()
            batch = _tensors(*host)
            return [batch] if self.count == 1 else self.split(batch)
        if self.size is None:
            return [self.first]  # every row, count == 1
        need = self.size * self.count
        if len(self.queue) < need:
            self.queue = self.rng.permutation(self.rows)
        take, self.queue = self.queue[:need], self.queue[need:]
        return [_tensors(*self.first_host, np.sort(take[k * self.size:(k + 1) * self.size]))
                for k in range(self.count)]


def _check_batch_size(batch_size, rows, count):
    if batch_size is None:
        return None
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(
            f"Argument `batch_size` must be a positive integer or None. Received: batch_size={batch_size!r}"
        )
    if batch_size * count > rows:
        raise ValueError(
            f"Argument `batch_size` must be at most {rows // count}: each step draws "
            f"{count} disjoint batch(es) from the {rows} rows given. Received: batch_size={batch_size}"
        )
    return batch_size


def _check_steps(steps):
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"Argument `steps` must be a positive integer. Received: steps={steps!r}")
    return steps


def _check_seed(seed):
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise TypeError(f"Argument `seed` must be an int or None. Received: seed={seed!r}")
    return seed


def _loss_fn(loss):
    if isinstance(loss, str):
        try:
            loss = keras.losses.get(loss)
        except ValueError as err:
            raise ValueError(f"Argument `loss` is not a Keras loss name. Received: loss={loss!r} ({err})") from None
    if not callable(loss):
        raise TypeError(
            "Argument `loss` must be a loss name, a keras.losses.Loss or a callable "
            f"(y_true, y_pred). Received: loss={loss!r}"
        )
    return loss


# ------------------------------------------------------- the model as a function


class _Weights:
    """The model's mean loss as a pure function of its trainable tensors.

    ``scaled(s, params)`` multiplies the tensors chosen by `select` by their
    entries of the scale vector ``s``; the others stay as they are.
    """

    def __init__(self, model, loss, select):
        self.model, self.loss = model, loss
        self.variables = list(model.trainable_variables)
        self.params = [_copy(v) for v in self.variables]
        self.frozen = [_copy(v) for v in model.non_trainable_variables]
        self.floats = [i for i, v in enumerate(self.variables) if "float" in str(v.dtype)]
        self.norms0 = [float(np.linalg.norm(_host(p).astype("float64"))) for p in self.params]
        self.index = [i for i in self.floats if select(self.variables[i])]
        if not self.index:
            raise ValueError(f"Model {model.name!r} has no trainable weight tensor to scale.")

    def scaled(self, s, params):
        values = list(params)
        for j, i in enumerate(self.index):
            values[i] = params[i] * ops.cast(s[j], params[i].dtype)
        return values

    def mean_loss(self, values, frozen, x, y):
        pred, _ = self.model.stateless_call(values, frozen, x, training=False)
        value = ops.mean(self.loss(y, pred))
        # Half-precision losses (mixed policies) lose GQ's small differences.
        return ops.cast(value, "float32") if "16" in str(value.dtype) else value

    def loss_of_floats(self, values, frozen, x, y):
        """``floats -> loss``: the loss as a function of the float tensors only."""

        def f(floats):
            full = list(values)
            for i, t in zip(self.floats, floats):
                full[i] = t
            return self.mean_loss(full, frozen, x, y)

        return f


def _copy(variable):
    """A detached tensor holding the variable's current value."""
    return ops.convert_to_tensor(_host(variable.value))


def _finite(value, what):
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{what} is {value}; every weight was restored.")
    return value


# ------------------------------------------------------------ backend autodiff
# The only backend-specific code of keras_inits' model-level steps: a
# gradient that can itself be differentiated, a Hessian-vector product, and
# a compiler for one optimisation step.


class _TensorFlowAutodiff:
    def __init__(self):
        import tensorflow as tf

        self.tf = tf

    def grad(self, f, xs):
        tf = self.tf
        with tf.GradientTape() as tape:
            tape.watch(xs)
            value = f(xs)
        grads = tape.gradient(value, xs, unconnected_gradients=tf.UnconnectedGradients.ZERO)
        return [tf.convert_to_tensor(g) for g in grads]

    def grad_and_hvp(self, f, xs):
        """``(g, H g)``: H g is the gradient of ``||g||^2 / 2`` (nested tapes)."""
        tf = self.tf
        with tf.GradientTape() as outer:
            outer.watch(xs)
            g = self.grad(f, xs)
            half = 0.5 * tf.add_n([tf.reduce_sum(gi * gi) for gi in g])
        hg = outer.gradient(half, xs, unconnected_gradients=tf.UnconnectedGradients.ZERO)
        return g, [tf.convert_to_tensor(h) for h in hg]

    def value_and_grad(self, f, s):
        with self.tf.GradientTape() as tape:
            tape.watch(s)
            value, aux = f(s)
        return value, aux, tape.gradient(value, s)

    def compile(self, fn):
        return self.tf.function(fn)


class _JaxAutodiff:
    def __init__(self):
        import jax

        self.jax = jax

    def grad(self, f, xs):
        return self.jax.grad(f)(xs)

    def grad_and_hvp(self, f, xs):
        """``(g, H g)`` by forward-over-reverse: one linearization of ``grad f``."""
        g, hvp = self.jax.linearize(self.jax.grad(f), xs)
        return g, hvp(g)

    def value_and_grad(self, f, s):
        (value, aux), ds = self.jax.value_and_grad(f, has_aux=True)(s)
        return value, aux, ds

    def compile(self, fn):
        return self.jax.jit(fn)


class _TorchAutodiff:
    def __init__(self):
        import torch

        self.torch = torch

    def _leaves(self, xs):
        return [x if x.requires_grad else x.detach().requires_grad_(True) for x in xs]

    def _grad(self, value, xs):
        grads = self.torch.autograd.grad(value, xs, create_graph=True, allow_unused=True)
        return [self.torch.zeros_like(x) if g is None else g for x, g in zip(xs, grads)]

    def grad(self, f, xs):
        xs = self._leaves(xs)
        return self._grad(f(xs), xs)

    def grad_and_hvp(self, f, xs):
        """``(g, H g)``: H g is the gradient of ``||g||^2 / 2`` (create_graph)."""
        xs = self._leaves(xs)
        g = self._grad(f(xs), xs)
        return g, self._grad(0.5 * sum((gi * gi).sum() for gi in g), xs)

    def value_and_grad(self, f, s):
        s = s.detach().requires_grad_(True)
        value, aux = f(s)
        (ds,) = self.torch.autograd.grad(value, [s])
        return value.detach(), keras.tree.map_structure(lambda a: a.detach(), aux), ds

    def compile(self, fn):
        return fn


_AUTODIFF = {"tensorflow": _TensorFlowAutodiff, "jax": _JaxAutodiff, "torch": _TorchAutodiff}


def _autodiff(backend=None):
    """The double-backprop tools of `backend` (default: Keras' current one)."""
    backend = backend or keras.backend.backend()
    if backend not in _AUTODIFF:
        raise NotImplementedError(
            f"metainit and gradinit need double backprop (a gradient of a gradient), "
            f"implemented for the {SUPPORTED_BACKENDS} backends; the {backend!r} "
            "backend has no such autodiff. Set KERAS_BACKEND to one of those."
        )
    return _AUTODIFF[backend]()


# ---------------------------------------------------------------- MetaInit


def _quotient(g, hg, eps):
    """GQ = (1/N) sum |(g - Hg) / (g + eps sign(g)) - 1| over all N entries."""
    total, count = 0.0, 0
    for gi, hi in zip(g, hg):
        sign = ops.cast(ops.where(gi >= 0, 1.0, -1.0), gi.dtype)
        total = total + ops.sum(ops.abs((gi - hi) / (gi + eps * sign) - 1.0))
        count += math.prod(gi.shape)
    return total / count


def gradient_quotient(model, data, loss, *, eps: float = 1e-5) -> float:
    """The gradient quotient of `model` at its current weights on one batch.

    ``GQ = (1/N) sum_i |(g_i - (H g)_i) / (g_i + eps sign(g_i)) - 1|`` over
    the N entries of every trainable float tensor, g the gradient of the mean
    loss on the batch and ``H g`` its Hessian-vector product (double
    backprop). GQ is 0 where one gradient step of size 1 would leave the
    gradient unchanged in relative terms (no curvature, no exploding or
    vanishing); large values flag a badly conditioned start.

    Args:
        model: a Keras model (built here from the batch if needed).
        data: an ``(x, y)`` tuple or an iterable of ``(x, y)`` batches.
        loss: a loss name, a ``keras.losses.Loss`` or a callable ``(y, pred)``.
        eps: keeps the quotient finite where g is zero.

    Reference:
        Dauphin & Schoenholz 2019, "MetaInit: initializing learning by
        learning to initialize", eq. (2).
    """
    ad = _autodiff()
    eps = check_number("eps", eps, positive=True)
    xt, yt = _Stream(data).first
    ensure_built(model, xt)
    weights = _Weights(model, _loss_fn(loss), lambda v: True)

    def gq(params, frozen, xb, yb):
        floats = [params[i] for i in weights.floats]
        f = weights.loss_of_floats(params, frozen, xb, yb)
        return _quotient(*ad.grad_and_hvp(f, floats), eps)

    return float(_host(ad.compile(gq)(weights.params, weights.frozen, xt, yt)))


def metainit(
    model,
    data,
    loss,
    *,
    steps: int = 200,
    lr: float = 0.1,
    momentum: float = 0.9,
    eps: float = 1e-5,
    min_scale: float = 0.01,
    batch_size: int | None = None,
    seed: int | None = None,
    verbose: int = 0,
) -> LearnedScalesReport:
    """MetaInit (Dauphin & Schoenholz 2019): learn each kernel's norm so that
    the gradient quotient is small.

    Minimizes ``GQ = (1/N) sum |(g - Hg) / (g + eps sign(g)) - 1|`` (g the
    gradient of the loss, H its Hessian, N the number of entries of every
    trainable tensor) over one norm per weight tensor of rank >= 2, keeping
    each tensor's direction: ``W = s * W0`` with ``s = ||W|| / ||W0||``.
    ``Hg`` is a Hessian-vector product by double backprop, and ``dGQ/ds`` one
    more reverse pass through it. As in the paper's algorithm, the norms are
    updated by signSGD with momentum::

        m <- momentum * m - lr * sign(dGQ / d||W||)
        ||W|| <- max(||W|| + m, min_scale * ||W0||)

    The floor keeps every scale positive (the paper has none). Biases and
    other rank-1 tensors enter GQ but keep their values, as in the paper.

    Args:
        model: a Keras model (built here from the batch if needed).
        data: an ``(x, y)`` tuple of arrays (a pool of rows, `batch_size`
            of them drawn per step) or an iterable of ``(x, y)`` batches (a
            ``tf.data.Dataset``, a list, a generator: the next batch at each
            step, starting over when it runs out, as ``fit`` would). The
            before/after GQ is measured on the first batch (of a tuple: its
            first `batch_size` rows, or all of them).
        loss: a loss name, a ``keras.losses.Loss`` or a callable ``(y, pred)``
            (reduced by its mean).
        steps: signSGD steps (the paper: 200 to 1000).
        lr: step on the norms (the paper: 0.1).
        momentum: the paper: 0.9.
        eps: GQ's guard where g is zero (the paper: 1e-5).
        min_scale: lower bound of ``||W|| / ||W0||``.
        batch_size: with an ``(x, y)`` tuple, rows per step, drawn from a
            seeded permutation renewed every epoch (the paper draws a fresh
            batch per step); None uses every row at every step, which makes
            the run deterministic. Must be None for an iterable `data`.
        seed: the draws of those rows.
        verbose: 0 silent, 1 a Keras progress bar with GQ.

    Returns:
        A :class:`LearnedScalesReport`: one row per rescaled tensor (its norm
        before and after, its scale); ``summary["gq"]`` and ``notes`` hold GQ
        before and after, ``history["gq"]`` GQ at every step.

    Raises:
        NotImplementedError: on a backend without double backprop.
        ValueError: bad arguments or data, a non-finite loss at the start
            (naming it), or a GQ that turns non-finite (naming the step).
            Every weight is left as it was.

    Example:

    >>> cb = ki.InitCallback(lambda m: ki.metainit(m, (x[:128], y[:128]), "sparse_categorical_crossentropy"))
    >>> model.fit(x, y, callbacks=[cb])

    Reference:
        Dauphin & Schoenholz 2019, "MetaInit: initializing learning by
        learning to initialize" (NeurIPS), Algorithm 1.
    """
    ad = _autodiff()
    steps = _check_steps(steps)
    lr = check_number("lr", lr, positive=True)
    momentum = check_number("momentum", momentum, non_negative=True, upper=1.0)
    eps = check_number("eps", eps, positive=True)
    min_scale = check_number("min_scale", min_scale, positive=True, upper=1.0)
    batches = _Stream(data, batch_size=batch_size, count=1, seed=_check_seed(seed))
    first = batches.first
    ensure_built(model, first[0])
    weights = _Weights(model, _loss_fn(loss), lambda v: len(v.shape) >= 2)
    report = LearnedScalesReport("metainit")
    for i in list(weights.index):
        if weights.norms0[i] == 0.0:
            weights.index.remove(i)
            report.skip(weights.variables[i].path, "all zero: a scale cannot change it")
    if not weights.index:
        raise ValueError(f"Model {model.name!r} has no nonzero weight tensor of rank >= 2 to rescale.")

    def gq_and_grad(s, params, frozen, xb, yb):
        def gq_of(s):
            values = weights.scaled(s, params)
            floats = [values[i] for i in weights.floats]
            f = weights.loss_of_floats(values, frozen, xb, yb)
            return _quotient(*ad.grad_and_hvp(f, floats), eps), ()

        gq, _, ds = ad.value_and_grad(gq_of, s)
        return gq, ds

    step_fn = ad.compile(gq_and_grad)
    norms0 = np.array([weights.norms0[i] for i in weights.index])
    scales = np.ones(len(norms0), dtype="float32")
    memory = np.zeros(len(norms0))
    history = []
    progbar = keras.utils.Progbar(steps, stateful_metrics=["gq"]) if verbose else None

    def evaluate(xb, yb):
        gq, ds = step_fn(ops.convert_to_tensor(scales), weights.params, weights.frozen, xb, yb)
        return float(_host(gq)), _host(ds)

    with atomic_weights(model):
        _finite(weights.mean_loss(weights.params, weights.frozen, *first),
                "The loss at the model's current weights on the given batch (check the labels and the loss)")
        before = _finite(evaluate(*first)[0], "metainit: the gradient quotient at the current weights")
        for step in range(steps):
            gq, ds = evaluate(*batches.draw()[0])
            _finite(gq, f"metainit: the gradient quotient at step {step}")
            if not np.all(np.isfinite(ds)):
                raise ValueError(f"metainit: the gradient of GQ is not finite at step {step}; "
                                 "every weight was restored.")
            history.append(gq)
            memory = momentum * memory - lr * np.sign(ds)
            norms = np.maximum(norms0 * scales + memory, min_scale * norms0)
            scales = (norms / norms0).astype("float32")
            if progbar is not None:
                progbar.update(step + 1, [("gq", gq)])
        after = _finite(evaluate(*first)[0], "metainit: the final gradient quotient")
        _apply(weights, scales, report, steps)
    report.history["gq"] = history
    report.summary["gq"] = (before, after)
    report.notes.append(
        f"GQ before {before:.4g}, after {after:.4g} ({steps} signSGD steps, lr {lr:g}, momentum {momentum:g})"
    )
    return report


def _apply(weights, scales, report, steps):
    """Assign ``scale * W0`` to every scaled variable and add its report row."""
    for j, i in enumerate(weights.index):
        var, norm0, scale = weights.variables[i], weights.norms0[i], float(scales[j])
        var.assign(ops.cast(weights.params[i] * scale, var.dtype))
        report.add(var.path, "rescale", stat="norm", before=norm0, after=norm0 * scale,
                   scale=scale, iterations=steps)


def _is_bias(variable):
    """Biases and norm betas: GradInit's reference lets their scale reach 0."""
    name = variable.name.rsplit("/", 1)[-1]
    return "bias" in name or name == "beta"


# ---------------------------------------------------------------- GradInit


def gradinit(
    model,
    data,
    loss,
    *,
    steps: int = 200,
    lr: float = 0.01,
    optimizer: str = "sgd",
    eta: float | None = None,
    gamma: float | None = None,
    min_scale: float = 0.01,
    batch_size: int | None = None,
    seed: int | None = None,
    verbose: int = 0,
) -> LearnedScalesReport:
    """GradInit (Zhu et al. 2021): one scale per tensor so that one optimizer
    step most reduces the loss, under a gradient-norm bound.

    Every trainable tensor (kernels, biases, norm gammas; all-zero ones
    cannot be scaled and are skipped) becomes ``alpha * W0``. Each step
    takes two disjoint batches S and S~ and, with
    ``g = grad L(S; alpha * W0)``:

    - if ``||g||_p > gamma``: a step on alpha that lowers ``||g||_p`` (a
      gradient of a gradient: double backprop);
    - else a step that lowers ``L(S~; alpha * W0 - eta * A[g]) / eta``,

    where ``A[g] = g / ||g||_2`` and p = 2 for ``optimizer="sgd"`` (the
    authors' normalized-gradient setting), ``A[g] = sign(g)`` and p = 1 for
    ``"adam"`` (Adam's first step). As in the authors' code, the simulated
    step ``A[g]`` is held constant when differentiating the objective (for
    ``sign`` its derivative is 0 anyway). The scales follow Adam (learning
    rate `lr`, betas 0.9/0.999, separate moments for the two kinds of step,
    each scale's gradient clipped to [-1, 1]); ``alpha >= min_scale`` for
    every tensor but biases and norm betas, whose floor is 0 (as in the
    authors' code).

    Defaults are the paper's CIFAR-10 settings without normalization layers:
    eta 0.1, gamma 1 (sgd), min scale 0.01, scale lr 1e-2 (VGG-19 without BN),
    gradient clip 1. For ``"adam"`` the authors' transformer run used
    eta 1e-3 and no gradient-norm bound: those are the defaults there
    (``eta=None``, ``gamma=None``). The paper runs one epoch of the training
    set (390 steps on CIFAR-10); `steps` defaults to 200.

    Args:
        model, loss: as in :func:`metainit`.
        data: as in :func:`metainit`; an iterable's batches are each split
            into S (first half) and S~ (second half).
        steps: scale updates.
        lr: Adam learning rate of the scales.
        optimizer: the training optimizer whose first step is simulated,
            ``"sgd"`` or ``"adam"``.
        eta: the simulated step size (None: 0.1 for sgd, 1e-3 for adam).
        gamma: the gradient-norm bound (None: 1.0 for sgd, none for adam).
        min_scale: lower bound of every scale but the biases' (the paper: 0.01).
        batch_size: with an ``(x, y)`` tuple, rows of each of S and S~
            (None: half the rows given each); None for an iterable.
        seed: the draws of those batches.
        verbose: 0 silent, 1 a Keras progress bar.

    Returns:
        A :class:`LearnedScalesReport`: one row per scaled tensor (norm
        before/after, scale); ``summary`` and ``notes`` hold the gradient
        norm on S and the loss after one simulated step on S~ of the first
        batch (of a tuple: its first ``2 * batch_size`` rows), before and after;
        ``history`` both per step (``objective`` is None on constrained steps).

    Raises:
        NotImplementedError, ValueError: as :func:`metainit`.

    Reference:
        Zhu, Ni, Xu, Kong, Huang & Goldstein 2021, "GradInit: learning to
        initialize neural networks for stable and efficient training"
        (NeurIPS), Algorithm 1; github.com/zhuchen03/gradinit.
    """
    ad = _autodiff()
    steps = _check_steps(steps)
    optimizer = check_choice("optimizer", optimizer, ("sgd", "adam"))
    adam = optimizer == "adam"
    lr = check_number("lr", lr, positive=True)
    eta = check_number("eta", (1e-3 if adam else 0.1) if eta is None else eta, positive=True)
    if gamma is None:
        gamma = math.inf if adam else 1.0
    elif gamma != math.inf:
        gamma = check_number("gamma", gamma, positive=True)
    min_scale = check_number("min_scale", min_scale, positive=True, upper=1.0)
    batches = _Stream(data, batch_size=batch_size, count=2, seed=_check_seed(seed))
    if batches.pool and batches.rows < 2:
        raise ValueError(
            f"Argument `data` must have at least 2 rows (gradinit draws two disjoint "
            f"batches). Received: {batches.rows} row(s)"
        )
    first, second = batches.split(batches.first)
    ensure_built(model, first[0])
    weights = _Weights(model, _loss_fn(loss), lambda v: True)
    report = LearnedScalesReport("gradinit")
    for i in list(weights.index):
        if weights.norms0[i] == 0.0:
            weights.index.remove(i)
            report.skip(weights.variables[i].path, "all zero: a scale cannot change it")
    if not weights.index:
        raise ValueError(f"Model {model.name!r} has no nonzero trainable tensor to scale.")
    floors = np.array([0.0 if _is_bias(weights.variables[i]) else min_scale for i in weights.index])

    def grads(s, params, frozen, xb, yb):
        values = weights.scaled(s, params)
        floats = [values[i] for i in weights.floats]
        f = weights.loss_of_floats(values, frozen, xb, yb)
        return values, floats, ad.grad(f, floats)

    def norm_of(g):
        if adam:
            return sum(ops.sum(ops.abs(gi)) for gi in g)
        return ops.sqrt(sum(ops.sum(gi * gi) for gi in g))

    def constraint_step(s, params, frozen, xa, ya):
        def objective(s):
            return norm_of(grads(s, params, frozen, xa, ya)[2]), ()

        value, _, ds = ad.value_and_grad(objective, s)
        return value, ds

    def objective_step(s, params, frozen, xa, ya, xb, yb):
        """``(L(S~; moved) / eta, ||g||_p, d/ds)``: the norm comes free as aux."""

        def objective(s):
            values, floats, g = grads(s, params, frozen, xa, ya)
            if adam:
                direction = [ops.sign(gi) for gi in g]
            else:
                norm = ops.sqrt(sum(ops.sum(gi * gi) for gi in g)) + 1e-12
                direction = [gi / norm for gi in g]
            moved = [w - eta * ops.stop_gradient(d) for w, d in zip(floats, direction)]
            value = weights.loss_of_floats(values, frozen, xb, yb)(moved) / eta
            return value, ops.stop_gradient(norm_of(g))

        return ad.value_and_grad(objective, s)

    objective_fn = ad.compile(objective_step)
    constraint_fn = ad.compile(constraint_step)  # traced on its first use only
    state = (weights.params, weights.frozen)
    scales = np.ones(len(weights.index), dtype="float32")
    adam_state = {True: [np.zeros(len(scales)), np.zeros(len(scales)), 0],
                  False: [np.zeros(len(scales)), np.zeros(len(scales)), 0]}
    history = {"grad_norm": [], "objective": []}
    progbar = keras.utils.Progbar(steps, stateful_metrics=["grad_norm"]) if verbose else None

    def measure():
        """(||g||_p on the first half, loss after the simulated step on the second)."""
        value, norm, _ = objective_fn(ops.convert_to_tensor(scales), *state, *first, *second)
        return float(_host(norm)), float(_host(value)) * eta

    with atomic_weights(model):
        _finite(weights.mean_loss(weights.params, weights.frozen, *first),
                "The loss at the model's current weights on the given batch (check the labels and the loss)")
        norm_before, loss_before = measure()
        constrained_steps = 0
        for step in range(steps):
            (xa, ya), (xb, yb) = batches.draw()
            s = ops.convert_to_tensor(scales)
            value, norm, ds = objective_fn(s, *state, xa, ya, xb, yb)
            norm = _finite(_host(norm), f"gradinit: the gradient norm at step {step}")
            constrained = norm > gamma
            if constrained:
                value, ds = constraint_fn(s, *state, xa, ya)
                constrained_steps += 1
            value = _finite(_host(value), f"gradinit: the {'gradient norm' if constrained else 'objective'} "
                            f"at step {step}")
            ds = _host(ds).astype("float64")
            if not np.all(np.isfinite(ds)):
                raise ValueError(f"gradinit: the gradient of the scales is not finite at step {step}; "
                                 "every weight was restored.")
            ds = np.clip(ds, -_GRAD_CLIP, _GRAD_CLIP)
            m, v, t = adam_state[constrained]
            t += 1
            m = _BETA1 * m + (1 - _BETA1) * ds
            v = _BETA2 * v + (1 - _BETA2) * ds * ds
            adam_state[constrained] = [m, v, t]
            update = lr / (1 - _BETA1**t) * m / (np.sqrt(v / (1 - _BETA2**t)) + _ADAM_EPS)
            scales = np.maximum(scales - update, floors).astype("float32")
            history["grad_norm"].append(norm)
            history["objective"].append(None if constrained else value)
            if progbar is not None:
                progbar.update(step + 1, [("grad_norm", norm)])
        norm_after, loss_after = measure()
        _finite(loss_after, "gradinit: the final one-step loss")
        _apply(weights, scales, report, steps)
    report.history.update(history)
    report.summary.update(grad_norm=(norm_before, norm_after), one_step_loss=(loss_before, loss_after))
    p = 1 if adam else 2
    report.notes.append(
        f"gradient norm (L{p}) before {norm_before:.4g}, after {norm_after:.4g}; loss after one "
        f"{optimizer} step of {eta:g} before {loss_before:.4g}, after {loss_after:.4g} "
        f"({steps} steps, {constrained_steps} of them on the gradient norm, above gamma={gamma:g})"
    )
    return report
