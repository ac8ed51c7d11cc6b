"""Issue 12 row 14: data quality validates a day on every supported server with the planner forced parallel.

Before: on PostgreSQL 15 the PL/pgSQL fallbacks dq.try_timestamptz / dq.try_float (exception blocks, so a
subtransaction per call) were declared PARALLEL SAFE; once a day was big enough for a parallel plan,
data_quality failed with "cannot start subtransactions during a parallel operation". Migration 008 declares
them PARALLEL UNSAFE. Runs against the embedded PostgreSQL 16 and the PostgreSQL 15 server at 127.0.0.1:5432
(RECPIPE_TEST_PG15_URL overrides it; skipped with the reason when it cannot be reached).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from urllib.parse import quote

import psycopg2
import pytest
from sqlalchemy.engine import make_url

from recpipeline import db
from recpipeline.config import PROJECT_ROOT
from recpipeline.sources import land
from tests.test_door_support import D1, EVENTS_HEADER, ITEMS_HEADER, audit, fetch, validate, write

PG15_URL = os.environ.get("RECPIPE_TEST_PG15_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
EVENTS = 20_000
PARALLEL = {
    "parallel_setup_cost": "0",
    "parallel_tuple_cost": "0",
    "min_parallel_table_scan_size": "0",
    "min_parallel_index_scan_size": "0",
    "max_parallel_workers_per_gather": "4",
}


def _server(which: str) -> str:
    if which == "embedded":
        return db.embedded_url(PROJECT_ROOT / ".recpipeline")
    try:
        psycopg2.connect(PG15_URL, connect_timeout=3).close()
    except psycopg2.OperationalError as exc:
        pytest.skip(f"PostgreSQL server at {PG15_URL} is unreachable ({' '.join(str(exc).split())[:120]})")
    return PG15_URL


@pytest.fixture(params=["embedded", "pg15"])
def server_db(request) -> Iterator[tuple[str, int]]:
    """A fresh, migrated database on the embedded server (16) or the 15 server; (url, server_version_num)."""
    server = _server(request.param)
    name = f"recpipe_door_parallel_{os.getpid()}"
    admin = psycopg2.connect(server)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute("SELECT current_setting('server_version_num')::int")
        version = cur.fetchone()[0]
        cur.execute(f'DROP DATABASE IF EXISTS "{name}"')
        cur.execute(f'CREATE DATABASE "{name}"')
    url = make_url(server).set(database=name).render_as_string(hide_password=False)
    db.upgrade(url)
    try:
        yield url, version
    finally:
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def forced_parallel(url: str, version: int) -> str:
    """`url` with session options that make the planner choose parallel plans wherever it may.

    On 16+ debug_parallel_query too. Not force_parallel_mode on 15: it also turns every expression inside the
    PL/pgSQL fallbacks into a parallel query of its own (a worker launched per call, 200 s for this day),
    while the cost settings alone already give the parallel plan that failed before migration 008.
    """
    force = {"debug_parallel_query": "on"} if version >= 160000 else {}
    options = " ".join(f"-c {k}={v}" for k, v in {**PARALLEL, **force}.items())
    return url + ("&" if "?" in url else "?") + "options=" + quote(options)  # libpq reads %20, not +


def test_functions_with_exception_blocks_are_parallel_unsafe(server_db):
    url, _ = server_db
    rows = fetch(
        url,
        "SELECT p.oid::regprocedure::text, p.proparallel FROM pg_proc p"
        " JOIN pg_namespace n ON n.oid = p.pronamespace JOIN pg_language l ON l.oid = p.prolang"
        " WHERE n.nspname = 'dq' AND l.lanname = 'plpgsql' AND p.prosrc ~* '\\mexception\\M'",
    )
    assert all(parallel == "u" for _, parallel in rows), rows


def test_a_day_validates_with_the_planner_forced_parallel(server_db, workdir):
    url, version = server_db
    folder = workdir / D1.isoformat()
    stamps = ["2024-03-01T10:00:00Z", "not a time", "2024-03-01T11:00:00+01:00"]
    events = [
        f"e{n},u{n % 500},i{n % 50},view,{stamps[n % 3]},s{n % 97},,{'1.5' if n % 2 else 'x'}" for n in range(EVENTS)
    ]
    items = [f"i{k},Item {k},Cat,,,{'9.5' if k % 2 else 'abc'},true,2024-02-01T00:00:00Z" for k in range(50)]
    write(folder / "events.csv", "\n".join([EVENTS_HEADER, *events]) + "\n")
    write(folder / "items.csv", "\n".join([ITEMS_HEADER, *items]) + "\n")
    land(url, "canonical", folder)
    parallel = forced_parallel(url, version)
    with db.connect(parallel) as conn, conn.cursor() as cur:
        cur.execute("ANALYZE raw.events")
        cur.execute("EXPLAIN SELECT count(*) FROM raw.events WHERE ds = %s AND length(ts) > 3", (D1,))
        plan = "\n".join(r[0] for r in cur.fetchall())
    assert "Gather" in plan  # the settings do force parallel plans on this server

    validate(parallel, D1)  # before migration 008, on 15: InvalidTransactionState in dq.try_timestamptz
    good = sum(1 for n in range(EVENTS) if n % 2 and stamps[n % 3] != "not a time")
    assert audit(url, D1) == {"events": (EVENTS, good, EVENTS - good), "items": (50, 25, 25)}
    reasons = fetch(
        url, "SELECT reasons, count(*) FROM dq.rejects WHERE ds = %s AND target = 'events' GROUP BY 1 ORDER BY 1", (D1,)
    )
    expected: dict[tuple[str, ...], int] = {}
    for n in range(EVENTS):
        key = tuple(r for r, on in (("bad_ts", stamps[n % 3] == "not a time"), ("bad_value", n % 2 == 0)) if on)
        if key:
            expected[key] = expected.get(key, 0) + 1
    assert {tuple(r): n for r, n in reasons} == expected
