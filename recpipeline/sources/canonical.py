r"""`canonical`: the project's own landing files, `events.csv` / `items.csv` (or `.parquet`) per day.

PATH is one of
- a day folder holding events.* and/or items.*: ds = --ds, else the folder name (YYYY-MM-DD);
- a root folder of YYYY-MM-DD/ day folders: each day lands under its name (with --ds, only that day);
- a single events*/items* file (the name says which): ds = --ds, else its folder name if that is a date.
Every file found lands in the same transaction; each file is one raw.loads row.

Headers must be exactly recpipeline.events.EVENT_COLUMNS / ITEM_COLUMNS (parquet: the same column names,
in any order); anything else is a LandingError naming the missing and unexpected columns.
Values land as text exactly as in the file, except that an empty field lands as NULL. line_no is the
1-based number of the data record (the header is not counted; a quoted field spanning several lines is
one record); for parquet it is the row number. Typed parquet values are rendered by Arrow's cast to text.

CSV fast path: PostgreSQL parses the file itself (COPY ... FORMAT csv HEADER into a temp table whose
identity column numbers the records in file order, then one INSERT ... SELECT); Python only shovels
bytes. Measured on a synthetic 2M-row events.csv (118 MB, embedded PostgreSQL 16, 2 shared CPUs): the
COPY into the temp table takes 1.7-3.4 s where pandas read_csv(dtype=str) + to_csv alone took 9.8 s
before its own COPY; a whole land takes 15-29 s (70k-135k rows/s, by machine load), most of it the
INSERT into raw.events, whose per-row foreign-key check and two indexes cost the same whichever way
rows arrive (a direct COPY into raw.events took 24.7 s). The fallback path below: about 31 s.

Malformed files: when COPY refuses the file (a record with the wrong number of fields, a stray quote or
carriage return, invalid UTF-8, a NUL byte) or the file holds a bare `\.` line (COPY's end-of-data
marker, which would silently cut the file short), the file is re-read record by record in Python
instead, so nothing is lost at the door: a record with too few fields gets NULL for its missing columns,
one with too many has the surplus fields joined with ',' into its last column (`value` / `updated_at`).
Those records land for the data-quality stage to judge, their line_no is logged and listed in
LoadResult.malformed. On that path blank lines (no data) are skipped without a line_no, and the door's
rules (base) apply: NUL bytes and bytes that are not UTF-8 land backslash-escaped with the defect
`nul_byte` / `invalid_utf8`, fields over FIELD_SIZE_LIMIT are cut (`too_long`). A quoted field may span
lines (at most MAX_RECORD_LINES, LINE_LIMIT bytes); a record that spans lines but has the wrong number of
fields or breaks strict CSV (a closing quote followed by more text), or a quote that does not close
within those bounds, is a stray quote: its first line is read on its own (defect `unbalanced_quote`) and
reading resumes at the next line, so a stray quote costs one record, never the lines after it. Because
COPY's CSV parser is lenient (a stray quote closed by a later one can fold several lines into one record
of the right width), a file whose COPY yields any field spanning lines, or longer than FIELD_SIZE_LIMIT,
also takes the record-by-record path.
"""

from __future__ import annotations

import csv
import io
import logging
import re
from collections import deque
from collections.abc import Iterable, Iterator
from datetime import date
from pathlib import Path
from typing import BinaryIO

import psycopg2
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from recpipeline.days import parse_day
from recpipeline.sources.base import (
    EARLIEST_DAY,
    FIELD_SIZE_LIMIT,
    LINE_LIMIT,
    Adapter,
    LandingError,
    clean_fields,
    decode_line,
    describe_header,
    fit_fields,
    read_lines,
)
from recpipeline.sources.staging import CHUNK_ROWS, Landing

log = logging.getLogger(__name__)
SUFFIXES = (".csv", ".parquet")
_END_MARKER = re.compile(rb"\n\\\.(?:\r?\n|\r|$)")
MAX_RECORD_LINES = 100  # physical lines one quoted record may span on the record-by-record path


def land_canonical(landing: Landing, path: Path, ds: date | None) -> None:
    """Land every canonical file under PATH (see the module docstring for the layouts)."""
    for day, target, file in plan(path, ds):
        if file.suffix == ".parquet":
            _land_parquet(landing, target, file, day)
        else:
            _land_csv(landing, target, file, day)


