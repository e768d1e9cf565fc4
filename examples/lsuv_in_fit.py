"""LSUVCallback in model.fit: a deep plain ReLU MLP on scikit-learn's digits.

A 50-layer MLP without normalization starts with its signal shrinking layer
after layer under Keras' default glorot_uniform. `ki.LSUVCallback` rescales
every layer on one batch, at `on_train_begin`, to unit output variance.

    python examples/lsuv_in_fit.py [--smoke]
"""

import argparse

import keras

import keras_inits as ki
from keras_inits.demo import load_digits_split, plain_mlp


def train(model, data, epochs, callbacks=()):
    x_tr, y_tr, x_te, y_te = data
    model.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_tr, y_tr, batch_size=64, epochs=epochs, verbose=0, callbacks=list(callbacks))
    return model.evaluate(x_te, y_te, verbose=0)[1]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--smoke", action="store_true", help="tiny, fast settings")
    args = parser.parse_args()
    depth, epochs = (8, 1) if args.smoke else (50, 10)
    data = load_digits_split(seed=0)

    keras.utils.set_random_seed(0)
    baseline = train(plain_mlp(depth), data, epochs)

    keras.utils.set_random_seed(0)
    lsuv = ki.LSUVCallback(data[0][:512], seed=0, verbose=0)  # one batch of inputs
    calibrated = train(plain_mlp(depth), data, epochs, callbacks=[lsuv])
    report = lsuv.reports[0]
    print(f"LSUV touched {len(report.rows)} layers; output variance of the last hidden "
          f"layer {report.rows[-2].before:.3g} -> {report.rows[-2].after:.3g}")
    print(f"{depth}-layer relu MLP, {epochs} epochs: test accuracy glorot_uniform "
          f"{baseline:.3f}, glorot_uniform + LSUVCallback {calibrated:.3f}")


if __name__ == "__main__":
    main()
