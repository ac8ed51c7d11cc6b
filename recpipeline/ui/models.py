"""Models page: the registry (params, training window, per-epoch curves), two models side by side, the published
days a roll back / promote can make live again, and the audit of those decisions."""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from recpipeline import publish
from recpipeline.ui.charts import training_curves
from recpipeline.ui.queries import rows

log = logging.getLogger(__name__)
REGISTRY_ROWS = 50
AUDIT_ROWS = 20
HIDDEN_PARAMS = ("home", "landing_dir", "artifact_root", "database_url", "dq_thresholds")  # not model parameters


def is_model_param(name: str) -> bool:
    """Whether a registered setting describes the model or its training (not a path, URL or Airflow detail)."""
    return name not in HIDDEN_PARAMS and not name.startswith("airflow_") and not name.endswith(("_url", "_dir"))


def _model(row: dict[str, Any]) -> dict[str, Any]:
    """A registry row with its training history split out of the metrics JSON and summarised."""
    metrics = dict(row["metrics"] or {})
    history = metrics.pop("history", None) or []
    params = {k: v for k, v in (row["params"] or {}).items() if is_model_param(k)}
    return {
        **row,
        "params": params,
        "metrics": metrics,
        "history": history,
        "epochs": len(history) or metrics.get("epochs"),
        "final_loss": history[-1].get("loss") if history else metrics.get("final_loss"),
        "best_val_ndcg": max((h.get("val_ndcg@10") or 0.0 for h in history), default=metrics.get("val_ndcg@10")),
        "train_seconds": sum(h.get("seconds") or 0.0 for h in history) if history else None,
    }


def registry(url: str, limit: int = REGISTRY_ROWS) -> list[dict[str, Any]]:
    """Registered models, newest first, with params, training window, status, history and publish state."""
    models = [_model(r) for r in rows(url, "ui_models", limit=limit)]
    gate = rows(url, "ui_model_gate_metrics", model_ids=[m["model_id"] for m in models])
    by_model: dict[str, dict[str, dict[str, Any]]] = {}
    for g in gate:
        by_model.setdefault(g["model_id"], {})[g["method"]] = g
    for m in models:
        m["gate_values"] = by_model.get(m["model_id"], {})
    return models


def compare(models: list[dict[str, Any]], a: str | None, b: str | None) -> dict[str, Any] | None:
    """Two registered models side by side (default: the live or newest model and the one before it)."""
    by_id = {m["model_id"]: m for m in models}
    if a not in by_id:
        a = next((m["model_id"] for m in models if m["live"]), models[0]["model_id"] if models else None)
    if b not in by_id or b == a:
        b = next((m["model_id"] for m in models if m["model_id"] != a), None)
    if a is None or b is None:
        return None
    left, right = by_id[a], by_id[b]
    keys = sorted(set(left["params"]) | set(right["params"]))
    params = [
        {"name": k, "a": left["params"].get(k), "b": right["params"].get(k)}
        for k in keys
        if left["params"].get(k) != right["params"].get(k)
    ]
    same = [k for k in keys if left["params"].get(k) == right["params"].get(k)]
    methods = sorted(set(left["gate_values"]) | set(right["gate_values"]), key=lambda m: (m != "model", m))
    return {
        "a": left,
        "b": right,
        "params": params,
        "same_params": same,
        "methods": methods,
        "curves": training_curves({left["model_id"]: left["history"], right["model_id"]: right["history"]}),
    }


def publishes(url: str) -> list[dict[str, Any]]:
    """Every published day, newest first, with its model's status and whether it is live now."""
    return rows(url, "ui_publishes")


def audit(url: str, limit: int = AUDIT_ROWS) -> list[dict[str, Any]]:
    """The latest explicit publish decisions (who, when, why, from which day to which)."""
    return rows(url, "ui_publish_audit", limit=limit)


def roll_back(url: str, ds: date, actor: str, reason: str) -> dict[str, Any]:
    """Make the day `ds` as published earlier live again (`publish.republish`), naming `actor` and `reason`."""
    result = publish.republish(url, ds, actor, reason)
    log.info("UI: %s made %s live again (model %s): %s", actor, ds, result["model_id"], reason)
    return result


def models_page(url: str, a: str | None = None, b: str | None = None) -> dict[str, Any]:
    """Everything the Models page shows; `a` and `b` choose the two models compared."""
    models = registry(url)
    selected = compare(models, a, b)
    single = training_curves({models[0]["model_id"]: models[0]["history"]}) if len(models) == 1 else None
    return {
        "models": models,
        "compare": selected,
        "single_curves": single,
        "publishes": publishes(url),
        "audit": audit(url),
    }
