"""Overview page: per day landed / accepted / rejected rows, checks, the gate verdict and reason, the model vs
each baseline with 95% confidence intervals, online metrics of the lists shown, and what recs.latest serves now."""

from __future__ import annotations

import math
from datetime import date
from typing import Any

from recpipeline import db
from recpipeline.evaluation.registry import METRICS, MODEL, methods, metric_label, split_label
from recpipeline.feedback.online_view import online_view
from recpipeline.ui.queries import one, rows

RECENT_DAYS = 14


def live_now(url: str) -> dict[str, Any] | None:
    """The publish recs.latest serves now (day, publish_id, model, users, rows, since when), or None."""
    return one(url, "ui_live")


def recent_days(url: str, days: int = RECENT_DAYS) -> list[dict[str, Any]]:
    """The most recent days with their row counts, check counts, gate verdict and publish state, newest first."""
    return rows(url, "ui_days", days=days)


def _ordered_methods(names: set[str]) -> list[str]:
    """The model first, then the registered baselines, then any other method by name."""
    known = [m for m in methods() if m in names]
    return known + sorted(names - set(known))


def metrics_with_ci(url: str, ds: date, model_id: str, gate_metric: str | None) -> dict[str, Any]:
    """Accuracy metrics at the gate's cut-off, model and baselines as columns, each value with its 95% CI."""
    found = rows(url, "ui_day_metrics", ds=ds, model_id=model_id)
    k = split_label(gate_metric)[1] if gate_metric else 10
    table: dict[str, dict[str, dict[str, Any]]] = {}
    users = 0
    for r in found:
        spec = METRICS.get(r["metric"])
        if spec is None or spec.kind != "accuracy" or r["k"] not in (k, 0):
            continue
        label = metric_label(r["metric"], r["k"])
        table.setdefault(label, {})[r["method"]] = r
        if r["method"] == MODEL:
            users = int(r["users"])
    columns = _ordered_methods({m for cells in table.values() for m in cells})
    order = [metric_label(name, k if spec.at_k else 0) for name, spec in METRICS.items() if spec.kind == "accuracy"]
    labels = sorted(table, key=lambda label: (label != gate_metric, order.index(label) if label in order else 99))
    out_rows = []
    for label in labels:
        cells = table[label]
        values = {m: c["value"] for m, c in cells.items() if c["value"] is not None and math.isfinite(c["value"])}
        best = max(values.values()) if values else None
        out_rows.append(
            {
                "label": label,
                "gate": label == gate_metric,
                "cells": [_cell(cells.get(m), best) for m in columns],
            }
        )
    return {
        "methods": columns,
        "rows": out_rows,
        "users": users,
        "has_ci": any(c.get("ci_low") is not None for cells in table.values() for c in cells.values()),
    }


def _cell(row: dict[str, Any] | None, best: float | None) -> dict[str, Any]:
    """One table cell: value, interval (None when not recorded) and whether it is the row's best."""
    if row is None:
        return {"value": None, "low": None, "high": None, "best": False}
    return {
        "value": row["value"],
        "low": row.get("ci_low"),
        "high": row.get("ci_high"),
        "best": best is not None and round(row["value"], 4) == round(best, 4),
    }


def online_for_day(url: str, ds: date) -> dict[str, Any] | None:
    """What shoppers did with the lists shown on `ds` (feedback.online_view), or None."""
    with db.connect(url) as conn, conn.cursor() as cur:
        return online_view(cur, ds)


def overview(url: str, ds: date | None = None, days: int = RECENT_DAYS) -> dict[str, Any]:
    """Everything the Overview page shows; `ds` selects the day in detail (default: the newest gated day)."""
    day_rows = recent_days(url, days)
    if ds is None:
        ds = next((d["ds"] for d in day_rows if d["model_id"]), day_rows[0]["ds"] if day_rows else None)
    selected = next((d for d in day_rows if d["ds"] == ds), None)
    if selected is None and ds is not None:  # an older day than the recent list: look it up in all days
        selected = next((d for d in rows(url, "ui_days", days=100_000) if d["ds"] == ds), None)
    detail = None
    if selected is not None:
        detail = {
            "day": selected,
            "checks": rows(url, "ui_day_checks", ds=ds),
            "online": online_for_day(url, ds),
            "metrics": metrics_with_ci(url, ds, selected["model_id"], selected["metric"])
            if selected["model_id"]
            else None,
        }
    return {"live": live_now(url), "days": day_rows, "ds": ds, "detail": detail}
