"""Atomic publish: readers never see a mixture or an empty day; killed publishes change nothing; roles."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from datetime import date

import numpy as np
import psycopg2
import pytest

from recpipeline import db, publish

D1, D2 = date(2026, 10, 1), date(2026, 10, 2)


def stage(url: str, ds: date, users: int, k: int, model_id: str, shards: int = 2, seed: int = 0) -> int:
    """Plan an attempt and write `users` x `k` rows over `shards` shards; returns the publish_id."""
    publish_id = publish.plan_scoring(url, ds)
    rng = np.random.default_rng(seed)
    item_ids = np.array([""] + [f"i{n}" for n in range(1, 200)], dtype=object)
    for shard in range(shards):
        user_ids = [f"u{n}" for n in range(shard, users, shards)]
        items = np.stack([rng.choice(np.arange(1, 200), k, replace=False) for _ in user_ids])
        scores = np.sort(rng.random((len(user_ids), k)).astype(np.float32), axis=1)[:, ::-1]
        reasons = np.full(items.shape, -1)
        buf = publish.result_rows(
            ds,
            publish_id,
            shard,
            model_id,
            user_ids,
            item_ids,
            items,
            scores,
            reasons,
            np.full(items.shape, np.nan, dtype=np.float32),
            "model",
        )
        publish.write_shard(url, ds, publish_id, shard, [buf])
    return publish_id


def latest(url: str):
    with db.connect(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT ds, model_id, count(*), count(DISTINCT user_id) FROM recs.latest GROUP BY 1, 2")
        return cur.fetchall()


def checksum(url: str) -> str:
    with db.connect(url) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT md5(string_agg(concat_ws(',', ds, model_id, user_id, rank, item_id, score), ';' "
            "ORDER BY user_id, rank)) FROM recs.latest"
        )
        return cur.fetchone()[0]


def test_publish_swaps_a_day_in_and_reruns_replace_it(fresh_db):
    assert latest(fresh_db) == []
    p1 = stage(fresh_db, D1, users=50, k=5, model_id="m1")
    assert latest(fresh_db) == []  # staged rows are invisible until published
    publish.publish_day(fresh_db, D1, p1, "m1")
    assert latest(fresh_db) == [(D1, "m1", 250, 50)]
    # a retried shard replaces its own rows: no duplicates
    p2 = stage(fresh_db, D2, users=40, k=5, model_id="m2")
    stage_again = publish.result_rows(
        D2,
        p2,
        0,
        "m2",
        ["u0"],
        np.array(["", "i1"], dtype=object),
        np.array([[1]]),
        np.array([[0.5]], dtype=np.float32),
        np.array([[-1]]),
        np.array([[np.nan]], dtype=np.float32),
        "model",
    )
    publish.write_shard(fresh_db, D2, p2, 0, [stage_again])
    publish.publish_day(fresh_db, D2, p2, "m2")
    assert latest(fresh_db) == [(D2, "m2", 1 + 20 * 5, 21)]
    # rerunning day 2 replaces it exactly; superseded rows are gone from the table
    p3 = stage(fresh_db, D2, users=40, k=5, model_id="m2", seed=5)
    publish.publish_day(fresh_db, D2, p3, "m2")
    assert latest(fresh_db) == [(D2, "m2", 200, 40)]
    with db.connect(fresh_db) as conn, conn.cursor() as cur:
        cur.execute("SELECT ds, count(DISTINCT publish_id), count(*) FROM recs.results GROUP BY ds ORDER BY ds")
        assert cur.fetchall() == [(D1, 1, 250), (D2, 1, 200)]
        # publishing an older day (a backfill) keeps recs.latest on the newest day
    p4 = stage(fresh_db, D1, users=10, k=5, model_id="m1b")
    publish.publish_day(fresh_db, D1, p4, "m1b")
    assert latest(fresh_db) == [(D2, "m2", 200, 40)]


def test_reader_never_sees_a_mixture_or_an_empty_day(fresh_db):
    p1 = stage(fresh_db, D1, users=300, k=10, model_id="m1")
    publish.publish_day(fresh_db, D1, p1, "m1")
    allowed = {(D1, "m1", 3000)}
    seen, stop, errors = [], threading.Event(), []

    def reader():
        conn = psycopg2.connect(fresh_db)
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                while not stop.is_set():
                    cur.execute("SELECT ds, model_id, count(*) FROM recs.latest GROUP BY 1, 2")
                    seen.append(tuple(cur.fetchall()))
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            conn.close()

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for round_ in range(6):
            ds = D2 if round_ % 2 == 0 else D1
            model = f"m{round_}"
            users = 200 + 50 * round_
            pid = stage(fresh_db, ds, users=users, k=10, model_id=model, seed=round_)
            publish.publish_day(fresh_db, ds, pid, model)
            if ds == D2:
                allowed.add((D2, model, users * 10))
            time.sleep(0.05)
    finally:
        stop.set()
        thread.join()
    assert not errors
    assert len(seen) > 20
    for observation in seen:
        assert len(observation) == 1, f"mixture or empty set: {observation}"
        assert observation[0] in allowed


def test_killed_publish_leaves_latest_unchanged(fresh_db):
    p1 = stage(fresh_db, D1, users=30, k=5, model_id="m1")
    publish.publish_day(fresh_db, D1, p1, "m1")
    before = checksum(fresh_db)
    p2 = stage(fresh_db, D2, users=30, k=5, model_id="m2")
    script = textwrap.dedent(f"""
        from datetime import date
        from recpipeline import db
        with db.connect({fresh_db!r}) as conn, conn.cursor() as cur:
            db.execute(cur, "recs_publish", {{"ds": date(2026, 10, 2), "publish_id": {p2}, "model_id": "m2"}})
            print("published, not committed", flush=True)
            cur.execute("SELECT pg_sleep(60)")
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, start_new_session=True)
    assert proc.stdout.readline().strip() == "published, not committed"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert checksum(fresh_db) == before
    assert latest(fresh_db) == [(D1, "m1", 150, 30)]


