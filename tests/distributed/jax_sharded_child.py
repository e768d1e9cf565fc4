"""Child process: keras_inits under keras.distribution on 2 virtual JAX CPU devices.

XLA_FLAGS must be set before JAX starts, so this runs in its own interpreter.
Prints one JSON line of results.
"""

import json
import os

os.environ["KERAS_BACKEND"] = "jax"
os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=2"

import jax  # noqa: E402  (JAX-only by design: device meshes)
import keras  # noqa: E402
import numpy as np  # noqa: E402

import keras_inits as ki  # noqa: E402

results = {"devices": len(jax.devices())}
rng = np.random.default_rng(0)
x = rng.standard_normal((64, 16)).astype("float32")
y = rng.integers(0, 4, 64)


def mlp():
    return keras.Sequential(
        [
            keras.Input((16,)),
            keras.layers.Dense(32, activation="tanh", name="d1", kernel_initializer=ki.XavierNormal(seed=2)),
            keras.layers.Dense(32, activation="relu", name="d2", kernel_initializer="kaiming_normal"),
            keras.layers.Dense(4, activation="softmax", name="head", kernel_initializer="zer_o"),
        ]
    )


keras.distribution.set_distribution(keras.distribution.DataParallel(devices=jax.devices()))
m = mlp()
shards = [np.asarray(s.data) for s in m.get_layer("d1").kernel.value.addressable_shards]
results["data_parallel_replicated_identical"] = len(shards) == 2 and np.array_equal(shards[0], shards[1])
results["data_parallel_value_matches_unsharded_call"] = bool(
    np.allclose(np.asarray(m.get_layer("d1").kernel.value), np.asarray(ki.XavierNormal(seed=2)((16, 32))))
)
m.compile("adam", "sparse_categorical_crossentropy")
cb = ki.LSUVCallback(x[:32], verbose=0, seed=0)
m.fit(x, y, batch_size=16, epochs=1, verbose=0, callbacks=[cb])
results["data_parallel_lsuv_rows"] = len(cb.reports[0].rows)

mesh = keras.distribution.DeviceMesh((1, 2), ["batch", "model"], devices=jax.devices())
layout = keras.distribution.LayoutMap(mesh)
layout[".*d1.*kernel"] = (None, "model")
keras.distribution.set_distribution(keras.distribution.ModelParallel(layout_map=layout, batch_dim_name="batch"))
m = mlp()
k = m.get_layer("d1").kernel.value
results["model_parallel_sharded"] = [list(s.data.shape) for s in k.addressable_shards]
results["model_parallel_value_matches_unsharded_call"] = bool(
    np.allclose(np.asarray(k), np.asarray(ki.XavierNormal(seed=2)((16, 32))))
)
m.compile("adam", "sparse_categorical_crossentropy")
cb = ki.InitCallback(lambda model: ki.reinitialize(model, seed=5), verbose=0)
m.fit(x, y, batch_size=16, epochs=1, verbose=0, callbacks=[cb])
results["model_parallel_reinit_still_sharded"] = [
    list(s.data.shape) for s in m.get_layer("d1").kernel.value.addressable_shards
]
print(json.dumps(results))
