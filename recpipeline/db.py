"""PostgreSQL access: the URL in use (embedded server by default), connections, COPY, migrations.

Bulk data moves with COPY (`copy_in` / `copy_frame` / `copy_chunks`); SQL text comes from `sql/` via `query(name)`.
"""

from __future__ import annotations

import hashlib
import io
import logging
import queue
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

import psycopg2
import psycopg2.errors
import psycopg2.extensions
import psycopg2.extras

from recpipeline.config import SQL_DIR, Settings, load_settings

log = logging.getLogger(__name__)
MIGRATIONS_DIR = SQL_DIR / "migrations"
QUERIES_DIR = SQL_DIR / "queries"
MIGRATION_LOCK_KEY = 715_001  # pg_advisory_xact_lock key serialising concurrent `db upgrade`


def database_url(settings: Settings | None = None) -> str:
    """The results database: RECPIPE_DATABASE_URL, else the embedded server under RECPIPE_HOME."""
    settings = settings or load_settings()
    if settings.database_url:
        return settings.database_url
    return embedded_url(settings.home)


@cache
def embedded_url(home: Path) -> str:
    """Start (or reuse) the embedded PostgreSQL 16 from the pgserver wheel; it outlives this process."""
    import pgserver  # only needed when no database URL is configured

    logging.getLogger("pgserver").setLevel(logging.WARNING)  # per-process start/exit chatter
    home.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(home / "pgdata", cleanup_mode=None)
    return server.get_uri()


@contextmanager
def connect(url: str | None = None) -> Iterator[psycopg2.extensions.connection]:
    """A connection that commits on success and rolls back on any error (one transaction).

    The client encoding is UTF-8 whatever the server's default, as binary COPY sends text in it (pgbinary).
    """
    conn = psycopg2.connect(url or database_url(), client_encoding="UTF8")
    try:
        with conn:
            yield conn
    finally:
        conn.close()


@cache
def query(name: str) -> str:
    """The text of the named query `sql/queries/<name>.sql`."""
    path = QUERIES_DIR / f"{name}.sql"
    if not path.exists():
        raise FileNotFoundError(f"no named query {name!r} in {QUERIES_DIR}")
    return path.read_text()


def execute(cur: psycopg2.extensions.cursor, name: str, params: dict[str, Any] | None = None) -> None:
    """Run the named query with bound parameters."""
    cur.execute(query(name), params or {})


def fetch_all(cur: psycopg2.extensions.cursor, name: str, params: dict[str, Any] | None = None) -> list:
    execute(cur, name, params)
    return cur.fetchall()


def _csv_buffer(rows: Iterable[Sequence[Any]]) -> io.StringIO:
    r"""CSV for COPY that no text can subvert: NULL is the unquoted empty field, every value is quoted.

    A quoted value is never NULL (even `\N` or ''), and a quoted `\.` is never COPY's end-of-data marker.
    """
    buf = io.StringIO()
    for row in rows:
        buf.write(",".join("" if v is None else '"' + str(v).replace('"', '""') + '"' for v in row))
        buf.write("\n")
    buf.seek(0)
    return buf


def copy_in(cur: psycopg2.extensions.cursor, table: str, columns: Sequence[str], rows: Iterable) -> int:
    """COPY `rows` (tuples; None -> NULL; any text verbatim) into `table(columns)`; returns the row count."""
    buf = _csv_buffer(rows)
    return copy_buffer(cur, table, columns, buf, null="")


def copy_buffer(
    cur: psycopg2.extensions.cursor,
    table: str,
    columns: Sequence[str],
    buf: Any,
    binary: bool = False,
    null: str = "\\N",
) -> int:
    """COPY a buffer into `table(columns)`: CSV text (NULL written as `null`), or PostgreSQL's binary format."""
    cols = ", ".join(columns)
    options = "FORMAT binary" if binary else f"FORMAT csv, NULL '{null}'"
    cur.copy_expert(f"COPY {table} ({cols}) FROM STDIN WITH ({options})", buf)
    return cur.rowcount


def copy_chunks(
    cur: psycopg2.extensions.cursor,
    table: str,
    columns: Sequence[str],
    chunks: Iterable[str | bytes],
    binary: bool = False,
) -> int:
    """COPY chunks built lazily by `chunks`; building overlaps PostgreSQL parsing (see _Prefetch)."""
    reader = _Prefetch(chunks)
    try:
        return copy_buffer(cur, table, columns, reader, binary=binary)
    except psycopg2.errors.QueryCanceled:
        if reader.error is not None:  # psycopg2 reports it as a cancelled COPY; raise what actually went wrong
            raise reader.error from None
        raise
    finally:
        reader.close()


