"""Within-day micro-batch refresh (recpipeline.refresh): the intake's writer role, the watermark's exactly-once
under a retry, a kill -9 and late-committing writers, atomic per-user swaps under a concurrent reader,
equality with a full rescoring by the daily score stage, the daily publish as the authority, and the DAG."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import psycopg2
import pytest

from recpipeline import db, features, publish, refresh
from recpipeline.config import PROJECT_ROOT, load_settings
from recpipeline.events import EVENT_CODES, EVENT_COLUMNS

COLD_USER = "u-cold-searcher"


def published_day(url: str, tmp_path: Path, random_model: bool = True, epochs: int = 1):
    """The tiny shop's last three days landed and validated, then features, a model, scoring and publish of the
    last day (as tests/test_safety.run_day), with one cold user who only searched (served trending)."""
    from recpipeline.generate import generate_shop
    from recpipeline.local import land_and_validate
    from recpipeline.model.daily import train_day
    from recpipeline.shard_scoring import score_shard

    shop = generate_shop("tiny", 5, tmp_path / "landing")
    ds = shop.days[-1]
    with open(tmp_path / "landing" / ds.isoformat() / "events.csv", "a") as f:
        f.write(f'cold-1,{COLD_USER},,search,{ds}T08:00:00Z,s-cold,"running shoes",\n')
    overrides = {"database_url": url, "home": tmp_path / "home", "random_model": random_model, "epochs": epochs}
    settings = load_settings(overrides)
    for day in shop.days[-3:]:
        assert land_and_validate(url, "canonical", tmp_path / "landing" / day.isoformat(), day, settings=settings).ok
    features.build_features(url, ds, settings)
    trained = train_day(url, ds, settings)
    publish_id = publish.plan_scoring(url, ds)
    score_shard(url, ds, settings, {"shard": 0, "shards": 1, "publish_id": publish_id, **trained})
    publish.publish_day(url, ds, publish_id, trained["model_id"], shards=1)
    return ds, trained, settings


def catalogue(url: str, ds: date) -> list[str]:
    with db.connect(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT item_id FROM clean.items WHERE ds = %s AND in_stock ORDER BY item_id", (ds,))
        return [r[0] for r in cur.fetchall()]


def model_users(url: str, n: int) -> list[str]:
    with db.connect(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT DISTINCT user_id FROM recs.latest WHERE source = 'model' ORDER BY 1 LIMIT %s", (n,))
        return [r[0] for r in cur.fetchall()]


def make_events(users: list[str], items: list[str], day: date, tag: str, per_user: int = 2, seed: int = 0) -> list:
    """Canonical event rows (as text) for `users` on `day`: views, a cart, a purchase now and then."""
    rng = np.random.default_rng(seed)
    rows = []
    for u, user in enumerate(users):
        for n in range(per_user):
            kind = ["view", "view", "cart", "purchase"][int(rng.integers(0, 4))]
            stamp = f"{day}T{10 + n % 10:02d}:{u % 60:02d}:{int(rng.integers(0, 60)):02d}Z"
            item = items[int(rng.integers(0, len(items)))]
            rows.append((f"{tag}-{u}-{n}", user, item, kind, stamp, f"s-{tag}-{u}", None, None))
    return rows


def send(url: str, rows: list, role: str | None = "recpipeline_writer") -> None:
    """INSERT intake rows as the services would (the writer role), committed."""
    with db.connect(url) as conn, conn.cursor() as cur:
        if role:
            cur.execute(f"SET ROLE {role}")
        cols = ", ".join(EVENT_COLUMNS)
        cur.executemany(f"INSERT INTO raw.intake_events ({cols}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)", rows)


def one(url: str, sql: str, params: tuple = ()):
    with db.connect(url) as conn, conn.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchone()


def state(url: str, day: date) -> dict:
    """What a refresh changes: watermark, intake, landed/accepted/rejected rows of the day, served lists."""
    return {
        "watermark": one(url, "SELECT (SELECT xid_before::text FROM raw.intake_watermark)")[0],
        "intake": one(url, "SELECT count(*) FROM raw.intake_events")[0],
        "raw": one(url, "SELECT count(*) FROM raw.events WHERE ds = %s", (day,))[0],
        "clean": one(url, "SELECT count(*), count(DISTINCT event_id) FROM clean.events WHERE ds = %s", (day,)),
        "rejects": one(url, "SELECT count(*) FROM dq.rejects WHERE ds = %s", (day,))[0],
        "served": one(url, "SELECT count(*), count(DISTINCT user_id) FROM recs.refresh_current")[0:2],
        "refreshes": one(url, "SELECT count(*) FROM recs.refreshes")[0],
        "latest": one(
            url,
            "SELECT md5(string_agg(user_id || rank || item_id || source, ',' ORDER BY user_id, rank)) FROM recs.latest",
        )[0],
    }


def test_the_writer_role_can_insert_intake_events_and_nothing_else(fresh_db):
    send(fresh_db, [("e1", "u1", "i1", "view", "2026-10-11T10:00:00Z", "s1", None, None)])
    assert one(fresh_db, "SELECT count(*) FROM raw.intake_events")[0] == 1
    refused = [
        "SELECT * FROM raw.intake_events",
        "INSERT INTO raw.intake_events (event_id) VALUES ('e2') RETURNING intake_id",  # RETURNING reads
        "INSERT INTO raw.intake_events (event_id, xid) VALUES ('e3', '1')",  # cannot slip under the watermark
        "INSERT INTO raw.intake_events (event_id, received_at) VALUES ('e4', now())",
        "UPDATE raw.intake_events SET user_id = 'x'",
        "DELETE FROM raw.intake_events",
        "TRUNCATE raw.intake_events",
        "UPDATE raw.intake_watermark SET xid_before = '0'",
        "INSERT INTO raw.events (ds, load_id, line_no) VALUES ('2026-10-11', 1, 1)",
        "SELECT * FROM clean.events",
        "SELECT * FROM recs.latest",
        "SELECT * FROM recs.refresh_results",
        "CREATE TABLE public.w (a int)",
        "CREATE TABLE raw.w (a int)",
    ]
    conn = psycopg2.connect(fresh_db)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("SET ROLE recpipeline_writer")
            for sql in refused:
                with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                    cur.execute(sql)
    finally:
        conn.close()
    assert one(fresh_db, "SELECT count(*) FROM raw.intake_events")[0] == 1


def test_refresh_serves_new_lists_and_cold_users_move_to_model_rows(fresh_db, tmp_path):
    ds, trained, settings = published_day(fresh_db, tmp_path)
    today = ds + timedelta(days=1)
    items = catalogue(fresh_db, ds)
    users = model_users(fresh_db, 3)
    assert one(fresh_db, "SELECT min(source), max(source) FROM recs.latest WHERE user_id = %s", (COLD_USER,)) == (
        "trending",
        "trending",
    )
    published_rows = one(fresh_db, "SELECT count(*) FROM recs.latest")[0]
    rows = make_events([*users, COLD_USER, "u-brand-new"], items, today, "a")
    rows.append(("a-bad", users[0], items[0], "view", "not a time", "s", None, None))
    rows.append(("a-search", "u-only-searches", None, "search", f"{today}T09:00:00Z", "s", "shoes", None))
    send(fresh_db, rows)

    result = refresh.refresh(fresh_db, settings, today=today, landing_root=tmp_path / "none")
    assert (result.intake_rows, result.accepted, result.rejected) == (len(rows), len(rows) - 1, 1)
    assert result.refreshed == sorted([*users, COLD_USER, "u-brand-new"])
    assert result.users_were_cold == 2  # the searcher served trending, and the brand-new user served nothing
    assert result.rows_written == 5 * settings.top_k
    with db.connect(fresh_db) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT user_id, count(*), min(source), max(source), count(DISTINCT refreshed_at), min(rank), max(rank),"
            " bool_and(reason_item_id IS NOT NULL) FROM recs.latest WHERE user_id = ANY(%s) GROUP BY 1 ORDER BY 1",
            (result.refreshed,),
        )
        got = cur.fetchall()
        cur.execute("SELECT reasons FROM dq.rejects WHERE ds = %s", (today,))
        reasons = cur.fetchall()
        cur.execute("SELECT count(*) FROM recs.latest WHERE user_id = 'u-only-searches'")
        only_searches = cur.fetchone()[0]
        cur.execute(
            "SELECT count(*), count(DISTINCT refreshed_at) FROM recs.recommendations WHERE source = 'refresh'"
            " AND ds = %s",
            (ds,),
        )
        history = cur.fetchone()
        cur.execute("SELECT explanation FROM recs.explain(%s)", (COLD_USER,))
        explained = [r[0] for r in cur.fetchall()]
    k = settings.top_k
    assert [(u, n, lo, hi, t, r1, rk, why) for u, n, lo, hi, t, r1, rk, why in got] == [
        (u, k, "refresh", "refresh", 1, 1, k, True) for u in result.refreshed
    ]
    assert reasons == [(["bad_ts"],)]
    assert only_searches == 0  # no item history: nothing to re-encode, stays as published (here: nothing)
    assert history == (5 * k, 1)  # the history keeps the refreshed lists with their refresh time
    assert explained and all("because you" in text for text in explained)
    # everyone else keeps the published list
    assert one(fresh_db, "SELECT count(*) FROM recs.latest")[0] == published_rows + k  # + the brand-new user


def test_watermark_takes_each_event_once_under_a_retry(fresh_db, tmp_path, monkeypatch):
    ds, _, settings = published_day(fresh_db, tmp_path)
    today = ds + timedelta(days=1)
    items, users = catalogue(fresh_db, ds), model_users(fresh_db, 20)
    first = make_events(users, items, today, "r1", per_user=3)
    send(fresh_db, first)
    before = state(fresh_db, today)

    def broken(*args, **kwargs):
        raise RuntimeError("scoring failed half-way")

    monkeypatch.setattr(refresh, "score_users", broken)
    with pytest.raises(RuntimeError, match="half-way"):
        refresh.refresh(fresh_db, settings, today=today, landing_root=tmp_path / "none")
    assert state(fresh_db, today) == before  # nothing taken, landed, validated or served; watermark unmoved
    monkeypatch.undo()

    done = refresh.refresh(fresh_db, settings, today=today, landing_root=tmp_path / "none")  # the retry
    second = make_events(users[:5], items, today, "r2", per_user=2, seed=1)
    send(fresh_db, second)
    again = refresh.refresh(fresh_db, settings, today=today, landing_root=tmp_path / "none")
    idle = refresh.refresh(fresh_db, settings, today=today, landing_root=tmp_path / "none")
    assert (done.intake_rows, again.intake_rows, idle.intake_rows) == (len(first), len(second), 0)
    after = state(fresh_db, today)
    total = len(first) + len(second)
    assert after["raw"] == total and after["clean"] == (total, total) and after["rejects"] == 0
    assert after["intake"] == 0 and after["watermark"] != before["watermark"]
    assert (done.users_refreshed, again.users_refreshed, idle.users_refreshed) == (20, 5, 0)


def test_watermark_survives_kill_9_mid_refresh(fresh_db, tmp_path):
    ds, _, settings = published_day(fresh_db, tmp_path)
    today = ds + timedelta(days=1)
    items, users = catalogue(fresh_db, ds), model_users(fresh_db, 10)
    rows = make_events(users, items, today, "k", per_user=2)
    send(fresh_db, rows)
    before = state(fresh_db, today)
    script = textwrap.dedent(f"""
        import time
        from datetime import date
        from pathlib import Path
        from recpipeline import refresh
        from recpipeline.config import load_settings

        served = refresh.serve
        def serve_then_hang(*args, **kwargs):
            out = served(*args, **kwargs)
            print("served, not committed", flush=True)
            time.sleep(120)
            return out
        refresh.serve = serve_then_hang
        settings = load_settings({{"database_url": {fresh_db!r}, "home": {str(tmp_path / "home")!r},
                                  "random_model": True}})
        refresh.refresh({fresh_db!r}, settings, today=date.fromisoformat({today.isoformat()!r}),
                        landing_root=Path({str(tmp_path / "none")!r}))
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, start_new_session=True)
    try:
        assert proc.stdout.readline().strip() == "served, not committed"
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    deadline = time.time() + 30  # the server notices the dead connection and rolls its transaction back
    while one(
        fresh_db,
        "SELECT count(*) FROM pg_stat_activity WHERE state LIKE 'idle in transaction%%'"
        " AND datname = current_database()",
    )[0]:
        assert time.time() < deadline
        time.sleep(0.1)
    assert state(fresh_db, today) == before

    result = refresh.refresh(fresh_db, settings, today=today, landing_root=tmp_path / "none")
    assert (result.intake_rows, result.users_refreshed) == (len(rows), len(users))
    after = state(fresh_db, today)
    assert after["clean"] == (len(rows), len(rows)) and after["raw"] == len(rows) and after["intake"] == 0


