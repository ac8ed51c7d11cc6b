"""The feedback stage of a day: land impressions.csv / feedback.csv from the landing folder (if present),
validate them, attribute the day's events, and (re)compute the online metrics of the day and the day before
(whose impressions can earn credit from today's events)."""

from __future__ import annotations

import logging
from datetime import date, timedelta
from pathlib import Path

from recpipeline.config import Settings
from recpipeline.feedback import attribution, landing, online, quality

log = logging.getLogger(__name__)


def feedback_day(url: str, ds: date, settings: Settings, landing_root: Path | None = None) -> dict:
    """Run after data_quality of `ds` (needs clean.events/items): land, validate, attribute, online metrics."""
    folder = Path(landing_root or settings.landing) / ds.isoformat()
    landed = landing.land_day(url, folder, ds) if folder.is_dir() else {}
    report = quality.validate_day(url, ds, settings)
    credited = attribution.attribute_day(url, ds, settings)
    online.online_metrics_day(url, ds - timedelta(days=1))
    headline = online.online_metrics_day(url, ds)
    return {
        "ds": ds.isoformat(),
        "landed": landed,
        "accepted": report.accepted,
        "rejected": report.rejected,
        "credited": credited,
        **headline,
    }
