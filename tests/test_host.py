"""keras_inits._host: the host-side arithmetic of the eager model-level steps."""

import keras
import numpy as np
import pytest

from keras_inits import _host


@pytest.mark.parametrize("rows, cols", [(12, 5), (5, 12), (7, 7), (1, 9)])
def test_orthogonal_is_exactly_orthonormal_in_its_short_dimension(rows, cols):
    q = _host.orthogonal(rows, cols, seed=3)
    assert q.shape == (rows, cols) and q.dtype == np.float32
    gram = q.T @ q if rows >= cols else q @ q.T
    np.testing.assert_allclose(gram, np.eye(min(rows, cols)), atol=1e-5)


def test_orthogonal_is_seeded_and_seeds_differ():
    a, b = _host.orthogonal(6, 4, seed=1), _host.orthogonal(6, 4, seed=1)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, _host.orthogonal(6, 4, seed=2))


def test_orthogonal_entries_have_the_haar_second_moment():
    # A column of a Haar-distributed n x k orthonormal matrix is uniform on
    # the sphere: each entry has mean 0 and E[q^2] = 1/n. 200 draws of a
    # 16 x 4 matrix give 12800 entries; Var(q^2) = E[q^4] - 1/n^2 with
    # E[q^4] = 3 / (n (n + 2)), so the mean of q^2 has a standard error of
    # sqrt((3/(n(n+2)) - 1/n^2) / 12800) = 4.1e-4; allow 5 of them. A
    # polar factor without the inverse square root (q = A, or A (A^T A)^-1)
    # is off by orders of magnitude.
    n = 16
    q = np.stack([_host.orthogonal(n, 4, seed=s) for s in range(200)]).astype(np.float64)
    se = np.sqrt((3 / (n * (n + 2)) - 1 / n**2) / q.size)
    assert abs(np.mean(q**2) - 1 / n) < 5 * se
    assert abs(np.mean(q)) < 5 * np.sqrt(1 / n / q.size)


@pytest.mark.skipif(keras.backend.backend() == "tensorflow", reason="TensorFlow takes the QR directly")
def test_orthogonal_falls_back_to_qr_for_a_singular_draw(monkeypatch):
    # A draw whose Gram matrix cannot be inverted (a zero column) takes the
    # QR path: still orthonormal, no NaN.
    a = np.random.default_rng(0).standard_normal((8, 3)).astype(np.float32)
    a[:, 1] = 0.0
    monkeypatch.setattr(_host, "draw", lambda fn, shape, seed, **kw: a)
    q = _host.orthogonal(8, 3, seed=0)
    assert np.all(np.isfinite(q))
    np.testing.assert_allclose(q.T @ q, np.eye(3), atol=1e-5)


def test_assign_casts_on_the_host_to_the_variable_dtype():
    import keras

    v = keras.Variable(np.zeros((2, 3)), dtype="bfloat16")
    _host.assign(v, np.full((2, 3), 1.0 / 3.0))
    assert keras.backend.standardize_dtype(v.dtype) == "bfloat16"
    # 1/3 in bfloat16 (8 bits of mantissa) is 0.333984375, not float32's 0.33333334.
    np.testing.assert_array_equal(_host.to_host(v), np.full((2, 3), 0.333984375, np.float32))