def test_a_writer_committing_late_is_never_skipped(fresh_db, tmp_path):
    ds, _, settings = published_day(fresh_db, tmp_path)
    today = ds + timedelta(days=1)
    items, users = catalogue(fresh_db, ds), model_users(fresh_db, 4)
    slow = psycopg2.connect(fresh_db)
    try:
        with slow.cursor() as cur:  # began first (smaller transaction id), commits last
            cur.execute("SET ROLE recpipeline_writer")
            cur.execute(
                "INSERT INTO raw.intake_events (event_id, user_id, item_id, event_type, ts)"
                " VALUES (%s, %s, %s, %s, %s)",
                ("slow-1", users[0], items[0], "view", f"{today}T10:00:00Z"),
            )
        fast = make_events(users[1:], items, today, "fast", per_user=1)
        send(fresh_db, fast)
        early = refresh.refresh(fresh_db, settings, today=today, landing_root=tmp_path / "none")
        assert early.intake_rows == 0  # the fast rows wait: a serial id would have moved past slow-1 for good
        slow.commit()
    finally:
        slow.close()
    late = refresh.refresh(fresh_db, settings, today=today, landing_root=tmp_path / "none")
    assert late.intake_rows == 1 + len(fast)
    with db.connect(fresh_db) as conn, conn.cursor() as cur:
        cur.execute("SELECT event_id FROM clean.events WHERE ds = %s ORDER BY 1", (today,))
        assert [r[0] for r in cur.fetchall()] == sorted(["slow-1", *(r[0] for r in fast)])


