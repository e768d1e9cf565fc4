"""Orthogonal-type initializers: DeltaOrthogonal for convolution kernels.

One QR of a Gaussian matrix per kernel, with Mezzadri's sign correction so the
result is Haar-distributed (as torch.nn.init.orthogonal_ and Keras'
Orthogonal do), computed in float32 (QR fails in bfloat16 on every backend)
and cast once at the end. The helpers here (``orthogonal_matrix``,
``centre_index``, ``at_centre``, ``check_conv_shape``) are shared with
structured.py and lsuv.py.
"""

from __future__ import annotations

import math

import numpy as np
from keras import ops, random
from keras.src.initializers.random_initializers import RandomInitializer

from keras_inits.initializers._base import (
    check_number,
    check_shape,
    compute_dtype,
    float_dtype,
)
from keras_inits.registry import register


def orthogonal_matrix(rows: int, cols: int, seed, dtype: str = "float32"):
    """A (rows, cols) matrix with orthonormal rows (rows <= cols) or columns.

    Draws a Gaussian (max, min) matrix, takes its reduced QR and multiplies
    each column of Q by the sign of R's diagonal (Mezzadri 2007), so Q is
    Haar-distributed; then transposes when rows < cols. Exactly one QR.
    """
    big, small = max(rows, cols), min(rows, cols)
    a = random.normal((big, small), dtype=dtype, seed=seed)
    q, r = ops.qr(a, mode="reduced")
    q = q * ops.sign(ops.diagonal(r))[None, :]
    return ops.transpose(q) if rows < cols else q


def centre_index(spatial) -> tuple[int, ...]:
    """The centre tap of a kernel: ``k // 2`` per spatial axis.

    For an even ``k`` that is the later of the two middle taps (``k = 4``:
    tap 2), the index torch.nn.init.dirac_ uses. Keras' (and torch's)
    ``padding="same"`` puts ``(k - 1) // 2`` zeros before the input, so an
    even kernel with this tap maps ``x[i + 1]`` to output ``i``: a one-pixel
    shift, not the identity. Odd kernel sizes have no such ambiguity.
    """
    return tuple(k // 2 for k in spatial)


def at_centre(matrix, shape):
    """Place an (in, out) matrix at the centre tap of a (k..., in, out) kernel,
    zeros elsewhere (one broadcast multiply with a one-hot spatial mask)."""
    spatial = shape[:-2]
    mask = np.zeros(spatial, dtype="float32")
    mask[centre_index(spatial)] = 1.0
    mask = ops.convert_to_tensor(mask.reshape(*spatial, 1, 1), dtype=matrix.dtype)
    return mask * ops.reshape(matrix, (1,) * len(spatial) + tuple(shape[-2:]))


def check_conv_shape(name, shape):
    """`shape` as a tuple if it is a (spatial..., in, out) kernel of rank 3-5."""
    shape = check_shape(shape)
    if len(shape) not in (3, 4, 5):
        raise ValueError(
            f"{name} is for convolution kernels of rank 3, 4 or 5 (spatial..., in, "
            f"out: Conv1D/2D/3D). Received: shape={shape}"
        )
    return shape


@register(
    formula="centre tap (k//2) = gain * Q, Q (in x out) with Q Q^T = I; other taps 0",
    reference="Xiao et al. 2018, Dynamical isometry and a mean field theory of CNNs",
)
class DeltaOrthogonal(RandomInitializer):
    """Delta-orthogonal initializer for convolution kernels (Xiao et al. 2018).

    For a kernel of shape ``(k..., in, out)`` (Keras layout, rank 3/4/5 for
    Conv1D/2D/3D) every tap is zero except the spatial centre, which holds
    ``gain * Q`` with ``Q`` an ``in x out`` matrix with orthonormal rows
    (``Q Q^T = I``), Haar-distributed (one QR of a Gaussian matrix with
    Mezzadri's sign correction). The convolution then starts as an isometry
    of its input channels at every position (``|conv(x)| = gain * |x|`` with
    ``padding="same"``), which lets very deep plain CNNs train (dynamical
    isometry). Needs ``in <= out``: with fewer outputs than inputs no linear
    map preserves every input's norm.

    The centre tap is index ``k // 2`` on each spatial axis; for an even
    ``k`` that is the later of the two middle taps (``k = 4``: index 2), the
    one torch.nn.init.dirac_ uses (with ``padding="same"`` an even kernel
    then also shifts its input by one pixel; use odd kernel sizes).

    Args:
        gain: positive multiplier (``calculate_gain("relu")`` for relu nets).
        seed: int, ``keras.random.SeedGenerator`` or None (Keras semantics:
            None draws one seed at construction).

    Example:

    >>> layer = keras.layers.Conv2D(64, 3, kernel_initializer="delta_orthogonal")
    >>> init = DeltaOrthogonal(gain=calculate_gain("relu"), seed=0)

    Reference:
        Xiao, Bahri, Sohl-Dickstein, Schoenholz, Pennington 2018, "Dynamical
        isometry and a mean field theory of CNNs: how to train 10,000-layer
        vanilla convolutional neural networks"; Mezzadri 2007, "How to
        generate random matrices from the classical compact groups".
    """

    def __init__(self, gain: float = 1.0, seed=None):
        check_number("gain", gain, positive=True)
        self.gain = gain
        super().__init__(seed=seed)

    def __call__(self, shape, dtype=None):
        dtype = float_dtype(dtype)
        shape = check_conv_shape("DeltaOrthogonal", shape)
        n_in, n_out = shape[-2:]
        if n_in > n_out:
            raise ValueError(
                "DeltaOrthogonal needs in_channels <= out_channels: an orthogonal "
                f"map cannot preserve the norm of {n_in} input channels with "
                f"{n_out} output channels. Received: shape={shape}"
            )
        if math.prod(shape) == 0:
            return ops.zeros(shape, dtype=dtype)
        q = orthogonal_matrix(n_in, n_out, self.seed, compute_dtype(dtype))
        return ops.cast(at_centre(q * float(self.gain), shape), dtype)

    def get_config(self):
        return {"gain": self.gain, **super().get_config()}
