"""Within-day micro-batch refresh: today's behaviour in the live recommendations within minutes, without training.

One refresh is one PostgreSQL transaction (so a failure or a kill -9 anywhere leaves nothing, and the next
refresh takes the same events again):

1. lock the live publish (FOR SHARE on recs.current: a publish waits for the refresh and a refresh for a
   publish; no change to publish.py is needed) and the intake watermark (refreshes queue up);
2. take the intake rows of [watermark, xmin of the current snapshot) out of raw.intake_events into raw.events
   as one load of the landing day, and every micro-batch file not taken before under
   `<landing>/<day>/microbatch/events*.csv|parquet` for the days after the live day, through the canonical
   adapter of the daily ingest (the same door rules);
3. validate them with the daily rules and reason codes (sql/queries/dq_flag_events.sql over the candidates of
   refresh_event_candidates.sql) into
   clean.events / dq.rejects (the daily run of the day validates all its raw rows again later);
4. re-encode each user with accepted item events from their full sequence (features.user_sequences of the
   live day + the events accepted since) with the live model's numpy forward pass, score against the live
   item vectors with the exclusions and explanations of the daily scoring (scoring.top_n / explain,
   publish.result_rows), and serve those users' new lists in recs.latest (recs.refresh_current repointed);
5. move the watermark to the snapshot's xmin and record the refresh in recs.refreshes.

Refreshed lists are tied to the publish they overlay: the next daily publish replaces them all at once, and a
refresh can never bring back a publish that was superseded.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import psycopg2.extensions

from recpipeline import db, features, publish, quality
from recpipeline.config import Settings
from recpipeline.events import EVENT_TYPES, ITEM_EVENTS

log = logging.getLogger(__name__)
MICROBATCH_FOLDER = "microbatch"  # <landing>/<ds>/microbatch/events*.csv|parquet: files a refresh takes
FILE_SOURCE = "microbatch"  # raw.loads.source of micro-batch files (intake rows: "intake")
MAX_FILE_DAYS = 7  # day folders a refresh looks into: those after the live day, at most this many
WAIT_FOR_WRITERS = 30.0  # seconds a refresh waits for older open transactions so that committed rows are takeable


@dataclass(frozen=True)
class Live:
    """The publish recs.latest serves now, and its model."""

    ds: date
    publish_id: int
    model_id: str
    artifact: str
    status: str


@dataclass
class RefreshResult:
    """What one refresh took, accepted and served (also its recs.refreshes row)."""

    refresh_id: int
    landing_ds: date
    live_ds: date | None
    publish_id: int | None
    intake_rows: int = 0
    files: int = 0
    file_rows: int = 0
    accepted: int = 0
    rejected: int = 0
    users_refreshed: int = 0
    users_were_cold: int = 0
    rows_written: int = 0
    seconds: float = 0.0
    refreshed: list[str] = field(default_factory=list, repr=False)  # the users whose lists were replaced

    def summary(self) -> dict:
        """JSON-able counts for XCom and logs (without the user list)."""
        out = asdict(self)
        out.pop("refreshed")
        return {k: v.isoformat() if isinstance(v, date) else v for k, v in out.items()}


def lock_live(cur: psycopg2.extensions.cursor) -> Live | None:
    """The live publish, locked against a publish until this transaction ends; None if nothing is published."""
    db.execute(cur, "refresh_lock_live")
    row = cur.fetchone()
    return Live(row[0], int(row[1]), row[2], row[3], row[4]) if row else None


def settle(url: str, timeout: float) -> bool:
    """Wait (up to `timeout` s) until every committed intake row is below the snapshot xmin, i.e. no transaction
    that began before the newest row's is still open anywhere on the server; True if so (or nothing is pending).

    Only transactions with an id hold the xmin back (a writer's, or a daily stage's long COPY): rows behind one
    wait for the next refresh, they are never skipped."""
    deadline = time.monotonic() + timeout
    conn = psycopg2.connect(url)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            while True:
                db.execute(cur, "refresh_pending")
                newest, horizon, clear = cur.fetchone()
                if newest is None or clear or time.monotonic() >= deadline:
                    if newest is not None and not clear:
                        log.info(
                            "intake rows up to xid %s wait behind a transaction open since xid %s", newest, horizon
                        )
                    return newest is None or bool(clear)
                time.sleep(0.2)
    finally:
        conn.close()


def take_window(cur: psycopg2.extensions.cursor) -> tuple[str, str]:
    """The intake window [from, to) of this refresh as xid8 text: `to` is the snapshot's xmin, read before this
    transaction has an id of its own; then the watermark (`from`) is locked, so refreshes queue up."""
    db.execute(cur, "refresh_horizon")
    (xid_to,) = cur.fetchone()
    db.execute(cur, "refresh_lock_watermark")
    (xid_from,) = cur.fetchone()
    return xid_from, xid_to


def take_intake(cur: psycopg2.extensions.cursor, ds: date, xid_from: str, xid_to: str) -> tuple[int | None, int]:
    """Move the window's intake rows into raw.events as one load of `ds`; (load_id or None, rows)."""
    db.execute(cur, "refresh_take_intake", {"ds": ds, "xid_from": xid_from, "xid_to": xid_to})
    load_id, rows = cur.fetchone()
    return load_id, int(rows)


