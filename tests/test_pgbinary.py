"""Binary COPY encoding: what PostgreSQL reads back equals what was encoded, whatever the values."""

from __future__ import annotations

import io
import math
import time
from datetime import date

import numpy as np
import psycopg2
import pytest

from recpipeline import db, pgbinary

AWKWARD = ["", "plain", "tab\there", "new\nline", "back\\slash", "\\N", 'comma,"quote"', "ü ß 東京 🛒", "x" * 300]
COLUMNS = ("d", "big", "small", "label", "rank", "score", "name", "other", "maybe")


@pytest.fixture
def table(pg_url: str):
    with db.connect(pg_url) as conn, conn.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS public.binary_probe")
        cur.execute(
            "CREATE TABLE public.binary_probe (d date, big bigint, small integer, label text, rank smallint,"
            " score real, name text, other text, maybe double precision)"
        )
    yield pg_url
    with db.connect(pg_url) as conn, conn.cursor() as cur:
        cur.execute("DROP TABLE public.binary_probe")


def columns(vocab: pgbinary.Vocabulary, names: np.ndarray, others: np.ndarray, ranks, scores, maybe):
    return [
        pgbinary.Const(date(1999, 12, 31), "date"),
        pgbinary.Const(-(2**62), "int8"),
        pgbinary.Const(7, "int4"),
        pgbinary.Const("lab,el\t"),
        pgbinary.Number(ranks, "int2"),
        pgbinary.Number(scores, "float4"),
        pgbinary.Text(names, vocab),
        pgbinary.Text(others, vocab),
        pgbinary.Number(maybe, "float8", nan_is_null=True),
    ]


def read_back(url: str) -> list[tuple]:
    with db.connect(url) as conn, conn.cursor() as cur:
        cur.execute(f"SELECT {', '.join(COLUMNS)} FROM public.binary_probe ORDER BY rank")
        return cur.fetchall()


def test_round_trip_of_every_column_kind(table):
    rng = np.random.default_rng(3)
    n = 40
    vocab = pgbinary.Vocabulary(AWKWARD)
    names = rng.integers(0, len(AWKWARD), n)
    others = np.where(rng.random(n) < 0.3, -1, rng.integers(0, len(AWKWARD), n))  # -1 is NULL
    ranks = np.arange(-20, n - 20)
    scores = rng.normal(size=n).astype(np.float32)
    maybe = np.where(rng.random(n) < 0.4, np.nan, rng.normal(size=n) * 1e300)
    body = pgbinary.encode_rows(columns(vocab, names, others, ranks, scores, maybe), n)
    # split the stream at arbitrary points: COPY does not care where the chunks end
    stream = pgbinary.HEADER + body + pgbinary.TRAILER
    chunks = [stream[i : i + 97] for i in range(0, len(stream), 97)]
    with db.connect(table) as conn, conn.cursor() as cur:
        assert db.copy_chunks(cur, "public.binary_probe", COLUMNS, chunks, binary=True) == n
    rows = read_back(table)
    assert len(rows) == n
    for i, row in enumerate(rows):
        assert row[:5] == (date(1999, 12, 31), -(2**62), 7, "lab,el\t", ranks[i])
        assert row[5] == pytest.approx(float(scores[i]), rel=1e-6)
        assert row[6] == AWKWARD[names[i]]
        assert row[7] == (None if others[i] < 0 else AWKWARD[others[i]])
        assert (row[8] is None) if math.isnan(maybe[i]) else row[8] == maybe[i]


def test_a_bad_stream_is_refused_and_writes_nothing(table):
    vocab = pgbinary.Vocabulary(["a"])
    ones = np.ones(3)
    body = pgbinary.encode_rows(columns(vocab, np.zeros(3, int), np.zeros(3, int), np.arange(3), ones, ones), 3)
    with pytest.raises(psycopg2.DataError), db.connect(table) as conn, conn.cursor() as cur:
        db.copy_buffer(cur, "public.binary_probe", COLUMNS, io.BytesIO(pgbinary.HEADER + body[:-5]), binary=True)
    assert read_back(table) == []


def test_an_error_while_building_chunks_aborts_the_copy(table):
    vocab = pgbinary.Vocabulary(["a"])
    ones = np.ones(2)

    def chunks():
        yield pgbinary.HEADER
        yield pgbinary.encode_rows(columns(vocab, np.zeros(2, int), np.zeros(2, int), np.arange(2), ones, ones), 2)
        raise ValueError("scores went missing")

    with pytest.raises(ValueError, match="scores went missing"), db.connect(table) as conn, conn.cursor() as cur:
        db.copy_chunks(cur, "public.binary_probe", COLUMNS, chunks(), binary=True)
    assert read_back(table) == []


def test_a_connection_lost_mid_copy_stops_the_chunk_builder(table):
    import itertools
    import threading

    vocab = pgbinary.Vocabulary(["a"])
    ones = np.ones(2)
    rows = pgbinary.encode_rows(columns(vocab, np.zeros(2, int), np.zeros(2, int), np.arange(2), ones, ones), 2)
    built = itertools.count()

    def endless():
        yield pgbinary.HEADER
        while True:
            next(built)
            yield rows * 1000

    def terminate(pid: int) -> None:
        time.sleep(0.5)
        with db.connect(table) as admin, admin.cursor() as cur:
            cur.execute("SELECT pg_terminate_backend(%s)", (pid,))

    with pytest.raises(psycopg2.Error), db.connect(table) as conn, conn.cursor() as cur:
        killer = threading.Thread(target=terminate, args=(conn.get_backend_pid(),))
        killer.start()
        db.copy_chunks(cur, "public.binary_probe", COLUMNS, endless(), binary=True)
    killer.join()
    assert not [t for t in threading.enumerate() if t.name == "copy-prefetch"]  # stopped, not building forever
    assert next(built) > 0
    assert read_back(table) == []
