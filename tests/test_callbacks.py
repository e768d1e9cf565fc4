"""InitCallback / LSUVCallback / ZeroResidualCallback inside model.fit."""

import keras
import numpy as np
import pytest

import keras_inits as ki
from tests.helpers import to_numpy

RNG = np.random.default_rng(0)
X = RNG.standard_normal((64, 8)).astype("float32")
Y = RNG.integers(0, 3, 64)


def model(jit=False):
    m = keras.Sequential([keras.Input((8,)), keras.layers.Dense(16, activation="tanh"), keras.layers.Dense(3)])
    m.compile("sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True), jit_compile=jit)
    return m


class FirstBatch(keras.callbacks.Callback):
    """Records the first layer's kernel as the first training batch sees it."""

    def __init__(self):
        super().__init__()
        self.kernels = []

    def on_train_batch_begin(self, batch, logs=None):
        if batch == 0:
            self.kernels.append(to_numpy(self.model.layers[0].kernel).copy())


def ones_step(m):
    m.layers[0].kernel.assign(np.ones((8, 16), "float32"))
    return ki.InitReport("ones")


@pytest.mark.parametrize("jit", [False, True])
def test_effect_visible_at_first_batch(jit):
    m, probe = model(jit), FirstBatch()
    m.fit(X, Y, epochs=1, batch_size=32, verbose=0, callbacks=[ki.InitCallback(ones_step, verbose=0), probe])
    np.testing.assert_array_equal(probe.kernels[0], 1.0)


def test_runs_once_per_model_unless_rerun():
    calls = []

    def step(m):
        calls.append(m)
        return ki.InitReport("count")

    m = model()
    cb = ki.InitCallback(step, verbose=0)
    m.fit(X, Y, verbose=0, callbacks=[cb])
    m.fit(X, Y, verbose=0, callbacks=[cb])
    assert len(calls) == 1
    again = ki.InitCallback(step, rerun=True, verbose=0)
    m.fit(X, Y, verbose=0, callbacks=[again])
    m.fit(X, Y, verbose=0, callbacks=[again])
    assert len(calls) == 3
    other = model()
    other.fit(X, Y, verbose=0, callbacks=[cb])
    assert len(calls) == 4 and calls[-1] is other


def test_reports_printed_when_verbose(capsys):
    model().fit(X, Y, verbose=0, callbacks=[ki.InitCallback(ones_step, verbose=1)])
    assert "InitReport(ones)" in capsys.readouterr().out


def test_lsuv_callback_in_fit():
    m, probe = model(), FirstBatch()
    cb = ki.LSUVCallback(X[:32], seed=0, verbose=0)
    m.fit(X, Y, epochs=1, batch_size=32, verbose=0, callbacks=[cb, probe])
    z = X[:32] @ probe.kernels[0]
    assert abs(z.var() - 1.0) <= 0.1
    assert cb.reports[0].step == "lsuv" and len(cb.reports[0].rows) == 2


def test_lsuv_callback_builds_sequential_without_input():
    m = keras.Sequential([keras.layers.Dense(16, activation="tanh"), keras.layers.Dense(3)])
    m.compile("sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    cb = ki.LSUVCallback(X[:32], verbose=0)
    m.fit(X, Y, verbose=0, callbacks=[cb])
    assert len(cb.reports[0].rows) == 2


def test_failing_step_stops_fit_and_restores():
    m = model()
    m.fit(X, Y, epochs=1, verbose=0)  # builds optimizer state too
    before = [to_numpy(v).copy() for v in m.weights]
    with pytest.raises(ValueError, match="constant"):
        m.fit(X, Y, verbose=0, callbacks=[ki.LSUVCallback(np.ones((8, 8), "float32"), verbose=0)])
    for a, v in zip(before, m.weights):
        np.testing.assert_array_equal(a, to_numpy(v))


def test_bad_steps():
    with pytest.raises(ValueError, match="at least one step"):
        ki.InitCallback()
    with pytest.raises(TypeError, match="callable"):
        ki.InitCallback("lsuv")
