"""MetaInit / GradInit: GQ against finite differences, decrease, safety."""

import keras
import numpy as np
import pytest

import keras_inits as ki
from keras_inits.metainit import SUPPORTED_BACKENDS, _Functional, gradient_quotient
from tests.helpers import to_numpy

RNG = np.random.default_rng(0)
X = RNG.standard_normal((32, 6)).astype("float32")
Y = RNG.integers(0, 3, 32)
LOSS = keras.losses.SparseCategoricalCrossentropy(from_logits=True)

needs_double_backprop = pytest.mark.skipif(
    keras.backend.backend() not in SUPPORTED_BACKENDS, reason="double backprop: tensorflow and jax only"
)


def tiny(scale=1.0, depth=3):
    keras.utils.set_random_seed(0)
    init = keras.initializers.RandomNormal(stddev=scale)
    return keras.Sequential(
        [keras.Input((6,))] + [keras.layers.Dense(5, activation="tanh", kernel_initializer=init) for _ in range(depth)]
        + [keras.layers.Dense(3, kernel_initializer=init)]
    )


@needs_double_backprop
def test_gq_matches_finite_difference_hvp():
    model = tiny()
    fn = _Functional(model, X, keras.ops.convert_to_tensor(Y), LOSS)
    eps = 1e-5
    gq = float(gradient_quotient(fn, fn.base, eps))

    w = [to_numpy(t).astype("float64") for t in fn.base]

    def grad_at(ws):
        import keras_inits.metainit as mod  # noqa: F401
        from keras_inits.metainit import _grad

        return [to_numpy(g).astype("float64") for g in _grad(lambda ts: fn.loss_of(ts))(
            [keras.ops.convert_to_tensor(a.astype("float32")) for a in ws])]

    g = grad_at(w)
    h = 1e-2
    plus = grad_at([a + h * gi for a, gi in zip(w, g)])
    minus = grad_at([a - h * gi for a, gi in zip(w, g)])
    hg = [(p - m) / (2 * h) for p, m in zip(plus, minus)]
    terms = [np.abs((gi - hi) / (gi + eps * np.where(gi >= 0, 1, -1)) - 1) for gi, hi in zip(g, hg)]
    expected = sum(t.sum() for t in terms) / sum(t.size for t in terms)
    assert gq == pytest.approx(expected, rel=0.02)


@needs_double_backprop
def test_metainit_lowers_gq_keeps_scales_positive_and_is_deterministic():
    model = tiny(scale=2.0)
    report = ki.metainit(model, (X, Y), LOSS, steps=15)
    first, last = report.gq
    assert last < first
    assert all(r.scale > 0 for r in report.rows)
    again = tiny(scale=2.0)
    ki.metainit(again, (X, Y), LOSS, steps=15)
    for a, b in zip(model.weights, again.weights):
        np.testing.assert_allclose(to_numpy(a), to_numpy(b), rtol=1e-6)


@needs_double_backprop
def test_metainit_only_rescales_kernels():
    model = tiny()
    before = [to_numpy(v).copy() for v in model.weights]
    report = ki.metainit(model, (X, Y), LOSS, steps=3)
    for row, (a, v) in zip(report.rows, [(a, v) for a, v in zip(before, model.weights) if v.name == "kernel"]):
        np.testing.assert_allclose(to_numpy(v), a * row.scale, rtol=1e-5)


@needs_double_backprop
def test_gradinit_lowers_one_step_loss_and_respects_min_scale():
    model = tiny(scale=1.5)
    report = ki.gradinit(model, (X, Y), LOSS, steps=15, min_scale=0.05)
    assert all(r.scale >= 0.05 for r in report.rows)
    before, after = (float(s.split()[0]) for s in report.notes[0].replace("loss before ", "").split(", after "))
    assert after < before


@needs_double_backprop
def test_failure_restores_weights():
    model = tiny()
    before = [to_numpy(v).copy() for v in model.weights]

    def bad_loss(y, pred):
        return keras.ops.mean(pred) * float("nan")

    with pytest.raises(ValueError, match="not finite"):
        ki.metainit(model, (X, Y), bad_loss, steps=2)
    for a, v in zip(before, model.weights):
        np.testing.assert_array_equal(a, to_numpy(v))


@needs_double_backprop
def test_through_init_callback():
    model = tiny()
    model.compile("sgd", LOSS)
    cb = ki.InitCallback(lambda m: ki.metainit(m, (X, Y), LOSS, steps=2), verbose=0)
    model.fit(X, Y, verbose=0, callbacks=[cb])
    assert cb.reports[0].step == "metainit"


def test_bad_input():
    with pytest.raises((TypeError, NotImplementedError), match="labels|backend"):
        ki.metainit(tiny(), X, LOSS)
    if keras.backend.backend() in SUPPORTED_BACKENDS:
        with pytest.raises(ValueError, match="steps"):
            ki.metainit(tiny(), (X, Y), LOSS, steps=0)
        with pytest.raises(ValueError, match="NaN"):
            ki.gradinit(tiny(), (np.full_like(X, np.nan), Y), LOSS)


@pytest.mark.skipif(keras.backend.backend() in SUPPORTED_BACKENDS, reason="backend supported")
def test_unsupported_backend_raises_clearly():
    with pytest.raises(NotImplementedError, match=keras.backend.backend()):
        ki.metainit(tiny(), (X, Y), LOSS)
    with pytest.raises(NotImplementedError, match=keras.backend.backend()):
        ki.gradinit(tiny(), (X, Y), LOSS)
