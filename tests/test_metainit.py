"""MetaInit / GradInit against an independent numpy model, decrease, safety.

The tiny model (Dense(3, tanh) -> Dense(2), mean squared error) has its
gradient written out in numpy (float64) below, so the gradient quotient and
GradInit's one-step objective are checked without any backend autodiff: the
Hessian-vector product is a central finite difference of that gradient.
"""

import sys

import keras
import numpy as np
import pytest

import keras_inits as ki
from keras_inits.metainit import SUPPORTED_BACKENDS, gradient_quotient
from tests.helpers import to_numpy

# conftest also adds `core` to every test of the files in CORE_FILES (this one is).
pytestmark = pytest.mark.core

mi = sys.modules["keras_inits.metainit"]  # `ki.metainit` is the function

RNG = np.random.default_rng(0)
X = RNG.standard_normal((32, 4)).astype("float32")
Y = RNG.standard_normal((32, 2)).astype("float32")

needs_double_backprop = pytest.mark.skipif(
    keras.backend.backend() not in SUPPORTED_BACKENDS, reason="needs double backprop"
)


def tiny(kernel_std=0.8, bias=0.3, seed=1):
    """Dense(3, tanh) -> Dense(2); weights from numpy, the same on every backend."""
    model = keras.Sequential(
        [keras.Input((4,)), keras.layers.Dense(3, activation="tanh"), keras.layers.Dense(2)]
    )
    rng = np.random.default_rng(seed)
    model.set_weights([
        (rng.standard_normal(v.shape) * (kernel_std if len(v.shape) == 2 else bias)).astype("float32")
        for v in model.weights
    ])
    return model


def deep_relu(c=2.5, depth=4, width=8):
    """A plain relu MLP with kernels c times He's std: GQ above 100."""
    model = keras.Sequential(
        [keras.Input((8,))]
        + [keras.layers.Dense(width, activation="relu") for _ in range(depth)]
        + [keras.layers.Dense(3)]
    )
    rng = np.random.default_rng(1)
    model.set_weights([
        (rng.standard_normal(v.shape) * c * np.sqrt(2 / v.shape[0])).astype("float32")
        if len(v.shape) == 2 else np.zeros(v.shape, "float32")
        for v in model.weights
    ])
    return model


def weights(model, dtype=None):
    return [to_numpy(v).astype(dtype) if dtype else to_numpy(v).copy() for v in model.weights]


def assert_same(before, model):
    for a, v in zip(before, model.weights):
        np.testing.assert_array_equal(a, to_numpy(v), err_msg=v.path)


# ----------------------------------------------- the tiny model in numpy (float64)


def np_forward(w, x):
    h = np.tanh(x @ w[0] + w[1])
    return h, h @ w[2] + w[3]


def np_loss(w, x, y):
    return np.mean((np_forward(w, x)[1] - y) ** 2)


def np_grad(w, x, y):
    h, p = np_forward(w, x)
    dp = 2 * (p - y) / p.size
    dz = (dp @ w[2].T) * (1 - h**2)
    return [x.T @ dz, dz.sum(0), h.T @ dp, dp.sum(0)]


def f64(*arrays):
    return [a.astype("float64") for a in arrays]


def test_numpy_reference_gradient_is_right():
    """The reference itself: its gradient against central differences of its loss."""
    w = weights(tiny(), "float64")
    x, y = f64(X, Y)
    g = np_grad(w, x, y)
    for t in range(4):
        for idx in [(0,) * w[t].ndim, (-1,) * w[t].ndim]:
            up = [a.copy() for a in w]
            down = [a.copy() for a in w]
            up[t][idx] += 1e-6
            down[t][idx] -= 1e-6
            fd = (np_loss(up, x, y) - np_loss(down, x, y)) / 2e-6
            assert g[t][idx] == pytest.approx(fd, rel=1e-6, abs=1e-10)


# --------------------------------------------------------------------- MetaInit


