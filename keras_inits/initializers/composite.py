"""Initializers built from another initializer: ICNR and Scaled.

Both take their base as an instance, a name or a config
(``keras.initializers.get``) and serialize it with
``keras.initializers.serialize``. Both accept a `seed` that, when given,
replaces the base's seed (so ``ICNR(seed=3)`` is deterministic whatever the
base), and expose the base's effective seed as ``.seed``: that is what
``EinsumDense`` hands back when it clones the initializer, so a clone draws
the same values as the original.
"""

from __future__ import annotations

from typing import Literal

import keras
from keras import ops, random

from keras_inits.initializers._base import (
    check_choice,
    check_number,
    check_shape,
    compute_dtype,
    float_dtype,
    resolve_initializer,
)
from keras_inits.initializers.orthogonal import check_conv_shape
from keras_inits.initializers.variance import _check_axes
from keras_inits.registry import register


def check_seed(seed):
    """Return `seed` if Keras accepts it as an initializer seed, else raise."""
    if seed is None or isinstance(seed, (random.SeedGenerator, dict)):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(
            "Argument `seed` must be an int, a keras.random.SeedGenerator or None. "
            f"Received: seed={seed!r}"
        )
    return seed


def with_seed(init, seed):
    """A copy of `init` whose own ``seed`` config entry is `seed`.

    An initializer without a ``seed`` in its config (``"ones"``, Dirac, ZerO)
    is returned unchanged: it has no randomness to seed.
    """
    config = init.get_config()
    if "seed" not in config:
        return init
    return type(init).from_config({**config, "seed": seed})


