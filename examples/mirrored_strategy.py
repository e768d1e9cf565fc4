"""keras_inits under tf.distribute.MirroredStrategy (TensorFlow backend only).

Splits the CPU into 2 logical devices (this must happen before any TF op),
builds a model with keras_inits initializers inside the strategy scope, and
trains it with LSUVCallback: the callback's rescaled weights reach every
replica before the first batch.

    python examples/mirrored_strategy.py [--smoke]
"""

import argparse
import os

os.environ["KERAS_BACKEND"] = "tensorflow"

import tensorflow as tf  # noqa: E402  (TF-only by design: tf.distribute)

cpus = tf.config.list_physical_devices("CPU")
tf.config.set_logical_device_configuration(cpus[0], [tf.config.LogicalDeviceConfiguration()] * 2)

import keras  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402

import keras_inits as ki  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--smoke", action="store_true", help="tiny, fast settings")
    args = parser.parse_args()
    keras.utils.set_random_seed(0)
    x, y = load_digits(return_X_y=True)
    x = ((x - x.mean(0)) / (x.std(0) + 1e-6)).astype("float32")

    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    print("replicas:", strategy.num_replicas_in_sync)
    depth = 4 if args.smoke else 20
    with strategy.scope():
        model = keras.Sequential(
            [keras.Input((64,))]
            + [keras.layers.Dense(64, activation="tanh", kernel_initializer="xavier_normal") for _ in range(depth)]
            + [keras.layers.Dense(10, activation="softmax")]
        )
        model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    lsuv = ki.LSUVCallback(x[:256], seed=0, verbose=0)
    model.fit(x, y, batch_size=64, epochs=1 if args.smoke else 5, verbose=0, callbacks=[lsuv])
    print(lsuv.reports[0])
    kernel = model.layers[0].kernel.value
    replicas = [v.numpy() for v in kernel.values]
    print("replicas identical after fit:", all(np.array_equal(replicas[0], r) for r in replicas))
    print(f"train accuracy {model.evaluate(x, y, verbose=0)[1]:.3f}")


if __name__ == "__main__":
    main()
