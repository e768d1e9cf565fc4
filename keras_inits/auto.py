"""``ki.auto_init``: the whole initialization workflow in one call.

The workflow the practice describes (analyse the architecture, find each
layer's activation, compute the variance from the true fans, choose the
distribution, initialize biases, apply layer-specific rules, validate with a
forward and backward pass, adjust), for any Keras model:

1. Transformer blocks (found by role, :func:`keras_inits.transformer.detect_roles`)
   are initialized by :func:`keras_inits.init_transformer`: ``"xavier"``
   (Vaswani et al. 2017's Glorot uniform, with each projection's true fans)
   when the model has normalization layers, ``"t_fixup"`` (Huang et al.
   2020, made for transformers without them) otherwise; GPT-2's fixed 0.02
   is not width-aware (at d = 32 it starved a 4-block model: 0.58 test
   accuracy after 5 epochs against 0.79 with xavier, benchmarks/auto_init_zoo.py). The weights it sets are
   then left to that scheme (output heads and input projections that are a
   layer's kernel excepted: the rules below give them theirs).
2. Every other weight, by layer type (true fans of
   :func:`keras_inits.fans.layer_fans`):

   - kernels of Dense, Conv*, Conv*Transpose, EinsumDense, DepthwiseConv*:
     ``N(0, gain(f) / sqrt(fan_in))`` (untruncated normal), ``f`` the
     nonlinearity applied to the layer's output (see :func:`find_activation`)
     and ``gain`` :func:`keras_inits.calculate_gain` (He et al. 2015; for
     activations it does not know, ``1 / sqrt(E[f(z)^2])``, z ~ N(0, 1),
     computed numerically from the function itself). selu: LeCun normal,
     ``N(0, 1 / sqrt(fan_in))`` (Klambauer et al. 2017). A separable conv's
     depthwise kernel is linear (gain 1), its pointwise kernel gets ``f``.
   - biases: 0.
   - LSTM/GRU/SimpleRNN: input kernel Glorot uniform per gate block (fans
     ``(in, units)``; Glorot & Bengio 2010, the sigmoid/tanh derivation),
     recurrent kernel orthogonal per ``(units, units)`` gate block (Saxe et
     al. 2014), bias 0 except the LSTM forget gate: chrono (Tallec &
     Ollivier 2018, :class:`keras_inits.ChronoBias`) when the input length
     ``T > 2`` is known from the graph, else 1 (Jozefowicz et al. 2015).
   - Embedding tables: ``N(0, 1)`` (a lookup row has fan_in 1: unit-variance
     features, as torch's ``nn.Embedding``).
   - normalization: gamma (RMSNormalization's scale) 1, beta 0, moving mean
     0, moving variance 1.
3. Residual branches (:func:`keras_inits.graph.residual_branches`, outside
   transformer blocks) start at zero, :func:`keras_inits.zero_residual`'s
   ``"auto"`` rule (the same code): a layer scale after the last kernel
   (ConvNeXt, CaiT) = 0, else the gamma of the branch's last normalization
   when that is its last kernel-or-norm layer (Goyal et al. 2017), else the
   branch's last kernel and bias 0; a branch with no normalization at all
   gets Fixup's scaling too (Zhang et al. 2019): its other kernels times
   ``L^(-1/(2m-2))``, L branches, m kernel layers in the branch. A branch
   that rule cannot silence (it ends in a layer of unknown structure) is
   listed in ``report.skipped``.
4. The output head (a kernel layer whose output reaches a model output
   through activations only): kernel 0.1 x its rule above ("small": logits
   with std ~0.1 for unit-variance features, so the first predictions are
   close to the prior; Karpathy 2019; not Fixup's zero classifier, which
   gives every other layer a zero gradient at the first step). Bias: with labels in `data`, the prior
   (:class:`keras_inits.PriorBias` from the label frequencies for softmax /
   sigmoid heads; the label mean for a linear head), else 0.
5. With `data`: :func:`keras_inits.signal_report` before and after, both in
   ``report.validation``; every row gets the output variance measured after.
   ``refine="lsuv"`` then calibrates every kernel layer but the head with
   :func:`keras_inits.lsuv` (zeroed branch ends stay zero: LSUV skips all-zero
   kernels), and the after-report is measured once more.

Frozen weights are never touched; weights with no rule are listed in
``report.skipped`` with the reason. Any failure restores every weight.
"""