def microbatch_files(landing_root: Path, days: list[date]) -> list[tuple[date, Path]]:
    """Micro-batch event files under the days' folders, in (day, name) order; dot-files (partial writes) skipped."""
    out = []
    for day in days:
        folder = Path(landing_root) / day.isoformat() / MICROBATCH_FOLDER
        if folder.is_dir():
            found = [p for p in folder.iterdir() if p.is_file() and p.name.startswith("events")]
            out += [(day, p) for p in sorted(found) if p.suffix in (".csv", ".parquet")]
    return out


def take_files(
    cur: psycopg2.extensions.cursor, files: list[tuple[date, Path]], refresh_id: int
) -> list[tuple[date, int, int]]:
    """Land the files no refresh took yet (canonical adapter, one load each) and record them; (ds, load_id, rows)."""
    from recpipeline import sources
    from recpipeline.sources.staging import Landing

    if not files:
        return []
    db.execute(cur, "refresh_files_taken", {"paths": [str(p.resolve()) for _, p in files]})
    taken = {row[0] for row in cur.fetchall()}
    landing = Landing(cur, source=FILE_SOURCE, fmt="canonical", appends=True)
    canonical = sources.adapter("canonical")
    out = []
    for day, path in files:
        if str(path.resolve()) in taken:
            continue
        canonical.land(landing, path, day)
        for result in landing.results[len(out) :]:
            db.execute(cur, "refresh_record_file", {"refresh_id": refresh_id, "load_id": result.load_id})
            out.append((result.ds, result.load_id, result.rows))
    return out


def validate_loads(
    cur: psycopg2.extensions.cursor, ds: date, load_ids: list[int], settings: Settings
) -> tuple[int, int, set[str]]:
    """Flag the loads' rows with the daily rules, write clean.events / dq.rejects; (accepted, rejected, users)."""
    catalogue_ds = db.fetch_all(cur, "refresh_catalogue_day", {"ds": ds})[0][0]
    params = {**quality.event_rule_params(ds, settings, catalogue_ds), "load_ids": load_ids}
    db.execute(cur, "refresh_event_candidates", params)
    db.execute(cur, "dq_flag_events", params)
    db.execute(cur, "refresh_flagged_stats")
    landed, accepted, rejected, users = cur.fetchone()
    db.execute(cur, "dq_accept_events", params)
    written = cur.rowcount
    db.execute(cur, "dq_reject_events", params)
    quarantined = cur.rowcount
    if (written, quarantined) != (accepted, rejected) or landed != accepted + rejected:
        raise RuntimeError(
            f"refresh validation of {ds}: landed {landed}, flagged {accepted} + {rejected}, wrote {written} to "
            f"clean and {quarantined} to dq.rejects; nothing was committed"
        )
    return int(accepted), int(rejected), set(users)


def _sequences(rows: list[tuple]) -> features.Sequences:
    """Sequences from (user_id, item_idx[], event_type[], ts[]) rows."""
    return features.Sequences(
        user_ids=[r[0] for r in rows],
        items=[np.asarray(r[1], dtype=np.int32) for r in rows],
        events=[np.asarray(r[2], dtype=np.int32) for r in rows],
        ts=[np.asarray(r[3], dtype=np.int64) for r in rows],
    )


def full_sequences(published: features.Sequences, new: features.Sequences) -> features.Sequences:
    """Each user of `new` with the published sequence (if any) followed by the new events, in time order."""
    before = dict(zip(published.user_ids, range(len(published)), strict=True))
    out = features.Sequences([], [], [], [])
    for u, items, events, ts in zip(new.user_ids, new.items, new.events, new.ts, strict=True):
        if u in before:
            i = before[u]
            items = np.concatenate([published.items[i], items])
            events = np.concatenate([published.events[i], events])
            ts = np.concatenate([published.ts[i], ts])
            order = np.argsort(ts, kind="stable")  # late events slot in by time; equal times keep earlier first
            items, events, ts = items[order], events[order], ts[order]
        out.user_ids.append(u)
        out.items.append(items)
        out.events.append(events)
        out.ts.append(ts)
    return out


def user_sequences(cur: psycopg2.extensions.cursor, live: Live, users: list[str], through: date) -> features.Sequences:
    """The full sequences of the users with accepted item events after the live day (others are left out)."""
    params = {
        "ds": live.ds,
        "through": through,
        "users": users,
        "event_types": list(EVENT_TYPES),
        "item_events": list(ITEM_EVENTS),
    }
    new = _sequences(db.fetch_all(cur, "refresh_new_events", params))
    published = _sequences(db.fetch_all(cur, "refresh_published_sequences", {"ds": live.ds, "users": new.user_ids}))
    return full_sequences(published, new)


