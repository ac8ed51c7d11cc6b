"""Issue 12 item 13: property-based tests for every source adapter (canonical, taobao, seqfile, recbole).

Random bytes and CSV-ish lines (quotes, separators, line breaks, backslashes, NUL, invalid UTF-8, BOMs) never
raise anything but a clear LandingError, and after data quality landed = accepted + rejected holds for every
day and target, with every landed row counted exactly once.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from recpipeline import db
from recpipeline.sources import LandingError, land
from tests.test_door_support import D1, EVENTS_HEADER, ITEMS_HEADER, LOADED_AT, fetch, validate, write

hypothesis = pytest.importorskip("hypothesis")
st = hypothesis.strategies

TABLES = "raw.loads, raw.events, raw.items, clean.events, clean.items, dq.rejects, dq.load_audit, dq.check_results"
SEPARATOR = {"canonical": ",", "taobao": ",", "recbole": "\t", "seqfile": " "}
PIECES = [
    ",",
    "\t",
    " ",
    '"',
    '""',
    "\n",
    "\r\n",
    "\r",
    "\\",
    "\\N",
    "\\.",
    "\x00",
    "\x01",
    "\ufeff",
    "é",
    "🛒",
    "pv",
    "buy",
    "view",
    "purchase",
    "search",
    "1709287200",
    "0",
    "-1",
    "4102444800",
    "2024-03-01T10:00:00Z",
    "1.5",
    "abc",
    "u1",
    "i1",
    "user_id:token",
    "item_id:token",
    "timestamp:float",
    "event_type:token",
]
piece = st.one_of(st.sampled_from(PIECES), st.text(max_size=6))
junk = st.binary(max_size=8)
SETTINGS = hypothesis.settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[hypothesis.HealthCheck.function_scoped_fixture, hypothesis.HealthCheck.too_slow],
    derandomize=True,
)


@st.composite
def csvish(draw, fmt: str) -> bytes:
    """A file body of CSV-ish lines: fields from PIECES and random text, sometimes raw bytes spliced in."""
    sep = SEPARATOR[fmt]
    lines = []
    for _ in range(draw(st.integers(0, 12))):
        fields = draw(st.lists(piece, min_size=0, max_size=9))
        line = sep.join(fields).encode("utf-8", "surrogatepass")
        if draw(st.booleans()):
            cut = draw(st.integers(0, len(line)))
            line = line[:cut] + draw(junk) + line[cut:]
        lines.append(line)
    ending = draw(st.sampled_from([b"\n", b"\r\n", b""]))
    return b"\n".join(lines) + ending


def _empty(url: str) -> None:
    with db.connect(url) as conn, conn.cursor() as cur:
        cur.execute(f"TRUNCATE {TABLES}")


def _land(url: str, fmt: str, body: bytes, header: bool, pinned: bool) -> list | None:
    """Land `body` as a file of `fmt` (with the format's header when asked); None when refused clearly."""
    with tempfile.TemporaryDirectory(prefix="recpipe-prop-") as d:
        root = Path(d)
        if fmt == "canonical":
            path = write(
                root / D1.isoformat() / "events.csv", (EVENTS_HEADER.encode() + b"\n" if header else b"") + body
            )
            write(root / D1.isoformat() / "items.csv", ITEMS_HEADER.encode() + b"\n" + body)
            path = path.parent
        elif fmt == "recbole":
            head = b"user_id:token\titem_id:token\ttimestamp:float\tevent_type:token\n" if header else b""
            path = write(root / "x.inter", head + body)
        else:
            path = write(root / ("ub.csv" if fmt == "taobao" else "seq.txt"), body)
        try:
            return land(url, fmt, path, ds=D1 if pinned else None, loaded_at=LOADED_AT)
        except LandingError:
            return None


def _check_counts(url: str) -> None:
    """landed = accepted + rejected for every landed day and target, and every raw row is counted once."""
    days = [r[0] for r in fetch(url, "SELECT DISTINCT ds FROM raw.loads ORDER BY 1")]
    for ds in days:
        validate(url, ds)
        for target in ("events", "items"):
            [(raw,)] = fetch(url, f"SELECT count(*) FROM raw.{target} WHERE ds = %s", (ds,))
            [(clean,)] = fetch(url, f"SELECT count(*) FROM clean.{target} WHERE ds = %s", (ds,))
            [(rejected,)] = fetch(url, "SELECT count(*) FROM dq.rejects WHERE ds = %s AND target = %s", (ds, target))
            audit = fetch(
                url, "SELECT landed, accepted, rejected FROM dq.load_audit WHERE ds = %s AND target = %s", (ds, target)
            )
            assert audit == [(raw, raw - rejected, rejected)]
            if target == "events":
                assert clean == raw - rejected
    [(loaded,)] = fetch(url, "SELECT coalesce(sum(rows_landed), 0) FROM raw.loads")
    [(rows,)] = fetch(url, "SELECT (SELECT count(*) FROM raw.events) + (SELECT count(*) FROM raw.items)")
    assert loaded == rows


@pytest.mark.parametrize("fmt", ["canonical", "taobao", "seqfile", "recbole"])
def test_random_bytes_never_raise_and_counts_hold(fresh_db, fmt):
    @SETTINGS
    @hypothesis.given(body=st.binary(max_size=600), header=st.booleans(), pinned=st.booleans())
    def check(body: bytes, header: bool, pinned: bool) -> None:
        _empty(fresh_db)
        _land(fresh_db, fmt, body, header, pinned)
        _check_counts(fresh_db)

    check()


@pytest.mark.parametrize("fmt", ["canonical", "taobao", "seqfile", "recbole"])
def test_csvish_lines_never_raise_and_counts_hold(fresh_db, fmt):
    @SETTINGS
    @hypothesis.given(body=csvish(fmt), header=st.booleans(), pinned=st.booleans())
    def check(body: bytes, header: bool, pinned: bool) -> None:
        _empty(fresh_db)
        results = _land(fresh_db, fmt, body, header, pinned)
        if results is not None and pinned:
            assert {r.ds for r in results} <= {D1}
        _check_counts(fresh_db)

    check()
