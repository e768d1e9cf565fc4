"""Layer-aware re-initialization with each layer type's true fans.

Keras computes fans from a kernel's shape with the conv convention, which is
wrong for depthwise and separable kernels (fan_in counted x channels),
transposed convolutions (in/out swapped), stacked recurrent gates and (for
wrappers) einsum kernels. :func:`reinitialize` draws every weight again with
:func:`keras_inits.fans.layer_fans`, per gate block for recurrent layers.
"""

from __future__ import annotations

import math

import keras
from keras import ops

from keras_inits import graph
from keras_inits._model import atomic_weights, check_model_seed, scalar, seed_for
from keras_inits.fans import gate_count, layer_fans, rnn_cell
from keras_inits.initializers._base import resolve_initializer
from keras_inits.report import InitReport

_TRUNCATED_STD = 0.87962566103423978


def _scheme_name(init):
    return getattr(type(init), "__name__", str(init))


def draw(init, shape, fans, seed, dtype):
    """Values of `init` for `shape`, using `fans` if it is fan-based.

    A ``VarianceScaling`` (Keras' He/Glorot/Lecun, keras_inits'
    Kaiming/Xavier) is sampled here with ``std = sqrt(scale / fan)`` from
    the given fans and its own mode and distribution; ``Scaled`` multiplies
    its base's draw. Any other initializer is called on `shape` with its
    seed replaced by `seed`.
    """
    from keras_inits.initializers.composite import Scaled

    if isinstance(init, Scaled):
        return draw(init.base, shape, fans, seed, dtype) * init.factor
    if isinstance(init, keras.initializers.VarianceScaling):
        fan_in, fan_out = fans
        fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[init.mode]
        std = math.sqrt(init.scale / max(1.0, fan))
        if init.distribution == "uniform":
            limit = math.sqrt(3.0) * std
            values = keras.random.uniform(shape, -limit, limit, dtype="float32", seed=seed)
        elif init.distribution == "untruncated_normal":
            values = keras.random.normal(shape, stddev=std, dtype="float32", seed=seed)
        else:
            values = keras.random.truncated_normal(
                shape, stddev=std / _TRUNCATED_STD, dtype="float32", seed=seed
            )
        return ops.cast(values, dtype)
    if hasattr(init, "seed") and seed is not None:
        config = {**init.get_config(), "seed": seed}
        init = type(init).from_config(config)
    return ops.cast(init(shape, dtype="float32"), dtype)


def _std(variable) -> float:
    return scalar(ops.std(ops.cast(variable, "float32")))


def _per_gate(init, variable, layer, seed, gates):
    """Draw each of the `gates` blocks along the last axis on its own."""
    rows, cols = variable.shape
    units = cols // gates
    fans = layer_fans(layer, variable)
    blocks = [
        draw(init, (rows, units), fans, None if seed is None else seed + g, "float32")
        for g in range(gates)
    ]
    return ops.cast(ops.concatenate(blocks, axis=-1), variable.dtype)


_NORM_VALUES = {"gamma": 1.0, "beta": 0.0, "moving_mean": 0.0, "moving_variance": 1.0}


def _owners(model, layers):
    """Every (layer, variable) pair to re-initialize, each variable once."""
    owners, seen = [], []
    pool = graph.all_layers(model)
    if layers is not None:
        names = {item for item in layers if isinstance(item, str)}
        objs = [item for item in layers if isinstance(item, keras.layers.Layer)]
        found = [layer for layer in pool if layer.name in names or graph._contains(objs, layer)]
        missing = names - {layer.name for layer in found}
        if missing or len(found) < len(names) + len(objs):
            raise ValueError(
                f"Argument `layers` must name layers of model {model.name!r}. "
                f"Received: layers={layers!r} (not found: {sorted(missing) or 'an object'})"
            )
        pool = found
    for top in pool:
        for layer in graph.sublayers(top):
            own = [v for v in layer._trainable_variables + layer._non_trainable_variables]
            for v in own:
                if not graph._contains(seen, v):
                    seen.append(v)
                    owners.append((layer, v))
    return owners


