"""MetaInit and GradInit on a deep plain MLP that Keras' default trains badly.

A deep plain relu MLP (width 32) on digits: default glorot_uniform vs
glorot + metainit vs glorot + gradinit. Prints GQ / one-step loss before and
after, test accuracy after a fixed budget, and the cost of each step in
seconds against one training epoch measured in the same run.

    python benchmarks/metainit_gradinit.py [--quick]
"""

import argparse
import time

import keras

import keras_inits as ki
from keras_inits.demo import load_digits_split, plain_mlp


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    depth, steps, epochs = (20, 30, 5) if args.quick else (40, 100, 10)
    x_tr, y_tr, x_te, y_te = load_digits_split(0)
    batch = (x_tr[:128], y_tr[:128])
    loss = "sparse_categorical_crossentropy"
    print(f"backend {keras.backend.backend()}, {depth}-layer relu MLP width 32, {epochs} epochs")
    for name, step in [
        ("keras default", None),
        (f"metainit ({steps} steps)", lambda m: ki.metainit(m, batch, loss, steps=steps, seed=0)),
        (f"gradinit ({steps} steps)", lambda m: ki.gradinit(m, batch, loss, steps=steps, seed=0)),
    ]:
        keras.utils.set_random_seed(0)
        model = plain_mlp(depth, width=32)
        start = time.perf_counter()
        note = step(model).notes[0] if step else ""
        cost = time.perf_counter() - start
        model.compile(keras.optimizers.Adam(1e-3), loss, metrics=["accuracy"])
        model.fit(x_tr, y_tr, batch_size=64, epochs=1, verbose=0)  # warm-up epoch (compiles)
        t0 = time.perf_counter()
        model.fit(x_tr, y_tr, batch_size=64, epochs=1, verbose=0)
        epoch = time.perf_counter() - t0
        model.fit(x_tr, y_tr, batch_size=64, epochs=epochs - 2, verbose=0)
        acc = model.evaluate(x_te, y_te, verbose=0)[1]
        print(f"{name:22s} test acc {acc:.3f}   init cost {cost:6.2f}s = {cost / epoch:6.1f} epochs   {note}",
              flush=True)


if __name__ == "__main__":
    main()
