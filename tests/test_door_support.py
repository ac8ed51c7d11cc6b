"""Helpers shared by the tests/test_door_*.py files (no tests here): files, landing, validating, reading back."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from recpipeline import db, quality
from recpipeline.config import load_settings
from recpipeline.events import EVENT_COLUMNS, ITEM_COLUMNS

D1 = date(2024, 3, 1)
LOADED_AT = datetime(2024, 3, 5, 12, 0, tzinfo=UTC)  # a fixed load time: the load's day is 2024-03-05
LOAD_DAY = LOADED_AT.date()
EVENTS_HEADER = ",".join(EVENT_COLUMNS)
ITEMS_HEADER = ",".join(ITEM_COLUMNS)


def write(path: Path, body: str | bytes) -> Path:
    """Write `body` (bytes as they are, text as UTF-8 without newline translation) and return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(body if isinstance(body, bytes) else body.encode("utf-8"))
    return path


def fetch(url: str, sql: str, params: tuple = ()) -> list[tuple]:
    """All rows of one query."""
    with db.connect(url) as conn, conn.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()


def validate(url: str, ds: date, **overrides) -> quality.DayReport | None:
    """Run data quality for `ds` (reject rate not enforced); None when an `error` check failed the day."""
    settings = load_settings({"max_reject_rate": 1.0, **overrides})
    try:
        return quality.validate_day(url, ds, settings)
    except quality.DataQualityError:
        return None


def audit(url: str, ds: date) -> dict[str, tuple[int, int, int]]:
    """dq.load_audit of the day: target -> (landed, accepted, rejected)."""
    rows = fetch(url, "SELECT target, landed, accepted, rejected FROM dq.load_audit WHERE ds = %s", (ds,))
    return {t: (n, a, r) for t, n, a, r in rows}


def rejects(url: str, ds: date, target: str = "events") -> list[tuple[int, set[str], dict, str]]:
    """(line_no, reasons, payload, message) of the day's quarantined rows of `target`, by load and line."""
    rows = fetch(
        url,
        "SELECT line_no, reasons, payload, message FROM dq.rejects WHERE ds = %s AND target = %s"
        " ORDER BY load_id, line_no",
        (ds, target),
    )
    return [(line, set(reasons), payload, message) for line, reasons, payload, message in rows]


def clean_events(url: str, ds: date) -> list[tuple]:
    """(event_id, user_id, item_id, event_type, ts) of the day's accepted events, by user, item and time."""
    return fetch(
        url,
        "SELECT event_id, user_id, item_id, event_type, ts FROM clean.events WHERE ds = %s"
        " ORDER BY user_id, item_id, ts, event_id",
        (ds,),
    )


def raw_days(url: str, target: str = "events") -> list[date]:
    """Distinct ds of the landed rows of `target`."""
    return [r[0] for r in fetch(url, f"SELECT DISTINCT ds FROM raw.{target} ORDER BY 1")]
