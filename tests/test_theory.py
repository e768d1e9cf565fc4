"""Mean-field theory against closed forms and independent scipy quadrature.

Expected values never come from the module: they are closed forms (relu,
linear, erf, selu), or computed here with scipy's adaptive quadrature and
root finding, or with numpy's Gauss-Hermite rule (a different rule from the
module's midpoint rule).
"""

import math

import numpy as np
import pytest
from scipy import integrate, optimize

from keras_inits.diagnostics import theory

SELU_A, SELU_L = 1.6732632423543772, 1.0507009873554805


def gauss(f, q):
    """E[f(sqrt(q) z)], z ~ N(0, 1), by scipy's adaptive quadrature (split at 0)."""
    s = math.sqrt(q)
    g = lambda z: f(s * z) * math.exp(-z * z / 2) / math.sqrt(2 * math.pi)  # noqa: E731
    return integrate.quad(g, -math.inf, 0)[0] + integrate.quad(g, 0, math.inf)[0]


def fixed_point(f, sw, sb):
    """q* of q = sw^2 E[f(sqrt(q) z)^2] + sb^2 by brentq (independent of the module)."""
    return optimize.brentq(lambda q: sw**2 * gauss(lambda u: f(u) ** 2, q) + sb**2 - q, 1e-9, 100)


def central(f, h=1e-6):
    return lambda u: (f(u + h) - f(u - h)) / (2 * h)


def test_relu_closed_forms():
    for sw, sb in [(1.0, 0.1), (1.2, 0.3), (0.5, 1.0)]:
        assert theory.q_star("relu", sw, sb) == pytest.approx(sb**2 / (1 - sw**2 / 2), rel=1e-8)
        assert theory.chi_1("relu", sw, sb) == pytest.approx(sw**2 / 2, rel=1e-8)
    assert theory.critical_sigma_w("relu") == pytest.approx(math.sqrt(2), abs=1e-8)
    assert theory.critical_sigma_w("relu", sigma_b=0.5) == pytest.approx(math.sqrt(2), abs=1e-8)
    assert math.isinf(theory.q_star("relu", 1.6, 0.0))  # chaotic relu: the variance diverges
    assert theory.q_star("relu", math.sqrt(2), 0.0, q0=3.0) == pytest.approx(3.0)  # every q fixed


def test_linear_closed_forms():
    assert theory.q_star("linear", 0.8, 0.3) == pytest.approx(0.09 / (1 - 0.64), rel=1e-8)
    assert theory.chi_1("identity", 0.8, 0.3) == pytest.approx(0.64)
    assert theory.critical_sigma_w("linear") == pytest.approx(1.0, abs=1e-8)


def test_erf_closed_forms():
    # Williams 1997: E[erf(sqrt(q) z)^2] = (2/pi) asin(2q / (1 + 2q)), and
    # E[erf'(sqrt(q) z)^2] = (4/pi) / sqrt(1 + 4q).
    sw, sb = 1.7, 0.2
    q = optimize.brentq(lambda q: sw**2 * 2 / math.pi * math.asin(2 * q / (1 + 2 * q)) + sb**2 - q, 1e-9, 100)
    assert theory.q_star("erf", sw, sb) == pytest.approx(q, rel=1e-9)
    assert theory.chi_1("erf", sw, sb) == pytest.approx(sw**2 * 4 / math.pi / math.sqrt(1 + 4 * q), rel=1e-9)
    # At sigma_b = 0, q* = 0 below the edge, so chi_1 = sw^2 erf'(0)^2 = sw^2 4/pi.
    assert theory.critical_sigma_w("erf") == pytest.approx(math.sqrt(math.pi) / 2, abs=1e-8)