def score_users(url: str, live: Live, seqs: features.Sequences, settings: Settings) -> publish.ShardRows:
    """The users' Top-N rows exactly as the daily score stage computes them (shard_scoring.score_shard)."""
    from recpipeline.feedback.dismissals import dismissed
    from recpipeline.model.daily import load_for_day
    from recpipeline.shard_scoring import model_rows

    model, items, item_vecs = load_for_day(url, live.ds, live.artifact)
    blocked = dismissed(url, live.ds, settings)  # the same dismissals the daily score of live.ds left out
    rows, _ = model_rows(model, items, item_vecs, seqs, settings, live.ds, live.publish_id, 0, live.model_id, blocked)
    return rows


def serve(
    cur: psycopg2.extensions.cursor, rows: publish.ShardRows, refresh_id: int, refreshed_at: datetime
) -> tuple[int, list[str]]:
    """Stage the rows, keep them under the refresh and repoint their users at it; (rows, users served)."""
    db.execute(cur, "refresh_stage_rows")
    written = db.copy_chunks(cur, "pg_temp.refresh_staged", publish.RESULT_COLUMNS, rows.chunks, binary=True)
    served = [r[0] for r in db.fetch_all(cur, "refresh_staged_users")]
    db.execute(cur, "refresh_apply", {"refresh_id": refresh_id, "refreshed_at": refreshed_at})
    return written, served


def refresh(
    url: str,
    settings: Settings,
    today: date | None = None,
    landing_root: Path | None = None,
    wait_seconds: float = WAIT_FOR_WRITERS,
) -> RefreshResult:
    """Take new intake rows and micro-batch files exactly once, validate them, and serve re-encoded lists to the
    users they concern, in one transaction. `today` is the landing day of intake rows (default: today, UTC)."""
    started = time.perf_counter()
    settle(url, wait_seconds)
    refreshed_at = datetime.now(UTC)
    landing_ds = today or refreshed_at.date()
    with db.connect(url) as conn, conn.cursor() as cur:
        xid_from, xid_to = take_window(cur)
        live = lock_live(cur)
        db.execute(
            cur,
            "refresh_begin",
            {
                "refreshed_at": refreshed_at,
                "landing_ds": landing_ds,
                "ds": live and live.ds,
                "publish_id": live and live.publish_id,
                "model_id": live and live.model_id,
                "xid_from": xid_from,
                "xid_to": xid_to,
            },
        )
        (refresh_id,) = cur.fetchone()
        result = RefreshResult(refresh_id, landing_ds, live and live.ds, live and live.publish_id)

        loads: dict[date, list[int]] = {}
        load_id, result.intake_rows = take_intake(cur, landing_ds, xid_from, xid_to)
        if load_id is not None:
            loads[landing_ds] = [load_id]
        first = max(live.ds + timedelta(days=1), landing_ds - timedelta(days=MAX_FILE_DAYS - 1)) if live else landing_ds
        days = [first + timedelta(days=n) for n in range((landing_ds - first).days + 1)]
        files = microbatch_files(landing_root or settings.landing, days)
        for ds, file_load, rows in take_files(cur, files, refresh_id):
            loads.setdefault(ds, []).append(file_load)
            result.files += 1
            result.file_rows += rows

        users: set[str] = set()
        for ds, ids in sorted(loads.items()):
            accepted, rejected, day_users = validate_loads(cur, ds, ids, settings)
            result.accepted += accepted
            result.rejected += rejected
            users |= day_users

        if live is not None and users:
            seqs = user_sequences(cur, live, sorted(users), max(loads))
            if len(seqs):
                db.execute(cur, "refresh_cold_users", {"users": seqs.user_ids})
                cold = {r[0] for r in cur.fetchall()}
                rows = score_users(url, live, seqs, settings)
                result.rows_written, result.refreshed = serve(cur, rows, refresh_id, refreshed_at)
                result.users_refreshed = len(result.refreshed)
                result.users_were_cold = len(cold & set(result.refreshed))
        db.execute(cur, "refresh_prune")
        result.seconds = round(time.perf_counter() - started, 3)
        db.execute(cur, "refresh_finish", {**result.summary(), "xid_to": xid_to, "refreshed_at": refreshed_at})
    log.info(
        "refresh %d over %s (publish %s, model %s): took %d intake rows + %d files (%d rows) for %s, accepted %d, "
        "rejected %d; %d users re-encoded (%d were cold), %d rows served in %.2fs (%.0f users/s)",
        refresh_id,
        live and live.ds,
        live and live.publish_id,
        live and live.model_id,
        result.intake_rows,
        result.files,
        result.file_rows,
        landing_ds,
        result.accepted,
        result.rejected,
        result.users_refreshed,
        result.users_were_cold,
        result.rows_written,
        result.seconds,
        result.users_refreshed / max(result.seconds, 1e-9),
    )
    return result


def refresh_task(settings: Settings) -> dict:
    """The DAG's refresh task: one refresh against the configured database; its counts."""
    return refresh(db.database_url(settings), settings).summary()
