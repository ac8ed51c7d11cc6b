"""Last-touch attribution (sql/queries/feedback_attribute.sql): a click, cart or purchase by the user on a shown
item within `attribution_window_hours` after the impression is credited to the latest such impression."""

from __future__ import annotations

import logging
import math
from datetime import date, timedelta

from recpipeline import db
from recpipeline.config import Settings

log = logging.getLogger(__name__)
CREDITED_EVENTS = ("click", "cart", "purchase")


def attribute_day(url: str, ds: date, settings: Settings) -> dict[str, int]:
    """Replace the day's attributions; returns credited events per type."""
    window = settings.attribution_window_hours
    params = {
        "ds": ds,
        "since": ds - timedelta(days=math.ceil(window / 24)),
        "window_hours": window,
        "event_types": list(CREDITED_EVENTS),
    }
    with db.connect(url) as conn, conn.cursor() as cur:
        db.execute(cur, "feedback_clear_attribution", params)
        db.execute(cur, "feedback_attribute", params)
        counts = {t: int(n) for t, n in db.fetch_all(cur, "feedback_attribution_counts", params)}
    log.info("attribution %s (window %dh): %s", ds, window, counts)
    return counts