def test_selu_fixed_point_and_slope():
    # Klambauer et al. 2017 chose lambda, alpha so that E[selu(z)^2] = 1:
    # q* = 1 at sigma_w = 1, sigma_b = 0, from any start.
    assert theory.q_star("selu", 1.0, 0.0, q0=0.3) == pytest.approx(1.0, rel=1e-7)
    # chi_1 = lambda^2 (1/2 + alpha^2 E[e^{2z}; z < 0]) = lambda^2 (1/2 + alpha^2 e^2 Phi(-2)).
    phi_m2 = 0.5 * math.erfc(2 / math.sqrt(2))
    expected = SELU_L**2 * (0.5 + SELU_A**2 * math.e**2 * phi_m2)
    assert theory.chi_1("selu", 1.0, 0.0) == pytest.approx(expected, rel=1e-5)


def test_tanh_critical_point_at_zero_bias_is_one():
    assert theory.critical_sigma_w("tanh") == pytest.approx(1.0, abs=1e-6)
    assert theory.q_star("tanh", 0.9, 0.0) == 0.0  # ordered without bias: the signal dies
    assert theory.chi_1("tanh", 0.9, 0.0) == pytest.approx(0.81)  # limit q -> 0: sw^2 tanh'(0)^2


@pytest.mark.parametrize("sb", [0.05, 0.3])
def test_tanh_critical_line_against_scipy(sb):
    def chi_minus_one(sw):
        q = fixed_point(math.tanh, sw, sb)
        return sw**2 * gauss(lambda u: (1 - math.tanh(u) ** 2) ** 2, q) - 1

    expected = optimize.brentq(chi_minus_one, 1.0, 3.0)
    assert theory.critical_sigma_w("tanh", sb) == pytest.approx(expected, rel=1e-6)


def logistic(x):
    return 1 / (1 + math.exp(-x)) if x >= 0 else math.exp(x) / (1 + math.exp(x))


SCALAR_ACTIVATIONS = {
    "sigmoid": logistic,
    "softplus": lambda x: math.log1p(math.exp(-abs(x))) + max(x, 0.0),
    "silu": lambda x: x * logistic(x),
    "gelu": lambda x: 0.5 * x * (1 + math.erf(x / math.sqrt(2))),
    "elu": lambda x: x if x > 0 else math.expm1(x),
    "selu": lambda x: SELU_L * (x if x > 0 else SELU_A * math.expm1(x)),
}


@pytest.mark.parametrize("name", sorted(SCALAR_ACTIVATIONS))
def test_named_activations_against_scipy(name):
    f = SCALAR_ACTIVATIONS[name]
    df = central(f)
    sw, sb = 1.3, 0.3
    q = fixed_point(f, sw, sb)
    assert theory.q_star(name, sw, sb) == pytest.approx(q, rel=1e-6)
    assert theory.chi_1(name, sw, sb) == pytest.approx(sw**2 * gauss(lambda u: df(u) ** 2, q), rel=1e-5)


def test_callable_activation_by_central_differences():
    sw, sb = 1.7, 0.2
    q = fixed_point(math.erf, sw, sb)
    expected = sw**2 * gauss(lambda u: (2 / math.sqrt(math.pi) * math.exp(-u * u)) ** 2, q)
    erf = np.vectorize(math.erf)
    assert theory.q_star(erf, sw, sb) == pytest.approx(q, rel=1e-6)
    assert theory.chi_1(erf, sw, sb) == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize("q, rel", [(0.01, 1e-12), (1.0, 1e-12), (100.0, 1e-12), (1e6, 1e-7)])
def test_quadrature_holds_for_peaked_integrands(q, rel):
    # tanh'(sqrt(q) z)^2 peaks with width 1/sqrt(q): 200-node Gauss-Hermite is
    # off by 59% at q = 100 and 100% at q = 1e6; the module's rule must not be.
    f = lambda u: (1 - np.tanh(u) ** 2) ** 2  # noqa: E731
    expected = gauss(lambda u: (1 - math.tanh(u) ** 2) ** 2, q)
    assert float(theory._expect(f, q)) == pytest.approx(expected, rel=rel)


