"""Glue between an Airflow task context and the plain task functions (no Airflow import needed)."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import date
from typing import Any

from recpipeline.config import Settings, load_settings

# The asset `publish` emits; Airflow 3 only accepts PostgreSQL asset URIs of the form
# postgres://host:port/database/schema/table (docs/AIRFLOW.md). Consumers schedule on it.
PUBLISHED_ASSET_URI = "postgres://localhost:5432/recpipeline/recs/latest"


class MissingLogicalDate(RuntimeError):
    """The run has no logical date (triggered with logical_date null, or by an asset event)."""


def run_date(context: Mapping[str, Any]) -> date:
    """The partition a run processes: its logical date, never `now()` (docs/AIRFLOW.md, "Which date")."""
    logical = context.get("logical_date")
    if logical is None:
        raise MissingLogicalDate(
            "this run has no logical date, so it cannot tell which day to process; trigger it with a "
            'logical date (UI: \'Logical date\'; REST: "logical_date": "2026-10-30T00:00:00Z")'
        )
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
    return load_settings({name: params.get(name) for name in declared})
