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


MIRRORED_CHILD = r'''
import json, os
os.environ["KERAS_BACKEND"] = "tensorflow"
import tensorflow as tf
cpus = tf.config.list_physical_devices("CPU")  # before any TF op
tf.config.set_logical_device_configuration(cpus[0], [tf.config.LogicalDeviceConfiguration()] * 2)
import keras
import numpy as np
import keras_inits as ki

strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
rng = np.random.default_rng(0)
x = rng.standard_normal((64, 8)).astype("float32")
y = rng.integers(0, 3, 64)
out = {"replicas": strategy.num_replicas_in_sync}


class Probe(keras.callbacks.Callback):
    """Every replica's first kernel, as the first batch of each fit sees it."""

    def __init__(self):
        super().__init__()
        self.seen = []

    def on_train_batch_begin(self, batch, logs=None):
        if batch == 0:
            self.seen.append([r.numpy().tolist() for r in self.model.layers[0].kernel.value.values])


calls = []


def halves(model):
    calls.append(1)
    model.layers[0].kernel.assign(np.full((8, 16), 0.5, "float32"))
    return ki.InitReport("halves")


# jit_compile=True is not tried: TF's XLA cannot run MirroredStrategy over
# logical CPU devices ("Trying to access resource ... located in device CPU:1
# from device CPU:0", tf.function-level, with or without a callback).
for jit in (False,):
    with strategy.scope():
        m = keras.Sequential([keras.Input((8,)), keras.layers.Dense(16, activation="tanh"), keras.layers.Dense(3)])
        m.compile("sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True), jit_compile=jit)
    probe, cb = Probe(), ki.InitCallback(halves, verbose=0)
    del calls[:]
    m.fit(x, y, batch_size=16, epochs=1, verbose=0, callbacks=[cb, probe])
    m.fit(x, y, batch_size=16, epochs=1, verbose=0, callbacks=[cb, probe])
    out[f"jit{jit}_calls"] = len(calls)
    out[f"jit{jit}_first_batch"] = probe.seen[0]
    out[f"jit{jit}_second_fit_trained"] = probe.seen[1][0] != probe.seen[0][0]

    with strategy.scope():
        m = keras.Sequential([keras.Input((8,)), keras.layers.Dense(16, activation="tanh"), keras.layers.Dense(3)])
        m.compile("sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True), jit_compile=jit)
    probe, cb = Probe(), ki.LSUVCallback(x[:32], seed=0, verbose=0)
    m.fit(x, y, batch_size=16, epochs=1, verbose=0, callbacks=[cb, probe])
    out[f"jit{jit}_lsuv_var"] = [float(np.var(x[:32] @ np.array(k) + m.layers[0].bias.numpy() * 0)) for k in probe.seen[0]]
    out[f"jit{jit}_lsuv_rows"] = len(cb.reports[0].rows)
print(json.dumps(out))
'''


@pytest.mark.slow
@pytest.mark.tf_only
def test_mirrored_strategy_two_logical_cpus(tmp_path):
    if keras.backend.backend() != "tensorflow":
        pytest.skip("tf.distribute needs the TensorFlow backend")
    import json
    import os
    import subprocess
    import sys

    script = tmp_path / "mirrored_child.py"
    script.write_text(MIRRORED_CHILD)
    env = {k: v for k, v in os.environ.items() if k not in ("KERAS_BACKEND", "XLA_FLAGS")}
    env["PYTHONPATH"] = os.pathsep.join([os.getcwd(), env.get("PYTHONPATH", "")])
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=600, env=env)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    r = json.loads(result.stdout.strip().splitlines()[-1])
    assert r["replicas"] == 2
    for jit in (False,):
        assert r[f"jit{jit}_calls"] == 1, jit  # once per model across two fits
        replicas = np.array(r[f"jit{jit}_first_batch"])
        assert replicas.shape == (2, 8, 16)
        np.testing.assert_array_equal(replicas, 0.5)  # the step's assign, on every replica
        assert r[f"jit{jit}_second_fit_trained"]  # the second fit did not reset it
        assert r[f"jit{jit}_lsuv_rows"] == 2
        for var in r[f"jit{jit}_lsuv_var"]:
            assert abs(var - 1.0) <= 0.1, (jit, r[f"jit{jit}_lsuv_var"])