def test_a_concurrent_reader_never_sees_a_refreshed_user_with_zero_or_mixed_rows(fresh_db, tmp_path):
    ds, _, settings = published_day(fresh_db, tmp_path)
    today = ds + timedelta(days=1)
    items, users = catalogue(fresh_db, ds), model_users(fresh_db, 40)
    k = settings.top_k
    seen, errors, stop = [], [], threading.Event()

    def reader():
        conn = psycopg2.connect(fresh_db)
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                while not stop.is_set():
                    cur.execute(
                        "SELECT user_id, count(*), count(DISTINCT (source, refreshed_at)), min(rank), max(rank)"
                        " FROM recs.latest WHERE user_id = ANY(%s) GROUP BY user_id",
                        (users,),
                    )
                    seen.append(cur.fetchall())
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            conn.close()

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for round_ in range(6):
            send(fresh_db, make_events(users[round_ % 2 :: 2], items, today, f"c{round_}", seed=round_))
            assert refresh.refresh(fresh_db, settings, today=today, landing_root=tmp_path / "none").users_refreshed
    finally:
        stop.set()
        thread.join()
    assert not errors
    assert len(seen) > 20
    for observation in seen:
        assert len(observation) == len(users), "a user without rows"
        for user, rows, lists, low, high in observation:
            assert (rows, lists, low, high) == (k, 1, 1, k), f"{user}: mixed or partial list {observation}"
    assert one(fresh_db, "SELECT count(DISTINCT refresh_id) FROM recs.refresh_current")[0] == 2


