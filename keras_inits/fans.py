"""Fans (number of input and output units) for any kernel, in one place.

Three entry points, from the most general to the most specific:

- :func:`compute_fans` takes explicit axes, with JAX's semantics
  (``jax.nn.initializers.variance_scaling``): everything that is neither the
  input, output nor batch axis is the receptive field.
- :func:`einsum_fans` reads the axes from an ``EinsumDense`` equation, the
  way Keras 3.15 assigns ``input_axes``/``output_axes``.
- ``layer_fans(layer, variable)`` knows each Keras layer type's true fans
  (depthwise, separable, transposed conv, per-gate recurrent, einsum).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

Axes = int | Sequence[int]


def check_shape(shape) -> tuple[int, ...]:
    """Return `shape` as a tuple of non-negative Python ints.

    Raises:
        ValueError: `shape` is not a sequence of non-negative integers (not
            iterable, a float, None or bool dimension, a negative one). Every
            bad shape is a ValueError, whatever is wrong with it, so callers
            catch one type.
    """
    message = (
        "Argument `shape` must be a tuple of non-negative integers. "
        f"Received: shape={shape!r}"
    )
    if isinstance(shape, (str, bytes)):
        raise ValueError(message)
    try:
        dims = tuple(shape)
    except TypeError:
        raise ValueError(message) from None
    out = []
    for d in dims:
        if isinstance(d, bool) or not hasattr(d, "__index__"):
            raise ValueError(message)
        d = int(d.__index__())
        if d < 0:
            raise ValueError(message)
        out.append(d)
    return tuple(out)


def _size(shape, axes, name):
    rank = len(shape)
    try:
        axes = (axes,) if isinstance(axes, int) else tuple(axes)
    except TypeError:
        raise ValueError(
            f"Argument `{name}` must be an int or a tuple of ints. Received: "
            f"{name}={axes!r}"
        ) from None
    for a in axes:
        if isinstance(a, bool) or not isinstance(a, int) or not -rank <= a < rank:
            raise ValueError(
                f"Argument `{name}` must hold axes in [-{rank}, {rank}) for a "
                f"rank-{rank} shape. Received: {name}={axes} for shape={shape}"
            )
    normalized = {a % rank for a in axes}
    if len(normalized) != len(axes):
        raise ValueError(
            f"Argument `{name}` names the same axis twice. Received: {name}={axes}"
        )
    return math.prod(shape[a] for a in normalized), normalized


def compute_fans(
    shape, in_axis: Axes = -2, out_axis: Axes = -1, batch_axis: Axes = ()
) -> tuple[int, int]:
    """Fan-in and fan-out of a weight of `shape`.

    ``receptive = size / (in_size * out_size * batch_size)``, then
    ``fan_in = in_size * receptive`` and ``fan_out = out_size * receptive``.
    With the defaults this is Keras' convention: a ``Dense`` kernel
    ``(in, out)`` gives ``(in, out)``; a conv kernel ``(k..., in, out)`` gives
    ``(prod(k) * in, prod(k) * out)``. A rank-0 shape gives ``(1, 1)`` and a
    rank-1 shape ``(n,)`` gives ``(n, n)``, as in Keras.

    Args:
        shape: the weight's shape.
        in_axis: axis or axes of the input units.
        out_axis: axis or axes of the output units.
        batch_axis: axes of independent copies (neither fan), e.g. heads of a
            per-head kernel.

    Returns:
        ``(fan_in, fan_out)`` as Python ints.

    Example:

    >>> compute_fans((3, 3, 16, 32))
    (144, 288)
    >>> compute_fans((64, 4, 16), in_axis=0, out_axis=(1, 2))
    (64, 64)
    """
    shape = check_shape(shape)
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    in_size, in_set = _size(shape, in_axis, "in_axis")
    out_size, out_set = _size(shape, out_axis, "out_axis")
    batch_size, batch_set = _size(shape, batch_axis, "batch_axis")
    if in_set & out_set or in_set & batch_set or out_set & batch_set:
        raise ValueError(
            "Arguments `in_axis`, `out_axis` and `batch_axis` must not share an "
            f"axis. Received: in_axis={in_axis}, out_axis={out_axis}, "
            f"batch_axis={batch_axis}"
        )
    receptive = math.prod(
        d for i, d in enumerate(shape) if i not in in_set | out_set | batch_set
    )
    return int(in_size * receptive), int(out_size * receptive)


_EINSUM = re.compile(r"^\s*([a-zA-Z.]+)\s*,\s*([a-zA-Z]+)\s*->\s*([a-zA-Z.]+)\s*$")


def einsum_axes(equation: str) -> tuple[list[int], list[int]]:
    """Kernel axes that are input units and output units, from an equation.

    Follows ``keras.layers.EinsumDense``: a kernel letter that appears in the
    output is an output axis; otherwise, if it appears in the input, it is an
    input (contracted) axis.
    """
    if not isinstance(equation, str):
        raise TypeError(
            f"Argument `equation` must be a string. Received: equation={equation!r}"
        )
    match = _EINSUM.match(equation)
    if not match:
        raise ValueError(
            "Argument `equation` must have the form 'ab,bc->ac' (input,kernel->"
            f"output). Received: equation={equation!r}"
        )
    inp, kernel, out = match.groups()
    input_axes, output_axes = [], []
    for i, letter in enumerate(kernel):
        if letter in out:
            output_axes.append(i)
        elif letter in inp:
            input_axes.append(i)
        else:
            raise ValueError(
                f"Kernel dimension '{letter}' of equation {equation!r} appears "
                "in neither the input nor the output."
            )
    return input_axes, output_axes


def einsum_fans(equation: str, kernel_shape) -> tuple[int, int]:
    """True fans of an ``EinsumDense`` kernel, read from its equation.

    ``fan_in`` is the product of the contracted kernel dimensions, ``fan_out``
    the product of the kernel dimensions that reach the output. For a
    ``MultiHeadAttention`` query kernel (``"abc,cde->abde"``, shape
    ``(d_model, heads, key_dim)``) that is ``(d_model, heads * key_dim)``,
    where the conv convention would give ``heads * d_model`` as fan-in.

    Example:

    >>> einsum_fans("abc,cde->abde", (64, 4, 16))
    (64, 64)
    """
    shape = check_shape(kernel_shape)
    input_axes, output_axes = einsum_axes(equation)
    if len(shape) != len(input_axes) + len(output_axes):
        raise ValueError(
            f"Argument `kernel_shape` has rank {len(shape)} but equation "
            f"{equation!r} has a rank-{len(input_axes) + len(output_axes)} kernel. "
            f"Received: kernel_shape={shape}"
        )
    return math.prod(shape[a] for a in input_axes), math.prod(
        shape[a] for a in output_axes
    )


def _rnn_gates(cell) -> int | None:
    import keras

    if isinstance(cell, keras.layers.LSTMCell):
        return 4
    elif isinstance(cell, keras.layers.GRUCell):
        return 3
    elif isinstance(cell, keras.layers.SimpleRNNCell):
        return 1
    else:
        return None


def rnn_cell(layer):
    """The LSTM/GRU/SimpleRNN cell of `layer` (or `layer` if it is one), else None."""
    import keras

    cell = layer.cell if isinstance(layer, keras.layers.RNN) else layer
    return cell if _rnn_gates(cell) is not None else None


def gate_count(layer) -> int:
    """Gates stacked along a recurrent kernel's last axis: LSTM 4, GRU 3, SimpleRNN 1."""
    cell = rnn_cell(layer)
    if cell is None:
        raise ValueError(
            f"Layer {layer.name!r} ({type(layer).__name__}) is not an LSTM, GRU or "
            "SimpleRNN layer or cell."
        )
    return _rnn_gates(cell)