def plan(path: Path, ds: date | None) -> list[tuple[date, str, Path]]:
    """(ds, target, file) for every file PATH stands for, in landing order."""
    if path.is_file():
        day = ds or parse_day(path.parent.name)
        if day is None:
            raise LandingError(f"{path}: a single file needs --ds (its folder name is not a YYYY-MM-DD date)")
        return [(_plausible(day, path), _target_of(path), path)]
    files = _day_files(path)
    if files:
        day = ds or parse_day(path.name)
        if day is None:
            raise LandingError(f"{path}: folder name is not a YYYY-MM-DD date; pass --ds")
        return [(_plausible(day, path), target, file) for target, file in files]
    days = sorted((d, p) for p in path.iterdir() if p.is_dir() and (d := parse_day(p.name)) is not None)
    if not days:
        raise LandingError(f"{path}: no events/items files ({', '.join(SUFFIXES)}) and no YYYY-MM-DD day folders")
    if ds is not None:
        days = [(d, p) for d, p in days if d == ds]
        if not days:
            raise LandingError(f"{path}: no day folder {ds.isoformat()}")
    out = []
    for day, folder in days:
        _plausible(day, folder)
        files = _day_files(folder)
        if not files:
            raise LandingError(f"{folder}: day folder holds no events or items file ({', '.join(SUFFIXES)})")
        out += [(day, target, file) for target, file in files]
    return out


def _plausible(day: date, path: Path) -> date:
    """`day` itself; a LandingError if it is before EARLIEST_DAY."""
    if day < EARLIEST_DAY:
        raise LandingError(f"{path}: day {day} is before the earliest plausible day {EARLIEST_DAY}")
    return day


def _day_files(folder: Path) -> list[tuple[str, Path]]:
    out = []
    for target in ("events", "items"):
        found = [folder / f"{target}{s}" for s in SUFFIXES if (folder / f"{target}{s}").is_file()]
        if len(found) > 1:
            raise LandingError(f"{folder}: both {found[0].name} and {found[1].name}; keep one")
        if found:
            out.append((target, found[0]))
    return out


def _target_of(file: Path) -> str:
    if file.suffix not in SUFFIXES:
        raise LandingError(f"{file}: canonical files are {' or '.join(SUFFIXES)}")
    for target in ("events", "items"):
        if file.name.startswith(target):
            return target
    raise LandingError(f"{file}: cannot tell events from items; name the file events.* or items.*")


def _land_csv(landing: Landing, target: str, path: Path, ds: date) -> None:
    columns = landing.columns(target)
    header = _read_header(path)
    if tuple(header) != columns:
        raise LandingError(f"{path}: bad {target} header: {describe_header(header, columns)}")
    landing.begin(target, ds)
    cur = landing.cur
    cur.execute("SAVEPOINT canonical_copy")
    reason = None
    try:
        with path.open("rb") as f:
            watch = _EndMarkerWatch(f)
            rows = landing.copy_csv(target, watch, columns, header=True)
        if watch.seen:
            reason = "a bare \\. line (COPY's end-of-data marker)"
        else:
            reason = _needs_record_path(landing, target, columns)
    except psycopg2.DataError as exc:
        reason = " ".join(str(exc).split())
    malformed: list[int] = []
    if reason is None:
        cur.execute("RELEASE SAVEPOINT canonical_copy")
    else:
        cur.execute("ROLLBACK TO SAVEPOINT canonical_copy")
        log.warning("%s: COPY cannot take it as is (%s); re-reading it record by record", path, reason)
        rows = landing.copy_rows(target, _python_rows(landing, path, ds, len(columns), malformed))
        if malformed:
            shown = ", ".join(map(str, malformed[:10])) + (" ..." if len(malformed) > 10 else "")
            log.warning("%s: %d record(s) with a wrong field count landed as is: %s", path, len(malformed), shown)
    landing.finish(target, path, {ds: rows}, {ds: malformed})


def _needs_record_path(landing: Landing, target: str, columns: tuple[str, ...]) -> str | None:
    """Why rows COPY took must be read record by record after all (a field spanning lines, or over the limit).

    PostgreSQL's CSV parser is lenient: a stray quote that a later quote closes can fold several lines into one
    record of the right width. Only the record-by-record path can tell such a record from a real multi-line field.
    """
    spans = " OR ".join(f"strpos({c}, chr(10)) > 0 OR strpos({c}, chr(13)) > 0" for c in columns)
    longest = ", ".join(f"coalesce(length({c}), 0)" for c in columns)
    landing.cur.execute(
        f"SELECT coalesce(bool_or({spans}), false), coalesce(max(greatest({longest})), 0) > %s"
        f" FROM pg_temp._stage_{target}",
        (FIELD_SIZE_LIMIT,),
    )
    spanning, too_long = landing.cur.fetchone()
    if spanning:
        return "a field spans lines"
    return f"a field is longer than {FIELD_SIZE_LIMIT} characters" if too_long else None


def _read_header(path: Path) -> list[str]:
    with path.open(encoding="utf-8-sig", errors="replace", newline="") as f:
        return next(csv.reader(f), [])


