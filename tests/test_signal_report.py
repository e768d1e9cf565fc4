"""signal_report: findings on networks with known defects, table, rows, plot."""

import math

import keras
import numpy as np
import pytest

import keras_inits as ki

RNG = np.random.default_rng(0)
X = RNG.standard_normal((64, 16)).astype("float32")
Y = RNG.integers(0, 4, 64)


def mlp(depth=12, init="he_normal", bias="zeros", width=32):
    return keras.Sequential(
        [keras.Input((16,))]
        + [keras.layers.Dense(width, activation="relu", kernel_initializer=init, bias_initializer=bias)
           for _ in range(depth)]
        + [keras.layers.Dense(4)]
    )


def test_vanishing_detected_with_tiny_init_not_with_he():
    bad = ki.signal_report(mlp(init=keras.initializers.RandomNormal(stddev=0.01)), X)
    assert any(f.startswith("vanishing: variance falls 10^") for f in bad.findings)
    good = ki.signal_report(mlp(init="he_normal"), X)
    assert not any("vanishing" in f or "exploding" in f for f in good.findings)


def test_exploding_detected():
    report = ki.signal_report(mlp(depth=8, init=keras.initializers.RandomNormal(stddev=1.0)), X)
    assert any(f.startswith("exploding") for f in report.findings)


def test_dead_units_detected_with_negative_bias():
    model = mlp(depth=2, bias=keras.initializers.Constant(-100.0))
    report = ki.signal_report(model, X)
    assert report.layers[0].dead_fraction == 1.0
    assert any(f"dead units in layer {report.layers[0].name}: 100%" == f for f in report.findings)


def test_symmetric_units_detected_with_constant_kernel():
    model = keras.Sequential([keras.Input((16,)), keras.layers.Dense(8, kernel_initializer=keras.initializers.Constant(0.1)), keras.layers.Dense(2)])
    report = ki.signal_report(model, X)
    assert report.layers[0].identical_units == 8
    assert f"symmetric units in layer {report.layers[0].name}: 8 identical" in report.findings