def _depthwise_fans(shape) -> tuple[int, int]:
    # (k..., in, m): each output channel reads one input channel over the window.
    receptive = math.prod(shape[:-2])
    return receptive, receptive * shape[-1]


def layer_fans(layer, variable) -> tuple[int, int]:
    """True ``(fan_in, fan_out)`` of `variable`, a weight of `layer`.

    ``fan_in`` is the number of inputs that reach one output unit, ``fan_out``
    the number of outputs one input unit reaches, counted from the layer's
    type and configuration rather than from the kernel's shape alone
    (``R = prod(kernel_size)``, ``g = groups``):

    ====================== ============================ =========================
    layer                  variable (Keras layout)      fans
    ====================== ============================ =========================
    Dense                  kernel (in, out)             (in, out)
    Conv1D/2D/3D           kernel (k..., in/g, out)     (R*in/g, R*out/g)
    DepthwiseConv1D/2D     kernel (k..., in, m)         (R, R*m)
    SeparableConv1D/2D     depthwise_kernel             (R, R*m), as depthwise
                           pointwise_kernel (1.., c, o) (c, o), a 1x1 conv
    Conv1D/2D/3DTranspose  kernel (k..., out, in)       (R*in, R*out)
    EinsumDense (and the   kernel                       from the equation
    q/k/v/output layers                                 (:func:`einsum_fans`)
    of MultiHeadAttention)
    LSTM/GRU/SimpleRNN     kernel (in, G*u)             (in, u): one gate block
    (layers or cells)      recurrent_kernel (u, G*u)    (u, u): one gate block
    Embedding              embeddings (vocab, d)        (1, d)
    ====================== ============================ =========================

    Conventions:

    - Grouped convolutions (and depthwise ones, which are grouped with
      ``g = in``) count the connections of one group. ``fan_in`` equals
      ``torch.nn.init._calculate_fan_in_and_fan_out`` on the torch weight
      ``(out, in/g, k...)``; ``fan_out`` does **not** follow torch: torch
      reads it from the weight's first axis, ``R*out`` over every group,
      where here it is ``R*out/g``, the outputs one input unit really
      reaches. Example: a 3x3 ``DepthwiseConv2D`` on 32 channels with
      ``depth_multiplier=4`` (torch ``Conv2d(32, 128, 3, groups=32)``) gets
      ``(9, 1152)`` from torch and ``(9, 36)`` here. Why: fan_out is what
      keeps the backward signal's variance (Glorot's average, Kaiming's
      ``mode="fan_out"``), and an input channel's gradient sums over its
      ``R*m`` outputs only; it also gives ``Conv2D(groups=in)`` and
      ``DepthwiseConv2D`` (the same operation) the same fans. Keras' shape
      rule counts a depthwise ``fan_in`` ``in`` times too large.
    - Transposed convolutions: Keras stores ``(k..., out, in)`` (torch
      ``(in, out, k...)``); both libraries' shape rules read the wrong axis
      as the input. Here the fans are those of the equivalent stride-1
      convolution from `in` to `out` channels, the rule torch applies to a
      conv weight. Stride is ignored, as it is for ``Conv`` (whose
      ``fan_out`` would otherwise be divided by ``prod(strides)``).
    - Recurrent kernels stack ``G`` gate blocks (LSTM ``i, f, c, o``; GRU
      ``z, r, h``) along the last axis; each block is its own linear map, so
      fans are per block.
    - Embedding: a lookup multiplies a one-hot row (one active input) by the
      table, so ``fan_in = 1`` and ``fan_out = d``: ``lecun_normal`` then gives
      ``N(0, 1)``, torch's ``nn.Embedding`` default.

    Args:
        layer: the Keras layer (for a recurrent layer, the layer or its cell).
        variable: one of `layer`'s weights.

    Returns:
        ``(fan_in, fan_out)`` as Python ints.

    Raises:
        ValueError: `variable` is not a weight of `layer`, is not a kernel-like
            weight (a bias, a norm scale), or `layer`'s type has no rule.

    Example:

    >>> import keras
    >>> dw = keras.layers.DepthwiseConv2D(3, depth_multiplier=2)
    >>> dw.build((None, 8, 8, 16))
    >>> layer_fans(dw, dw.kernel)
    (9, 18)
    """
    import keras

    layers = keras.layers
    if not any(variable is w for w in layer.weights):
        raise ValueError(
            f"Variable {getattr(variable, 'path', variable)!r} is not a weight of "
            f"layer {layer.name!r}."
        )
    shape = check_shape(variable.shape)
    cell = rnn_cell(layer)
    if cell is not None:
        if variable is cell.kernel or variable is cell.recurrent_kernel:
            return shape[0], shape[1] // _rnn_gates(cell)
    elif isinstance(layer, layers.EinsumDense):
        if variable is layer.kernel:
            return einsum_fans(layer.equation, shape)
    elif isinstance(layer, layers.Embedding):
        if variable is layer.embeddings:
            return 1, shape[-1]
    elif isinstance(layer, (layers.DepthwiseConv1D, layers.DepthwiseConv2D)):
        if variable is layer.kernel:
            return _depthwise_fans(shape)
    elif isinstance(layer, (layers.SeparableConv1D, layers.SeparableConv2D)):
        if variable is layer.depthwise_kernel:
            return _depthwise_fans(shape)
        if variable is layer.pointwise_kernel:
            return compute_fans(shape)
    elif isinstance(
        layer, (layers.Conv1DTranspose, layers.Conv2DTranspose, layers.Conv3DTranspose)
    ):
        if variable is layer.kernel:
            return compute_fans(shape, in_axis=-1, out_axis=-2)
    elif isinstance(layer, (layers.Conv1D, layers.Conv2D, layers.Conv3D)):
        if variable is layer.kernel:
            fan_in, fan_out = compute_fans(shape)
            return fan_in, fan_out // layer.groups
    elif isinstance(layer, layers.Dense):
        if variable is layer.kernel:
            return compute_fans(shape)
    else:
        raise ValueError(
            f"Layer {layer.name!r} ({type(layer).__name__}) has no fan rule: "
            "layer_fans knows Dense, EinsumDense (MultiHeadAttention), Conv1D/2D/3D, "
            "their Transpose, DepthwiseConv1D/2D, SeparableConv1D/2D, Embedding and "
            "LSTM/GRU/SimpleRNN layers and cells."
        )
    raise ValueError(
        f"No fan rule for variable {variable.path!r} of layer {layer.name!r} "
        f"({type(layer).__name__}): it is not one of the layer's kernels."
    )