from __future__ import annotations

import dataclasses
import math
import random

import keras
import numpy as np
from keras import ops

from keras_inits import graph
from keras_inits._host import assign, draw, orthogonal, to_host
from keras_inits._model import (
    atomic_weights,
    check_model_seed,
    ensure_built,
    first_batch,
    seed_for,
    variable_seed,
)
from keras_inits.fans import gate_count, layer_fans, rnn_cell
from keras_inits.gain import KNOWN_NONLINEARITIES, calculate_gain, second_moment
from keras_inits.reinit import _NORM_VALUES as NORM_VALUES
from keras_inits.reinit import _blocks as reinit_blocks
from keras_inits.report import InitReport

REFINES = (None, "lsuv")
HEAD_FACTOR = 0.1  # "small" head: 0.1 x the kernel's rule

# keras.activations' own defaults where they differ from calculate_gain's.
_KERAS_PARAM = {"leaky_relu": 0.2, "elu": 1.0}
_ALIASES = {"swish": "silu", "identity": "linear"}
_PROBABILITY = ("softmax", "log_softmax", "sigmoid")
# Elementwise Keras operations (keras.ops / keras.activations on Keras
# tensors) by class name: the calculate_gain name, or None (numeric gain).
_OPS = {
    "Relu": "relu", "LeakyRelu": "leaky_relu", "Elu": "elu", "Selu": "selu",
    "Gelu": "gelu", "Silu": "silu", "Swish": "silu", "Tanh": "tanh",
    "Sigmoid": "sigmoid", "Softplus": "softplus",
    "Relu6": None, "HardSigmoid": None, "HardSilu": None, "HardSwish": None,
    "Softsign": None, "LogSigmoid": None, "Celu": None, "SoftShrink": None,
    "TanhShrink": None, "HardTanh": None, "HardShrink": None, "Squareplus": None,
}
_PROBABILITY_OPS = ("Softmax", "LogSoftmax")


@dataclasses.dataclass
class Activation:
    """The nonlinearity found after a layer.

    Attributes:
        name: a :func:`calculate_gain` name (``"relu"``, ``"leaky_relu"``...),
            ``"softmax"``/``"log_softmax"`` for probability heads,
            ``"linear"`` when none, or the function's own name for one
            calculate_gain does not know (``numeric`` is then True).
        gain: the gain used.
        via: where it was found (``"fused"``, ``"ReLU layer re_lu"``,
            ``"keras.ops Relu"``, ``"none before merge add"``...).
        param: negative slope / alpha, when there is one.
        numeric: the gain was computed as ``1 / sqrt(E[f(z)^2])``.
        passed: layers/operations between the layer and `f` (a norm first).
    """

    name: str
    gain: float
    via: str
    param: float | None = None
    numeric: bool = False
    passed: tuple = ()

    def __str__(self):
        p = "" if self.param is None else f"({self.param:g})"
        kind = " numeric" if self.numeric else ""
        through = f" after {', '.join(self.passed)}" if self.passed else ""
        return f"{self.name}{p} (gain {self.gain:.4g}{kind}; {self.via}{through})"


def _numeric_gain(fn, label) -> float:
    """1 / sqrt(E[f(z)^2]) for z ~ N(0, 1), f evaluated by Keras on a grid."""

    def f(z):
        return to_host(fn(ops.convert_to_tensor(z.astype(np.float32)))).astype(np.float64)

    moment = second_moment(f)
    if not math.isfinite(moment) or moment <= 0.0:
        raise ValueError(
            f"The activation {label} has E[f(z)^2] = {moment} for z ~ N(0, 1): no "
            "variance-preserving gain exists for it."
        )
    return 1.0 / math.sqrt(moment)


