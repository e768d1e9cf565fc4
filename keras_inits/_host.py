"""Host-side (numpy) arithmetic for the eager model-level steps.

The model-level steps (reinitialize, lsuv, data_dependent_init, ...) run
eagerly, one variable or one layer at a time, and read every statistic back
to Python anyway. Doing their small per-variable arithmetic in numpy instead
of ``keras.ops`` costs nothing on TensorFlow and torch and saves JAX a
compilation per op and per distinct shape: JAX runs every eager op as an XLA
program compiled for its input shapes, so ``ops.var`` on 53 differently
shaped ResNet50 activations is 53 compilations (0.05-0.3 s each on a CPU).
The layers themselves still run on the backend; only what they read and
write crosses to the host. Random draws stay ``keras.random`` draws (seeded
per backend as Keras seeds them), made in fixed-length chunks on JAX
(:func:`fixed_draw_length`). Nothing here is for traced code: the
initializers, which may run under ``jit``, keep using ``keras.ops``.
"""

from __future__ import annotations

import math

import keras
import ml_dtypes
import numpy as np
from keras import ops

from keras_inits._model import variable_seed

# Flat lengths a draw is made in where every new shape costs a compilation
# (see fixed_draw_length): tiny variables in one short chunk, the rest in
# chunks of 2**16 values (at most 64k values drawn and thrown away per variable).
_DRAW_CHUNKS = (1 << 10, 1 << 16)


def to_host(x, dtype=np.float32) -> np.ndarray:
    """A backend tensor, variable or array as a numpy array of `dtype`."""
    return np.asarray(ops.convert_to_numpy(x), dtype=dtype)


def numpy_dtype(dtype):
    """The numpy dtype of a Keras dtype name (``bfloat16`` from ml_dtypes)."""
    name = keras.backend.standardize_dtype(dtype)
    return ml_dtypes.bfloat16 if name == "bfloat16" else np.dtype(name)


def assign(variable, value) -> None:
    """``variable.assign(value)`` for a host array, cast on the host first."""
    variable.assign(np.asarray(value).astype(numpy_dtype(variable.dtype), copy=False))


def fixed_draw_length(n):
    """The flat chunk length to draw `n` random values in, or None: draw the shape.

    The one backend-specific decision of this module. JAX runs every eager op,
    ``jax.random.normal`` included, as an XLA program compiled per input shape
    (about 0.3-2 s on a CPU for a random draw), so drawing each variable at its
    own shape costs a compilation per distinct shape: ResNet50's 320 variables
    took 20-40 s, almost all of it compiling. There every draw is made in
    chunks of a few fixed lengths, compiled once per process. With JAX's
    default (partitionable threefry) a draw's first ``n`` values are those of
    the draw of any longer length, so a variable of at most 2**16 values gets
    exactly the values the shape-sized draw gives; a larger one is drawn in
    several chunks, each with its own seed. Other backends (TensorFlow, torch)
    draw the variable's shape as before: their values are unchanged.
    """
    if keras.backend.backend() != "jax":
        return None
    return next((c for c in _DRAW_CHUNKS if n <= c), _DRAW_CHUNKS[-1])


def draw(fn, shape, seed, **kwargs) -> np.ndarray:
    """``fn(shape, dtype="float32", seed=seed, **kwargs)`` as a numpy array.

    `fn` is a ``keras.random`` function; see :func:`fixed_draw_length` for
    how the draw is split on JAX. Chunk 0 uses `seed`, chunk ``j`` the seed
    ``variable_seed(seed, f"chunk{j}")`` (``None`` stays ``None``: Keras'
    global seed generator gives each chunk a fresh seed).
    """
    shape = tuple(shape)
    n = math.prod(shape)
    chunk = fixed_draw_length(n)
    if chunk is None or n == 0:
        return to_host(fn(shape, dtype="float32", seed=seed, **kwargs))
    parts = [  # every chunk dispatched before the first is read back
        fn((chunk,), dtype="float32", seed=_chunk_seed(seed, j), **kwargs)
        for j in range(-(-n // chunk))
    ]
    flat = np.concatenate([to_host(p) for p in parts]) if len(parts) > 1 else to_host(parts[0])
    return flat[:n].reshape(shape)


def _chunk_seed(seed, j):
    return seed if j == 0 or seed is None else variable_seed(seed, f"chunk{j}")


def _signed_qr(a):
    """Q of the reduced QR of `a`, each column times the sign of R's diagonal
    (Mezzadri 2007), in ``keras.ops``."""
    q, r = ops.qr(a, mode="reduced")
    return q * ops.sign(ops.diagonal(r))[None, :]


def orthogonal(rows: int, cols: int, seed) -> np.ndarray:
    """A float32 (rows, cols) numpy matrix with orthonormal rows (rows <= cols)
    or columns, Haar-distributed, from a (max, min) ``keras.random.normal``
    draw ``A`` (made as :func:`draw` makes it).

    Backend-specific, by what measured fastest on ResNet50's 54 kernel
    shapes (2-core CPU, same process, both ways): on TensorFlow the
    sign-corrected QR of ``A`` in ``keras.ops`` (5.3 s; exactly
    :func:`keras_inits.initializers.orthogonal.orthogonal_matrix`); on JAX and
    torch, whose CPU QR is slow (JAX 38 s, and one XLA compilation per
    shape; torch 24 s), the orthogonal polar factor ``Q = A (A^T A)^(-1/2)``
    in float64 numpy (5-10 s: one matrix product and the eigendecomposition
    of the small Gram matrix). For any orthogonal ``U``, ``UA`` is
    distributed as ``A`` and its polar factor is ``UQ``, so ``Q`` is
    Haar-distributed too (a different matrix from the same draw). A Gram
    matrix too ill-conditioned to invert (eigenvalue ratio below 1e-12,
    never seen for a Gaussian draw) falls back to the QR.
    """
    big, small = max(rows, cols), min(rows, cols)
    a = draw(keras.random.normal, (big, small), seed)
    if keras.backend.backend() == "tensorflow":
        q = to_host(_signed_qr(ops.convert_to_tensor(a)))
    else:
        a = a.astype(np.float64)
        w, v = np.linalg.eigh(a.T @ a)
        if small and w[0] > w[-1] * 1e-12:
            q = a @ ((v / np.sqrt(w)) @ v.T)
        else:
            q, r = np.linalg.qr(a, mode="reduced")
            q = q * np.where(np.diagonal(r) < 0, -1.0, 1.0)[None, :]
    q = q.T if rows < cols else q
    return q.astype(np.float32)
