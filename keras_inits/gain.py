"""Recommended gains for nonlinearities: torch.nn.init.calculate_gain's table, extended.

The gain multiplies a fan-based standard deviation: ``std = gain / sqrt(fan)``.
The torch table is reproduced exactly. For activations torch does not cover
(gelu, silu/swish, elu, softplus, mish) the gain is the second-moment rule
that also gives relu's sqrt(2) and linear's 1:

    gain = 1 / sqrt(E[f(z)^2]),  z ~ N(0, 1)

so that a fan-in-scaled layer maps unit-variance pre-activations to
unit-variance pre-activations (Kaiming He et al. 2015's derivation, with the
ReLU half-moment replaced by the activation's own second moment). For
non-homogeneous activations this holds at unit variance only. The expectation
is computed with composite Simpson's rule on [-12, 12] with a node at the
kink z = 0 (numpy; error below 1e-9 for all of these).
"""

from __future__ import annotations

import math

import numpy as np

_TORCH_ONE = (
    "linear",
    "identity",
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
    "sigmoid",
)


def _erf(x):
    return np.vectorize(math.erf, otypes=[float])(x)


def _softplus(x):
    return np.logaddexp(0.0, x)


_MOMENT_FUNCTIONS = {
    "gelu": lambda x, p: 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0))),
    "silu": lambda x, p: x * 0.5 * (1.0 + np.tanh(0.5 * x)),
    "swish": lambda x, p: x * 0.5 * (1.0 + np.tanh(0.5 * x)),
    "elu": lambda x, p: np.where(x > 0, x, p * np.expm1(np.minimum(x, 0.0))),
    "softplus": lambda x, p: _softplus(x),
    "mish": lambda x, p: x * np.tanh(_softplus(x)),
}
_MOMENT_DEFAULT_PARAM = {"elu": 1.0}

KNOWN_NONLINEARITIES = (
    *_TORCH_ONE,
    "tanh",
    "relu",
    "leaky_relu",
    "selu",
    *_MOMENT_FUNCTIONS,
)


def second_moment(fn, half_width: float = 12.0, intervals: int = 24_000) -> float:
    """E[fn(z)^2] for z ~ N(0, 1), by composite Simpson's rule.

    The grid has a node at 0, where relu-like functions have their kink, so
    every Simpson panel integrates a smooth piece.
    """
    z = np.linspace(-half_width, half_width, intervals + 1)
    integrand = np.asarray(fn(z), dtype=np.float64) ** 2 * np.exp(-0.5 * z * z)
    h = z[1] - z[0]
    total = integrand[0] + integrand[-1]
    total += 4.0 * integrand[1:-1:2].sum() + 2.0 * integrand[2:-1:2].sum()
    return float(total * h / 3.0 / math.sqrt(2.0 * math.pi))


def _check_param(nonlinearity, param, default):
    if param is None:
        return default
    if isinstance(param, bool) or not isinstance(param, (int, float)):
        raise TypeError(
            f"Argument `param` must be a number for nonlinearity={nonlinearity!r}. "
            f"Received: param={param!r}"
        )
    if not math.isfinite(param):
        raise ValueError(f"Argument `param` must be finite. Received: param={param}")
    return float(param)


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """Recommended gain for `nonlinearity` (torch.nn.init.calculate_gain, extended).

    ================= =====================================================
    nonlinearity      gain
    ================= =====================================================
    linear, conv*,    1
    conv_transpose*,
    sigmoid
    tanh              5/3
    relu              sqrt(2)
    leaky_relu        sqrt(2 / (1 + negative_slope^2)), slope `param`,
                      default 0.01
    selu              3/4 (torch's value, for self-normalizing nets)
    gelu, silu/swish, 1 / sqrt(E[f(z)^2]), z ~ N(0, 1) (see module doc):
    elu, softplus,    gelu 1.5335, silu 1.6765 (swish = silu), elu
    mish              (alpha = `param`, default 1) 1.2452, softplus 1.0419,
                      mish 1.4868
    ================= =====================================================

    Args:
        nonlinearity: name of the nonlinearity (case-insensitive).
        param: negative slope for ``leaky_relu``, alpha for ``elu``.

    Returns:
        The gain, a Python float.

    Raises:
        ValueError: unknown name (the message lists the known ones) or a
            param given to a nonlinearity that takes none.

    Reference:
        torch.nn.init.calculate_gain; He et al. 2015, "Delving deep into
        rectifiers".
    """
    if not isinstance(nonlinearity, str):
        raise TypeError(
            "Argument `nonlinearity` must be a string. "
            f"Received: nonlinearity={nonlinearity!r}"
        )
    name = nonlinearity.lower()
    takes_param = name in ("leaky_relu", "elu")
    if param is not None and not takes_param:
        raise ValueError(
            f"Argument `param` is only used by 'leaky_relu' and 'elu'. "
            f"Received: param={param!r} for nonlinearity={nonlinearity!r}"
        )
    if name in _TORCH_ONE:
        return 1.0
    if name == "tanh":
        return 5.0 / 3.0
    if name == "relu":
        return math.sqrt(2.0)
    if name == "leaky_relu":
        slope = _check_param(name, param, 0.01)
        return math.sqrt(2.0 / (1.0 + slope**2))
    if name == "selu":
        return 3.0 / 4.0
    if name in _MOMENT_FUNCTIONS:
        p = _check_param(name, param, _MOMENT_DEFAULT_PARAM.get(name))
        fn = _MOMENT_FUNCTIONS[name]
        return 1.0 / math.sqrt(second_moment(lambda x: fn(x, p)))
    raise ValueError(
        f"Argument `nonlinearity` must be one of {list(KNOWN_NONLINEARITIES)}. "
        f"Received: nonlinearity={nonlinearity!r}"
    )
