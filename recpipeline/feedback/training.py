"""Feedback into training: shown-and-ignored impressions become hard negatives of that user, clicked
recommendations weigh more as targets, and position bias is corrected by inverse propensity from the observed
CTR by position (propensity(p) = CTR(p) / CTR(1), floored at MIN_PROPENSITY).

- a clicked recommendation at position p: the target weight of that click in the user's sequence is multiplied
  by 1 + feedback_click_weight / propensity(p), capped at MAX_MULTIPLIER (inverse propensity: a click low in the
  list says more, the cap bounds its variance and keeps the organic next-item signal dominant);
- an ignored impression at position p (not clicked, the item never interacted with): a negative of weight
  feedback_negative_weight x propensity(p) (an item low in the list was likely never looked at);
- a dismissed item ("not interested"): a negative of weight DISMISS_WEIGHT (explicit, so no propensity).
`feedback_training = false` (or no impressions) trains exactly as before.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import date, timedelta

import numpy as np

from recpipeline import db, features
from recpipeline.config import Settings

log = logging.getLogger(__name__)
MIN_PROPENSITY = 0.05
MAX_MULTIPLIER = 4.0
DISMISS_WEIGHT = 1.0
LOOKBACK_DAYS = 14  # impressions of this many days before the day shape its training
MAX_NEGATIVES = 50  # most recent ignored items per user


def propensities(rows: list[tuple[int, int, int]]) -> dict[int, float]:
    """position -> CTR(p) / CTR(1) from (position, shown, clicked) rows, floored at MIN_PROPENSITY."""
    ctr = {int(p): (c / s if s else 0.0) for p, s, c in rows}
    top = ctr.get(1) or max(ctr.values(), default=0.0)
    if not top:
        return {p: 1.0 for p in ctr}
    return {p: float(min(1.0, max(MIN_PROPENSITY, v / top))) for p, v in ctr.items()}


def build_inputs(
    sequences: features.Sequences,
    impressions: list[tuple],
    index: dict[str, int],
    propensity: dict[int, float],
    click_weight: float,
    negative_weight: float,
    dismissed: dict[str, set[str]] | None = None,
):
    """FeedbackInputs aligned with `sequences` from impression rows (user, item, position, shown_at, clicked,
    clicked_at) and dismissed items per user; None when no user of the sequences was shown anything."""
    from recpipeline.model.training import FeedbackInputs

    by_user: dict[str, list[tuple]] = defaultdict(list)
    for row in impressions:
        by_user[row[0]].append(row)
    multipliers, negatives, weights, touched = [], [], [], 0
    for user, items, ts in zip(sequences.user_ids, sequences.items, sequences.ts, strict=True):
        mult = np.ones(len(items), dtype=np.float32)
        neg: dict[int, float] = {}
        rows = by_user.get(user, [])
        touched += bool(rows)
        interacted = set(items.tolist())
        for _u, item_id, position, _shown_at, clicked, clicked_at in rows:
            idx = index.get(item_id, 0)
            if not idx:
                continue
            p = propensity.get(int(position), MIN_PROPENSITY)
            if clicked:
                at = np.flatnonzero((items == idx) & (ts == clicked_at))
                mult[at] = min(MAX_MULTIPLIER, 1.0 + click_weight / p)
            elif idx not in interacted:
                neg[idx] = max(neg.get(idx, 0.0), negative_weight * p)
        for item_id in sorted((dismissed or {}).get(user, ())):
            if index.get(item_id):
                neg.pop(index[item_id], None)
                neg[index[item_id]] = DISMISS_WEIGHT  # last, so the MAX_NEGATIVES cut keeps it
        chosen = list(neg.items())[-MAX_NEGATIVES:]
        multipliers.append(mult)
        negatives.append(np.array([i for i, _ in chosen], dtype=np.int32))
        weights.append(np.array([w for _, w in chosen], dtype=np.float32))
    if not touched:
        return None
    return FeedbackInputs(multipliers, negatives, weights)


def feedback_inputs(url: str, ds: date, settings: Settings, sequences: features.Sequences, items):
    """The training feedback of `ds` (impressions of the LOOKBACK_DAYS before it) for `sequences`, or None when
    feedback training is off or nobody was shown anything."""
    if not settings.feedback_training:
        return None
    params = {"since": ds - timedelta(days=LOOKBACK_DAYS), "through": ds - timedelta(days=1)}
    with db.connect(url) as conn, conn.cursor() as cur:
        propensity = propensities(db.fetch_all(cur, "feedback_position_ctr", params))
        rows = db.fetch_all(cur, "feedback_training_impressions", params)
        dismissed: dict[str, set[str]] = defaultdict(set)
        for user, item_id in db.fetch_all(cur, "feedback_training_dismissals", params):
            dismissed[user].add(item_id)
    inputs = build_inputs(
        sequences,
        rows,
        items.index,
        propensity,
        settings.feedback_click_weight,
        settings.feedback_negative_weight,
        dismissed,
    )
    if inputs is not None:
        boosted = sum(int((m > 1).sum()) for m in inputs.multipliers)
        negs = sum(len(n) for n in inputs.negatives)
        log.info(
            "feedback %s: %d impressions, %d clicked targets up-weighted, %d negatives, propensity %s",
            ds,
            len(rows),
            boosted,
            negs,
            {p: round(v, 3) for p, v in sorted(propensity.items())[:10]},
        )
    return inputs