def _from_name(name, param, via, passed, fn=None):
    name = _ALIASES.get(name, name)
    if name in _PROBABILITY:
        return Activation(name, 1.0, via, passed=passed)
    if name == "selu":  # LeCun normal (Klambauer et al. 2017), not torch's 3/4
        return Activation(name, 1.0, via, passed=passed)
    if name in KNOWN_NONLINEARITIES:
        if name in ("leaky_relu", "elu"):
            param = _KERAS_PARAM[name] if param is None else float(param)
            return Activation(name, calculate_gain(name, param), via, param, passed=passed)
        return Activation(name, calculate_gain(name), via, passed=passed)
    if fn is None:
        raise ValueError(f"No function to compute the gain of activation {name!r} from.")
    return Activation(name, _numeric_gain(fn, repr(name)), via, numeric=True, passed=passed)


def _from_function(fn, via, passed):
    """An activation function (fused, or an Activation layer's)."""
    name = getattr(fn, "__name__", None) or type(fn).__name__
    try:
        builtin = keras.activations.get(name) is fn
    except (ValueError, TypeError):
        builtin = False
    if builtin:
        return _from_name(name, None, via, passed, fn)
    return Activation(name, _numeric_gain(fn, repr(name)), via, numeric=True, passed=passed)


def _from_op(op, passed):
    """The activation `op` is, or None if it is not one."""
    if isinstance(op, keras.layers.Layer):
        via = f"{type(op).__name__} layer {op.name}"
        if isinstance(op, keras.layers.Activation):
            if op.activation is keras.activations.linear:
                return None
            return _from_function(op.activation, via, passed)
        if isinstance(op, keras.layers.ReLU):
            if op.max_value is None and not op.threshold:
                if op.negative_slope:
                    return _from_name("leaky_relu", float(op.negative_slope), via, passed)
                return _from_name("relu", None, via, passed)
            return Activation("relu (capped or thresholded)", _numeric_gain(op, via), via,
                              numeric=True, passed=passed)
        if isinstance(op, keras.layers.LeakyReLU):
            return _from_name("leaky_relu", float(op.negative_slope), via, passed)
        if isinstance(op, keras.layers.ELU):
            return _from_name("elu", float(op.alpha), via, passed)
        if isinstance(op, keras.layers.PReLU):
            alpha = to_host(op.alpha).astype(np.float64)
            slope = float(np.mean(alpha))
            note = "" if np.all(alpha == alpha.flat[0]) else " (mean of its slopes)"
            return _from_name("leaky_relu", slope, f"{via} at its initial slope{note}", passed)
        if isinstance(op, keras.layers.Softmax):
            return _from_name("softmax", None, via, passed)
        return None
    kind = type(op).__name__
    if kind in _PROBABILITY_OPS:
        return _from_name("softmax", None, f"keras.ops {kind}", passed)
    if kind not in _OPS:
        return None
    via = f"keras.ops {kind}"
    name = _OPS[kind]
    if name is None:
        return Activation(kind.lower(), _numeric_gain(op, via), via, numeric=True, passed=passed)
    param = getattr(op, "negative_slope", None) if name == "leaky_relu" else (
        getattr(op, "alpha", None) if name == "elu" else None)
    if name == "gelu" and getattr(op, "approximate", False):
        return Activation("gelu (tanh approximation)", _numeric_gain(op, via), via,
                          numeric=True, passed=passed)
    return _from_name(name, param, via, passed, op)


def find_activation(layer, chain=None) -> Activation:
    """The nonlinearity applied to `layer`'s output.

    The fused ``activation`` if it is not linear; else the first activation
    on the layer's output before the next weighted layer, merge or fork
    (`chain`, a :class:`keras_inits.graph.OutputChain`): an ``Activation``,
    ``ReLU`` (``negative_slope``; capped or thresholded: numeric),
    ``LeakyReLU``, ``ELU``, ``PReLU`` (at its current slope), ``Softmax``
    layer or a ``keras.ops``/``keras.activations`` call. Normalization and
    other weightless layers in between are passed (listed in ``passed``).
    None found: linear, gain 1.
    """
    fused = getattr(layer, "activation", None)
    if fused is not None and fused is not keras.activations.linear and callable(fused):
        return _from_function(fused, "fused", ())
    passed = []
    for op in chain.ops if chain is not None else ():
        found = _from_op(op, tuple(passed))
        if found is not None:
            return found
        passed.append(f"{type(op).__name__} {op.name}" if isinstance(op, keras.layers.Layer)
                      else f"keras.ops {type(op).__name__}")
    via = ("none found (no graph: only a fused activation is seen)" if chain is None
           else f"none before {chain.end}")
    return Activation("linear", 1.0, via, passed=tuple(passed))


