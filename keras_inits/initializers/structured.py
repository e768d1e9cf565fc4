"""Structured initializers: Dirac (identity conv), ZerO (identity/Hadamard), Sparse."""

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
    formula="W[centre, d, g*out/groups + d] = 1 for d < min(in/groups, out/groups)",
    reference="torch.nn.init.dirac_ (identity-preserving convolutions)",
)
class Dirac(keras.initializers.Initializer):
    """Identity convolution kernel: ``torch.nn.init.dirac_`` in Keras layout.

    For a kernel ``(k..., in/groups, out)`` every tap is zero except the
    spatial centre ``k // 2``, where input channel ``d`` of group ``g`` maps to
    output channel ``g * out/groups + d`` with weight 1, for ``d <
    min(in/groups, out/groups)``. With ``padding="same"`` and as many outputs
    as inputs the convolution is the identity. The values equal torch's
    after its ``(out, in/groups, k...)`` layout is transposed to Keras'.

    Args:
        groups: number of channel groups (``Conv2D(groups=...)``); ``out``
            must be divisible by it.

    Reference:
        torch.nn.init.dirac_; Zagoruyko & Komodakis 2017, "DiracNets".
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
                f"({self.groups}). Received: shape={shape}"
            )
        out_per_group = n_out // self.groups
        kernel = np.zeros(shape, dtype="float32")
        centre = centre_index(shape[:-2])
        for g in range(self.groups):
            for d in range(min(in_per_group, out_per_group)):
                kernel[(*centre, d, g * out_per_group + d)] = 1.0
        return ops.convert_to_tensor(kernel, dtype=dtype)

    def get_config(self):
        return {"groups": self.groups}


def sylvester_hadamard(p: int) -> np.ndarray:
    """The Sylvester Hadamard matrix of order ``p`` (a power of 2), entries +-1."""
    h = np.ones((1, 1), dtype="float32")
    while h.shape[0] < p:
        h = np.block([[h, h], [h, -h]])
    return h


def zero_matrix(n_in: int, n_out: int) -> np.ndarray:
    """ZerO's matrix in Keras layout (n_in, n_out); see :class:`ZerO`."""
    if n_out <= n_in:
        return np.eye(n_in, n_out, dtype="float32")
    c = math.ceil(math.log2(n_out))
    p = 2**c
    paper = sylvester_hadamard(p)[:n_out, :n_in] / 2.0 ** (c / 2.0)  # (out, in)
    return np.ascontiguousarray(paper.T)


@register(
    formula="out <= in: partial identity; out > in: I(out x p) H_p / 2^(c/2) I(p x in), p = 2^ceil(log2 out)",
    reference="Zhao et al. 2021, ZerO initialization",
)
class ZerO(keras.initializers.Initializer):
    """ZerO initialization (Zhao et al. 2021): only zeros, ones and Hadamard signs.

    Deterministic. The paper writes a layer as ``y = W x`` with ``W`` of
    shape ``(m, n)`` = (out, in); Keras stores ``x @ K`` with ``K`` of shape
    ``(n, m)`` = (in, out), so the Keras kernel is the paper's ``W``
    transposed:

    - ``m <= n`` (not expanding): ``W = I(m x n)``, the partial identity.
    - ``m > n`` (expanding): ``W = I(m x p) H_p / 2^(c/2) I(p x n)`` with
      ``c = ceil(log2 m)``, ``p = 2^c`` and ``H_p`` the Sylvester Hadamard
      matrix: the first ``m`` rows and ``n`` columns of the orthogonal
      ``H_p / sqrt(p)`` (as the authors' code builds it). With Sylvester's
      ``H_p``, output units ``i`` and ``i + p/2`` coincide when
      ``n <= p/2``; that is the paper's construction, kept as is.

    Convolution kernels ``(k..., in, out)`` get the same matrix at the centre
    tap ``k // 2`` and zeros elsewhere.

    Reference:
        Zhao, Schäfer, Anandkumar 2021, "ZerO initialization: initializing
        neural networks with only zeros and ones".
    """

    def __call__(self, shape, dtype=None):
        dtype = float_dtype(dtype)
        shape = check_shape(shape)
        if len(shape) < 2:
            raise ValueError(
                f"ZerO needs a kernel of rank >= 2 (Dense or convolution). Received: shape={shape}"
            )
        if len(shape) == 2 and shape[1] <= shape[0]:
            return ops.eye(shape[0], shape[1], dtype=dtype)  # no host round trip
        matrix = zero_matrix(shape[-2], shape[-1])
        if len(shape) == 2:
            return ops.convert_to_tensor(matrix, dtype=dtype)
        return ops.cast(at_centre(ops.convert_to_tensor(matrix), shape), dtype)

    def get_config(self):
        return {}


@register(
    formula="per output unit: ceil(sparsity * fan_in) weights 0, the rest N(0, std^2)",
    reference="Martens 2010, Deep learning via Hessian-free optimization",
)
class Sparse(RandomInitializer):
    """Sparse initialization (Martens 2010), as in torch.nn.init.sparse_.

    Each output unit (last axis) gets exactly ``ceil(sparsity * fan_in)`` of
    its ``fan_in`` incoming weights set to zero, chosen uniformly at random;
    the others are drawn from ``N(0, std^2)``. ``fan_in`` is the product of
    all axes but the last (Dense ``in``; convolutions ``k... * in``).

    Torch zeroes a fraction of each *column of its (out, in) weight*, i.e.
    per input unit; Martens' scheme, followed here, fixes the number of
    non-zero *incoming* weights of each unit.

    Args:
        sparsity: fraction of each unit's incoming weights set to zero, in [0, 1).
        std: standard deviation of the non-zero weights.
        seed: int, ``keras.random.SeedGenerator`` or None (Keras semantics).

    Reference:
        Martens 2010, "Deep learning via Hessian-free optimization".
    """

    def __init__(self, sparsity: float = 0.1, std: float = 0.01, seed=None):
        self.sparsity = check_number("sparsity", sparsity, non_negative=True)
        if self.sparsity >= 1.0:
            raise ValueError(
                f"Argument `sparsity` must be in [0, 1). Received: sparsity={sparsity}"
            )
        self.std = check_number("std", std, positive=True)
        super().__init__(seed=seed)

    def __call__(self, shape, dtype=None):
        dtype = float_dtype(dtype)
        shape = check_shape(shape)
        if len(shape) < 2:
            raise ValueError(
                f"Sparse needs a kernel of rank >= 2. Received: shape={shape}"
            )
        fan_in, n_out = math.prod(shape[:-1]), shape[-1]
        work = compute_dtype(dtype)
        seed = self.seed
        if not isinstance(seed, random.SeedGenerator):
            seed = random.SeedGenerator(seed)
        values = random.normal((fan_in, n_out), stddev=self.std, dtype=work, seed=seed)
        num_zeros = math.ceil(self.sparsity * fan_in)
        scores = random.uniform((fan_in, n_out), dtype=work, seed=seed)
        ranks = ops.argsort(ops.argsort(scores, axis=0), axis=0)
        values = ops.where(ranks < num_zeros, ops.zeros_like(values), values)
        return ops.cast(ops.reshape(values, shape), dtype)

    def get_config(self):
        return {"sparsity": self.sparsity, "std": self.std, **super().get_config()}
