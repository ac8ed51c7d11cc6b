"""Plans that do not depend on luck: a day validated right after its bulk load, into tables holding many earlier
days, must not compare every event of the day with every catalogue item (a quadratic nested loop).

Earlier days are written set-based and analysed, as autovacuum would have left them; the new day is landed with
the project's own landing (COPY) and validated at once, so nothing but the pipeline itself refreshes statistics.
The flagging statement's plan is taken with EXPLAIN on the validation's own cursor, just before it runs.
"""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path

import pytest

from recpipeline import db, quality, sources
from recpipeline.config import load_settings
from recpipeline.events import EVENT_COLUMNS, ITEM_COLUMNS

DAY = date(2026, 10, 20)
EARLIER_DAYS = 12
ITEMS = 3_000
EVENTS = 12_000


def _fill_earlier_days(url: str) -> None:
    """EARLIER_DAYS days of landed and clean rows before DAY, analysed (set-based, no CSV)."""
    with db.connect(url) as conn, conn.cursor() as cur:
        cur.execute(
            "INSERT INTO raw.loads (ds, source, format, target, path, rows_landed)"
            " SELECT DATE %s - d, 'history', 'canonical', t, 'generated', 0"
            " FROM generate_series(1, %s) d, unnest(ARRAY['events', 'items']) t",
            (DAY, EARLIER_DAYS),
        )
        cur.execute(
            "INSERT INTO raw.events (ds, load_id, line_no, event_id, user_id, item_id, event_type, ts)"
            " SELECT l.ds, l.load_id, n, 'e' || l.ds || '-' || n, 'u' || n %% 997, 'i' || n %% %s, 'view',"
            "        (l.ds + time '12:00')::text"
            " FROM raw.loads l, generate_series(1, %s) n WHERE l.target = 'events'",
            (ITEMS, EVENTS),
        )
        cur.execute(
            "INSERT INTO clean.items (ds, item_id, title, tags, in_stock)"
            " SELECT DATE %s - d, 'i' || n, 'item ' || n, '{}', true"
            " FROM generate_series(1, %s) d, generate_series(0, %s - 1) n",
            (DAY, EARLIER_DAYS, ITEMS),
        )
        cur.execute(
            "INSERT INTO clean.events (ds, event_id, user_id, item_id, event_type, ts, load_id, line_no)"
            " SELECT ds, event_id, user_id, item_id, event_type, ts::timestamptz, load_id, line_no FROM raw.events"
        )
    with db.connect(url) as conn:
        conn.autocommit = True
        conn.cursor().execute("ANALYZE raw.events, raw.items, clean.events, clean.items")


def _write_day(folder: Path) -> None:
    """The new day's landing files: ITEMS catalogue rows and EVENTS events on them."""
    folder.mkdir(parents=True)
    with open(folder / "items.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(ITEM_COLUMNS)
        w.writerows([f"i{n}", f"item {n}", "A > B > C", "a|b", "brand", "9.5", "true", ""] for n in range(ITEMS))
    with open(folder / "events.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(EVENT_COLUMNS)
        w.writerows(
            [f"n{n}", f"u{n % 997}", f"i{n % ITEMS}", "view", f"{DAY}T12:{n % 60:02d}:00Z", f"s{n % 97}", "", ""]
            for n in range(EVENTS)
        )


def _nodes(plan: dict):
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


def quadratic_joins(plan: dict) -> list[str]:
    """Nested loops that compare rows instead of probing an index with the outer row's key."""
    bad = []
    for node in _nodes(plan):
        if node["Node Type"] != "Nested Loop":
            continue
        inner = node["Plans"][1]
        probes = any(k in n for n in _nodes(inner) for k in ("Index Cond", "Recheck Cond") if "item_id" in n.get(k, ""))
        if "Join Filter" in node or not probes:
            bad.append(f"Nested Loop ({node.get('Join Filter', 'no index probe')}) over {inner['Node Type']}")
    return bad


@pytest.fixture
def plans(monkeypatch: pytest.MonkeyPatch) -> dict[str, dict]:
    """Plans of the data-quality statements, EXPLAINed on their own cursor just before they run."""
    captured: dict[str, dict] = {}
    real = db.execute

    def explaining(cur, name, params=None):
        if name in ("dq_flag_events", "dq_mix"):
            cur.execute("EXPLAIN (FORMAT JSON) " + db.query(name), params or {})
            captured[name] = cur.fetchone()[0][0]["Plan"]
        return real(cur, name, params)

    monkeypatch.setattr(db, "execute", explaining)
    return captured


def test_day_validated_right_after_bulk_load_is_not_a_quadratic_join(fresh_db, workdir, plans):
    _fill_earlier_days(fresh_db)
    _write_day(workdir / DAY.isoformat())
    sources.land(fresh_db, "canonical", workdir / DAY.isoformat(), ds=DAY)
    report = quality.validate_day(fresh_db, DAY, load_settings())
    assert report.accepted == {"items": ITEMS, "events": EVENTS}
    assert report.rejected == {"items": 0, "events": 0}
    for name in ("dq_flag_events", "dq_mix"):
        assert not quadratic_joins(plans[name]), f"{name}: {quadratic_joins(plans[name])}\n{json.dumps(plans[name])}"


def test_unknown_items_are_still_found(fresh_db, workdir):
    """The item match keeps its meaning: events on items missing from the day's catalogue are counted."""
    folder = workdir / DAY.isoformat()
    _write_day(folder)
    with open(folder / "events.csv", "a", newline="") as f:
        csv.writer(f).writerow(["x1", "u1", "i_missing", "view", f"{DAY}T13:00:00Z", "s1", "", ""])
    sources.land(fresh_db, "canonical", folder, ds=DAY)
    settings = load_settings({"unknown_items": "reject"})
    report = quality.validate_day(fresh_db, DAY, settings)
    assert report.rejected["events"] == 1
