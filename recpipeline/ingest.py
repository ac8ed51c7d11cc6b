"""The ingest stage: land a day's canonical files from the landing folder, or keep what was landed earlier."""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

from recpipeline import db, sources
from recpipeline.days import parse_day

log = logging.getLogger(__name__)


class NoDataForDay(FileNotFoundError):
    """Nothing has landed for the day (yet): the run has nothing to do, which is not a breakage."""


def landed_days(url: str, landing_root: Path) -> list[date]:
    """Days with data: landing folders named YYYY-MM-DD plus days landed earlier into raw (e.g. by the CLI)."""
    root = Path(landing_root)
    folders = {d for p in root.iterdir() if p.is_dir() and (d := parse_day(p.name))} if root.is_dir() else set()
    with db.connect(url) as conn, conn.cursor() as cur:
        loaded = {row[0] for row in db.fetch_all(cur, "raw_landed_days")}
    return sorted(folders | loaded)


def land_day(url: str, landing_root: Path, ds: date | None) -> dict:
    """Land `landing_root/<ds>/` (events.csv, items.csv) into raw; a day landed earlier (CLI) is kept.
    Without a day, the latest day with data. Returns what landed, with the day as "ds".

    Raises NoDataForDay when there is neither a folder nor anything landed for the day.
    """
    if ds is None:
        days = landed_days(url, landing_root)
        if not days:
            raise NoDataForDay(f"no day has landed data yet (landing folder {landing_root}, raw.loads)")
        ds = days[-1]
        log.info("ingest: the run names no day; processing the latest landed day %s", ds)
    folder = Path(landing_root) / ds.isoformat()
    if folder.is_dir():
        results = sources.land(url, "canonical", folder, ds=ds)
        summary = {r.target: r.rows for r in results}
        log.info("ingest %s: landed %s from %s", ds, summary, folder)
        return {"ds": ds.isoformat(), "source": str(folder), **summary}
    with db.connect(url) as conn, conn.cursor() as cur:
        landed = {t: int(n) for t, _, n in db.fetch_all(cur, "raw_loads_for_day", {"ds": ds})}
    if not landed.get("events"):
        raise NoDataForDay(
            f"nothing to do for {ds}: no landing folder {folder} and nothing landed for it; put events.csv/items.csv "
            f"there or run `recpipeline load --format ... PATH --ds {ds}`, then rerun the day"
        )
    log.info("ingest %s: no landing folder; using rows landed earlier %s", ds, landed)
    return {"ds": ds.isoformat(), "source": "already landed", **landed}
