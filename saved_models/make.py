"""Write the .keras files of this release into saved_models/v<version>/.

Every keras_inits initializer and layer appears in at least one model. Each
model is saved with the input batch and the output it gave, so later
releases prove they still load this release's files and compute the same
thing (tests/test_saved_models.py). Never overwrite an existing version
folder: a new release adds its own.

    python saved_models/make.py            # writes saved_models/v<version>/
"""

from __future__ import annotations

import argparse
import pathlib
import sys

import keras
import numpy as np

import keras_inits as ki

HERE = pathlib.Path(__file__).resolve().parent


def build_models() -> dict[str, keras.Model]:
    """Small models, one per initializer family, each built and seeded."""
    keras.utils.set_random_seed(1234)
    models = {}
    models["variance"] = keras.Sequential(
        [
            keras.Input((12,)),
            keras.layers.Dense(16, activation="relu", kernel_initializer="kaiming_normal"),
            keras.layers.Dense(
                16,
                activation="leaky_relu",
                kernel_initializer=ki.KaimingUniform(negative_slope=0.2, mode="fan_out", seed=3),
            ),
            keras.layers.Dense(8, activation="tanh", kernel_initializer=ki.XavierNormal(gain=5 / 3, seed=4)),
            keras.layers.Dense(4, kernel_initializer="xavier_uniform"),
        ],
        name="variance",
    )
    models["structured_conv"] = keras.Sequential(
        [
            keras.Input((8, 8, 3)),
            keras.layers.Conv2D(8, 3, padding="same", kernel_initializer=ki.DeltaOrthogonal(seed=5)),
            keras.layers.Conv2D(8, 3, padding="same", kernel_initializer="dirac"),
            keras.layers.Conv2D(12, 3, padding="same", kernel_initializer="zer_o"),
            keras.layers.Conv2D(3 * 4, 3, padding="same", kernel_initializer=ki.ICNR(scale=2, seed=6)),
        ],
        name="structured_conv",
    )
    models["composite_dense"] = keras.Sequential(
        [
            keras.Input((10,)),
            keras.layers.Dense(16, kernel_initializer=ki.Sparse(sparsity=0.25, std=0.1, seed=7)),
            keras.layers.Dense(16, kernel_initializer=ki.Scaled("kaiming_normal", 0.5)),
            keras.layers.Dense(20, kernel_initializer="zer_o"),
            keras.layers.Dense(
                3, activation="softmax", bias_initializer=ki.PriorBias([0.7, 0.2, 0.1])
            ),
        ],
        name="composite_dense",
    )
    seq_in = keras.Input((6, 5))
    seq = keras.layers.LSTM(
        8, bias_initializer=ki.ChronoBias(max_timesteps=20, seed=8), unit_forget_bias=False
    )(seq_in)
    out = keras.layers.Dense(1, activation="sigmoid", bias_initializer=ki.PriorBias(0.01))(seq)
    models["recurrent_bias"] = keras.Model(seq_in, out, name="recurrent_bias")

    res_in = keras.Input((8,))
    h = keras.layers.Dense(8)(res_in)
    for _ in range(2):
        branch = keras.layers.Dense(8, activation="relu")(h)
        branch = keras.layers.Dense(8)(branch)
        h = keras.layers.Add()([h, ki.layers.ResidualScale(init=0.1)(branch)])
        h = ki.layers.ScalarBias(init=0.05)(h)
    models["residual_scale"] = keras.Model(res_in, h, name="residual_scale")

    mha_in = keras.Input((4, 16))
    att = keras.layers.MultiHeadAttention(2, 8, kernel_initializer=ki.Scaled("xavier_uniform", 2.0))(
        mha_in, mha_in
    )
    models["attention"] = keras.Model(mha_in, att, name="attention")
    return models


def sample_input(model, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((3, *model.input_shape[1:])).astype("float32")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--version", default=ki.__version__)
    args = parser.parse_args(argv)
    folder = HERE / f"v{args.version}"
    if folder.exists():
        sys.exit(f"{folder} exists: saved files of a release are never overwritten.")
    folder.mkdir()
    for name, model in build_models().items():
        x = sample_input(model)
        y = keras.ops.convert_to_numpy(model(x))
        model.save(folder / f"{name}.keras")
        np.savez(folder / f"{name}.npz", x=x, y=y)
        print(f"wrote {folder / name}.keras")


if __name__ == "__main__":
    main()
