"""InitReport: what a model-level step did, one row per touched layer."""

from __future__ import annotations

import dataclasses
import math


@dataclasses.dataclass
class ReportRow:
    """One touched layer (or variable) of a model-level step.

    Attributes:
        layer: the layer's name (``path`` of the variable when per-variable).
        step: the step that touched it (``"lsuv"``, ``"fixup"``, ...).
        action: what was done, in a few words.
        before: the statistic before (a variance or a std; see `stat`).
        after: the same statistic after.
        scale: the factor applied to the kernel, when there is one.
        iterations: how many iterations the step took on this layer.
        converged: False where an iterative step stopped at its cap.
        stat: the name of the statistic in `before`/`after`.
        note: anything else worth saying (a role, a fan, a reason).
        activation: the nonlinearity found after the layer (auto_init).
        measured: what validation measured after the step (auto_init: the
            layer's output variance on the batch).
    """

    layer: str
    step: str
    action: str
    before: float | None = None
    after: float | None = None
    scale: float | None = None
    iterations: int | None = None
    converged: bool = True
    stat: str = ""
    note: str = ""
    activation: str = ""
    measured: float | None = None


def _fmt(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "NO"
    if isinstance(value, float):
        if value == 0.0 or not math.isfinite(value):
            return f"{value:g}"
        return f"{value:.4g}"
    return str(value)


def format_table(header, rows) -> str:
    """A plain-text table with left-aligned columns (shared by every report)."""
    cells = [[_fmt(c) for c in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(header)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in cells]
    return "\n".join(lines)


@dataclasses.dataclass
class InitReport:
    """The result of a model-level step: rows, skipped layers, and notes.

    Prints as a table. ``to_dict()`` gives plain Python data;
    ``not_converged`` lists the layers an iterative step could not bring
    within tolerance.

    Attributes:
        step: the step's name.
        rows: one :class:`ReportRow` per touched layer or variable.
        skipped: ``(layer name, reason)`` for each layer left alone.
        notes: free-form lines (a recommended residual alpha, a warning).
        validation: what the step measured to check itself (auto_init with
            data: ``{"before": SignalReport, "after": SignalReport}``).
    """

    step: str
    rows: list[ReportRow] = dataclasses.field(default_factory=list)
    skipped: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    notes: list[str] = dataclasses.field(default_factory=list)
    validation: dict = dataclasses.field(default_factory=dict)

    def add(self, layer, action, **kwargs) -> ReportRow:
        row = ReportRow(layer=layer, step=self.step, action=action, **kwargs)
        self.rows.append(row)
        return row

    def skip(self, layer, reason):
        self.skipped.append((layer, reason))

    @property
    def not_converged(self) -> list[str]:
        return [r.layer for r in self.rows if not r.converged]

    def to_dict(self) -> dict:
        return {
            "step": self.step,
            "rows": [dataclasses.asdict(r) for r in self.rows],
            "skipped": [list(s) for s in self.skipped],
            "notes": list(self.notes),
            "validation": {k: {"findings": list(v.findings),
                               "gradient_ratio": v.gradient_ratio,
                               "variances": {s.name: s.variance for s in v.layers}}
                           for k, v in self.validation.items()},
        }

    def to_rows(self) -> list[dict]:
        return [dataclasses.asdict(r) for r in self.rows]

    def __len__(self):
        return len(self.rows)

    def __str__(self):
        header = ("layer", "action", "activation", "stat", "before", "after", "scale", "iters",
                  "converged", "measured", "note")
        body = [
            (r.layer, r.action, r.activation, r.stat, r.before, r.after, r.scale, r.iterations,
             r.converged, r.measured, r.note)
            for r in self.rows
        ]
        iterative = any(r.iterations is not None for r in self.rows)
        keep = [
            i for i, h in enumerate(header)
            if any(row[i] not in (None, "") for row in body)
            and (h != "converged" or iterative)
        ]
        header = tuple(header[i] for i in keep)
        body = [tuple(row[i] for i in keep) for row in body]
        parts = [f"InitReport({self.step}): {len(self.rows)} touched, "
                 f"{len(self.skipped)} skipped"]
        if body:
            parts.append(format_table(header, body))
        if self.skipped:
            parts.append("skipped: " + "; ".join(f"{n} ({why})" for n, why in self.skipped))
        if self.not_converged:
            parts.append("not converged: " + ", ".join(self.not_converged))
        parts += self.notes
        return "\n".join(parts)

    __repr__ = __str__