def test_reader_role_can_read_recs_and_eval_only(fresh_db):
    p1 = stage(fresh_db, D1, users=5, k=3, model_id="m1")
    publish.publish_day(fresh_db, D1, p1, "m1")
    conn = psycopg2.connect(fresh_db)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("SET ROLE recpipeline_reader")
            cur.execute("SELECT count(*) FROM recs.latest")
            assert cur.fetchone()[0] == 15
            cur.execute("SELECT count(*) FROM eval.metrics")
            for sql in (
                "SELECT * FROM raw.events",
                "SELECT * FROM clean.events",
                "INSERT INTO eval.metrics VALUES ('2026-10-01', 'x', 'model', 'ndcg', 10, 1, 1)",
                "UPDATE recs.current SET ds = '2020-01-01'",
                "DELETE FROM recs.published",
            ):
                with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                    cur.execute(sql)
    finally:
        conn.close()


def test_latest_uses_an_index_for_one_user(fresh_db):
    p1 = stage(fresh_db, D1, users=2000, k=10, model_id="m1")
    publish.publish_day(fresh_db, D1, p1, "m1")
    with db.connect(fresh_db) as conn, conn.cursor() as cur:
        cur.execute("ANALYZE recs.results")
        cur.execute("EXPLAIN SELECT item_id, score FROM recs.latest WHERE user_id = 'u7' ORDER BY rank")
        plan = "\n".join(r[0] for r in cur.fetchall())
    assert "Index" in plan and "Seq Scan on results_20261001" not in plan, plan


def test_category_top_view_refreshes_from_what_is_published(fresh_db):
    p1 = stage(fresh_db, D1, users=30, k=5, model_id="m1")
    publish.publish_day(fresh_db, D1, p1, "m1")
    summary = publish.refresh_category_top(fresh_db)
    with db.connect(fresh_db) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(DISTINCT item_id) FROM recs.latest")
        items = cur.fetchone()[0]
        cur.execute("SELECT sum(users), min(category_rank) FROM recs.category_top")
        users, best = cur.fetchone()
    assert summary["rows"] == items and users == 150 and best == 1


def test_awkward_ids_round_trip_through_copy(fresh_db):
    publish_id = publish.plan_scoring(fresh_db, D1)
    ids = np.array(["", "tab\there", "back\\slash", "new\nline", "\\N", 'comma,"quote"'], dtype=object)
    user = "ü\tuser\\1"
    buf = publish.result_rows(
        D1,
        publish_id,
        0,
        "m1",
        [user],
        ids,
        np.array([[1, 2, 3, 4, 5]]),
        np.array([[0.5, 0.4, 0.3, 0.2, 0.1]], dtype=np.float32),
        np.array([[2, -1, 1, 1, 1]]),
        np.array([[0.9, np.nan, 0.1, 0.1, 0.1]], dtype=np.float32),
        "model",
    )
    publish.write_shard(fresh_db, D1, publish_id, 0, [buf])
    publish.publish_day(fresh_db, D1, publish_id, "m1")
    with db.connect(fresh_db) as conn, conn.cursor() as cur:
        cur.execute("SELECT user_id, rank, item_id, reason_item_id, reason_score FROM recs.latest ORDER BY rank")
        rows = cur.fetchall()
    assert [r[2] for r in rows] == list(ids[1:])
    assert {r[0] for r in rows} == {user}
    assert rows[0][3] == "back\\slash" and rows[1][3] is None and rows[1][4] is None


def test_publish_counts_what_shards_recorded_and_refuses_a_missing_shard(fresh_db):
    p1 = stage(fresh_db, D1, users=31, k=4, model_id="m1", shards=3)
    with db.connect(fresh_db) as conn, conn.cursor() as cur:
        cur.execute("SELECT shard, users, rows_written FROM recs.shard_writes WHERE publish_id = %s ORDER BY 1", (p1,))
        assert cur.fetchall() == [(0, 11, 44), (1, 10, 40), (2, 10, 40)]
    with pytest.raises(RuntimeError, match="3 of 4 shards"):
        publish.publish_day(fresh_db, D1, p1, "m1", shards=4)
    assert latest(fresh_db) == []
    assert publish.publish_day(fresh_db, D1, p1, "m1", shards=3) == {"users": 31, "rows": 124}
    assert latest(fresh_db) == [(D1, "m1", 124, 31)]


