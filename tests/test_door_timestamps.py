"""Issue 12 row 3: no absurd days. Without --ds a row lands on its timestamp's day only when that day is
plausible (2000-01-01 .. the load time); implausible and unreadable timestamps land on the load's day and are
quarantined there. Before: ts=0 and negative stamps created 1970-01-01 / 1922-02-06 and were accepted, and one
year-2100 row pulled every undated row onto 2100-01-01."""

from __future__ import annotations

from datetime import date

import pytest

from recpipeline.quality import EARLIEST_DAY
from recpipeline.sources import LandingError, land
from tests.test_door_support import D1, LOAD_DAY, LOADED_AT, audit, clean_events, raw_days, rejects, validate, write

GOOD = "1,100,7,pv,1709287200"  # 2024-03-01T10:00:00Z
ABSURD = {
    "0": {"ts_implausible", "ts_too_early"},  # 1970-01-01
    "-1510000000": {"ts_implausible", "ts_too_early"},  # 1922
    "946684799": {"ts_implausible", "ts_too_early"},  # 1999-12-31T23:59:59Z, one second too early
    "4102444800": {"ts_in_future"},  # 2100-01-01
    "1709900000": {"ts_after_day"},  # 2024-03-08: after the load time (2024-03-05 12:00)
    "garbage": {"bad_ts"},
    "": {"missing_ts"},
}


def test_taobao_absurd_timestamps_land_on_the_loads_day_and_are_quarantined(fresh_db, workdir):
    lines = [GOOD] + [f"{n},200,7,pv,{ts}" for n, ts in enumerate(ABSURD, start=2)]
    land(fresh_db, "taobao", write(workdir / "ub.csv", "\n".join(lines) + "\n"), loaded_at=LOADED_AT)
    assert raw_days(fresh_db) == [D1, LOAD_DAY]
    assert raw_days(fresh_db, "items") == [D1, LOAD_DAY]

    validate(fresh_db, D1)
    assert audit(fresh_db, D1)["events"] == (1, 1, 0)
    validate(fresh_db, LOAD_DAY)
    assert audit(fresh_db, LOAD_DAY)["events"] == (len(ABSURD), 0, len(ABSURD))
    got = {payload["user_id"]: reasons for _, reasons, payload, _ in rejects(fresh_db, LOAD_DAY)}
    assert got == {str(n): reasons for n, reasons in enumerate(ABSURD.values(), start=2)}


def test_recbole_absurd_timestamps_land_on_the_loads_day(fresh_db, workdir):
    body = "user_id:token\titem_id:token\ttimestamp:float\nu1\ti1\t1709287200\nu2\ti1\t0\nu3\ti1\t4102444800\n"
    land(fresh_db, "recbole", write(workdir / "x.inter", body), loaded_at=LOADED_AT)
    assert raw_days(fresh_db) == [D1, LOAD_DAY]
    validate(fresh_db, LOAD_DAY)
    assert audit(fresh_db, LOAD_DAY)["events"] == (2, 0, 2)
    assert [u for _, u, *_ in clean_events(fresh_db, LOAD_DAY)] == []


def test_undated_rows_never_follow_the_latest_day_seen(fresh_db, workdir):
    lines = [GOOD, "2,100,7,pv,4102444800", "3,100,7,pv,soon"]
    land(fresh_db, "taobao", write(workdir / "ub.csv", "\n".join(lines) + "\n"), loaded_at=LOADED_AT)
    assert date(2100, 1, 1) not in raw_days(fresh_db)
    assert raw_days(fresh_db) == [D1, LOAD_DAY]


def test_a_file_without_any_readable_timestamp_lands_on_the_loads_day(fresh_db, workdir):
    [events, _] = land(fresh_db, "taobao", write(workdir / "ub.csv", "1,100,7,pv,soon\n"), loaded_at=LOADED_AT)
    assert events.ds == LOAD_DAY


def test_with_ds_every_row_stays_on_it_and_absurd_stamps_are_quarantined(fresh_db, workdir):
    lines = [GOOD, "2,100,7,pv,0", "3,100,7,pv,4102444800"]
    land(fresh_db, "taobao", write(workdir / "ub.csv", "\n".join(lines) + "\n"), ds=D1)
    validate(fresh_db, D1)
    assert audit(fresh_db, D1)["events"] == (3, 1, 2)


@pytest.mark.parametrize("fmt", ["canonical", "taobao", "seqfile", "recbole"])
def test_a_ds_before_the_earliest_plausible_day_is_refused(fresh_db, workdir, fmt):
    path = write(workdir / "1999-12-31" / "events.csv", "x\n")
    with pytest.raises(LandingError, match="earliest plausible day"):
        land(fresh_db, fmt, path, ds="1999-12-31")
    assert EARLIEST_DAY == date(2000, 1, 1)


def test_a_canonical_day_folder_before_the_earliest_plausible_day_is_refused(fresh_db, workdir):
    write(workdir / "1970-01-01" / "events.csv", "event_id,user_id,item_id,event_type,ts,session_id,query,value\n")
    with pytest.raises(LandingError, match="earliest plausible day"):
        land(fresh_db, "canonical", workdir)
