"""Land source files into the `raw` schema as text, one transaction per call, with COPY.

`land(url, fmt, path, ds, source)` reads PATH with the adapter registered under `fmt` (FORMATS), COPYs
its rows into raw.events / raw.items and records each file (or each (ds, target) part of a file) as
one raw.loads row. Nothing is validated here: a price 'abc' or a garbage timestamp lands as text, and
the data-quality stage decides. Re-landing the same (ds, source, target) replaces the earlier load in
the same transaction, so rerunning a date never duplicates rows; a failure anywhere lands nothing.

Formats (one module each, registered in FORMATS): canonical, taobao, seqfile, recbole; their
docstrings document how each maps onto the canonical columns, picks the ds, numbers lines (line_no)
and treats malformed lines. `staging` holds the database side shared by all of them; `canonical`
records the measured speed (canonical CSV is parsed by PostgreSQL's COPY, never row by row in Python).
"""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path
from typing import Any

from recpipeline import db
from recpipeline.sources import canonical, recbole, seqfile, taobao
from recpipeline.sources.base import Adapter, LandingError, LoadResult
from recpipeline.sources.staging import Landing

__all__ = ["FORMATS", "Adapter", "LandingError", "LoadResult", "adapter", "land"]

log = logging.getLogger(__name__)
FORMATS: dict[str, Adapter] = {a.name: a for a in (canonical.ADAPTER, taobao.ADAPTER, seqfile.ADAPTER, recbole.ADAPTER)}


def adapter(fmt: str) -> Adapter:
    """The adapter registered for `fmt`; a LandingError naming the known formats otherwise."""
    try:
        return FORMATS[fmt]
    except KeyError:
        known = ", ".join(f"{a.name} ({a.summary})" for a in FORMATS.values())
        raise LandingError(f"unknown format {fmt!r}; known formats: {known}") from None


def land(
    url: str,
    fmt: str,
    path: Path | str,
    ds: date | str | None = None,
    source: str | None = None,
    **options: Any,
) -> list[LoadResult]:
    """Land PATH in format `fmt` into raw.*, all in one transaction; returns one LoadResult per load.

    `ds` (a date or 'YYYY-MM-DD') pins every row to that date (otherwise the format decides: folder names, timestamps, a
    default). `source` names where the rows came from (default: the format name); it is part of the
    replacement key (ds, source, target). `options` are format-specific (e.g. seqfile's `attributes`).
    """
    spec = adapter(fmt)
    unknown = sorted(set(options) - set(spec.options))
    if unknown:
        raise LandingError(f"format {fmt!r} takes no option(s) {unknown}; it takes {list(spec.options) or 'none'}")
    path = Path(path)
    if not path.exists():
        raise LandingError(f"{path}: no such file or folder")
    if isinstance(ds, str):
        ds = date.fromisoformat(ds)
    with db.connect(url) as conn:
        with conn.cursor() as cur:
            landing = Landing(cur, source=source or fmt, fmt=fmt)
            spec.land(landing, path, ds, **options)
    for r in landing.results:
        log.info(
            "landed %d %s rows for %s from %s (format %s, source %s, load %d)",
            r.rows, r.target, r.ds, r.path, r.format, r.source, r.load_id,
        )
    return landing.results