def test_refreshed_rows_equal_a_full_rescoring_by_the_daily_score_stage(fresh_db, tmp_path, monkeypatch):
    from recpipeline.shard_scoring import score_shard

    ds, trained, settings = published_day(fresh_db, tmp_path, random_model=False, epochs=1)
    today = ds + timedelta(days=1)
    items, users = catalogue(fresh_db, ds), model_users(fresh_db, 25)
    rows = make_events([*users, COLD_USER], items, today, "eq", per_user=4, seed=3)
    send(fresh_db, rows)
    result = refresh.refresh(fresh_db, settings, today=today, landing_root=tmp_path / "none")
    assert result.users_refreshed == len(users) + 1

    # the same users' full sequences, built here from what was published and what was sent
    seqs = features.load_sequences(fresh_db, ds)
    published = {u: i for i, u in enumerate(seqs.user_ids)}
    table = features.load_item_table(fresh_db, ds)
    full = features.Sequences([], [], [], [])
    for user in sorted([*users, COLD_USER]):
        mine = sorted((r[4], r[0], r[2], r[3]) for r in rows if r[1] == user)
        new_items = table.indices([m[2] for m in mine]).astype(np.int32)
        new_events = np.array([EVENT_CODES[m[3]] for m in mine], dtype=np.int32)
        new_ts = np.array([int(np.datetime64(m[0].rstrip("Z"), "s").astype(np.int64)) for m in mine])
        i = published.get(user)
        full.user_ids.append(user)
        full.items.append(np.concatenate([seqs.items[i], new_items]) if i is not None else new_items)
        full.events.append(np.concatenate([seqs.events[i], new_events]) if i is not None else new_events)
        full.ts.append(np.concatenate([seqs.ts[i], new_ts]) if i is not None else new_ts)

    # a full rescoring: the daily score stage over exactly those sequences, as a new (unpublished) attempt
    monkeypatch.setattr(features, "load_sequences", lambda *a, **k: full)
    monkeypatch.setattr(features, "active_users", lambda *a, **k: [])
    monkeypatch.setattr(features, "write_user_embeddings", lambda *a, **k: None)
    attempt = publish.plan_scoring(fresh_db, ds)
    score_shard(fresh_db, ds, settings, {"shard": 0, "shards": 1, "publish_id": attempt, **trained})
    with db.connect(fresh_db) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT user_id, rank, item_id, score, reason_item_id, reason_score FROM recs.results"
            " WHERE publish_id = %s ORDER BY user_id, rank",
            (attempt,),
        )
        expected = cur.fetchall()
        cur.execute(
            "SELECT user_id, rank, item_id, score, reason_item_id, reason_score FROM recs.latest"
            " WHERE source = 'refresh' ORDER BY user_id, rank"
        )
        got = cur.fetchall()
    assert len(got) == len(expected) == (len(users) + 1) * settings.top_k
    assert [g[:3] + g[4:5] for g in got] == [e[:3] + e[4:5] for e in expected]
    assert np.allclose([g[3] for g in got], [e[3] for e in expected], atol=1e-6)
    assert np.allclose([g[5] for g in got], [e[5] for e in expected], atol=1e-6, equal_nan=True)


