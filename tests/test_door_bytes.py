r"""Issue 12 row 2: NUL bytes, invalid UTF-8 and control characters in any field quarantine the row.

Before: a NUL or an invalid byte became U+FFFD and the row was accepted (`10\x0001` -> item `10�01`), so two
different corrupt ids collapsed into one. Now the row lands with every field backslash-escaped and the
defect code (nul_byte / invalid_utf8), and data quality quarantines it with the original bytes in the payload.
"""

from __future__ import annotations

import pytest

from recpipeline.sources import land
from recpipeline.sources.base import escape_bytes
from tests.test_door_support import D1, EVENTS_HEADER, audit, clean_events, fetch, rejects, validate, write

T = "2024-03-01T10:00:00Z"


def test_taobao_nul_and_invalid_utf8_ids_are_quarantined_with_their_bytes(fresh_db, workdir):
    body = (
        b"1,10\x0001,7,pv,1709287200\n1,10\xff01,7,pv,1709287200\n1,10\xfe01,7,pv,1709287200\n2,1001,7,pv,1709287200\n"
    )
    land(fresh_db, "taobao", write(workdir / "ub.csv", body))
    validate(fresh_db, D1)
    assert [(u, i) for _, u, i, _, _ in clean_events(fresh_db, D1)] == [("2", "1001")]
    got = [(reasons, payload["item_id"]) for _, reasons, payload, _ in rejects(fresh_db, D1)]
    assert got == [({"nul_byte"}, "10\\x0001"), ({"invalid_utf8"}, "10\\xff01"), ({"invalid_utf8"}, "10\\xfe01")]
    assert "\ufffd" not in str(fetch(fresh_db, "SELECT array_agg(item_id) FROM raw.events"))
    # the catalogue rows of the corrupt ids are quarantined too, and stay distinct
    items = {payload["item_id"]: reasons for _, reasons, payload, _ in rejects(fresh_db, D1, "items")}
    assert items == {"10\\x0001": {"nul_byte"}, "10\\xff01": {"invalid_utf8"}, "10\\xfe01": {"invalid_utf8"}}


def test_escaping_keeps_every_byte_and_backslashes_stay_unambiguous():
    assert escape_bytes(b"a\\x00") == "a\\\\x00"  # a literal backslash-x-0-0 ...
    assert escape_bytes(b"a\x00") == "a\\x00"  # ... differs from a NUL
    assert escape_bytes("é".encode() + b"\xff") == "é\\xff"
    assert escape_bytes("é".encode()[:1]) == "\\xc3"


@pytest.mark.parametrize("fmt", ["canonical", "seqfile", "recbole"])
def test_every_adapter_quarantines_nul_and_invalid_utf8(fresh_db, workdir, fmt):
    path = _file(workdir, fmt, [b"u\x001", b"u\xff2", b"u3"])
    land(fresh_db, fmt, path, ds=D1)
    validate(fresh_db, D1)
    assert [u for _, u, _, _, _ in clean_events(fresh_db, D1)] == ["u3"]
    got = sorted((payload["user_id"], tuple(sorted(reasons))) for _, reasons, payload, _ in rejects(fresh_db, D1))
    assert got == [("u\\x001", ("nul_byte",)), ("u\\xff2", ("invalid_utf8",))]


@pytest.mark.parametrize("value", ["u\t1", "u\n1", "u\r1", "u\x1b1", "u\x7f1", "u\x851", "u\x011"])
@pytest.mark.parametrize("field", ["user_id", "item_id", "ts", "value", "session_id", "event_type"])
def test_control_characters_in_any_field_quarantine_the_row(fresh_db, workdir, field, value):
    row = {
        "event_id": "e1",
        "user_id": "u1",
        "item_id": "i1",
        "event_type": "purchase",
        "ts": T,
        "session_id": "s1",
        "query": "",
        "value": "1.5",
    }
    row[field] = value if field not in ("ts", "value", "event_type") else row[field] + value[1]
    line = ",".join('"' + v.replace('"', '""') + '"' for v in row.values())
    write(workdir / D1.isoformat() / "events.csv", EVENTS_HEADER + "\n" + line + "\n")
    land(fresh_db, "canonical", workdir / D1.isoformat())
    validate(fresh_db, D1)
    assert audit(fresh_db, D1)["events"] == (1, 0, 1)
    [(_, reasons, payload, _)] = rejects(fresh_db, D1)
    assert "control_chars" in reasons
    assert payload[field] == row[field]  # landed verbatim: control characters are quarantined, not stripped


def test_query_text_may_hold_tabs_and_line_breaks(fresh_db, workdir):
    write(workdir / D1.isoformat() / "events.csv", EVENTS_HEADER + f'\ne1,u1,,search,{T},s1,"red\tshoes\r\nsize 9",\n')
    land(fresh_db, "canonical", workdir / D1.isoformat())
    validate(fresh_db, D1)
    assert fetch(fresh_db, "SELECT query FROM clean.events") == [("red\tshoes\r\nsize 9",)]


def _file(workdir, fmt, users: list[bytes]):
    """A file of `fmt` with one event per user id (given as raw bytes) on D1."""
    if fmt == "canonical":
        lines = [b"e%d,%s,i1,view,%s,,," % (n, u, T.encode()) for n, u in enumerate(users)]
        return write(
            workdir / D1.isoformat() / "events.csv", EVENTS_HEADER.encode() + b"\n" + b"\n".join(lines) + b"\n"
        )
    if fmt == "seqfile":
        return write(workdir / "seq.txt", b"".join(u + b" i1\n" for u in users))
    return write(workdir / "x.inter", b"user_id:token\titem_id:token\n" + b"".join(u + b"\ti1\n" for u in users))
