"""The ingest stage: land a day's canonical files from the landing folder, or keep what was landed earlier."""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

from recpipeline import db, sources

log = logging.getLogger(__name__)


def land_day(url: str, landing_root: Path, ds: date) -> dict:
    """Land `landing_root/<ds>/` (events.csv, items.csv) into raw; a day landed earlier (CLI) is kept.

    Raises FileNotFoundError when there is neither a folder nor anything landed for the day.
    """
    folder = Path(landing_root) / ds.isoformat()
    if folder.is_dir():
        results = sources.land(url, "canonical", folder, ds=ds)
        summary = {r.target: r.rows for r in results}
        log.info("ingest %s: landed %s from %s", ds, summary, folder)
        return {"source": str(folder), **summary}
    with db.connect(url) as conn, conn.cursor() as cur:
        landed = {t: int(n) for t, _, n in db.fetch_all(cur, "raw_loads_for_day", {"ds": ds})}
    if not landed.get("events"):
        raise FileNotFoundError(
            f"no landing folder {folder} and nothing landed for {ds}: put events.csv/items.csv there "
            f"or run `recpipeline load --format ... PATH --ds {ds}`"
        )
    log.info("ingest %s: no landing folder; using rows landed earlier %s", ds, landed)
    return {"source": "already landed", **landed}
