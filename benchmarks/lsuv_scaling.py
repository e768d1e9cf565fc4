"""LSUV cost against depth: keras_inits' cached-input walk vs a naive port.

The naive reference is what most LSUV ports do: for every layer, build a
sub-model from the input to that layer and re-run it from the input at every
iteration, so the cost grows with depth squared. keras_inits walks the graph
once and re-evaluates only the layer being calibrated. Both are timed here,
on the same models (plain MLPs of width 64, Dense + separate tanh), in the
same run.

    python benchmarks/lsuv_scaling.py            # depths 25, 50, 100, 200
    python benchmarks/lsuv_scaling.py --quick    # depths 25, 50
"""

import argparse
import time

import keras
import numpy as np

import keras_inits as ki


def mlp(depth, width=64):
    layers = [keras.Input((width,))]
    for _ in range(depth):
        layers += [keras.layers.Dense(width), keras.layers.Activation("tanh")]
    return keras.Sequential(layers)


def naive_lsuv(model, x, target_var=1.0, tol=0.1, max_iters=10):
    """One sub-model per layer, re-run from the input every iteration."""
    for layer in model.layers:
        if not hasattr(layer, "kernel"):
            continue
        sub = keras.Model(model.inputs[0], layer.output)
        for _ in range(max_iters):
            var = float(np.var(keras.ops.convert_to_numpy(sub(x))))
            if abs(var - target_var) <= tol:
                break
            layer.kernel.assign(layer.kernel * np.sqrt(target_var / var))


def timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    depths = (25, 50) if args.quick else (25, 50, 100, 200)
    x = np.random.default_rng(0).standard_normal((256, 64)).astype("float32")
    print(f"backend {keras.backend.backend()}, batch 256, width 64, tanh")
    print(f"{'depth':>5}  {'keras_inits s':>13}  {'naive s':>9}  {'speed-up':>8}  {'s/layer (ours)':>14}")
    rows = []
    for depth in depths:
        keras.utils.set_random_seed(depth)
        model = mlp(depth)
        start = model.get_weights()
        ours = timed(lambda m=model: ki.lsuv(m, x, orthonormal=False, verbose=0))
        model.set_weights(start)
        naive = timed(lambda m=model: naive_lsuv(m, x))
        rows.append((depth, ours, naive))
        print(f"{depth:5d}  {ours:13.2f}  {naive:9.2f}  {naive / ours:8.1f}x  {ours / depth:14.4f}")
    first, last = rows[0], rows[-1]
    growth = (last[1] / first[1]) / (last[0] / first[0])
    print(f"time ratio / depth ratio from {first[0]} to {last[0]} layers: {growth:.2f} (1.0 = linear)")


if __name__ == "__main__":
    main()
