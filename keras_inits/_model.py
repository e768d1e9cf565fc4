"""What every model-level step shares: one batch of data, atomic weight
changes, per-variable seeds, and building an unbuilt model."""

from __future__ import annotations

import contextlib
import zlib

import keras
import numpy as np
from keras import ops


def _is_array(x) -> bool:
    return isinstance(x, np.ndarray) or ops.is_tensor(x)


def _take(x, batch_size):
    return x if batch_size is None else x[:batch_size]


def first_batch(data, batch_size=None, *, name="data"):
    """One batch of inputs from `data`, validated.

    `data` may be a numpy array, a backend tensor, a dict of them (multi-input
    by name), a list of them (multi-input by position), a ``tf.data.Dataset``
    or any iterable of batches. A batch that is a tuple ``(x, y[, w])`` (what
    ``model.fit`` takes) gives its ``x``. `batch_size` keeps the first rows.

    Raises:
        TypeError: `data` is none of the above.
        ValueError: the batch is empty or holds NaN/inf (naming which input).
    """
    if batch_size is not None and (
        isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1
    ):
        raise ValueError(
            f"Argument `batch_size` must be a positive integer or None. "
            f"Received: batch_size={batch_size!r}"
        )
    if isinstance(data, tuple) and data and not isinstance(data[0], (int, float)):
        data = data[0]
    if _is_array(data):
        x = _take(data, batch_size)
    elif isinstance(data, dict):
        x = {k: _take(v, batch_size) for k, v in data.items()}
    elif isinstance(data, list) and data and all(_is_array(v) for v in data):
        x = [_take(v, batch_size) for v in data]
    elif hasattr(data, "__iter__") and not isinstance(data, (str, bytes)):
        try:
            batch = next(iter(data))
        except StopIteration:
            raise ValueError(f"Argument `{name}` yielded no batch (it is empty).") from None
        return first_batch(batch, batch_size, name=name)
    else:
        raise TypeError(
            f"Argument `{name}` must be an array, a tensor, a dict or list of them, "
            f"a tf.data.Dataset or an iterable of batches. Received: "
            f"{name} of type {type(data).__name__}"
        )
    for key, value in _named(x):
        arr = ops.convert_to_numpy(value)
        if arr.ndim == 0 or arr.shape[0] == 0:
            raise ValueError(
                f"Argument `{name}`{key} is an empty batch (shape {arr.shape})."
            )
        if np.issubdtype(arr.dtype, np.floating) and not np.all(np.isfinite(arr)):
            raise ValueError(
                f"Argument `{name}`{key} holds {int(np.sum(~np.isfinite(arr)))} "
                "NaN or inf values; initialization needs finite data."
            )
    if all(_constant(ops.convert_to_numpy(v)) for _, v in _named(x)):
        raise ValueError(
            f"Argument `{name}` is constant: every sample of the batch is identical, "
            "so no statistic of the data can calibrate a layer. Pass a batch of at "
            "least 2 distinct samples."
        )
    return x


def _constant(arr) -> bool:
    return arr.shape[0] < 2 or bool(np.all(arr == arr[:1]))


def _named(x):
    if isinstance(x, dict):
        return [(f"[{k!r}]", v) for k, v in x.items()]
    if isinstance(x, list):
        return [(f"[{i}]", v) for i, v in enumerate(x)]
    return [("", x)]


def ensure_built(model, x=None):
    """Build `model` from the batch `x` if it is not built yet."""
    if not isinstance(model, keras.Model):
        raise TypeError(
            f"Argument `model` must be a keras.Model. Received: model of type "
            f"{type(model).__name__}"
        )
    if model.built and model.weights:
        return model
    if x is None:
        raise ValueError(
            f"Model {model.name!r} is not built. Build it (call it on a batch, or "
            "give it an Input) or pass data so it can be built."
        )
    model(x)
    return model


@contextlib.contextmanager
def atomic_weights(model, report=None):
    """Restore every weight of `model` bitwise if the block raises.

    Also refuses to finish with a NaN/inf weight: the block's end checks
    every variable and, if one is not finite, restores all and raises.
    When the block succeeds, the saved copies of derived weights (keras_hub's
    DINOv2/SAM3 position tables, ``structure.roles.sync_derived``) are set
    from the weights the block changed; `report` gets a note for each.
    """
    saved = [(v, ops.convert_to_numpy(v)) for v in model.weights]
    try:
        yield
        changed = {id(v) for v, value in saved
                   if not np.array_equal(ops.convert_to_numpy(v), value)}
        if changed:
            from keras_inits.structure.roles import sync_derived

            notes = sync_derived(model, changed)
            if report is not None:
                report.notes.extend(notes)
        for v, _ in saved:
            if "float" in str(v.dtype) and not np.all(np.isfinite(ops.convert_to_numpy(v))):
                raise ValueError(
                    f"Variable {v.path!r} became NaN or inf; every weight was restored."
                )
    except BaseException:
        for v, value in saved:
            v.assign(value)
        raise


def seed_for(model, seed):
    """``variable -> int seed | None``: a distinct, stable seed per variable.

    The key is the variable's position in ``model.weights`` and its name, so
    two models of the same architecture get the same seeds whatever Keras
    auto-named their layers.
    """
    keys = {id(v): f"{i}/{v.name}" for i, v in enumerate(model.weights)}

    def of(variable):
        return variable_seed(seed, keys.get(id(variable), variable.path))

    return of


def variable_seed(seed, key: str) -> int | None:
    """A distinct, stable int seed for the variable `key` from a base `seed`.

    ``None`` stays ``None`` (Keras draws a fresh seed), so unseeded use keeps
    Keras' semantics while still giving distinct values per variable, because
    each variable gets its own initializer instance.
    """
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"Argument `seed` must be an int or None. Received: seed={seed!r}")
    return zlib.crc32(f"{seed}:{key}".encode()) & 0x7FFFFFFF


def check_model_seed(seed):
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise TypeError(f"Argument `seed` must be an int or None. Received: seed={seed!r}")
    return seed


def scalar(x) -> float:
    """A backend scalar as a Python float, detached from any autodiff graph."""
    return float(np.asarray(ops.convert_to_numpy(x)))
