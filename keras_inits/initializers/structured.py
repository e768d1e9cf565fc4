"""Structured initializers: Dirac (identity conv), ZerO (identity/Hadamard), Sparse.

Dirac and ZerO are deterministic: their values are built host-side with numpy
(small 0/1/sign constants) and converted once to the requested dtype. Sparse
draws all its randomness in one call, so one int seed gives one result.
"""

from __future__ import annotations

import math

import keras
import numpy as np
from keras import ops, random
from keras.src.initializers.random_initializers import RandomInitializer

from keras_inits.initializers._base import (
    check_number,
    check_shape,
    compute_dtype,
    float_dtype,
)
from keras_inits.initializers.orthogonal import (
    at_centre,
    centre_index,
    check_conv_shape,
)
from keras_inits.registry import register


@register(
    formula="W[centre, d, g*out/groups + d] = 1 for d < min(in/groups, out/groups), else 0",
    reference="torch.nn.init.dirac_; Zagoruyko & Komodakis 2017, DiracNets",
)
class Dirac(keras.initializers.Initializer):
    """Identity convolution kernel: ``torch.nn.init.dirac_`` in Keras layout.

    For a kernel ``(k..., in/groups, out)`` (rank 3/4/5) every tap is zero
    except the spatial centre ``k // 2``, where, in each group ``g``, input
    channel ``d`` maps to output channel ``g * out/groups + d`` with weight 1,
    for ``d < min(in/groups, out/groups)``. With ``padding="same"``, an odd
    kernel size and as many outputs as inputs the convolution is exactly the
    identity (an even kernel shifts by one pixel; see
    :func:`~keras_inits.initializers.orthogonal.centre_index`). The values
    equal torch's after its ``(out, in/groups, k...)`` layout is transposed to
    Keras' ``(k..., in/groups, out)``.

    Args:
        groups: number of channel groups (``Conv2D(groups=...)``); the
            output channels must be divisible by it.

    Example:

    >>> conv = keras.layers.Conv2D(16, 3, padding="same", kernel_initializer="dirac")
    >>> grouped = keras.layers.Conv2D(16, 3, groups=2, kernel_initializer=Dirac(groups=2))

    Reference:
        torch.nn.init.dirac_; Zagoruyko & Komodakis 2017, "DiracNets: training
        very deep neural networks without skip-connections".
    """

    def __init__(self, groups: int = 1):
        if isinstance(groups, bool) or not isinstance(groups, int) or groups < 1:
            raise ValueError(
                f"Argument `groups` must be a positive integer. Received: groups={groups!r}"
            )
        self.groups = groups

    def __call__(self, shape, dtype=None):
        dtype = float_dtype(dtype)
        shape = check_conv_shape("Dirac", shape)
        in_per_group, n_out = shape[-2:]
        if n_out % self.groups:
            raise ValueError(
                f"Dirac: out_channels ({n_out}) must be divisible by groups "
                f"({self.groups}). Received: shape={shape} with groups={self.groups}"
            )
        out_per_group = n_out // self.groups
        kernel = np.zeros(shape, dtype="float32")
        if math.prod(shape):
            d = np.arange(min(in_per_group, out_per_group))
            g = np.arange(self.groups)[:, None]
            kernel[(*centre_index(shape[:-2]), d[None, :], g * out_per_group + d)] = 1.0
        return ops.convert_to_tensor(kernel, dtype=dtype)

    def get_config(self):
        return {"groups": self.groups}


def hadamard_block(rows: int, cols: int, order: int) -> np.ndarray:
    """The top-left (rows, cols) block of the Sylvester Hadamard matrix of
    size `order` (a power of 2), without building the whole matrix:
    ``H[i, j] = (-1) ** popcount(i & j)``."""
    bits = np.arange(rows)[:, None] & np.arange(cols)[None, :]
    parity = np.zeros_like(bits)
    for _ in range(max(1, order.bit_length())):
        parity ^= bits & 1
        bits >>= 1
    return (1 - 2 * parity).astype("float32")


def zero_matrix(n_in: int, n_out: int, dtype: str = "float32") -> np.ndarray:
    """ZerO's matrix in Keras layout (n_in, n_out), computed in `dtype`; see :class:`ZerO`."""
    if n_out <= n_in:
        return np.eye(n_in, n_out, dtype=dtype)
    c = math.ceil(math.log2(n_out))
    scale = np.asarray(2.0 ** (c / 2.0), dtype=dtype)
    paper = hadamard_block(n_out, n_in, 2**c).astype(dtype) / scale  # (out, in)
    return np.ascontiguousarray(paper.T)