def test_publish_waits_for_a_refresh_and_then_replaces_every_refreshed_list(fresh_db, tmp_path, monkeypatch):
    from recpipeline.shard_scoring import score_shard

    ds, trained, settings = published_day(fresh_db, tmp_path)
    today = ds + timedelta(days=1)
    items, users = catalogue(fresh_db, ds), model_users(fresh_db, 5)
    send(fresh_db, make_events(users, items, today, "p"))
    attempt = publish.plan_scoring(fresh_db, ds)  # the day rerun: a new attempt, scored, ready to publish
    score_shard(fresh_db, ds, settings, {"shard": 0, "shards": 1, "publish_id": attempt, **trained})

    served, finished = threading.Event(), {}
    original = refresh.serve

    def serve_slowly(*args, **kwargs):
        out = original(*args, **kwargs)
        served.set()
        time.sleep(1.5)
        return out

    monkeypatch.setattr(refresh, "serve", serve_slowly)
    worker = threading.Thread(
        target=lambda: finished.setdefault(
            "refresh", (refresh.refresh(fresh_db, settings, today=today, landing_root=tmp_path / "none"), time.time())
        )
    )
    worker.start()
    assert served.wait(60)
    publish.publish_day(fresh_db, ds, attempt, trained["model_id"], shards=1)
    published_at = time.time()
    worker.join()
    result, refreshed_at = finished["refresh"]
    assert result.users_refreshed == 5 and published_at >= refreshed_at  # the publish waited for the refresh
    with db.connect(fresh_db) as conn, conn.cursor() as cur:
        cur.execute("SELECT DISTINCT source FROM recs.latest")
        assert {r[0] for r in cur.fetchall()} <= {"model", "trending"}  # the daily publish replaced them all
        cur.execute("SELECT publish_id FROM recs.current")
        assert cur.fetchone()[0] == attempt
    # a later refresh overlays the new publish only, never the superseded one, and drops the old overlay
    monkeypatch.undo()
    send(fresh_db, make_events(users[:2], items, today, "q", seed=2))
    later = refresh.refresh(fresh_db, settings, today=today, landing_root=tmp_path / "none")
    assert later.publish_id == attempt and later.users_refreshed == 2
    with db.connect(fresh_db) as conn, conn.cursor() as cur:
        cur.execute("SELECT DISTINCT publish_id FROM recs.refresh_results")
        assert [r[0] for r in cur.fetchall()] == [attempt]
        cur.execute("SELECT publish_id FROM recs.current")
        assert cur.fetchone()[0] == attempt


