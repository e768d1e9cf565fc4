"""Tests that kill mutants of keras_inits/gain.py (benchmarks/mutation_score.py).

Each checks a value derived by hand, not with the module's own formula.
"""

import math

import numpy as np
import pytest

from keras_inits.gain import second_moment


def test_second_moment_is_exact_for_a_kink_at_zero():
    # fn(z)^2 = |z|: E|z| = sqrt(2/pi) for z ~ N(0, 1). The integrand has a kink
    # at 0, so Simpson's rule is this accurate only with an even number of
    # intervals and a node at 0 (the module doc's promise); without it the
    # error is ~1e-8, and the trapezoid rule (the 4/2 weights swapped) ~1e-7.
    value = second_moment(lambda z: np.sqrt(np.abs(z)))
    assert abs(value - math.sqrt(2.0 / math.pi)) < 1e-10


@pytest.mark.parametrize(
    "fn,expected",
    [
        (lambda z: np.ones_like(z), 1.0),  # E[1] = 1
        (lambda z: z, 1.0),  # E[z^2] = 1
        (lambda z: z * z, 3.0),  # E[z^4] = 3
        (lambda z: np.maximum(z, 0.0), 0.5),  # E[relu(z)^2] = 1/2
    ],
)
def test_second_moment_of_gaussian_moments(fn, expected):
    assert second_moment(fn) == pytest.approx(expected, abs=1e-10)


@pytest.mark.parametrize("name", ["leaky_relu", "elu"])
def test_a_non_number_param_error_names_the_nonlinearity(name):
    from keras_inits.gain import calculate_gain

    with pytest.raises(TypeError, match=f"^Argument `param` must be a number for "
                                        f"nonlinearity='{name}'. Received: param='x'"):
        calculate_gain(name, "x")