def test_quadrature_at_relu_and_selu_kinks():
    # E[relu'(u)^2] = 1/2 exactly (symmetric rule, cell boundary at 0).
    assert float(theory._expect(lambda u: (u > 0) * 1.0, 7.0)) == pytest.approx(0.5, abs=1e-15)
    # selu' jumps at 0: E[selu'(sqrt(q) z)^2] = lambda^2 (1/2 + alpha^2 e^{2q} Phi(-2 sqrt(q))).
    dselu = lambda u: SELU_L * np.where(u > 0, 1.0, SELU_A * np.exp(np.minimum(u, 0)))  # noqa: E731
    for q in (0.3, 32.0):
        expected = SELU_L**2 * (0.5 + SELU_A**2 * math.exp(2 * q) * 0.5 * math.erfc(math.sqrt(2 * q)))
        assert float(theory._expect(lambda u: dselu(u) ** 2, q)) == pytest.approx(expected, rel=1e-10)


def test_vectorized_and_phase_diagram():
    sws = np.array([0.5, 1.0, 2.0])
    np.testing.assert_allclose(theory.chi_1("relu", sws, 0.1), sws**2 / 2, rtol=1e-8)
    np.testing.assert_allclose(
        theory.critical_sigma_w("tanh", [0.0, 0.3]),
        [1.0, theory.critical_sigma_w("tanh", 0.3)], rtol=1e-9,
    )
    grid = theory.phase_diagram("tanh", np.linspace(0.5, 3.0, 11), [0.0, 0.3])
    assert grid["chi_1"].shape == grid["q_star"].shape == grid["sigma_w"].shape == (2, 11)
    assert grid["chaotic"].dtype == bool
    assert grid["critical_sigma_w"][0] == pytest.approx(1.0, abs=1e-6)
    assert not grid["chaotic"][0, 0] and grid["chaotic"][0, -1]
    np.testing.assert_allclose(grid["chi_1"][1], [theory.chi_1("tanh", w, 0.3) for w in grid["sigma_w"][1]])
    narrow = theory.phase_diagram("tanh", [0.5, 0.9], [0.0])
    assert np.isnan(narrow["critical_sigma_w"][0])  # the edge lies outside the grid


def test_depth_scale_closed_forms():
    # Ordered phase: c* = 1 and chi_c = chi_1, so xi_c = -1 / ln(chi_1).
    assert theory.depth_scale("relu", 1.0, 0.5) == pytest.approx(-1 / math.log(0.5), rel=1e-9)
    assert theory.depth_scale("tanh", 0.9, 0.0) == pytest.approx(-1 / math.log(0.81), rel=1e-6)
    assert math.isinf(theory.depth_scale("relu", math.sqrt(2), 0.0))
    assert math.isnan(theory.depth_scale("relu", 1.6, 0.1))  # q* infinite
    # Chaotic tanh without bias: odd phi gives c* = 0, chi_c = sw^2 E[phi'(sqrt(q*) z)]^2.
    sw = 1.5
    q = fixed_point(math.tanh, sw, 0.0)
    chi_c = sw**2 * gauss(lambda u: 1 - math.tanh(u) ** 2, q) ** 2
    assert theory.depth_scale("tanh", sw, 0.0) == pytest.approx(-1 / math.log(chi_c), rel=1e-6)