@needs_double_backprop
def test_gq_matches_finite_difference_hvp():
    model = tiny()
    eps = 1e-5
    w = weights(model, "float64")
    x, y = f64(X, Y)
    g = np_grad(w, x, y)
    h = 1e-4
    plus = np_grad([a + h * gi for a, gi in zip(w, g)], x, y)
    minus = np_grad([a - h * gi for a, gi in zip(w, g)], x, y)
    hg = [(p - m) / (2 * h) for p, m in zip(plus, minus)]
    terms = [np.abs((gi - hi) / (gi + eps * np.where(gi >= 0, 1, -1)) - 1) for gi, hi in zip(g, hg)]
    expected = sum(t.sum() for t in terms) / sum(t.size for t in terms)
    assert min(np.abs(gi).min() for gi in g) > 1e-4  # no term dominated by float32 noise
    assert gradient_quotient(model, (X, Y), "mse", eps=eps) == pytest.approx(expected, rel=1e-4)


@needs_double_backprop
def test_metainit_lowers_gq_on_deep_relu_mlp():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((32, 8)).astype("float32")
    y = rng.integers(0, 3, 32)
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    model = deep_relu()
    w0 = weights(model)
    report = ki.metainit(model, (x, y), loss, steps=12, lr=0.05)
    gq0, gq1 = report.summary["gq"]
    assert gq0 > 100 and report.history["gq"][0] == pytest.approx(gq0, rel=1e-5)
    # Measured again, on the weights metainit assigned:
    assert gradient_quotient(model, (x, y), loss) == pytest.approx(gq1, rel=1e-3)
    assert gq1 < 0.75 * gq0
    assert len(report.history["gq"]) == 12
    # Only kernels are rescaled: each is its scale times the original, biases untouched.
    assert [r.layer for r in report.rows] == [v.path for v in model.weights if v.name == "kernel"]
    scales = iter(r.scale for r in report.rows)
    for a, v in zip(w0, model.weights):
        expected = a * next(scales) if v.name == "kernel" else a
        np.testing.assert_allclose(to_numpy(v), expected, rtol=1e-6, err_msg=v.path)


@needs_double_backprop
def test_metainit_scales_stay_above_min_scale():
    model = tiny(kernel_std=1.5)
    report = ki.metainit(model, (X, Y), "mse", steps=10, lr=0.5, momentum=0.5, min_scale=0.2)
    scales = [r.scale for r in report.rows]
    assert min(scales) == pytest.approx(0.2)  # the floor was reached ...
    assert all(s >= 0.2 * (1 - 1e-6) for s in scales)  # ... and held


# --------------------------------------------------------------------- GradInit


def one_step_objective(w, eta, optimizer="sgd"):
    """L(S~; w - eta A[g(S; w)]) / eta with S, S~ the two halves of the pool, in numpy."""
    (xa, ya), (xb, yb) = f64(X[:16], Y[:16]), f64(X[16:], Y[16:])
    g = np_grad(w, xa, ya)
    if optimizer == "sgd":
        norm = np.sqrt(sum((gi**2).sum() for gi in g))
        step = [gi / norm for gi in g]
    else:
        norm = sum(np.abs(gi).sum() for gi in g)
        step = [np.sign(gi) for gi in g]
    return np_loss([a - eta * s for a, s in zip(w, step)], xb, yb) / eta, norm


@needs_double_backprop
@pytest.mark.parametrize("optimizer, eta", [("sgd", 0.1), ("adam", 1e-3)])
def test_gradinit_lowers_the_one_step_objective(optimizer, eta):
    model = tiny()
    before, norm_before = one_step_objective(weights(model, "float64"), eta, optimizer)
    report = ki.gradinit(model, (X, Y), "mse", steps=25, lr=0.05, optimizer=optimizer, seed=0)
    after, norm_after = one_step_objective(weights(model, "float64"), eta, optimizer)
    assert after < 0.8 * before
    assert report.summary["one_step_loss"] == pytest.approx((before * eta, after * eta), rel=1e-4)
    assert report.summary["grad_norm"] == pytest.approx((norm_before, norm_after), rel=1e-4)
    assert len(report.history["objective"]) == 25


def np_hvp(w, v, x, y, h=1e-5):
    """H v of the numpy loss: a central difference of its gradient."""
    plus = np_grad([a + h * vi for a, vi in zip(w, v)], x, y)
    minus = np_grad([a - h * vi for a, vi in zip(w, v)], x, y)
    return [(p - m) / (2 * h) for p, m in zip(plus, minus)]


