"""Kaiming (He) and Xavier (Glorot) initializers with torch.nn.init's semantics.

Keras has HeNormal and GlorotUniform with fixed gains; these add the
arguments PyTorch users rely on: a negative slope and fan mode for Kaiming, a
gain for Xavier. They subclass ``keras.initializers.VarianceScaling`` so that
``EinsumDense`` and ``MultiHeadAttention`` hand them the true
``input_axes``/``output_axes`` (keras >= 3.15), and they compute in float32
and cast once at the end.
"""

from __future__ import annotations

import math
from typing import Literal

import keras
from keras import ops

from keras_inits.fans import compute_fans
from keras_inits.gain import calculate_gain
from keras_inits.initializers._base import (
    check_choice,
    check_number,
    check_shape,
    compute_dtype,
    float_dtype,
)
from keras_inits.registry import register

# Keras divides by the std of a unit normal truncated at +-2 so the truncated
# sample has the requested std; keep the same constant for the same meaning.
_TRUNCATED_STD = 0.87962566103423978


def axes_fans(shape, input_axes, output_axes):
    """Fans from explicit axes (as EinsumDense passes them), else conv convention."""
    if input_axes is None or output_axes is None:
        return compute_fans(shape)
    return compute_fans(shape, in_axis=tuple(input_axes), out_axis=tuple(output_axes))


def _check_axes(name, axes):
    if axes is None:
        return None
    if isinstance(axes, int) or not all(
        isinstance(a, int) and not isinstance(a, bool) for a in axes
    ):
        raise TypeError(
            f"Argument `{name}` must be a list of integers or None. "
            f"Received: {name}={axes!r}"
        )
    return list(axes)


class _GainScaling(keras.initializers.VarianceScaling):
    """VarianceScaling with ``scale = gain**2``, computed in float32."""

    def __init__(self, gain, mode, distribution, seed, input_axes, output_axes):
        super().__init__(
            scale=gain**2,
            mode=mode,
            distribution=distribution,
            seed=seed,
            input_axes=_check_axes("input_axes", input_axes),
            output_axes=_check_axes("output_axes", output_axes),
        )
        self.gain = gain

    def stddev(self, shape) -> float:
        """The standard deviation this initializer gives a tensor of `shape`."""
        fan_in, fan_out = axes_fans(check_shape(shape), self.input_axes, self.output_axes)
        fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}
        return self.gain / math.sqrt(max(1.0, fan[self.mode]))

    def __call__(self, shape, dtype=None):
        dtype = float_dtype(dtype)
        shape = check_shape(shape)
        std = self.stddev(shape)
        work = compute_dtype(dtype)
        if self.distribution == "uniform":
            limit = math.sqrt(3.0) * std
            values = keras.random.uniform(
                shape, minval=-limit, maxval=limit, dtype=work, seed=self.seed
            )
        elif self.distribution == "untruncated_normal":
            values = keras.random.normal(shape, stddev=std, dtype=work, seed=self.seed)
        else:
            values = keras.random.truncated_normal(
                shape, stddev=std / _TRUNCATED_STD, dtype=work, seed=self.seed
            )
        return ops.cast(values, dtype)

    def _axes_config(self):
        return {"input_axes": self.input_axes, "output_axes": self.output_axes}


def _kaiming_gain(negative_slope, nonlinearity):
    negative_slope = check_number("negative_slope", negative_slope)
    if not isinstance(nonlinearity, str):
        raise TypeError(
            "Argument `nonlinearity` must be a string. "
            f"Received: nonlinearity={nonlinearity!r}"
        )
    if nonlinearity.lower() in ("relu", "leaky_relu"):
        return calculate_gain("leaky_relu", negative_slope)
    if negative_slope != 0.0:
        raise ValueError(
            "Argument `negative_slope` only applies to nonlinearity 'relu' or "
            f"'leaky_relu'. Received: negative_slope={negative_slope} with "
            f"nonlinearity={nonlinearity!r}"
        )
    return calculate_gain(nonlinearity)


class _Kaiming(_GainScaling):
    def __init__(
        self, negative_slope, mode, nonlinearity, seed, input_axes, output_axes, dist
    ):
        check_choice("mode", mode, ("fan_in", "fan_out"))
        gain = _kaiming_gain(negative_slope, nonlinearity)
        self.negative_slope = negative_slope
        self.nonlinearity = nonlinearity
        super().__init__(gain, mode, dist, seed, input_axes, output_axes)

    def get_config(self):
        return {
            "negative_slope": self.negative_slope,
            "mode": self.mode,
            "nonlinearity": self.nonlinearity,
            **super(keras.initializers.VarianceScaling, self).get_config(),
            **self._axes_config(),
        }


