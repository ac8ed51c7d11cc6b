"""The eval schema: write a day's metrics and gate decision, read them back, and the text report."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from recpipeline import db
from recpipeline.evaluation.gate import GateDecision
from recpipeline.evaluation.registry import BEYOND_K, KS, METRICS, MODEL, methods, metric_label, split_label

# The metrics `report_lines(compact=True)` shows (the demo summary and the evaluate task's log).
COMPACT = [
    *(("ndcg", 10), ("recall", 10), ("precision", 10), ("hit_rate", 10), ("map", 10), ("mrr", 0)),
    *(("ndcg", max(KS)), ("recall", max(KS))),
    *((name, BEYOND_K) for name in ("coverage", "novelty", "diversity")),
]


def _metric_rows(
    ds: date, model_id: str, results: dict[str, dict[str, float]], intervals: dict[str, dict[str, tuple]]
) -> Iterator[tuple]:
    for method, report in results.items():
        users = int(report["users"])
        for key, value in report.items():
            if key == "users":
                continue
            low, high = intervals.get(method, {}).get(key, (None, None))
            yield (ds, model_id, method, *split_label(key), float(value), users, low, high)


def store(
    url: str,
    ds: date,
    model_id: str,
    results: dict[str, dict[str, float]],
    decision: GateDecision,
    intervals: dict[str, dict[str, tuple]] | None = None,
) -> None:
    """Replace the model's metrics (with their 95% intervals where known) and gate decision for the day, in one
    transaction."""
    with db.connect(url) as conn, conn.cursor() as cur:
        db.execute(cur, "eval_clear", {"ds": ds, "model_id": model_id})
        db.copy_in(
            cur,
            "eval.metrics",
            ("ds", "model_id", "method", "metric", "k", "value", "users", "ci_low", "ci_high"),
            _metric_rows(ds, model_id, results, intervals or {}),
        )
        db.execute(
            cur,
            "eval_insert_decision",
            {
                "ds": ds,
                "model_id": model_id,
                "blessed": decision.blessed,
                "metric": decision.metric,
                "candidate": decision.candidate,
                "best_baseline": decision.best_baseline,
                "baseline": decision.baseline,
                "last_blessed": decision.last_blessed,
                "reason": decision.reason,
            },
        )


def latest_model_id(url: str, ds: date) -> str | None:
    """The day's model: the one that went live with the day, else the one evaluated most recently."""
    with db.connect(url) as conn, conn.cursor() as cur:
        rows = db.fetch_all(cur, "eval_decision_for_day", {"ds": ds})
    return rows[0][0] if rows else None


def report_lines(url: str, ds: date, compact: bool = False) -> list[str]:
    """The metrics table (methods as columns) and the gate decision of the day's model (see latest_model_id)."""
    with db.connect(url) as conn, conn.cursor() as cur:
        rows = db.fetch_all(cur, "eval_metrics_for_day", {"ds": ds})
        decision = db.fetch_all(cur, "eval_decision_for_day", {"ds": ds})
    if not rows:
        raise LookupError(f"no evaluation for {ds}: run the evaluate task for {ds} first")
    table: dict[tuple[str, int], dict[str, float]] = {}
    users = {}
    for metric, k, method, value, n, _ in rows:
        table.setdefault((metric, k), {})[method] = value
        users[method] = n
    lines = format_table(ds, table, users, compact)
    if decision:
        model_id, blessed, *_, reason = decision[0]
        lines.append(f"  gate: model {model_id} {'BLESSED' if blessed else 'NOT blessed'}: {reason}")
    return lines


def format_table(
    ds: date, table: dict[tuple[str, int], dict[str, float]], users: dict[str, float], compact: bool = False
) -> list[str]:
    """{(metric, k): {method: value}} as text lines, metrics in registry order, methods as columns."""
    order = [(name, k) for name, spec in METRICS.items() for k in spec.ks]
    wanted = COMPACT if compact else order + sorted(set(table) - set(order))
    keys = [key for key in wanted if key in table]
    known = [m for m in methods() if m in users]
    shown = known + sorted(set(users) - set(known))
    width = max([14, *(len(m) + 2 for m in shown)])  # a column never runs into the next one's name
    lines = [
        f"evaluation for {ds} ({int(users.get(MODEL, 0)):,} users, full-catalogue ranking)",
        f"  {'metric':14}" + "".join(f"{m:>{width}}" for m in shown),
    ]
    for metric, k in keys:
        label = metric_label(metric, k)
        values = (table[(metric, k)].get(m, float("nan")) for m in shown)
        lines.append(f"  {label:14}" + "".join(f"{v:>{width}.4f}" for v in values))
    return lines


def results_table(results: dict[str, dict[str, float]]) -> tuple[dict[tuple[str, int], dict[str, float]], dict]:
    """`format_table`'s inputs from in-memory results (method -> label -> value)."""
    table: dict[tuple[str, int], dict[str, float]] = {}
    for method, report in results.items():
        for label, value in report.items():
            if label != "users":
                table.setdefault(split_label(label), {})[method] = value
    return table, {method: report["users"] for method, report in results.items()}
