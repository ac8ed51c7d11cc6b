"""Land source files into the `raw` schema as text, one transaction per call, with COPY.

`land(url, fmt, path, ds, source)` reads PATH with the adapter registered under `fmt` (FORMATS), COPYs
its rows into raw.events / raw.items and records each file (or each (ds, target) part of a file) as
one raw.loads row. Nothing is validated here: a price 'abc' or a garbage timestamp lands as text, and
the data-quality stage decides. Re-landing the same (ds, source, target) replaces the earlier load in
the same transaction, so rerunning a date never duplicates rows; a failure anywhere lands nothing. The
formats without a per-day layout (taobao, seqfile, recbole) replace per (ds, source, target, file)
instead: several files of one day add up, and landing the same file again changes nothing.

The door's rules for bytes, field sizes, quotes, event identity and timestamps are the same for every
format and documented in `base`: NUL bytes, invalid UTF-8 and over-long fields (FIELD_SIZE_LIMIT, 64 KiB)
land escaped or cut with a defect code that the data-quality stage quarantines; a byte-order mark is
dropped; a stray quote costs one record; a ds before EARLIEST_DAY (2000-01-01) is refused.

Formats (one module each, registered in FORMATS): canonical, taobao, seqfile, recbole; their
docstrings document how each maps onto the canonical columns, picks the ds, numbers lines (line_no)
and treats malformed lines. `staging` holds the database side shared by all of them; `canonical`
records the measured speed (canonical CSV is parsed by PostgreSQL's COPY, never row by row in Python).
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from pathlib import Path
from typing import Any

from recpipeline import db
from recpipeline.sources import canonical, recbole, seqfile, taobao
from recpipeline.sources.base import EARLIEST_DAY, Adapter, LandingError, LoadResult
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
    loaded_at: datetime | None = None,
    **options: Any,
) -> list[LoadResult]:
    """Land PATH in format `fmt` into raw.*, all in one transaction; returns one LoadResult per load.

    `ds` (a date or 'YYYY-MM-DD') pins every row to that date (otherwise the format decides: folder names, timestamps, a
    default). `source` names where the rows came from (default: the format name); it is part of the
    replacement key (ds, source, target). `loaded_at` (default: now) is the load time that bounds
    plausible timestamps and names the load's day. `options` are format-specific (e.g. seqfile's `attributes`).
    """
    spec = adapter(fmt)
    unknown = sorted(set(options) - set(spec.options))
    if unknown:
        raise LandingError(f"format {fmt!r} takes no option(s) {unknown}; it takes {list(spec.options) or 'none'}")
    path = Path(path)
    if not path.exists():
        raise LandingError(f"{path}: no such file or folder")
    if isinstance(ds, str):
        try:
            ds = date.fromisoformat(ds)
        except ValueError:
            raise LandingError(f"ds {ds!r} is not a YYYY-MM-DD date") from None
    if ds is not None and ds < EARLIEST_DAY:
        raise LandingError(f"ds {ds} is before the earliest plausible day {EARLIEST_DAY}")
    with db.connect(url) as conn:
        with conn.cursor() as cur:
            landing = Landing(cur, source=source or fmt, fmt=fmt, appends=spec.appends, loaded_at=loaded_at)
            spec.land(landing, path, ds, **options)
    for r in landing.results:
        log.info(
            "landed %d %s rows for %s from %s (format %s, source %s, load %d)",
            r.rows,
            r.target,
            r.ds,
            r.path,
            r.format,
            r.source,
            r.load_id,
        )
    return landing.results
