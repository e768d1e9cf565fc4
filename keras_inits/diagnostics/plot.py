"""Signal-propagation plots (matplotlib, imported lazily: the `plot` extra).

Collection and plotting are split as in mup's coordinate check: a
:class:`~keras_inits.diagnostics.signal.SignalReport` holds the numbers,
this module only draws them.
"""

from __future__ import annotations

import math


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg")  # files only: no display needed, none opened
        import matplotlib.pyplot as plt
    except ImportError as err:
        raise ImportError(
            "Plotting needs matplotlib: pip install 'keras_inits[plot]'"
        ) from err
    return plt


def _series(report, statistic):
    """``(depths, values)`` of one statistic over the kernel layers of a
    report, depth counted in kernel layers from 1; values that a log axis
    cannot show (0, negative, NaN, inf, missing) are left out."""
    kernel_layers = [s for s in report.layers if s.has_kernel]
    points = [
        (depth, getattr(s, statistic))
        for depth, s in enumerate(kernel_layers, start=1)
        if getattr(s, statistic) is not None
        and math.isfinite(getattr(s, statistic))
        and getattr(s, statistic) > 0
    ]
    return [d for d, _ in points], [v for _, v in points]


_PANELS = (
    ("variance", "output variance", "signal propagation at initialization"),
    ("channel_mean_sq", "avg squared channel mean", "mean shift (Brock et al. 2021)"),
    ("grad_norm", "||dL/dW|| (kernel)", "gradient norms"),
)


def plot_reports(reports, labels, path):
    """Overlay signal reports in one PNG, one line per report.

    Panels, against depth in kernel layers, on log scales: output variance,
    average squared channel mean, and kernel gradient norms when any report
    has them.

    Args:
        reports: :class:`SignalReport` objects (e.g. default vs kaiming vs LSUV).
        labels: one legend label per report (None: the model names).
        path: where to write the PNG.

    Returns:
        `path`.

    Raises:
        ValueError: no report, or not one label per report.
        ImportError: matplotlib is missing (``pip install 'keras_inits[plot]'``).
    """
    reports = list(reports)
    if not reports:
        raise ValueError("Argument `reports` must hold at least one SignalReport. Received: []")
    labels = [r.model_name for r in reports] if labels is None else list(labels)
    if len(labels) != len(reports):
        raise ValueError(
            f"Arguments `labels` and `reports` must have the same length. Received: "
            f"{len(labels)} labels for {len(reports)} reports"
        )
    plt = _pyplot()
    with_grads = any(s.grad_norm is not None for r in reports for s in r.layers)
    panels = _PANELS if with_grads else _PANELS[:2]
    fig, axes = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 4), squeeze=False)
    for ax, (statistic, ylabel, title) in zip(axes[0], panels):
        drawn = False
        for report, label in zip(reports, labels):
            depths, values = _series(report, statistic)
            ax.plot(depths, values, marker=".", label=label)
            drawn = drawn or bool(values)
        if drawn:
            ax.set_yscale("log")
        else:  # a log axis without a positive value warns; say why it is empty
            ax.text(0.5, 0.5, "no positive values", ha="center", transform=ax.transAxes)
        ax.set_xlabel("depth (kernel layers)")
        ax.set_ylabel(ylabel)
        ax.set_title(title)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
