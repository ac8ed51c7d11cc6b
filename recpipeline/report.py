"""A self-contained HTML evaluation report per run: `artifact_root/reports/<ds>/<model_id>/index.html`.

The page holds the gate verdict, the metrics table (model vs baselines), the gate metric over past runs, the
day's score distribution and the long-tail curve of recommendations per item. Plots are PNGs embedded as
base64 data URIs and the CSS is inline, so the file can be mailed or archived on its own.

Everything is read from the database (eval.metrics, eval.gate_decisions, recs.results, features.items);
`ReportExtras` carries what only the evaluate task holds in memory (per-method recommendation counts).
matplotlib is imported inside the plotting functions so that importing this module stays cheap.
"""

from __future__ import annotations

import base64
import html
import io
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from recpipeline import db
from recpipeline.evaluation import KS, METHODS, GateDecision, latest_model_id, metric_label, split_label

METHOD_COLOURS = {"model": "#1f77b4", "popularity": "#ff7f0e", "trending": "#2ca02c", "cooccurrence": "#9467bd"}
PUBLISHED_COLOUR = "#0b2e6b"
SOURCE_COLOURS = {"model": "#1f77b4", "trending": "#2ca02c"}
METRIC_ORDER: tuple[tuple[str, int], ...] = (
    *((name, k) for name in ("ndcg", "recall", "precision", "map", "hit_rate") for k in KS),
    ("mrr", 0), ("coverage", 10), ("gini", 10), ("entropy", 10), ("novelty", 10), ("diversity", 10),
)
LOWER_IS_BETTER = {"gini"}
BEYOND_ACCURACY = {"coverage", "gini", "entropy", "novelty", "diversity"}
METRIC_LEGEND = {
    "ndcg": "ranking quality of the hits, discounted by position (1 = all new items on top)",
    "recall": "share of the user's new items found in the top k",
    "precision": "share of the top k that are new items of the user",
    "map": "mean average precision: precision at each hit, averaged",
    "hit_rate": "share of users with at least one new item in the top k",
    "mrr": "mean of 1 / rank of the first hit",
    "coverage": "share of the catalogue recommended to at least one user",
    "gini": "concentration of recommendations on few items (0 = even, 1 = one item); lower is better",
    "entropy": "spread of recommendations over items, in bits (higher = more even)",
    "novelty": "mean self-information of recommended items, in bits (higher = less popular items)",
    "diversity": "1 − mean cosine similarity of item vectors within a list",
}
FIGSIZE = (7.0, 3.5)
DPI = 110
HIST_BINS = 40


@dataclass
class ReportExtras:
    """Inputs only the evaluate task has in memory.

    rec_counts: method -> how many evaluated users' top-k lists contain each catalogue item (zeros allowed,
    any order), e.g. ``metrics.recommendation_counts(rankings[m][:, :10], catalogue)``; k: the list length.
    """

    rec_counts: dict[str, np.ndarray] = field(default_factory=dict)
    k: int | None = None


@dataclass
class TailCurve:
    """Recommendation counts per item for one method, and where they come from."""

    method: str
    lists: str  # e.g. "published top-20", "evaluation top-10"
    users: int
    counts: np.ndarray
    published: bool

    @property
    def short_label(self) -> str:
        return f"{self.method}, {self.lists}"


@dataclass
class Attempt:
    """The model's scoring attempt for the day in recs.results: rows and users per source."""

    publish_id: int
    published: bool
    rows: dict[str, int]
    users: dict[str, int]
    top_k: int


# ---------------------------------------------------------------------------------------------- paths


def report_path(artifact_root: Path, ds: date, model_id: str) -> Path:
    """Where the report of `model_id` evaluated on `ds` lives."""
    return Path(artifact_root) / "reports" / ds.isoformat() / model_id / "index.html"


def latest_report_path(url: str, ds: date, artifact_root: Path) -> Path | None:
    """The report of the most recently gated model for `ds`, or None if there is no such model or report."""
    model_id = latest_model_id(url, ds)
    if model_id is None:
        return None
    path = report_path(artifact_root, ds, model_id)
    return path if path.exists() else None


