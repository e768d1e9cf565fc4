"""DeltaOrthogonal: exact structure, Haar distribution, one QR, config, dtypes, saving."""

import keras
import numpy as np
import pytest

import keras_inits as ki
from tests.helpers import UNIT_ROUNDOFF, assert_config_roundtrip, dtype_sweep, to_numpy


@pytest.mark.parametrize(
    "shape,centre",
    [
        ((3, 4, 8), (1,)),  # Conv1D
        ((3, 3, 8, 8), (1, 1)),  # square: Q orthogonal
        ((4, 4, 5, 16), (2, 2)),  # even k: the later middle tap, as torch's dirac_
        ((3, 3, 3, 2, 6), (1, 1, 1)),  # Conv3D
    ],
)
def test_centre_is_orthogonal_and_rest_zero(shape, centre):
    w = to_numpy(ki.DeltaOrthogonal(gain=1.5, seed=0)(shape)).astype("float64")
    q = w[centre]
    np.testing.assert_allclose(q @ q.T, 1.5**2 * np.eye(shape[-2]), atol=1e-5)
    rest = w.copy()
    rest[centre] = 0.0
    assert np.count_nonzero(rest) == 0


def test_conv_with_same_padding_is_an_isometry():
    layer = keras.layers.Conv2D(
        16, 3, padding="same", use_bias=False, kernel_initializer="delta_orthogonal"
    )
    x = np.random.default_rng(0).standard_normal((2, 6, 6, 8)).astype("float32")
    y = to_numpy(layer(x))
    np.testing.assert_allclose(
        np.linalg.norm(y, axis=-1), np.linalg.norm(x, axis=-1), rtol=1e-4
    )


def test_centre_is_haar_distributed():
    # The trace of a Haar-random orthogonal n x n matrix has mean 0 and
    # variance 1 (Diaconis & Shahshahani 1994). QR without Mezzadri's sign
    # correction gives a mean near -3.2 for n = 32 on every backend.
    traces = [
        np.trace(to_numpy(ki.DeltaOrthogonal(seed=s)((1, 32, 32)))[0].astype("float64"))
        for s in range(20)
    ]
    assert abs(np.mean(traces)) <= 5.0 / np.sqrt(len(traces)), traces


def test_one_qr_per_kernel(monkeypatch):
    calls = []
    qr = keras.ops.qr
    monkeypatch.setattr(keras.ops, "qr", lambda *a, **k: calls.append(1) or qr(*a, **k))
    ki.DeltaOrthogonal(seed=0)((3, 3, 16, 32))
    assert len(calls) == 1


def test_seeds():
    a = to_numpy(ki.DeltaOrthogonal(seed=3)((3, 3, 4, 4)))
    np.testing.assert_array_equal(a, to_numpy(ki.DeltaOrthogonal(seed=3)((3, 3, 4, 4))))
    assert not np.array_equal(a, to_numpy(ki.DeltaOrthogonal(seed=4)((3, 3, 4, 4))))
    unseeded = ki.DeltaOrthogonal()  # Keras semantics: one seed drawn at construction
    np.testing.assert_array_equal(to_numpy(unseeded((3, 4, 4))), to_numpy(unseeded((3, 4, 4))))


def test_errors():
    with pytest.raises(ValueError, match="in_channels <= out_channels"):
        ki.DeltaOrthogonal()((3, 3, 8, 4))
    with pytest.raises(ValueError, match="rank 3, 4 or 5"):
        ki.DeltaOrthogonal()((8, 8))
    with pytest.raises(ValueError, match="rank 3, 4 or 5"):
        ki.DeltaOrthogonal()((2, 2, 2, 2, 2, 2))
    with pytest.raises(ValueError, match="Received: gain=0"):
        ki.DeltaOrthogonal(gain=0.0)
    with pytest.raises(TypeError, match="gain"):
        ki.DeltaOrthogonal(gain="1")
    with pytest.raises(ValueError, match="dtype"):
        ki.DeltaOrthogonal()((3, 4, 4), dtype="int32")


def test_zero_size_shape():
    assert tuple(ki.DeltaOrthogonal(seed=0)((3, 3, 0, 4)).shape) == (3, 3, 0, 4)


def test_config_roundtrip():
    assert_config_roundtrip(ki.DeltaOrthogonal(gain=2, seed=1), (3, 3, 4, 8))
    assert ki.DeltaOrthogonal(gain=2, seed=1).get_config() == {"gain": 2, "seed": 1}


def check_delta_orthogonal(x, tol):
    """Centre Q with Q Q^T = I, other taps exactly 0. Rounding each entry of Q
    by at most tol relatively moves each entry of Q Q^T by at most
    2 tol + tol^2 (Cauchy-Schwarz on unit rows); 1e-5 for float32's QR."""
    q = x[1, 1]
    np.testing.assert_allclose(q @ q.T, np.eye(4), atol=2 * tol + tol**2 + 1e-5)
    rest = x.copy()
    rest[1, 1] = 0
    assert not np.any(rest)


test_dtypes = dtype_sweep(
    {"DeltaOrthogonal": (lambda: ki.DeltaOrthogonal(seed=1), (3, 3, 4, 8))},
    {"DeltaOrthogonal": check_delta_orthogonal},
)


def test_bfloat16_policy_layer():
    keras.config.set_dtype_policy("bfloat16")  # QR itself fails in bfloat16
    layer = keras.layers.Conv2D(8, 3, kernel_initializer="delta_orthogonal")
    layer.build((None, 6, 6, 4))
    assert keras.backend.standardize_dtype(layer.kernel.dtype) == "bfloat16"
    check_delta_orthogonal(to_numpy(keras.ops.cast(layer.kernel, "float32")).astype("float64"),
                           UNIT_ROUNDOFF["bfloat16"] + UNIT_ROUNDOFF["float32"])


def test_save_and_load(tmp_path):
    model = keras.Sequential(
        [
            keras.Input((6, 6, 3)),
            keras.layers.Conv2D(8, 3, padding="same", kernel_initializer="delta_orthogonal"),
            keras.layers.Conv2D(8, 3, kernel_initializer=ki.DeltaOrthogonal(gain=2.0, seed=5)),
        ]
    )
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    x = np.random.default_rng(0).standard_normal((2, 6, 6, 3)).astype("float32")
    np.testing.assert_allclose(to_numpy(loaded(x)), to_numpy(model(x)), rtol=1e-6, atol=1e-6)
    init = loaded.layers[1].kernel_initializer
    assert isinstance(init, ki.DeltaOrthogonal) and init.get_config() == {"gain": 2.0, "seed": 5}
    np.testing.assert_array_equal(
        to_numpy(init((3, 3, 8, 8))), to_numpy(ki.DeltaOrthogonal(2.0, seed=5)((3, 3, 8, 8)))
    )
