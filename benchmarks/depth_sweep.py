"""The deepest plain ReLU MLP each initialization trains on digits.

For each scheme and depth (width 64, no normalization, Adam 1e-3, a fixed
budget of epochs), train and record the test accuracy; a depth counts as
trained at >= 0.8 accuracy (chance is 0.1). Prints the table and, per scheme,
the deepest depth trained, against Keras' default glorot_uniform measured in
the same run.

    python benchmarks/depth_sweep.py            # depths 10, 30, 50, 100, 200
    python benchmarks/depth_sweep.py --quick    # depths 10, 30, 50
"""

import argparse

import keras

import keras_inits as ki
from keras_inits.demo import TRAINED_ACCURACY, load_digits_split, plain_mlp
from keras_inits.metainit import SUPPORTED_BACKENDS

SCHEMES = {
    "glorot_uniform (keras default)": ("glorot_uniform", None),
    "he_normal (keras)": ("he_normal", None),
    "kaiming_normal": ("kaiming_normal", None),
    "zer_o": ("zer_o", None),
    "orthogonal + lsuv": ("orthogonal", lambda m, x: ki.lsuv(m, x, seed=0, verbose=0)),
}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--epochs", type=int, default=10)
    args = parser.parse_args(argv)
    depths = (10, 30, 50) if args.quick else (10, 30, 50, 100, 200)
    x_tr, y_tr, x_te, y_te = load_digits_split(0)
    schemes = dict(SCHEMES)
    if keras.backend.backend() in SUPPORTED_BACKENDS:
        schemes["glorot + metainit"] = (
            "glorot_uniform",
            lambda m, x: ki.metainit(m, (x, y_tr[:256]), "sparse_categorical_crossentropy", steps=50),
        )
    deepest = {}
    print(f"{'scheme':32s} " + " ".join(f"{d:>6d}" for d in depths))
    for name, (init, step) in schemes.items():
        accs = []
        for depth in depths:
            keras.utils.set_random_seed(0)
            model = plain_mlp(depth, kernel_initializer=init)
            if step:
                step(model, x_tr[:256])
            model.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy", metrics=["accuracy"])
            model.fit(x_tr, y_tr, batch_size=64, epochs=args.epochs, verbose=0)
            accs.append(model.evaluate(x_te, y_te, verbose=0)[1])
        trained = [d for d, a in zip(depths, accs) if a >= TRAINED_ACCURACY]
        deepest[name] = max(trained) if trained else 0
        print(f"{name:32s} " + " ".join(f"{a:6.3f}" for a in accs), flush=True)
    base = deepest["glorot_uniform (keras default)"]
    print("\ndeepest depth trained (acc >= 0.8), vs Keras default:")
    for name, d in deepest.items():
        print(f"  {name:32s} {d:4d}  ({'+' if d > base else ''}{d - base} layers)")


if __name__ == "__main__":
    main()
