"""Chart data for the pages: sparkline geometry (drawn as inline SVG by the templates) and training curves
(matplotlib PNG data URIs, like the evaluation report's plots; matplotlib is imported only when drawing)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from recpipeline.evaluation.report import plots

SPARK_WIDTH, SPARK_HEIGHT, SPARK_PAD = 160, 36, 4
CURVE_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd")


def sparkline(values: Sequence[float | None], statuses: Sequence[str] | None = None) -> dict[str, Any]:
    """Geometry of a sparkline: a polyline over the finite values and one dot per value (coloured by status)."""
    finite = [v for v in values if v is not None and math.isfinite(v)]
    n = len(values)
    lo, hi = (min(finite), max(finite)) if finite else (0.0, 1.0)
    span = (hi - lo) or 1.0
    step = (SPARK_WIDTH - 2 * SPARK_PAD) / max(n - 1, 1)
    dots = []
    for i, v in enumerate(values):
        if v is None or not math.isfinite(v):
            continue
        x = SPARK_PAD + i * step if n > 1 else SPARK_WIDTH / 2
        y = SPARK_HEIGHT - SPARK_PAD - (v - lo) / span * (SPARK_HEIGHT - 2 * SPARK_PAD)
        dots.append({"x": round(x, 1), "y": round(y, 1), "value": v, "status": statuses[i] if statuses else "pass"})
    return {
        "width": SPARK_WIDTH,
        "height": SPARK_HEIGHT,
        "points": " ".join(f"{d['x']},{d['y']}" for d in dots),
        "dots": dots,
        "low": lo if finite else None,
        "high": hi if finite else None,
    }


def training_curves(histories: dict[str, list[dict[str, Any]]]) -> str | None:
    """Per-epoch training loss (left) and validation NDCG@10 / HitRate@10 (right) of one or more models, as a
    PNG data URI; None when no model has a recorded history."""
    drawn = {label: h for label, h in histories.items() if h}
    if not drawn:
        return None
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    fig = Figure(figsize=(9.0, 3.4), dpi=plots.DPI, layout="constrained")
    FigureCanvasAgg(fig)
    loss_ax, val_ax = fig.subplots(1, 2)
    for ax in (loss_ax, val_ax):
        ax.grid(True, alpha=0.3)
        ax.set_axisbelow(True)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    for i, (label, history) in enumerate(drawn.items()):
        colour = CURVE_COLOURS[i % len(CURVE_COLOURS)]
        epochs = [h.get("epoch", n + 1) for n, h in enumerate(history)]
        loss_ax.plot(epochs, [h.get("loss") for h in history], color=colour, marker="o", markersize=3, label=label)
        ndcg = [h.get("val_ndcg@10") for h in history]
        hit = [h.get("val_hit_rate@10") for h in history]
        if any(v is not None for v in ndcg):
            val_ax.plot(epochs, ndcg, color=colour, marker="o", markersize=3, label=f"{label} NDCG@10")
        if any(v is not None for v in hit):
            val_ax.plot(epochs, hit, color=colour, linestyle="--", marker="s", markersize=3, label=f"{label} HR@10")
    loss_ax.set_title("training loss per epoch")
    loss_ax.set_ylabel("loss (softmax cross-entropy)")
    val_ax.set_title("validation per epoch (held-out last item)")
    val_ax.set_ylabel("metric")
    val_ax.set_ylim(bottom=0)
    loss_ax.legend(fontsize=7)
    if val_ax.lines:
        val_ax.legend(fontsize=7)
    return plots._png_data_uri(fig)
