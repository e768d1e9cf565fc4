"""Zero-residual initialization of a deep residual MLP without normalization.

64 blocks x + Dense(relu(Dense(x))), width 64, on scikit-learn's digits
(standardized, stratified 80/20 split). With Keras' defaults every block
adds its branch's variance to the trunk, so the signal grows block after
block and the loss starts huge. Starting every branch at zero makes the
network start as its stem and head only, whatever its depth:

- ``ki.zero_residual(model, mode="zero_last")``: last kernel of each branch = 0;
- ``ki.zero_residual(model, mode="fixup")``: Fixup (Zhang et al. 2019),
  here through ``ki.ZeroResidualCallback`` at the start of ``fit``;
- ``ki.layers.ResidualScale()`` after each branch: a learnable gate at 0
  (SkipInit / ReZero).

    python examples/zero_residual_resnet.py [--sgd] [--smoke]
"""

import argparse
import math

import keras

import keras_inits as ki
from keras_inits.demo import load_digits_split, residual_mlp


class LossAtStart(keras.callbacks.Callback):
    """The training loss once every earlier callback has run, before step 1."""

    def __init__(self, x, y):
        super().__init__()
        self.x, self.y, self.loss = x, y, None

    def on_train_begin(self, logs=None):
        probs = self.model(self.x)
        self.loss = float(keras.ops.mean(keras.losses.sparse_categorical_crossentropy(self.y, probs)))


def run(name, data, blocks, epochs, optimizer, gate=False, step=None, callbacks=()):
    x_tr, y_tr, x_te, y_te = data
    keras.utils.set_random_seed(0)  # same initial weights for every variant
    model = residual_mlp(blocks, gate=gate)
    if step is not None:
        step(model)  # a model-level step: changes the weights in place
    model.compile(optimizer(), "sparse_categorical_crossentropy", metrics=["accuracy"])
    start = LossAtStart(x_tr, y_tr)
    history = model.fit(x_tr, y_tr, batch_size=64, epochs=epochs, verbose=0,
                        callbacks=[*callbacks, start])
    loss = history.history["loss"][-1]
    acc = model.evaluate(x_te, y_te, verbose=0)[1] if math.isfinite(loss) else float("nan")
    print(f"{name:26s} initial loss {start.loss:10.4g}   final loss {loss:8.4g}   test accuracy {acc:.3f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sgd", action="store_true", help="SGD(0.01, momentum 0.9) instead of Adam(1e-3)")
    parser.add_argument("--smoke", action="store_true", help="tiny, fast settings")
    args = parser.parse_args()
    blocks, epochs = (4, 1) if args.smoke else (64, 10)
    if args.sgd:
        optimizer, opt_name = (lambda: keras.optimizers.SGD(0.01, momentum=0.9)), "SGD(0.01, m 0.9)"
    else:
        optimizer, opt_name = (lambda: keras.optimizers.Adam(1e-3)), "Adam(1e-3)"
    data = load_digits_split(seed=0)
    if args.smoke:  # a few batches: checks the script runs, not its numbers
        data = tuple(part[:256] for part in data)
    print(f"residual MLP, {blocks} blocks, width 64, no normalization, {opt_name}, {epochs} epochs")
    run("keras defaults", data, blocks, epochs, optimizer)
    run("zero_residual(zero_last)", data, blocks, epochs, optimizer,
        step=lambda m: ki.zero_residual(m, mode="zero_last"))
    # The same step as a callback: it runs once, when training begins.
    run("zero_residual(fixup)", data, blocks, epochs, optimizer,
        callbacks=[ki.ZeroResidualCallback("fixup", seed=0, verbose=0)])
    run("ResidualScale(0) gates", data, blocks, epochs, optimizer, gate=True)


if __name__ == "__main__":
    main()
