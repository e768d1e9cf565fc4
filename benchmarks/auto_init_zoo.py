"""ki.auto_init against Keras' defaults on a zoo of deliberately mixed models.

    python benchmarks/auto_init_zoo.py            # 10 epochs per run
    python benchmarks/auto_init_zoo.py --quick    # 3 epochs
    python benchmarks/auto_init_zoo.py --only lstm

Every model is built twice from the same seed and trained on scikit-learn's
digits (offline; standardized, stratified 80/20 split; images as 8x8x1 for
the CNN, rows as 8 steps / tokens of 8 features for the LSTM and the
transformer) with Adam 1e-3, batch 64: once as Keras initializes it, once
after ``ki.auto_init(model, (x[:256], y[:256]), seed)``. Per run: final test
accuracy, output variance at init of the first and last point of the trunk
(hidden weighted layers; residual adds for residual nets; on the same 256
samples), and training steps until the epoch's running loss
first falls below --loss (default 0.5; "-" if never).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import keras  # noqa: E402

import keras_inits as ki  # noqa: E402
from keras_inits.demo import layer_variances, load_digits_split  # noqa: E402
from keras_inits.report import format_table  # noqa: E402

DEPTH, WIDTH = 30, 64


def mlp(activation, depth=DEPTH):
    x = keras.Input((64,))
    h = x
    for i in range(depth):
        h = keras.layers.Dense(WIDTH, activation=activation, name=f"d{i}")(h)
    return keras.Model(x, keras.layers.Dense(10, activation="softmax", name="head")(h),
                       name=f"{activation}_mlp{depth}")


def cnn(depth=6):
    x = keras.Input((64,))
    h = keras.layers.Reshape((8, 8, 1))(x)
    for i in range(depth):
        h = keras.layers.Conv2D(16, 3, padding="same", name=f"c{i}")(h)
        h = keras.layers.LeakyReLU(0.1, name=f"lrelu{i}")(h)
    h = keras.layers.Flatten()(h)
    return keras.Model(x, keras.layers.Dense(10, activation="softmax", name="head")(h),
                       name=f"leaky_cnn{depth}")


def lstm():
    x = keras.Input((64,))
    h = keras.layers.Reshape((8, 8))(x)
    h = keras.layers.LSTM(32, name="lstm")(h)
    return keras.Model(x, keras.layers.Dense(10, activation="softmax", name="head")(h),
                       name="lstm")


def residual(blocks=64):
    x = keras.Input((64,))
    h = keras.layers.Dense(WIDTH, name="stem")(x)
    for b in range(blocks):
        branch = keras.layers.Dense(WIDTH, activation="relu", name=f"b{b}_in")(h)
        h = keras.layers.Add()([h, keras.layers.Dense(WIDTH, name=f"b{b}_out")(branch)])
    return keras.Model(x, keras.layers.Dense(10, activation="softmax", name="head")(h),
                       name=f"resmlp{blocks}")


def transformer(blocks=4, d=32):
    x = keras.Input((64,))
    h = keras.layers.Dense(d, name="embed")(keras.layers.Reshape((8, 8))(x))
    for b in range(blocks):
        a = keras.layers.LayerNormalization(name=f"ln{b}a")(h)
        h = keras.layers.Add()([h, keras.layers.MultiHeadAttention(4, d // 4, name=f"mha{b}")(a, a)])
        f = keras.layers.LayerNormalization(name=f"ln{b}f")(h)
        f = keras.layers.Dense(2 * d, activation="gelu", name=f"up{b}")(f)
        h = keras.layers.Add()([h, keras.layers.Dense(d, name=f"down{b}")(f)])
    h = keras.layers.GlobalAveragePooling1D()(keras.layers.LayerNormalization(name="ln_out")(h))
    return keras.Model(x, keras.layers.Dense(10, activation="softmax", name="head")(h),
                       name=f"transformer{blocks}")


ZOO = {
    f"relu MLP, {DEPTH} layers": lambda: mlp("relu"),
    f"tanh MLP, {DEPTH} layers": lambda: mlp("tanh"),
    f"selu MLP, {DEPTH} layers": lambda: mlp("selu"),
    f"gelu MLP, {DEPTH} layers": lambda: mlp("gelu"),
    "CNN, 6 conv + LeakyReLU(0.1)": cnn,
    "LSTM(32) classifier": lstm,
    "residual MLP, 64 blocks, no norm": residual,
    "pre-LN transformer, 4 blocks": transformer,
}


def hidden_variances(model, x):
    """Output variance at init of the first and last point along the trunk:
    the residual adds for residual nets, else the hidden weighted layers
    (``keras_inits.demo.layer_variances``, as ``compare`` reports it)."""
    v = layer_variances(model, x)
    return v[0], v[-1]


class FirstBelow(keras.callbacks.Callback):
    """Training steps until the epoch's running loss first falls below `limit`."""

    def __init__(self, limit):
        super().__init__()
        self.limit, self.steps, self.step = limit, None, 0

    def on_train_batch_end(self, batch, logs=None):
        self.step += 1
        loss = (logs or {}).get("loss")
        if self.steps is None and loss is not None and float(loss) < self.limit:
            self.steps = self.step


def run(name, build, init, data, epochs, seed, limit):
    x_tr, y_tr, x_te, y_te = data
    keras.utils.set_random_seed(seed)
    model = build()
    start = time.perf_counter()
    if init == "auto_init":
        ki.auto_init(model, (x_tr[:256], y_tr[:256]), seed=seed)
    first, last = hidden_variances(model, x_tr[:256])
    model.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    below = FirstBelow(limit)
    history = model.fit(x_tr, y_tr, batch_size=64, epochs=epochs, verbose=0, callbacks=[below])
    loss = float(history.history["loss"][-1])
    acc = float(model.evaluate(x_te, y_te, verbose=0)[1]) if math.isfinite(loss) else 0.0
    return (name, init, loss, acc, f"{first:.3g} / {last:.3g}",
            "-" if below.steps is None else below.steps, round(time.perf_counter() - start, 1))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 epochs instead of 10")
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--loss", type=float, default=0.5, help="the fixed loss for 'steps to'")
    parser.add_argument("--only", default=None, help="keep models whose name contains this")
    args = parser.parse_args(argv)
    epochs = args.epochs or (3 if args.quick else 10)
    data = load_digits_split(args.seed)
    rows = []
    for name, build in ZOO.items():
        if args.only and args.only.lower() not in name.lower():
            continue
        for init in ("keras default", "auto_init"):
            rows.append(run(name, build, init, data, epochs, args.seed, args.loss))
            print(" | ".join(str(c) for c in rows[-1]), flush=True)
    print()
    print(f"digits, Adam 1e-3, batch 64, {epochs} epochs, seed {args.seed}")
    print(format_table(("model", "init", "final loss", "test acc", "var@init first / last",
                        f"steps to loss < {args.loss:g}", "seconds"), rows))


if __name__ == "__main__":
    main()