# --------------------------------------------------------------- helpers ---



def _std(variable) -> float:
    return float(np.std(to_host(variable), dtype=np.float64))


def _labels(data):
    """The labels of `data` if it carries them ((x, y) tuple, or a dataset /
    iterable of such tuples), else None."""
    if isinstance(data, tuple) and len(data) >= 2:
        return data[1]
    if isinstance(data, (list, dict, np.ndarray)) or ops.is_tensor(data) or data is None:
        return None
    if hasattr(data, "__iter__") and not isinstance(data, (str, bytes)):
        try:
            batch = next(iter(data))
        except StopIteration:
            return None
        return _labels(batch) if isinstance(batch, tuple) else None
    return None


def _prior(activation, bias_shape, y):
    """``(values, note)`` of a head bias from labels `y`, or None."""
    y = np.asarray(ops.convert_to_numpy(y))
    if not np.all(np.isfinite(y.astype(np.float64))):
        raise ValueError("The labels in `data` hold NaN or inf values.")
    units = int(np.prod(bias_shape))
    if activation.name in ("softmax", "log_softmax"):
        if y.ndim >= 1 and y.shape[-1] == units and units > 1 and np.all((y == 0) | (y == 1)):
            counts = y.reshape(-1, units).sum(axis=0)  # one-hot
        elif np.issubdtype(y.dtype, np.integer) or np.all(y == np.round(y)):
            labels = y.astype(np.int64).ravel()
            if labels.min() < 0 or labels.max() >= units:
                return None
            counts = np.bincount(labels, minlength=units)
        else:
            return None
        p = (counts + 1.0) / (counts.sum() + units)  # Laplace: no class at log(0)
        return np.log(p).reshape(bias_shape), "log of the label frequencies (PriorBias)"
    if activation.name == "sigmoid":
        if y.size == 0 or not np.all((y == 0) | (y == 1)):
            return None
        y = y.reshape(len(y), -1)
        if y.shape[1] not in (1, units):
            return None
        p = np.clip((y.sum(axis=0) + 1.0) / (len(y) + 2.0), 1e-6, 1 - 1e-6)
        values = np.broadcast_to(np.log(p / (1.0 - p)), (units,))
        return values.reshape(bias_shape), "logit of the positive-label frequency (PriorBias)"
    if activation.name == "linear":
        y = y.reshape(len(y), -1).astype(np.float64)
        if y.shape[1] != units:
            return None
        return y.mean(axis=0).reshape(bias_shape), "mean of the labels (linear head)"
    return None


def _loss_for(model, activation, y):
    """The model's compiled loss, or one that fits the head, for validation."""
    loss = getattr(model, "loss", None)
    if loss is not None:
        return loss
    if activation is None:
        return None
    y = np.asarray(ops.convert_to_numpy(y))
    if activation.name == "softmax":
        return ("sparse_categorical_crossentropy" if y.ndim == 1 or y.shape[-1] == 1
                else "categorical_crossentropy")
    if activation.name == "sigmoid":
        return "binary_crossentropy"
    if activation.name == "linear":
        return "mean_squared_error"
    return None


class _Plan:
    """What auto_init does to one model: rows by layer, weights it owns."""

    def __init__(self, model, seed):
        self.model = model
        self.seed_of = seed_for(model, seed)
        self.report = InitReport("auto_init")
        self.rows = {}  # id(layer) -> ReportRow
        self.layers = {}  # id(layer) -> layer
        self.done = set()  # ids of variables already set
        self.trainable = {id(v) for v in model.trainable_weights}

    def draw_normal(self, variable, std):
        return draw(keras.random.normal, tuple(variable.shape), self.seed_of(variable), stddev=std)

    def set(self, variable, values):
        assign(variable, values)
        self.done.add(id(variable))

    def row(self, layer, action, **kwargs):
        row = self.report.add(layer.path or layer.name, action, **kwargs)
        self.rows[id(layer)], self.layers[id(layer)] = row, layer
        return row