def test_rows_are_the_same_whatever_the_chunking(fresh_db):
    rng = np.random.default_rng(1)
    item_ids = np.array([""] + [f"i{n}" for n in range(1, 30)], dtype=object)
    items = rng.integers(1, 30, size=(23, 6))
    items[4, 2:] = -1  # a user with only two recommendations
    items[9, :] = -1  # and one with none
    reasons = np.where(rng.random(items.shape) < 0.5, -1, rng.integers(1, 30, size=items.shape))
    reason_scores = np.where(reasons < 0, np.nan, rng.random(items.shape)).astype(np.float32)
    scores = rng.random(items.shape).astype(np.float32)
    users = [f"u{n}" for n in range(23)]
    seen = []
    for chunk_rows in (1, 7, 50_000):
        pid = publish.plan_scoring(fresh_db, D1)
        block = publish.result_rows(
            D1, pid, 0, "m1", users, item_ids, items, scores, reasons, reason_scores, "model", chunk_rows=chunk_rows
        )
        assert block.users == 22
        assert publish.write_shard(fresh_db, D1, pid, 0, [block]) == 23 * 6 - 4 - 6
        with db.connect(fresh_db) as conn, conn.cursor() as cur:
            cur.execute(
                "SELECT user_id, rank, item_id, score, reason_item_id, reason_score FROM recs.results "
                "WHERE publish_id = %s ORDER BY user_id, rank",
                (pid,),
            )
            seen.append(cur.fetchall())
    assert seen[0] == seen[1] == seen[2]
    by_key = {(u, r): rest for u, r, *rest in seen[0]}
    assert by_key[("u4", 2)][0] == item_ids[items[4, 1]] and ("u4", 3) not in by_key and ("u9", 1) not in by_key
    u, r = 11, 3
    assert by_key[(f"u{u}", r + 1)][2] == (None if reasons[u, r] < 0 else item_ids[reasons[u, r]])


def test_a_shard_that_fails_while_writing_leaves_no_rows(fresh_db):
    pid = publish.plan_scoring(fresh_db, D1)
    good = publish.result_rows(
        D1,
        pid,
        0,
        "m1",
        ["u0"],
        np.array(["", "i1"], dtype=object),
        np.array([[1]]),
        np.array([[0.5]], dtype=np.float32),
        np.array([[-1]]),
        np.array([[np.nan]], dtype=np.float32),
        "model",
    )

    def broken():
        yield from good.chunks
        raise OSError("disk went away")

    with pytest.raises(OSError, match="disk went away"):
        publish.write_shard(fresh_db, D1, pid, 0, [publish.ShardRows(1, broken())])
    with db.connect(fresh_db) as conn, conn.cursor() as cur:
        cur.execute("SELECT (SELECT count(*) FROM recs.results), (SELECT count(*) FROM recs.shard_writes)")
        assert cur.fetchone() == (0, 0)


@pytest.mark.parametrize(("active", "per_shard", "expected"), [(0, 10, 1), (10, 10, 1), (11, 10, 2), (10**9, 1, 64)])
def test_shard_count_covers_every_user_within_bounds(active, per_shard, expected):
    assert publish.shard_count(active, per_shard) == expected


def test_plan_derives_shards_from_active_users_when_set_to_zero(fresh_db):
    from recpipeline import tasks
    from recpipeline.config import load_settings

    with db.connect(fresh_db) as conn, conn.cursor() as cur:
        for n, (ds, user) in enumerate([(D1, "a"), (D1, "b"), (D2, "b"), (D2, "c"), (D2, "d"), (D2, "e")]):
            cur.execute(
                "INSERT INTO clean.events (ds, event_id, user_id, item_id, event_type, ts, load_id, line_no) "
                "VALUES (%s, %s, %s, 'i1', 'view', %s, 1, %s)",
                (ds, f"e{n}", user, ds, n),
            )
    settings = load_settings({"database_url": fresh_db, "shards": 0, "users_per_shard": 2})
    jobs = tasks.plan_scoring(D2, settings, {"model_id": "m1", "artifact": "unused"})
    assert [j["shard"] for j in jobs] == [0, 1, 2] and {j["shards"] for j in jobs} == {3}  # a..e: 5 users
    assert len({j["publish_id"] for j in jobs}) == 1
    fixed = tasks.plan_scoring(
        D2, load_settings({"database_url": fresh_db, "shards": 4}), {"model_id": "m1", "artifact": "unused"}
    )
    assert len(fixed) == 4
    with pytest.raises(ValueError, match=r"shards must be in \[0, 64\]"):
        load_settings({"shards": 65})
