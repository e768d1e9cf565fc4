import keras
import numpy as np
import pytest

import keras_inits as ki
from tests.helpers import to_numpy

X = np.random.default_rng(1).standard_normal((256, 12)).astype("float32") * 3 + 1


def test_every_unit_mean_zero_var_one():
    model = keras.Sequential(
        [keras.Input((12,)), keras.layers.Dense(16, activation="relu"), keras.layers.Dense(8, activation="tanh"), keras.layers.Dense(4)]
    )
    ki.data_dependent_init(model, X, verbose=0)
    h = X
    for layer in model.layers:
        z = h @ to_numpy(layer.kernel) + to_numpy(layer.bias)
        np.testing.assert_allclose(z.mean(0), 0.0, atol=1e-3)
        np.testing.assert_allclose(z.var(0), 1.0, atol=1e-3)
        h = to_numpy(layer.activation(z))


def test_conv_units_and_unsupported_listed():
    inp = keras.Input((6, 6, 2))
    h = keras.layers.Conv2D(4, 3, name="conv")(inp)
    h = keras.layers.DepthwiseConv2D(3, name="dw")(h)
    model = keras.Model(inp, h)
    x = np.random.default_rng(2).standard_normal((16, 6, 6, 2)).astype("float32")
    report = ki.data_dependent_init(model, x, verbose=0)
    assert [r.layer for r in report.rows] == ["conv"]
    assert report.skipped[0][0] == "dw"
    sub = keras.Model(inp, model.get_layer("conv").output)
    z = to_numpy(sub(x)).reshape(-1, 4)
    np.testing.assert_allclose(z.mean(0), 0.0, atol=1e-3)
    np.testing.assert_allclose(z.var(0), 1.0, atol=1e-3)


def test_dead_unit_fails_and_restores():
    model = keras.Sequential([keras.Input((12,)), keras.layers.Dense(4), keras.layers.Dense(2)])
    kernel = to_numpy(model.layers[0].kernel).copy()
    kernel[:, 0] = 0.0
    model.layers[0].kernel.assign(kernel)
    before = [to_numpy(v).copy() for v in model.weights]
    with pytest.raises(ValueError, match="dense"):
        ki.data_dependent_init(model, X, verbose=0)
    for a, v in zip(before, model.weights):
        np.testing.assert_array_equal(a, to_numpy(v))
