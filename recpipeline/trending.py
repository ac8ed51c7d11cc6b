"""The one trending definition: what cold users are served and what the gate judges as the trending baseline.

Trending through day D = items with the most event-weighted interactions landed on D-2..D (a window of
`WINDOW_DAYS`), in stock in D's catalogue. Publishing day D serves trending-through-D to cold users during
the next day; evaluating day D+1 judges trending-through-D against what users did on D+1, so the gate
measures exactly the list that was live.
"""

from __future__ import annotations

from datetime import date, timedelta

from recpipeline import db
from recpipeline.events import EVENT_WEIGHTS, ITEM_EVENTS

WINDOW_DAYS = 3


def trending_items(url: str, through: date, k: int | None = None) -> list[str]:
    """Item ids trending through day `through`, best first (all of them when k is None)."""
    params = {
        "through": through,
        "since": through - timedelta(days=WINDOW_DAYS - 1),
        "event_types": list(ITEM_EVENTS),
        "weights": [EVENT_WEIGHTS[e] for e in ITEM_EVENTS],
        "k": k,
    }
    with db.connect(url) as conn, conn.cursor() as cur:
        return [row[0] for row in db.fetch_all(cur, "recs_trending", params)]
