"""Landing of the day's impressions.csv and feedback.csv into raw (all text, like events), one raw.loads row per
file; landing a day again replaces its raw rows of that target."""

from __future__ import annotations

import csv
import hashlib
import logging
from datetime import date
from pathlib import Path

from recpipeline import db

log = logging.getLogger(__name__)

IMPRESSION_COLUMNS = ("request_id", "user_id", "item_id", "position", "publish_id", "shown_at", "surface")
FEEDBACK_COLUMNS = ("event_id", "user_id", "item_id", "event_type", "ts", "request_id")
FILES = {
    "impressions": ("impressions.csv", "raw.impressions", IMPRESSION_COLUMNS),
    "feedback": ("feedback.csv", "raw.feedback_events", FEEDBACK_COLUMNS),
}


class FeedbackLandingError(ValueError):
    """A landing file that cannot be read at all (wrong header)."""


def read_rows(path: Path, columns: tuple[str, ...]) -> list[tuple]:
    """(line_no, malformed, *fields) per record; a record with the wrong number of fields is padded or cut."""
    with open(path, newline="", encoding="utf-8", errors="replace") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if header is None or tuple(h.strip() for h in header) != columns:
            raise FeedbackLandingError(f"{path}: header must be {','.join(columns)}; got {header}")
        rows = []
        for line_no, record in enumerate(reader, start=1):
            if not record:
                continue
            malformed = len(record) != len(columns)
            fields = (record + [None] * len(columns))[: len(columns)]
            rows.append((line_no, malformed, *[v if v != "" else None for v in fields]))
    return rows


def land_file(url: str, ds: date, target: str, path: Path, source: str = "feedback") -> int:
    """Land one file of `target` (impressions | feedback) for `ds`, replacing the day's earlier landing."""
    _name, table, columns = FILES[target]
    rows = read_rows(path, columns)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    with db.connect(url) as conn, conn.cursor() as cur:
        db.execute(cur, "feedback_clear_raw", {"ds": ds, "target": target})
        db.execute(
            cur,
            "feedback_record_load",
            {
                "ds": ds,
                "source": source,
                "target": target,
                "path": str(path.resolve()),
                "rows": len(rows),
                "sha256": digest,
            },
        )
        load_id = cur.fetchone()[0]
        db.copy_in(cur, table, ("ds", "load_id", "line_no", "malformed", *columns), ((ds, load_id, *r) for r in rows))
    log.info("landed %d %s rows for %s from %s (load %d)", len(rows), target, ds, path, load_id)
    return len(rows)


def land_day(url: str, folder: Path, ds: date) -> dict[str, int]:
    """Land the impressions.csv / feedback.csv found in a day folder; rows per target landed."""
    out = {}
    for target, (name, _table, _columns) in FILES.items():
        path = Path(folder) / name
        if path.exists():
            out[target] = land_file(url, ds, target, path)
    return out
