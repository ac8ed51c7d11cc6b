"""Migrations and the database plumbing, against a real PostgreSQL."""

from recpipeline import db


def test_migrations_are_recorded_and_idempotent(pg_url):
    assert db.upgrade(pg_url) == []  # the session fixture already applied everything
    with db.connect(pg_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT name FROM public.schema_migrations ORDER BY version")
        names = [r[0] for r in cur.fetchall()]
    assert names == [p.name for p in db.migrations()]


def test_schemas_exist_and_recs_is_partitioned(pg_url):
    with db.connect(pg_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT nspname FROM pg_namespace")
        schemas = {r[0] for r in cur.fetchall()}
        cur.execute("SELECT partstrat FROM pg_partitioned_table WHERE partrelid = 'recs.results'::regclass")
        strategy = cur.fetchone()
    assert {"raw", "clean", "dq", "features", "models", "recs", "eval"} <= schemas
    assert strategy == ("l",)


def test_copy_in_round_trips_nulls_and_quotes(fresh_db):
    rows = [(1, 'he said "hi", twice'), (2, None)]
    with db.connect(fresh_db) as conn, conn.cursor() as cur:
        cur.execute("CREATE TEMP TABLE t (a int, b text)")
        assert db.copy_in(cur, "t", ["a", "b"], rows) == 2
        cur.execute("SELECT a, b FROM t ORDER BY a")
        assert cur.fetchall() == rows
