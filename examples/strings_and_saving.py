"""keras_inits initializers by string in ordinary layers, saved and reloaded.

Builds a small CNN + MLP for scikit-learn's digits with keras_inits aliases,
trains it briefly, saves it to a .keras file, reloads it (after `import
keras_inits`, which registers the classes) and checks the reloaded model
predicts exactly the same.

    python examples/strings_and_saving.py [--smoke]
"""

import argparse
import pathlib
import tempfile

import keras
import numpy as np
from sklearn.datasets import load_digits

import keras_inits  # noqa: F401  (importing registers "kaiming_normal", "zer_o", ...)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--smoke", action="store_true", help="tiny, fast settings")
    args = parser.parse_args()
    keras.utils.set_random_seed(0)

    x, y = load_digits(return_X_y=True)
    x = (x / 16.0).reshape(-1, 8, 8, 1).astype("float32")
    if args.smoke:
        x, y = x[:256], y[:256]

    model = keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            # Orthogonal centre tap, zeros elsewhere: the conv starts as an isometry.
            keras.layers.Conv2D(16, 3, padding="same", activation="relu",
                                kernel_initializer="delta_orthogonal"),
            keras.layers.Conv2D(16, 3, padding="same", activation="relu",
                                kernel_initializer="dirac"),  # identity conv
            keras.layers.Flatten(),
            keras.layers.Dense(64, activation="relu", kernel_initializer="kaiming_normal"),
            # Softmax head starting at the class prior (uniform here: log(1/10)).
            keras.layers.Dense(10, activation="softmax", kernel_initializer="zeros",
                               bias_initializer=keras_inits.PriorBias([0.1] * 10)),
        ]
    )
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=1 if args.smoke else 5, batch_size=64, verbose=0)

    path = pathlib.Path(tempfile.mkdtemp()) / "digits_cnn.keras"
    model.save(path)
    reloaded = keras.models.load_model(path)  # safe_mode stays on
    same = np.array_equal(model.predict(x[:32], verbose=0), reloaded.predict(x[:32], verbose=0))
    print("initializers after reload:",
          [type(layer.kernel_initializer).__name__ for layer in reloaded.layers if hasattr(layer, "kernel_initializer")])
    print(f"train accuracy {model.evaluate(x, y, verbose=0)[1]:.3f}; reloaded predictions identical: {same}")
    if not same:
        raise SystemExit("reloaded model differs")


if __name__ == "__main__":
    main()
