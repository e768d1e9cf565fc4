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


def test_unfused_chain_every_unit_mean_zero_var_one():
    # No fused activations: the walk reuses each step's last output as the
    # layer's output, so the next layer must be normalized on the already
    # normalized input (checked from the weights, one layer at a time).
    model = keras.Sequential([
        keras.Input((12,)), keras.layers.Dense(16), keras.layers.ReLU(),
        keras.layers.Dense(8), keras.layers.Activation("tanh"), keras.layers.Dense(4),
    ])
    ki.data_dependent_init(model, X, verbose=0)
    h = X
    for layer in model.layers:
        if isinstance(layer, keras.layers.Dense):
            h = h @ to_numpy(layer.kernel) + to_numpy(layer.bias)
            np.testing.assert_allclose(h.mean(0), 0.0, atol=1e-3)
            np.testing.assert_allclose(h.var(0), 1.0, atol=1e-3)
        else:
            h = to_numpy(layer(h))


def test_conv_units_and_unsupported_listed():
    inp = keras.Input((6, 6, 2))
    h = keras.layers.Conv2D(4, 3, name="conv")(inp)
    # An EinsumDense whose output ellipsis is not in front has no unit axes
    # the step can place (EinsumDense and depthwise units are handled:
    # tests/test_structure.py).
    h = keras.layers.EinsumDense("ab...,bc->ac...", (3, 4, 4), name="ein")(h)
    model = keras.Model(inp, h)
    x = np.random.default_rng(2).standard_normal((16, 6, 6, 2)).astype("float32")
    report = ki.data_dependent_init(model, x, verbose=0)
    assert [r.layer for r in report.rows] == ["conv"]
    assert report.skipped[0][0] == "ein" and "per-unit" in report.skipped[0][1]
    sub = keras.Model(inp, model.get_layer("conv").output)
    z = to_numpy(sub(x)).reshape(-1, 4)
    np.testing.assert_allclose(z.mean(0), 0.0, atol=1e-3)
    np.testing.assert_allclose(z.var(0), 1.0, atol=1e-3)


def test_constant_unit_is_centred_not_scaled_and_noted():
    # Unit 0 of the first layer has a zero kernel column and bias 0.7: it
    # outputs 0.7 for every row. It is centred (bias 0) and keeps its
    # (zero) kernel; the other units get mean 0, variance 1.
    model = keras.Sequential([keras.Input((12,)), keras.layers.Dense(4), keras.layers.Dense(2)])
    dense = model.layers[0]
    kernel = to_numpy(dense.kernel).copy()
    kernel[:, 0] = 0.0
    dense.kernel.assign(kernel)
    dense.bias.assign(np.array([0.7, 0.1, 0.2, 0.3], "float32"))
    report = ki.data_dependent_init(model, X, verbose=0)
    assert "1 of 4 units constant" in report.rows[0].note
    z = X @ to_numpy(dense.kernel) + to_numpy(dense.bias)
    np.testing.assert_array_equal(to_numpy(dense.kernel)[:, 0], 0.0)
    np.testing.assert_allclose(z[:, 0], 0.0, atol=1e-6)
    np.testing.assert_allclose(z[:, 1:].mean(0), 0.0, atol=1e-3)
    np.testing.assert_allclose(z[:, 1:].var(0), 1.0, atol=1e-3)


def test_layer_constant_in_every_unit_is_centred_and_the_step_succeeds():
    # A second input is the same on every row (a timestep MLP fed one
    # timestep): the layers on it are constant in every unit. Each is
    # centred (its output becomes exactly 0), keeps its kernel and is noted;
    # the layer on the varying input is normalized as usual. No error.
    x_in, t_in = keras.Input((12,), name="x"), keras.Input((3,), name="t")
    t1 = keras.layers.Dense(4, name="t1")(t_in)
    t2 = keras.layers.Dense(2, name="t2")(t1)
    h = keras.layers.Dense(2, name="h")(x_in)
    model = keras.Model([x_in, t_in], keras.layers.Concatenate()([h, t2]))
    kernels = {n: to_numpy(model.get_layer(n).kernel).copy() for n in ("t1", "t2")}
    t = np.repeat(np.array([[0.3, -1.0, 2.0]], "float32"), len(X), axis=0)
    report = ki.data_dependent_init(model, [X, t], verbose=0)
    rows = {r.layer: r for r in report.rows}
    assert rows["t1"].note == "4 of 4 units constant on this batch (std < 1e-06): centred, not scaled"
    assert rows["t2"].note == "2 of 2 units constant on this batch (std < 1e-06): centred, not scaled"
    assert rows["t1"].after == 0.0 and rows["t2"].after == 0.0
    for name, kernel in kernels.items():
        np.testing.assert_array_equal(to_numpy(model.get_layer(name).kernel), kernel)
    out = to_numpy(model([X, t]))
    np.testing.assert_allclose(out[:, 2:], 0.0, atol=1e-5)
    np.testing.assert_allclose(out[:, :2].var(0), 1.0, atol=1e-3)


