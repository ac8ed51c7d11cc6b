"""What every source adapter shares: the result record, the error type, the adapter record, field helpers.

Adapters turn a file format into canonical rows (recpipeline.events.EVENT_COLUMNS / ITEM_COLUMNS, all
text) and hand them to a `staging.Landing`; nothing here touches the database.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

# A source-native behaviour name -> canonical event type (Taobao's vocabulary; also used for RecBole).
# The ds (and timestamp base) for sources that carry no dates, when --ds is not given.
SYNTHETIC_DS = date(2020, 1, 1)
BEHAVIORS = {"pv": "view", "click": "click", "cart": "cart", "fav": "fav", "buy": "purchase"}


class LandingError(ValueError):
    """A problem with what was asked to land (format, path, header, ds): the message says how to fix it."""


@dataclass(frozen=True)
class LoadResult:
    """One row of raw.loads: a file (or one (ds, target) part of a file) landed under a ds."""

    load_id: int
    ds: date
    source: str
    format: str
    target: str  # events | items
    path: str
    rows: int
    # Record numbers (line_no) whose field count was wrong; they landed anyway (see the adapter docs).
    malformed: tuple[int, ...] = ()


@dataclass(frozen=True)
class Adapter:
    """A format name and the function that lands a PATH of that format into a Landing."""

    name: str
    land: Callable[..., None]  # land(landing, path, ds, **options)
    summary: str
    options: tuple[str, ...] = ()  # extra keyword options land() may forward



def event_type_of(behavior: str | None) -> str | None:
    """Canonical event type of a source behaviour code ('pv' -> 'view'); unknown codes pass through for DQ."""
    return BEHAVIORS.get(behavior, behavior) if behavior is not None else None

def fit_fields(fields: list[str], width: int, sep: str) -> list[str | None]:
    """Force a record to `width` fields: missing ones become NULL, extra ones are joined into the last.

    Used for malformed lines so they still land (and the data-quality stage rejects them) instead of
    aborting the load or being dropped.
    """
    if len(fields) < width:
        return [*fields, *([None] * (width - len(fields)))]
    return [*fields[: width - 1], sep.join(fields[width - 1 :])]


def single_file(path: Path, pattern: str, what: str) -> Path:
    """PATH itself if it is a file, else the one file in the folder matching `pattern`."""
    if path.is_file():
        return path
    found = sorted(p for p in path.glob(pattern) if p.is_file())
    if len(found) != 1:
        listed = ", ".join(p.name for p in found) or "none"
        raise LandingError(f"{path}: expected one {what} ({pattern}) in the folder, found {listed}")
    return found[0]


def describe_header(found: Sequence[Any], expected: Sequence[str]) -> str:
    """A readable account of how a header differs from the expected columns."""
    missing = [c for c in expected if c not in found]
    extra = [c for c in found if c not in expected]
    parts = [f"got {list(found)}", f"expected exactly {list(expected)}"]
    if missing:
        parts.append(f"missing {missing}")
    if extra:
        parts.append(f"unexpected {extra}")
    if not missing and not extra:
        parts.append("same names, wrong order")
    return "; ".join(parts)