@register(
    formula="sub-kernel (k..., in, out/scale^d) from base, repeated scale^d times along out",
    reference="Aitken et al. 2017, Checkerboard artifact free sub-pixel convolution",
)
class ICNR(keras.initializers.Initializer):
    """ICNR: sub-pixel convolution initialized to nearest-neighbour resize.

    For a conv kernel ``(k..., in, C * scale^d)`` (``d`` spatial axes) that
    feeds a sub-pixel shuffle (``depth_to_space(scale)`` for Conv2D), draws
    one sub-kernel ``(k..., in, C)`` from `base` and repeats it so that every
    one of the ``scale^d`` sub-pixels of an output block gets the same
    filter: the layer starts as "convolve, then nearest-neighbour upsample",
    with no checkerboard artifacts. The base sees the sub-kernel's shape, so
    its fans are the sub-kernel's (as in the paper).

    Which output channel feeds which sub-pixel depends on the shuffle:

    - ``order="dcr"`` (default): ``tf.nn.depth_to_space`` and
      ``keras.ops.depth_to_space`` with ``channels_last`` on every backend:
      output ``[h*s + i, w*s + j, c]`` reads channel ``(i*s + j) * C + c``,
      so the sub-kernel is tiled along the output axis.
    - ``order="crd"``: ``torch.nn.PixelShuffle``: output channel ``c``,
      sub-pixel ``(i, j)`` reads channel ``c * s^2 + i*s + j``, so each
      sub-kernel channel is repeated ``s^2`` times in a row.

    Note: ``keras.ops.depth_to_space(..., data_format="channels_first")`` is
    "dcr" on the TensorFlow backend and "crd" on JAX and torch (keras
    3.15.1); pick `order` to match the backend and data format you use.

    Args:
        base: any initializer (instance, name or config) for the sub-kernel.
        scale: the upsampling factor of the following shuffle (>= 1).
        seed: None keeps the base's seed; an int or SeedGenerator replaces it.
        order: ``"dcr"`` or ``"crd"``, the shuffle's channel order (above).

    Example:

    >>> conv = keras.layers.Conv2D(3 * 4, 3, padding="same", kernel_initializer="icnr")
    >>> y = keras.ops.depth_to_space(conv(x), 2)  # no checkerboard at step 0

    Reference:
        Aitken, Ledig, Theis, Caballero, Wang, Shi 2017, "Checkerboard artifact
        free sub-pixel convolution".
    """

    def __init__(
        self,
        base="kaiming_normal",
        scale: int = 2,
        seed=None,
        order: Literal["dcr", "crd"] = "dcr",
    ):
        if isinstance(scale, bool) or not isinstance(scale, int) or scale < 1:
            raise ValueError(
                f"Argument `scale` must be a positive integer. Received: scale={scale!r}"
            )
        self.order = check_choice("order", order, ("dcr", "crd"))
        self.scale = scale
        self._init_seed = check_seed(seed)
        base = resolve_initializer(base, "base")
        self.base = base if seed is None else with_seed(base, seed)
        self.seed = getattr(self.base, "seed", None)

    def __call__(self, shape, dtype=None):
        dtype = float_dtype(dtype)
        shape = check_conv_shape("ICNR", shape)
        blocks = self.scale ** (len(shape) - 2)
        if shape[-1] % blocks:
            raise ValueError(
                f"ICNR with scale={self.scale} on a {len(shape) - 2}D convolution "
                f"needs output channels that are a multiple of scale^{len(shape) - 2} "
                f"= {blocks}. Received: shape={shape}"
            )
        sub = self.base((*shape[:-1], shape[-1] // blocks), dtype=compute_dtype(dtype))
        if self.order == "dcr":
            kernel = ops.tile(sub, (1,) * (len(shape) - 1) + (blocks,))
        else:
            kernel = ops.repeat(sub, blocks, axis=-1)
        return ops.cast(kernel, dtype)

    def get_config(self):
        return {
            "base": keras.initializers.serialize(self.base),
            "scale": self.scale,
            "seed": keras.saving.serialize_keras_object(self._init_seed),
            "order": self.order,
        }


@register(
    formula="factor * base(shape); fan axes passed on to a VarianceScaling base",
    reference="scaled initialization, e.g. GPT-2 residual projections x 1/sqrt(2L)",
)
class Scaled(keras.initializers.VarianceScaling):
    """Any initializer multiplied by a constant: ``factor * base(shape)``.

    The base is drawn in float32 (float64 for float64), multiplied, and cast
    once to the requested dtype, so ``Scaled(b, s)`` and ``Scaled(b, 1)``
    with the same seed differ exactly by ``s`` before that cast.

    Scaled subclasses ``VarianceScaling`` only so that ``EinsumDense`` (and
    so ``MultiHeadAttention``) hands it the kernel's true
    ``input_axes``/``output_axes`` (keras >= 3.15); they are passed on to a
    fan-based (``VarianceScaling``) base without axes of its own, which then
    uses the true einsum fans (for a MultiHeadAttention query kernel
    ``(d_model, heads, key_dim)``: ``fan_in = d_model``, not
    ``heads * d_model``). A base that is not fan-based ignores them. Its
    ``scale``/``mode``/``distribution`` attributes are placeholders (1.0,
    ``"fan_in"``, ``"scaled"``: not a distribution Keras knows, so code that
    reads them as a VarianceScaling's cannot take a Scaled for its base);
    the base decides the distribution.

    Args:
        base: the wrapped initializer (instance, name or config).
        factor: the multiplier (any finite number; 0 gives zeros).
        input_axes, output_axes: explicit fan axes for a fan-based base
            (set by ``EinsumDense``).
        seed: None keeps the base's seed; an int or SeedGenerator replaces
            it (``EinsumDense`` passes the base's own seed back when it
            clones the initializer, so the clone draws the same values).

    Example:

    >>> out_proj = keras.layers.Dense(
    ...     64, kernel_initializer=Scaled("xavier_normal", 1 / math.sqrt(2 * 12)))

    Reference:
        e.g. Radford et al. 2019, "Language models are unsupervised multitask
        learners" (residual projections scaled by 1/sqrt(2L)).
    """

    def __init__(self, base, factor: float = 1.0, input_axes=None, output_axes=None, seed=None):
        check_number("factor", factor)
        self.factor = factor
        self.input_axes = _check_axes("input_axes", input_axes)
        self.output_axes = _check_axes("output_axes", output_axes)
        self._init_seed = check_seed(seed)
        base = resolve_initializer(base, "base")
        if seed is not None:
            base = with_seed(base, seed)
        if (
            isinstance(base, keras.initializers.VarianceScaling)
            and self.input_axes is not None
            and self.output_axes is not None
            and (base.input_axes is None or base.output_axes is None)
        ):
            config = {**base.get_config(), "input_axes": self.input_axes,
                      "output_axes": self.output_axes}
            if "seed" in config:
                config["seed"] = base.seed  # the drawn seed: same values, true fans
            base = type(base).from_config(config)
        self.base = base
        self.scale, self.mode, self.distribution = 1.0, "fan_in", "scaled"
        self.seed = getattr(base, "seed", None)

    def __call__(self, shape, dtype=None):
        dtype = float_dtype(dtype)
        # Checked here too: a Keras base (Ones, RandomNormal) would raise a
        # backend-specific TypeError or accept an int as a shape.
        shape = check_shape(shape)
        values = self.base(shape, dtype=compute_dtype(dtype))
        return ops.cast(values * float(self.factor), dtype)

    def get_config(self):
        return {
            "base": keras.initializers.serialize(self.base),
            "factor": self.factor,
            "input_axes": self.input_axes,
            "output_axes": self.output_axes,
            "seed": keras.saving.serialize_keras_object(self._init_seed),
        }
