"""Shared fixtures: a real PostgreSQL database per test session (embedded unless a URL is given)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg2
import pytest
from sqlalchemy.engine import make_url

from recpipeline import db
from recpipeline.config import PROJECT_ROOT

DATA_SCHEMAS = ("raw", "clean", "dq", "features", "models", "recs", "eval")
REFERENCE_TABLES = {"dq.reason_codes"}  # filled by migrations, not by the pipeline


def with_database(url: str, name: str) -> str:
    return make_url(url).set(database=name).render_as_string(hide_password=False)


def _admin(url: str):
    conn = psycopg2.connect(url)
    conn.autocommit = True
    return conn


@pytest.fixture(scope="session")
def server_url() -> str:
    """A PostgreSQL server: RECPIPE_TEST_DATABASE_URL, else the project's embedded server."""
    return os.environ.get("RECPIPE_TEST_DATABASE_URL") or db.embedded_url(PROJECT_ROOT / ".recpipeline")


@pytest.fixture(scope="session")
def pg_url(server_url: str) -> Iterator[str]:
    """A freshly created and migrated database for this test session, dropped afterwards."""
    name = f"recpipe_test_{os.getpid()}"
    admin = _admin(server_url)
    with admin.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}"')
        cur.execute(f'CREATE DATABASE "{name}"')
    url = with_database(server_url, name)
    db.upgrade(url)
    yield url
    with admin.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


@pytest.fixture
def fresh_db(pg_url: str) -> str:
    """The session database with every data table emptied (schema kept)."""
    return emptied(pg_url)


def emptied(pg_url: str) -> str:
    """Empty every data table of the session database (schema kept); its URL. Module fixtures call it too."""
    with db.connect(pg_url) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT format('%%I.%%I', schemaname, tablename) FROM pg_tables WHERE schemaname = ANY(%s)",
            (list(DATA_SCHEMAS),),
        )
        tables = [r[0] for r in cur.fetchall() if r[0] not in REFERENCE_TABLES]
        cur.execute("TRUNCATE " + ", ".join(tables) + " RESTART IDENTITY CASCADE")
        cur.execute(
            "SELECT format('%%I.%%I', schemaname, tablename) FROM pg_tables "
            "WHERE schemaname = 'recs' AND tablename LIKE %s",
            ("results\\_%",),
        )
        for (part,) in cur.fetchall():
            cur.execute(f"DROP TABLE {part}")
    return pg_url


@pytest.fixture
def workdir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="recpipe-test-") as d:
        yield Path(d)


@pytest.fixture(autouse=True)
def _restore_environment() -> Iterator[None]:
    """Tests that prepare Airflow set RECPIPE_*/AIRFLOW_* variables in this process; undo that after each."""
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)
