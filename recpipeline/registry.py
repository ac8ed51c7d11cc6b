"""The model registry (models.registry): candidates, blessed and rejected models, and why."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from recpipeline import db


@dataclass
class ModelRecord:
    model_id: str
    ds: date
    cell: str
    params: dict[str, Any]
    metrics: dict[str, Any]
    artifact_uri: str
    status: str
    reason: str | None


def register(
    url: str,
    model_id: str,
    ds: date,
    cell: str,
    params: dict,
    train_from: datetime | None,
    train_to: datetime | None,
    metrics: dict,
    artifact_uri: str,
) -> bool:
    """Register a trained model as a candidate; False (and nothing changed) when it is already blessed."""
    with db.connect(url) as conn, conn.cursor() as cur:
        db.execute(
            cur,
            "registry_upsert",
            {
                "model_id": model_id,
                "ds": ds,
                "cell": cell,
                "params": json.dumps(params),
                "train_from": train_from,
                "train_to": train_to,
                "metrics": json.dumps(metrics, default=float),
                "artifact_uri": artifact_uri,
            },
        )
        return cur.fetchone() is not None


def decide(url: str, model_id: str, blessed: bool, reason: str, metrics: dict) -> None:
    with db.connect(url) as conn, conn.cursor() as cur:
        db.execute(
            cur,
            "registry_decide",
            {
                "model_id": model_id,
                "status": "blessed" if blessed else "rejected",
                "reason": reason,
                "metrics": json.dumps(metrics, default=float),
            },
        )


def get(url: str, model_id: str) -> ModelRecord:
    with db.connect(url) as conn, conn.cursor() as cur:
        rows = db.fetch_all(cur, "registry_get", {"model_id": model_id})
    if not rows:
        raise LookupError(f"model {model_id} is not in models.registry")
    return ModelRecord(*rows[0])


def last_blessed(url: str, ds: date) -> ModelRecord | None:
    """The newest blessed model of an earlier day, or None."""
    with db.connect(url) as conn, conn.cursor() as cur:
        rows = db.fetch_all(cur, "registry_last_blessed", {"ds": ds})
    return get(url, rows[0][0]) if rows else None
