"""The refresh's intake goes through the daily data-quality rules: every row a refresh accepts or quarantines (with
which reason codes) is what the daily validation of the same day decides for it, so the two never disagree."""

from __future__ import annotations

from datetime import timedelta

import pytest

from recpipeline import db, quality, refresh
from recpipeline.config import load_settings
from recpipeline.events import EVENT_COLUMNS


def corpus(day, item: str, prefix: str) -> list[tuple]:
    """Rows (canonical columns) that break each event rule once, plus good rows and duplicates."""
    t = f"{day}T10:00:00Z"
    ok = (f"{prefix}ok", "u1", item, "view", t, "s1", None, None)
    return [
        ok,
        (f"{prefix}caps", "u1", item, "VIEW", t, "s1", None, None),
        (None, "u1", item, "view", t, "s1", None, None),
        (f"{prefix}no-user", "  ", item, "view", t, "s1", None, None),
        (f"{prefix}hover", "u1", item, "hover", t, "s1", None, None),
        (f"{prefix}no-item", "u1", None, "cart", t, "s1", None, None),
        (f"{prefix}no-query", "u1", None, "search", t, "s1", None, None),
        (f"{prefix}no-ts", "u1", item, "view", None, "s1", None, None),
        (f"{prefix}bad-ts", "u1", item, "view", "yesterday", "s1", None, None),
        (f"{prefix}old", "u1", item, "view", "1999-01-01T00:00:00Z", "s1", None, None),
        (f"{prefix}early", "u1", item, "view", f"{day - timedelta(days=3)}T10:00:00Z", "s1", None, None),
        (f"{prefix}after", "u1", item, "view", f"{day + timedelta(days=1)}T10:00:00Z", "s1", None, None),
        (f"{prefix}future", "u1", item, "view", "2099-01-01T00:00:00Z", "s1", None, None),
        (f"{prefix}bad-value", "u2", item, "purchase", t, "s2", None, "abc"),
        (f"{prefix}negative", "u2", item, "purchase", t, "s2", None, "-5"),
        (f"{prefix}absurd", "u2", item, "purchase", t, "s2", None, "1e12"),
        (f"{prefix}long", "u" * 200, item, "view", t, "s2", None, None),
        (f"{prefix}control", "u\x01", item, "view", t, "s2", None, None),
        (f"{prefix}unknown-item", "u3", "no-such-item", "view", t, "s3", None, None),
        (f"{prefix}search", "u3", None, "search", t, "s3", "red shoes", None),
        ok,  # exact copy: duplicate_row
        (f"{prefix}ok", "u9", item, "cart", t, "s9", None, None),  # same id, other content: duplicate_event_id
    ]


def outcome(url: str, day) -> dict:
    """Per landed row (load, line): its reasons if quarantined, [] if accepted."""
    with db.connect(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT load_id, line_no, reasons FROM dq.rejects WHERE ds = %s AND target = 'events'", (day,))
        out = {(load, line): sorted(reasons) for load, line, reasons in cur.fetchall()}
        cur.execute("SELECT load_id, line_no FROM clean.events WHERE ds = %s", (day,))
        for load, line in cur.fetchall():
            assert (load, line) not in out
            out[load, line] = []
    return out


@pytest.mark.parametrize("unknown_items", ["warn", "reject"])
def test_intake_rows_get_exactly_the_daily_reasons(fresh_db, tmp_path, unknown_items):
    from recpipeline.generate import generate_shop
    from recpipeline.local import land_and_validate

    shop = generate_shop("tiny", 5, tmp_path / "landing")
    ds = shop.days[-1]
    settings = load_settings({"database_url": fresh_db, "home": tmp_path / "home", "unknown_items": unknown_items})
    assert land_and_validate(fresh_db, "canonical", tmp_path / "landing" / ds.isoformat(), ds, settings=settings).ok
    with db.connect(fresh_db) as conn, conn.cursor() as cur:
        cur.execute("SELECT min(item_id) FROM clean.items WHERE ds = %s", (ds,))
        (item,) = cur.fetchone()
    today = ds + timedelta(days=1)
    cols = ", ".join(EVENT_COLUMNS)
    sql = f"INSERT INTO raw.intake_events ({cols}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
    first = corpus(today, item, "a-")
    # the second batch repeats rows of the first (accepted and quarantined ones) and brings new ones
    second = [*corpus(today, item, "b-"), first[0], (*first[0][:3], "cart", *first[0][4:])]
    results = []
    for batch in (first, second):
        with db.connect(fresh_db) as conn, conn.cursor() as cur:
            cur.execute("SET ROLE recpipeline_writer")
            cur.executemany(sql, batch)
        results.append(refresh.refresh(fresh_db, settings, today=today, landing_root=tmp_path / "none"))
    assert [r.intake_rows for r in results] == [len(first), len(second)]
    by_refresh = outcome(fresh_db, today)
    assert len(by_refresh) == len(first) + len(second)
    reasons = {code for r in by_refresh.values() for code in r}
    every_rule = {
        "missing_event_id", "missing_user_id", "unknown_event_type", "missing_item_id", "missing_query", "missing_ts",
        "bad_ts", "ts_implausible", "ts_too_early", "ts_after_day", "ts_in_future", "bad_value", "negative_value",
        "absurd_value", "too_long", "control_chars", "duplicate_row", "duplicate_event_id",
    }  # fmt: skip
    assert every_rule <= reasons and sum(not r for r in by_refresh.values()) >= 4
    assert ("unknown_item" in reasons) == (unknown_items == "reject")

    try:  # the daily validation of the same day, over all of its raw rows (these loads included)
        quality.validate_day(fresh_db, today, settings)
    except quality.DataQualityError:
        pass  # this corpus fails the reject-rate check; its rows are recorded all the same
    assert outcome(fresh_db, today) == by_refresh
