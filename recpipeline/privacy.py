"""Erasing a user: every row that names them, in every schema, in one transaction, with an audit row."""

from __future__ import annotations

import logging

from recpipeline import db
from recpipeline.feedback import privacy as feedback_privacy

log = logging.getLogger(__name__)


def forget_user(url: str, user_id: str, actor: str) -> dict[str, int]:
    """Delete `user_id` from raw, clean, dq payloads, features, recs and search; returns rows erased per table.

    Models already trained keep what they learned in aggregate (item vectors); the user's own vector and
    recommendations are gone, and the next training no longer sees their events.
    """
    if not user_id.strip():
        raise ValueError("forget needs a user id")
    with db.connect(url) as conn, conn.cursor() as cur:
        db.execute(cur, "privacy_forget", {"user_id": user_id.strip(), "actor": actor})
        erasure_id, rows = cur.fetchone()
        rows.update(feedback_privacy.forget(cur, user_id))  # impressions, feedback events, attributions
    log.info("erasure %d by %s: %s", erasure_id, actor, ", ".join(f"{t} {n}" for t, n in rows.items()))
    return {"erasure_id": erasure_id, **rows}
