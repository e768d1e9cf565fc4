"""signal_report: findings on networks with known defects, table, rows, plot."""

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
