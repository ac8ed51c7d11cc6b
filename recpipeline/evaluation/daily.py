"""The evaluate stage: the day's model and every registered baseline on the same users, the gate, the report.

See `evaluation.protocol` for the protocol. The last blessed model is re-scored on today's users (ranking in
its own day's catalogue, mapped onto today's), so the gate never compares numbers from different days.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta

import numpy as np

from recpipeline import features, ragged, registry, scoring, trending
from recpipeline.config import Settings
from recpipeline.days import day_start_epoch
from recpipeline.evaluation import store
from recpipeline.evaluation.gate import gate
from recpipeline.evaluation.metrics import hit_matrix, recommendation_counts
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
)
from recpipeline.features import ItemTable

log = logging.getLogger(__name__)


def trending_order(url: str, ds: date, items: ItemTable) -> np.ndarray:
    """The trending list that was live during `ds` (published with the day before), in `items`' indices."""
    order = items.indices(trending.trending_items(url, ds - timedelta(days=1)))
    return order[order > 0]


def baseline_rankings(data: EvalSet, k: int, trending_list: np.ndarray, n_items: int) -> dict[str, np.ndarray]:
    """Top-k per evaluated user for every registered baseline."""
    given = BaselineInput(data.history, data.all_history, trending_list, n_items, k)
    return {name: spec.rank(given) for name, spec in BASELINES.items()}


def method_metrics(
    rankings: dict[str, np.ndarray], data: EvalSet, n_items: int, item_vecs: np.ndarray | None
) -> tuple[dict[str, dict[str, float]], dict[str, np.ndarray]]:
    """Every registered metric for every method, and per method how often each item is in a top-BEYOND_K list."""
    train_users, train_items = ragged.flatten(data.all_history)
    catalogue = np.arange(1, n_items + 1)
    results, counts = {}, {}
    for method, ranked in rankings.items():
        top = ranked[:, :BEYOND_K]
        counts[method] = recommendation_counts(top, catalogue)
        given = MetricInput(hit_matrix(ranked, data.relevant), top, counts[method], train_users, train_items, item_vecs)
        results[method] = compute_metrics(given)
    return results, counts


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
    new_index = {item_id: i for i, item_id in enumerate(items.item_ids) if i}
    ranked = remap_ranking(ranked, old_items.item_ids, new_index)
    label = metric_label(settings.gate_metric, settings.eval_k)
    empty = np.zeros(0, dtype=np.int64)
    given = MetricInput(hit_matrix(ranked, data.relevant), ranked[:, :BEYOND_K], empty, empty, empty, None)
    value = METRICS[settings.gate_metric].compute(given, settings.eval_k)
    log.info("last blessed model %s (%s) on today's users: %s %.4f", record.model_id, record.ds, label, value)
    return float(value)


def evaluate_day(url: str, ds: date, settings: Settings, model_id: str, artifact: str) -> dict:
    """Score the model and the baselines on the day, gate, record metrics, decision and report."""
    from recpipeline.evaluation import report
    from recpipeline.model.daily import load_for_day

    model, items, item_vecs = load_for_day(url, ds, artifact)
    data = chronological_split(features.load_sequences(url, ds), day_start_epoch(ds))
    if not data.relevant:
        raise RuntimeError(f"no user with history before {ds} interacted with a new item on {ds}: cannot evaluate")
    k = max(KS)
    user_vecs = model.user_vectors(data.history, data.history_events)
    rankings = {
        MODEL: scoring.top_n(scoring.normalise(user_vecs), scoring.normalise(item_vecs), k, exclude=data.history).items
    }
    rankings.update(baseline_rankings(data, k, trending_order(url, ds, items), items.n_items))
    results, counts = method_metrics(rankings, data, items.n_items, item_vecs)
    decision = gate(results, settings, _last_blessed_metric(url, ds, settings, data, items))
    store.store(url, ds, model_id, results, decision)
    key = decision.metric
    registry.decide(url, model_id, decision.blessed, decision.reason, {m: r[key] for m, r in results.items()})
    for line in store.report_lines(url, ds, compact=True):
        log.info("%s", line)
    path = report.write_report(url, ds, model_id, settings.artifacts, report.ReportExtras(counts, k=BEYOND_K))
    log.info("evaluation report: %s", path)
    return {
        "blessed": decision.blessed,
        "reason": decision.reason,
        "users": int(results[MODEL]["users"]),
        **{f"{m}_{key}": round(r[key], 6) for m, r in results.items()},
    }
