"""User lookup page: a user's recent history with titles and categories, and their live recommendations with
explanations (recs.explain) and source."""

from __future__ import annotations

from typing import Any

from recpipeline.ui.queries import one, rows

HISTORY_ROWS = 30
SAMPLES_PER_SOURCE = 5


def sample_users(url: str, per_source: int = SAMPLES_PER_SOURCE) -> list[dict[str, Any]]:
    """A few users served now, per source, to try the lookup with."""
    return rows(url, "ui_sample_users", per_source=per_source)


def user_page(url: str, user_id: str | None, limit: int = HISTORY_ROWS) -> dict[str, Any]:
    """The user's summary, recent events and live recommendations; only sample users when no id is given."""
    page: dict[str, Any] = {"user_id": user_id, "samples": sample_users(url)}
    if not user_id:
        return page
    summary = one(url, "ui_user_summary", user_id=user_id) or {"events": 0}
    recs = rows(url, "ui_user_recs", user_id=user_id)
    page.update(
        {
            "summary": summary,
            "history": rows(url, "ui_user_history", user_id=user_id, limit=limit),
            "recs": recs,
            "found": bool(summary["events"]) or bool(recs),
            "sources": sorted({r["source"] for r in recs}),
        }
    )
    return page
