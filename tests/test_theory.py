"""Mean-field theory against closed forms and independent scipy quadrature."""

import math

import numpy as np
import pytest
from scipy import integrate, optimize

from keras_inits.diagnostics import theory


def gauss(f, q):
    """E[f(sqrt(q) z)] by scipy's adaptive quadrature (independent of the module)."""
    s = math.sqrt(q)
    g = lambda z: f(s * z) * math.exp(-z * z / 2) / math.sqrt(2 * math.pi)  # noqa: E731
    return integrate.quad(g, -math.inf, 0)[0] + integrate.quad(g, 0, math.inf)[0]


def test_relu_closed_forms():
    for sw, sb in [(1.0, 0.1), (1.2, 0.3), (0.5, 1.0)]:
        assert theory.q_star("relu", sw, sb) == pytest.approx(sb**2 / (1 - sw**2 / 2), rel=1e-8)
        assert theory.chi_1("relu", sw, sb) == pytest.approx(sw**2 / 2, rel=1e-8)
    assert theory.critical_sigma_w("relu") == pytest.approx(math.sqrt(2), abs=1e-8)
    assert theory.critical_sigma_w("relu", sigma_b=0.5) == pytest.approx(math.sqrt(2), abs=1e-8)
    assert math.isinf(theory.q_star("relu", 1.6, 0.0))


def test_linear_closed_forms():
    assert theory.q_star("linear", 0.8, 0.3) == pytest.approx(0.09 / (1 - 0.64), rel=1e-8)
    assert theory.chi_1("linear", 0.8, 0.3) == pytest.approx(0.64)
    assert theory.critical_sigma_w("linear") == pytest.approx(1.0, abs=1e-8)


def test_tanh_critical_point_at_zero_bias_is_one():
    assert theory.critical_sigma_w("tanh") == pytest.approx(1.0, abs=1e-6)
    assert theory.q_star("tanh", 0.9, 0.0) == 0.0


@pytest.mark.parametrize("sb", [0.05, 0.3])
def test_tanh_critical_line_against_scipy(sb):
    def chi_minus_one(sw):
        q = optimize.brentq(lambda q: sw**2 * gauss(lambda u: math.tanh(u) ** 2, q) + sb**2 - q, 1e-9, 100)
        return sw**2 * gauss(lambda u: (1 - math.tanh(u) ** 2) ** 2, q) - 1

    expected = optimize.brentq(chi_minus_one, 1.0, 3.0)
    assert theory.critical_sigma_w("tanh", sb) == pytest.approx(expected, rel=1e-5)


def test_chi_one_against_scipy_for_erf_and_callable():
    sw, sb = 1.7, 0.2
    erf = np.vectorize(math.erf)
    q = optimize.brentq(lambda q: sw**2 * gauss(lambda u: math.erf(u) ** 2, q) + sb**2 - q, 1e-9, 100)
    expected = sw**2 * gauss(lambda u: (2 / math.sqrt(math.pi) * math.exp(-u * u)) ** 2, q)
    assert theory.q_star("erf", sw, sb) == pytest.approx(q, rel=1e-6)
    assert theory.chi_1("erf", sw, sb) == pytest.approx(expected, rel=1e-5)
    assert theory.chi_1(lambda x: erf(x), sw, sb) == pytest.approx(expected, rel=1e-4)


def test_vectorized_and_phase_diagram():
    sws = np.array([0.5, 1.0, 2.0])
    np.testing.assert_allclose(theory.chi_1("relu", sws, 0.1), sws**2 / 2, rtol=1e-8)
    grid = theory.phase_diagram("tanh", np.linspace(0.5, 3.0, 11), [0.0, 0.3])
    assert grid["chi_1"].shape == (2, 11) and grid["chaotic"].dtype == bool
    assert grid["critical_sigma_w"][0] == pytest.approx(1.0, abs=1e-6)
    assert not grid["chaotic"][0, 0] and grid["chaotic"][0, -1]


def test_depth_scale_diverges_at_the_edge():
    sc = theory.critical_sigma_w("tanh", 0.05)
    near = theory.depth_scale("tanh", sc * 1.01, 0.05)
    far = theory.depth_scale("tanh", 2.5, 0.05)
    assert near > 5 * far > 0


def test_bad_arguments():
    with pytest.raises(ValueError, match="activation"):
        theory.chi_1("nope", 1.0)
    with pytest.raises(TypeError, match="activation"):
        theory.chi_1(3, 1.0)
    with pytest.raises(ValueError, match="sigma_w"):
        theory.q_star("tanh", -1.0)