def replay_gradinit(w0, batches, steps, lr, eta, gamma, min_scale, floors_zero):
    """GradInit's loop (Algorithm 1 and the authors' RescaleAdam) on the numpy model."""
    alpha = np.ones(len(w0))
    floor = np.where(floors_zero, 0.0, min_scale)
    moments = {True: [np.zeros(len(w0)), np.zeros(len(w0)), 0], False: [np.zeros(len(w0)), np.zeros(len(w0)), 0]}
    kinds = []
    for step in range(steps):
        xb, yb = f64(*batches[step % len(batches)])
        (xa, ya), (xs, ys) = (xb[:4], yb[:4]), (xb[4:], yb[4:])
        w = [a * w for a, w in zip(alpha, w0)]
        g = np_grad(w, xa, ya)
        norm = np.sqrt(sum((gi**2).sum() for gi in g))
        constrained = norm > gamma
        if constrained:  # d||g||/d alpha_j = <(H g)_j, W0_j> / ||g||
            dw = [hg / norm for hg in np_hvp(w, g, xa, ya)]
        else:  # d/d alpha_j L(S~; alpha W0 - eta g/||g||) / eta, the step held constant
            dw = [gi / eta for gi in np_grad([a - eta * gi / norm for a, gi in zip(w, g)], xs, ys)]
        ds = np.clip([(d * a).sum() for d, a in zip(dw, w0)], -1, 1)
        m, v, t = moments[constrained]
        t += 1
        m, v = 0.9 * m + 0.1 * ds, 0.999 * v + 0.001 * ds**2
        moments[constrained] = [m, v, t]
        alpha = np.maximum(alpha - lr / (1 - 0.9**t) * m / (np.sqrt(v / (1 - 0.999**t)) + 1e-8), floor)
        kinds.append(constrained)
    return alpha, kinds


@needs_double_backprop
def test_gradinit_matches_a_numpy_replay_of_the_reference_algorithm():
    model = tiny()
    w0 = weights(model, "float64")
    batches = [(X[k:k + 8], Y[k:k + 8]) for k in range(0, 32, 8)]
    settings = dict(steps=12, lr=0.05, eta=0.1, gamma=1.5, min_scale=0.3)
    report = ki.gradinit(model, batches, "mse", **settings)
    alpha, kinds = replay_gradinit(w0, batches, floors_zero=[v.name == "bias" for v in model.weights], **settings)
    assert 0 < sum(kinds) < len(kinds)  # both kinds of step were taken
    assert [o is None for o in report.history["objective"]] == kinds
    np.testing.assert_allclose([r.scale for r in report.rows], alpha, rtol=2e-4)


@needs_double_backprop
def test_gradinit_min_scale_holds_for_weights_and_biases_may_go_below():
    # gamma tiny: every step is a gradient-norm step, which shrinks the scales.
    model = tiny(kernel_std=2.4)
    w0 = weights(model)
    report = ki.gradinit(model, (X, Y), "mse", steps=30, lr=0.2, gamma=1e-3, min_scale=0.5, seed=0)
    assert all(o is None for o in report.history["objective"])
    kernels = [r.scale for r in report.rows if r.layer.endswith("kernel")]
    biases = [r.scale for r in report.rows if r.layer.endswith("bias")]
    assert min(kernels) == pytest.approx(0.5) and all(s >= 0.5 * (1 - 1e-6) for s in kernels)
    assert min(biases) < 0.5 and all(s >= 0 for s in biases)  # the biases' floor is 0
    for row, a, v in zip(report.rows, w0, model.weights):
        np.testing.assert_allclose(to_numpy(v), a * row.scale, rtol=1e-6, atol=1e-7, err_msg=v.path)


# ------------------------------------------------------------------ safety


def _run(name, model, data=(X, Y), loss="mse", **kwargs):
    if name == "metainit":
        return ki.metainit(model, data, loss, **kwargs)
    return ki.gradinit(model, data, loss, **kwargs)


