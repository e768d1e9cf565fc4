"""Layer-aware re-initialization with each layer type's true fans.

Keras computes fans from a kernel's shape, which is wrong for depthwise and
separable kernels (fan_in counted ``in`` times), transposed convolutions (in
and out swapped), stacked recurrent gates (fan_out counted ``G`` times) and,
for anything but a ``VarianceScaling`` initializer, einsum kernels.
:func:`reinitialize` draws every weight again with the fans of
:func:`keras_inits.fans.layer_fans`, per gate block for recurrent layers.
"""

from __future__ import annotations

import math
import random

import keras
import numpy as np
from keras import ops

from keras_inits import graph
from keras_inits._host import draw as _draw
from keras_inits._host import to_host as _host
from keras_inits._model import (
    atomic_weights,
    check_model_seed,
    seed_for,
    variable_seed,
)
from keras_inits.fans import compute_fans, gate_count, layer_fans, rnn_cell
from keras_inits.initializers._base import resolve_initializer
from keras_inits.report import InitReport

_TRUNCATED_STD = 0.87962566103423978  # std of N(0, 1) truncated at +-2, as in Keras

# Layers whose `bias` is a plain per-output-unit vector.
_BIASED = (
    keras.layers.Dense,
    keras.layers.EinsumDense,
    keras.layers.Conv1D,
    keras.layers.Conv2D,
    keras.layers.Conv3D,
    keras.layers.Conv1DTranspose,
    keras.layers.Conv2DTranspose,
    keras.layers.Conv3DTranspose,
    keras.layers.DepthwiseConv1D,
    keras.layers.DepthwiseConv2D,
    keras.layers.SeparableConv1D,
    keras.layers.SeparableConv2D,
)

# Normalization weights and their fresh values (RMSNormalization's `scale`).
_NORM_VALUES = (
    ("gamma", 1.0),
    ("beta", 0.0),
    ("moving_mean", 0.0),
    ("moving_variance", 1.0),
    ("scale", 1.0),
)


def uses_fans(init) -> bool:
    """True if `init` is fan-based: :func:`sample` then uses the given fans."""
    from keras_inits.initializers.composite import Scaled

    if isinstance(init, Scaled):
        return uses_fans(init.base)
    return isinstance(init, keras.initializers.VarianceScaling) and init.distribution in (
        "uniform",
        "untruncated_normal",
        "truncated_normal",
    )


def _constant_value(init):
    """The value of a constant initializer (Zeros, Ones, scalar Constant), else None."""
    if type(init) is keras.initializers.Zeros:
        return 0.0
    if type(init) is keras.initializers.Ones:
        return 1.0
    if type(init) is keras.initializers.Constant and np.ndim(init.value) == 0:
        return init.value
    return None


def sample(init, shape, fans, seed):
    """float32 values of `init` for `shape`, with `fans` if it is fan-based.

    A fan-based initializer (a ``keras.initializers.VarianceScaling``:
    Keras' He/Glorot/Lecun, keras_inits' Kaiming/Xavier, or ``Scaled`` around
    one) is sampled here from its own ``scale``, ``mode`` and
    ``distribution`` with the given fans::

        n = fan_in | fan_out | (fan_in + fan_out) / 2     (by mode)
        std = sqrt(scale / max(1, n))
        normal: N(0, std); truncated_normal: N(0, std / 0.8796) cut at 2 sigma;
        uniform: U(-sqrt(3) std, sqrt(3) std)

    Any other initializer is called on `shape`, with every ``seed`` in its
    config replaced by `seed`, so one instance never gives two variables the
    same values (constant ones, ``zeros``, ``ones`` and a scalar
    ``Constant``, are filled on the host: no backend op per shape).

    Args:
        init: a resolved ``keras.initializers.Initializer``.
        shape: the shape to draw.
        fans: ``(fan_in, fan_out)`` to use if `init` is fan-based.
        seed: an int seed.

    Returns:
        A float32 numpy array of `shape`.
    """
    from keras_inits.initializers.composite import Scaled

    if isinstance(init, Scaled):
        return sample(init.base, shape, fans, seed) * np.float32(float(init.factor))
    elif uses_fans(init):
        fan_in, fan_out = fans
        fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}
        std = math.sqrt(init.scale / max(1.0, fan[init.mode]))
        if init.distribution == "uniform":
            limit = math.sqrt(3.0) * std
            return _draw(keras.random.uniform, shape, seed, minval=-limit, maxval=limit)
        elif init.distribution == "untruncated_normal":
            return _draw(keras.random.normal, shape, seed, stddev=std)
        else:
            return _draw(
                keras.random.truncated_normal, shape, seed, stddev=std / _TRUNCATED_STD
            )
    value = _constant_value(init)
    if value is not None:
        return np.full(shape, value, dtype=np.float32)
    return _host(_reseeded(init, seed)(shape, dtype="float32"))


