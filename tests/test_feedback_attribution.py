"""Impressions DQ and quarantine, last-touch attribution on a hand-built day, online metrics and the lift."""

from __future__ import annotations

import csv
from datetime import date, datetime, timedelta

import pytest

from recpipeline import db
from recpipeline.config import load_settings
from recpipeline.feedback import attribution, groups, landing, online, online_view, quality
from recpipeline.feedback.gate import online_gate, online_verdict
from recpipeline.feedback.landing import FEEDBACK_COLUMNS, IMPRESSION_COLUMNS

DS = date(2026, 10, 5)
PREV = DS - timedelta(days=1)


def at(day: date, hh: int, mm: int = 0, ss: int = 0) -> datetime:
    """An aware UTC instant on `day`."""
    from datetime import UTC

    return datetime(day.year, day.month, day.day, hh, mm, ss, tzinfo=UTC)


def iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def seed_publish(url: str, publish_id: int = 7, model_id: str = "m1") -> None:
    """A published day with one model row (u1 <- i1) so impressions of publish 7 are known and sourced."""
    with db.connect(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT recs.ensure_partition(%s)", (PREV,))
        cur.execute(
            "INSERT INTO recs.published (ds, publish_id, model_id, users, rows_published) VALUES (%s, %s, %s, 1, 1)",
            (PREV, publish_id, model_id),
        )
        cur.execute(
            "INSERT INTO recs.results (ds, publish_id, shard, model_id, user_id, rank, item_id, score, source) "
            "VALUES (%s, %s, 0, %s, 'u1', 1, 'i1', 0.9, 'model')",
            (PREV, publish_id, model_id),
        )
        for day in (PREV, DS):
            for item, price in (("i1", 10.0), ("i2", 20.0), ("i3", 30.0)):
                cur.execute(
                    "INSERT INTO clean.items (ds, item_id, title, price) VALUES (%s, %s, %s, %s)",
                    (day, item, item, price),
                )


def write_csv(path, columns, rows) -> None:
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(columns)
        w.writerows(rows)


def land_and_validate(url, workdir, day, impressions, feedback=()):
    write_csv(workdir / "impressions.csv", IMPRESSION_COLUMNS, impressions)
    write_csv(workdir / "feedback.csv", FEEDBACK_COLUMNS, feedback)
    landing.land_day(url, workdir, day)
    return quality.validate_day(url, day, load_settings())


def rejects(url: str, target: str) -> dict[int, set[str]]:
    with db.connect(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT line_no, reasons FROM dq.rejects WHERE target = %s", (target,))
        return {n: set(r) for n, r in cur.fetchall()}


def test_impressions_dq_quarantines_each_bad_row_with_its_reasons(fresh_db, workdir):
    seed_publish(fresh_db)
    t = iso(at(DS, 10))
    good = [
        ["r1", "u1", "i1", "1", "7", t, "home"],
        ["r1", "u1", "i2", "2", "7", t, "home"],
        ["r2", "u2", "i1", "1", "7", t, "home"],
    ]
    bad = [
        (["r1", "u1", "i2", "2", "7", t, "home"], {"duplicate_row"}),  # line 4: copy of line 2
        (["r1", "u1", "i3", "1", "7", t, "home"], {"duplicate_impression"}),  # position 1 of r1 again
        (["r3", "u3", "i1", "0", "7", t, "home"], {"bad_position"}),
        (["r4", "u3", "i1", "x", "7", t, "home"], {"bad_position"}),
        (["r5", "u3", "i1", "1", "999", t, "home"], {"unknown_publish"}),
        (["r6", "u3", "i1", "1", "7", "not a time", "home"], {"bad_ts"}),
        (["r7", "u3", "i1", "1", "7", iso(at(DS + timedelta(days=1), 1)), "home"], {"ts_after_day"}),
        (["r8", "u3", "i1", "1", "7", iso(at(DS - timedelta(days=3), 1)), "home"], {"ts_too_early"}),
        (
            ["", "", "i1", "1", "", "", "home"],
            {"missing_request_id", "missing_user_id", "missing_publish_id", "missing_ts"},
        ),
        (["r9", "u3", "i1", "1", "7", "2099-01-01T00:00:00Z", "home"], {"ts_in_future"}),
    ]
    feedback = [
        ["d1", "u1", "i2", "dismiss", iso(at(DS, 10, 1)), "r1"],
        ["d1", "u1", "i3", "dismiss", iso(at(DS, 10, 1)), "r1"],  # same id, other content
        ["d2", "u1", "i2", "like", iso(at(DS, 10, 1)), "r1"],
    ]
    report = land_and_validate(fresh_db, workdir, DS, good + [row for row, _ in bad], feedback)
    assert report.landed == {"impressions": 13, "feedback": 3}
    assert report.accepted == {"impressions": 3, "feedback": 1}
    got = rejects(fresh_db, "impressions")
    assert got == {len(good) + n + 1: reasons for n, (_row, reasons) in enumerate(bad)}
    assert rejects(fresh_db, "feedback") == {2: {"duplicate_event_id"}, 3: {"unknown_event_type"}}
    with db.connect(fresh_db) as conn, conn.cursor() as cur:
        cur.execute("SELECT target, landed, accepted, rejected FROM dq.load_audit ORDER BY target")
        assert cur.fetchall() == [("feedback", 3, 1, 2), ("impressions", 13, 3, 10)]
        cur.execute("SELECT request_id, position, source, model_id FROM clean.impressions ORDER BY 1, 2")
        assert cur.fetchall() == [("r1", 1, "model", "m1"), ("r1", 2, "trending", "m1"), ("r2", 1, "trending", "m1")]
        cur.execute("SELECT message FROM dq.rejects WHERE target = 'impressions' AND line_no = 8")
        assert "publish_id was never published" in cur.fetchone()[0]
    again = quality.validate_day(fresh_db, DS, load_settings())  # a rerun replaces, never duplicates
    assert again.accepted == report.accepted and again.rejected == report.rejected


def test_holdout_bucket_is_the_same_in_sql_and_python(fresh_db):
    users = [f"u{n:05d}" for n in range(300)] + ["ü-ñ", "a'b"]
    with db.connect(fresh_db) as conn, conn.cursor() as cur:
        cur.execute("SELECT u, clean.holdout_bucket(u) FROM unnest(%s::text[]) u", (users,))
        sql = dict(cur.fetchall())
    assert sql == {u: groups.holdout_bucket(u) for u in users}
    share = sum(groups.group_of(u, 0.1) == groups.HOLDOUT for u in users[:300]) / 300
    assert 0.05 < share < 0.15


def credited(url: str) -> dict[str, tuple]:
    with db.connect(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT event_id, request_id, position, impression_ds, value FROM eval.attributions")
        return {e: (r, p, d, v) for e, r, p, d, v in cur.fetchall()}


def add_events(url: str, rows: list[tuple]) -> None:
    with db.connect(url) as conn, conn.cursor() as cur:
        for n, (event_id, user, item, kind, ts, value) in enumerate(rows):
            cur.execute(
                "INSERT INTO clean.events (ds, event_id, user_id, item_id, event_type, ts, value, load_id, line_no) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, 1, %s)",
                (ts.date(), event_id, user, item, kind, ts, value, n + 1),
            )


def test_last_touch_attribution_window_edges_repeats_and_unshown_clicks(fresh_db, workdir):
    seed_publish(fresh_db)
    land_and_validate(fresh_db, workdir, PREV, [["p1", "u1", "i3", "4", "7", iso(at(PREV, 20)), "home"]])
    land_and_validate(
        fresh_db,
        workdir,
        DS,
        [
            ["a", "u1", "i1", "3", "7", iso(at(DS, 10)), "home"],  # i1 shown twice to u1: at 10:00 ...
            ["b", "u1", "i1", "1", "7", iso(at(DS, 12)), "home"],  # ... and at 12:00
            ["c", "u2", "i2", "2", "7", iso(at(DS, 9)), "home"],
        ],
    )
    add_events(
        fresh_db,
        [
            ("e_before", "u2", "i2", "click", at(DS, 8, 59, 59), None),  # before the impression: no credit
            ("e_edge", "u2", "i2", "click", at(DS, 9), None),  # at shown_at: credited
            ("e_first", "u1", "i1", "click", at(DS, 11), None),  # only the 10:00 showing precedes it
            ("e_last", "u1", "i1", "cart", at(DS, 13), None),  # both precede: the latest (12:00) wins
            ("e_buy", "u1", "i1", "purchase", at(DS, 13, 5), 12.5),
            ("e_unshown", "u1", "i2", "click", at(DS, 11), None),  # never shown to u1
            ("e_other", "u3", "i1", "click", at(DS, 11), None),  # shown to u1, not to u3
            ("e_view", "u1", "i1", "view", at(DS, 11), None),  # views are not credited
            ("e_prev", "u1", "i3", "click", at(DS, 19, 59, 59), None),  # 23:59:59 after yesterday's showing
            ("e_late", "u1", "i3", "cart", at(DS, 20), None),  # exactly 24 h after: outside the window
        ],
    )
    counts = attribution.attribute_day(fresh_db, DS, load_settings())
    got = credited(fresh_db)
    assert got == {
        "e_edge": ("c", 2, DS, 20.0),
        "e_first": ("a", 3, DS, 10.0),
        "e_last": ("b", 1, DS, 10.0),
        "e_buy": ("b", 1, DS, 12.5),
        "e_prev": ("p1", 4, PREV, 30.0),
    }
    assert counts == {"click": 3, "cart": 1, "purchase": 1}
    short = load_settings({"attribution_window_hours": 1})
    attribution.attribute_day(fresh_db, DS, short)  # rerun replaces; with 1 h, 11:00 after 10:00 is outside
    assert set(credited(fresh_db)) == {"e_edge"}


def test_online_metrics_and_lift_of_a_hand_built_day(fresh_db, workdir):
    seed_publish(fresh_db)
    holdout = [u for u in (f"h{n}" for n in range(500)) if groups.group_of(u, 0.1) == groups.HOLDOUT][:20]
    treated = [u for u in (f"t{n}" for n in range(500)) if groups.group_of(u, 0.1) == groups.TREATMENT][:20]
    rows, events = [], []
    for users, clicks in ((treated, 10), (holdout, 2)):
        for n, user in enumerate(users):
            for pos, item in ((1, "i1"), (2, "i2")):
                rows.append([f"r-{user}", user, item, str(pos), "7", iso(at(DS, 10)), "home"])
            if n < clicks:  # the first `clicks` users click position 1 and buy it
                events.append((f"c-{user}", user, "i1", "click", at(DS, 10, 1), None))
                events.append((f"b-{user}", user, "i1", "purchase", at(DS, 10, 5), 10.0))
    land_and_validate(fresh_db, workdir, DS, rows)
    add_events(fresh_db, events)
    attribution.attribute_day(fresh_db, DS, load_settings())
    head = online.online_metrics_day(fresh_db, DS)
    assert head["ctr10_treatment"] == pytest.approx(10 / 40)
    assert head["ctr10_holdout"] == pytest.approx(2 / 40)
    assert head["lift"] == pytest.approx(5.0)
    assert head["ci_low"] < 5.0 < head["ci_high"]
    with db.connect(fresh_db) as conn, conn.cursor() as cur:
        cur.execute("SELECT metric, k, value FROM eval.online_metrics WHERE grp = 'treatment' AND source = 'all'")
        m = {(name, k): v for name, k, v in cur.fetchall()}
    assert m[("impressions", 0)] == 40
    assert m[("ctr_at_position", 1)] == pytest.approx(0.5) and m[("ctr_at_position", 2)] == 0
    assert m[("satisfaction", 0)] == pytest.approx(0.5)
    assert m[("purchase_rate", 0)] == pytest.approx(10 / 40)
    assert m[("revenue_per_mille", 0)] == pytest.approx(1000 * 100 / 40)
    assert m[("clicked_coverage", 0)] == pytest.approx(1 / 3)
    text = "\n".join(online_view.report_lines(fresh_db, DS))
    assert "lift ctr@10" in text and "treatment" in text and "holdout" in text


def test_online_gate_reads_yesterdays_lift_and_is_off_by_default(fresh_db):
    with db.connect(fresh_db) as conn, conn.cursor() as cur:
        cur.execute(
            "INSERT INTO eval.online_lift VALUES (%s, 'ctr', 10, 0.05, 0.08, 0.625, 0.5, 0.8, 900, 100)", (PREV,)
        )
    assert online_gate(fresh_db, DS, load_settings())[0]  # off by default
    ok, why = online_gate(fresh_db, DS, load_settings({"online_gate": True}))
    assert not ok and "0.0500" in why and "0.0800" in why
    assert online_gate(fresh_db, DS + timedelta(days=1), load_settings({"online_gate": True}))[0]  # no data


def test_forget_erases_the_user_from_every_feedback_table(fresh_db, workdir):
    from recpipeline.feedback import privacy

    seed_publish(fresh_db)
    t = iso(at(DS, 10))
    land_and_validate(
        fresh_db,
        workdir,
        DS,
        [
            ["a", "u1", "i1", "1", "7", t, "home"],
            ["b", "u2", "i1", "1", "7", t, "home"],
            ["c", "u1", "i1", "0", "7", t, ""],
        ],
        [["d1", "u1", "i1", "dismiss", t, "a"]],
    )
    add_events(fresh_db, [("e1", "u1", "i1", "click", at(DS, 10, 1), None)])
    attribution.attribute_day(fresh_db, DS, load_settings())
    with db.connect(fresh_db) as conn, conn.cursor() as cur:
        rows = privacy.forget(cur, " u1 ")
        cur.execute("SELECT count(*) FROM clean.impressions")
        left = cur.fetchone()[0]
    assert rows == {
        "raw.impressions": 2,
        "raw.feedback_events": 1,
        "clean.impressions": 1,
        "clean.feedback_events": 1,
        "dq.rejects (feedback)": 1,
        "eval.attributions": 1,
    }
    assert left == 1


def test_online_gate_verdict():
    assert online_verdict(0.10, 0.10, 0.1, 10)[0]
    assert online_verdict(0.091, 0.10, 0.1, 10)[0]
    ok, why = online_verdict(0.08, 0.10, 0.1, 10)
    assert not ok and "holdout" in why
