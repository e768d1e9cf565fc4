"""Time to initialize a ~100M-parameter model: keras_inits vs Keras built-ins.

Each keras_inits initializer is paired with the Keras built-in that draws
from the same distribution (or does the same deterministic work), both
timed in this run on the same shapes, and the ratio printed. The target is
a ratio <= 1.1. Orthogonal-type schemes are timed per matrix against
``keras.initializers.Orthogonal`` (one QR each).

    python benchmarks/init_throughput.py            # 6 x 4096x4096 (100M) + 4096/8192 QR
    python benchmarks/init_throughput.py --quick    # 6 x 1024x1024, QR at 1024/2048
"""

from __future__ import annotations

import argparse
import time

import keras
import numpy as np

import keras_inits as ki


def best_time(fn, repeats):
    """Minimum wall time of `fn()` (fully materialized) over `repeats` runs."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        keras.ops.convert_to_numpy(out[0] if isinstance(out, list) else out)
        times.append(time.perf_counter() - start)
    return min(times)


def model_init_time(make_init, width, layers, repeats):
    """Initialize `layers` kernels of (width, width), a new instance each."""

    def run():
        return [make_init(i)((width, width)) for i in range(layers)]

    run()  # warm-up: first-call tracing and allocation
    return best_time(run, repeats)


PAIRS = [
    (
        "KaimingNormal",
        lambda i: ki.KaimingNormal(seed=i),
        "VarianceScaling(2, fan_in, untruncated)",
        lambda i: keras.initializers.VarianceScaling(2.0, "fan_in", "untruncated_normal", seed=i),
    ),
    (
        "KaimingUniform",
        lambda i: ki.KaimingUniform(seed=i),
        "HeUniform",
        lambda i: keras.initializers.HeUniform(seed=i),
    ),
    (
        "XavierNormal",
        lambda i: ki.XavierNormal(seed=i),
        "VarianceScaling(1, fan_avg, untruncated)",
        lambda i: keras.initializers.VarianceScaling(1.0, "fan_avg", "untruncated_normal", seed=i),
    ),
    (
        "XavierUniform",
        lambda i: ki.XavierUniform(seed=i),
        "GlorotUniform",
        lambda i: keras.initializers.GlorotUniform(seed=i),
    ),
    (
        "Scaled(kaiming_normal, 0.5)",
        lambda i: ki.Scaled(ki.KaimingNormal(seed=i), 0.5),
        "VarianceScaling(0.5, fan_in, untruncated)",
        lambda i: keras.initializers.VarianceScaling(0.5, "fan_in", "untruncated_normal", seed=i),
    ),
    (
        "Sparse(0.1, 0.01)",
        lambda i: ki.Sparse(sparsity=0.1, std=0.01, seed=i),
        "RandomNormal(0.01)",
        lambda i: keras.initializers.RandomNormal(stddev=0.01, seed=i),
    ),
    ("ZerO (square: identity)", lambda i: ki.ZerO(), "Identity", lambda i: keras.initializers.Identity()),
]


def orthogonal_times(size, repeats):
    rows = []
    ref = best_time(lambda: keras.initializers.Orthogonal(seed=0)((size, size)), repeats)
    for name, make in [
        ("DeltaOrthogonal (1-tap conv)", lambda: ki.DeltaOrthogonal(seed=0)((1, size, size))),
        ("ZerO (Hadamard, out = 2 x in)", lambda: ki.ZerO()((size // 2, size))),
    ]:
        t = best_time(make, repeats)
        rows.append((f"{name} {size}", t, f"keras Orthogonal {size}x{size}", ref))
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    width = 1024 if args.quick else 4096
    sizes = (1024, 2048) if args.quick else (4096, 8192)
    layers = 6
    print(
        f"backend {keras.backend.backend()}, {layers} kernels of {width}x{width} "
        f"({layers * width * width / 1e6:.0f}M parameters), best of {args.repeats}"
    )
    rows = []
    for name, make, base_name, make_base in PAIRS:
        ours = model_init_time(make, width, layers, args.repeats)
        base = model_init_time(make_base, width, layers, args.repeats)
        rows.append((name, ours, base_name, base))
    for size in sizes:
        rows += orthogonal_times(size, max(1, args.repeats - 1))
    print(f"{'keras_inits':32s} {'s':>8s}  {'baseline (same run)':42s} {'s':>8s}  ratio")
    for name, ours, base_name, base in rows:
        print(f"{name:32s} {ours:8.3f}  {base_name:42s} {base:8.3f}  {ours / base:5.2f}")
    same = [o / b for n, o, base_name, b in rows[: len(PAIRS)] if not n.startswith("Sparse")]
    print(f"worst ratio among same-distribution pairs: {max(same):.2f} (target <= 1.1); "
          "Sparse has no same-distribution built-in: it adds one sort per kernel for its exact "
          "zero count")
    return np.float64(max(same))


if __name__ == "__main__":
    main()
