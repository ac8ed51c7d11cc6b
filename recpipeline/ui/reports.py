"""Reports page: every gated model's HTML evaluation report, served from the report files the evaluate task
writes (`artifact_root/reports/<ds>/<model_id>/index.html`), rendered from the database when a file is missing."""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path
from typing import Any

from recpipeline.evaluation.report import render as report_render
from recpipeline.evaluation.report import report_context, report_path
from recpipeline.ui.queries import rows

log = logging.getLogger(__name__)
REPORT_ROWS = 200


def reports(url: str, artifact_root: Path, limit: int = REPORT_ROWS) -> list[dict[str, Any]]:
    """Gated models per day, newest first, with the verdict, publish state and whether the report file exists."""
    found = rows(url, "ui_reports", limit=limit)
    for r in found:
        r["file"] = report_path(artifact_root, r["ds"], r["model_id"]).exists()
    return found


def models_of_day(url: str, ds: date, artifact_root: Path) -> list[dict[str, Any]]:
    """The gated models of one day (the published one first, then newest)."""
    day = [r for r in reports(url, artifact_root, limit=100_000) if r["ds"] == ds]
    return sorted(day, key=lambda r: (not r["published"], -r["decided_at"].timestamp()))


def report_html(url: str, artifact_root: Path, ds: date, model_id: str) -> str:
    """The report page of `model_id` on `ds`: its file, else rendered from the database (LookupError when the
    model was not evaluated on that day)."""
    path = report_path(artifact_root, ds, model_id)
    if path.exists():
        return path.read_text(encoding="utf-8")
    log.info("no report file at %s: rendering the report of %s on %s from the database", path, model_id, ds)
    return report_render.render("report.html.j2", **report_context(url, ds, model_id))
