"""Dismissed ("not interested") items stay out of the user's lists for `dismiss_days` days: at serving (the
simulator's surface filters what recs.latest holds) and at scoring (`exclusions` feeds scoring.top_n's exclude)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import numpy as np

from recpipeline import db
from recpipeline.config import Settings


def dismissed(url: str, ds: date, settings: Settings) -> dict[str, set[str]]:
    """user -> item ids the user dismissed on days (ds - dismiss_days, ds]."""
    if settings.dismiss_days <= 0:
        return {}
    with db.connect(url) as conn, conn.cursor() as cur:
        rows = db.fetch_all(cur, "feedback_dismissed", {"ds": ds, "days": settings.dismiss_days})
    return {user: set(items) for user, items in rows}


def exclusions(
    user_ids: Sequence[str], blocked: dict[str, set[str]], index: dict[str, int], base: Sequence[np.ndarray] | None
) -> list[np.ndarray]:
    """Per user: `base` exclusions (e.g. purchases) plus the dense indices of the user's dismissed items."""
    out = []
    for u, user in enumerate(user_ids):
        extra = [index[i] for i in sorted(blocked.get(user, ())) if i in index]
        first = base[u] if base is not None else np.zeros(0, dtype=np.int64)
        out.append(np.concatenate([np.asarray(first, dtype=np.int64), np.asarray(extra, dtype=np.int64)]))
    return out


def without_dismissed(items: Sequence[str], blocked: set[str], k: int) -> list[str]:
    """The first k items of a list that the user has not dismissed."""
    return [i for i in items if i not in blocked][:k]
