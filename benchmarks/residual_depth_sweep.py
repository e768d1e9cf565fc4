"""Residual MLPs without normalization on digits: depth x init x optimizer.

Blocks x + Dense(relu(Dense(x))), width 64; Keras defaults vs
zero_residual(zero_last) vs zero_residual(fixup) vs ResidualScale(0) gates,
with Adam(1e-3) and SGD(0.01, momentum 0.9), 10 epochs; final training loss
and test accuracy per setting, all measured in this run.

    python benchmarks/residual_depth_sweep.py            # 16, 64, 256 blocks
    python benchmarks/residual_depth_sweep.py --quick    # 16, 64 blocks, 5 epochs
"""

import argparse
import math
import time

import keras

import keras_inits as ki
from keras_inits.demo import load_digits_split, residual_mlp

SCHEMES = {
    "keras default": (False, None),
    "zero_last": (False, lambda m: ki.zero_residual(m, mode="zero_last")),
    "fixup": (False, lambda m: ki.zero_residual(m, mode="fixup", seed=0)),
    "ResidualScale(0)": (True, None),
}
OPTIMIZERS = {
    "adam": lambda: keras.optimizers.Adam(1e-3),
    "sgd": lambda: keras.optimizers.SGD(0.01, momentum=0.9),
}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    depths, epochs = ((16, 64), 5) if args.quick else ((16, 64, 256), 10)
    x_tr, y_tr, x_te, y_te = load_digits_split(0)
    print(f"{'blocks':>6}  {'scheme':18s} {'opt':5s} {'loss0':>10s} {'final loss':>10s} {'test acc':>8s} {'s':>6s}")
    for blocks in depths:
        for name, (gate, step) in SCHEMES.items():
            for opt_name, make_opt in OPTIMIZERS.items():
                keras.utils.set_random_seed(0)
                model = residual_mlp(blocks, gate=gate)
                if step:
                    step(model)
                model.compile(make_opt(), "sparse_categorical_crossentropy", metrics=["accuracy"])
                start = time.perf_counter()
                loss0 = model.evaluate(x_tr, y_tr, verbose=0)[0]
                hist = model.fit(x_tr, y_tr, batch_size=64, epochs=epochs, verbose=0)
                loss = hist.history["loss"][-1]
                acc = model.evaluate(x_te, y_te, verbose=0)[1] if math.isfinite(loss) else float("nan")
                print(f"{blocks:6d}  {name:18s} {opt_name:5s} {loss0:10.3g} {loss:10.3g} {acc:8.3f} "
                      f"{time.perf_counter() - start:6.1f}", flush=True)


if __name__ == "__main__":
    main()
