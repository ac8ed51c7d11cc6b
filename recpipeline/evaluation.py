"""Evaluation of a day's model against baselines on the same users, and the publish gate.

Chronological protocol: the model was trained on interactions before ds; each user with history before
ds is asked for a ranking over the whole catalogue (history excluded) and judged on the new items they
interacted with during ds. Baselines (popularity, trending, co-occurrence) see the same history only.
Metric definitions live in `recpipeline.metrics` (one module for the DAG, the CLI and the benchmarks).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

import numpy as np

from recpipeline import baselines, db, metrics, scoring
from recpipeline.config import Settings

log = logging.getLogger(__name__)
KS = (5, 10, 20)
METHODS = ("model", "popularity", "trending", "cooccurrence")
TRENDING_WINDOW_DAYS = 3  # the trending baseline, and what cold users get (tasks.trending_items)


@dataclass
class EvalSet:
    """Users with history before the cutoff and at least one new item after it (dense item indices)."""

    history: list[np.ndarray]
    history_events: list[np.ndarray]
    history_ts: list[np.ndarray]
    relevant: list[set[int]]
    all_history: list[np.ndarray]  # every user's pre-cutoff sequence (baselines learn from these)
    all_history_ts: list[np.ndarray]


def chronological_split(items, events, ts, cutoff_epoch: int) -> EvalSet:
    """Split sequences at the cutoff: before = features, after = ground truth (new items only)."""
    out = EvalSet([], [], [], [], [], [])
    for it, ev, t in zip(items, events, ts, strict=True):
        n = int(np.searchsorted(t, cutoff_epoch, side="left"))
        if n == 0:
            continue
        out.all_history.append(it[:n])
        out.all_history_ts.append(t[:n])
        new = set(it[n:].tolist()) - set(it[:n].tolist())
        if new:
            out.history.append(it[:n])
            out.history_events.append(ev[:n])
            out.history_ts.append(t[:n])
            out.relevant.append(new)
    return out


def baseline_rankings(data: EvalSet, k: int, cutoff_epoch: int) -> dict[str, np.ndarray]:
    """Top-k per evaluated user for each baseline, learned from pre-cutoff interactions only."""
    train_items = np.concatenate(data.all_history) if data.all_history else np.zeros(0, np.int64)
    train_ts = np.concatenate(data.all_history_ts) if data.all_history_ts else np.zeros(0, np.int64)
    exclude = data.history
    neighbours = baselines.cooccurrence_neighbors(data.all_history)
    return {
        "popularity": baselines.popularity(train_items, k, exclude),
        "trending": baselines.trending(train_items, train_ts, cutoff_epoch, k,
                                       window_days=TRENDING_WINDOW_DAYS, exclude=exclude),
        "cooccurrence": baselines.cooccurrence(data.history, k, neighbors=neighbours),
    }


def model_ranking(user_vecs: np.ndarray, item_vecs: np.ndarray, data: EvalSet, k: int) -> np.ndarray:
    return scoring.top_n(scoring.normalise(user_vecs), scoring.normalise(item_vecs), k, exclude=data.history).items


def remap_ranking(ranked: np.ndarray, from_ids: np.ndarray, to_index: dict[str, int]) -> np.ndarray:
    """Rankings in another day's item indices -> this day's indices (-1 where the item no longer exists)."""
    ids = np.asarray(from_ids, dtype=object)
    table = np.array([to_index.get(i, -1) for i in ids] + [-1], dtype=np.int64)  # index -1 -> -1
    return table[np.where(ranked >= 0, ranked, -1)]


def top10_counts(rankings: dict[str, np.ndarray], n_items: int) -> dict[str, np.ndarray]:
    """Per method, how often each catalogue item appears in the top 10 (beyond-accuracy metrics, report)."""
    catalogue = np.arange(1, n_items + 1)
    return {method: metrics.recommendation_counts(ranked[:, :10], catalogue) for method, ranked in rankings.items()}


def method_metrics(rankings: dict[str, np.ndarray], data: EvalSet, n_items: int, item_vecs: np.ndarray | None,
                   counts: dict[str, np.ndarray] | None = None) -> dict[str, dict[str, float]]:
    """Ranking metrics at KS for every method; beyond-accuracy metrics at K=10 for every method.

    `counts`: `top10_counts(rankings, n_items)` when the caller already has them.
    """
    counts = counts if counts is not None else top10_counts(rankings, n_items)
    train_users = np.concatenate([np.full(len(h), u) for u, h in enumerate(data.all_history)]) \
        if data.all_history else np.zeros(0, np.int64)
    train_items = np.concatenate(data.all_history) if data.all_history else np.zeros(0, np.int64)
    out = {}
    for method, ranked in rankings.items():
        report = metrics.ranking_report(ranked, data.relevant, KS)
        top10 = ranked[:, :10]
        dist = metrics.count_distribution(counts[method])
        report.update({"coverage@10": dist["coverage"], "gini@10": dist["gini"], "entropy@10": dist["entropy"],
                       "novelty@10": metrics.novelty(top10, train_users, train_items)})
        if item_vecs is not None:
            report["diversity@10"] = metrics.intra_list_diversity(top10, item_vecs)
        out[method] = report
    return out


def metric_label(metric: str, k: int) -> str:
    """`ndcg@10`, or the bare name for metrics without a cutoff (k = 0)."""
    return f"{metric}@{k}" if k else metric


def split_label(label: str) -> tuple[str, int]:
    """Inverse of `metric_label`: 'ndcg@10' -> ('ndcg', 10), 'mrr' -> ('mrr', 0)."""
    name, _, k = label.partition("@")
    return name, int(k) if k else 0


def _metric_rows(ds: date, model_id: str, results: dict[str, dict[str, float]]):
    for method, report in results.items():
        users = int(report["users"])
        for key, value in report.items():
            if key == "users":
                continue
            yield (ds, model_id, method, *split_label(key), float(value), users)


@dataclass
class GateDecision:
    blessed: bool
    metric: str
    candidate: float
    best_baseline: str
    baseline: float
    last_blessed: float | None
    reason: str


def gate(results: dict[str, dict[str, float]], settings: Settings, last_blessed: float | None) -> GateDecision:
    """Bless when the model beats the best baseline by `gate_margin` (relative) and is not worse than the
    last blessed model by more than `gate_tolerance` (relative). `last_blessed` is that model's gate metric
    on today's users (never another day's number: days differ in difficulty)."""
    key = f"{settings.gate_metric}@{settings.eval_k}"
    candidate = results["model"][key]
    contenders = [(m, r[key]) for m, r in results.items() if m in settings.gate_baseline_names]
    name, best = max(contenders, key=lambda x: (x[1], x[0]))
    needed = best * (1 + settings.gate_margin)
    if candidate <= needed:
        reason = (f"{key} {candidate:.4f} does not beat {name} {best:.4f} by {settings.gate_margin:.0%} "
                  f"(needs > {needed:.4f})")
        return GateDecision(False, key, candidate, name, best, last_blessed, reason)
    if last_blessed is not None and candidate < last_blessed * (1 - settings.gate_tolerance):
        reason = (f"{key} {candidate:.4f} is more than {settings.gate_tolerance:.0%} below the last blessed "
                  f"model's {last_blessed:.4f}")
        return GateDecision(False, key, candidate, name, best, last_blessed, reason)
    reason = f"{key} {candidate:.4f} beats {name} {best:.4f} ({candidate / best if best else float('inf'):.2f}x)"
    return GateDecision(True, key, candidate, name, best, last_blessed, reason)


def store(url: str, ds: date, model_id: str, results: dict[str, dict[str, float]], decision: GateDecision) -> None:
    with db.connect(url) as conn, conn.cursor() as cur:
        db.execute(cur, "eval_clear", {"ds": ds, "model_id": model_id})
        db.copy_in(cur, "eval.metrics", ("ds", "model_id", "method", "metric", "k", "value", "users"),
                   _metric_rows(ds, model_id, results))
        db.execute(cur, "eval_insert_decision", {
            "ds": ds, "model_id": model_id, "blessed": decision.blessed, "metric": decision.metric,
            "candidate": decision.candidate, "best_baseline": decision.best_baseline,
            "baseline": decision.baseline, "last_blessed": decision.last_blessed, "reason": decision.reason,
        })


def latest_model_id(url: str, ds: date) -> str | None:
    """The model most recently evaluated for a day."""
    with db.connect(url) as conn, conn.cursor() as cur:
        rows = db.fetch_all(cur, "eval_decision_for_day", {"ds": ds})
    return rows[0][0] if rows else None


def report_lines(url: str, ds: date, compact: bool = False) -> list[str]:
    """The metrics table (methods as columns) and the gate decision for a day."""
    with db.connect(url) as conn, conn.cursor() as cur:
        rows = db.fetch_all(cur, "eval_metrics_for_day", {"ds": ds})
        decision = db.fetch_all(cur, "eval_decision_for_day", {"ds": ds})
    if not rows:
        return [f"no evaluation for {ds}: run the evaluate task first"]
    table: dict[tuple[str, int], dict[str, float]] = {}
    users = {}
    for metric, k, method, value, n, _ in rows:
        table.setdefault((metric, k), {})[method] = value
        users[method] = n
    wanted = [("ndcg", 10), ("recall", 10), ("precision", 10), ("hit_rate", 10), ("map", 10), ("mrr", 0),
              ("ndcg", 20), ("recall", 20), ("coverage", 10), ("novelty", 10), ("diversity", 10)]
    keys = [key for key in wanted if key in table] if compact else sorted(table)
    methods = [m for m in METHODS if m in users]
    lines = [f"evaluation for {ds} ({int(users.get('model', 0)):,} users, full-catalogue ranking)",
             f"  {'metric':14}" + "".join(f"{m:>14}" for m in methods)]
    for metric, k in keys:
        label = metric_label(metric, k)
        lines.append(f"  {label:14}" + "".join(f"{table[(metric, k)].get(m, float('nan')):>14.4f}" for m in methods))
    if decision:
        model_id, blessed, *_, reason = decision[0]
        lines.append(f"  gate: model {model_id} {'BLESSED' if blessed else 'NOT blessed'}: {reason}")
    return lines