# ---------------------------------------------------------------------------------------------- data


def load_metrics(cur: Any, ds: date, model_id: str) -> tuple[dict[tuple[str, int], dict[str, float]], int]:
    """{(metric, k): {method: value}} for the run, and the number of users the model was evaluated on."""
    table: dict[tuple[str, int], dict[str, float]] = {}
    users = 0
    for method, metric, k, value, n in db.fetch_all(cur, "report_metrics", {"ds": ds, "model_id": model_id}):
        table.setdefault((metric, int(k)), {})[method] = float(value)
        if method == "model":
            users = int(n)
    return table, users


def load_decision(cur: Any, ds: date, model_id: str) -> GateDecision | None:
    """The gate decision of the run, if it was gated."""
    rows = db.fetch_all(cur, "report_decision", {"ds": ds, "model_id": model_id})
    if not rows:
        return None
    blessed, metric, candidate, best, baseline, last, reason = rows[0]
    return GateDecision(bool(blessed), metric, float(candidate), best, float(baseline),
                    None if last is None else float(last), reason)


def load_history(cur: Any, ds: date, model_id: str, gate_metric: str) -> list[tuple]:
    """(ds, model_id, blessed, model value, best baseline name, best baseline value) per evaluated day <= ds."""
    metric, k = split_label(gate_metric)
    return db.fetch_all(cur, "report_gate_history", {"ds": ds, "model_id": model_id, "metric": metric, "k": k})


def load_attempt(cur: Any, ds: date, model_id: str) -> Attempt | None:
    """The model's scoring attempt for the day, or None when recs.results has no rows for it yet."""
    rows = db.fetch_all(cur, "report_attempt", {"ds": ds, "model_id": model_id})
    if not rows:
        return None
    return Attempt(int(rows[0][0]), bool(rows[0][1]), {r[2]: int(r[3]) for r in rows},
                   {r[2]: int(r[4]) for r in rows}, max(int(r[5]) for r in rows))


