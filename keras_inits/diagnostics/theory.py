"""Mean-field theory of signal propagation (Poole et al. 2016; Schoenholz et al. 2017).

For a wide fully connected network with weights ``N(0, sigma_w^2 / fan_in)``,
biases ``N(0, sigma_b^2)`` and activation ``phi``, the pre-activation
variance follows the length map

    q_{l+1} = sigma_w^2 E[phi(sqrt(q_l) z)^2] + sigma_b^2,   z ~ N(0, 1)

to its fixed point ``q*``. Its slope

    chi_1 = sigma_w^2 E[phi'(sqrt(q*) z)^2]

separates the ordered phase (chi_1 < 1: inputs' correlations converge to 1,
gradients vanish) from the chaotic one (chi_1 > 1: they decorrelate, gradients
explode); ``chi_1 = 1`` is the edge of chaos, where the correlation depth
scale ``xi_c`` diverges and very deep nets train (Schoenholz et al. 2017).

Activations: a name (``"relu"``, ``"tanh"``, ``"linear"``/``"identity"``,
``"erf"``, ``"sigmoid"``, ``"selu"``, ``"elu"``, ``"gelu"`` (exact, erf
form), ``"silu"``/``"swish"``, ``"softplus"``) with its derivative in closed
form, or a numpy-vectorized callable whose derivative is taken by central
differences, ``(phi(x + h) - phi(x - h)) / 2h`` with ``h = 1e-5`` (error
about ``h^2 |phi'''| / 6 + 1e-16 / h``, i.e. ~1e-10 for smooth activations).

Quadrature: Gaussian expectations ``E[f(z)]`` use the midpoint rule in t
after the substitution ``z = c sinh(t)`` (c = 1e-4, 1000 nodes covering
|z| <= 10), not Gauss-Hermite. Nodes are spaced about 1.2% of |z| apart, so
they stay dense where ``phi'(sqrt(q) z)^2`` peaks (width ``1/sqrt(q)``) for
any q the theory meets; the rule is symmetric with a cell boundary at z = 0,
where relu/elu/selu have their kink or jump; and for analytic integrands the
midpoint rule converges exponentially (the substituted integrand is analytic
in a strip of half-width pi/4). Relative error against scipy's adaptive
quadrature (measured; `tests/test_theory.py` checks some of these):
``E[sech^4(sqrt(q) z)]`` at q = 1 / 100 / 1e6: < 1e-15 / < 1e-15 / 1e-8
(200-node Gauss-Hermite: 5e-15 / 0.59 / 1.0; a uniform 4000-cell midpoint
rule on [-10, 10]: 2e-16 / 1e-16 / 0.99); ``E[selu'(sqrt(q) z)^2]`` at
q = 1 / 32: 6e-13 / 5e-12 (Gauss-Hermite 200: 5e-3 / 2e-2). Two-dimensional
expectations (the correlation map) use the product of two 400-node rules of
the same kind. Everything is vectorized over sigma grids.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

_SELU_A, _SELU_L = 1.6732632423543772, 1.0507009873554805
#: Central-difference step for the derivative of a callable activation.
DERIVATIVE_STEP = 1e-5
#: Bisection steps on log q over [1e-300, q_max]: 312 decades / 2^64 is a
#: relative precision of about 4e-17.
_Q_BISECTIONS = 64


def _sinh_midpoint_rule(n, scale=1e-4, half_width=10.0):
    """Nodes and weights for E[f(z)], z ~ N(0, 1): the midpoint rule in t on
    [-T, T] after ``z = scale * sinh(t)``, ``T = asinh(half_width / scale)``;
    weights ``dz/dt * exp(-z^2 / 2)``, normalised to sum to 1."""
    t_max = math.asinh(half_width / scale)
    h = 2.0 * t_max / n
    t = -t_max + h * (np.arange(n) + 0.5)
    z = scale * np.sinh(t)
    w = scale * np.cosh(t) * np.exp(-0.5 * z * z)
    return z, w / w.sum()


_NODES, _WEIGHTS = _sinh_midpoint_rule(1000)
_NODES2, _WEIGHTS2 = _sinh_midpoint_rule(400)


def _erf(x):
    """erf: scipy's when installed (fast), else math.erf element by element."""
    try:
        from scipy.special import erf
    except ImportError:
        return np.vectorize(math.erf, otypes=[float])(x)
    return erf(x)


def _sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def _gelu_grad(x):
    return 0.5 * (1.0 + _erf(x / math.sqrt(2.0))) + x * np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)


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
    "gelu": (lambda x: 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0))), _gelu_grad),
    "silu": (lambda x: x * _sigmoid(x), lambda x: _sigmoid(x) * (1.0 + x * (1.0 - _sigmoid(x)))),
    "softplus": (lambda x: np.logaddexp(0.0, x), _sigmoid),
}
_ACTIVATIONS["swish"] = _ACTIVATIONS["silu"]
_ACTIVATIONS["identity"] = _ACTIVATIONS["linear"]