def _with_seed(config, seed):
    if isinstance(config, dict):
        return {k: seed if k == "seed" else _with_seed(v, seed) for k, v in config.items()}
    elif isinstance(config, list):
        return [_with_seed(v, seed) for v in config]
    else:
        return config


def _reseeded(init, seed):
    """`init` rebuilt with `seed` wherever its (nested) config has a seed."""
    config = init.get_config()
    reseeded = _with_seed(config, seed)
    return init if reseeded == config else type(init).from_config(reseeded)


def _scheme(init) -> str:
    return type(init).__name__


def _std(values) -> float:
    """Std of a variable's (numpy) values, computed on the host: a backend op
    here would compile once per shape on JAX."""
    return float(np.std(values, dtype=np.float64))


def _rule(layer, variable):
    """``(role, detail)`` for `variable` of `layer`; role None means no rule.

    Roles: ``"kernel"``, ``"recurrent"``, ``"bias"``, ``"norm"`` (detail: the
    value). For role None, detail is the reason.
    """
    if "float" not in str(variable.dtype):
        return None, f"not a float weight ({variable.dtype})"
    cell = rnn_cell(layer)
    if cell is not None:
        if variable is cell.kernel:
            return "kernel", None
        elif variable is cell.recurrent_kernel:
            return "recurrent", None
        elif variable is getattr(cell, "bias", None):
            return "bias", None
        else:
            return None, f"{type(cell).__name__}.{variable.name} has no rule"
    elif isinstance(layer, graph.NORM_TYPES):
        for attr, value in _NORM_VALUES:
            if getattr(layer, attr, None) is variable:
                return "norm", value
        return None, f"{type(layer).__name__}.{variable.name} has no rule"
    elif isinstance(layer, _BIASED) and variable is getattr(layer, "bias", None):
        return "bias", None
    else:
        try:
            layer_fans(layer, variable)
        except ValueError as err:
            return None, str(err)
        return "kernel", None


def _is_statistic(layer, variable) -> bool:
    """A norm's moving statistic: non-trainable by design, reset with the norm."""
    return (isinstance(layer, graph.NORM_TYPES) and layer.trainable
            and variable.name.startswith("moving_"))


def _rule_from_roles(model, variable, structure, reason):
    """``(role, detail)`` from the model's transformer roles for a weight the
    layer-type rules do not know (keras_hub's own norm classes, an untied
    ``reverse_embeddings`` head, position tables, class tokens)."""
    if not structure:
        from keras_inits.transformer import detect_roles

        structure.append({id(r.variable): r for r in detect_roles(model)[0]})
    r = structure[0].get(id(variable))
    if r is None:
        return None, reason
    shape = tuple(variable.shape)
    if r.role == "norm":
        return "norm", 1.0 if r.weight == "gamma" else 0.0
    if r.weight == "bias":
        return "bias", None
    if r.role in ("embedding", "position"):
        return "kernel_fans", (1, shape[-1])  # a lookup row, as for Embedding
    if len(shape) == 2:  # a head or projection held as a bare variable: (in, out)
        return "kernel_fans", shape
    return None, reason


