"""Glue between an Airflow task context and the plain task functions (no Airflow import needed)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from recpipeline.config import Settings, load_settings

# The asset `publish` emits (PostgreSQL URI form, see AIRFLOW_NOTES.md); consumers schedule on it.
PUBLISHED_ASSET_URI = "postgres://localhost:5432/recpipeline/recs/latest"

class MissingLogicalDate(RuntimeError):
    """The run has no logical date (triggered with logical_date null, or by an asset event)."""


def run_date(context: Mapping[str, Any]) -> date:
    """The partition a run processes: its logical date, never `now()` (see AIRFLOW_NOTES.md)."""
    logical = context.get("logical_date")
    if logical is None:
        raise MissingLogicalDate(
            "this run has no logical date, so it cannot tell which day to process; trigger it with a "
            "logical date (UI: 'Logical date'; REST: \"logical_date\": \"2026-10-30T00:00:00Z\")"
        )
    return logical.date() if hasattr(logical, "date") else logical


def run_settings(context: Mapping[str, Any]) -> Settings:
    """Environment settings with the run's Params applied on top (invalid values raise ValueError)."""
    return load_settings(dict(context.get("params") or {}))