def _python_rows(landing: Landing, path: Path, ds: date, width: int, malformed: list[int]) -> Iterator[tuple]:
    """(ds, line_no, *fields) per record, fitted to `width` fields; wrong widths -> malformed, defects flagged."""
    lines = read_lines(path)
    next(lines, None)  # the header, already checked
    line_no = 0
    for record, defects in _records(lines, width):
        if not record:
            continue
        line_no += 1
        if len(record) != width:
            malformed.append(line_no)
            record = fit_fields(record, width, ",")
        record = clean_fields(record, defects)
        landing.flag(line_no, defects)
        yield (ds, line_no, *record)


def _records(lines: Iterable[tuple[int, bytes, bool]], width: int) -> Iterator[tuple[list[str], list[str]]]:
    """CSV records and their door defects; a stray quote swallows no line after its own (module docstring)."""
    pending: deque[tuple[int, bytes, bool]] = deque()
    source = iter(lines)
    while first := (pending.popleft() if pending else next(source, None)):
        texts = [decode_line(first[1])]
        open_quote = _ends_open(texts[0], False)
        size = len(first[1])
        taken = [first]
        while open_quote and len(taken) < MAX_RECORD_LINES and size <= LINE_LIMIT:
            more = pending.popleft() if pending else next(source, None)
            if more is None:
                break
            taken.append(more)
            texts.append(decode_line(more[1]))
            size += len(more[1])
            open_quote = _ends_open(texts[-1], True)
        defects = ["too_long"] if any(cut for _, _, cut in taken) else []
        record = _parse(texts, strict=len(taken) > 1)
        if open_quote or (len(taken) > 1 and (record is None or len(record) != width)):
            pending.extendleft(reversed(taken[1:]))
            record = _parse([texts[0].rstrip("\r\n")]) or []  # its line break is not part of a field
            defects = (["too_long"] if first[2] else []) + ["unbalanced_quote"]
        yield record or [], defects


def _parse(texts: list[str], strict: bool = False) -> list[str] | None:
    """The one CSV record in `texts`: csv's lenient rules on one line (a carriage return mid-line is taken
    literally); across lines strict ones (a quote closed and followed by more text is a stray quote: None)."""
    try:
        return next(csv.reader(texts, strict=strict), [])
    except csv.Error:
        return None if strict else "".join(texts).rstrip("\r\n").split(",")


def _ends_open(text: str, inside: bool) -> bool:
    """Whether a quoted field is still open at the end of `text` (csv's rules), starting inside one or not."""
    if '"' not in text:
        return inside
    i, n, state = 0, len(text), "quoted" if inside else "start"
    while i < n:
        c = text[i]
        if state == "quoted":
            j = text.find('"', i)
            if j < 0:
                return True
            i, state = j + 1, "quote"
            continue
        if state == "quote" and c == '"':
            state = "quoted"
        elif c in ",\r\n":
            state = "start"
        elif state == "start" and c == '"':
            state = "quoted"
        elif state != "field":
            state = "field"
        i += 1
    return state == "quoted"


class _EndMarkerWatch:
    r"""Hands a binary file to COPY unchanged and notes whether it contains a bare `\.` line."""

    def __init__(self, f: BinaryIO) -> None:
        self._f = f
        self._tail = b""
        self.seen = False

    def read(self, size: int = -1) -> bytes:
        chunk = self._f.read(size)
        if chunk and not self.seen:
            window = self._tail + chunk
            self.seen = _END_MARKER.search(window) is not None
            self._tail = window[-3:]
        return chunk


def _land_parquet(landing: Landing, target: str, path: Path, ds: date) -> None:
    columns = landing.columns(target)
    try:
        parquet = pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as exc:
        raise LandingError(f"{path}: not a readable parquet file: {exc}") from exc
    names = parquet.schema_arrow.names
    if sorted(names) != sorted(columns):
        raise LandingError(f"{path}: bad {target} columns: {describe_header(names, columns)}")
    landing.begin(target, ds)
    rows = 0
    options = pacsv.WriteOptions(include_header=False, quoting_style="all_valid")
    for batch in parquet.iter_batches(batch_size=CHUNK_ROWS, columns=list(columns)):
        line_no = pa.array(range(rows + 1, rows + batch.num_rows + 1), pa.int64())
        texts = [_as_text(batch.column(name)) for name in columns]
        buf = io.BytesIO()
        pacsv.write_csv(pa.table([line_no, *texts], names=["line_no", *columns]), buf, options)
        buf.seek(0)
        rows += landing.copy_csv(target, buf, ("line_no", *columns))
    landing.finish(target, path, {ds: rows})


def _as_text(column: pa.Array) -> pa.Array:
    if pa.types.is_string(column.type):
        return column
    return pc.cast(column, pa.string())


ADAPTER = Adapter(
    "canonical",
    land_canonical,
    "the project's landing files: a YYYY-MM-DD folder of events/items .csv|.parquet, a root of such "
    "folders, or one file",
)