@register(
    formula=(
        "out <= in: partial identity; out > in: I(out x p) H_p / 2^(c/2) I(p x in), "
        "c = ceil(log2 out), p = 2^c"
    ),
    reference="Zhao et al. 2021, ZerO initialization",
)
class ZerO(keras.initializers.Initializer):
    """ZerO initialization (Zhao et al. 2021): only zeros, ones and Hadamard signs.

    Deterministic (no seed). The paper writes a layer as ``y = W x`` with
    ``W`` of shape ``(m, n)`` = (out, in); Keras computes ``y = x @ K`` with
    ``K`` of shape ``(n, m)`` = (in, out), so the Keras kernel is the paper's
    ``W`` transposed, ``K = W^T``:

    - ``m <= n`` (same width or narrowing): ``W = I(m x n)``, the partial
      identity (``K[i, i] = 1`` for ``i < m``, 0 elsewhere).
    - ``m > n`` (widening): ``W = I(m x p) H_p / 2^(c/2) I(p x n)`` with
      ``c = ceil(log2 m)``, ``p = 2^c``, ``H_p`` the Sylvester Hadamard matrix
      and ``I(a x b)`` a partial identity: the first ``m`` rows and ``n``
      columns of the orthogonal ``H_p / sqrt(p)``, as the authors' code builds
      it. With Sylvester's ``H_p`` output units ``i`` and ``i + p/2`` coincide
      when ``n <= p/2``; that is the paper's construction, kept as is.

    Convolution kernels ``(k..., in, out)`` get the same (in, out) matrix at
    the centre tap ``k // 2`` and zeros elsewhere. Any float dtype; the
    Hadamard entries ``+-2^(-c/2)`` are rounded once to it.

    Example:

    >>> layer = keras.layers.Dense(128, kernel_initializer="zer_o")

    Reference:
        Zhao, Schäfer, Anandkumar 2021, "ZerO initialization: initializing
        neural networks with only zeros and ones".
    """

    def __call__(self, shape, dtype=None):
        dtype = float_dtype(dtype)
        shape = check_shape(shape)
        if len(shape) < 2:
            raise ValueError(
                "ZerO needs a kernel of rank >= 2 (Dense (in, out) or convolution "
                f"(k..., in, out)). Received: shape={shape}"
            )
        if len(shape) > 2:
            shape = check_conv_shape("ZerO", shape)
        if math.prod(shape) == 0:
            return ops.zeros(shape, dtype=dtype)
        if len(shape) == 2 and shape[1] <= shape[0]:
            return ops.eye(shape[0], shape[1], dtype=dtype)  # no host round trip
        matrix = zero_matrix(shape[-2], shape[-1], compute_dtype(dtype))
        if len(shape) == 2:
            return ops.convert_to_tensor(matrix, dtype=dtype)
        centred = at_centre(ops.convert_to_tensor(matrix, dtype=compute_dtype(dtype)), shape)
        return ops.cast(centred, dtype)

    def get_config(self):
        return {}


@register(
    formula="per output unit: ceil(sparsity * fan_in) incoming weights 0, the rest N(0, std^2)",
    reference="Martens 2010, Deep learning via Hessian-free optimization",
)
class Sparse(RandomInitializer):
    """Sparse initialization (Martens 2010).

    Each output unit (last axis) gets exactly ``ceil(sparsity * fan_in)`` of
    its ``fan_in`` incoming weights set to zero, chosen uniformly at random
    and independently per unit; the others are drawn from ``N(0, std^2)``.
    ``fan_in`` is the product of all axes but the last (Dense ``in``;
    convolutions ``prod(k) * in``): for a Keras kernel that is "a fraction
    `sparsity` of each column zero".

    torch.nn.init.sparse_ zeroes a fraction of each column of its
    ``(out, in)`` weight, i.e. of each *input* unit's outgoing weights;
    Martens' scheme, followed here, fixes the number of non-zero *incoming*
    weights of each unit, so every unit's pre-activation has the same
    variance ``(fan_in - zeros) * std^2 * E[x^2]``.

    Args:
        sparsity: fraction of each unit's incoming weights set to zero, in [0, 1).
        std: standard deviation of the non-zero weights (> 0).
        seed: int, ``keras.random.SeedGenerator`` or None (Keras semantics).

    Example:

    >>> layer = keras.layers.Dense(64, kernel_initializer=Sparse(0.9, std=1.0, seed=0))

    Reference:
        Martens 2010, "Deep learning via Hessian-free optimization".
    """

    def __init__(self, sparsity: float = 0.1, std: float = 0.01, seed=None):
        value = check_number("sparsity", sparsity, non_negative=True)
        if value >= 1.0:
            raise ValueError(
                f"Argument `sparsity` must be in [0, 1). Received: sparsity={sparsity}"
            )
        check_number("std", std, positive=True)
        self.sparsity = sparsity
        self.std = std
        super().__init__(seed=seed)

    def __call__(self, shape, dtype=None):
        dtype = float_dtype(dtype)
        shape = check_shape(shape)
        if len(shape) < 2:
            raise ValueError(
                "Sparse needs a kernel of rank >= 2 (Dense (in, out) or convolution "
                f"(k..., in, out)). Received: shape={shape}"
            )
        fan_in, n_out = math.prod(shape[:-1]), shape[-1]
        if fan_in * n_out == 0:
            return ops.zeros(shape, dtype=dtype)
        # One draw: half the values, half the scores that pick the zeros, so
        # an int seed is used once and a SeedGenerator advances once.
        z = random.normal((2, fan_in, n_out), dtype=compute_dtype(dtype), seed=self.seed)
        values, scores = z[0] * float(self.std), z[1]
        # Rounded first so that 0.3 * 10 (3.0000000000000004) gives 3 zeros.
        num_zeros = math.ceil(round(float(self.sparsity) * fan_in, 9))
        ranks = ops.argsort(ops.argsort(scores, axis=0), axis=0)
        values = ops.where(ranks < num_zeros, ops.zeros_like(values), values)
        return ops.cast(ops.reshape(values, shape), dtype)

    def get_config(self):
        return {"sparsity": self.sparsity, "std": self.std, **super().get_config()}
