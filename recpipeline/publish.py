"""Writing scored rows and swapping a day in atomically.

Every scoring attempt for a day gets a publish_id; shards COPY their rows into the day's partition of
recs.results under that id (invisible to readers), and `publish_day` repoints recs.current in one
transaction. Retried shards replace their own rows; unpublished attempts are dropped by the next plan.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np

from recpipeline import db, pgbinary, registry, search
from recpipeline.config import MAX_SHARDS

log = logging.getLogger(__name__)
RESULT_COLUMNS = (
    "ds",
    "publish_id",
    "shard",
    "model_id",
    "source",
    "rank",
    "score",
    "user_id",
    "item_id",
    "reason_item_id",
    "reason_score",
)  # the order result_rows encodes them in


def shard_count(active_users: int, users_per_shard: int, most: int = MAX_SHARDS) -> int:
    """Score tasks for a day when derived from its active users: enough that none exceeds users_per_shard."""
    return max(1, min(most, -(-active_users // users_per_shard)))


def plan_scoring(url: str, ds: date) -> int:
    """Prepare the day's partition, drop unpublished earlier attempts, return a new publish_id."""
    with db.connect(url) as conn, conn.cursor() as cur:
        db.execute(cur, "recs_plan", {"ds": ds})
        return int(cur.fetchone()[0])


@dataclass(frozen=True)
class ShardRows:
    """A block of one shard's rows: how many users have rows in it, and its binary COPY chunks (built lazily)."""

    users: int
    chunks: Iterable[bytes]


