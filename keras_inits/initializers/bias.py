"""Bias initializers: PriorBias for output heads, ChronoBias for LSTMs."""

from __future__ import annotations

import math
from collections.abc import Sequence

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
from keras_inits.registry import register


def _as_number(value):
    """A numpy scalar as the Python number it holds (JSON-serializable)."""
    return value.item() if isinstance(value, np.generic) else value


@register(
    formula="sigmoid: b = log(p / (1 - p)); softmax: b_k = log(p_k)",
    reference="Lin et al. 2017, Focal loss for dense object detection (RetinaNet prior)",
)
class PriorBias(keras.initializers.Initializer):
    """Output-layer bias that makes the untrained head predict a prior.

    - ``prior=p`` (a float in (0, 1)) for sigmoid heads: every unit gets
      ``b = log(p / (1 - p))``, so ``sigmoid(b) = p`` (RetinaNet uses
      ``p = 0.01`` so rare positives do not swamp the first steps).
    - ``prior=[p_1, ..., p_K]`` (positive, summing to 1) for softmax heads:
      ``b_k = log(p_k)``, so ``softmax(b) = p``; the bias length must be K.

    With a zero (or small) kernel the first loss is then the prior's entropy
    instead of a random, possibly confident, guess.

    Args:
        prior: a probability in (0, 1), or a sequence of class probabilities
            (each in (0, 1], summing to 1 within 1e-6).

    Example:

    >>> head = keras.layers.Dense(1, activation="sigmoid", bias_initializer=PriorBias(0.01))
    >>> head = keras.layers.Dense(3, activation="softmax",
    ...                           bias_initializer=PriorBias([0.7, 0.2, 0.1]))

    Reference:
        Lin, Goyal, Girshick, He, Dollár 2017, "Focal loss for dense object
        detection"; Karpathy 2019, "A recipe for training neural networks".
    """

    def __init__(self, prior: float | Sequence[float] = 0.01):
        if isinstance(prior, (list, tuple, np.ndarray)):
            values = [_as_number(p) for p in np.asarray(prior, dtype=object).ravel()]
            for p in values:
                check_number("prior", p)
            if np.ndim(prior) != 1 or not values or any(p <= 0 or p > 1 for p in values):
                raise ValueError(
                    "Argument `prior` must be a probability in (0, 1) or a flat, "
                    "non-empty sequence of class probabilities in (0, 1]. "
                    f"Received: prior={list(values)}"
                )
            if abs(math.fsum(values) - 1.0) > 1e-6:
                raise ValueError(
                    "Argument `prior` must sum to 1 (within 1e-6) for a softmax head. "
                    f"Received: prior={values} (sum {math.fsum(values):.9g})"
                )
            self.prior = values
        else:
            prior = _as_number(prior)
            check_number("prior", prior)
            if not 0.0 < prior < 1.0:
                raise ValueError(
                    "Argument `prior` must be in (0, 1) for a sigmoid head. "
                    f"Received: prior={prior}"
                )
            self.prior = prior

    def __call__(self, shape, dtype=None):
        dtype = float_dtype(dtype)
        shape = check_shape(shape)
        if isinstance(self.prior, list):
            if shape != (len(self.prior),):
                raise ValueError(
                    f"PriorBias with {len(self.prior)} class priors needs a bias of "
                    f"shape ({len(self.prior)},). Received: shape={shape}"
                )
            values = np.log(np.asarray(self.prior, dtype="float64"))
        else:
            values = np.full(shape, math.log(self.prior / (1.0 - self.prior)))
        return ops.convert_to_tensor(values.astype(compute_dtype(dtype)), dtype=dtype)

    def get_config(self):
        return {"prior": self.prior}


@register(
    formula="LSTM bias [i, f, c, o]: b_f = log U[1, T-1], b_i = -b_f, b_c = b_o = 0",
    reference="Tallec & Ollivier 2018, Can recurrent neural networks warp time?",
)
class ChronoBias(RandomInitializer):
    """Chrono initialization of an LSTM bias (Tallec & Ollivier 2018).

    For Keras' LSTM bias of length ``4 * units`` in gate order
    ``[input, forget, cell, output]``: ``b_f = log(u)`` with ``u ~ U[1, T - 1]``
    per unit, ``b_i = -b_f``, and ``b_c = b_o = 0``. The forget gates then
    start with characteristic memory times spread over ``[1, T - 1]`` steps,
    for dependencies up to ``max_timesteps = T`` long.

    Use it with ``keras.layers.LSTM(..., unit_forget_bias=False)``. With
    ``unit_forget_bias=True`` (Keras' default) the layer does not pass the
    whole bias: it calls the initializer on ``(units,)`` and ``(2 * units,)``
    and puts ones in between, so ChronoBias raises (``units`` not a multiple
    of 4) or, for ``units`` a multiple of 4, fills the input, cell and output
    slices with meaningless values. Shapes alone cannot tell those calls
    apart from a real LSTM bias.

    Example:

    >>> lstm = keras.layers.LSTM(
    ...     64, unit_forget_bias=False, bias_initializer=ChronoBias(max_timesteps=100))

    Args:
        max_timesteps: T, the longest dependency expected (> 2).
        seed: int, ``keras.random.SeedGenerator`` or None (Keras semantics).

    Reference:
        Tallec & Ollivier 2018, "Can recurrent neural networks warp time?".
    """

    def __init__(self, max_timesteps: float, seed=None):
        max_timesteps = _as_number(max_timesteps)
        if check_number("max_timesteps", max_timesteps) <= 2:
            raise ValueError(
                "Argument `max_timesteps` must be greater than 2 (U[1, T-1] must be "
                f"an interval). Received: max_timesteps={max_timesteps}"
            )
        self.max_timesteps = max_timesteps
        super().__init__(seed=seed)

    def __call__(self, shape, dtype=None):
        dtype = float_dtype(dtype)
        shape = check_shape(shape)
        if len(shape) != 1 or shape[0] % 4 or shape[0] == 0:
            raise ValueError(
                "ChronoBias is for LSTM bias vectors of length 4 * units (gates i, f, "
                "c, o; use keras.layers.LSTM(..., unit_forget_bias=False)). "
                f"Received: shape={shape}"
            )
        units = shape[0] // 4
        work = compute_dtype(dtype)
        u = random.uniform(
            (units,), minval=1.0, maxval=self.max_timesteps - 1.0, dtype=work, seed=self.seed
        )
        forget = ops.log(u)
        zeros = ops.zeros((units,), dtype=work)
        return ops.cast(ops.concatenate([-forget, forget, zeros, zeros]), dtype)

    def get_config(self):
        return {"max_timesteps": self.max_timesteps, **super().get_config()}