@needs_double_backprop
@pytest.mark.parametrize("name", ["metainit", "gradinit"])
def test_failure_after_weights_were_assigned_restores_every_weight(name, monkeypatch):
    model = tiny()
    before = weights(model)
    real_apply = mi._apply
    seen = {}

    def apply_then_fail(*args):
        real_apply(*args)
        seen["changed"] = [not np.array_equal(a, to_numpy(v)) for a, v in zip(before, model.weights)]
        raise RuntimeError("injected failure after the assignment")

    monkeypatch.setattr(mi, "_apply", apply_then_fail)
    with pytest.raises(RuntimeError, match="injected"):
        _run(name, model, steps=3, lr=0.5)
    assert sum(seen["changed"]) >= 2  # the scales had been written ...
    assert_same(before, model)  # ... and every weight is back, bitwise


@needs_double_backprop
@pytest.mark.parametrize("name", ["metainit", "gradinit"])
def test_loss_turning_nan_mid_run_names_the_step_and_changes_nothing(name):
    model = tiny()
    before = weights(model)
    poisoned = Y[:8].copy()
    poisoned[0, 0] = 1e3  # the loss below is NaN on this batch only

    def loss(y, pred):  # NaN, and NaN gradients, on the poisoned batch only
        nan_if_poisoned = keras.ops.where(keras.ops.max(y) > 100.0, float("nan"), 1.0)
        return keras.ops.mean((y - pred) ** 2) * nan_if_poisoned

    batches = [(X[:8], Y[:8]), (X[8:16], Y[8:16]), (X[16:24], poisoned)]
    with pytest.raises(ValueError, match="step 2"):
        _run(name, model, batches, loss, steps=5)
    assert_same(before, model)


# ------------------------------------------------------------------ arguments


BAD = [
    ("metainit", dict(steps=0), ValueError, "steps"),
    ("metainit", dict(steps=2.0), ValueError, "steps"),
    ("metainit", dict(steps=True), ValueError, "steps"),
    ("metainit", dict(lr=0.0), ValueError, "lr"),
    ("metainit", dict(lr="big"), TypeError, "lr"),
    ("metainit", dict(momentum=1.5), ValueError, "momentum"),
    ("metainit", dict(eps=-1e-5), ValueError, "eps"),
    ("metainit", dict(min_scale=0.0), ValueError, "min_scale"),
    ("metainit", dict(min_scale=1.5), ValueError, "min_scale"),
    ("metainit", dict(batch_size=0), ValueError, "batch_size"),
    ("metainit", dict(batch_size=33), ValueError, "batch_size"),
    ("metainit", dict(seed="0"), TypeError, "seed"),
    ("metainit", dict(loss="no_such_loss"), ValueError, "loss"),
    ("metainit", dict(loss=3), TypeError, "loss"),
    ("metainit", dict(data=X), TypeError, "data"),
    ("metainit", dict(data=[X, Y]), TypeError, "data"),
    ("metainit", dict(data=(X, Y[:5])), ValueError, "data"),
    ("metainit", dict(data=(np.where(np.arange(32)[:, None] == 3, np.nan, X), Y)), ValueError, "data"),
    ("metainit", dict(data=(X, np.where(np.arange(32)[:, None] == 3, np.inf, Y))), ValueError, "data"),
    ("metainit", dict(data=[]), ValueError, "data"),
    ("metainit", dict(data=[(X, Y)], batch_size=8), ValueError, "batch_size"),
    ("metainit", dict(model="model"), TypeError, "model"),
    ("gradinit", dict(steps=-1), ValueError, "steps"),
    ("gradinit", dict(optimizer="rmsprop"), ValueError, "optimizer"),
    ("gradinit", dict(eta=0.0), ValueError, "eta"),
    ("gradinit", dict(gamma=-1.0), ValueError, "gamma"),
    ("gradinit", dict(lr=-0.1), ValueError, "lr"),
    ("gradinit", dict(min_scale=0.0), ValueError, "min_scale"),
    ("gradinit", dict(batch_size=17), ValueError, "batch_size"),
    ("gradinit", dict(seed=1.5), TypeError, "seed"),
    ("gradinit", dict(data=[(X[:1], Y[:1])]), ValueError, "data"),
    ("gradinit", dict(data=(X, Y, None, None)), TypeError, "data"),
]


