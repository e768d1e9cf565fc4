"""The `compare` demo: deep networks that Keras' defaults train badly, trained
on scikit-learn's digits with Keras defaults and with keras_inits schemes.

Every run uses the same data split, optimizer (Adam 1e-3), batch size and
epochs; only the initialization differs. A run is "trained" when its test
accuracy reaches :data:`TRAINED_ACCURACY`, "failed" when its loss is not
finite or its accuracy stays below :data:`FAILED_ACCURACY` (chance is 0.10).
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable

import keras
import numpy as np

TRAINED_ACCURACY = 0.80
FAILED_ACCURACY = 0.30


@dataclasses.dataclass
class Run:
    """One (setting, scheme) pair of the demo and what it measured."""

    setting: str
    scheme: str
    loss: float = math.nan
    accuracy: float = math.nan
    epochs: int = 0
    seconds: float = 0.0
    layer_variances: list[float] = dataclasses.field(default_factory=list)
    report: object = None

    @property
    def init_variance(self) -> tuple[float, float, float]:
        """Output variance of the first, middle and last hidden layer at init."""
        v = self.layer_variances or [math.nan]
        return v[0], v[len(v) // 2], v[-1]

    @property
    def verdict(self) -> str:
        if not math.isfinite(self.loss) or self.accuracy < FAILED_ACCURACY:
            return "failed"
        return "trained" if self.accuracy >= TRAINED_ACCURACY else "partial"


def load_digits_split(seed: int = 0):
    """scikit-learn's digits (ships with the package: no download),
    standardized with training statistics, stratified 80/20 split."""
    try:
        from sklearn.datasets import load_digits
        from sklearn.model_selection import train_test_split
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError(
            "The compare demo needs scikit-learn: pip install 'keras_inits[examples]'"
        ) from err
    x, y = load_digits(return_X_y=True)
    x_tr, x_te, y_tr, y_te = train_test_split(
        x.astype("float32"), y, test_size=0.2, stratify=y, random_state=seed
    )
    mean, std = x_tr.mean(0), x_tr.std(0) + 1e-6
    return (x_tr - mean) / std, y_tr, (x_te - mean) / std, y_te


def plain_mlp(depth, width=64, kernel_initializer="glorot_uniform", activation="relu"):
    """`depth` hidden Dense layers, no normalization, softmax head (glorot)."""
    layers = [keras.Input((64,))]
    for i in range(depth):
        layers.append(
            keras.layers.Dense(
                width, activation=activation, kernel_initializer=kernel_initializer,
                name=f"dense_{i}",
            )
        )
    layers.append(keras.layers.Dense(10, activation="softmax", name="head"))
    return keras.Sequential(layers, name=f"mlp{depth}")


def residual_mlp(blocks, width=64, gate=False):
    """x -> Dense(width) -> `blocks` x [x + Dense(relu(Dense(x)))] -> head.

    No normalization anywhere. ``gate=True`` multiplies each branch by a
    learnable scalar that starts at 0 (SkipInit / ReZero).
    """
    from keras_inits.layers import ResidualScale

    inputs = keras.Input((64,))
    h = keras.layers.Dense(width, name="stem")(inputs)
    for b in range(blocks):
        branch = keras.layers.Dense(width, activation="relu", name=f"b{b}_in")(h)
        branch = keras.layers.Dense(width, name=f"b{b}_out")(branch)
        if gate:
            branch = ResidualScale(name=f"b{b}_gate")(branch)
        h = keras.layers.Add(name=f"b{b}_add")([h, branch])
    outputs = keras.layers.Dense(10, activation="softmax", name="head")(h)
    return keras.Model(inputs, outputs, name=f"resmlp{blocks}")


def layer_variances(model, x) -> list[float]:
    """Variance at init along the network's trunk (one forward pass): after
    each residual merge for residual nets, else after each hidden weight layer."""
    from keras_inits.graph import layer_outputs

    outputs = [(layer, out) for layer, out in layer_outputs(model, x) if layer.name != "head"]
    merges = [(layer, out) for layer, out in outputs if isinstance(layer, keras.layers.Add)]
    picked = merges or [(layer, out) for layer, out in outputs if layer.weights]
    return [float(np.var(keras.ops.convert_to_numpy(out))) for _, out in picked]


@dataclasses.dataclass
class Scheme:
    """How one run builds its model and initializes it."""

    setting: str
    name: str
    build: Callable[[], keras.Model]
    step: Callable[[keras.Model, tuple], object] | None = None  # (model, (x, y))


def schemes(full: bool, seed: int) -> list[Scheme]:
    """The demo's runs. Default: fits in about 3 minutes on 2 CPU cores."""
    import keras_inits as ki

    depth = 100 if full else 50
    blocks = 128 if full else 64
    plain = f"plain relu MLP, {depth} layers"
    res = f"residual MLP, {blocks} blocks, no norm"

    def mlp(init):
        return lambda: plain_mlp(depth, kernel_initializer=init)

    out = [
        Scheme(plain, "keras default (glorot_uniform)", mlp("glorot_uniform")),
        Scheme(plain, "kaiming_normal", mlp("kaiming_normal")),
        Scheme(plain, "zer_o", mlp("zer_o")),
        Scheme(
            plain,
            "lsuv (orthonormal)",
            mlp("glorot_uniform"),
            lambda m, data: ki.lsuv(m, data, seed=seed, verbose=0),
        ),
        Scheme(
            plain,
            "auto_init",
            mlp("glorot_uniform"),
            lambda m, data: ki.auto_init(m, data, seed=seed),
        ),
        Scheme(res, "keras default (glorot_uniform)", lambda: residual_mlp(blocks)),
        Scheme(
            res,
            "zero_residual(zero_last)",
            lambda: residual_mlp(blocks),
            lambda m, data: ki.zero_residual(m, mode="zero_last"),
        ),
        Scheme(
            res,
            "zero_residual(fixup)",
            lambda: residual_mlp(blocks),
            lambda m, data: ki.zero_residual(m, mode="fixup", seed=seed),
        ),
        Scheme(res, "ResidualScale gate", lambda: residual_mlp(blocks, gate=True)),
        Scheme(
            res,
            "auto_init",
            lambda: residual_mlp(blocks),
            lambda m, data: ki.auto_init(m, data, seed=seed),
        ),
    ]
    return out