def test_microbatch_files_are_taken_once_through_the_door(fresh_db, tmp_path):
    ds, _, settings = published_day(fresh_db, tmp_path)
    today = ds + timedelta(days=1)
    items, users = catalogue(fresh_db, ds), model_users(fresh_db, 3)
    folder = tmp_path / "landing" / today.isoformat() / "microbatch"
    folder.mkdir(parents=True)
    header = ",".join(EVENT_COLUMNS)
    lines = [f"mb-{n},{users[n]},{items[n]},view,{today}T11:0{n}:00Z,s-mb,," for n in range(3)]
    lines.append(f"mb-bad,{users[0]},{items[0]},view")  # too few fields
    (folder / "events-0001.csv").write_text("\n".join([header, *lines]) + "\n")
    (folder / ".events-0002.csv.partial").write_text(header + "\n")  # still being written: not taken

    first = refresh.refresh(fresh_db, settings, today=today, landing_root=tmp_path / "landing")
    assert (first.files, first.file_rows, first.accepted, first.rejected) == (1, 4, 3, 1)
    assert first.users_refreshed == 3
    again = refresh.refresh(fresh_db, settings, today=today, landing_root=tmp_path / "landing")
    assert (again.files, again.file_rows) == (0, 0)
    (folder / "events-0002.csv").write_text(f"{header}\nmb-9,{users[1]},{items[4]},cart,{today}T12:00:00Z,s,,\n")
    third = refresh.refresh(fresh_db, settings, today=today, landing_root=tmp_path / "landing")
    assert (third.files, third.accepted, third.users_refreshed) == (1, 1, 1)
    with db.connect(fresh_db) as conn, conn.cursor() as cur:
        cur.execute("SELECT reasons FROM dq.rejects WHERE ds = %s", (today,))
        assert cur.fetchall() == [(["malformed_line", "missing_ts"],)]
        cur.execute("SELECT count(*), count(DISTINCT event_id) FROM clean.events WHERE ds = %s", (today,))
        assert cur.fetchone() == (4, 4)


def test_the_refresh_dag_parses_paused_without_tensorflow(tmp_path):
    script = textwrap.dedent(f"""
        import json, sys
        from airflow.dag_processing.dagbag import DagBag
        bag = DagBag(dag_folder={str(PROJECT_ROOT / "dags" / "recpipeline_refresh.py")!r})
        dag = bag.dags.get("recpipeline_refresh")
        print(json.dumps({{"errors": {{k: str(v) for k, v in bag.import_errors.items()}},
                          "tasks": sorted(t.task_id for t in dag.tasks) if dag else [],
                          "paused": dag.is_paused_upon_creation if dag else None,
                          "schedule": type(dag.timetable).__name__ if dag else None,
                          "cron": dag.timetable.timetable.expression,
                          "asset": dag.timetable.asset_condition.name,
                          "heavy": sorted(m for m in ("tensorflow", "keras", "faiss", "pandas") if m in sys.modules)}}))
    """)
    env = {"AIRFLOW_HOME": str(tmp_path), "AIRFLOW__CORE__LOAD_EXAMPLES": "False", "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["errors"] == {}
    assert result["tasks"] == ["refresh"]
    assert result["paused"] is True
    assert result["schedule"] == "AssetOrTimeSchedule" and result["cron"] == "*/10 * * * *"
    assert result["asset"] == "recpipeline_microbatch"
    assert result["heavy"] == []
