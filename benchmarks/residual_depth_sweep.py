"""Residual MLPs without normalization on digits: depth x init x optimizer.

Blocks x + Dense(relu(Dense(x))), width 64, softmax head; Keras defaults vs
zero_residual(zero_last) vs zero_residual(fixup) vs ResidualScale(0) gates
(SkipInit/ReZero), with Adam(1e-3) and SGD(0.01, momentum 0.9), batch 64.
Per setting: initial and final training loss, test accuracy, and both as
ratios against the Keras-default run of the same depth and optimizer,
measured in this run (on the same initial weights: every scheme starts from
the default model's weights and then applies its step).

    python benchmarks/residual_depth_sweep.py            # 16, 64, 256 blocks, 10 epochs
    python benchmarks/residual_depth_sweep.py --quick    # 16, 64 blocks, 5 epochs

Each architecture is built and compiled once per optimizer; schemes re-assign
the initial weights and reset the optimizer state (tracing a deep model
costs far more than training it here).
"""

import argparse
import math
import time

import keras
import numpy as np

import keras_inits as ki
from keras_inits.demo import load_digits_split, residual_mlp

SCHEMES = {  # name -> (gated architecture, step applied to the initial weights)
    "keras default": (False, None),
    "zero_last": (False, lambda m: ki.zero_residual(m, mode="zero_last")),
    "fixup": (False, lambda m: ki.zero_residual(m, mode="fixup", seed=0)),
    "ResidualScale(0)": (True, None),
}
OPTIMIZERS = {
    "adam": lambda: keras.optimizers.Adam(1e-3),
    "sgd": lambda: keras.optimizers.SGD(0.01, momentum=0.9),
}


def ratio(value, base):
    if not (math.isfinite(value) and math.isfinite(base)) or base == 0:
        return "   n/a"
    return f"{value / base:6.3g}"


def run_depth(blocks, epochs, data, seed):
    x_tr, y_tr, x_te, y_te = data
    rows = []
    for opt_name, make_opt in OPTIMIZERS.items():
        for gate in (False, True):
            keras.utils.set_random_seed(seed)
            model = residual_mlp(blocks, gate=gate)
            initial = [np.array(keras.ops.convert_to_numpy(v)) for v in model.weights]
            optimizer = make_opt()
            model.compile(optimizer, "sparse_categorical_crossentropy", metrics=["accuracy"])
            optimizer.build(model.trainable_variables)
            opt_initial = [np.array(keras.ops.convert_to_numpy(v)) for v in optimizer.variables]
            for name, (gated, step) in SCHEMES.items():
                if gated != gate:
                    continue
                for v, value in zip(model.weights, initial):
                    v.assign(value)
                for v, value in zip(optimizer.variables, opt_initial):
                    v.assign(value)
                if step is not None:
                    step(model)
                start = time.perf_counter()
                loss0 = model.evaluate(x_tr, y_tr, batch_size=256, verbose=0)[0]
                keras.utils.set_random_seed(seed)  # same batch order for every scheme
                hist = model.fit(x_tr, y_tr, batch_size=64, epochs=epochs, verbose=0)
                loss = hist.history["loss"][-1]
                acc = model.evaluate(x_te, y_te, verbose=0)[1] if math.isfinite(loss) else float("nan")
                rows.append((opt_name, name, loss0, loss, acc, time.perf_counter() - start))
    base = {opt: (loss, acc) for opt, name, _, loss, acc, _ in rows if name == "keras default"}
    for opt_name, name, loss0, loss, acc, seconds in sorted(rows, key=lambda r: r[0]):
        b_loss, b_acc = base[opt_name]
        print(f"{blocks:6d}  {opt_name:5s} {name:17s} {loss0:10.3g} {loss:10.3g} {acc:8.3f} "
              f"{ratio(loss, b_loss)} {ratio(acc, b_acc)} {seconds:7.1f}", flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="16 and 64 blocks, 5 epochs")
    parser.add_argument("--depths", type=int, nargs="+", help="numbers of blocks")
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    depths, epochs = ((16, 64), 5) if args.quick else ((16, 64, 256), 10)
    depths, epochs = args.depths or depths, args.epochs or epochs
    data = load_digits_split(args.seed)
    print(f"residual MLP width 64, no normalization, {epochs} epochs, batch 64, seed {args.seed}; "
          "ratios: this scheme / Keras default (same depth, optimizer, initial weights)")
    print(f"{'blocks':>6}  {'opt':5s} {'scheme':17s} {'loss0':>10s} {'final loss':>10s} "
          f"{'test acc':>8s} {'loss/d':>6s} {'acc/d':>6s} {'s':>7s}")
    for blocks in depths:
        run_depth(blocks, epochs, data, args.seed)


if __name__ == "__main__":
    main()
