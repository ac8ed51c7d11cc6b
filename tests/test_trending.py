"""The one trending definition (recpipeline.trending) on a hand-built shop, and the gate reading the same list."""

from __future__ import annotations

from datetime import date

import numpy as np

from recpipeline import db, trending
from recpipeline.evaluation.daily import trending_order
from recpipeline.features import ItemTable

D = date(2026, 3, 10)


def _shop(url: str) -> None:
    """Events on D-3..D (window of 3 days: D-2..D) and D's catalogue, where item e is out of stock."""
    events = [  # (ds, item, type): weights view 1, fav 2, cart 3, purchase 5, search 0
        (date(2026, 3, 7), "a", "purchase"),
        (date(2026, 3, 7), "a", "purchase"),  # outside the window
        (date(2026, 3, 8), "b", "view"),
        (date(2026, 3, 8), "b", "view"),  # b: 2
        (date(2026, 3, 9), "c", "cart"),  # c: 3
        (D, "d", "fav"),
        (D, "d", "view"),  # d: 3, ties with c: by item_id
        (D, "e", "purchase"),  # out of stock on D: never trending through D
        (D, "f", "view"),  # f: 1
        (date(2026, 3, 11), "f", "purchase"),  # after the window
    ]
    with db.connect(url) as conn, conn.cursor() as cur:
        for n, (ds, item, kind) in enumerate(events):
            cur.execute(
                "INSERT INTO clean.events (ds, event_id, user_id, item_id, event_type, ts, load_id, line_no) "
                "VALUES (%s, %s, 'u', %s, %s, %s::date + time '12:00', 1, %s)",
                (ds, f"e{n}", item, kind, ds, n),
            )
        for ds in (date(2026, 3, 9), D):
            for item in "abcdef":
                cur.execute(
                    "INSERT INTO clean.items (ds, item_id, title, in_stock) VALUES (%s, %s, %s, %s)",
                    (ds, item, f"title {item}", not (item == "e" and ds == D)),
                )


def test_trending_window_weights_stock_and_ties(fresh_db):
    _shop(fresh_db)
    assert trending.trending_items(fresh_db, D) == ["c", "d", "b", "f"]
    assert trending.trending_items(fresh_db, D, k=2) == ["c", "d"]
    # through D-1: the window is D-3..D-1, item e is in stock there but has no events yet
    assert trending.trending_items(fresh_db, date(2026, 3, 9)) == ["a", "c", "b"]


def test_the_gate_judges_the_list_that_was_served_the_day_before(fresh_db):
    _shop(fresh_db)
    next_day = date(2026, 3, 11)
    ids = np.array(["", "a", "b", "c", "d", "f"], dtype=object)  # the next day's catalogue: e is gone
    items = ItemTable(ids, np.ones(len(ids), bool), np.zeros((len(ids), 1), np.int32), [])
    served = trending.trending_items(fresh_db, D)
    assert ids[trending_order(fresh_db, next_day, items)].tolist() == served