def test_nfnet_statistics_against_numpy():
    model = keras.Sequential([keras.Input((16,)), keras.layers.Dense(6)])
    report = ki.signal_report(model, X)
    out = X @ keras.ops.convert_to_numpy(model.layers[0].kernel)
    s = report.layers[0]
    np.testing.assert_allclose([s.mean, s.variance], [out.mean(), out.var()], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(s.channel_mean_sq, np.mean(out.mean(0) ** 2), rtol=1e-4, atol=1e-7)
    np.testing.assert_allclose(s.channel_variance, out.var(0).mean(), rtol=1e-5)


def test_gradient_norms_with_labels():
    model = mlp(depth=3)
    report = ki.signal_report(model, X, y=Y, loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    norms = [s.grad_norm for s in report.layers]
    assert all(n is not None and n > 0 for n in norms)
    assert report.gradient_ratio == pytest.approx(norms[0] / norms[-1])


def test_gradients_need_a_loss():
    with pytest.raises(ValueError, match="loss"):
        ki.signal_report(mlp(depth=2), X, y=Y)
    model = mlp(depth=2)
    model.compile("sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    assert ki.signal_report(model, X, y=Y).layers[0].grad_norm > 0


def test_bad_data():
    with pytest.raises(ValueError, match="NaN"):
        ki.signal_report(mlp(depth=2), np.full((4, 16), np.inf, "float32"))
    with pytest.raises(ValueError, match="empty"):
        ki.signal_report(mlp(depth=2), np.zeros((0, 16), "float32"))


def test_table_rows_and_dataframe():
    report = ki.signal_report(mlp(depth=2), X)
    text = str(report)
    assert "variance" in text and "findings" in text
    rows = report.to_rows()
    assert {r["statistic"] for r in rows} >= {"mean", "variance", "channel_mean_sq", "channel_variance"}
    assert len({r["layer"] for r in rows}) == 3
    try:
        import pandas  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="pandas"):
            report.to_dataframe()
    else:
        assert len(report.to_dataframe()) == len(rows)


def test_plot_overlay_is_a_valid_png(tmp_path):
    import matplotlib.image

    reports = [ki.signal_report(mlp(depth=4, init=i), X, y=Y, loss="sparse_categorical_crossentropy")
               for i in ("glorot_uniform", "kaiming_normal")]
    path = reports[0].plot(tmp_path / "sp.png", others=reports[1:], labels=["glorot", "kaiming"])
    data = (tmp_path / "sp.png").read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000
    image = matplotlib.image.imread(path)
    assert image.shape[0] > 200 and image.shape[1] > 400
    with pytest.raises(ValueError, match="labels"):
        reports[0].plot(tmp_path / "x.png", others=reports[1:], labels=["one"])


# --- findings named in the README: gradients, dead layer ---------------------


def two_linear_layers(a, b):
    """x -> x W1 -> (x W1) W2, no bias, no activation, W1 = a A, W2 = b B."""
    model = keras.Sequential([keras.Input((16,)), keras.layers.Dense(8, use_bias=False),
                              keras.layers.Dense(4, use_bias=False)])
    rng = np.random.default_rng(3)
    model.layers[0].kernel.assign((a * rng.standard_normal((16, 8)) / 4).astype("float32"))
    model.layers[1].kernel.assign((b * rng.standard_normal((8, 4)) / 3).astype("float32"))
    return model


def numpy_gradient_ratio(model, x, y):
    """||dL/dW1|| / ||dL/dW2|| for L = mean((x W1 W2 - y)^2), in float64."""
    w1, w2 = (keras.ops.convert_to_numpy(layer.kernel).astype("float64") for layer in model.layers)
    x, y = x.astype("float64"), y.astype("float64")
    h = x @ w1
    delta = 2 * (h @ w2 - y) / y.size
    return np.linalg.norm(x.T @ (delta @ w2.T)) / np.linalg.norm(h.T @ delta)


@pytest.mark.parametrize("a,b,word", [(0.01, 10.0, "exploding"), (10.0, 0.01, "vanishing"),
                                      (1.0, 1.0, None)])
def test_gradient_findings_name_the_direction(a, b, word):
    """dL/dW1 scales with |W2| and dL/dW2 with |W1|: W1 small and W2 large
    makes the first layer's gradient ~10^4 times the last's (exploding,
    ratio > 1); the other way round ~10^-4 (vanishing); equal scales, none."""
    y = np.random.default_rng(4).standard_normal((64, 4)).astype("float32")
    model = two_linear_layers(a, b)
    report = ki.signal_report(model, X, y=y, loss="mse")
    expected = numpy_gradient_ratio(model, X, y)
    assert report.gradient_ratio == pytest.approx(expected, rel=1e-4)
    found = [f for f in report.findings if "gradients" in f]
    if word is None:
        assert abs(math.log10(expected)) < 2 and found == []
    else:
        assert (expected > 1) == (word == "exploding") and abs(math.log10(expected)) >= 2
        assert found == [f"{word} gradients: first/last kernel gradient norm ratio "
                         f"{report.gradient_ratio:.3g}"]


def test_dead_layer_finding():
    """d0's relu is dead (bias -100): 100% dead units. d1 then sees zeros and
    outputs its bias, -1 everywhere: a constant that is not a relu's zero,
    so a dead layer rather than dead units."""
    model = keras.Sequential([
        keras.Input((16,)),
        keras.layers.Dense(8, activation="relu", bias_initializer=keras.initializers.Constant(-100.0), name="d0"),
        keras.layers.Dense(4, bias_initializer=keras.initializers.Constant(-1.0), name="d1"),
    ])
    report = ki.signal_report(model, X)
    assert report.layers[1].variance == 0.0 and report.layers[1].dead_fraction is None
    assert "dead units in layer d0: 100%" in report.findings
    assert "dead layer d1: its output is constant on the batch" in report.findings
    assert not any("dead units in layer d1" in f for f in report.findings)


def test_matplotlib_is_imported_lazily():
    """In a fresh process with matplotlib made unimportable: keras_inits imports
    and reports without it, and only `plot` asks for the `plot` extra. (Keras
    itself imports matplotlib when it is installed, so "not in sys.modules
    after import" cannot be the check.)"""
    import os
    import subprocess
    import sys

    script = "\n".join([
        "import sys",
        "sys.modules['matplotlib'] = None  # any `import matplotlib` now raises ImportError",
        "import numpy as np, keras, keras_inits as ki",
        "assert 'keras_inits.diagnostics.plot' not in sys.modules",
        "model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])",
        "report = ki.signal_report(model, np.arange(8.0, dtype='float32').reshape(2, 4))",
        "assert 'keras_inits.diagnostics.plot' not in sys.modules",
        "try:",
        "    report.plot('unused.png')",
        "except ImportError as err:",
        "    assert \"pip install 'keras_inits[plot]'\" in str(err), err",
        "else:",
        "    raise AssertionError('plot worked without matplotlib')",
        "print('ok')",
    ])
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env,
                          timeout=300)
    assert done.returncode == 0 and done.stdout.strip().endswith("ok"), done.stderr[-2000:]
