"""Mean-field theory of signal propagation (Poole et al. 2016; Schoenholz et al. 2017).

For a wide fully connected network with weights ``N(0, sigma_w^2 / fan_in)``,
biases ``N(0, sigma_b^2)`` and activation ``phi``, the pre-activation
variance follows the length map

    q_{l+1} = sigma_w^2 E[phi(sqrt(q_l) z)^2] + sigma_b^2,   z ~ N(0, 1)

to its fixed point ``q*``. Its slope

    chi_1 = sigma_w^2 E[phi'(sqrt(q*) z)^2]

separates the ordered phase (chi_1 < 1: inputs' correlations converge to 1,
gradients vanish) from the chaotic one (chi_1 > 1: they decorrelate, gradients
explode); ``chi_1 = 1`` is the edge of chaos, where depth scales diverge and
very deep nets train. Gaussian expectations use a fine midpoint quadrature
(numpy), vectorized over sigma grids.

Activations: a name (``"relu"``, ``"tanh"``, ``"linear"``, ``"erf"``,
``"sigmoid"``, ``"selu"``, ``"elu"``, ``"gelu"``, ``"silu"``/``"swish"``,
``"softplus"``) with its derivative in closed form, or a numpy callable whose
derivative is taken by central differences (step 1e-5).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

_SELU_A, _SELU_L = 1.6732632423543772, 1.0507009873554805


def _midpoint_rule(n, half_width=10.0):
    """Nodes and weights of the midpoint rule for E[f(z)], z ~ N(0, 1).

    Midpoints of n equal cells on [-10, 10]: no node at 0 (where relu's
    derivative jumps, so its expectations come out exact by symmetry) and,
    unlike Gauss-Hermite, accurate for the sharply peaked integrands of
    saturating activations at large q.
    """
    h = 2.0 * half_width / n
    z = -half_width + h * (np.arange(n) + 0.5)
    w = np.exp(-0.5 * z * z)
    return z, w / w.sum()


_NODES, _WEIGHTS = _midpoint_rule(4000)
_NODES2, _WEIGHTS2 = _midpoint_rule(400)


def _erf(x):
    return np.vectorize(math.erf, otypes=[float])(x)


def _sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))


_ACTIVATIONS: dict[str, tuple[Callable, Callable]] = {
    "linear": (lambda x: x, lambda x: np.ones_like(x)),
    "relu": (lambda x: np.maximum(x, 0.0), lambda x: (x > 0).astype(float)),
    "tanh": (np.tanh, lambda x: 1.0 - np.tanh(x) ** 2),
    "erf": (_erf, lambda x: 2.0 / math.sqrt(math.pi) * np.exp(-x * x)),
    "sigmoid": (_sigmoid, lambda x: _sigmoid(x) * (1.0 - _sigmoid(x))),
    "selu": (
        lambda x: _SELU_L * np.where(x > 0, x, _SELU_A * np.expm1(np.minimum(x, 0.0))),
        lambda x: _SELU_L * np.where(x > 0, 1.0, _SELU_A * np.exp(np.minimum(x, 0.0))),
    ),
    "elu": (
        lambda x: np.where(x > 0, x, np.expm1(np.minimum(x, 0.0))),
        lambda x: np.where(x > 0, 1.0, np.exp(np.minimum(x, 0.0))),
    ),
    "gelu": (
        lambda x: 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0))),
        lambda x: 0.5 * (1.0 + _erf(x / math.sqrt(2.0))) + x * np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi),
    ),
    "silu": (lambda x: x * _sigmoid(x), lambda x: _sigmoid(x) * (1.0 + x * (1.0 - _sigmoid(x)))),
    "softplus": (lambda x: np.logaddexp(0.0, x), _sigmoid),
}
_ACTIVATIONS["swish"] = _ACTIVATIONS["silu"]


def activation_pair(activation) -> tuple[Callable, Callable]:
    """``(phi, phi')`` for a name or a numpy callable (derivative by central differences)."""
    if isinstance(activation, str):
        key = activation.lower()
        if key not in _ACTIVATIONS:
            raise ValueError(
                f"Argument `activation` must be one of {sorted(_ACTIVATIONS)} or a callable. "
                f"Received: activation={activation!r}"
            )
        return _ACTIVATIONS[key]
    if callable(activation):
        h = 1e-5
        return activation, lambda x: (activation(x + h) - activation(x - h)) / (2 * h)
    raise TypeError(
        f"Argument `activation` must be a name or a callable. Received: activation={activation!r}"
    )


def _expect(fn, q):
    """E[fn(sqrt(q) z)] for z ~ N(0, 1), vectorized over the array q."""
    q = np.asarray(q, dtype=float)
    u = np.sqrt(np.maximum(q, 0.0))[..., None] * _NODES
    return np.sum(fn(u) * _WEIGHTS, axis=-1)


def _sigmas(sigma_w, sigma_b):
    sw = np.asarray(sigma_w, dtype=float)
    sb = np.asarray(sigma_b, dtype=float)
    if np.any(sw < 0) or np.any(sb < 0) or not (np.all(np.isfinite(sw)) and np.all(np.isfinite(sb))):
        raise ValueError(
            f"Arguments `sigma_w` and `sigma_b` must be finite and non-negative. "
            f"Received: sigma_w={sigma_w}, sigma_b={sigma_b}"
        )
    return np.broadcast_arrays(sw, sb)


def q_star(activation, sigma_w, sigma_b=0.0, *, q0=1.0, q_max=1e12):
    """Fixed point of the length map reached from `q0`, vectorized over sigmas.

    The map ``F(q) = sigma_w^2 E[phi(sqrt(q) z)^2] + sigma_b^2`` is increasing,
    so iterating it from `q0` moves monotonically to the nearest fixed point
    in the direction of ``F(q0) - q0``. That fixed point is found directly, by
    bisection of ``F(q) - q`` on a log scale (iterating is critically slow
    near the edge of chaos): ``0`` when nothing lies below (tanh with
    sigma_w <= 1, sigma_b = 0), ``inf`` when nothing lies above up to `q_max`
    (relu with sigma_w > sqrt 2), `q0` itself where every q is fixed (relu at
    sigma_w = sqrt 2, sigma_b = 0).
    """
    phi, _ = activation_pair(activation)
    sw, sb = _sigmas(sigma_w, sigma_b)

    def h(q):
        return sw**2 * _expect(lambda u: phi(u) ** 2, q) + sb**2 - q

    h0 = h(np.full(sw.shape, float(q0)))
    up = h0 > 0
    lo = np.where(up, float(q0), 1e-300)
    hi = np.where(up, q_max, float(q0))
    stuck = np.abs(h0) <= 1e-12 * max(1.0, q0)
    diverges = up & (h(np.full(sw.shape, q_max)) > 0)
    collapses = ~up & (h(np.full(sw.shape, 1e-300)) < 0)
    for _ in range(100):
        mid = np.sqrt(lo * hi)
        positive = h(mid) > 0
        lo = np.where(positive, mid, lo)
        hi = np.where(positive, hi, mid)
    q = np.sqrt(lo * hi)
    q = np.where(collapses, 0.0, q)
    q = np.where(diverges, np.inf, q)
    q = np.where(stuck, float(q0), q)
    return q[()] if q.ndim == 0 else q


def chi_1(activation, sigma_w, sigma_b=0.0):
    """``sigma_w^2 E[phi'(sqrt(q*) z)^2]``: above 1 chaotic, below 1 ordered."""
    _, dphi = activation_pair(activation)
    sw, sb = _sigmas(sigma_w, sigma_b)
    q = np.asarray(q_star(activation, sw, sb), dtype=float)
    # q* = 0 (ordered, no bias) and q* = inf (divergent) are evaluated as the
    # limits q -> 0+ and q -> 1e12: relu's chi_1 is sigma_w^2 / 2 at any q.
    finite_q = np.where(np.isinf(q), 1e12, np.maximum(q, 1e-30))
    out = sw**2 * _expect(lambda u: dphi(u) ** 2, finite_q)
    return out[()] if np.ndim(out) == 0 else out


def critical_sigma_w(activation, sigma_b=0.0, *, lo=1e-3, hi=10.0, tol=1e-10):
    """The sigma_w where chi_1 = 1 (the edge of chaos), by bisection.

    relu gives sqrt(2) for every sigma_b; tanh at sigma_b = 0 gives 1.
    """
    f = lambda s: float(chi_1(activation, s, sigma_b)) - 1.0  # noqa: E731
    a, b = lo, hi
    if f(a) > 0 or f(b) < 0:
        raise ValueError(
            f"chi_1 does not cross 1 for sigma_w in [{lo}, {hi}] at sigma_b={sigma_b}."
        )
    while b - a > tol:
        mid = 0.5 * (a + b)
        a, b = (mid, b) if f(mid) < 0 else (a, mid)
    return 0.5 * (a + b)


def _expect2(fn1, fn2, q, c):
    """E[fn1(u1) fn2(u2)], (u1, u2) centred Gaussian, variance q, correlation c."""
    z1, z2 = np.meshgrid(_NODES2, _NODES2, indexing="ij")
    w = np.outer(_WEIGHTS2, _WEIGHTS2)
    s = math.sqrt(q)
    u1 = s * z1
    u2 = s * (c * z1 + math.sqrt(max(0.0, 1.0 - c * c)) * z2)
    return float(np.sum(w * fn1(u1) * fn2(u2)))


def depth_scale(activation, sigma_w, sigma_b=0.0, *, max_iters=500, tol=1e-10):
    """Correlation depth scale ``xi_c = -1 / ln(chi_c)`` (Schoenholz et al. 2017).

    ``chi_c = sigma_w^2 E[phi'(u1) phi'(u2)]`` at the fixed point ``c*`` of the
    correlation map. Infinite at the edge of chaos; a network deeper than a
    few ``xi_c`` cannot propagate (and so cannot learn from) input
    correlations.
    """
    phi, dphi = activation_pair(activation)
    sw, sb = float(sigma_w), float(sigma_b)
    q = float(q_star(activation, sw, sb))
    if not math.isfinite(q) or q <= 0:
        return 0.0 if q == 0 else math.nan
    c = 0.5
    for _ in range(max_iters):
        new = (sw**2 * _expect2(phi, phi, q, c) + sb**2) / q
        new = min(1.0, new)
        if abs(new - c) < tol:
            c = new
            break
        c = new
    chi_c = sw**2 * _expect2(dphi, dphi, q, c)
    if chi_c <= 0:
        return 0.0
    if abs(math.log(chi_c)) < 1e-12:
        return math.inf
    return -1.0 / math.log(chi_c)


def phase_diagram(activation, sigma_w_grid, sigma_b_grid) -> dict:
    """q*, chi_1 and the phase on a (sigma_b, sigma_w) grid, for a plot.

    Returns:
        ``{"sigma_w", "sigma_b"}`` (meshgrids), ``"q_star"``, ``"chi_1"``,
        ``"chaotic"`` (bool array: chi_1 > 1) and ``"critical_sigma_w"`` (one
        value per sigma_b, NaN where chi_1 never crosses 1 in the grid).
    """
    sw, sb = np.meshgrid(np.asarray(sigma_w_grid, float), np.asarray(sigma_b_grid, float))
    chi = chi_1(activation, sw, sb)
    critical = []
    for b in np.asarray(sigma_b_grid, float):
        try:
            critical.append(critical_sigma_w(activation, b, lo=float(np.min(sigma_w_grid)),
                                             hi=float(np.max(sigma_w_grid))))
        except ValueError:
            critical.append(math.nan)
    return {
        "sigma_w": sw,
        "sigma_b": sb,
        "q_star": q_star(activation, sw, sb),
        "chi_1": chi,
        "chaotic": chi > 1.0,
        "critical_sigma_w": np.asarray(critical),
    }
