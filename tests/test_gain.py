import math

import numpy as np
import pytest
from scipy import integrate

import keras_inits as ki
from keras_inits.gain import KNOWN_NONLINEARITIES

# torch.nn.init.calculate_gain's documented table, written out independently.
TORCH_TABLE = {
    "linear": 1.0,
    "conv1d": 1.0,
    "conv2d": 1.0,
    "conv3d": 1.0,
    "conv_transpose1d": 1.0,
    "conv_transpose2d": 1.0,
    "conv_transpose3d": 1.0,
    "sigmoid": 1.0,
    "tanh": 5.0 / 3.0,
    "relu": math.sqrt(2.0),
    "leaky_relu": math.sqrt(2.0 / (1 + 0.01**2)),
    "selu": 0.75,
}


@pytest.mark.parametrize("name,expected", sorted(TORCH_TABLE.items()))
def test_torch_table(name, expected):
    assert ki.calculate_gain(name) == pytest.approx(expected, rel=1e-12)


def test_matches_real_torch_when_installed():
    torch = pytest.importorskip("torch")
    for name in TORCH_TABLE:
        assert ki.calculate_gain(name) == pytest.approx(
            torch.nn.init.calculate_gain(name), rel=1e-6
        )
    for slope in (0.0, 0.2, 1.0, 3.0):
        assert ki.calculate_gain("leaky_relu", slope) == pytest.approx(
            torch.nn.init.calculate_gain("leaky_relu", slope), rel=1e-6
        )


def _quad_gain(f):
    moment = integrate.quad(
        lambda z: f(z) ** 2 * math.exp(-z * z / 2) / math.sqrt(2 * math.pi),
        -math.inf, 0.0, epsabs=1e-13,
    )[0] + integrate.quad(
        lambda z: f(z) ** 2 * math.exp(-z * z / 2) / math.sqrt(2 * math.pi),
        0.0, math.inf, epsabs=1e-13,
    )[0]
    return 1.0 / math.sqrt(moment)


def _sigmoid(z):
    return 0.5 * (1 + math.tanh(z / 2))


def _softplus(z):
    return max(z, 0.0) + math.log1p(math.exp(-abs(z)))


SECOND_MOMENT = {
    "gelu": lambda z: 0.5 * z * (1 + math.erf(z / math.sqrt(2))),
    "silu": lambda z: z * _sigmoid(z),
    "swish": lambda z: z * _sigmoid(z),
    "elu": lambda z: z if z > 0 else math.expm1(z),
    "softplus": _softplus,
    "mish": lambda z: z * math.tanh(_softplus(z)),
}


@pytest.mark.parametrize("name", sorted(SECOND_MOMENT))
def test_second_moment_gains_against_scipy_quad(name):
    assert ki.calculate_gain(name) == pytest.approx(_quad_gain(SECOND_MOMENT[name]), rel=1e-8)


def test_second_moment_rule_reproduces_relu_and_linear():
    assert _quad_gain(lambda z: max(z, 0.0)) == pytest.approx(ki.calculate_gain("relu"))
    assert _quad_gain(lambda z: z) == pytest.approx(ki.calculate_gain("linear"))


def test_elu_alpha_param():
    alpha = 0.5
    expected = _quad_gain(lambda z: z if z > 0 else alpha * math.expm1(z))
    assert ki.calculate_gain("elu", alpha) == pytest.approx(expected, rel=1e-8)


def test_case_insensitive():
    assert ki.calculate_gain("ReLU") == ki.calculate_gain("relu")


def test_unknown_name_lists_known():
    with pytest.raises(ValueError, match="Received: nonlinearity='foo'") as err:
        ki.calculate_gain("foo")
    for name in KNOWN_NONLINEARITIES:
        assert name in str(err.value)


@pytest.mark.parametrize("bad", [True, "0.1", None, [0.1]])
def test_bad_param_type(bad):
    if bad is None:
        assert ki.calculate_gain("leaky_relu", bad) == pytest.approx(TORCH_TABLE["leaky_relu"])
        return
    with pytest.raises(TypeError, match="param"):
        ki.calculate_gain("leaky_relu", bad)


def test_param_rejected_where_unused_and_non_finite():
    with pytest.raises(ValueError, match="param"):
        ki.calculate_gain("tanh", 0.2)
    with pytest.raises(ValueError, match="finite"):
        ki.calculate_gain("leaky_relu", float("nan"))
    with pytest.raises(TypeError, match="nonlinearity"):
        ki.calculate_gain(np.float32(1.0))
