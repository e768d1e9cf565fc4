"""Model-level steps on TensorFlow, JAX and torch, timed in one run.

A Keras backend can't be switched inside a process, so this script runs
itself once per backend in a child process (``KERAS_BACKEND`` set in the
child's environment). Each child builds

  (a) ``keras.applications.ResNet50(weights=None, input_shape=(64, 64, 3))``
  (b) a small keras_hub ``GPT2Backbone`` built offline (vocabulary 1000,
      4 layers, 4 heads, width 64, FFN 128, 32 positions)

and times, per model, in this order:

  ``reinitialize(m, seed=0)``, ``lsuv(m, x, seed=0)``,
  ``data_dependent_init(m, x)``, ``zero_residual(m)`` (ResNet) or
  ``init_transformer(m, "gpt2", seed=0)`` (GPT2)

with ``x`` 8 random 64x64x3 images (ResNet) or ``{"token_ids": (4, 16) ints,
"padding_mask": ones}`` (GPT2). A step's *first call* (tracing and
compilation included; it is also the warm-up) and its *best of 3* after it
are reported in two tables: seconds on TensorFlow, and on JAX and torch the
seconds with the ratio to TensorFlow's. A ratio above 2 is flagged ``!!``.
A step that raises shows its error class and message in its cell.

    python benchmarks/backend_speed.py               # full
    python benchmarks/backend_speed.py --quick       # 1 repetition, smaller models
    python benchmarks/backend_speed.py --backends tensorflow jax --steps reinitialize
    python benchmarks/backend_speed.py --threads 1   # every backend on one CPU thread

The machine may be shared: only ratios measured in the same run mean much,
and children run one after another, never side by side.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

BACKENDS = ("tensorflow", "jax", "torch")
STEPS = ("reinitialize", "lsuv", "data_dependent_init", "zero_residual", "init_transformer")
MODELS = ("ResNet50", "GPT2")
MARKER = "@@BACKEND_SPEED@@"
FLAG = 2.0


# ---------------------------------------------------------------- child side


def _resnet(quick):
    import keras

    if not quick:
        return keras.applications.ResNet50(weights=None, input_shape=(64, 64, 3))
    # The same block types as ResNet50 (bottleneck v1, projection shortcuts,
    # BatchNorm), one block per stage, from Keras' own builder.
    try:
        from keras.src.applications import resnet

        def stack_fn(x):
            x = resnet.stack_residual_blocks_v1(x, 16, 1, stride1=1, name="conv2")
            x = resnet.stack_residual_blocks_v1(x, 32, 1, name="conv3")
            x = resnet.stack_residual_blocks_v1(x, 64, 1, name="conv4")
            return resnet.stack_residual_blocks_v1(x, 128, 1, name="conv5")

        return resnet.ResNet(
            stack_fn, False, True, weights=None, input_shape=(32, 32, 3), classes=10,
            name="resnet_tiny",
        )
    except (ImportError, AttributeError, TypeError):
        return keras.applications.ResNet50(weights=None, input_shape=(32, 32, 3), classes=10)


def _gpt2(quick):
    import keras_hub

    if quick:
        return keras_hub.models.GPT2Backbone(
            vocabulary_size=200, num_layers=2, num_heads=2, hidden_dim=32,
            intermediate_dim=64, max_sequence_length=16,
        )
    return keras_hub.models.GPT2Backbone(
        vocabulary_size=1000, num_layers=4, num_heads=4, hidden_dim=64,
        intermediate_dim=128, max_sequence_length=32,
    )


def _data(model_name, quick):
    import numpy as np

    rng = np.random.default_rng(0)
    if model_name == "ResNet50":
        size = 32 if quick else 64
        return rng.standard_normal((4 if quick else 8, size, size, 3)).astype("float32")
    vocab, seq = (200, 8) if quick else (1000, 16)
    return {
        "token_ids": rng.integers(1, vocab, size=(4, seq)).astype("int32"),
        "padding_mask": np.ones((4, seq), "int32"),
    }


def _steps(model_name, model, x):
    import keras_inits as ki

    steps = {
        "reinitialize": lambda: ki.reinitialize(model, seed=0),
        "lsuv": lambda: ki.lsuv(model, x, seed=0, verbose=0),
        "data_dependent_init": lambda: ki.data_dependent_init(model, x, verbose=0),
    }
    if model_name == "ResNet50":
        steps["zero_residual"] = lambda: ki.zero_residual(model)
    else:
        steps["init_transformer"] = lambda: ki.init_transformer(model, "gpt2", seed=0)
    return steps


def _error(err) -> str:
    message = " ".join(str(err).split())
    if len(message) > 70:
        message = message[:67] + "..."
    return f"{type(err).__name__}: {message}"


def _time(fn, repeats):
    """``(first call, best of `repeats` after it)`` in seconds."""
    start = time.perf_counter()
    fn()
    first = time.perf_counter() - start
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return first, best


def _limit_threads(n):
    """Cap every backend's CPU thread pools at `n` (set before importing them)."""
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = str(n)
    os.environ["XLA_FLAGS"] = " ".join(
        filter(None, [os.environ.get("XLA_FLAGS"), f"--xla_cpu_multi_thread_eigen={'true' if n > 1 else 'false'}",
                      f"intra_op_parallelism_threads={n}"])
    )
    backend = os.environ.get("KERAS_BACKEND")
    if backend == "tensorflow":
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(n)
        tf.config.threading.set_inter_op_parallelism_threads(n)
    elif backend == "torch":
        import torch

        torch.set_num_threads(n)