def load_score_histogram(cur: Any, ds: date, publish_id: int, bins: int = HIST_BINS
                         ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Common bin edges and per-source counts of the attempt's scores (binned in the database)."""
    rows = db.fetch_all(cur, "report_score_histogram", {"ds": ds, "publish_id": publish_id, "bins": bins})
    if not rows:
        return np.zeros(0), {}
    lo, hi = float(rows[0][3]), float(rows[0][4])
    counts: dict[str, np.ndarray] = {}
    for source, bucket, n, *_ in rows:
        counts.setdefault(source, np.zeros(bins, dtype=np.int64))[int(bucket) - 1] += int(n)
    return np.linspace(lo, hi, bins + 1), counts


def load_item_counts(cur: Any, ds: date, publish_id: int) -> np.ndarray:
    """Model recommendations per recommended item in the attempt, descending."""
    return np.array([r[0] for r in db.fetch_all(cur, "report_item_counts", {"ds": ds, "publish_id": publish_id})],
                    dtype=np.int64)


def load_catalogue_size(cur: Any, ds: date) -> int:
    """Items in the day's feature catalogue (0 when features are missing)."""
    return int(db.fetch_all(cur, "report_catalogue_size", {"ds": ds})[0][0])


# ---------------------------------------------------------------------------------------------- numbers


def best_methods(values: dict[str, float], metric: str) -> set[str]:
    """The method(s) with the best value of a row (lowest for `LOWER_IS_BETTER` metrics)."""
    finite = {m: v for m, v in values.items() if v is not None and math.isfinite(v)}
    if not finite:
        return set()
    target = (min if metric in LOWER_IS_BETTER else max)(finite.values())
    return {m for m, v in finite.items() if round(v, 4) == round(target, 4)}


def lift_vs_best_baseline(values: dict[str, float], metric: str) -> tuple[float, bool] | None:
    """(relative change of the model vs the best baseline, whether the model is at least as good)."""
    baselines = [v for m, v in values.items() if m != "model" and math.isfinite(v)]
    model = values.get("model")
    if model is None or not baselines:
        return None
    lower = metric in LOWER_IS_BETTER
    best = min(baselines) if lower else max(baselines)
    if best == 0:
        return None
    change = model / best - 1.0
    return change, (change <= 0) if lower else (change >= 0)


def sorted_desc(counts: np.ndarray) -> np.ndarray:
    """Positive counts, most recommended first."""
    c = np.asarray(counts, dtype=np.int64)
    return np.sort(c[c > 0])[::-1]


def head_share(counts: np.ndarray, catalogue: int, fraction: float) -> float:
    """Share of all recommendations that go to the top `fraction` of catalogue items (most recommended)."""
    c = sorted_desc(counts)
    total = c.sum()
    if total == 0:
        return 0.0
    n = max(1, math.ceil(fraction * max(catalogue, len(c))))
    return float(c[:n].sum() / total)


def fmt(value: float | None) -> str:
    """A table number: 4 decimals, or a dash when missing."""
    return "–" if value is None or not math.isfinite(value) else f"{value:.4f}"


# ---------------------------------------------------------------------------------------------- plots


def _figure(figsize: tuple[float, float] = FIGSIZE) -> tuple[Any, Any]:
    """A pyplot-free Figure on the Agg canvas (thread-safe, no global backend switch) and its axes."""
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


def plot_trend(history: Sequence[tuple], gate_metric: str) -> str:
    """Line plot of the gate metric per day: the model (dot = blessed, cross = not blessed) vs the best baseline;
    the last day (the reported run) is ringed and labelled with its value."""
    import matplotlib.dates as mdates

    fig, ax = _figure()
    days = [r[0] for r in history]
    model = [r[3] for r in history]
    base = [r[5] for r in history]
    ax.plot(days, base, color="#7f7f7f", linestyle="--", marker="s", markersize=4, label="best baseline of the day")
    ax.plot(days, model, color=METHOD_COLOURS["model"], linewidth=2, label="model")
    blessed = [(d, v) for d, v, r in zip(days, model, history, strict=True) if r[2]]
    rejected = [(d, v) for d, v, r in zip(days, model, history, strict=True) if not r[2]]
    if blessed:
        ax.scatter(*zip(*blessed, strict=True), color=METHOD_COLOURS["model"], zorder=3, s=30, label="model blessed")
    if rejected:
        ax.scatter(*zip(*rejected, strict=True), color="#d62728", marker="X", zorder=3, s=60,
                   label="model not blessed")
    ax.scatter([days[-1]], [model[-1]], s=220, facecolors="none", edgecolors="#222222", linewidths=1.2, zorder=4,
               label="this run")
    ax.annotate(f"{model[-1]:.4f}", (days[-1], model[-1]), xytext=(-12, 12), textcoords="offset points",
                ha="right", fontsize=8, bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none", "alpha": 0.8})
    locator = mdates.AutoDateLocator(minticks=3, maxticks=10)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    ax.set_ylim(bottom=0, top=max(max(model), max(base)) * 1.2 or 1)
    ax.set_title(f"{gate_metric} per run: model vs best baseline")
    ax.set_xlabel("evaluation day (ds)")
    ax.set_ylabel(gate_metric)
    fig.legend(loc="outside lower center", fontsize=8, ncols=5, frameon=False)
    return _png_data_uri(fig)


def plot_score_histogram(edges: np.ndarray, counts: dict[str, np.ndarray]) -> str:
    """Score histogram per source on common bins, each source as a share of its own recommendations."""
    from matplotlib.ticker import PercentFormatter

    fig, ax = _figure()
    for source in sorted(counts, key=lambda s: (s != "model", s)):
        c = counts[source]
        share = c / max(int(c.sum()), 1)
        colour = SOURCE_COLOURS.get(source, "#7f7f7f")
        ax.stairs(share, edges, fill=True, alpha=0.4, color=colour,
                  label=f"{source} ({int(c.sum()):,} recommendations)")
        ax.stairs(share, edges, color=colour, linewidth=1)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_ylabel("share of the source's recommendations")
    ax.set_title("Scores of the day's recommendations, by source")
    meaning = {"model": "model: cosine similarity", "trending": "trending: 1 − rank/k"}
    ax.set_xlabel("score (" + "; ".join(meaning.get(s, s) for s in sorted(counts)) + ")")
    ax.legend(fontsize=8)
    return _png_data_uri(fig)


def plot_long_tail(curves: Sequence[TailCurve], catalogue: int) -> str:
    """Share of recommendations per item, items sorted by that share (log-log), with the top 1%/10% marked."""
    from matplotlib.ticker import FuncFormatter

    fig, ax = _figure()
    for curve in curves:
        c = sorted_desc(curve.counts)
        if len(c) == 0:
            continue
        colour = PUBLISHED_COLOUR if curve.published else METHOD_COLOURS.get(curve.method, "#7f7f7f")
        ax.plot(np.arange(1, len(c) + 1), 100.0 * c / c.sum(), color=colour, linewidth=2.2 if curve.published else 1.6,
                linestyle="--" if curve.published else "-", label=curve.short_label,
                drawstyle="steps-post", marker="o" if len(c) == 1 else None)
    ax.set_xscale("log")
    ax.set_yscale("log")
    percent = FuncFormatter(lambda v, _: f"{v:.10g}%")
    ax.yaxis.set_major_formatter(percent)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    if catalogue:
        for fraction in (0.01, 0.10):
            x = max(1, math.ceil(fraction * catalogue))
            ax.axvline(x, color="#555555", linestyle=":", linewidth=1)
            ax.annotate(f"top {fraction:.0%} of items", (x, 1), xycoords=("data", "axes fraction"), xytext=(3, -12),
                        textcoords="offset points", fontsize=8, color="#555555")
        ax.set_xlim(0.9, catalogue * 1.1)
    ax.set_title("Long tail: share of recommendations per item")
    ax.set_xlabel("item rank by recommendations received (log scale; 1 = most recommended)")
    ax.set_ylabel("share of all recommendations")
    ax.legend(fontsize=8, loc="lower left")
    return _png_data_uri(fig)


# ---------------------------------------------------------------------------------------------- html


CSS = """
body { font-family: -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; color: #222; margin: 0;
       background: #f6f7f9; line-height: 1.45; }
main { max-width: 1000px; margin: 0 auto; padding: 24px 28px 48px; background: #fff; }
h1 { font-size: 1.5em; margin: 0 0 4px; } h2 { font-size: 1.15em; margin: 32px 0 8px; border-bottom: 1px solid #ddd;
   padding-bottom: 4px; }
.sub { color: #555; margin: 0 0 16px; font-size: 0.95em; }
.verdict { padding: 12px 16px; border-radius: 6px; margin: 12px 0; font-size: 1.05em; }
.verdict.ok { background: #e6f4ea; border-left: 6px solid #1e8e3e; }
.verdict.bad { background: #fce8e6; border-left: 6px solid #d93025; }
.verdict .tag { font-weight: 700; margin-right: 8px; }
.verdict.ok .tag { color: #137333; } .verdict.bad .tag { color: #b3261e; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; margin: 8px 0; }
dl.facts dt { color: #555; } dl.facts dd { margin: 0; }
table { border-collapse: collapse; font-size: 0.92em; }
th, td { padding: 4px 12px; border-bottom: 1px solid #e5e5e5; }
th { background: #f0f2f5; text-align: right; } th:first-child, td:first-child { text-align: left; }
td { text-align: right; font-variant-numeric: tabular-nums; font-family: ui-monospace, Menlo, Consolas, monospace; }
td:first-child, td.text { font-family: inherit; } td.text, th.text { text-align: left; }
td.best { background: #fff3c4; font-weight: 700; }
tr.gate td { border-top: 2px solid #333; border-bottom: 2px solid #333; }
tr.gate td:first-child { font-weight: 700; }
tr.group td { border-top: 2px solid #ccc; }
tr.section td { background: #fafafa; color: #555; font-style: italic; text-align: left; font-family: inherit;
                padding-top: 10px; border-top: 2px solid #ccc; }
td.up { color: #137333; } td.down { color: #b3261e; }
.legend { font-size: 0.85em; color: #444; columns: 2; column-gap: 32px; margin-top: 10px; }
.legend div { break-inside: avoid; margin-bottom: 2px; } .legend b { font-family: ui-monospace, Menlo, monospace; }
.note { background: #f4f4f4; border-radius: 4px; padding: 10px 14px; color: #444; }
figure { margin: 8px 0; } figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { font-size: 0.88em; color: #444; margin-top: 4px; }
footer { margin-top: 40px; font-size: 0.8em; color: #777; }
"""


def _e(value: Any) -> str:
    """HTML-escaped text."""
    return html.escape(str(value), quote=True)


def header_html(ds: date, model_id: str, decision: GateDecision | None, users: int, attempt: Attempt | None) -> str:
    """Title, verdict banner and the run's key facts, including the protocol in one sentence."""
    if decision is None:
        verdict = '<div class="verdict bad"><span class="tag">NO GATE DECISION</span>the run was not gated</div>'
    else:
        cls, tag = ("ok", "BLESSED") if decision.blessed else ("bad", "NOT BLESSED")
        verdict = f'<div class="verdict {cls}"><span class="tag">{tag}</span>{_e(decision.reason)}</div>'
    protocol = (f"Chronological: the model was trained on interactions before {ds}; each user with earlier history "
                f"ranks the full catalogue (items already in their history excluded) and is judged on the new items "
                f"they interacted with on {ds}; the baselines see the same history and the same users.")
    facts = [("day (ds)", _e(ds)), ("model", f"<code>{_e(model_id)}</code>"), ("users evaluated", f"{users:,}"),
             ("protocol", _e(protocol))]
    if decision is not None:
        gate = f"{_e(decision.metric)}: model {decision.candidate:.4f} vs {_e(decision.best_baseline)} " \
               f"{decision.baseline:.4f}"
        if decision.last_blessed is not None:
            gate += f"; last blessed model {decision.last_blessed:.4f}"
        facts.insert(3, ("gate", gate))
    if attempt is not None:
        state = "published" if attempt.published else "not published"
        per_source = ", ".join(f"{attempt.users[s]:,} users by {_e(s)}" for s in sorted(attempt.users))
        facts.append(("recommendations", f"{sum(attempt.rows.values()):,} rows, top-{attempt.top_k} "
                                          f"({per_source}); scoring attempt {attempt.publish_id}, {state}"))
    rows = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in facts)
    return (f"<h1>Evaluation report · {_e(ds)}</h1><p class='sub'>model <code>{_e(model_id)}</code> vs "
            f"popularity, trending and co-occurrence baselines</p>{verdict}<dl class='facts'>{rows}</dl>")


def metrics_table_html(table: dict[tuple[str, int], dict[str, float]], gate_metric: str | None) -> str:
    """Metrics as rows, methods as columns; best per row highlighted, gate row emphasised, with a legend."""
    keys = [key for key in METRIC_ORDER if key in table] + sorted(set(table) - set(METRIC_ORDER))
    methods = [m for m in METHODS if any(m in table[key] for key in keys)]
    methods += sorted({m for key in keys for m in table[key]} - set(methods))
    head = "".join(f"<th>{_e(m)}</th>" for m in methods)
    out = [f"<table><thead><tr><th>metric</th>{head}<th>model vs best baseline</th></tr></thead><tbody>"]
    previous = None
    width = len(methods) + 2
    for metric, k in keys:
        section = _section_title(metric, previous)
        if section:
            out.append(f"<tr class='section'><td colspan={width}>{section}</td></tr>")
        values = table[(metric, k)]
        label = metric_label(metric, k)
        best = best_methods(values, metric)
        classes = [c for c, on in (("gate", label == gate_metric),
                                   ("group", previous not in (None, metric) and not section)) if on]
        previous = metric
        cells = "".join(f"<td{' class=best' if m in best else ''}>{fmt(values.get(m))}</td>" for m in methods)
        lift = lift_vs_best_baseline(values, metric)
        lift_cell = "<td>–</td>" if lift is None else \
            f"<td class={'up' if lift[1] else 'down'}>{lift[0]:+.1%}</td>"
        mark = " (gate)" if label == gate_metric else ""
        out.append(f"<tr class='{' '.join(classes)}'><td>{_e(label)}{mark}</td>{cells}{lift_cell}</tr>")
    out.append("</tbody></table>")
    names = [m for m in dict.fromkeys(metric for metric, _ in keys) if m in METRIC_LEGEND]
    legend = "".join(f"<div><b>{_e(n)}</b>: {_e(METRIC_LEGEND[n])}</div>" for n in names)
    out.append("<p class='sub'>@k: computed on the top k of each list. Highlighted: best value in the row "
               "(lowest for gini). Last column: model relative to the best baseline of the row, green when the "
               f"model is at least as good.</p><div class='legend'>{legend}</div>")
    return "".join(out)


def _section_title(metric: str, previous: str | None) -> str | None:
    """A sub-heading row of the metrics table where accuracy or beyond-accuracy metrics start."""
    beyond = metric in BEYOND_ACCURACY
    if previous is not None and (previous in BEYOND_ACCURACY) == beyond:
        return None
    return ("Beyond accuracy: the top-10 lists of the evaluated users, over the whole catalogue" if beyond
            else "Accuracy: finding each user's new items of the day")


def figure_html(uri: str, alt: str, caption: str) -> str:
    """An embedded PNG with a caption."""
    return f"<figure><img src='{uri}' alt='{_e(alt)}'><figcaption>{caption}</figcaption></figure>"


def note_html(text: str) -> str:
    """A grey note box shown instead of a chart."""
    return f"<p class='note'>{text}</p>"


def trend_html(history: Sequence[tuple], gate_metric: str) -> str:
    """The gate metric over past runs, or a note when there is only one run."""
    if len(history) < 2:
        only = f" ({_e(history[0][0])})" if history else ""
        return note_html(f"Only one run so far{only}: the trend of {_e(gate_metric)} appears from the second "
                         "evaluated day on.")
    last = history[-1]
    caption = (f"{len(history)} runs from {_e(history[0][0])} to {_e(last[0])}. Best baseline = the highest "
               f"{_e(gate_metric)} among the baselines on each day (on {_e(last[0])}: {_e(last[4])}).")
    return figure_html(plot_trend(history, gate_metric), f"{gate_metric} per run", caption)


def scores_html(attempt: Attempt | None, edges: np.ndarray, counts: dict[str, np.ndarray], ds: date) -> str:
    """The day's score histogram, or a note when nothing was scored yet."""
    if attempt is None or not counts:
        return note_html(f"No recommendations in recs.results for {_e(ds)} and this model yet: the score "
                         "distribution appears once scoring has run.")
    caption = ("Every recommendation slot of the day's scoring attempt; each source is normalised to 100% so the "
               "shapes compare even when one source is much larger (absolute counts in the legend). Model scores "
               "are cosine similarities between user and item vectors; trending (fallback for users without "
               "usable history) uses a rank-based placeholder score.")
    return figure_html(plot_score_histogram(edges, counts), "score histogram", caption)


def tail_curves(model_counts: np.ndarray | None, attempt: Attempt | None, extras: ReportExtras | None,
                eval_users: int) -> list[TailCurve]:
    """The curves to compare: every method of `extras` (evaluation lists), then the published model recs."""
    curves = []
    k = f"top-{extras.k}" if extras and extras.k else "top-k"
    for method in sorted(extras.rec_counts if extras else {}, key=lambda m: (m not in METHODS, METHODS.index(m)
                                                                               if m in METHODS else 0, m)):
        curves.append(TailCurve(method, f"evaluation {k}", eval_users, np.asarray(extras.rec_counts[method]), False))
    if model_counts is not None and len(model_counts) and attempt is not None:
        curves.append(TailCurve("model", f"published top-{attempt.top_k}", attempt.users.get("model", 0),
                                model_counts, True))
    return curves


def long_tail_html(curves: Sequence[TailCurve], catalogue: int) -> str:
    """The long-tail curve and the head-share table, or a note when there is nothing to draw."""
    if not curves:
        return note_html("No model recommendations for this day yet and no baseline counts given: "
                         "the long-tail curve appears once scoring has run.")
    rows = []
    for curve in curves:
        c = sorted_desc(curve.counts)
        distinct = f"{len(c):,}" + (f" ({len(c) / catalogue:.1%})" if catalogue else "")
        rows.append(f"<tr><td>{_e(curve.method)}</td><td class=text>{_e(curve.lists)} of {curve.users:,} users</td>"
                    f"<td>{int(c.sum()):,}</td><td>{distinct}</td><td>{head_share(c, catalogue, 0.01):.1%}</td>"
                    f"<td>{head_share(c, catalogue, 0.10):.1%}</td></tr>")
    table = ("<table><thead><tr><th>method</th><th class=text>lists</th><th>recommendations</th>"
             "<th>distinct items (% of catalogue)</th><th>share to top 1% items</th>"
             "<th>share to top 10% items</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>")
    sources = []
    if any(not c.published for c in curves):
        sources.append("Evaluation lists: the top-k of the evaluated users, as scored for the metrics above")
    if any(c.published for c in curves):
        sources.append("Published: the model's rows in recs.results for the day (trending fallback rows excluded)")
    size = f" ({catalogue:,} items)" if catalogue else ""
    caption = ("Items sorted by how many recommendations they receive; y = that item's share of all recommendations "
               "of the method. A curve that is short and falls steeply concentrates on few items; a long, flat one "
               f"spreads over the catalogue. Top 1% / 10% of items = of the catalogue{size}. "
               + ". ".join(sources) + ".")
    return figure_html(plot_long_tail(curves, catalogue), "long-tail curve", _e(caption)) + table


def page_html(title: str, body: str) -> str:
    """The full page with inline CSS and no external resources."""
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{_e(title)}</title>"
            f"<meta name='viewport' content='width=device-width, initial-scale=1'><style>{CSS}</style></head>"
            f"<body><main>{body}</main></body></html>")


