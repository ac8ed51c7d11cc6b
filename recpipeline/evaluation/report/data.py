"""The report's data layer: what is read from the database, the numbers derived from it, and the one plain
context (`page_context`) the templates render.

Everything is read from eval.metrics, eval.gate_decisions, recs.results and features.items through the named
queries `sql/queries/report_*.sql`; `ReportExtras` carries what only the evaluate task holds in memory
(per-method recommendation counts). The metric vocabulary (row order, direction, sections, legend) and the
methods come from `recpipeline.evaluation.registry`; methods or metrics found in eval.metrics but not
registered (e.g. a baseline registered by a test) are shown after the registered ones.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from recpipeline import db
from recpipeline.config import Settings
from recpipeline.evaluation.gate import GateDecision
from recpipeline.evaluation.registry import BEYOND_K, METRICS, MODEL, methods, metric_label, split_label
from recpipeline.evaluation.report import plots
from recpipeline.evaluation.store import latest_model_id
from recpipeline.feedback.online_view import online_view

HIST_BINS = 40
DEFAULT_GATE_METRIC = metric_label(Settings.gate_metric, Settings.eval_k)  # when the run was not gated


@dataclass
class ReportExtras:
    """Inputs only the evaluate task has in memory.

    rec_counts: method -> how many evaluated users' top-k lists contain each catalogue item (zeros allowed,
    any order), e.g. ``metrics.recommendation_counts(rankings[m][:, :10], catalogue)``; k: the list length.
    """

    rec_counts: dict[str, np.ndarray] = field(default_factory=dict)
    k: int | None = None

    def save(self, path: Path) -> None:
        """Keep them beside the report, so the report can be rendered again after publish."""
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(path, k=np.int64(self.k or 0), **{f"counts_{m}": c for m, c in self.rec_counts.items()})

    @classmethod
    def load(cls, path: Path) -> ReportExtras | None:
        """What `save` wrote, or None when there is no such file."""
        if not path.exists():
            return None
        with np.load(path) as saved:
            counts = {key.removeprefix("counts_"): saved[key] for key in saved.files if key.startswith("counts_")}
            return cls(counts, int(saved["k"]) or None)


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


@dataclass
class ReportData:
    """Everything the report of one run is made of, as loaded (see `load_report`)."""

    ds: date
    model_id: str
    table: dict[tuple[str, int], dict[str, float]]  # (metric, k) -> method -> value
    users: int  # users the model was evaluated on
    decision: GateDecision | None
    gate_metric: str  # label, e.g. "ndcg@10"
    history: list[tuple]  # see `load_history`
    attempt: Attempt | None
    score_edges: np.ndarray
    score_counts: dict[str, np.ndarray]
    item_counts: np.ndarray | None  # published model recommendations per item, descending
    catalogue: int
    extras: ReportExtras | None = None
    online: dict[str, Any] | None = None  # what shoppers did with the lists shown on the day (feedback.online)


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


# ---------------------------------------------------------------------------------------------- loading


def load_metrics(cur: Any, ds: date, model_id: str) -> tuple[dict[tuple[str, int], dict[str, float]], int]:
    """{(metric, k): {method: value}} for the run, and the number of users the model was evaluated on."""
    table: dict[tuple[str, int], dict[str, float]] = {}
    users = 0
    for method, metric, k, value, n in db.fetch_all(cur, "report_metrics", {"ds": ds, "model_id": model_id}):
        table.setdefault((metric, int(k)), {})[method] = float(value)
        if method == MODEL:
            users = int(n)
    return table, users


def load_decision(cur: Any, ds: date, model_id: str) -> GateDecision | None:
    """The gate decision of the run, if it was gated."""
    rows = db.fetch_all(cur, "report_decision", {"ds": ds, "model_id": model_id})
    if not rows:
        return None
    blessed, metric, candidate, best, baseline, last, reason = rows[0]
    return GateDecision(
        bool(blessed), metric, float(candidate), best, float(baseline), None if last is None else float(last), reason
    )


def load_history(cur: Any, ds: date, model_id: str, gate_metric: str) -> list[tuple]:
    """(ds, model_id, blessed, model value, best baseline name, best baseline value) per evaluated day <= ds."""
    metric, k = split_label(gate_metric)
    return db.fetch_all(cur, "report_gate_history", {"ds": ds, "model_id": model_id, "metric": metric, "k": k})


def load_attempt(cur: Any, ds: date, model_id: str) -> Attempt | None:
    """The model's scoring attempt for the day, or None when recs.results has no rows for it yet."""
    rows = db.fetch_all(cur, "report_attempt", {"ds": ds, "model_id": model_id})
    if not rows:
        return None
    return Attempt(
        int(rows[0][0]),
        bool(rows[0][1]),
        {r[2]: int(r[3]) for r in rows},
        {r[2]: int(r[4]) for r in rows},
        max(int(r[5]) for r in rows),
    )


