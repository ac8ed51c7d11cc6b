r"""What every source adapter shares: the result record, the error type, the adapter record, and the door's rules.

Adapters turn a file format into canonical rows (recpipeline.events.EVENT_COLUMNS / ITEM_COLUMNS, all
text) and hand them to a `staging.Landing`; nothing here touches the database.

The door's rules, the same for every format:
- Bytes: files are read as bytes, line by line (read_lines; a line is cut at LINE_LIMIT bytes). A UTF-8
  byte-order mark at the start of a file is dropped. A row with a NUL byte or bytes that are not UTF-8 in
  any field lands with the defect `nul_byte` / `invalid_utf8` and every field of that row in
  backslash-escaped form (a backslash doubled, a NUL or a byte that is not UTF-8 as `\xNN`), so the
  payload keeps the original bytes and two different corrupt values never collapse into one; nothing is
  repaired silently. Control characters land as they are; the data-quality stage quarantines them.
- Field size: a field longer than FIELD_SIZE_LIMIT characters is cut to it and its row gets the defect
  `too_long` (Python's csv module would otherwise abort the whole load at 128 KiB).
- Quotes: in the line-based formats (taobao, recbole, seqfile) a quote never reaches past its own line; a
  line with an odd number of quote characters gets the defect `unbalanced_quote`.
- Event identity for sources without event ids (Taobao, seqfile, RecBole without an event_id column): the
  content, `<prefix>-<digest of (user, item, event type, timestamp)>` (content_id), so an exact duplicate
  gets the id of the row it copies and the data-quality stage quarantines it as `duplicate_row`, and rows
  of several files of one day cannot collide.
- Timestamps: a row is placed under its timestamp's UTC day only when that day is plausible, from
  EARLIEST_DAY to the day of the load time + FUTURE_SLACK; otherwise, and when the timestamp cannot be
  read, under the load's day (--ds, else the UTC date of the load), where the data-quality stage
  quarantines it (ts_implausible / ts_too_early / ts_in_future / bad_ts / missing_ts).
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from recpipeline import quality

# The ds (and timestamp base) for sources that carry no dates, when --ds is not given.
SYNTHETIC_DS = date(2020, 1, 1)
# A source-native behaviour name -> canonical event type (Taobao's vocabulary; also used for RecBole).
BEHAVIORS = {"pv": "view", "click": "click", "cart": "cart", "fav": "fav", "buy": "purchase"}
EARLIEST_DAY = quality.EARLIEST_DAY  # earliest plausible event day (its home is recpipeline.quality)
FUTURE_SLACK = timedelta(hours=1)  # a timestamp up to this far past the load time still places its row
FIELD_SIZE_LIMIT = 65_536  # characters per field; a longer field is cut and its row gets `too_long`
LINE_LIMIT = 1 << 20  # bytes per physical line; the rest of a longer line is skipped (`too_long`)
BOM = b"\xef\xbb\xbf"

csv.field_size_limit(LINE_LIMIT + 1)  # records are assembled from bounded lines; never the default 128 KiB


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
    appends: bool = False  # one load per (ds, file): several files of a day add up (see staging.Landing.finish)


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


def read_lines(path: Path) -> Iterator[tuple[int, bytes, bool]]:
    """(1-based line number, the line's bytes with its terminator, whether it was cut at LINE_LIMIT); BOM dropped."""
    with path.open("rb") as f:
        line_no = 0
        while line := f.readline(LINE_LIMIT):
            line_no += 1
            cut = len(line) >= LINE_LIMIT and not line.endswith(b"\n")
            while cut and (rest := f.readline(LINE_LIMIT)) and not rest.endswith(b"\n"):
                pass  # skip the rest of an over-long line
            if line_no == 1 and line.startswith(BOM):
                line = line[len(BOM) :]
            yield line_no, line, cut


def decode_line(line: bytes) -> str:
    """The bytes as text; bytes that are not UTF-8 become lone surrogates, which clean_fields escapes."""
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError:
        return line.decode("utf-8", "surrogateescape")


def escape_bytes(raw: bytes) -> str:
    r"""Bytes as text that keeps every one of them: a backslash doubled, NUL and non-UTF-8 bytes as `\xNN`."""
    return raw.replace(b"\\", b"\\\\").decode("utf-8", "backslashreplace").replace("\x00", "\\x00")


def clean_fields(fields: Sequence[str | None], defects: list[str]) -> list[str | None]:
    """One row's fields under the door's byte and size rules; the defects found are appended to `defects`.

    A NUL or a surrogate (a byte that was not UTF-8, see decode_line) in any field gives `nul_byte` /
    `invalid_utf8` and every field of the row escaped (escape_bytes); a field over FIELD_SIZE_LIMIT is cut.
    """
    out = list(fields)
    joined = "".join(f for f in out if f)
    if len(joined) <= FIELD_SIZE_LIMIT and "\x00" not in joined and (joined.isascii() or not _has_surrogates(joined)):
        return out  # the common case, decided in one pass over the row
    nul = any(f is not None and "\x00" in f for f in out)
    bad = any(f is not None and not f.isascii() and _has_surrogates(f) for f in out)
    for code, found in (("nul_byte", nul), ("invalid_utf8", bad)):
        if found and code not in defects:
            defects.append(code)
    if nul or bad:
        out = [None if f is None else escape_bytes(f.encode("utf-8", "surrogateescape")) for f in out]
    if any(f is not None and len(f) > FIELD_SIZE_LIMIT for f in out):
        out = [None if f is None else f[:FIELD_SIZE_LIMIT] for f in out]
        if "too_long" not in defects:
            defects.append("too_long")
    return out


def _has_surrogates(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def split_line(text: str, sep: str, defects: list[str]) -> list[str]:
    """Fields of one CSV line (quotes honoured but never past the line); an odd quote count -> `unbalanced_quote`."""
    if text.count('"') % 2:
        defects.append("unbalanced_quote")
    if '"' not in text:
        return text.split(sep)
    try:
        return next(csv.reader([text], delimiter=sep), [])
    except csv.Error:  # a carriage return inside the line: take it literally
        return text.split(sep)


def content_id(prefix: str, user_id: str | None, item_id: str | None, event_type: str | None, ts: str | None) -> str:
    """`<prefix>-<32 hex>`: an event's identity from its content (empty = missing, event type in any case)."""
    parts = [(user_id or "").strip(), (item_id or "").strip(), (event_type or "").strip().lower(), (ts or "").strip()]
    key = "\x00".join(parts)  # unambiguous: fields under the door's rules never hold a NUL (clean_fields)
    digest = hashlib.blake2b(key.encode("utf-8", "surrogatepass"), digest_size=16)
    return f"{prefix}-{digest.hexdigest()}"