# ---------------------------------------------------------------------------------------------- entry point


def write_report(url: str, ds: date, model_id: str, artifact_root: Path, extras: ReportExtras | None = None) -> Path:
    """Render the evaluation report of `model_id` on `ds` to `report_path(...)` and return that path."""
    with db.connect(url) as conn, conn.cursor() as cur:
        table, users = load_metrics(cur, ds, model_id)
        if not table:
            raise LookupError(f"no evaluation of model {model_id} for {ds} in eval.metrics: run evaluate first")
        decision = load_decision(cur, ds, model_id)
        gate_metric = decision.metric if decision else "ndcg@10"
        history = load_history(cur, ds, model_id, gate_metric)
        attempt = load_attempt(cur, ds, model_id)
        edges, score_counts = load_score_histogram(cur, ds, attempt.publish_id) if attempt else (np.zeros(0), {})
        item_counts = load_item_counts(cur, ds, attempt.publish_id) if attempt else None
        catalogue = load_catalogue_size(cur, ds)
    if not catalogue and extras:  # no feature catalogue for the day: the extras arrays span the catalogue
        catalogue = max((len(c) for c in extras.rec_counts.values()), default=0)
    body = "".join([
        header_html(ds, model_id, decision, users, attempt),
        "<h2>Metrics: model vs baselines</h2>", metrics_table_html(table, gate_metric),
        f"<h2>Trend of the gate metric ({_e(gate_metric)})</h2>", trend_html(history, gate_metric),
        "<h2>Score distribution</h2>", scores_html(attempt, edges, score_counts, ds),
        "<h2>Coverage and popularity concentration</h2>",
        long_tail_html(tail_curves(item_counts, attempt, extras, users), catalogue),
        f"<footer>Generated from eval.metrics, eval.gate_decisions and recs.results for {_e(ds)} "
        f"(model {_e(model_id)}).</footer>",
    ])
    path = report_path(artifact_root, ds, model_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".html.tmp{os.getpid()}")
    tmp.write_text(page_html(f"Evaluation {ds} · {model_id}", body), encoding="utf-8")
    tmp.replace(path)
    return path