# ------------------------------------------------------------- the rules ---

def _kernel_rule(plan, layer, variable, activation, factor=1.0):
    """N(0, gain / sqrt(fan_in)) x factor; returns (std, fan_in)."""
    fan_in, _ = layer_fans(layer, variable)
    std = factor * activation.gain / math.sqrt(max(1, fan_in))
    plan.set(variable, plan.draw_normal(variable, std) if std else np.zeros(variable.shape))
    return std, fan_in


def _rnn_rule(plan, top, cell):
    units, gates = cell.units, gate_count(cell)
    kernel, recurrent = cell.kernel, cell.recurrent_kernel
    before = _std(kernel)
    fan_in = int(kernel.shape[0])
    plan.set(kernel, reinit_blocks(keras.initializers.GlorotUniform(), tuple(kernel.shape),
                                   (fan_in, units), plan.seed_of(kernel), gates))
    seed = plan.seed_of(recurrent)
    plan.set(recurrent, np.concatenate(
        [orthogonal(units, units, variable_seed(seed, f"gate{g}")) for g in range(gates)],
        axis=-1))
    note = (f"input kernel Glorot uniform per gate x{gates} (fans ({fan_in}, {units})); "
            "recurrent kernel orthogonal per gate block")
    bias = getattr(cell, "bias", None)
    if bias is not None and id(bias) in plan.trainable:
        values = np.zeros(tuple(bias.shape), dtype=np.float32)
        if isinstance(cell, keras.layers.LSTMCell):
            steps = _timesteps(top)
            if steps is not None and steps > 2:
                from keras_inits.initializers.bias import ChronoBias

                chrono = ChronoBias(steps, seed=plan.seed_of(bias))
                values = to_host(chrono((4 * units,), dtype="float32"))
                note += f"; bias chrono (T = {steps}: forget log U[1, {steps - 1}], input = -forget)"
            else:
                values[units:2 * units] = 1.0
                note += "; bias 0, forget gate 1 (input length unknown: no chrono)"
        else:
            note += "; bias 0"
        plan.set(bias, values)
    plan.row(top, "recurrent: per-gate rules", before=before, after=_std(kernel),
             stat="kernel std", activation="sigmoid/tanh gates", note=note)


def _timesteps(layer):
    """The input length of a recurrent layer from its graph input, or None."""
    try:
        shape = layer.input.shape if not isinstance(layer.input, list) else layer.input[0].shape
    except (AttributeError, ValueError):
        return None
    return shape[1] if len(shape) >= 3 and isinstance(shape[1], int) else None


def _norm_rule(plan, layer, claimed):
    touched = []
    for attr, value in NORM_VALUES:
        variable = getattr(layer, attr, None)
        if (not isinstance(variable, keras.Variable) or id(variable) in plan.done
                or id(variable) in claimed):
            continue
        if id(variable) not in plan.trainable and not (
            layer.trainable and attr.startswith("moving_")
        ):
            continue
        plan.set(variable, np.full(tuple(variable.shape), value, dtype=np.float32))
        touched.append(f"{attr} {value:g}")
    if touched:
        plan.row(layer, "normalization reset", note=", ".join(touched))