def test_nan_output_half_way_fails_and_restores_every_weight(monkeypatch):
    # The second layer's kernel holds an inf, so its output is not finite:
    # the step fails after the first layer was already normalized (the spy
    # sees its kernel written), and every weight is back bitwise.
    import sys

    import keras_inits._host as host

    lsuv_module = sys.modules["keras_inits.lsuv"]

    model = keras.Sequential([keras.Input((12,)), keras.layers.Dense(4), keras.layers.Dense(2)])
    kernel = to_numpy(model.layers[1].kernel).copy()
    kernel[0, 0] = np.inf
    model.layers[1].kernel.assign(kernel)
    before = [to_numpy(v).copy() for v in model.weights]
    written = []

    def spy(variable, value):
        written.append(variable.path)
        host.assign(variable, value)

    monkeypatch.setattr(lsuv_module, "assign", spy)
    with pytest.raises(ValueError, match="NaN or inf"):
        ki.data_dependent_init(model, X, verbose=0)
    assert model.layers[0].kernel.path in written
    for a, v in zip(before, model.weights):
        np.testing.assert_array_equal(a, to_numpy(v))


def unit_stats(z, channel_axis=-1):
    z = np.moveaxis(z.astype("float64"), channel_axis, -1).reshape(-1, z.shape[channel_axis])
    return z.mean(0), z.var(0)


def test_residual_model_every_layer_measured_by_sub_models():
    inp = keras.Input((12,))
    h = keras.layers.Dense(16, name="stem")(inp)
    for i in range(2):
        b = keras.layers.Dense(16, activation="relu", name=f"b{i}a")(h)
        b = keras.layers.Dense(16, name=f"b{i}b")(b)
        h = keras.layers.Add()([h, b])
    model = keras.Model(inp, keras.layers.Dense(4, name="head")(h))
    report = ki.data_dependent_init(model, X, verbose=0)
    assert [r.layer for r in report.rows] == ["stem", "b0a", "b0b", "b1a", "b1b", "head"]
    for row in report.rows:
        layer = model.get_layer(row.layer)
        # The pre-activation: this layer's kernel and bias applied to its input.
        h_in = to_numpy(keras.Model(inp, layer.input)(X))
        mean, var = unit_stats(h_in @ to_numpy(layer.kernel) + to_numpy(layer.bias))
        np.testing.assert_allclose(mean, 0.0, atol=1e-3)
        np.testing.assert_allclose(var, 1.0, atol=1e-3)


def test_transposed_and_channels_first_conv_and_no_bias():
    if keras.backend.backend() == "tensorflow":
        pytest.skip("TensorFlow's CPU Conv2D has no channels_first (NCHW) kernel")
    inp = keras.Input((2, 8, 8))  # no spatial size equal to a channel count (see test_lsuv)
    h = keras.layers.Conv2D(5, 3, data_format="channels_first", name="cf")(inp)
    h = keras.layers.Conv2DTranspose(3, 2, data_format="channels_first", use_bias=False, name="tr")(h)
    model = keras.Model(inp, h)
    x = np.random.default_rng(3).standard_normal((16, 2, 8, 8)).astype("float32") + 2.0
    report = ki.data_dependent_init(model, x, verbose=0)
    assert report.rows[1].note == (
        "no bias and its output goes to the model's output, not to one "
        "BatchNormalization: mean not centred")
    mean, var = unit_stats(to_numpy(keras.Model(inp, model.get_layer("cf").output)(x)), 1)
    np.testing.assert_allclose(mean, 0.0, atol=1e-3)
    np.testing.assert_allclose(var, 1.0, atol=1e-3)
    _, var = unit_stats(to_numpy(model(x)), 1)
    np.testing.assert_allclose(var, 1.0, atol=1e-3)


def test_frozen_skipped_bad_data_and_arguments():
    model = keras.Sequential([keras.Input((12,)), keras.layers.Dense(4, name="a"), keras.layers.Dense(2, name="b")])
    model.get_layer("a").trainable = False
    before = [to_numpy(v).copy() for v in model.weights]
    report = ki.data_dependent_init(model, X, verbose=0)
    assert [r.layer for r in report.rows] == ["b"] and report.skipped[0][0] == "a"
    np.testing.assert_array_equal(before[0], to_numpy(model.weights[0]))
    for data, err in [(np.full((4, 12), np.inf, "float32"), ValueError), (np.ones((4, 12), "float32"), ValueError), (3, TypeError)]:
        with pytest.raises(err):
            ki.data_dependent_init(model, data, verbose=0)
    with pytest.raises(ValueError, match="eps"):
        ki.data_dependent_init(model, X, eps=0.0)


def test_batch_size_keeps_the_first_rows():
    # Dense(1), kernel 1, bias 0: on the first 4 rows (x in {0, 2}) the unit
    # has mean 1 and std 1, so the kernel stays 1 and the bias becomes -1.
    # The 60 rows after them (mean 15, std 38) would give other values.
    first = np.array([[0.0], [2.0], [0.0], [2.0]], "float32")
    data = np.concatenate([first, np.linspace(-50, 80, 60, dtype="float32")[:, None]])
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    model.layers[0].kernel.assign([[1.0]])
    ki.data_dependent_init(model, data, batch_size=4, verbose=0)
    np.testing.assert_allclose(to_numpy(model.layers[0].kernel), [[1.0]], rtol=1e-6)
    np.testing.assert_allclose(to_numpy(model.layers[0].bias), [-1.0], rtol=1e-6)
