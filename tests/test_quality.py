"""Data quality on a bad-input corpus: exact accepted/rejected counts, every row's reasons, nothing lost."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from datetime import date

import pytest

from recpipeline import db, quality, sources
from recpipeline.config import load_settings
from recpipeline.events import EVENT_COLUMNS, ITEM_COLUMNS

DS = date(2026, 10, 5)
T = "2026-10-05T10:00:00Z"
LONG = "x" * 200

GOOD_ITEMS = [
    ["i1", "Glow Serum", "Beauty > Skin > Serum", "serum|glow", "Lumi", "19.90", "true", "2026-10-01T00:00:00Z"],
    ["i2", "Night Cream", "Beauty > Skin > Cream", "", "Lumi", "", "false", ""],
    ["i3", "Lip Balm", "Beauty > Lips", "lips", "", "4.5", "true", ""],
]
# (row, expected reasons) for the catalogue
BAD_ITEMS = [
    (["", "No id", "", "", "", "1", "true", ""], {"missing_item_id"}),
    (["i4", "", "", "", "", "1", "true", ""], {"missing_title"}),
    (["i5", "Thing", "", "", "", "abc", "true", ""], {"bad_price"}),
    (["i6", "Thing", "", "", "", "0", "true", ""], {"nonpositive_price"}),
    (["i7", "Thing", "", "", "", "-3", "true", ""], {"nonpositive_price"}),
    (["i8", "Thing", "", "", "", "99999999", "true", ""], {"absurd_price"}),
    (["i9", "Thing", "", "", "", "1", "maybe", ""], {"bad_in_stock"}),
    (["i10", "Thing", "", "", "", "1", "true", "yesterday"], {"bad_updated_at"}),
    (["i1", "Glow Serum again", "", "", "", "1", "true", ""], {"duplicate_item_id"}),
    (["i11", "Bell\x07Thing", "", "", "", "1", "true", ""], {"control_chars"}),
    (["i12", "Thing", "", "", LONG, "1", "true", ""], {"too_long"}),
]
GOOD_EVENTS = [
    ["e1", "u1", "i1", "view", T, "s1", "", ""],
    ["e2", "u1", "i1", "cart", "2026-10-05T10:01:00Z", "s1", "", ""],
    ["e3", "u1", "i1", "purchase", "2026-10-05T10:02:00+00:00", "s1", "", "19.90"],
    ["e4", "u2", "", "search", T, "s2", "night cream", ""],
    ["e5", "u2", "i2", "VIEW", "2026-10-04T23:30:00Z", "s2", "", ""],  # late by 30 min: within lateness
    ["e6", "u3", "i_unknown", "view", T, "s3", "", ""],  # unknown item: accepted with a warning by default
    ["e7", "u3", "i3", "fav", T, "", "", ""],
]
BAD_EVENTS = [
    (["", "u1", "i1", "view", T, "", "", ""], {"missing_event_id"}),
    (["b2", "", "i1", "view", T, "", "", ""], {"missing_user_id"}),
    (["b3", "u1", "", "view", T, "", "", ""], {"missing_item_id"}),
    (["b4", "u1", "i1", "", T, "", "", ""], {"missing_event_type"}),
    (["b5", "u1", "i1", "teleport", T, "", "", ""], {"unknown_event_type"}),
    (["b6", "u1", "i1", "view", "", "", "", ""], {"missing_ts"}),
    (["b7", "u1", "i1", "view", "not a time", "", "", ""], {"bad_ts"}),
    (["b8", "u1", "i1", "view", "2026-02-30T10:00:00Z", "", "", ""], {"bad_ts"}),
    (["b9", "u1", "i1", "view", "2026-10-01T10:00:00Z", "", "", ""], {"ts_too_early"}),
    (["b10", "u1", "i1", "view", "2026-10-06T00:00:01Z", "", "", ""], {"ts_after_day"}),
    (["b11", "u1", "i1", "view", "2099-01-01T00:00:00Z", "", "", ""], {"ts_in_future"}),
    (["b12", "u1", "", "search", T, "", "", ""], {"missing_query"}),
    (["b13", "u1", "i1", "purchase", T, "", "", "12,5"], {"bad_value"}),
    (["b14", "u1", "i1", "purchase", T, "", "", "-1"], {"negative_value"}),
    (["b15", "u1", "i1", "purchase", T, "", "", "1e12"], {"absurd_value"}),
    (["b16", LONG, "i1", "view", T, "", "", ""], {"too_long"}),
    (["b17", "u\x01x", "i1", "view", T, "", "", ""], {"control_chars"}),
    (["e1", "u1", "i1", "view", T, "s1", "", ""], {"duplicate_row"}),
    (["e2", "u9", "i2", "view", T, "s1", "", ""], {"duplicate_event_id"}),
    (["", "", "", "", "", "", "", ""], {"missing_event_id", "missing_user_id", "missing_event_type", "missing_ts"}),
    (["b21", "u1", "i1", "dance", "garbage", "", "", "-abc"], {"unknown_event_type", "bad_ts", "bad_value"}),
]
MALFORMED_EVENT_LINE = "b22,u1,i1,view"  # too few fields


def write_csv(path, header, rows, extra_lines=()):
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
        for line in extra_lines:
            f.write(line + "\n")


@pytest.fixture
def corpus(fresh_db, workdir):
    day = workdir / DS.isoformat()
    day.mkdir()
    items = GOOD_ITEMS[:1] + [r for r, _ in BAD_ITEMS] + GOOD_ITEMS[1:]
    events = GOOD_EVENTS[:2] + [r for r, _ in BAD_EVENTS] + GOOD_EVENTS[2:]
    write_csv(day / "items.csv", ITEM_COLUMNS, items)
    write_csv(day / "events.csv", EVENT_COLUMNS, events, [MALFORMED_EVENT_LINE])
    sources.land(fresh_db, "canonical", day, ds=DS)
    return fresh_db


def reject_reasons(url, target):
    with db.connect(url) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT line_no, reasons, payload, message FROM dq.rejects WHERE ds = %s AND target = %s ORDER BY line_no",
            (DS, target),
        )
        return {line: (set(reasons), payload, message) for line, reasons, payload, message in cur.fetchall()}


def test_corpus_counts_and_reasons(corpus):
    settings = load_settings({"max_reject_rate": 1.0})
    report = quality.validate_day(corpus, DS, settings)
    n_bad_kinds = len({code for _, r in BAD_ITEMS + BAD_EVENTS for code in r} | {"malformed_line"})
    assert n_bad_kinds >= 25
    assert report.landed == {"items": 14, "events": 29}
    assert report.accepted == {"items": 3, "events": 7}
    assert report.rejected == {"items": 11, "events": 22}

    items = reject_reasons(corpus, "items")
    assert [items[line][0] for line in sorted(items)] == [r for _, r in BAD_ITEMS]
    events = reject_reasons(corpus, "events")
    expected = [r for _, r in BAD_EVENTS] + [{"malformed_line", "missing_ts"}]
    assert [events[line][0] for line in sorted(events)] == expected
    # the payload is the row exactly as landed, and the message is readable
    line_b13 = sorted(events)[12]
    assert events[line_b13][1]["value"] == "12,5"
    assert events[line_b13][2] == "value is not a number"

    with db.connect(corpus) as conn, conn.cursor() as cur:
        cur.execute("SELECT target, landed, accepted, rejected FROM dq.load_audit WHERE ds = %s ORDER BY 1", (DS,))
        assert cur.fetchall() == [("events", 29, 7, 22), ("items", 14, 3, 11)]
        cur.execute("SELECT event_id, event_type, value FROM clean.events WHERE ds = %s ORDER BY event_id", (DS,))
        clean = cur.fetchall()
        cur.execute("SELECT status FROM dq.check_results WHERE ds = %s AND check_name = 'unknown_item_share'", (DS,))
        unknown_status = cur.fetchone()[0]
    assert [e for e, _, _ in clean] == ["e1", "e2", "e3", "e4", "e5", "e6", "e7"]
    assert ("e5", "view", None) in clean and ("e3", "purchase", 19.9) in clean
    assert unknown_status == "warn"  # e6 is on an unknown item: accepted and warned about


def test_unknown_items_can_be_rejected(corpus):
    report = quality.validate_day(corpus, DS, load_settings({"max_reject_rate": 1.0, "unknown_items": "reject"}))
    assert report.accepted["events"] == 6
    rejected = [reasons for reasons, _, _ in reject_reasons(corpus, "events").values()]
    assert rejected.count({"unknown_item"}) == 1  # e6, the only otherwise valid event on an unknown item


def test_reject_rate_fails_the_day_with_numbers(corpus):
    with pytest.raises(quality.DataQualityError, match=r"reject_rate on events: observed 0\.7"):
        quality.validate_day(corpus, DS, load_settings())
    with db.connect(corpus) as conn, conn.cursor() as cur:  # the results are recorded even though it failed
        cur.execute(
            "SELECT status FROM dq.check_results WHERE ds = %s AND check_name = 'reject_rate' AND target = 'events'",
            (DS,),
        )
        assert cur.fetchone()[0] == "fail"


def test_rerun_gives_identical_rows(corpus):
    settings = load_settings({"max_reject_rate": 1.0})

    def snapshot():
        with db.connect(corpus) as conn, conn.cursor() as cur:
            out = []
            for sql in (
                "SELECT * FROM clean.events ORDER BY event_id, line_no",
                "SELECT * FROM clean.items ORDER BY item_id",
                "SELECT ds, load_id, target, line_no, payload, reasons, message FROM dq.rejects ORDER BY 1, 2, 3, 4",
                "SELECT ds, check_name, target, severity, status, observed, threshold FROM dq.check_results "
                "ORDER BY 1, 2, 3",
            ):
                cur.execute(sql)
                out.append(cur.fetchall())
            return out

    quality.validate_day(corpus, DS, settings)
    first = snapshot()
    quality.validate_day(corpus, DS, settings)
    assert snapshot() == first


def test_dataset_checks_volume_bands():
    s = load_settings()
    counts = {"events": 100, "items": 10}
    zero = {"events": 0, "items": 0}
    collapsed = quality.dataset_checks(s, counts, {"events": 10, "items": 10}, zero, 0, 1000.0, 7)
    volume = next(c for c in collapsed if c.name == "volume")
    assert volume.status == "fail" and volume.observed == pytest.approx(0.01)
    normal = quality.dataset_checks(s, counts, counts, zero, 0, 100.0, 7)
    assert next(c for c in normal if c.name == "volume").status == "pass"
    empty = quality.dataset_checks(s, zero, zero, zero, 0, None, 0)
    assert next(c for c in empty if c.name == "freshness").status == "fail"


def test_psi_is_zero_for_equal_mixes_and_grows_with_drift():
    same = quality.psi({"view": 90, "cart": 10}, {"view": 900, "cart": 100})
    shifted = quality.psi({"view": 50, "cart": 50}, {"view": 900, "cart": 100})
    # hand-computed: (0.5-0.9)ln(0.5/0.9) + (0.5-0.1)ln(0.5/0.1) = 0.2351 + 0.6438
    assert same == pytest.approx(0.0) and shifted == pytest.approx(0.8789, abs=1e-4)
    rule = {"severity": "warn", "warn_above": 0.1, "fail_above": 0.25}
    assert quality.banded("event_type_psi", "events", rule, shifted).status == "warn"  # warn severity never fails
    assert quality.banded("event_type_psi", "events", {**rule, "severity": "error"}, shifted).status == "fail"


def test_psi_is_bit_identical_across_processes():
    """Category keys are strings, whose set order changes with PYTHONHASHSEED: the sum must not depend on it."""
    script = (
        "from recpipeline import quality\n"
        "today = {f'cat{n}': (n * 7919) % 97 + 1 for n in range(40)}\n"
        "trailing = {f'cat{n}': (n * 104729) % 89 + 3 for n in range(5, 45)}\n"
        "print(repr(quality.psi(today, trailing)))\n"
    )
    seen = {
        subprocess.run(
            [sys.executable, "-c", script],
            env={**os.environ, "PYTHONHASHSEED": str(seed)},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in range(6)
    }
    assert len(seen) == 1, seen


def test_distribution_checks_on_shop_days(fresh_db, workdir):
    from recpipeline.generate import generate_shop

    shop = generate_shop("tiny", 5, workdir / "shop")
    settings = load_settings()
    for day in shop.days[:4]:
        sources.land(fresh_db, "canonical", workdir / "shop" / day.isoformat(), ds=day)
        quality.validate_day(fresh_db, day, settings)
    # a day whose catalogue loses most of its items and whose events are all views
    day = shop.days[4]
    folder = workdir / "shop" / day.isoformat()
    items = (folder / "items.csv").read_text().splitlines(keepends=True)
    (folder / "items.csv").write_text("".join(items[: len(items) // 3]))
    events = (folder / "events.csv").read_text().splitlines(keepends=True)
    (folder / "events.csv").write_text(events[0] + "".join(e for e in events[1:] if ",view," in e))
    sources.land(fresh_db, "canonical", folder, ds=day)
    quality.validate_day(fresh_db, day, load_settings({"unknown_items": "warn"}))
    with db.connect(fresh_db) as conn, conn.cursor() as cur:
        cur.execute("SELECT check_name, status, observed FROM dq.check_results WHERE ds = %s", (shop.days[3],))
        normal = {name: (status, observed) for name, status, observed in cur.fetchall()}
        cur.execute("SELECT check_name, status, observed FROM dq.check_results WHERE ds = %s", (day,))
        drifted = {name: (status, observed) for name, status, observed in cur.fetchall()}
    assert normal["event_type_psi"][0] == "pass" and normal["catalogue_change"][0] == "pass"
    assert drifted["event_type_psi"][0] == "warn" and drifted["event_type_psi"][1] > 0.1
    assert drifted["catalogue_change"][0] == "warn" and drifted["catalogue_change"][1] > 0.5
    assert "null_rate_session_id" in drifted and "category_psi" in drifted


def test_sequences_carry_the_event_codes_of_the_shared_vocabulary(fresh_db, workdir):
    from recpipeline import features
    from recpipeline.events import EVENT_CODES, ITEM_EVENTS
    from recpipeline.generate import generate_shop

    shop = generate_shop("tiny", 3, workdir / "shop")
    settings = load_settings()
    for day in shop.days[:2]:
        sources.land(fresh_db, "canonical", workdir / "shop" / day.isoformat(), ds=day)
        quality.validate_day(fresh_db, day, settings)
    features.build_features(fresh_db, shop.days[1], settings)
    with db.connect(fresh_db) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT s.event_type[n], e.event_type FROM features.user_sequences s, "
            "generate_subscripts(s.event_type, 1) n, "
            "LATERAL (SELECT event_type FROM clean.events e WHERE e.user_id = s.user_id "
            "         AND e.event_type <> 'search' ORDER BY e.ts, e.event_id OFFSET n - 1 LIMIT 1) e "
            "WHERE s.ds = %s",
            (shop.days[1],),
        )
        pairs = cur.fetchall()
    assert len(pairs) > 100
    assert all(code == EVENT_CODES[name] for code, name in pairs)
    assert {name for _, name in pairs} == set(ITEM_EVENTS)