def _kernel_layer(plan, layer, chain, head, labels):
    activation = find_activation(layer, chain)
    kernel = graph.kernel_of(layer)
    before = _std(kernel)
    notes = []
    factor = HEAD_FACTOR if head else 1.0
    depthwise = getattr(layer, "depthwise_kernel", None)
    if isinstance(depthwise, keras.Variable) and depthwise is not kernel:
        # SeparableConv: depthwise (linear) then pointwise, which gets f.
        std, fan = _kernel_rule(plan, layer, depthwise, Activation("linear", 1.0, ""))
        notes.append(f"depthwise kernel N(0, {std:.4g}) (fan_in {fan}, linear)")
    std, fan_in = _kernel_rule(plan, layer, kernel, activation, factor)
    rule = ("LeCun normal (selu)" if activation.name == "selu"
            else "N(0, gain / sqrt(fan_in))")
    if head:
        rule = f"head: {HEAD_FACTOR:g} x " + rule
    notes.insert(0, f"std {std:.4g} = {factor:g} x {activation.gain:.4g} / sqrt({fan_in})"
                 if head else f"std {std:.4g} = {activation.gain:.4g} / sqrt({fan_in})")
    bias = getattr(layer, "bias", None)
    if isinstance(bias, keras.Variable) and id(bias) in plan.trainable:
        values, why = None, "bias 0"
        if head and labels is not None:
            found = _prior(activation, tuple(bias.shape), labels)
            if found is not None:
                values, why = found[0], "bias = " + found[1]
        plan.set(bias, np.zeros(tuple(bias.shape)) if values is None else values)
        notes.append(why)
    plan.row(layer, rule, before=before, after=_std(kernel), stat="kernel std",
             activation=str(activation), note="; ".join(notes))
    return activation


def _residual(plan, branches, claimed):
    """zero_residual's "auto" rule (residual._apply: a layer scale or the
    last norm's gamma when it ends the branch, else the last kernel), with
    Fixup's scaling of the other kernels where a branch has no normalization
    at all. A branch the rule cannot silence is listed, not guessed."""
    from keras_inits.residual import _apply, fixup_factor

    usable = [b for b in branches
              if not any(id(v) in claimed for layer in b.layers for v in layer.weights)]
    for branch in usable:
        if any(id(v) not in plan.trainable for layer in branch.layers for v in layer.weights
               if not v.name.startswith("moving_")):
            plan.report.skip(branch.name, "frozen layers in the branch: not zeroed")
            continue
        zeroed = InitReport("zero_residual(auto)")
        try:
            _apply(zeroed, branch, "auto", len(usable), plan.seed_of)
        except ValueError as err:
            plan.report.skip(branch.name, f"not started at zero: {err}")
            continue
        by_name = {layer.name: layer for layer in branch.layers + branch.kernel_layers}
        for row in zeroed.rows:
            layer = by_name[row.layer]
            plan.done.update(id(v) for v in layer.weights)  # a layer scale has no other rule
            _amend(plan, layer, f"{row.action} (residual branch {branch.name} starts at zero)")
        kernels = branch.kernel_layers
        if branch.last_norm is None and branch.last_scale is None and len(kernels) >= 2:
            factor = fixup_factor(len(usable), len(kernels))
            for layer in kernels[:-1]:
                kernel = graph.kernel_of(layer)
                assign(kernel, to_host(kernel) * np.float32(factor))
                _amend(plan, layer, f"x {factor:.4g} Fixup (L = {len(usable)}, m = "
                                    f"{len(kernels)}: no normalization in {branch.name})")


def _amend(plan, layer, note):
    row = plan.rows.get(id(layer))
    if row is None:
        row = plan.row(layer, "residual rule")
    row.note = f"{row.note}; {note}" if row.note else note
    kernel = graph.kernel_of(layer)
    if kernel is not None and row.stat == "kernel std":
        row.after = _std(kernel)


def _usable(plan, variable, claimed) -> bool:
    return (isinstance(variable, keras.Variable) and id(variable) not in claimed
            and id(variable) not in plan.done and id(variable) in plan.trainable
            and "float" in str(variable.dtype))


def _layer(plan, top, chain, claimed, labels, heads):
    """The rules for every weight of `top` (a layer the model calls) and the
    layers it holds. Returns the activation of `top` if it is an output head."""
    head_activation = None
    head = (chain is not None and chain.end == "model output" and graph.has_kernel(top))
    for layer in graph.sublayers(top):
        if rnn_cell(layer) is layer:
            if all(_usable(plan, v, claimed) for v in (layer.kernel, layer.recurrent_kernel)):
                _rnn_rule(plan, top, layer)
        elif graph.is_norm(layer):
            _norm_rule(plan, layer, claimed)
        elif isinstance(layer, keras.layers.Embedding):
            table = layer.embeddings
            if _usable(plan, table, claimed):
                before = _std(table)
                plan.set(table, plan.draw_normal(table, 1.0))
                plan.row(layer, "embedding: N(0, 1)", before=before, after=_std(table),
                         stat="embeddings std",
                         note="a lookup row has fan_in 1: unit-variance features")
        elif graph.has_kernel(layer) and _usable(plan, graph.kernel_of(layer), claimed):
            is_head = head and layer is top
            activation = _kernel_layer(plan, layer, chain if layer is top else None,
                                       is_head, labels if len(heads) == 0 else None)
            if is_head:
                heads.append(layer)
                head_activation = activation
    return head_activation