def activation_pair(activation) -> tuple[Callable, Callable]:
    """``(phi, phi')`` for a name or a numpy-vectorized callable.

    A callable's derivative is the central difference with step
    :data:`DERIVATIVE_STEP`.
    """
    if isinstance(activation, str):
        key = activation.lower()
        if key not in _ACTIVATIONS:
            raise ValueError(
                f"Argument `activation` must be one of {sorted(_ACTIVATIONS)} or a callable. "
                f"Received: activation={activation!r}"
            )
        return _ACTIVATIONS[key]
    if callable(activation):
        probe = np.linspace(-1.0, 1.0, 5)
        try:
            shape = np.shape(activation(probe))
        except Exception as err:  # noqa: BLE001  (re-raised with what is expected)
            raise TypeError(
                "Argument `activation` must map a numpy array to an array of the same "
                f"shape (e.g. np.tanh). Received: activation={activation!r}, which "
                f"raised {type(err).__name__}: {err}"
            ) from err
        if shape != probe.shape:
            raise TypeError(
                "Argument `activation` must map a numpy array to an array of the same "
                f"shape (e.g. np.tanh). Received: activation={activation!r}, which "
                f"maps shape {probe.shape} to {shape}"
            )
        h = DERIVATIVE_STEP
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
    if not (np.all(np.isfinite(sw)) and np.all(np.isfinite(sb))) or np.any(sw < 0) or np.any(sb < 0):
        raise ValueError(
            f"Arguments `sigma_w` and `sigma_b` must be finite and non-negative. "
            f"Received: sigma_w={sigma_w}, sigma_b={sigma_b}"
        )
    return np.broadcast_arrays(sw, sb)


def _scalar_or_array(x):
    x = np.asarray(x)
    return x[()] if x.ndim == 0 else x


def q_star(activation, sigma_w, sigma_b=0.0, *, q0=1.0, q_max=1e12):
    """Fixed point ``q*`` of the length map reached from `q0`, vectorized over sigmas.

    ``F(q) = sigma_w^2 E[phi(sqrt(q) z)^2] + sigma_b^2``, z ~ N(0, 1). F is
    increasing, so iterating it from `q0` moves monotonically to the nearest
    fixed point in the direction of ``F(q0) - q0``. That fixed point is found
    directly, by bisection of ``F(q) - q`` on a log scale (iterating the map
    is critically slow near the edge of chaos).

    Args:
        activation: a name (see the module docstring) or a numpy callable.
        sigma_w: weight std times sqrt(fan_in) (scalar or array).
        sigma_b: bias std (scalar or array, broadcast with `sigma_w`).
        q0: the input's pre-activation variance.
        q_max: beyond this, q is taken to diverge.

    Returns:
        ``q*`` (float or array): ``0`` when the signal dies out (tanh with
        sigma_w <= 1 and sigma_b = 0), ``inf`` when no fixed point lies above
        `q0` up to `q_max` (relu with sigma_w > sqrt(2): the variance grows
        without bound), `q0` itself where every q is fixed (relu at
        sigma_w = sqrt(2), sigma_b = 0).

    Example:
        >>> q_star("relu", 1.0, 0.5)     # sigma_b^2 / (1 - sigma_w^2 / 2)
        0.5

    Reference:
        Poole et al. 2016, "Exponential expressivity in deep neural networks
        through transient chaos", eq. (3).
    """
    if not (0.0 < q0 < q_max):
        raise ValueError(f"Arguments must satisfy 0 < q0 < q_max. Received: q0={q0}, q_max={q_max}")
    phi, _ = activation_pair(activation)
    sw, sb = _sigmas(sigma_w, sigma_b)

    def gap(q):
        return sw**2 * _expect(lambda u: phi(u) ** 2, q) + sb**2 - q

    h0 = gap(np.full(sw.shape, float(q0)))
    up = h0 > 0
    lo = np.where(up, float(q0), 1e-300)
    hi = np.where(up, q_max, float(q0))
    stuck = np.abs(h0) <= 1e-12 * max(1.0, q0)
    diverges = up & (gap(np.full(sw.shape, q_max)) > 0)
    collapses = ~up & (gap(np.full(sw.shape, 1e-300)) < 0)
    for _ in range(_Q_BISECTIONS):
        mid = np.sqrt(lo * hi)
        positive = gap(mid) > 0
        lo = np.where(positive, mid, lo)
        hi = np.where(positive, hi, mid)
    q = np.sqrt(lo * hi)
    q = np.where(collapses, 0.0, q)
    q = np.where(diverges, np.inf, q)
    q = np.where(stuck, float(q0), q)
    return _scalar_or_array(q)


