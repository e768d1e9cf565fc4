"""Initializers built from another initializer: ICNR and Scaled."""

from __future__ import annotations

import keras
from keras import ops

from keras_inits.initializers._base import (
    check_number,
    check_shape,
    float_dtype,
    resolve_initializer,
)
from keras_inits.registry import register


@register(
    formula="sub-kernel (k, k, in, out/scale^2) from base, tiled scale^2 times along out",
    reference="Aitken et al. 2017, Checkerboard artifact free sub-pixel convolution",
)
class ICNR(keras.initializers.Initializer):
    """ICNR: sub-pixel convolution initialized to nearest-neighbour resize.

    For a conv kernel ``(k..., in, C * scale^2)`` that feeds
    ``depth_to_space(scale)``, draws one sub-kernel ``(k..., in, C)`` from
    `base` and repeats it so that every one of the ``scale^2`` sub-pixels of an
    output block gets the same filter: the layer starts as "convolve, then
    nearest-neighbour upsample", with no checkerboard artifacts. The channel
    order is that of ``keras.ops.depth_to_space`` / ``tf.nn.depth_to_space``
    (NHWC, DCR): output ``[h*s + i, w*s + j, c]`` reads input channel
    ``(i*s + j) * C + c``, so the sub-kernel is tiled (not interleaved) along
    the output axis. The base sees the sub-kernel's shape, so its fans are the
    sub-kernel's (as in the paper).

    Args:
        base: any initializer (instance, name or config) for the sub-kernel.
        scale: the upsampling factor of the following depth_to_space.

    Reference:
        Aitken, Ledig, Theis, Caballero, Wang, Shi 2017, "Checkerboard artifact
        free sub-pixel convolution".
    """

    def __init__(self, base="kaiming_normal", scale: int = 2, seed=None):
        if isinstance(scale, bool) or not isinstance(scale, int) or scale < 1:
            raise ValueError(
                f"Argument `scale` must be a positive integer. Received: scale={scale!r}"
            )
        self.base = resolve_initializer(base, "base")
        if seed is not None and hasattr(self.base, "seed"):
            self.base = self.base.__class__.from_config({**self.base.get_config(), "seed": seed})
        self.scale = scale
        self.seed = seed

    def __call__(self, shape, dtype=None):
        dtype = float_dtype(dtype)
        shape = check_shape(shape)
        blocks = self.scale**2
        if len(shape) < 3 or shape[-1] % blocks:
            raise ValueError(
                f"ICNR needs a convolution kernel whose output channels are a multiple "
                f"of scale^2 = {blocks}. Received: shape={shape}"
            )
        sub = self.base((*shape[:-1], shape[-1] // blocks), dtype=dtype)
        return ops.tile(sub, (1,) * (len(shape) - 1) + (blocks,))

    def get_config(self):
        return {
            "base": keras.initializers.serialize(self.base),
            "scale": self.scale,
            "seed": self.seed,
        }


@register(
    formula="factor * base(shape)",
    reference="scaled initialization, e.g. Fixup / GPT-2 residual scaling",
)
class Scaled(keras.initializers.VarianceScaling):
    """Any initializer multiplied by a constant `factor`.

    ``Scaled("kaiming_normal", 0.5)`` draws from `base` and multiplies by
    `factor`. It subclasses ``VarianceScaling`` only so that ``EinsumDense``
    (and so ``MultiHeadAttention``) hands it the kernel's true
    ``input_axes``/``output_axes``; they are passed on to a fan-based
    (``VarianceScaling``) base, which then uses the true einsum fans. A base
    that is not fan-based ignores them.

    Args:
        base: the wrapped initializer (instance, name or config).
        factor: the multiplier (any finite number; 0 gives zeros).
        input_axes, output_axes: explicit fan axes for a fan-based base.
        seed: not used by Scaled itself; accepted because EinsumDense passes
            the initializer's seed when it clones it. The base's seed decides
            the values.

    Reference:
        e.g. Radford et al. 2019 (residual projections x 1/sqrt(2L)).
    """

    def __init__(self, base, factor: float = 1.0, input_axes=None, output_axes=None, seed=None):
        self.factor = check_number("factor", factor)
        base = resolve_initializer(base, "base")
        self.input_axes = input_axes
        self.output_axes = output_axes
        if (
            isinstance(base, keras.initializers.VarianceScaling)
            and input_axes is not None
            and output_axes is not None
            and (base.input_axes is None or base.output_axes is None)
        ):
            config = base.get_config()
            config.update(input_axes=list(input_axes), output_axes=list(output_axes))
            if "seed" in config and hasattr(base, "seed"):
                config["seed"] = base.seed
            base = base.__class__.from_config(config)
        self.base = base
        self.scale, self.mode, self.distribution = 1.0, "fan_in", "scaled"
        self._init_seed = None
        self.seed = getattr(base, "seed", seed)

    def __call__(self, shape, dtype=None):
        dtype = float_dtype(dtype)
        return ops.cast(self.base(shape, dtype=dtype) * self.factor, dtype)

    def get_config(self):
        return {
            "base": keras.initializers.serialize(self.base),
            "factor": self.factor,
            "input_axes": self.input_axes,
            "output_axes": self.output_axes,
        }
