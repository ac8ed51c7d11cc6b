"""Issue 12 rows 1 and 7: event identity from content for sources without ids, and several files per day.

Taobao, seqfile and RecBole (without an event_id column) name events by their content, so an exact duplicate
is quarantined as a duplicate of the kept row, two files of one day both land without colliding, and landing
the same file again (same path, or the same bytes elsewhere) changes nothing.
"""

from __future__ import annotations

import shutil

import pytest

from recpipeline.sources import land
from recpipeline.sources.base import content_id
from tests.test_door_support import D1, audit, clean_events, fetch, rejects, validate, write

TB = "1,100,7,pv,1709287200\n"  # user 1 views item 100 at 2024-03-01T10:00:00Z


def test_taobao_exact_duplicates_are_quarantined_as_copies_of_the_kept_row(fresh_db, workdir):
    body = TB * 10 + "1,101,7,buy,1709287260\n2,100,7,pv,1709287200\n"
    [events, _] = land(fresh_db, "taobao", write(workdir / "ub.csv", body))
    assert events.rows == 12

    validate(fresh_db, D1)
    assert audit(fresh_db, D1)["events"] == (12, 3, 9)
    kept = clean_events(fresh_db, D1)
    assert [(u, i, t) for _, u, i, t, _ in kept] == [
        ("1", "100", "view"),
        ("1", "101", "purchase"),
        ("2", "100", "view"),
    ]
    assert kept[0][0] == content_id("tb", "1", "100", "view", "2024-03-01T10:00:00Z")
    load_id = events.load_id
    quarantined = rejects(fresh_db, D1)
    assert [line for line, *_ in quarantined] == list(range(2, 11))
    for _, reasons, payload, message in quarantined:
        assert reasons == {"duplicate_row"}
        assert payload["event_id"] == kept[0][0]
        assert message.endswith(f"(kept: load {load_id} line 1)")


def test_seqfile_repeated_line_and_recbole_repeated_row_are_duplicates(fresh_db, workdir):
    land(fresh_db, "seqfile", write(workdir / "s" / "seq.txt", "u1 10 11\nu1 10 11\nu2 10\n"), ds=D1)
    write(
        workdir / "r" / "r.inter",
        "user_id:token\titem_id:token\ttimestamp:float\nu9\ti1\t1709287200\nu9\ti1\t1709287200\nu9\ti1\t1709287201\n",
    )
    land(fresh_db, "recbole", workdir / "r" / "r.inter", ds=D1)
    validate(fresh_db, D1)
    assert audit(fresh_db, D1)["events"] == (8, 5, 3)
    assert sorted(reasons for _, r, _, _ in rejects(fresh_db, D1) for reasons in r) == ["duplicate_row"] * 3


@pytest.mark.parametrize("fmt", ["taobao", "seqfile", "recbole"])
def test_two_files_of_one_day_both_land_and_relanding_one_changes_nothing(fresh_db, workdir, fmt):
    first, second, copy = _two_files(workdir, fmt)
    land(fresh_db, fmt, first, ds=D1, source="shop")
    land(fresh_db, fmt, second, ds=D1, source="shop")  # before: replaced the first file's rows, or collided
    validate(fresh_db, D1)
    assert audit(fresh_db, D1)["events"] == (4, 4, 0)
    before = (clean_events(fresh_db, D1), _raw_without_load_ids(fresh_db))

    land(fresh_db, fmt, first, ds=D1, source="shop")  # the same file again
    land(fresh_db, fmt, copy, ds=D1, source="shop")  # the same bytes under another path
    validate(fresh_db, D1)
    assert audit(fresh_db, D1)["events"] == (4, 4, 0)
    assert (clean_events(fresh_db, D1), _raw_without_load_ids(fresh_db)) == before
    assert fetch(fresh_db, "SELECT count(*) FROM raw.loads WHERE target = 'events'") == [(2,)]


def test_taobao_items_of_two_files_are_exact_copies_and_do_not_fail_the_day(fresh_db, workdir):
    land(fresh_db, "taobao", write(workdir / "a.csv", "1,100,7,pv,1709287200\n"), source="tb")
    land(fresh_db, "taobao", write(workdir / "b.csv", "2,100,7,pv,1709287300\n2,101,7,pv,1709287400\n"), source="tb")
    report = validate(fresh_db, D1, max_reject_rate=0.2)
    assert report is not None and not report.failed
    assert audit(fresh_db, D1)["items"] == (3, 2, 1)
    assert [r for _, r, _, _ in rejects(fresh_db, D1, "items")] == [{"duplicate_row"}]
    assert len(clean_events(fresh_db, D1)) == 3


def _two_files(workdir, fmt):
    """Two different files of the same day for `fmt`, and a byte-identical copy of the first elsewhere."""
    if fmt == "taobao":
        a = write(workdir / "a" / "part1.csv", "1,100,7,pv,1709287200\n1,101,7,pv,1709287300\n")
        b = write(workdir / "b" / "part2.csv", "2,100,7,pv,1709287200\n2,102,7,pv,1709287300\n")
    elif fmt == "seqfile":
        a = write(workdir / "a" / "part1.txt", "u1 10 11\n")
        b = write(workdir / "b" / "part2.txt", "u2 10 12\n")
    else:
        header = "user_id:token\titem_id:token\ttimestamp:float\n"
        a = write(workdir / "a" / "part1.inter", header + "u1\ti1\t1709287200\nu1\ti2\t1709287300\n")
        b = write(workdir / "b" / "part2.inter", header + "u2\ti1\t1709287200\nu2\ti3\t1709287300\n")
    copy = workdir / "c" / a.name
    copy.parent.mkdir()
    shutil.copy(a, copy)
    return a, b, copy


def _raw_without_load_ids(url):
    return fetch(
        url, "SELECT ds, line_no, event_id, user_id, item_id, event_type, ts FROM raw.events ORDER BY event_id, line_no"
    )