def result_rows(
    ds: date,
    publish_id: int,
    shard: int,
    model_id: str,
    user_ids: list[str],
    item_ids: np.ndarray,
    items: np.ndarray,
    scores: np.ndarray,
    reasons: np.ndarray,
    reason_scores: np.ndarray,
    source: str,
    chunk_rows: int = 50_000,
) -> ShardRows:
    """Rows for recs.results; `items`/`reasons` are item_idx matrices (-1 = none); a user's rows stop at the
    first -1 in `items`. Chunks are PostgreSQL binary COPY, built with numpy (see recpipeline.pgbinary)."""
    kept = np.logical_and.accumulate(items >= 0, axis=1) if items.size else np.zeros(items.shape, dtype=bool)
    users = int(kept[:, 0].sum()) if items.size else 0
    constants = [
        pgbinary.Const(ds, "date"),
        pgbinary.Const(publish_id, "int8"),
        pgbinary.Const(shard, "int4"),
        pgbinary.Const(model_id),
        pgbinary.Const(source),
    ]

    def chunks() -> Iterator[bytes]:
        user_vocab, item_vocab = pgbinary.Vocabulary(user_ids), pgbinary.Vocabulary(item_ids)
        yield pgbinary.HEADER
        per_chunk = max(1, chunk_rows // max(1, items.shape[1]))
        for first in range(0, len(user_ids), per_chunk):
            user, rank = np.nonzero(kept[first : first + per_chunk])
            user += first
            if len(user):
                yield pgbinary.encode_rows(
                    constants
                    + [
                        pgbinary.Number(rank + 1, "int2"),
                        pgbinary.Number(scores[user, rank], "float4"),
                        pgbinary.Text(user, user_vocab),
                        pgbinary.Text(items[user, rank], item_vocab),
                        pgbinary.Text(reasons[user, rank], item_vocab),
                        pgbinary.Number(reason_scores[user, rank], "float4", nan_is_null=True),
                    ],
                    len(user),
                )
        yield pgbinary.TRAILER

    return ShardRows(users, chunks())


def list_rows(
    ds: date,
    publish_id: int,
    shard: int,
    model_id: str,
    user_ids: list[str],
    item_ids: np.ndarray,
    ranked: np.ndarray,
    source: str,
) -> ShardRows:
    """The same ranked list (`ranked`: item_idx, best first) for every user in `user_ids`, e.g. trending for
    cold users; scores are rank-based placeholders 1 - rank/k, with no explanation."""
    n = len(ranked)
    grid = np.tile(np.asarray(ranked, dtype=np.int64), (len(user_ids), 1))
    scores = np.tile(np.linspace(1.0, 0.0, n, endpoint=False, dtype=np.float32), (len(user_ids), 1))
    none = np.full(grid.shape, -1, dtype=np.int64)
    return result_rows(
        ds,
        publish_id,
        shard,
        model_id,
        user_ids,
        item_ids,
        grid,
        scores,
        none,
        np.full(grid.shape, np.nan, dtype=np.float32),
        source,
    )


def write_shard(url: str, ds: date, publish_id: int, shard: int, parts: list[ShardRows]) -> int:
    """Replace this shard's rows for the attempt and record its counts, in one transaction; returns rows."""
    with db.connect(url) as conn, conn.cursor() as cur:
        db.execute(cur, "recs_clear_shard", {"ds": ds, "publish_id": publish_id, "shard": shard})
        rows = sum(db.copy_chunks(cur, "recs.results", RESULT_COLUMNS, part.chunks, binary=True) for part in parts)
        db.execute(
            cur,
            "recs_record_shard",
            {
                "ds": ds,
                "publish_id": publish_id,
                "shard": shard,
                "users": sum(part.users for part in parts),
                "rows": rows,
            },
        )
    return rows


def publish_day(url: str, ds: date, publish_id: int, model_id: str, shards: int | None = None) -> dict[str, int]:
    """Make the attempt's rows the published recommendations for `ds` (and recs.latest if newest).

    The counts come from what each shard recorded (no recount of millions of rows under the pointer lock);
    with `shards`, an attempt missing a shard is refused. Superseded rows are deleted after the swap commits.
    """
    with db.connect(url) as conn, conn.cursor() as cur:
        db.execute(cur, "recs_publish", {"ds": ds, "publish_id": publish_id, "model_id": model_id})
        users, rows, written = cur.fetchone()
        if rows == 0:
            raise RuntimeError(f"nothing to publish for {ds} (publish_id {publish_id}): did scoring run?")
        if shards is not None and written != shards:
            raise RuntimeError(f"publish_id {publish_id} for {ds} has {written} of {shards} shards written")
    with db.connect(url) as conn, conn.cursor() as cur:
        db.execute(cur, "recs_drop_superseded", {"ds": ds, "publish_id": publish_id})
        dropped = cur.rowcount
    log.info(
        "published %s: %d users, %d rows from %d shards, model %s, publish_id %d; %d superseded rows dropped",
        ds,
        users,
        rows,
        written,
        model_id,
        publish_id,
        dropped,
    )
    return {"users": int(users), "rows": int(rows)}


class NotBlessed(RuntimeError):
    """The gate did not bless the day's model: a decision, not a breakage (the publish task ends skipped)."""


def publish_if_blessed(url: str, ds: date, publish_id: int, model_id: str, shards: int) -> dict[str, int]:
    """Publish the day only if evaluate blessed the model (else NotBlessed, and recs.latest stays), together with
    its search index (recs.search reads through the same pointer, so search flips with the day)."""
    record = registry.get(url, model_id)
    if record.status != "blessed":
        raise NotBlessed(
            f"model {record.model_id} is {record.status}, not blessed ({record.reason}); "
            f"recs.latest keeps the previously published day"
        )
    search.publish_search_index(url, ds, publish_id, model_id)  # before the swap: searches follow recs.current
    return publish_day(url, ds, publish_id, model_id, shards=shards)


def publish_stage(url: str, ds: date, publish_id: int, model_id: str, shards: int, artifact_root: Path) -> dict:
    """The publish task: swap the day in if blessed, refresh recs.category_top from it, and render the day's
    report again so it names what is live now."""
    from recpipeline.evaluation import report

    published = publish_if_blessed(url, ds, publish_id, model_id, shards)
    refresh_category_top(url)
    path = report.write_report(url, ds, model_id, artifact_root)
    log.info("evaluation report (as published): %s", path)
    return {**published, "report": str(path)}


def republish(url: str, ds: date, actor: str, reason: str) -> dict:
    """Make the day `ds` as published earlier live again (roll back, or promote a newer one back), atomically,
    with an audit row naming `actor` and `reason`. LookupError when that day has no published rows."""
    if not reason.strip():
        raise ValueError("a republish needs a reason (it is kept in recs.publish_audit)")
    with db.connect(url) as conn, conn.cursor() as cur:
        db.execute(cur, "recs_republish", {"ds": ds, "actor": actor, "reason": reason})
        row = cur.fetchone()
    if row is None:
        raise LookupError(f"{ds} has no published recommendations to make live again")
    day, publish_id, model_id, users, rows, audit_id = row
    log.info(
        "republished %s (publish_id %d, model %s, %d users) by %s: %s [audit %d]",
        day,
        publish_id,
        model_id,
        users,
        actor,
        reason,
        audit_id,
    )
    return {
        "ds": day.isoformat(),
        "publish_id": int(publish_id),
        "model_id": model_id,
        "users": int(users),
        "rows": int(rows),
        "audit_id": int(audit_id),
    }


def refresh_category_top(url: str) -> dict[str, int]:
    """Rebuild recs.category_top from what recs.latest publishes now (readers see old or new rows)."""
    with db.connect(url) as conn, conn.cursor() as cur:
        db.execute(cur, "recs_refresh_category_top")
        rows, categories = cur.fetchone()
    log.info("recs.category_top refreshed: %d items over %d categories", rows, categories)
    return {"rows": int(rows), "categories": int(categories)}
