"""Writing scored rows and swapping a day in atomically.

Every scoring attempt for a day gets a publish_id; shards COPY their rows into the day's partition of
recs.results under that id (invisible to readers), and `publish_day` repoints recs.current in one
transaction. Retried shards replace their own rows; unpublished attempts are dropped by the next plan.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from datetime import date

import numpy as np

from recpipeline import db

log = logging.getLogger(__name__)
NULL = "\\N"  # COPY's NULL marker; compared by identity below (quoted ids are other objects)
RESULT_COLUMNS = ("ds", "publish_id", "shard", "model_id", "user_id", "rank", "item_id", "score",
                  "reason_item_id", "reason_score", "source")


def plan_scoring(url: str, ds: date) -> int:
    """Prepare the day's partition, drop unpublished earlier attempts, return a new publish_id."""
    with db.connect(url) as conn, conn.cursor() as cur:
        db.execute(cur, "recs_plan", {"ds": ds})
        return int(cur.fetchone()[0])


def result_rows(
    ds: date, publish_id: int, shard: int, model_id: str, user_ids: list[str], item_ids: np.ndarray,
    items: np.ndarray, scores: np.ndarray, reasons: np.ndarray, reason_scores: np.ndarray, source: str,
    chunk_rows: int = 50_000,
) -> Iterator[str]:
    """CSV chunks for COPY into recs.results; `items`/`reasons` are item_idx matrices (-1 = none).

    A generator: `write_shard` streams it into COPY, so PostgreSQL parses and inserts one chunk while the next
    is built (two processes, two cores). One f-string per row over pre-converted Python lists: measured faster
    than column-wise numpy string building (numpy's float -> str is slow) and than COPY's text format.
    """
    prefix = f"{ds},{publish_id},{shard},{model_id},"
    quoted = [_csv_field(str(x)) for x in item_ids] + [NULL]  # index -1 -> NULL
    item_txt = np.asarray(quoted, dtype=object)
    rec_txt = item_txt[np.where(items >= 0, items, -1)].tolist()
    why_txt = item_txt[np.where(reasons >= 0, reasons, -1)].tolist()
    score_list = scores.tolist()
    reason_list = reason_scores.tolist()
    tail = f",{source}\n"
    lines: list[str] = []
    for u, user in enumerate(user_ids):
        head = prefix + _csv_field(user) + ","
        recs, whys, scs, rss = rec_txt[u], why_txt[u], score_list[u], reason_list[u]
        for r in range(len(recs)):
            if recs[r] is NULL:
                break
            rs = rss[r]
            lines.append(f"{head}{r + 1},{recs[r]},{scs[r]:.6g},{whys[r]},{NULL if rs != rs else f'{rs:.6g}'}{tail}")
        if len(lines) >= chunk_rows:
            yield "".join(lines)
            lines.clear()
    if lines:
        yield "".join(lines)


class ChunkReader:
    """A file-like view of an iterator of text chunks, for COPY ... FROM STDIN (read() returns a chunk)."""

    def __init__(self, chunks: Iterable[str]):
        self._chunks = iter(chunks)

    def read(self, size: int = -1) -> str:
        return next(self._chunks, "")

    def readline(self, size: int = -1) -> str:  # psycopg2 only calls read(); here for completeness
        return self.read(size)


def _csv_field(value: str) -> str:
    if any(c in value for c in ',"\n\r\\'):
        return '"' + value.replace('"', '""') + '"'
    return value


def write_shard(url: str, ds: date, publish_id: int, shard: int, parts: list[Iterable[str]]) -> int:
    """Replace this shard's rows for the attempt, in one transaction; returns rows written."""
    with db.connect(url) as conn, conn.cursor() as cur:
        db.execute(cur, "recs_clear_shard", {"ds": ds, "publish_id": publish_id, "shard": shard})
        rows = 0
        for chunks in parts:
            rows += db.copy_buffer(cur, "recs.results", RESULT_COLUMNS, ChunkReader(chunks))
    return rows


def publish_day(url: str, ds: date, publish_id: int, model_id: str) -> dict[str, int]:
    """Make the attempt's rows the published recommendations for `ds` (and recs.latest if newest)."""
    with db.connect(url) as conn, conn.cursor() as cur:
        db.execute(cur, "recs_publish", {"ds": ds, "publish_id": publish_id, "model_id": model_id})
        users, rows = cur.fetchone()
        if rows == 0:
            raise RuntimeError(f"nothing to publish for {ds} (publish_id {publish_id}): did scoring run?")
    log.info("published %s: %d users, %d rows, model %s, publish_id %d", ds, users, rows, model_id, publish_id)
    return {"users": int(users), "rows": int(rows)}


def refresh_category_top(url: str) -> dict[str, int]:
    """Rebuild recs.category_top from what recs.latest publishes now (readers see old or new rows)."""
    with db.connect(url) as conn, conn.cursor() as cur:
        db.execute(cur, "recs_refresh_category_top")
        rows, categories = cur.fetchone()
    log.info("recs.category_top refreshed: %d items over %d categories", rows, categories)
    return {"rows": int(rows), "categories": int(categories)}
