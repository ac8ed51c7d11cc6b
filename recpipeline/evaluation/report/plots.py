"""The report's figures as base64 PNG data URIs, so the page embeds them and stays one self-contained file.

matplotlib is imported inside the functions: importing the report package must not import it. Figures are
pyplot-free (a `Figure` on the Agg canvas), so rendering is thread-safe and switches no global backend.
"""

from __future__ import annotations

import base64
import io
import math
import zlib
from collections.abc import Sequence
from typing import Any

import numpy as np

from recpipeline.evaluation.registry import MODEL

METHOD_COLOURS = {MODEL: "#1f77b4", "popularity": "#ff7f0e", "trending": "#2ca02c", "cooccurrence": "#9467bd"}
FALLBACK_COLOURS = ("#8c564b", "#e377c2", "#bcbd22", "#17becf", "#7f7f7f", "#aec7e8", "#ffbb78", "#98df8a")
PUBLISHED_COLOUR = "#0b2e6b"
SOURCE_COLOURS = {MODEL: "#1f77b4", "trending": "#2ca02c"}
REJECTED_COLOUR = "#d62728"
FIGSIZE = (7.0, 3.5)
DPI = 110


def method_colour(method: str) -> str:
    """The colour of a method: fixed for the known ones, a stable pick from a fallback palette otherwise."""
    known = METHOD_COLOURS.get(method)
    if known is not None:
        return known
    return FALLBACK_COLOURS[zlib.crc32(method.encode("utf-8")) % len(FALLBACK_COLOURS)]


def _figure(figsize: tuple[float, float] = FIGSIZE) -> tuple[Any, Any]:
    """A pyplot-free Figure on the Agg canvas and its axes."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.grid(True, alpha=0.3)
    ax.set_axisbelow(True)
    return fig, ax


def _png_data_uri(fig: Any) -> str:
    """The figure as a base64 PNG data URI."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def trend(history: Sequence[tuple], gate_metric: str) -> str:
    """Line plot of the gate metric per day: the model (dot = blessed, cross = not blessed) vs the best
    baseline; the last day (the reported run) is ringed and labelled with its value.

    history: (ds, model_id, blessed, model value, best baseline name, best baseline value) per day, at least one.
    """
    import matplotlib.dates as mdates

    fig, ax = _figure()
    days = [r[0] for r in history]
    model = [r[3] for r in history]
    base = [r[5] for r in history]
    colour = method_colour(MODEL)
    ax.plot(days, base, color="#7f7f7f", linestyle="--", marker="s", markersize=4, label="best baseline of the day")
    ax.plot(days, model, color=colour, linewidth=2, label=MODEL)
    blessed = [(d, v) for d, v, r in zip(days, model, history, strict=True) if r[2]]
    rejected = [(d, v) for d, v, r in zip(days, model, history, strict=True) if not r[2]]
    if blessed:
        ax.scatter(*zip(*blessed, strict=True), color=colour, zorder=3, s=30, label=f"{MODEL} blessed")
    if rejected:
        ax.scatter(
            *zip(*rejected, strict=True),
            color=REJECTED_COLOUR,
            marker="X",
            zorder=3,
            s=60,
            label=f"{MODEL} not blessed",
        )
    ax.scatter(
        [days[-1]],
        [model[-1]],
        s=220,
        facecolors="none",
        edgecolors="#222222",
        linewidths=1.2,
        zorder=4,
        label="this run",
    )
    ax.annotate(
        f"{model[-1]:.4f}",
        (days[-1], model[-1]),
        xytext=(-12, 12),
        textcoords="offset points",
        ha="right",
        fontsize=8,
        bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none", "alpha": 0.8},
    )
    locator = mdates.AutoDateLocator(minticks=3, maxticks=10)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    ax.set_ylim(bottom=0, top=max(max(model), max(base)) * 1.2 or 1)
    ax.set_title(f"{gate_metric} per run: {MODEL} vs best baseline")
    ax.set_xlabel("evaluation day (ds)")
    ax.set_ylabel(gate_metric)
    fig.legend(loc="outside lower center", fontsize=8, ncols=5, frameon=False)
    return _png_data_uri(fig)


def score_histogram(edges: np.ndarray, counts: dict[str, np.ndarray]) -> str:
    """Score histogram per source on common bins, each source as a share of its own recommendations."""
    from matplotlib.ticker import PercentFormatter

    fig, ax = _figure()
    for source in sorted(counts, key=lambda s: (s != MODEL, s)):
        c = counts[source]
        share = c / max(int(c.sum()), 1)
        colour = SOURCE_COLOURS.get(source, "#7f7f7f")
        ax.stairs(
            share, edges, fill=True, alpha=0.4, color=colour, label=f"{source} ({int(c.sum()):,} recommendations)"
        )
        ax.stairs(share, edges, color=colour, linewidth=1)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_ylabel("share of the source's recommendations")
    ax.set_title("Scores of the day's recommendations, by source")
    meaning = {MODEL: f"{MODEL}: cosine similarity", "trending": "trending: 1 − rank/k"}
    ax.set_xlabel("score (" + "; ".join(meaning.get(s, s) for s in sorted(counts)) + ")")
    ax.legend(fontsize=8)
    return _png_data_uri(fig)


def long_tail(curves: Sequence[tuple[str, str, np.ndarray, bool]], catalogue: int) -> str:
    """Share of recommendations per item, items sorted by that share (log-log), with the top 1%/10% marked.

    curves: (method, legend label, positive counts sorted descending, published) per curve.
    """
    from matplotlib.ticker import FuncFormatter

    fig, ax = _figure()
    for method, label, c, published in curves:
        if len(c) == 0:
            continue
        ax.plot(
            np.arange(1, len(c) + 1),
            100.0 * c / c.sum(),
            color=PUBLISHED_COLOUR if published else method_colour(method),
            linewidth=2.2 if published else 1.6,
            linestyle="--" if published else "-",
            label=label,
            drawstyle="steps-post",
            marker="o" if len(c) == 1 else None,
        )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.10g}%"))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    if catalogue:
        for fraction in (0.01, 0.10):
            x = max(1, math.ceil(fraction * catalogue))
            ax.axvline(x, color="#555555", linestyle=":", linewidth=1)
            ax.annotate(
                f"top {fraction:.0%} of items",
                (x, 1),
                xycoords=("data", "axes fraction"),
                xytext=(3, -12),
                textcoords="offset points",
                fontsize=8,
                color="#555555",
            )
        ax.set_xlim(0.9, catalogue * 1.1)
    ax.set_title("Long tail: share of recommendations per item")
    ax.set_xlabel("item rank by recommendations received (log scale; 1 = most recommended)")
    ax.set_ylabel("share of all recommendations")
    ax.legend(fontsize=8, loc="lower left")
    return _png_data_uri(fig)
