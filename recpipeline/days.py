"""Days and timestamps: the one home for how a `ds` maps to instants and how day names and epochs parse.

A day `ds` is the half-open UTC interval [ds 00:00, ds+1 00:00). Training and evaluation cut history at
the start of `ds`; a day's landing folder is named `YYYY-MM-DD`.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_NUMERIC = re.compile(r"-?\d+(?:\.\d+)?")


def day_bounds(ds: date) -> tuple[datetime, datetime]:
    """[start, end) of `ds` in UTC."""
    start = datetime.combine(ds, time(0), tzinfo=UTC)
    return start, start + timedelta(days=1)


def day_start_epoch(ds: date) -> int:
    """Unix seconds of `ds` 00:00 UTC: where a day's history ends for training and evaluation."""
    return int(day_bounds(ds)[0].timestamp())


def parse_day(name: str) -> date | None:
    """'YYYY-MM-DD' -> date, anything else -> None (for day folder names)."""
    if not _DAY.fullmatch(name):
        return None
    try:
        return date.fromisoformat(name)
    except ValueError:
        return None


def unix_to_iso(text: str | None) -> tuple[str | None, date | None]:
    """Unix seconds as text -> ('YYYY-MM-DDTHH:MM:SS[.ffffff]Z', its UTC date); anything else unchanged.

    A value that is not a plain number (or out of range) is returned as-is with no date, so it lands
    as text and the data-quality stage rejects it.
    """
    if text is None or not _NUMERIC.fullmatch(text):
        return text, None
    try:
        moment = datetime.fromtimestamp(float(text) if "." in text else int(text), UTC)
    except (OverflowError, OSError, ValueError):
        return text, None
    iso = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if moment.microsecond:
        iso += f".{moment.microsecond:06d}"
    return iso + "Z", moment.date()


def synthetic_stamps(day: date, count: int) -> list[str]:
    """`count` increasing ISO UTC timestamps from `day` 00:00:00: a minute apart, closer if needed to fit the day."""
    step = min(60, max(1, 86_400 // max(count, 1)))
    base = day_bounds(day)[0]
    return [(base + timedelta(seconds=k * step)).strftime("%Y-%m-%dT%H:%M:%SZ") for k in range(count)]