@register(
    formula="N(0, std^2), std = gain / sqrt(fan), gain = sqrt(2 / (1 + slope^2)) for relu",
    reference="He et al. 2015, Delving deep into rectifiers (torch.nn.init.kaiming_normal_)",
)
class KaimingNormal(_Kaiming):
    """Kaiming (He) normal initializer with torch.nn.init.kaiming_normal_'s arguments.

    ``std = gain / sqrt(fan)`` with ``fan = fan_in`` or ``fan_out`` (`mode`)
    and ``gain = calculate_gain(nonlinearity)``; for ``"relu"``/``"leaky_relu"``
    ``gain = sqrt(2 / (1 + negative_slope**2))`` (He et al.'s PReLU formula).
    The defaults give ``std = sqrt(2 / fan_in)``, torch's default. Unlike
    torch, ``nonlinearity="relu"`` with a non-zero `negative_slope` uses the
    slope (a leaky rectifier is what a slope means); a slope with any other
    nonlinearity is an error. Unlike Keras' ``HeNormal`` the normal is
    untruncated by default (``truncated=True`` truncates at 2 std and
    rescales so the std is unchanged).

    Args:
        negative_slope: slope of the rectifier for negative inputs.
        mode: ``"fan_in"`` keeps forward variance, ``"fan_out"`` backward.
        nonlinearity: any name :func:`keras_inits.calculate_gain` knows.
        truncated: draw from a normal truncated at 2 std.
        seed: int, ``keras.random.SeedGenerator`` or None (Keras semantics:
            None draws one seed at construction).
        input_axes, output_axes: explicit fan axes (set by ``EinsumDense``).

    Example:

    >>> layer = keras.layers.Dense(64, kernel_initializer="kaiming_normal")
    >>> init = KaimingNormal(negative_slope=0.2, mode="fan_out", seed=1)

    Reference:
        He et al. 2015, "Delving deep into rectifiers: surpassing human-level
        performance on ImageNet classification".
    """

    def __init__(
        self,
        negative_slope: float = 0.0,
        mode: Literal["fan_in", "fan_out"] = "fan_in",
        nonlinearity: str = "relu",
        truncated: bool = False,
        seed=None,
        input_axes=None,
        output_axes=None,
    ):
        if not isinstance(truncated, bool):
            raise TypeError(
                f"Argument `truncated` must be a bool. Received: truncated={truncated!r}"
            )
        self.truncated = truncated
        dist = "truncated_normal" if truncated else "untruncated_normal"
        super().__init__(
            negative_slope, mode, nonlinearity, seed, input_axes, output_axes, dist
        )

    def get_config(self):
        return {**super().get_config(), "truncated": self.truncated}


@register(
    formula="U(-b, b), b = gain * sqrt(3 / fan), gain = sqrt(2 / (1 + slope^2)) for relu",
    reference="He et al. 2015, Delving deep into rectifiers (torch.nn.init.kaiming_uniform_)",
)
class KaimingUniform(_Kaiming):
    """Kaiming (He) uniform initializer with torch.nn.init.kaiming_uniform_'s arguments.

    Samples ``U(-bound, bound)`` with ``bound = gain * sqrt(3 / fan)``, i.e. the
    same std as :class:`KaimingNormal`. Arguments as there (no `truncated`).

    Reference:
        He et al. 2015, "Delving deep into rectifiers".
    """

    def __init__(
        self,
        negative_slope: float = 0.0,
        mode: Literal["fan_in", "fan_out"] = "fan_in",
        nonlinearity: str = "relu",
        seed=None,
        input_axes=None,
        output_axes=None,
    ):
        super().__init__(
            negative_slope, mode, nonlinearity, seed, input_axes, output_axes, "uniform"
        )


class _Xavier(_GainScaling):
    _distribution = ""

    def __init__(self, gain: float = 1.0, seed=None, input_axes=None, output_axes=None):
        gain = check_number("gain", gain, positive=True)
        super().__init__(gain, "fan_avg", self._distribution, seed, input_axes, output_axes)

    def get_config(self):
        return {
            "gain": self.gain,
            **super(keras.initializers.VarianceScaling, self).get_config(),
            **self._axes_config(),
        }


@register(
    formula="N(0, std^2), std = gain * sqrt(2 / (fan_in + fan_out))",
    reference="Glorot & Bengio 2010 (torch.nn.init.xavier_normal_)",
)
class XavierNormal(_Xavier):
    """Xavier (Glorot) normal initializer with a gain, as torch.nn.init.xavier_normal_.

    ``std = gain * sqrt(2 / (fan_in + fan_out))``, untruncated. ``gain=1`` is
    Keras' ``GlorotNormal`` without truncation; use
    ``gain=calculate_gain("tanh")`` for tanh networks.

    Args:
        gain: positive multiplier of the std.
        seed: int, ``keras.random.SeedGenerator`` or None.
        input_axes, output_axes: explicit fan axes (set by ``EinsumDense``).

    Reference:
        Glorot & Bengio 2010, "Understanding the difficulty of training deep
        feedforward neural networks".
    """

    _distribution = "untruncated_normal"


@register(
    formula="U(-b, b), b = gain * sqrt(6 / (fan_in + fan_out))",
    reference="Glorot & Bengio 2010 (torch.nn.init.xavier_uniform_)",
)
class XavierUniform(_Xavier):
    """Xavier (Glorot) uniform initializer with a gain, as torch.nn.init.xavier_uniform_.

    ``U(-bound, bound)``, ``bound = gain * sqrt(6 / (fan_in + fan_out))``.

    Reference:
        Glorot & Bengio 2010, "Understanding the difficulty of training deep
        feedforward neural networks".
    """

    _distribution = "uniform"
