"""PostgreSQL binary COPY, encoded column-wise with numpy: no Python work per row.

Scored rows arrive as matrices of item indices and float scores, so text columns are dictionary-encoded here
(a `Vocabulary` of distinct strings, encoded once, plus one index per row). Binary COPY spares PostgreSQL the
CSV state machine and float parsing, the larger part of a bulk write's cost (measured in bench/scoring.py).
Format: "Binary Format" in https://www.postgresql.org/docs/current/sql-copy.html
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np

HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)  # signature, flags, header extension length
TRAILER = b"\xff\xff"  # field count -1
PG_EPOCH = date(2000, 1, 1)
NULL_FIELD = b"\xff\xff\xff\xff"  # field length -1
NUMBER_TYPES = {"int2": ">i2", "int4": ">i4", "int8": ">i8", "float4": ">f4", "float8": ">f8", "date": ">i4"}


class Vocabulary:
    """Distinct strings as binary COPY fields (4-byte length + UTF-8), encoded once; index -1 is NULL."""

    def __init__(self, values: Sequence[str]):
        fields = [len(b).to_bytes(4, "big") + b for b in (str(v).encode() for v in values)] + [NULL_FIELD]
        self.blob = np.frombuffer(b"".join(fields), dtype=np.uint8)
        self.sizes = np.fromiter((len(f) for f in fields), dtype=np.int64, count=len(fields))
        self.starts = np.cumsum(self.sizes) - self.sizes

    def __len__(self) -> int:
        return len(self.sizes) - 1


@dataclass(frozen=True)
class Const:
    """The same value in every row: a string (text) or a number of the given PostgreSQL type."""

    value: str | int | float | date
    pgtype: str = "text"

    def fields(self) -> list[tuple[str, object]]:
        if self.pgtype == "text":
            raw = str(self.value).encode()
            return [(">i4", len(raw)), (f"S{len(raw)}", raw)]
        value = (self.value - PG_EPOCH).days if self.pgtype == "date" else self.value
        dtype = NUMBER_TYPES[self.pgtype]
        return [(">i4", np.dtype(dtype).itemsize), (dtype, value)]


@dataclass(frozen=True)
class Number:
    """One number per row (`pgtype` int2/int4/int8/float4/float8); NaN in a float column is written as NULL
    when `nan_is_null`."""

    values: np.ndarray
    pgtype: str
    nan_is_null: bool = False


@dataclass(frozen=True)
class Text:
    """One string per row, as indices into a Vocabulary (-1 = NULL)."""

    codes: np.ndarray
    vocabulary: Vocabulary


Column = Const | Number | Text


def encode_rows(columns: Sequence[Column], n: int) -> bytes:
    """The binary COPY tuples for `n` rows (no file header or trailer: see HEADER / TRAILER).

    Fixed-width leading columns (every `Const`, and `Number` columns that cannot be NULL) are laid out as
    one structured record per row; the rest are copied in with one vectorized scatter per column.
    """
    lead = 0
    while lead < len(columns) and _fixed(columns[lead]):
        lead += 1
    fixed = [
        (f"c{i}_{j}", dtype, value)
        for i, col in enumerate(columns[:lead])
        for j, (dtype, value) in enumerate(_fields(col))
    ]
    record = np.empty(n, dtype=[("count", ">i2")] + [(name, dtype) for name, dtype, _ in fixed])
    record["count"] = len(columns)
    for name, _, value in fixed:
        record[name] = value
    segments = [_segments(col, n) for col in columns[lead:]]
    row_size = record.dtype.itemsize + sum((sizes for _, _, sizes in segments), np.zeros(n, dtype=np.int64))
    row_start = np.cumsum(row_size) - row_size
    out = np.empty(int(row_size.sum()), dtype=np.uint8)
    width = record.dtype.itemsize
    out[(row_start[:, None] + np.arange(width)).ravel()] = record.view(np.uint8)
    pos = row_start + width
    for blob, starts, sizes in segments:
        _scatter(out, pos, blob, starts, sizes)
        pos += sizes
    return out.tobytes()


def _fixed(col: Column) -> bool:
    return isinstance(col, Const) or (isinstance(col, Number) and not col.nan_is_null)


def _fields(col: Column) -> list[tuple[str, object]]:
    if isinstance(col, Const):
        return col.fields()
    assert isinstance(col, Number)
    dtype = NUMBER_TYPES[col.pgtype]
    return [(">i4", np.dtype(dtype).itemsize), (dtype, col.values)]


def _segments(col: Column, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(source bytes, per-row start in them, per-row size) of a variable-width column."""
    if isinstance(col, Text):
        codes = np.where(col.codes >= 0, col.codes, len(col.vocabulary))  # -1 -> the NULL entry
        return col.vocabulary.blob, col.vocabulary.starts[codes], col.vocabulary.sizes[codes]
    if isinstance(col, Number):  # nullable: 4-byte length + value, or the 4-byte NULL marker
        dtype = np.dtype(NUMBER_TYPES[col.pgtype])
        cell = np.empty(n, dtype=[("size", ">i4"), ("value", dtype)])
        cell["size"] = dtype.itemsize
        cell["value"] = col.values
        null = np.isnan(col.values)
        cell["size"][null] = -1
        sizes = np.where(null, 4, 4 + dtype.itemsize).astype(np.int64)
        return cell.view(np.uint8), np.arange(n, dtype=np.int64) * cell.dtype.itemsize, sizes
    raise TypeError(f"{col!r} cannot be NULL-able or variable width")


def _scatter(out: np.ndarray, pos: np.ndarray, blob: np.ndarray, starts: np.ndarray, sizes: np.ndarray) -> None:
    """out[pos[r] : pos[r] + sizes[r]] = blob[starts[r] : starts[r] + sizes[r]] for every row r, vectorized."""
    total = int(sizes.sum())
    into = np.arange(total, dtype=np.int64)
    before = np.cumsum(sizes) - sizes
    out[np.repeat(pos - before, sizes) + into] = blob[np.repeat(starts - before, sizes) + into]
