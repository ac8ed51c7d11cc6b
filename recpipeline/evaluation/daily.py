"""The evaluate stage: the day's model and every registered baseline on the same users, the gate, the report.

See `evaluation.protocol` for the protocol. The last blessed model is re-scored on today's users (ranking in
its own day's catalogue, mapped onto today's), so the gate never compares numbers from different days.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from recpipeline import features, ragged, registry, scoring, search, trending
from recpipeline.config import Settings
from recpipeline.days import day_start_epoch
from recpipeline.evaluation import store
from recpipeline.evaluation.gate import GateDecision, gate
from recpipeline.evaluation.metrics import bootstrap_intervals, hit_matrix, recommendation_counts
from recpipeline.evaluation.protocol import EvalSet, chronological_split, remap_ranking
from recpipeline.evaluation.registry import (
    BASELINES,
    BEYOND_K,
    KS,
    METRICS,
    MODEL,
    BaselineInput,
    MetricInput,
    compute_metrics,
    metric_label,
    per_user_values,
)
from recpipeline.features import ItemTable
from recpipeline.feedback.gate import online_gate

log = logging.getLogger(__name__)
BOOTSTRAP_SEED = 0  # fixed: rerunning a day gives the same intervals


def trending_order(url: str, ds: date, items: ItemTable) -> np.ndarray:
    """The trending list that was live during `ds` (published with the day before), in `items`' indices."""
    order = items.indices(trending.trending_items(url, ds - timedelta(days=1)))
    return order[order > 0]


def baseline_rankings(data: EvalSet, k: int, trending_list: np.ndarray, n_items: int) -> dict[str, np.ndarray]:
    """Top-k per evaluated user for every registered baseline."""
    given = BaselineInput(data.history, data.all_history, trending_list, n_items, k)
    return {name: spec.rank(given) for name, spec in BASELINES.items()}


Intervals = dict[str, dict[str, tuple[float, float]]]  # method -> metric label -> 95% CI (bootstrap over users)


def method_metrics(
    rankings: dict[str, np.ndarray], data: EvalSet, n_items: int, item_vecs: np.ndarray | None
) -> tuple[dict[str, dict[str, float]], dict[str, np.ndarray], Intervals]:
    """Every registered metric for every method, per method how often each item is in a top-BEYOND_K list, and
    95% bootstrap intervals of the metrics that are means over users (the same resamples for every method)."""
    train_users, train_items = ragged.flatten(data.all_history)
    catalogue = np.arange(1, n_items + 1)
    results, counts, intervals = {}, {}, {}
    for method, ranked in rankings.items():
        top = ranked[:, :BEYOND_K]
        counts[method] = recommendation_counts(top, catalogue)
        given = MetricInput(hit_matrix(ranked, data.relevant), top, counts[method], train_users, train_items, item_vecs)
        results[method] = compute_metrics(given)
        per_user = per_user_values(given)
        low, high = bootstrap_intervals(np.column_stack(list(per_user.values())), seed=BOOTSTRAP_SEED)
        intervals[method] = {label: (float(lo), float(hi)) for label, lo, hi in zip(per_user, low, high, strict=True)}
    return results, counts, intervals


def _last_blessed_metric(url: str, ds: date, settings: Settings, data: EvalSet, items: ItemTable) -> float | None:
    """The last blessed model's gate metric on today's users, ranking in its own day's catalogue."""
    from recpipeline.model.daily import load_for_day

    record = registry.last_blessed(url, ds)
    if record is None:
        return None
    model, old_items, old_vecs = load_for_day(url, record.ds, record.artifact_uri)
    to_old = old_items.indices(items.item_ids)
    history = [to_old[h][to_old[h] > 0] for h in data.history]
    events = [e[to_old[h] > 0] for h, e in zip(data.history, data.history_events, strict=True)]
    ranked = scoring.top_n(
        scoring.normalise(model.user_vectors(history, events)), scoring.normalise(old_vecs), max(KS), exclude=history
    ).items
    ranked = remap_ranking(ranked, old_items.item_ids, items.index)
    label = metric_label(settings.gate_metric, settings.eval_k)
    empty = np.zeros(0, dtype=np.int64)
    given = MetricInput(hit_matrix(ranked, data.relevant), ranked[:, :BEYOND_K], empty, empty, empty, None)
    value = METRICS[settings.gate_metric].compute(given, settings.eval_k)
    log.info("last blessed model %s (%s) on today's users: %s %.4f", record.model_id, record.ds, label, value)
    return float(value)


@dataclass
class DayEvaluation:
    """Everything the evaluate stage computed for a day, before anything is recorded."""

    model_id: str
    results: dict[str, dict[str, float]]  # method -> metric label -> value (and "users")
    counts: dict[str, np.ndarray]  # method -> appearances of each item in its top-BEYOND_K lists
    intervals: Intervals
    decision: GateDecision


def compute_day(url: str, ds: date, settings: Settings, model_id: str, artifact: str) -> DayEvaluation:
    """Score the model and every baseline on the day's users and apply the gate; writes nothing."""
    from recpipeline.model.daily import load_for_day

    model, items, item_vecs = load_for_day(url, ds, artifact)
    data = chronological_split(features.load_sequences(url, ds), day_start_epoch(ds))
    if not data.relevant:
        raise RuntimeError(f"no user with history before {ds} interacted with a new item on {ds}: cannot evaluate")
    log.info(
        "evaluate %s: %d users with new items, %d items; ranking the whole catalogue",
        ds,
        len(data.relevant),
        items.n_items,
    )
    k = max(KS)
    user_vecs = model.user_vectors(data.history, data.history_events)
    rankings = {
        MODEL: scoring.top_n(scoring.normalise(user_vecs), scoring.normalise(item_vecs), k, exclude=data.history).items
    }
    rankings.update(baseline_rankings(data, k, trending_order(url, ds, items), items.n_items))
    log.info("evaluate %s: ranked by the model and %d baselines; computing metrics", ds, len(rankings) - 1)
    results, counts, intervals = method_metrics(rankings, data, items.n_items, item_vecs)
    decision = gate(results, settings, _last_blessed_metric(url, ds, settings, data, items))
    online_ok, online_why = online_gate(url, ds, settings)  # off by default: what shoppers did yesterday
    if decision.blessed and not online_ok:
        decision = dataclasses.replace(decision, blessed=False, reason=f"online gate: {online_why}")
    return DayEvaluation(model_id, results, counts, intervals, decision)


def evaluate_day(url: str, ds: date, settings: Settings, model_id: str, artifact: str) -> dict:
    """The evaluate task: compute, then record metrics, the gate decision, the registry status and the report."""
    from recpipeline.evaluation import report

    day = compute_day(url, ds, settings, model_id, artifact)
    store.store(url, ds, model_id, day.results, day.decision, day.intervals)
    # the search methods' MRR/NDCG@10 rows beside the ranking's
    search.evaluate_search(url, ds, model_id, artifact, searches=settings.search_eval_searches)
    key = day.decision.metric
    registry.decide(
        url, model_id, day.decision.blessed, day.decision.reason, {m: r[key] for m, r in day.results.items()}
    )
    for line in store.report_lines(url, ds, compact=True):
        log.info("%s", line)
    path = report.write_report(url, ds, model_id, settings.artifacts, report.ReportExtras(day.counts, k=BEYOND_K))
    log.info("evaluation report: %s", path)
    return {
        "blessed": day.decision.blessed,
        "reason": day.decision.reason,
        "users": int(day.results[MODEL]["users"]),
        **{f"{m}_{key}": round(r[key], 6) for m, r in day.results.items()},
    }