def chi_1(activation, sigma_w, sigma_b=0.0):
    """``chi_1 = sigma_w^2 E[phi'(sqrt(q*) z)^2]``: above 1 chaotic, below 1 ordered.

    The slope of the correlation map at c = 1, and the factor by which a
    layer multiplies the mean squared gradient. ``q* = 0`` and ``q* = inf``
    are evaluated as the limits q -> 0+ and q -> 1e12 (relu's chi_1 is
    ``sigma_w^2 / 2`` at every q). Vectorized over sigmas.

    Reference:
        Poole et al. 2016, eq. (7); Schoenholz et al. 2017, eq. (5).
    """
    sw, sb = _sigmas(sigma_w, sigma_b)
    return _scalar_or_array(_chi_at(activation, sw, q_star(activation, sw, sb)))


def _chi_at(activation, sw, q):
    _, dphi = activation_pair(activation)
    q = np.asarray(q, dtype=float)
    finite_q = np.where(np.isinf(q), 1e12, np.maximum(q, 1e-30))
    return sw**2 * _expect(lambda u: dphi(u) ** 2, finite_q)


def _critical(activation, sigma_b, lo, hi, tol):
    """Bisection for chi_1(sigma_w) = 1 at every sigma_b at once; NaN where
    chi_1 - 1 does not change sign on [lo, hi]."""
    sb = np.asarray(sigma_b, dtype=float)
    if not hi > lo:
        return np.full(sb.shape, np.nan)
    a, b = np.full(sb.shape, float(lo)), np.full(sb.shape, float(hi))
    ok = (chi_1(activation, a, sb) <= 1.0) & (chi_1(activation, b, sb) >= 1.0)
    for _ in range(int(math.ceil(math.log2((hi - lo) / tol)))):
        mid = 0.5 * (a + b)
        below = chi_1(activation, mid, sb) < 1.0
        a = np.where(below, mid, a)
        b = np.where(below, b, mid)
    return np.where(ok, 0.5 * (a + b), np.nan)


def critical_sigma_w(activation, sigma_b=0.0, *, lo=1e-3, hi=10.0, tol=1e-10):
    """The sigma_w where chi_1 = 1, the edge of chaos; vectorized over sigma_b.

    Found by bisection of ``chi_1(sigma_w) - 1`` on ``[lo, hi]`` to `tol`.
    relu gives sqrt(2) for every sigma_b (He et al.'s init); tanh gives 1 at
    sigma_b = 0 and rises with sigma_b (1.1225 at 0.05, 1.3956 at 0.3).

    Raises:
        ValueError: chi_1 - 1 does not change sign on ``[lo, hi]`` (for some
            sigma_b), or the bracket is invalid.

    Reference:
        Schoenholz et al. 2017, "Deep information propagation", Fig. 1.
    """
    if not (0.0 <= lo < hi) or tol <= 0:
        raise ValueError(
            f"Arguments must satisfy 0 <= lo < hi and tol > 0. Received: lo={lo}, hi={hi}, tol={tol}"
        )
    _sigmas(lo, sigma_b)
    crit = _critical(activation, sigma_b, lo, hi, tol)
    if np.any(np.isnan(crit)):
        bad = np.unique(np.broadcast_to(np.asarray(sigma_b, float), crit.shape)[np.isnan(crit)])
        raise ValueError(
            f"chi_1 does not cross 1 for sigma_w in [{lo}, {hi}] at sigma_b={bad.tolist()}."
        )
    return _scalar_or_array(crit)


def _expect2(fn1, fn2, q, c):
    """E[fn1(u1) fn2(u2)], (u1, u2) centred Gaussian, variance q, correlation c."""
    z1, z2 = np.meshgrid(_NODES2, _NODES2, indexing="ij")
    w = np.outer(_WEIGHTS2, _WEIGHTS2)
    s = math.sqrt(q)
    u1 = s * z1
    u2 = s * (c * z1 + math.sqrt(max(0.0, 1.0 - c * c)) * z2)
    return float(np.sum(w * fn1(u1) * fn2(u2)))