@needs_double_backprop
def test_bad_arguments_raise_naming_the_argument():
    model = tiny()
    before = weights(model)
    for name, kwargs, error, argument in BAD:
        kwargs = dict(kwargs)
        target = kwargs.pop("model", model)
        data, loss = kwargs.pop("data", (X, Y)), kwargs.pop("loss", "mse")
        with pytest.raises(error, match=f"`{argument}`"):
            _run(name, target, data, loss, **kwargs)
    assert_same(before, model)


# ------------------------------------------------------------ seeds and data


@needs_double_backprop
@pytest.mark.parametrize("name", ["metainit", "gradinit"])
def test_iterable_gives_the_next_batch_each_step_and_starts_over(name):
    b = [(X[k:k + 8], Y[k:k + 8]) for k in range(0, 32, 8)]

    def final(data):
        model = tiny()
        report = _run(name, model, data, steps=4, lr=0.05)
        key = "gq" if name == "metainit" else "objective"
        assert len(report.history[key]) == 4
        return weights(model)

    cycled = final([b[0], b[1]])  # a list: iterated again after 2 steps
    first_only = final([b[0]])
    assert any(not np.array_equal(a, f) for a, f in zip(cycled, first_only))  # later batches are used
    if name == "metainit":  # the stream is shared; gradinit only splits its batches
        one_shot = final(iter([b[0], b[1]]))  # a one-shot iterator cycles what it gave
        for a, c in zip(cycled, one_shot):
            np.testing.assert_array_equal(a, c)


@needs_double_backprop
@pytest.mark.parametrize("name, count, batch_size", [("metainit", 1, 4), ("gradinit", 2, 8)])
def test_xy_tuple_seeded_epochs_of_fresh_permutations(name, count, batch_size, monkeypatch):
    """Each epoch of 32 // (count * batch_size) steps sees every row exactly once,
    in an order drawn from `seed`; the same seed gives the same weights."""
    per_epoch = 32 // (count * batch_size)
    drawn = []
    real_draw = mi._Stream.draw

    def spy(self):
        batches = real_draw(self)
        drawn.append(np.concatenate([to_numpy(y)[:, 0] for _, y in batches]))
        return batches

    runs = []
    for spying in (True, False):
        model = tiny()
        with monkeypatch.context() as patch:
            if spying:
                patch.setattr(mi._Stream, "draw", spy)
            _run(name, model, steps=2 * per_epoch, lr=0.05, batch_size=batch_size, seed=7)
        runs.append(weights(model))
    for a, b in zip(*runs):
        np.testing.assert_array_equal(a, b)

    assert len(drawn) == 2 * per_epoch and all(d.size == count * batch_size for d in drawn)
    epochs = [np.concatenate(drawn[k * per_epoch:(k + 1) * per_epoch]) for k in (0, 1)]
    for rows in epochs:
        np.testing.assert_array_equal(np.sort(rows), np.sort(Y[:, 0]))  # each row once
    assert not np.array_equal(epochs[0], epochs[1])  # a new permutation each epoch

    def stream_rows(seed):  # the run drew what a stream seeded 7 draws, and 8 differs
        stream = mi._Stream((X, Y), batch_size=batch_size, count=count, seed=seed)
        return np.concatenate([to_numpy(y)[:, 0] for _ in range(2 * per_epoch) for _, y in stream.draw()])

    np.testing.assert_array_equal(np.concatenate(drawn), stream_rows(7))
    assert not np.array_equal(stream_rows(7), stream_rows(8))


@pytest.mark.tf_only
@pytest.mark.parametrize("name", ["metainit", "gradinit"])
def test_tf_data_dataset_equals_the_same_batches_as_a_list(name):
    import tensorflow as tf

    ds = tf.data.Dataset.from_tensor_slices((X, Y)).batch(8)
    as_list = [(X[k:k + 8], Y[k:k + 8]) for k in range(0, 32, 8)]
    results = []
    for data in (ds, as_list):
        model = tiny()
        _run(name, model, data, steps=6, lr=0.05)  # 6 steps: the dataset is iterated twice
        results.append(weights(model))
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


@pytest.mark.skipif(keras.backend.backend() in SUPPORTED_BACKENDS, reason="backend supported")
def test_unsupported_backend_raises_clearly():
    for fn in (ki.metainit, ki.gradinit):
        with pytest.raises(NotImplementedError, match=keras.backend.backend()):
            fn(tiny(), (X, Y), "mse")
