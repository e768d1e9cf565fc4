"""PriorBias and ChronoBias: exact values and layout, the chrono range and
moments, errors, config, dtypes and saving."""

import math

import keras
import numpy as np
import pytest

import keras_inits as ki
from tests.helpers import (
    assert_config_roundtrip,
    assert_moments,
    dtype_sweep,
    int_dtype_sweep,
    to_numpy,
)

# --- PriorBias -------------------------------------------------------------


@pytest.mark.parametrize("p", [0.01, 0.5, 0.9])
def test_prior_bias_sigmoid_exact(p):
    b = to_numpy(ki.PriorBias(p)((5,))).astype("float64")
    np.testing.assert_allclose(b, math.log(p) - math.log1p(-p), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(1 / (1 + np.exp(-b)), p, rtol=1e-6)


def test_prior_bias_softmax_exact():
    p = [0.7, 0.2, 0.1]
    b = to_numpy(ki.PriorBias(p)((3,))).astype("float64")
    np.testing.assert_allclose(b, [math.log(v) for v in p], rtol=1e-6)
    np.testing.assert_allclose(np.exp(b) / np.exp(b).sum(), p, rtol=1e-6)


def test_prior_bias_accepts_numpy_priors():
    init = ki.PriorBias(np.array([0.25, 0.75], dtype="float32"))
    assert init.get_config() == {"prior": [0.25, 0.75]}
    assert ki.PriorBias(np.float64(0.1)).get_config() == {"prior": 0.1}


def test_prior_bias_first_loss_is_the_prior_entropy():
    p = np.array([0.6, 0.3, 0.1])
    head = keras.layers.Dense(
        3, activation="softmax", kernel_initializer="zeros", bias_initializer=ki.PriorBias(p.tolist())
    )
    x = np.random.default_rng(0).standard_normal((4, 5)).astype("float32")
    np.testing.assert_allclose(to_numpy(head(x)), np.tile(p, (4, 1)), rtol=1e-5)


@pytest.mark.parametrize(
    "prior,error,match",
    [
        (0.0, ValueError, "Received: prior=0.0"),
        (1.0, ValueError, "prior"),
        (-0.5, ValueError, "prior"),
        (float("nan"), ValueError, "prior"),
        ("x", TypeError, "prior"),
        ([0.5, 0.6], ValueError, "sum to 1"),
        ([0.5, 0.5 + 2e-6], ValueError, "sum to 1"),
        ([1.0, 0.0], ValueError, "prior"),
        ([1.2, -0.2], ValueError, "prior"),
        ([], ValueError, "prior"),
        ([[0.5, 0.5]], ValueError, "flat"),
        (["a", 0.5], TypeError, "prior"),
    ],
)
def test_prior_bias_errors(prior, error, match):
    with pytest.raises(error, match=match):
        ki.PriorBias(prior)


def test_prior_bias_sum_tolerance_is_1e6():
    ki.PriorBias([0.5, 0.5 + 5e-7])


def test_prior_bias_length_mismatch():
    with pytest.raises(ValueError, match=r"shape \(2,\)"):
        ki.PriorBias([0.5, 0.5])((3,))


# --- ChronoBias ------------------------------------------------------------


def test_chrono_bias_layout_range_and_moments():
    units, t = 500, 50
    b = to_numpy(ki.ChronoBias(max_timesteps=t, seed=0)((4 * units,))).astype("float64")
    b_i, b_f, b_c, b_o = np.split(b, 4)  # Keras' gate order i, f, c, o
    np.testing.assert_array_equal(b_i, -b_f)
    assert np.all(b_c == 0) and np.all(b_o == 0)
    assert b_f.min() >= 0.0 and b_f.max() <= math.log(t - 1) + 1e-6
    # exp(b_f) ~ U[1, T-1]: mean T/2, std (T-2)/sqrt(12).
    assert_moments(np.exp(b_f), (t - 2) / math.sqrt(12), mean=t / 2, dist="uniform")


def test_chrono_bias_in_lstm():
    layer = keras.layers.LSTM(6, bias_initializer=ki.ChronoBias(20, seed=1), unit_forget_bias=False)
    layer.build((None, 5, 3))
    b = to_numpy(layer.cell.bias)
    assert np.all(b[6:12] >= 0) and np.all(b[6:12] <= math.log(19) + 1e-6)
    np.testing.assert_array_equal(b[:6], -b[6:12])
    assert np.all(b[12:] == 0)


def test_chrono_bias_with_unit_forget_bias_raises():
    layer = keras.layers.LSTM(6, bias_initializer=ki.ChronoBias(20, seed=1))
    with pytest.raises(ValueError, match="unit_forget_bias=False"):
        layer.build((None, 5, 3))


def test_chrono_bias_with_unit_forget_bias_gets_ones_in_the_forget_slice():
    """README: without unit_forget_bias=False Keras overwrites the forget
    slice with ones. With units a multiple of 4 nothing raises (Keras calls
    the initializer on (units,) and (2 * units,)), so the forget gates are
    all 1, not chrono's log U[1, T-1]."""
    layer = keras.layers.LSTM(8, bias_initializer=ki.ChronoBias(20, seed=1))
    layer.build((None, 5, 3))
    np.testing.assert_array_equal(to_numpy(layer.cell.bias)[8:16], 1.0)
    right = keras.layers.LSTM(8, bias_initializer=ki.ChronoBias(20, seed=1), unit_forget_bias=False)
    right.build((None, 5, 3))
    assert not np.any(to_numpy(right.cell.bias)[8:16] == 1.0)


def test_chrono_bias_seeds():
    a = to_numpy(ki.ChronoBias(30, seed=2)((16,)))
    np.testing.assert_array_equal(a, to_numpy(ki.ChronoBias(30, seed=2)((16,))))
    assert not np.array_equal(a, to_numpy(ki.ChronoBias(30, seed=3)((16,))))


def test_chrono_bias_errors():
    with pytest.raises(ValueError, match="Received: max_timesteps=2"):
        ki.ChronoBias(2)
    with pytest.raises(TypeError, match="max_timesteps"):
        ki.ChronoBias("10")
    with pytest.raises(ValueError, match=r"4 \* units"):
        ki.ChronoBias(10)((6,))
    with pytest.raises(ValueError, match=r"4 \* units"):
        ki.ChronoBias(10)((0,))
    with pytest.raises(ValueError, match=r"4 \* units"):
        ki.ChronoBias(10)((2, 12))


# --- shared sweeps ---------------------------------------------------------

CASES = {
    "PriorBias-sigmoid": (lambda: ki.PriorBias(0.01), (4,)),
    "PriorBias-softmax": (lambda: ki.PriorBias([0.5, 0.25, 0.25]), (3,)),
    "ChronoBias": (lambda: ki.ChronoBias(max_timesteps=30, seed=5), (4 * 64,)),
}


def check_chrono(x, tol):
    b_i, b_f, b_c, b_o = np.split(x, 4)
    np.testing.assert_array_equal(b_i, -b_f)  # negation is exact in every dtype
    assert np.all(b_c == 0) and np.all(b_o == 0)
    assert b_f.min() >= 0.0 and b_f.max() <= math.log(29) * (1 + tol)
    # exp(b_f) ~ U[1, 29]; a relative error tol in b_f <= log 29 is a relative
    # error of at most exp(tol log 29) - 1 < 4 tol in exp(b_f).
    assert_moments(np.exp(b_f), 28 / math.sqrt(12), mean=15, dist="uniform", rounding=4 * tol)


CHECKS = {
    "PriorBias-sigmoid": lambda x, tol: np.testing.assert_allclose(x, math.log(0.01 / 0.99), rtol=tol),
    "PriorBias-softmax": lambda x, tol: np.testing.assert_allclose(
        x, [math.log(0.5), math.log(0.25), math.log(0.25)], rtol=tol),
    "ChronoBias": check_chrono,
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_config_roundtrip(name):
    make, shape = CASES[name]
    assert_config_roundtrip(make(), shape)


def test_config_keeps_arguments_as_given():
    assert ki.ChronoBias(30, seed=5).get_config() == {"max_timesteps": 30, "seed": 5}
    assert ki.PriorBias((0.5, 0.5)).get_config() == {"prior": [0.5, 0.5]}


test_dtypes = dtype_sweep(CASES, CHECKS)
test_int_dtype_refused = int_dtype_sweep(CASES)


def test_string_aliases_in_layers():
    dense = keras.layers.Dense(1, bias_initializer="prior_bias")
    dense.build((None, 4))
    np.testing.assert_allclose(to_numpy(dense.bias), math.log(0.01 / 0.99), rtol=1e-6)
    chrono = {"class_name": "chrono_bias", "config": {"max_timesteps": 10, "seed": 1}}
    lstm = keras.layers.LSTM(4, bias_initializer=chrono, unit_forget_bias=False)
    lstm.build((None, 3, 2))
    assert isinstance(lstm.cell.bias_initializer, ki.ChronoBias)


def test_save_and_load(tmp_path):
    inp = keras.Input((6, 5))
    seq = keras.layers.LSTM(8, bias_initializer=ki.ChronoBias(20, seed=8), unit_forget_bias=False)(inp)
    out = keras.layers.Dense(3, activation="softmax", bias_initializer=ki.PriorBias([0.7, 0.2, 0.1]))(seq)
    model = keras.Model(inp, out)
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    x = np.random.default_rng(1).standard_normal((2, 6, 5)).astype("float32")
    np.testing.assert_allclose(to_numpy(loaded(x)), to_numpy(model(x)), rtol=1e-5, atol=1e-6)
    assert loaded.layers[1].cell.bias_initializer.get_config() == {"max_timesteps": 20, "seed": 8}
    assert loaded.layers[2].bias_initializer.get_config() == {"prior": [0.7, 0.2, 0.1]}
