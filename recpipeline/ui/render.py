"""Rendering the pages: a Jinja2 environment over `templates/` and, behind it, the evaluation report's templates
(the page shell, macros and report.css are shared), with the report's filters; autoescaped, strict."""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jinja2

from recpipeline.evaluation.report import render as report_render

TEMPLATES = Path(__file__).resolve().parent / "templates"


def _when(value: datetime | None) -> str:
    """A timestamp in UTC to the minute: 2026-10-30 18:10 UTC (a dash when missing)."""
    if value is None:
        return "–"
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%d %H:%M UTC")


def _maybe(value: Any, digits: int = 4) -> str:
    """A number with `digits` decimals, other values as text, a dash for None."""
    if value is None:
        return "–"
    if isinstance(value, float) and value.is_integer() and abs(value) >= 1:
        return f"{int(value):,}"  # a count stored as a float (e.g. accepted rows)
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


@functools.cache
def environment() -> jinja2.Environment:
    """Our templates first, then the report's; the report's filters (num, count, pct) plus when / maybe."""
    env = report_render.make_environment(TEMPLATES, report_render.TEMPLATES)
    env.filters.update(when=_when, maybe=_maybe)
    return env


def render(template_name: str, **context: Any) -> str:
    """Render a page template with `context`."""
    return environment().get_template(template_name).render(**context)