def reinitialize(
    model,
    kernel="kaiming_normal",
    recurrent="orthogonal",
    bias="zeros",
    seed: int | None = None,
    layers=None,
) -> InitReport:
    """Re-initialize every weight-bearing layer with each layer type's true fans.

    - kernels (Dense, Conv*, Conv*Transpose, depthwise and separable kernels,
      EinsumDense and MultiHeadAttention projections, RNN input kernels per
      gate, Embedding tables): `kernel`, with the fans of
      :func:`keras_inits.fans.layer_fans`;
    - recurrent kernels: `recurrent`, drawn per gate block, so with
      ``"orthogonal"`` each ``(units, units)`` gate block is orthogonal (not
      the stacked matrix);
    - biases: `bias`;
    - normalization layers: gamma 1, beta 0, moving mean 0, moving variance 1.

    Every variable gets its own seed (from `seed` and its position in the
    model), so no two layers get identical kernels. Weights of other layers
    (e.g. ``ResidualScale``) are left alone and listed in ``report.skipped``.

    Args:
        model: a built Keras model.
        kernel, recurrent, bias: initializers, names or configs.
        seed: base seed (None: Keras' unseeded semantics, still distinct).
        layers: restrict to these layers (objects or names).

    Returns:
        An :class:`InitReport`: per variable the scheme, std before/after and
        the fans used.
    """
    check_model_seed(seed)
    inits = {
        "kernel": resolve_initializer(kernel, "kernel"),
        "recurrent": resolve_initializer(recurrent, "recurrent"),
        "bias": resolve_initializer(bias, "bias"),
    }
    if not model.built:
        raise ValueError(f"Model {model.name!r} is not built: build it (or call it) first.")
    seed_of = seed_for(model, 0 if seed is None else seed)
    report = InitReport("reinitialize")
    with atomic_weights(model):
        for layer, variable in _owners(model, layers):
            _reinit_variable(report, layer, variable, inits, seed_of if seed is not None else None)
    return report


def _role(layer, variable):
    name = variable.name
    cell = rnn_cell(layer)
    if cell is not None and variable is cell.recurrent_kernel:
        return "recurrent"
    if name in ("kernel", "depthwise_kernel", "pointwise_kernel", "embeddings"):
        return "kernel"
    if name == "bias":
        return "bias"
    if isinstance(layer, graph.NORM_TYPES) and name in _NORM_VALUES:
        return "norm"
    return None


def _reinit_variable(report, layer, variable, inits, seed_of):
    role = _role(layer, variable)
    if role is None:
        report.skip(variable.path, f"{type(layer).__name__}.{variable.name}: no rule")
        return
    before = _std(variable)
    seed = None if seed_of is None else seed_of(variable)
    note = ""
    if role == "norm":
        values = ops.full(variable.shape, _NORM_VALUES[variable.name], dtype=variable.dtype)
        action = f"{variable.name} = {_NORM_VALUES[variable.name]:g}"
    elif role == "bias":
        init = inits["bias"]
        values = draw(init, tuple(variable.shape), (variable.shape[-1],) * 2, seed, variable.dtype)
        action = f"bias: {_scheme_name(init)}"
    else:
        init = inits[role]
        cell = rnn_cell(layer)
        if cell is not None:
            values = _per_gate(init, variable, cell, seed, gate_count(cell))
            note = f"per gate x{gate_count(cell)}, fans {layer_fans(cell, variable)}"
        else:
            fans = layer_fans(layer, variable)
            values = draw(init, tuple(variable.shape), fans, seed, variable.dtype)
            note = f"fans {fans}"
        action = f"{variable.name}: {_scheme_name(init)}"
    variable.assign(values)
    report.add(variable.path, action, before=before, after=_std(variable), stat="std", note=note)
