"""Erasing a user from the feedback tables, inside the caller's transaction (privacy.forget_user calls it)."""

from __future__ import annotations

from recpipeline import db


def forget(cur, user_id: str) -> dict[str, int]:
    """Delete the user's impressions, feedback events, their quarantined rows and attributions; rows per table."""
    db.execute(cur, "feedback_forget", {"user_id": user_id.strip()})
    return {k: int(v) for k, v in cur.fetchone()[0].items()}
