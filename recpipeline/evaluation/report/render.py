"""Rendering: one Jinja2 environment over `templates/`, shared by the report and later UI pages.

Autoescaping is on for every template (`.html.j2`, `.html`), so names and reasons read from the database are
always escaped. Stylesheets are inlined (`inline_css`) so a page stays a single self-contained file.
"""

from __future__ import annotations

import functools
import math
import os
from datetime import date
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from recpipeline.evaluation.report.data import ReportExtras, fmt, report_context, report_path

TEMPLATES = Path(__file__).resolve().parent / "templates"


def _count(value: int | float) -> str:
    """A count with thousands separators: 12,345."""
    return f"{value:,}"


def _pct(value: float | None, signed: bool = False) -> str:
    """A share as a percentage with one decimal (signed: with + or −), or a dash when missing."""
    if value is None or not math.isfinite(value):
        return "–"
    return f"{value:+.1%}" if signed else f"{value:.1%}"


def make_environment(*folders: Path) -> jinja2.Environment:
    """An environment over template `folders` (first wins), autoescaped, undefined names are errors, with the
    report's filters (num, count, pct) and `inline_css`. The report and the UI pages both build theirs here."""
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader([jinja2.FileSystemLoader(folder) for folder in folders]),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html", "html.j2", "j2"), default=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(num=fmt, count=_count, pct=_pct)

    def inline_css(name: str) -> Markup:
        """A stylesheet of the template folders, verbatim, for a style element (CSS is not HTML-escaped)."""
        source, _, _ = env.loader.get_source(env, name)
        return Markup(source)

    env.globals["inline_css"] = inline_css
    return env


@functools.cache
def environment() -> jinja2.Environment:
    """The report's environment: templates from `templates/`."""
    return make_environment(TEMPLATES)


def render(template_name: str, **context: Any) -> str:
    """Render a template of `templates/` with `context`."""
    return environment().get_template(template_name).render(**context)


def write_report(url: str, ds: date, model_id: str, artifact_root: Path, extras: ReportExtras | None = None) -> Path:
    """Render the evaluation report of `model_id` on `ds` to `report_path(...)` and return that path.

    LookupError when eval.metrics has no rows for the run. The file is replaced atomically. `extras` are kept
    beside the report (extras.npz), so a later call without them (after publish) renders the same curves.
    """
    path = report_path(artifact_root, ds, model_id)
    saved = path.parent / "extras.npz"
    if extras is not None:
        extras.save(saved)
    else:
        extras = ReportExtras.load(saved)
    page = render("report.html.j2", **report_context(url, ds, model_id, extras))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".html.tmp{os.getpid()}")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(path)
    return path
