"""Signal-propagation plots (matplotlib, imported lazily: the `plot` extra)."""

from __future__ import annotations

import math


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as err:
        raise ImportError(
            "Plotting needs matplotlib: pip install 'keras_inits[plot]'"
        ) from err
    return plt


def plot_reports(reports, labels, path):
    """Overlay signal reports: variance per layer (log scale) and, when any
    report has them, kernel gradient norms per layer. Writes a PNG to `path`.

    Args:
        reports: :class:`SignalReport` objects (e.g. default vs kaiming vs LSUV).
        labels: one legend label per report.
        path: where to write the PNG.

    Returns:
        `path`.
    """
    if len(labels) != len(reports):
        raise ValueError(
            f"Arguments `labels` and `reports` must have the same length. Received: "
            f"{len(labels)} labels for {len(reports)} reports"
        )
    plt = _pyplot()
    with_grads = any(s.grad_norm is not None for r in reports for s in r.layers)
    fig, axes = plt.subplots(1, 2 if with_grads else 1, figsize=(12 if with_grads else 7, 4), squeeze=False)
    ax = axes[0][0]
    for report, label in zip(reports, labels):
        kern = [(i, s) for i, s in enumerate(report.layers) if s.has_kernel]
        ax.plot([i for i, _ in kern], [max(s.variance, 1e-30) for _, s in kern], marker=".", label=label)
    ax.set_yscale("log")
    ax.set_xlabel("layer index")
    ax.set_ylabel("output variance (kernel layers)")
    ax.set_title("signal propagation at initialization")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    if with_grads:
        ax = axes[0][1]
        for report, label in zip(reports, labels):
            pts = [(i, s.grad_norm) for i, s in enumerate(report.layers)
                   if s.grad_norm is not None and math.isfinite(s.grad_norm)]
            ax.plot([i for i, _ in pts], [max(g, 1e-30) for _, g in pts], marker=".", label=label)
        ax.set_yscale("log")
        ax.set_xlabel("layer index")
        ax.set_ylabel("||dL/dW|| per kernel")
        ax.set_title("gradient norms")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