class _Prefetch:
    """A file-like whose read() returns the next chunk, built ahead by a background thread.

    psycopg2 releases the GIL while it sends a chunk, so the thread builds the next one while PostgreSQL parses
    this one: two cores busy instead of taking turns. An error while building is raised from read(), which
    aborts the COPY (and so its transaction); close() stops the thread if the COPY failed first.
    """

    _END = object()

    def __init__(self, chunks: Iterable[str | bytes], depth: int = 4):
        self._queue: queue.Queue = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._done = False
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._fill, args=(chunks,), name="copy-prefetch", daemon=True)
        self._thread.start()

    def _fill(self, chunks: Iterable[str | bytes]) -> None:
        try:
            for chunk in chunks:
                if not self._put(chunk):
                    return
            self._put(self._END)
        except BaseException as exc:  # handed to the reader, which raises it inside the COPY
            self._put(exc)

    def _put(self, item: Any) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def read(self, size: int = -1) -> str | bytes:
        if self._done:
            return b""
        item = self._queue.get()
        if item is self._END:
            self._done = True
            return b""
        if isinstance(item, BaseException):
            self._done, self.error = True, item
            raise item
        return item

    def close(self) -> None:
        self._stop.set()
        self._thread.join()


def copy_frame(cur: psycopg2.extensions.cursor, table: str, frame: Any) -> int:
    """COPY a pandas DataFrame whose columns match `table`'s names (arrays as PostgreSQL literals; NaN -> NULL)."""
    values = frame.astype(object).where(frame.notna(), None)
    return copy_in(cur, table, list(frame.columns), values.itertuples(index=False, name=None))


def pg_array(values: Iterable[Any]) -> str:
    """A PostgreSQL array literal for COPY of numeric arrays, e.g. {1,2,3}."""
    return "{" + ",".join(str(v) for v in values) + "}"


def copy_out(cur: psycopg2.extensions.cursor, name: str, params: dict[str, Any] | None = None) -> io.BytesIO:
    """The named query's rows as CSV with a header, through COPY ... TO STDOUT (NULL: an unquoted empty field)."""
    sql = cur.mogrify(query(name), params or {}).decode().strip().rstrip(";")
    buf = io.BytesIO()
    cur.copy_expert(f"COPY ({sql}\n) TO STDOUT WITH (FORMAT csv, HEADER)", buf)
    buf.seek(0)
    return buf


def copy_out_frame(
    cur: psycopg2.extensions.cursor,
    name: str,
    params: dict[str, Any] | None = None,
    dtypes: dict[str, Any] | None = None,
    nullable: Sequence[str] = (),
):
    """A named query read with COPY into pandas (C parser): `dtypes` per column; text keeps '' (the query
    coalesces text NULLs it cares about), and only the `nullable` columns read an empty field as NaN."""
    import pandas as pd

    return pd.read_csv(
        copy_out(cur, name, params),
        dtype=dtypes,
        keep_default_na=False,
        na_values={c: [""] for c in nullable},
        engine="c",
    )


def read_frame(cur: psycopg2.extensions.cursor, name: str, params: dict[str, Any] | None = None):
    """Run a named query and return a pandas DataFrame of Python values (small results; bulk reads: copy_out_frame)."""
    import pandas as pd

    execute(cur, name, params)
    cols = [d.name for d in cur.description]
    return pd.DataFrame(cur.fetchall(), columns=cols)


def migrations() -> list[Path]:
    """Numbered migration files in apply order (001_*.sql, 002_*.sql, ...)."""
    files = sorted(MIGRATIONS_DIR.glob("[0-9][0-9][0-9]_*.sql"))
    versions = [f.name[:3] for f in files]
    if len(versions) != len(set(versions)):
        raise RuntimeError(f"duplicate migration numbers in {MIGRATIONS_DIR}")
    return files


def upgrade(url: str | None = None) -> list[str]:
    """Apply pending migrations in order, each in its own transaction; returns the names applied.

    A changed checksum of an applied migration is an error: migrations are append-only.
    """
    applied_now = []
    with connect(url) as conn, conn.cursor() as cur:
        cur.execute(
            "CREATE TABLE IF NOT EXISTS public.schema_migrations ("
            " version text PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now())"
        )
    for path in migrations():
        body = path.read_text()
        checksum = hashlib.sha256(body.encode()).hexdigest()
        with connect(url) as conn, conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK_KEY,))
            cur.execute("SELECT checksum FROM public.schema_migrations WHERE version = %s", (path.name[:3],))
            row = cur.fetchone()
            if row:
                if row[0] != checksum:
                    raise RuntimeError(f"migration {path.name} changed after it was applied; add a new one")
                continue
            cur.execute(body)
            cur.execute(
                "INSERT INTO public.schema_migrations (version, name, checksum) VALUES (%s, %s, %s)",
                (path.name[:3], path.name, checksum),
            )
            applied_now.append(path.name)
            log.info("applied migration %s", path.name)
    return applied_now
