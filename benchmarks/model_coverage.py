"""Coverage of real models: every keras.applications family and every keras_hub
backbone that builds offline, through every model-level step.

    python benchmarks/model_coverage.py            # everything (about 10 minutes on 2 cores)
    python benchmarks/model_coverage.py --quick    # a few of each
    python benchmarks/model_coverage.py --only llama,resnet50

Per model: weights understood / total (a transformer role from
``detect_roles``, or a kernel / norm / embedding weight whose true fans
``ki.fans.layer_fans`` knows), residual branches found / merges in the graph
(``Add``, ``x + y``, scaled adds) plus blocks found by role, each step ``ok``
or its error, the forward pass finite after all steps, and a ``.keras``
save/load round trip giving equal outputs. Models are built with
``weights=None`` / from small configs: nothing is downloaded.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.setrecursionlimit(20000)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import keras  # noqa: E402
import numpy as np  # noqa: E402

import keras_inits as ki  # noqa: E402
from keras_inits import graph  # noqa: E402
from keras_inits.fans import layer_fans  # noqa: E402
from keras_inits.transformer import count_blocks, detect_roles  # noqa: E402

# One model per keras.applications family (the smallest), with its input size.
APPLICATIONS = {
    "ConvNeXtTiny": (32, 32, 3),
    "DenseNet121": (32, 32, 3),
    "EfficientNetB0": (32, 32, 3),
    "EfficientNetV2B0": (32, 32, 3),
    "InceptionV3": (75, 75, 3),
    "InceptionResNetV2": (75, 75, 3),
    "MobileNet": (32, 32, 3),
    "MobileNetV2": (32, 32, 3),
    "MobileNetV3Small": (32, 32, 3),
    "NASNetMobile": (224, 224, 3),
    "ResNet50": (32, 32, 3),
    "ResNet50V2": (32, 32, 3),
    "VGG16": (32, 32, 3),
    "Xception": (75, 75, 3),
}
QUICK = ("ResNet50V2", "ConvNeXtTiny", "Xception", "gpt2", "llama", "vit")


def _merges(model) -> int:
    count = 0
    for call in graph.layer_calls(model):
        if graph._is_add(call.layer):
            count += 1
    functional = graph._functional(model)
    if functional is not None:  # ops-level adds are not layer calls
        from keras.src.ops.numpy import Add as AddOperation

        for nodes in functional._nodes_by_depth.values():
            count += sum(isinstance(n.operation, AddOperation) and len(n.input_tensors) > 1
                         for n in nodes)
    return count


def _understood(model) -> tuple[int, int]:
    roles, _ = detect_roles(model)
    known = {id(r.variable) for r in roles}
    for layer in graph.all_layers(model):
        for sub in graph.sublayers(layer):
            for v in sub.weights:
                if id(v) in known or "float" not in str(v.dtype):
                    continue
                if graph.is_norm(sub) or graph.layer_scale(sub) is v or (
                    graph.has_kernel(sub) and getattr(sub, "bias", None) is v
                ):
                    known.add(id(v))
                    continue
                try:
                    layer_fans(sub, v)
                    known.add(id(v))
                except (ValueError, TypeError):
                    pass
    if os.environ.get("COVERAGE_VERBOSE"):
        print("  not understood:", [v.path for v in model.weights if id(v) not in known])
    return sum(id(v) in known for v in model.weights), len(model.weights)


def _outputs(model, x):
    out = model(x, training=False)
    return [keras.ops.convert_to_numpy(t) for t in keras.tree.flatten(out)]


def _step(name, fn):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            report = fn()
        skipped = len(getattr(report, "skipped", []))
        return "ok" + (f" ({skipped} listed)" if skipped else "")
    except Exception as err:  # the table reports every failure, never hides it
        return f"{type(err).__name__}: {str(err)[:60]}"


def run(name, build, x, transformer):
    t0 = time.time()
    model = build()
    row = {"model": name}
    have, total = _understood(model)
    row["weights"] = f"{have}/{total}"
    branches, _ = graph.residual_branches(model)
    roles, _ = detect_roles(model)
    n_enc, n_dec = count_blocks(roles)
    row["residual"] = f"{len(branches)}/{_merges(model)}" + (
        f" +{n_enc + n_dec} blocks" if n_enc + n_dec else "")
    row["reinit"] = _step("reinitialize", lambda: ki.reinitialize(model, seed=0))
    row["lsuv"] = _step("lsuv", lambda: ki.lsuv(model, x, seed=0, verbose=0))
    row["ddi"] = _step("ddi", lambda: ki.data_dependent_init(model, x, verbose=0))
    row["zero_res"] = _step("zero_residual", lambda: ki.zero_residual(model))
    row["init_tf"] = _step(
        "init_transformer", lambda: ki.init_transformer(model, "gpt2", seed=0)
    ) if transformer else "-"
    row["auto_init"] = _step("auto_init", lambda: ki.auto_init(model, x, seed=0))
    outs = _outputs(model, x)
    row["finite"] = "yes" if all(np.isfinite(o).all() for o in outs) else "NO"
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "m.keras")
        try:
            model.save(path)
            again = keras.models.load_model(path)
            same = all(np.array_equal(a, b) for a, b in zip(outs, _outputs(again, x)))
            row["save/load"] = "equal" if same else "DIFFERENT"
        except Exception as err:
            row["save/load"] = f"{type(err).__name__}: {str(err)[:40]}"
    row["s"] = f"{time.time() - t0:.0f}"
    return row


def models(quick, only, source="all"):
    rng = np.random.default_rng(0)
    out = []
    for name, shape in APPLICATIONS.items() if source != "hub" else ():
        def build(name=name, shape=shape):
            return getattr(keras.applications, name)(weights=None, input_shape=shape, classes=10)
        out.append((name, build, rng.standard_normal((4, *shape)).astype("float32"), False))
    try:
        from hub_configs import hub_backbones, sample_inputs
    except ImportError:
        hub = {}
    else:
        hub = hub_backbones() if source != "applications" else {}
    for name, build in hub.items():
        out.append((name, build, None, True))
    if only:
        wanted = {w.strip().lower() for w in only.split(",")}
        out = [m for m in out if m[0].lower() in wanted]
    elif quick:
        out = [m for m in out if m[0] in QUICK]
    for name, build, x, transformer in out:
        if x is None:  # a keras_hub backbone: its inputs depend on the built model
            try:
                model = build()
                x = sample_inputs(name, model)
                transformer = count_blocks(detect_roles(model)[0]) != (0, 0)
            except Exception as err:  # reported in the table's row

                def build(err=err):
                    raise err

                yield name, build, None, False
                continue

            def build(model=model):
                return model
        yield name, build, x, transformer


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", default="")
    parser.add_argument("--source", choices=("all", "applications", "hub"), default="all")
    args = parser.parse_args(argv)
    cols = ["model", "weights", "residual", "reinit", "lsuv", "ddi", "zero_res", "init_tf",
            "auto_init", "finite", "save/load", "s"]
    rows = []
    print(f"keras {keras.__version__}, backend {keras.backend.backend()}")
    for name, build, x, transformer in models(args.quick, args.only, args.source):
        try:
            row = run(name, build, x, transformer)
        except Exception as err:
            row = {"model": name, "weights": f"build/run failed: {type(err).__name__}: {err}"[:120]}
        rows.append(row)
        print(" | ".join(str(row.get(c, "")) for c in cols), flush=True)
    print()
    print("| " + " | ".join(cols) + " |")
    print("|" + "---|" * len(cols))
    for row in rows:
        print("| " + " | ".join(str(row.get(c, "")) for c in cols) + " |")


if __name__ == "__main__":
    main()