def load_score_histogram(
    cur: Any, ds: date, publish_id: int, bins: int = HIST_BINS
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
    rows = db.fetch_all(cur, "report_item_counts", {"ds": ds, "publish_id": publish_id})
    return np.array([r[0] for r in rows], dtype=np.int64)


def load_catalogue_size(cur: Any, ds: date) -> int:
    """Items in the day's feature catalogue (0 when features are missing)."""
    return int(db.fetch_all(cur, "report_catalogue_size", {"ds": ds})[0][0])


def load_report(url: str, ds: date, model_id: str, extras: ReportExtras | None = None) -> ReportData:
    """Read everything the report of `model_id` on `ds` shows; LookupError when the run was not evaluated."""
    with db.connect(url) as conn, conn.cursor() as cur:
        table, users = load_metrics(cur, ds, model_id)
        if not table:
            raise LookupError(f"no evaluation of model {model_id} for {ds} in eval.metrics: run evaluate first")
        decision = load_decision(cur, ds, model_id)
        gate_metric = decision.metric if decision else DEFAULT_GATE_METRIC
        history = load_history(cur, ds, model_id, gate_metric)
        attempt = load_attempt(cur, ds, model_id)
        edges, score_counts = load_score_histogram(cur, ds, attempt.publish_id) if attempt else (np.zeros(0), {})
        item_counts = load_item_counts(cur, ds, attempt.publish_id) if attempt else None
        catalogue = load_catalogue_size(cur, ds)
        online = online_view(cur, ds)
    if not catalogue and extras:  # no feature catalogue for the day: the extras arrays span the catalogue
        catalogue = max((len(c) for c in extras.rec_counts.values()), default=0)
    return ReportData(
        ds,
        model_id,
        table,
        users=users,
        decision=decision,
        gate_metric=gate_metric,
        history=list(history),
        attempt=attempt,
        score_edges=edges,
        score_counts=score_counts,
        item_counts=item_counts,
        catalogue=catalogue,
        extras=extras,
        online=online,
    )


# ---------------------------------------------------------------------------------------------- numbers


def lower_is_better(metric: str) -> bool:
    """Whether smaller values of a metric are better (per the registry; unknown metrics: higher is better)."""
    spec = METRICS.get(metric)
    return spec is not None and not spec.higher_is_better


def best_methods(values: dict[str, float], metric: str) -> set[str]:
    """The method(s) with the best value of a row (lowest for lower-is-better metrics)."""
    finite = {m: v for m, v in values.items() if v is not None and math.isfinite(v)}
    if not finite:
        return set()
    target = (min if lower_is_better(metric) else max)(finite.values())
    return {m for m, v in finite.items() if round(v, 4) == round(target, 4)}


def lift_vs_best_baseline(values: dict[str, float], metric: str) -> tuple[float, bool] | None:
    """(relative change of the model vs the best baseline, whether the model is at least as good)."""
    baselines = [v for m, v in values.items() if m != MODEL and math.isfinite(v)]
    model = values.get(MODEL)
    if model is None or not baselines:
        return None
    lower = lower_is_better(metric)
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


def method_order(names: Any) -> list[str]:
    """The registered methods first (model, then baselines, registry order), then any others by name."""
    known = methods()
    return sorted(set(names), key=lambda m: (m not in known, known.index(m) if m in known else 0, m))


def metric_rows(table: dict[tuple[str, int], dict[str, float]]) -> list[tuple[str, int]]:
    """The table's (metric, k) keys in registry order (each metric at its cut-offs), then unknown ones."""
    registered = [(name, k) for name, spec in METRICS.items() for k in spec.ks]
    return [key for key in registered if key in table] + sorted(set(table) - set(registered))


# ---------------------------------------------------------------------------------------------- context


def metrics_table(table: dict[tuple[str, int], dict[str, float]], gate_metric: str | None) -> dict[str, Any]:
    """The metrics table as plain rows: methods as columns, best per row, lift, gate row, section starts."""
    keys = metric_rows(table)
    columns = method_order(m for key in keys for m in table[key])
    rows = []
    previous: tuple[str, str | None] | None = None  # (metric, kind) of the row before
    for metric, k in keys:
        spec = METRICS.get(metric)
        kind = spec.kind if spec else None
        section = kind if kind is not None and (previous is None or previous[1] != kind) else None
        values = table[(metric, k)]
        label = metric_label(metric, k)
        best = best_methods(values, metric)
        lift = lift_vs_best_baseline(values, metric)
        rows.append(
            {
                "section": section,  # "accuracy" | "beyond" where such a block starts, else None
                "label": label,
                "gate": label == gate_metric,
                "group": previous is not None and previous[0] != metric and section is None,
                "cells": [{"value": values.get(m), "best": m in best} for m in columns],
                "lift": None if lift is None else {"change": lift[0], "good": lift[1]},
            }
        )
        previous = (metric, kind)
    names = list(dict.fromkeys(metric for metric, _ in keys))
    return {
        "methods": columns,
        "rows": rows,
        "legend": [{"name": n, "description": METRICS[n].description} for n in names if n in METRICS],
        "lower_is_better": [n for n in names if lower_is_better(n)],
    }


def tail_curves(
    model_counts: np.ndarray | None, attempt: Attempt | None, extras: ReportExtras | None, eval_users: int
) -> list[TailCurve]:
    """The curves to compare: every method of `extras` (evaluation lists), then the published model recs."""
    curves = []
    k = f"top-{extras.k}" if extras and extras.k else "top-k"
    for method in method_order(extras.rec_counts if extras else ()):
        curves.append(TailCurve(method, f"evaluation {k}", eval_users, np.asarray(extras.rec_counts[method]), False))
    if model_counts is not None and len(model_counts) and attempt is not None:
        curves.append(
            TailCurve(MODEL, f"published top-{attempt.top_k}", attempt.users.get(MODEL, 0), model_counts, True)
        )
    return curves


def tail_row(curve: TailCurve, catalogue: int) -> dict[str, Any]:
    """One row of the long-tail table."""
    c = sorted_desc(curve.counts)
    return {
        "method": curve.method,
        "lists": curve.lists,
        "users": curve.users,
        "recommendations": int(c.sum()),
        "distinct": len(c),
        "distinct_share": len(c) / catalogue if catalogue else None,
        "top1": head_share(c, catalogue, 0.01),
        "top10": head_share(c, catalogue, 0.10),
    }


def attempt_facts(attempt: Attempt) -> dict[str, Any]:
    """The scoring attempt as the header shows it: total rows, list length, users per source."""
    return {
        "publish_id": attempt.publish_id,
        "published": attempt.published,
        "rows": sum(attempt.rows.values()),
        "top_k": attempt.top_k,
        "users": [{"source": s, "users": attempt.users[s]} for s in sorted(attempt.users)],
    }


def page_context(data: ReportData) -> dict[str, Any]:
    """What `report.html.j2` renders: plain values (str, numbers, dates, lists, dicts); figures as PNG data URIs.
    A section whose data is missing has `figure` None (the template shows a note instead)."""
    history = data.history
    curves = tail_curves(data.item_counts, data.attempt, data.extras, data.users)
    metrics = metrics_table(data.table, data.gate_metric)
    trend = plots.trend(history, data.gate_metric) if len(history) >= 2 else None
    scores = plots.score_histogram(data.score_edges, data.score_counts) if data.attempt and data.score_counts else None
    tail = [(c.method, c.short_label, sorted_desc(c.counts), c.published) for c in curves]
    return {
        "title": f"Evaluation {data.ds} · {data.model_id}",
        "ds": data.ds,
        "model_id": data.model_id,
        "model": MODEL,
        "baselines": [m for m in metrics["methods"] if m != MODEL],
        "beyond_k": BEYOND_K,
        "users": data.users,
        "decision": None if data.decision is None else dataclasses.asdict(data.decision),
        "attempt": None if data.attempt is None else attempt_facts(data.attempt),
        "gate_metric": data.gate_metric,
        "metrics": metrics,
        "trend": {
            "runs": len(history),
            "first": history[0][0] if history else None,
            "last": history[-1][0] if history else None,
            "last_best_baseline": history[-1][4] if history else None,
            "figure": trend,
        },
        "scores": {"figure": scores},
        "long_tail": {
            "catalogue": data.catalogue,
            "rows": [tail_row(c, data.catalogue) for c in curves],
            "evaluation_lists": any(not c.published for c in curves),
            "published_lists": any(c.published for c in curves),
            "figure": plots.long_tail(tail, data.catalogue) if curves else None,
        },
        "online": data.online,
    }


def report_context(url: str, ds: date, model_id: str, extras: ReportExtras | None = None) -> dict[str, Any]:
    """`page_context(load_report(...))`: the one call a page showing a run's report needs."""
    return page_context(load_report(url, ds, model_id, extras))
