"""Child process: keras_inits under tf.distribute.MirroredStrategy on 2 logical CPUs.

Logical devices must be configured before any TensorFlow op, so this runs in
its own interpreter (tests/test_distribution.py starts it). Prints one JSON
line of results.
"""

import json
import os

os.environ["KERAS_BACKEND"] = "tensorflow"

import tensorflow as tf  # noqa: E402  (TF-only by design: tf.distribute)

cpus = tf.config.list_physical_devices("CPU")
tf.config.set_logical_device_configuration(cpus[0], [tf.config.LogicalDeviceConfiguration()] * 2)

import keras  # noqa: E402
import numpy as np  # noqa: E402

import keras_inits as ki  # noqa: E402

strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
rng = np.random.default_rng(0)
x = rng.standard_normal((64, 16)).astype("float32")
y = rng.integers(0, 4, 64)
results = {"replicas": strategy.num_replicas_in_sync}


def replicas_identical(model):
    for v in model.weights:
        values = [r.numpy() for r in v.value.values]
        if len(values) != 2 or not all(np.array_equal(values[0], r) for r in values[1:]):
            return False
    return True


def first_batch_kernels(model):
    """What training sees at its first batch, on every replica."""
    seen = {}

    class Probe(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            if batch == 0 and not seen:
                seen["w"] = [v.numpy().copy() for v in model.weights]

    return seen, Probe()


def mlp():
    return keras.Sequential(
        [
            keras.Input((16,)),
            keras.layers.Dense(32, activation="tanh", kernel_initializer="xavier_normal"),
            keras.layers.Dense(32, activation="relu", kernel_initializer=ki.KaimingUniform(seed=1)),
            keras.layers.Dense(4, activation="softmax", kernel_initializer="zer_o"),
        ]
    )


def resnet():
    inp = keras.Input((16,))
    h = keras.layers.Dense(16)(inp)
    for _ in range(3):
        b = keras.layers.Dense(16, activation="relu")(h)
        b = keras.layers.Dense(16)(b)
        h = keras.layers.Add()([h, b])
    return keras.Model(inp, keras.layers.Dense(4, activation="softmax")(h))


def fit(model, callback):
    with strategy.scope():  # optimizer variables must be created in the scope
        model.compile("adam", "sparse_categorical_crossentropy")
    seen, probe = first_batch_kernels(model)
    model.fit(x, y, batch_size=16, epochs=1, verbose=0, callbacks=[callback, probe])
    return seen


with strategy.scope():
    m = mlp()
results["initializers_identical_replicas"] = replicas_identical(m)

with strategy.scope():
    m = mlp()
cb = ki.LSUVCallback(x[:32], verbose=0, seed=0)
seen = fit(m, cb)
report = cb.reports[0]
results["lsuv_rows"] = len(report.rows)
results["lsuv_converged"] = not report.not_converged
results["lsuv_replicas_identical"] = replicas_identical(m)
# The callback's weights reached training: var of the first layer's output is ~1.
h = np.tanh(x[:32] @ seen["w"][0] + seen["w"][1])
results["lsuv_first_layer_var_at_first_batch"] = float(np.var(x[:32] @ seen["w"][0] + seen["w"][1]))
del h

with strategy.scope():
    m = resnet()
seen = fit(m, ki.ZeroResidualCallback("zero_last", verbose=0))
last_kernels = [w for w, v in zip(seen["w"], m.weights) if v.path.endswith("kernel")][2:7:2]
results["zero_last_zero_at_first_batch"] = all(float(np.abs(k).max()) == 0.0 for k in last_kernels)

with strategy.scope():
    m = mlp()
initial = [v.numpy().copy() for v in m.weights]
seen = fit(m, ki.InitCallback(lambda model: ki.reinitialize(model, seed=3), verbose=0))
# The same step on an identically built model outside the strategy: per-variable
# seeds depend on the variable's position and name only, so the values must match.
direct = mlp()
ki.reinitialize(direct, seed=3)
results["reinit_matches_direct_call"] = all(
    np.array_equal(a, b.numpy()) for a, b in zip(seen["w"], direct.weights)
)
results["reinit_changed_kernels"] = all(
    not np.array_equal(a, b) for a, b, v in zip(seen["w"], initial, m.weights)
    if v.path.endswith("kernel")
)
results["reinit_replicas_identical"] = replicas_identical(m)

print(json.dumps(results))
