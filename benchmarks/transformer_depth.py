"""Post-LN transformer encoders without warmup: Keras defaults vs transformer schemes.

Task (generated here): reverse a sequence of 12 tokens over a vocabulary of
10. Encoder: embedding + learned positions, d_model 64, 4 heads, FFN 128,
post-LayerNorm blocks, Adam(1e-3) from step 0 (no warmup), batch 32. For
each depth and scheme, the token accuracy on held-out sequences after a
fixed number of steps (chance 0.1), all measured in this run.

    python benchmarks/transformer_depth.py            # depths 6, 12, 24; 1000 steps
    python benchmarks/transformer_depth.py --quick    # depths 6, 12; 300 steps
"""

import argparse
import time

import keras
import numpy as np

import keras_inits as ki

VOCAB, LENGTH, D, HEADS, FF = 10, 12, 64, 4, 128


def encoder(depth):
    tokens = keras.Input((LENGTH,), dtype="int32")
    h = keras.layers.Embedding(VOCAB, D)(tokens)
    positions = keras.layers.Embedding(LENGTH, D)(keras.ops.arange(LENGTH)[None, :])
    h = keras.layers.Add()([h, positions])
    for _ in range(depth):
        a = keras.layers.MultiHeadAttention(HEADS, D // HEADS)(h, h)
        h = keras.layers.LayerNormalization()(keras.layers.Add()([h, a]))
        f = keras.layers.Dense(FF, activation="relu")(h)
        f = keras.layers.Dense(D)(f)
        h = keras.layers.LayerNormalization()(keras.layers.Add()([h, f]))
    return keras.Model(tokens, keras.layers.Dense(VOCAB)(h))


def data(n, seed):
    x = np.random.default_rng(seed).integers(0, VOCAB, (n, LENGTH))
    return x, x[:, ::-1].copy()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--depths", type=int, nargs="+", help="override the depths")
    parser.add_argument("--steps", type=int, help="override the number of steps")
    args = parser.parse_args(argv)
    depths, steps = ((6, 12), 300) if args.quick else ((6, 12, 24), 1000)
    depths, steps = args.depths or depths, args.steps or steps
    x_tr, y_tr = data(32 * steps, 0)
    x_te, y_te = data(512, 1)
    schemes = {
        "keras default": None,
        "t_fixup": lambda m: ki.init_transformer(m, "t_fixup", seed=0),
        "deepnet": lambda m: ki.init_transformer(m, "deepnet", seed=0),
        "gpt2": lambda m: ki.init_transformer(m, "gpt2", seed=0),
    }
    print(f"reverse {LENGTH} tokens, post-LN, Adam 1e-3, no warmup, {steps} steps of 32")
    print(f"{'depth':>5}  {'scheme':14s} {'final loss':>10s} {'token acc':>9s} {'s':>6s}")
    for depth in depths:
        for name, step in schemes.items():
            keras.utils.set_random_seed(0)
            model = encoder(depth)
            if step:
                step(model)
            model.compile(keras.optimizers.Adam(1e-3),
                          keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
            start = time.perf_counter()
            hist = model.fit(x_tr, y_tr, batch_size=32, epochs=1, verbose=0)
            _, acc = model.evaluate(x_te, y_te, verbose=0)
            print(f"{depth:5d}  {name:14s} {hist.history['loss'][-1]:10.3g} {acc:9.3f} "
                  f"{time.perf_counter() - start:6.1f}", flush=True)


if __name__ == "__main__":
    main()