def _depth_scale_one(activation, phi, dphi, sw, sb, edge_tol):
    q = float(q_star(activation, sw, sb))
    if math.isinf(q):
        return math.nan  # no fixed point: the variance itself diverges
    chi = float(chi_1(activation, sw, sb))
    if abs(chi - 1.0) <= edge_tol:
        return math.inf
    if chi < 1.0:  # ordered: c* = 1, where chi_c = chi_1
        return -1.0 / math.log(chi) if chi > 0 else 0.0

    def gap(c):  # C(c) - c; C(1) = 1 and C'(1) = chi_1 > 1, so C(c) < c just below 1
        return (sw**2 * _expect2(phi, phi, q, c) + sb**2) / q - c

    lo, hi = 0.0, None
    if gap(lo) <= 0.0:
        c = 0.0
    else:
        for k in range(3, 13):
            if gap(1.0 - 10.0**-k) < 0.0:
                hi = 1.0 - 10.0**-k
                break
        if hi is None:
            return math.inf  # numerically at the edge: c* indistinguishable from 1
        for _ in range(50):
            mid = 0.5 * (lo + hi)
            lo, hi = (mid, hi) if gap(mid) > 0 else (lo, mid)
        c = 0.5 * (lo + hi)
    chi_c = sw**2 * _expect2(dphi, dphi, q, c)
    if not 0.0 < chi_c < 1.0:
        return math.inf if chi_c >= 1.0 else 0.0
    return -1.0 / math.log(chi_c)


def depth_scale(activation, sigma_w, sigma_b=0.0, *, edge_tol=1e-12):
    """Correlation depth scale ``xi_c = -1 / ln(chi_c)`` (Schoenholz et al. 2017).

    ``chi_c = sigma_w^2 E[phi'(u1) phi'(u2)]`` at the stable fixed point ``c*``
    of the correlation map ``C(c) = (sigma_w^2 E[phi(u1) phi(u2)] +
    sigma_b^2) / q*`` (u1, u2 with variance q* and correlation c). In the
    ordered phase ``c* = 1`` and ``chi_c = chi_1``; in the chaotic phase
    ``c* < 1`` is found by bisection. Correlations between two inputs
    approach ``c*`` like ``exp(-l / xi_c)``: a network much deeper than
    ``xi_c`` cannot tell its inputs apart (and, by the paper's experiments,
    does not train). Infinite at the edge of chaos (``|chi_1 - 1| <=
    edge_tol``); NaN where ``q*`` is infinite. Accepts arrays (computed point
    by point: ~0.2 s per chaotic point).

    Reference:
        Schoenholz, Gilmer, Ganguli, Sohl-Dickstein 2017, "Deep information
        propagation", eqs. (6)-(9).
    """
    phi, dphi = activation_pair(activation)
    sw, sb = _sigmas(sigma_w, sigma_b)
    out = np.array([
        _depth_scale_one(activation, phi, dphi, float(w), float(b), edge_tol)
        for w, b in zip(sw.ravel(), sb.ravel())
    ]).reshape(sw.shape)
    return _scalar_or_array(out)


def phase_diagram(activation, sigma_w_grid, sigma_b_grid) -> dict:
    """q*, chi_1 and the phase on a (sigma_b, sigma_w) grid, for a plot.

    Example:
        >>> grid = phase_diagram("tanh", np.linspace(0.5, 4, 50), np.linspace(0, 1, 40))
        >>> plt.contourf(grid["sigma_w"], grid["sigma_b"], np.log(grid["chi_1"]))
        >>> plt.plot(grid["critical_sigma_w"], grid["sigma_b"][:, 0], "k")

    Returns:
        ``"sigma_w"``, ``"sigma_b"``: meshgrids of shape (len(sigma_b_grid),
        len(sigma_w_grid)); ``"q_star"``, ``"chi_1"`` on that grid;
        ``"chaotic"`` (bool, chi_1 > 1); ``"critical_sigma_w"``: the edge of
        chaos per sigma_b, NaN where chi_1 does not cross 1 inside the
        sigma_w range of the grid.
    """
    sw_grid = np.asarray(sigma_w_grid, float)
    sb_grid = np.asarray(sigma_b_grid, float)
    if sw_grid.ndim != 1 or sb_grid.ndim != 1 or not sw_grid.size or not sb_grid.size:
        raise ValueError(
            "Arguments `sigma_w_grid` and `sigma_b_grid` must be non-empty 1-D sequences. "
            f"Received: shapes {sw_grid.shape} and {sb_grid.shape}"
        )
    sw, sb = np.meshgrid(sw_grid, sb_grid)
    _sigmas(sw, sb)
    q = np.asarray(q_star(activation, sw, sb))
    chi = _chi_at(activation, sw, q)
    return {
        "sigma_w": sw,
        "sigma_b": sb,
        "q_star": q,
        "chi_1": chi,
        "chaotic": chi > 1.0,
        "critical_sigma_w": _critical(
            activation, sb_grid, float(sw_grid.min()), float(sw_grid.max()), 1e-10
        ),
    }