def child(args):
    if args.threads:
        _limit_threads(args.threads)
    import keras

    results = {"backend": keras.backend.backend(), "cells": {}}
    makers = {"ResNet50": _resnet, "GPT2": _gpt2}
    for model_name in args.models:
        try:
            model = makers[model_name](args.quick)
            x = _data(model_name, args.quick)
        except Exception as err:  # the whole row fails, say why
            for step in STEPS:
                results["cells"][f"{model_name}/{step}"] = {"error": _error(err)}
            continue
        for step, fn in _steps(model_name, model, x).items():
            if step not in args.steps:
                continue
            try:
                first, best = _time(fn, args.repeats)
                cell = {"first": first, "best": best}
            except Exception as err:
                cell = {"error": _error(err)}
            results["cells"][f"{model_name}/{step}"] = cell
            print(f"[{results['backend']}] {model_name} {step}: {cell}", file=sys.stderr, flush=True)
        del model
        keras.backend.clear_session()
    print(MARKER + json.dumps(results), flush=True)


# --------------------------------------------------------------- parent side


def run_backend(backend, args):
    env = dict(os.environ, KERAS_BACKEND=backend)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    cmd = [sys.executable, os.path.abspath(__file__), "--child", "--repeats", str(args.repeats)]
    cmd += ["--models", *args.models, "--steps", *args.steps]
    if args.threads:
        cmd += ["--threads", str(args.threads)]
    if args.quick:
        cmd.append("--quick")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
    try:
        proc = subprocess.run(
            cmd, env=env, capture_output=True, text=True, timeout=args.timeout, cwd=root
        )
    except subprocess.TimeoutExpired:
        return {"error": f"TimeoutExpired: child ran over {args.timeout:g} s"}
    if args.verbose:
        sys.stderr.write(proc.stderr)
    for line in proc.stdout.splitlines():
        if line.startswith(MARKER):
            return json.loads(line[len(MARKER):])
    tail = [ln for ln in proc.stderr.strip().splitlines() if ln.strip()][-1:] or ["no output"]
    return {"error": f"child exited {proc.returncode}: {tail[0][:80]}"}


def _cell(results, backend, key, field, reference):
    got = results[backend]
    if "error" in got:
        return got["error"], False
    cell = got["cells"].get(key)
    if cell is None:
        return "-", False
    if "error" in cell:
        return cell["error"], False
    seconds = cell[field]
    if backend == "tensorflow" or reference is None:
        return f"{seconds:.3f}", False
    ratio = seconds / reference
    slow = ratio > FLAG
    return f"{seconds:.3f} ({ratio:.2f}x){' !!' if slow else ''}", slow


def table(results, field, title):
    keys = []
    for model_name in MODELS:
        for step in STEPS:
            key = f"{model_name}/{step}"
            if any(key in r.get("cells", {}) for r in results.values()):
                keys.append(key)
    backends = [b for b in BACKENDS if b in results]
    header = ["model", "step"] + [("tf" if b == "tensorflow" else b) + " s" for b in backends]
    rows, flagged = [], []
    for key in keys:
        model_name, step = key.split("/")
        tf_cell = results.get("tensorflow", {}).get("cells", {}).get(key, {})
        reference = tf_cell.get(field) if isinstance(tf_cell, dict) else None
        row = [model_name, step]
        for backend in backends:
            text, slow = _cell(results, backend, key, field, reference)
            row.append(text)
            if slow:
                flagged.append(f"{model_name} {step} on {backend}")
        rows.append(row)
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    lines = [title, "  ".join(h.ljust(w) for h, w in zip(header, widths))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(str(c).ljust(w) for c, w in zip(r, widths)) for r in rows]
    return "\n".join(lines), flagged


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1 repetition, smaller models")
    parser.add_argument("--backends", nargs="+", choices=BACKENDS, default=list(BACKENDS))
    parser.add_argument("--models", nargs="+", choices=MODELS, default=list(MODELS))
    parser.add_argument("--steps", nargs="+", choices=STEPS, default=list(STEPS))
    parser.add_argument("--repeats", type=int, default=None, help="timed runs after the warm-up")
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds per backend child")
    parser.add_argument(
        "--threads", type=int, default=0,
        help="cap each backend's CPU threads (0: library defaults); on a shared "
        "machine torch's OpenMP pool can run 10x slower than with 1 thread",
    )
    parser.add_argument("--json", help="also write the raw results to this file")
    parser.add_argument("--verbose", action="store_true", help="echo the children's stderr")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.repeats is None:
        args.repeats = 1 if args.quick else 3
    if args.child:
        return child(args)

    results = {}
    for backend in args.backends:
        start = time.perf_counter()
        results[backend] = run_backend(backend, args)
        print(f"{backend}: done in {time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)
    runs = f"best of {args.repeats}" if args.repeats > 1 else "1 run"
    if args.threads:
        runs += f", {args.threads} CPU thread(s) per backend"
    steady, flagged = table(results, "best", f"Steady state ({runs} after one warm-up call), seconds")
    first, flagged_first = table(results, "first", "First call (the warm-up: tracing and compilation included), seconds")
    print(steady)
    print()
    print(first)
    print()
    if "tensorflow" not in results:
        print("(no TensorFlow run: no ratios)")
    for label, items in (("steady state", flagged), ("first call", flagged_first)):
        print(f"> {FLAG:g}x TensorFlow ({label}): " + ("; ".join(items) if items else "none"))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
