"""Data quality of impressions and feedback events: set-based rules in sql/queries/feedback_flag_*.sql, every
landed row ends in clean or in dq.rejects with all its reason codes, landed = accepted + rejected per target."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

from recpipeline import db
from recpipeline.config import Settings
from recpipeline.days import day_bounds
from recpipeline.feedback.groups import holdout_pct

log = logging.getLogger(__name__)
MAX_ID_LEN = 128
STEPS = {
    "impressions": (
        "feedback_flag_impressions",
        "feedback_accept_impressions",
        "feedback_reject_impressions",
        "feedback_count_impressions_flagged",
    ),
    "feedback": (
        "feedback_flag_events",
        "feedback_accept_events",
        "feedback_reject_events",
        "feedback_count_events_flagged",
    ),
}


@dataclass
class FeedbackQuality:
    """Rows per target landed, accepted into clean and quarantined."""

    ds: date
    landed: dict[str, int]
    accepted: dict[str, int]
    rejected: dict[str, int]


def validate_day(url: str, ds: date, settings: Settings) -> FeedbackQuality:
    """Validate the day's raw impressions and feedback events into clean / dq.rejects in one transaction."""
    day_start, day_end = day_bounds(ds)
    params = {
        "ds": ds,
        "day_start": day_start,
        "day_end": day_end,
        "lateness_hours": settings.max_lateness_hours,
        "max_id_len": MAX_ID_LEN,
        "holdout_pct": holdout_pct(settings.holdout_share),
    }
    landed, accepted, rejected = {}, {}, {}
    with db.connect(url) as conn, conn.cursor() as cur:
        db.execute(cur, "feedback_clear_day", params)
        for target, (flag, accept, reject, count) in STEPS.items():
            db.execute(cur, flag, params)
            landed[target] = db.fetch_all(cur, count)[0][0]
            db.execute(cur, accept, params)
            accepted[target] = cur.rowcount
            db.execute(cur, reject, params)
            rejected[target] = cur.rowcount
            if landed[target] != accepted[target] + rejected[target]:
                raise RuntimeError(
                    f"{target}: landed {landed[target]} but wrote {accepted[target]} + {rejected[target]}"
                )
            if landed[target]:
                db.execute(
                    cur,
                    "feedback_insert_audit",
                    {
                        "ds": ds,
                        "target": target,
                        "landed": landed[target],
                        "accepted": accepted[target],
                        "rejected": rejected[target],
                    },
                )
    log.info("feedback quality %s: landed %s accepted %s rejected %s", ds, landed, accepted, rejected)
    return FeedbackQuality(ds, landed, accepted, rejected)