def run_one(scheme: Scheme, data, epochs: int, seed: int, verbose: int = 0) -> Run:
    x_tr, y_tr, x_te, y_te = data
    keras.utils.set_random_seed(seed)
    model = scheme.build()
    run = Run(scheme.setting, scheme.name)
    start = time.perf_counter()
    if scheme.step is not None:  # the step gets (x, y) of 256 training samples
        run.report = scheme.step(model, (x_tr[:256], y_tr[:256]))
    run.layer_variances = layer_variances(model, x_tr[:256])
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    history = model.fit(x_tr, y_tr, batch_size=64, epochs=epochs, verbose=verbose)
    run.epochs = len(history.history["loss"])
    run.loss = float(history.history["loss"][-1])
    _, acc = model.evaluate(x_te, y_te, verbose=0)
    run.accuracy = float(acc) if math.isfinite(run.loss) else 0.0
    run.seconds = time.perf_counter() - start
    return run


def format_runs(runs: list[Run]) -> str:
    from keras_inits.report import format_table

    header = (
        "setting", "scheme", "loss", "test acc", "epochs", "seconds",
        "var@init first/mid/last", "result",
    )
    rows = [
        (
            r.setting, r.scheme, r.loss, r.accuracy, r.epochs, round(r.seconds, 1),
            " / ".join(f"{v:.3g}" for v in r.init_variance), r.verdict,
        )
        for r in runs
    ]
    return format_table(header, rows)


def compare(*, full=False, epochs=None, seed=0, only=None, print_fn=print) -> list[Run]:
    """Train every scheme of :func:`schemes` and return the runs.

    Args:
        full: the bigger sweep (depth 100, 128 blocks, more epochs).
        epochs: override the number of epochs (default 10, 20 with `full`).
        seed: seeds data split, Keras' global RNG and the schemes.
        only: keep runs whose setting or scheme contains this text.
        print_fn: where progress lines go (one line per run).
    """
    epochs = epochs or (20 if full else 10)
    data = load_digits_split(seed)
    todo = [
        s for s in schemes(full, seed)
        if only is None or only in s.setting or only in s.name
    ]
    runs = []
    for i, scheme in enumerate(todo, 1):
        run = run_one(scheme, data, epochs, seed)
        runs.append(run)
        print_fn(
            f"[{i}/{len(todo)}] {run.setting} | {run.scheme}: acc {run.accuracy:.3f}, "
            f"loss {run.loss:.3g}, {run.seconds:.1f}s -> {run.verdict}"
        )
    return runs


def plot_runs(runs: list[Run], path: str, seed: int = 0) -> str:
    """One row per setting: activation variance by layer at init (log scale)
    for every scheme, and the test accuracy each reached. Writes a PNG."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError(
            "Plotting needs matplotlib: pip install 'keras_inits[plot]'"
        ) from err
    settings = list(dict.fromkeys(r.setting for r in runs))
    fig, axes = plt.subplots(
        len(settings), 2, figsize=(12, 3.8 * len(settings)), squeeze=False,
        gridspec_kw={"width_ratios": [2.2, 1]},
    )
    for row, setting in zip(axes, settings):
        mine = [r for r in runs if r.setting == setting]
        for r in mine:
            v = np.maximum(np.asarray(r.layer_variances, dtype=float), 1e-30)
            row[0].plot(np.arange(1, len(v) + 1), v, label=r.scheme, lw=1.6)
        row[0].set_yscale("log")
        row[0].set_xlabel("block (trunk after each residual add)" if "residual" in setting
                          else "layer (in order)")
        row[0].set_ylabel("activation variance at init")
        row[0].set_title(setting)
        row[0].grid(alpha=0.3)
        row[0].legend(fontsize=8)
        acc = [0.0 if not math.isfinite(r.accuracy) else r.accuracy for r in mine]
        colors = [
            {"trained": "tab:green", "partial": "tab:orange"}.get(r.verdict, "tab:red")
            for r in mine
        ]
        row[1].barh([r.scheme for r in mine], acc, color=colors)
        row[1].axvline(0.1, color="gray", ls=":", lw=1)
        row[1].set_xlim(0, 1)
        row[1].invert_yaxis()
        row[1].set_xlabel("test accuracy (dotted: chance)")
        row[1].tick_params(axis="y", labelsize=8)
    fig.suptitle(f"keras_inits compare: scikit-learn digits, seed {seed}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
