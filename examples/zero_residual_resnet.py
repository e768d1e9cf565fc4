"""Zero-residual initialization of a deep residual MLP without normalization.

64 blocks x + Dense(relu(Dense(x))) on scikit-learn's digits: with Keras'
defaults each block adds its own variance, the signal grows block after
block and training blows up or stalls. Starting every branch at zero
(zero_last, Fixup) or gating it with a ResidualScale(0) makes the network
start as the identity.

    python examples/zero_residual_resnet.py [--smoke]
"""

import argparse
import math

import keras
import numpy as np

import keras_inits as ki
from keras_inits.demo import load_digits_split, residual_mlp


def run(name, build, step, data, epochs):
    x_tr, y_tr, x_te, y_te = data
    keras.utils.set_random_seed(0)
    model = build()
    if step is not None:
        step(model)  # e.g. ki.zero_residual(model, mode="fixup")
    model.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy", metrics=["accuracy"])
    loss0 = model.evaluate(x_tr, y_tr, verbose=0)[0]
    history = model.fit(x_tr, y_tr, batch_size=64, epochs=epochs, verbose=0)
    acc = model.evaluate(x_te, y_te, verbose=0)[1]
    loss = history.history["loss"][-1]
    if not math.isfinite(loss):
        acc = float("nan")
    print(f"{name:28s} initial loss {loss0:10.3g}   final loss {loss:8.3g}   test accuracy {acc:.3f}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--smoke", action="store_true", help="tiny, fast settings")
    args = parser.parse_args()
    blocks, epochs = (8, 1) if args.smoke else (64, 10)
    data = load_digits_split(seed=0)
    print(f"residual MLP, {blocks} blocks, width 64, no normalization, Adam 1e-3, {epochs} epochs")
    run("keras defaults", lambda: residual_mlp(blocks), None, data, epochs)
    run("zero_residual(zero_last)", lambda: residual_mlp(blocks),
        lambda m: ki.zero_residual(m, mode="zero_last"), data, epochs)
    run("zero_residual(fixup)", lambda: residual_mlp(blocks),
        lambda m: ki.zero_residual(m, mode="fixup", seed=0), data, epochs)
    run("ResidualScale(0) gates", lambda: residual_mlp(blocks, gate=True), None, data, epochs)
    np.set_printoptions(precision=3)


if __name__ == "__main__":
    main()