def _transformer(plan, seed):
    """init_transformer on the blocks detect_roles finds; the ids of the
    variables it set (heads and input projections excepted: their rules
    here apply)."""
    from keras_inits.transformer import count_blocks, detect_roles, init_transformer

    roles, _ = detect_roles(plan.model)
    if not sum(count_blocks(roles)):
        return set()
    scheme = "xavier" if any(r.role == "norm" for r in roles) else "t_fixup"
    sub = init_transformer(plan.model, scheme, seed=variable_seed(seed, "transformer"))
    # Heads and input projections that are a layer's kernel (or its bias)
    # get the rules here; others (an untied reverse_embeddings) keep the scheme's.
    own = {r.variable.path: r for r in roles
           if r.role not in ("head", "input") or not graph.has_kernel(r.layer)}
    claimed = set()
    for row in sub.rows:
        r = own.get(row.layer)
        if r is not None:
            claimed.add(id(r.variable))
            plan.report.rows.append(dataclasses.replace(row, step="auto_init(transformer)"))
    plan.report.notes.append(
        f"transformer blocks found by role: init_transformer({scheme!r}) "
        + ("(the model has normalization layers)" if scheme == "xavier"
           else "(no normalization layers: T-Fixup)"))
    plan.report.notes.extend(n for n in sub.notes)
    return claimed


def _unhandled(plan, claimed):
    """Every weight left as it was, with the reason."""
    owner = {}
    for top in graph.all_layers(plan.model):
        for layer in reversed(graph.sublayers(top)):
            for v in layer.weights:
                owner.setdefault(id(v), layer)
    skipped = {name for name, _ in plan.report.skipped}
    for v in plan.model.weights:
        if id(v) in plan.done or id(v) in claimed or v.path in skipped:
            continue
        layer = owner.get(id(v))
        if graph.is_norm(layer) and v.name.startswith("moving_"):
            continue
        if id(v) not in plan.trainable:
            why = "frozen (trainable=False): left alone"
        elif "float" not in str(v.dtype):
            why = f"not a float weight ({v.dtype})"
        elif isinstance(layer, keras.layers.PReLU):
            why = "PReLU slope: kept (its value set the kernel's gain)"
        else:
            kind = type(layer).__name__ if layer is not None else "no layer"
            why = f"no auto_init rule for {kind}.{v.name}: left as it was"
        plan.report.skip(v.path, why)


def _validate(model, x, y, head_activation, report):
    """signal_report after the rules, with gradients when the labels and a
    loss allow (the model's compiled loss, else one that fits the head)."""
    from keras_inits.diagnostics.signal import signal_report

    loss = None if y is None else _loss_for(model, head_activation, y)
    if loss is None:
        return signal_report(model, x)
    y = np.asarray(ops.convert_to_numpy(y))
    if y.ndim == 1 and loss in ("binary_crossentropy", "mean_squared_error"):
        y = y[:, None]
    try:
        return signal_report(model, x, y, loss)
    except ValueError as err:
        report.notes.append(f"validation without gradients: the labels do not fit "
                            f"loss {loss!r} ({err})")
        return signal_report(model, x)


# -------------------------------------------------------------- auto_init ---

def _refine_lsuv(plan, x, seed, heads, claimed):
    """lsuv on every kernel layer the rules set, the heads excepted (zeroed
    branch ends are kept by lsuv itself)."""
    from keras_inits.lsuv import lsuv

    head_ids = {id(layer) for layer in heads}
    layers = [layer for layer in graph.all_layers(plan.model)
              if graph.has_kernel(layer) and id(layer) not in head_ids
              and id(graph.kernel_of(layer)) not in claimed]
    if not layers:
        plan.report.notes.append("refine='lsuv': no kernel layer to calibrate (only heads "
                                 "or transformer weights)")
        return
    refined = lsuv(plan.model, x, seed=variable_seed(seed, "lsuv"), verbose=0, layers=layers)
    for r in refined.rows:
        plan.report.rows.append(dataclasses.replace(r, step="auto_init(lsuv)"))
    plan.report.skipped.extend(refined.skipped)
    plan.report.notes.append(f"refine='lsuv': {len(refined.rows)} layers calibrated (heads "
                             "excepted; all-zero branch ends kept zero)")