def _blocks(init, shape, fans, seed, gates):
    """`gates` blocks along the last axis, each drawn on its own."""
    block = (*shape[:-1], shape[-1] // gates)
    return np.concatenate(
        [sample(init, block, fans, variable_seed(seed, f"gate{g}")) for g in range(gates)],
        axis=-1,
    )


def _fan_note(init, fans):
    return f"fans {fans}" if uses_fans(init) else "no fans (called on the shape)"


def _new_values(layer, variable, role, detail, inits, seed):
    """``(float32 numpy values, action, note)`` for one variable."""
    shape = tuple(variable.shape)
    if role == "norm":
        return np.full(shape, detail, dtype=np.float32), f"{variable.name} = {detail:g}", ""
    elif role == "bias":
        init = inits["bias"]
        cell = rnn_cell(layer)
        if isinstance(cell, keras.layers.LSTMCell) and cell.unit_forget_bias:
            # Keras' own rule (Jozefowicz et al. 2015): the forget block starts at 1.
            u = cell.units
            parts = [
                sample(init, (u,), (u, u), variable_seed(seed, "i")),
                np.ones((u,), dtype=np.float32),
                sample(init, (2 * u,), (2 * u, 2 * u), variable_seed(seed, "co")),
            ]
            return np.concatenate(parts), f"bias: {_scheme(init)}", "forget gate 1 (unit_forget_bias)"
        return sample(init, shape, compute_fans(shape), seed), f"bias: {_scheme(init)}", ""
    elif role == "kernel_fans":  # fans from the variable's transformer role
        init = inits["kernel"]
        return (sample(init, shape, tuple(detail), seed), f"{variable.name}: {_scheme(init)}",
                _fan_note(init, tuple(detail)) + " (from its role)")
    elif role in ("kernel", "recurrent"):
        init = inits[role]
        fans = layer_fans(layer, variable)
        action = f"{variable.name}: {_scheme(init)}"
        cell = rnn_cell(layer)
        if cell is not None:
            gates = gate_count(cell)
            values = _blocks(init, shape, fans, seed, gates)
            return values, action, f"per gate x{gates}, " + _fan_note(init, fans)
        return sample(init, shape, fans, seed), action, _fan_note(init, fans)
    else:
        raise ValueError(f"Unknown role {role!r} for variable {variable.path!r}.")


def _check_layers(layers):
    if isinstance(layers, (str, keras.layers.Layer)):
        layers = [layers]
    if not isinstance(layers, (list, tuple)) or not all(
        isinstance(item, (str, keras.layers.Layer)) for item in layers
    ):
        raise TypeError(
            "Argument `layers` must be None or a list of layers or layer names. "
            f"Received: layers={layers!r}"
        )
    return layers


def _selected(model, tops, layers):
    """Ids of the layers to touch: those given and everything they track."""
    layers = _check_layers(layers)
    names = {item for item in layers if isinstance(item, str)}
    objects = [item for item in layers if not isinstance(item, str)]
    chosen, found_names, found_ids = set(), set(), set()
    for top in tops:
        for sub in graph.sublayers(top):
            hit = any(o is sub for o in objects)
            if sub.name in names or hit:
                found_names.add(sub.name)
                if hit:
                    found_ids.add(id(sub))
                chosen.update(id(s) for s in graph.sublayers(sub))
    missing = sorted(names - found_names) + [
        o.name for o in objects if id(o) not in found_ids
    ]
    if missing:
        raise ValueError(
            f"Argument `layers` must name layers of model {model.name!r}. "
            f"Received: layers={layers!r} (not found: {missing})"
        )
    return chosen


def _targets(model, layers):
    """``(pairs, owner)``: each (layer, variable) to visit, each variable once,
    attributed to the innermost layer holding it (an LSTM's variables to its
    cell, an attention layer's to its EinsumDense projections)."""
    tops = graph.all_layers(model)
    owner = {}
    for top in tops:
        for sub in reversed(graph.sublayers(top)):  # innermost layers first
            for v in sub.weights:
                owner.setdefault(id(v), sub)
    chosen = None if layers is None else _selected(model, tops, layers)
    pairs, done = [], set()
    for top in tops:
        for sub in graph.sublayers(top):
            if chosen is not None and id(sub) not in chosen:
                continue
            for v in sub.weights:
                if owner[id(v)] is sub and id(v) not in done:
                    done.add(id(v))
                    pairs.append((sub, v))
    return pairs, owner


def reinitialize(
    model,
    kernel="kaiming_normal",
    recurrent="orthogonal",
    bias="zeros",
    seed: int | None = None,
    layers=None,
) -> InitReport:
    """Re-initialize every weight-bearing layer with each layer type's true fans.

    - Kernels (Dense, Conv*, Conv*Transpose, depthwise and separable kernels,
      EinsumDense and MultiHeadAttention projections, Embedding tables, RNN
      input kernels): `kernel`. A fan-based scheme (any
      ``VarianceScaling``: ``"kaiming_normal"``, ``"he_normal"``,
      ``"glorot_uniform"``, ``"xavier_normal"``, ...) uses the fans of
      :func:`keras_inits.fans.layer_fans`, e.g. Kaiming normal draws
      ``N(0, gain / sqrt(fan_in))`` with ``gain = sqrt(2)``. RNN input kernels
      are drawn one gate block ``(in, units)`` at a time.
    - Recurrent kernels: `recurrent`, one ``(units, units)`` gate block at a
      time, so with ``"orthogonal"`` every block is orthogonal (Keras'
      Orthogonal over the stacked ``(units, G*units)`` matrix is not).
    - Biases: `bias` (an LSTM with ``unit_forget_bias=True`` keeps Keras'
      rule: forget block 1, the rest `bias`).
    - Normalization layers: gamma (and RMSNormalization's scale) 1, beta 0,
      moving mean 0, moving variance 1.

    Non-fan schemes (``"orthogonal"``, ``"zeros"``, keras_inits' structured
    initializers) are called on the variable's (or gate block's) shape. Every
    variable gets its own seed from `seed` and its position in
    ``model.weights``, replacing any seed of the given initializers, so no two
    variables get identical values; an int `seed` makes the result
    deterministic. With ``seed=None`` a base seed is drawn from Python's
    ``random`` once per call (Keras' unseeded semantics: reproducible after
    ``keras.utils.set_random_seed``). Weights with no rule (a custom layer's
    weights, ``ResidualScale``, a ConvLSTM cell, LoRA factors) are left alone
    and listed in ``report.skipped``. Any failure restores every weight.

    Args:
        model: a built ``keras.Model``.
        kernel: initializer (instance, name or config) for kernels.
        recurrent: initializer for recurrent kernels, per gate block.
        bias: initializer for biases.
        seed: base seed (int) or None.
        layers: None (all), or layers / layer names to restrict to; a name
            selects every layer or sublayer of that name (MultiHeadAttention's
            ``"query"``), a layer also selects the layers it tracks.

    Returns:
        An :class:`~keras_inits.report.InitReport` with one row per variable:
        the scheme, its std before and after, and the fans used.

    Raises:
        TypeError: `model` is not a Keras model, or `seed` or `layers` has a
            wrong type.
        ValueError: an initializer cannot be resolved, the model is not built,
            or `layers` names a layer the model does not have.

    Example:

    >>> model = keras.Sequential([keras.Input((8, 8, 16)),
    ...                           keras.layers.DepthwiseConv2D(3)])
    >>> report = reinitialize(model, seed=0)  # std sqrt(2 / 9), not sqrt(2 / 144)

    Reference:
        He et al. 2015, "Delving deep into rectifiers" (fan-in scaling);
        Saxe et al. 2014, "Exact solutions to the nonlinear dynamics of
        learning in deep linear networks" (orthogonal recurrent blocks).
    """
    if not isinstance(model, keras.Model):
        raise TypeError(
            f"Argument `model` must be a keras.Model. Received: model of type "
            f"{type(model).__name__}"
        )
    check_model_seed(seed)
    inits = {
        "kernel": resolve_initializer(kernel, "kernel"),
        "recurrent": resolve_initializer(recurrent, "recurrent"),
        "bias": resolve_initializer(bias, "bias"),
    }
    if not model.built or not model.weights:
        raise ValueError(
            f"Model {model.name!r} is not built (it has no weights): build it or "
            "call it on a batch first."
        )
    pairs, owner = _targets(model, layers)
    seed_of = seed_for(model, random.randint(1, int(1e9)) if seed is None else seed)
    report = InitReport("reinitialize")
    trainable = {id(v) for v in model.trainable_weights}
    structure = []  # detect_roles(model), computed once if a weight needs it
    with atomic_weights(model, report):
        for layer, variable in pairs:
            if id(variable) not in trainable and not _is_statistic(layer, variable):
                report.skip(variable.path, "frozen (trainable=False): left alone")
                continue
            role, detail = _rule(layer, variable)
            if role is None:
                role, detail = _rule_from_roles(model, variable, structure, detail)
            if role is None:
                report.skip(variable.path, detail)
                continue
            current = ops.convert_to_numpy(variable)
            before = _std(current)
            values, action, note = _new_values(
                layer, variable, role, detail, inits, seed_of(variable)
            )
            # Cast and assign on the host (numpy's float16/bfloat16 rounding is
            # the backends' round-to-nearest-even): no backend op per shape.
            variable.assign(np.asarray(values).astype(current.dtype, copy=False))
            report.add(
                variable.path, action, before=before,
                after=_std(ops.convert_to_numpy(variable)), stat="std", note=note,
            )
    if layers is None:
        for v in model.weights:
            if id(v) not in owner:
                report.skip(v.path, "not held by a layer the model calls as a unit")
    return report