def gauss_hermite_depth_scale(sw, sb):
    """Chaotic-phase xi_c = -1 / ln chi_c with chi_c = sw^2 E[phi'(u1) phi'(u2)]
    at the correlation fixed point c* < 1, by numpy's Gauss-Hermite rule."""
    z, w = np.polynomial.hermite_e.hermegauss(120)
    w = w / w.sum()
    q = fixed_point(math.tanh, sw, sb)

    def expect2(f, g, c):
        u1 = math.sqrt(q) * z[:, None]
        u2 = math.sqrt(q) * (c * z[:, None] + math.sqrt(1 - c * c) * z[None, :])
        return float(np.sum(w[:, None] * w[None, :] * f(u1) * g(u2)))

    c_star = optimize.brentq(lambda c: (sw**2 * expect2(np.tanh, np.tanh, c) + sb**2) / q - c, 0.0, 0.999)
    dtanh = lambda u: 1 - np.tanh(u) ** 2  # noqa: E731
    return -1 / math.log(sw**2 * expect2(dtanh, dtanh, c_star))


def test_depth_scale_chaotic_against_gauss_hermite():
    assert theory.depth_scale("tanh", 2.0, 0.3) == pytest.approx(gauss_hermite_depth_scale(2.0, 0.3), rel=1e-6)


def test_depth_scale_diverges_at_the_edge():
    """tanh's edge at sigma_b = 0.05, sigma_w = sigma_c (1 -+ eps).

    Ordered side: c* = 1, so xi = -1 / ln chi_1 with chi_1 = sw^2
    E[tanh'(sqrt(q*) z)^2] computed here by scipy. For 0 < chi < 1,
    1 - chi <= -ln chi <= (1 - chi) / chi, so chi <= xi (1 - chi) <= 1: xi
    grows as 1 / (1 - chi_1), and 1 - chi_1 goes to 0 at the edge (chi_1 = 1
    defines sigma_c). Chaotic side: against the Gauss-Hermite reference.
    Tolerance: a quadrature error delta in chi is a relative error
    delta / (1 - chi) in xi; rel=1e-6 holds down to 1 - chi ~ 4e-4 for the
    module's delta ~ 1e-10."""
    sb = 0.05
    sc = theory.critical_sigma_w("tanh", sb)
    gaps = []
    for eps in (1e-1, 1e-2, 1e-3):
        sw = sc * (1 - eps)
        q = fixed_point(math.tanh, sw, sb)
        chi = sw**2 * gauss(lambda u: (1 - math.tanh(u) ** 2) ** 2, q)
        xi = theory.depth_scale("tanh", sw, sb)
        assert xi == pytest.approx(-1 / math.log(chi), rel=1e-6)
        assert chi <= xi * (1 - chi) <= 1
        gaps.append(1 - chi)
    assert gaps[0] > gaps[1] > gaps[2] > 0 and 1 / gaps[2] > 2000  # so xi > 2000 * chi
    for eps in (1e-1, 1e-2):
        sw = sc * (1 + eps)
        assert theory.depth_scale("tanh", sw, sb) == pytest.approx(gauss_hermite_depth_scale(sw, sb), rel=1e-6)
    both = theory.depth_scale("tanh", [sc * (1 - 1e-3), sc * (1 + 1e-3)], sb)
    assert both.shape == (2,)


def test_bad_arguments():
    with pytest.raises(ValueError, match="activation"):
        theory.chi_1("nope", 1.0)
    with pytest.raises(TypeError, match="activation"):
        theory.chi_1(3, 1.0)
    with pytest.raises(TypeError, match="same shape"):
        theory.chi_1(lambda x: float(np.sum(x)), 1.0)
    with pytest.raises(TypeError, match="activation"):
        theory.chi_1(math.tanh, 1.0)  # not vectorized: math.tanh rejects arrays
    with pytest.raises(ValueError, match="sigma_w"):
        theory.q_star("tanh", -1.0)
    with pytest.raises(ValueError, match="sigma_w"):
        theory.chi_1("tanh", float("nan"))
    with pytest.raises(ValueError, match="does not cross 1"):
        theory.critical_sigma_w("tanh", 0.3, hi=1.2)
    with pytest.raises(ValueError, match="q0"):
        theory.q_star("tanh", 1.0, q0=0.0)
    with pytest.raises(ValueError, match="1-D"):
        theory.phase_diagram("tanh", [], [0.0])
