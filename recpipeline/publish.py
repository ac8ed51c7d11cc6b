"""Writing scored rows and swapping a day in atomically.

Every scoring attempt for a day gets a publish_id; shards COPY their rows into the day's partition of
recs.results under that id (invisible to readers), and `publish_day` repoints recs.current in one
transaction. Retried shards replace their own rows; unpublished attempts are dropped by the next plan.
"""

from __future__ import annotations

import io
import logging
from datetime import date

import numpy as np

from recpipeline import db

log = logging.getLogger(__name__)
RESULT_COLUMNS = ("ds", "publish_id", "shard", "model_id", "user_id", "rank", "item_id", "score",
                  "reason_item_id", "reason_score", "source")


def plan_scoring(url: str, ds: date) -> int:
    """Prepare the day's partition, drop unpublished earlier attempts, return a new publish_id."""
    with db.connect(url) as conn, conn.cursor() as cur:
        db.execute(cur, "recs_plan", {"ds": ds})
        return int(cur.fetchone()[0])


def result_rows_csv(
    ds: date, publish_id: int, shard: int, model_id: str, user_ids: list[str], item_ids: np.ndarray,
    items: np.ndarray, scores: np.ndarray, reasons: np.ndarray, reason_scores: np.ndarray, source: str,
) -> io.StringIO:
    """CSV text for COPY into recs.results; `items`/`reasons` are item_idx matrices (-1 = none)."""
    buf = io.StringIO()
    prefix = f"{ds},{publish_id},{shard},{model_id},"
    ids = np.asarray(item_ids, dtype=object)
    for u, user in enumerate(user_ids):
        head = prefix + _csv_field(user) + ","
        for r in range(items.shape[1]):
            item = items[u, r]
            if item < 0:
                break
            reason = reasons[u, r]
            reason_text = _csv_field(ids[reason]) if reason >= 0 else "\\N"
            rs = reason_scores[u, r]
            rs_text = "\\N" if np.isnan(rs) else f"{rs:.6g}"
            buf.write(f"{head}{r + 1},{_csv_field(ids[item])},{scores[u, r]:.6g},{reason_text},{rs_text},{source}\n")
    buf.seek(0)
    return buf


def _csv_field(value: str) -> str:
    if any(c in value for c in ',"\n\r\\'):
        return '"' + value.replace('"', '""') + '"'
    return value


def write_shard(url: str, ds: date, publish_id: int, shard: int, buffers: list[io.StringIO]) -> int:
    """Replace this shard's rows for the attempt, in one transaction; returns rows written."""
    with db.connect(url) as conn, conn.cursor() as cur:
        db.execute(cur, "recs_clear_shard", {"ds": ds, "publish_id": publish_id, "shard": shard})
        rows = 0
        for buf in buffers:
            rows += db.copy_buffer(cur, "recs.results", RESULT_COLUMNS, buf)
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
