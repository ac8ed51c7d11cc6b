"""Glue between an Airflow task context and the plain task functions (no Airflow import needed)."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import date
from typing import Any

from recpipeline.config import Settings, load_settings

# The asset `publish` emits; Airflow 3 only accepts PostgreSQL asset URIs of the form
# postgres://host:port/database/schema/table (docs/AIRFLOW.md). Consumers schedule on it.
PUBLISHED_ASSET_URI = "postgres://localhost:5432/recpipeline/recs/latest"


RUN_PARAMS = ("ds",)  # declared Params that choose what a run processes rather than how (not settings)


def requested_date(context: Mapping[str, Any]) -> date | None:
    """The day a run asks for: its `ds` Param, else its logical date; None for a run with neither (triggered
    without a logical date, or by an asset event), which then processes the latest landed day (ingest decides).
    Never `now()` (docs/AIRFLOW.md, "Which date")."""
    chosen = (context.get("params") or {}).get("ds")
    if chosen:
        return date.fromisoformat(str(chosen))
    logical = context.get("logical_date")
    if logical is None:
        return None
    return logical.date() if hasattr(logical, "date") else logical


def run_settings(context: Mapping[str, Any], declared: Collection[str]) -> Settings:
    """Environment settings with the run's declared Params applied on top.

    Airflow does not validate conf keys a DAG never declared, and would pass them on as params: a run conf
    with any other key (say `database_url`) fails the run at once, naming the keys. Invalid values raise too.
    """
    conf = getattr(context.get("dag_run"), "conf", None) or {}
    if not isinstance(conf, Mapping):
        raise ValueError(f"the run conf must be a JSON object of Params, got {type(conf).__name__}")
    undeclared = sorted(set(conf) - set(declared))
    if undeclared:
        raise ValueError(
            f"the run conf sets {', '.join(undeclared)}, which this DAG does not accept; "
            f"its Params are {', '.join(sorted(declared))}"
        )
    params = context.get("params") or {}
    return load_settings({name: params.get(name) for name in declared if name not in RUN_PARAMS})
