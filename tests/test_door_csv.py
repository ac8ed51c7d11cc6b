"""Issue 12 rows 6 and 13 (BOM): CSV robustness for every adapter.

Before: a Taobao field over 128 KiB ended the load in an unhandled `_csv.Error`; a stray quote in a 3k-line
file folded 2,998 good lines into one rejected record; a byte-order mark stayed in the first user id.
Now: fields over base.FIELD_SIZE_LIMIT are cut and quarantined as too_long, a stray quote costs its own
record only, and a BOM is dropped.
"""

from __future__ import annotations

import pytest

from recpipeline.sources import land
from recpipeline.sources.base import FIELD_SIZE_LIMIT, LINE_LIMIT
from tests.test_door_support import D1, EVENTS_HEADER, audit, clean_events, fetch, rejects, validate, write

T = "2024-03-01T10:00:00Z"
BIG = "x" * (200 * 1024)  # over Python csv's default 128 KiB and over FIELD_SIZE_LIMIT


def good_lines(fmt: str, n: int) -> list[str]:
    """`n` valid event lines of `fmt` on D1, user u<k> item i<k>."""
    if fmt == "taobao":
        return [f"u{k},i{k},7,pv,{1709287200 + k}" for k in range(n)]
    if fmt == "canonical":
        return [f"e{k},u{k},i{k},view,{T},,," for k in range(n)]
    if fmt == "recbole":
        return [f"u{k}\ti{k}\t{1709287200 + k}" for k in range(n)]
    return [f"u{k} i{k}" for k in range(n)]


def file_of(workdir, fmt: str, lines: list[str], bom: bool = False):
    """A file of `fmt` holding `lines` (with its header where the format has one)."""
    head = {"canonical": [EVENTS_HEADER], "recbole": ["user_id:token\titem_id:token\ttimestamp:float"]}.get(fmt, [])
    body = ("\ufeff" if bom else "") + "\n".join(head + lines) + "\n"
    name = {"canonical": f"{D1}/events.csv", "taobao": "ub.csv", "recbole": "x.inter", "seqfile": "seq.txt"}[fmt]
    return write(workdir / name, body)


@pytest.mark.parametrize("fmt", ["canonical", "taobao", "seqfile", "recbole"])
def test_a_field_over_the_size_limit_is_too_long_and_the_load_goes_on(fresh_db, workdir, fmt):
    lines = good_lines(fmt, 3)
    lines[1] = lines[1].replace("u1", "u1" + BIG, 1)
    land(fresh_db, fmt, file_of(workdir, fmt, lines), ds=D1)
    stored = fetch(fresh_db, "SELECT max(length(user_id)) FROM raw.events")[0][0]
    assert stored <= len(BIG) + 2 and (fmt == "canonical" or stored == FIELD_SIZE_LIMIT)
    validate(fresh_db, D1)
    assert audit(fresh_db, D1)["events"] == (3, 2, 1)
    [(_, reasons, payload, _)] = rejects(fresh_db, D1)
    assert reasons == {"too_long"} and payload["user_id"].startswith("u1xxx")


def test_a_line_over_the_line_limit_is_cut_and_the_next_lines_still_land(fresh_db, workdir):
    lines = good_lines("taobao", 3)
    lines[1] = "u1," + "y" * (LINE_LIMIT + 10) + ",7,pv,1709287200"
    land(fresh_db, "taobao", file_of(workdir, "taobao", lines), ds=D1)
    validate(fresh_db, D1)
    assert audit(fresh_db, D1)["events"] == (3, 2, 1)
    assert "too_long" in rejects(fresh_db, D1)[0][1]


@pytest.mark.parametrize("fmt", ["canonical", "taobao", "seqfile", "recbole"])
def test_a_stray_quote_costs_its_own_record_only(fresh_db, workdir, fmt):
    lines = good_lines(fmt, 3000)
    lines[1] = lines[1].replace("u1", '"u1', 1)  # opens a quoted field that never closes
    lines[5] = lines[5].replace("u5", 'u"5', 1)  # a quote inside an unquoted field
    land(fresh_db, fmt, file_of(workdir, fmt, lines), ds=D1)
    validate(fresh_db, D1)
    landed, accepted, rejected = audit(fresh_db, D1)["events"]
    assert landed == 3000 and accepted >= 2998
    assert {u for _, u, *_ in clean_events(fresh_db, D1)} >= {f"u{k}" for k in range(3000) if k not in (1, 5)}


def test_canonical_multi_line_quoted_fields_still_work_next_to_a_stray_quote(fresh_db, workdir):
    lines = [f'e1,u1,,search,{T},,"two\nlines",', f'e2,"u2,i2,view,{T},,,', f"e3,u3,i3,view,{T},,,"]
    land(fresh_db, "canonical", file_of(workdir, "canonical", lines), ds=D1)
    rows = fetch(fresh_db, "SELECT line_no, event_id, user_id, query, defects FROM raw.events ORDER BY line_no")
    assert rows[0] == (1, "e1", "u1", "two\nlines", None)
    assert rows[1][1] == "e2" and rows[1][4] == ["unbalanced_quote"]
    assert rows[2] == (3, "e3", "u3", None, None)


@pytest.mark.parametrize("fmt", ["canonical", "taobao", "seqfile", "recbole"])
def test_a_byte_order_mark_is_dropped(fresh_db, workdir, fmt):
    land(fresh_db, fmt, file_of(workdir, fmt, good_lines(fmt, 2), bom=True), ds=D1)
    assert sorted(r[0] for r in fetch(fresh_db, "SELECT user_id FROM raw.events")) == ["u0", "u1"]