def _check_refine(refine, data):
    if refine not in REFINES:
        raise ValueError(
            f"Argument `refine` must be one of {list(REFINES)}. Received: refine={refine!r}"
        )
    if refine is not None and data is None:
        raise ValueError(f"Argument `refine`={refine!r} needs `data`. Received: data=None")


def auto_init(model, data=None, *, seed: int | None = None, refine: str | None = None) -> InitReport:
    """Initialize every layer of `model` by the rule its type and activation
    call for, then validate (see the module doc for every rule and source).

    Args:
        model: a ``keras.Model`` (built, or built here from `data`).
        data: optional: an array/tensor/dict/list of inputs, an ``(x, y)``
            tuple, a dataset or an iterable of batches (one batch is used).
            With it the report holds ``signal_report`` before and after;
            labels (``y``) also give the head its prior bias.
        seed: int or None (a distinct seed per variable from it).
        refine: None, or ``"lsuv"``: calibrate with :func:`keras_inits.lsuv`
            after the rules (needs `data`).

    Returns:
        An :class:`InitReport`: one row per layer (the activation found, the
        rule and why, the kernel std before/after, and with `data` the
        output variance measured after, ``row.measured``);
        ``report.validation`` = ``{"before": SignalReport, "after":
        SignalReport}`` with `data`.

    Raises:
        TypeError: `model` is not a keras.Model; bad `seed`.
        ValueError: bad `refine`, `refine` without `data`, an unbuilt model
            without `data`, bad data (NaN/inf, empty, constant). Every
            weight is then as it was.

    Example:

    >>> report = ki.auto_init(model, (x[:256], y[:256]), seed=0)
    >>> print(report)

    Reference:
        He et al. 2015; Glorot & Bengio 2010; Klambauer et al. 2017; Saxe et
        al. 2014; Tallec & Ollivier 2018; Goyal et al. 2017; Zhang et al.
        2019 (Fixup); Huang et al. 2020 (T-Fixup); Vaswani et al. 2017; Mishkin & Matas 2015 (LSUV).
    """
    from keras_inits.diagnostics.signal import signal_report

    if not isinstance(model, keras.Model):
        raise TypeError(
            f"Argument `model` must be a keras.Model. Received: model of type "
            f"{type(model).__name__}"
        )
    check_model_seed(seed)
    _check_refine(refine, data)
    x = None if data is None else first_batch(data)
    labels = None if data is None else _labels(data)
    ensure_built(model, x)
    seed = random.randint(1, int(1e9)) if seed is None else seed
    plan = _Plan(model, seed)
    report = plan.report
    chains = graph.output_chains(model)
    before = None if x is None else signal_report(model, x)
    with atomic_weights(model, report):
        claimed = _transformer(plan, seed)
        heads, head_activation = [], None
        for top in graph.all_layers(model):
            found = _layer(plan, top, chains.get(id(top)), claimed, labels, heads)
            head_activation = found or head_activation
        branches, _ = graph.residual_branches(model) if graph.is_graph_model(model) else ([], [])
        _residual(plan, branches, claimed)
        _unhandled(plan, claimed)
        if refine == "lsuv":
            _refine_lsuv(plan, x, seed, heads, claimed)
    if x is not None:
        after = _validate(model, x, labels, head_activation, report)
        report.validation = {"before": before, "after": after}
        measured = {s.name: s.variance for s in after.layers}
        for key, row in plan.rows.items():
            row.measured = measured.get(plan.layers[key].name)
        report.notes.append(
            "validation: " + ("; ".join(after.findings) if after.findings
                              else "signal_report after auto_init finds nothing wrong"))
    return report
