"""The score stage for one user shard: exact cosine Top-N with explanations for users with history, the
trending list (`recpipeline.trending`) for cold users, staged under the attempt's publish_id."""

from __future__ import annotations

import logging
import time
from datetime import date

import numpy as np

from recpipeline import features, publish, scoring, trending
from recpipeline.config import Settings
from recpipeline.events import EVENT_CODES
from recpipeline.feedback import dismissals

log = logging.getLogger(__name__)


def model_rows(
    model,
    items: features.ItemTable,
    item_vecs: np.ndarray,
    seqs: features.Sequences,
    settings: Settings,
    ds: date,
    publish_id: int,
    shard: int,
    model_id: str,
    dismissed: dict[str, set[str]] | None = None,
) -> tuple[publish.ShardRows, np.ndarray]:
    """Exact cosine Top-N of `seqs`' users (purchases excluded unless configured otherwise, items a user
    dismissed within `dismiss_days` excluded, in-stock items only) with explanations, as result rows; and the
    users' normalised vectors. The daily score and the refresh share it."""
    item_vecs = scoring.normalise(item_vecs)
    user_vecs = scoring.normalise(model.user_vectors(seqs.items, seqs.events)) if len(seqs) else np.zeros((0, 1))
    purchase = EVENT_CODES["purchase"]
    exclude = (
        [it[ev == purchase] for it, ev in zip(seqs.items, seqs.events, strict=True)]
        if settings.exclude_purchased
        else None
    )
    if dismissed:
        exclude = dismissals.exclusions(seqs.user_ids, dismissed, items.index, exclude)
    top = scoring.top_n(user_vecs, item_vecs, settings.top_k, exclude=exclude, sellable=items.in_stock)
    reasons, reason_scores = scoring.explain(top.items, seqs.items, item_vecs)
    rows = publish.result_rows(
        ds,
        publish_id,
        shard,
        model_id,
        seqs.user_ids,
        items.item_ids,
        top.items,
        top.scores,
        reasons,
        reason_scores,
        "model",
    )
    return rows, user_vecs


def score_shard(url: str, ds: date, settings: Settings, job: dict) -> dict:
    """Score, explain and stage one shard's rows; write its user vectors. Returns the shard's counts."""
    from recpipeline.model.daily import load_for_day

    shard, shards = job["shard"], job["shards"]
    model, items, item_vecs = load_for_day(url, ds, job["artifact"])
    seqs = features.load_sequences(url, ds, shard, shards)
    dismissed = dismissals.dismissed(url, ds, settings)
    rows, user_vecs = model_rows(
        model, items, item_vecs, seqs, settings, ds, job["publish_id"], shard, job["model_id"], dismissed
    )
    parts = [rows]

    known = set(seqs.user_ids)
    cold = [u for u in features.active_users(url, ds, settings, shard, shards) if u not in known]
    if cold:
        trend = items.indices(trending.trending_items(url, ds, settings.top_k))
        parts.append(
            publish.list_rows(
                ds, job["publish_id"], shard, job["model_id"], cold, items.item_ids, trend[trend > 0], "trending"
            )
        )
    started = time.perf_counter()
    rows = publish.write_shard(url, ds, job["publish_id"], shard, parts)
    seconds = time.perf_counter() - started
    features.write_user_embeddings(url, ds, job["model_id"], shard, shards, seqs.user_ids, user_vecs)
    log.info(
        "score %s shard %d/%d: %d users by model, %d cold users by trending, %d rows staged in %.1fs (%.0f rows/s)",
        ds,
        shard + 1,
        shards,
        len(seqs),
        len(cold),
        rows,
        seconds,
        rows / max(seconds, 1e-9),
    )
    return {"shard": shard, "users_model": len(seqs), "users_trending": len(cold), "rows": rows}
