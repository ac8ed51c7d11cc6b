"""Scoring and publishing at scale, against references measured in the same run.

    .venv/bin/python bench/scoring.py [--users 100000 --items 50000 --dim 64 --k 50] [--database-url URL]

Prints (a) project Top-N time / bare faiss IndexFlatIP search on the same vectors, (b) the project's write of
the resulting rows into the real recs tables / `psql \\copy` of the same rows as CSV into an identical logged
table, (c) peak RSS. The project's scoring also removes each user's purchased items (up to 5 per user),
which bare faiss does not. Rows carry explanations like the pipeline's. Runs in a scratch database
(recpipeline_bench) on the configured server, recreated each run; the write is timed --repeat times per side,
alternating, each from an empty target after a CHECKPOINT, and the medians are compared.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np
import psycopg2
from psycopg2.extensions import make_dsn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from recpipeline import db, publish, scoring  # noqa: E402

DS = date(2031, 1, 1)
SCRATCH_DB = "recpipeline_bench"  # dropped and recreated on each run


def scratch_database(server_url: str) -> str:
    """A fresh database on the same server, so the benchmark never touches the pipeline's own tables."""
    conn = psycopg2.connect(server_url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS {SCRATCH_DB}")
        cur.execute(f"CREATE DATABASE {SCRATCH_DB}")
    conn.close()
    return make_dsn(server_url, dbname=SCRATCH_DB)


def reset(url: str) -> None:
    """Empty both targets (the day's partition, its publish records, the reference table), then CHECKPOINT."""
    with db.connect(url) as conn, conn.cursor() as cur:
        cur.execute("DELETE FROM recs.current WHERE ds = %s", (DS,))
        cur.execute("DELETE FROM recs.published WHERE ds = %s", (DS,))
        cur.execute("DELETE FROM recs.shard_writes WHERE ds = %s", (DS,))
        cur.execute("DROP TABLE IF EXISTS recs.results_20310101")
        cur.execute("DROP TABLE IF EXISTS public.bench_copy_reference")
        cur.execute("CREATE TABLE public.bench_copy_reference (LIKE recs.results INCLUDING ALL)")
    with db.connect(url) as conn:
        conn.autocommit = True
        conn.cursor().execute("CHECKPOINT")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--users", type=int, default=100_000)
    ap.add_argument("--items", type=int, default=50_000)
    ap.add_argument("--dim", type=int, default=64)
    ap.add_argument("--k", type=int, default=50)
    ap.add_argument("--database-url", default=None)
    ap.add_argument("--repeat", type=int, default=3, help="timed writes per side; the medians are compared")
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    users = scoring.normalise(rng.normal(size=(args.users, args.dim)).astype(np.float32))
    items = scoring.normalise(rng.normal(size=(args.items + 1, args.dim)).astype(np.float32))
    items[0] = 0
    exclude = [rng.integers(1, args.items + 1, size=rng.integers(0, 6)) for _ in range(args.users)]
    print(f"{args.users:,} users x {args.items:,} items x {args.dim} dims, top-{args.k}")

    import faiss

    faiss.omp_set_num_threads(os.cpu_count() or 2)
    t = time.perf_counter()
    index = faiss.IndexFlatIP(args.dim)
    index.add(items[1:])
    index.search(users, args.k)
    t_faiss = time.perf_counter() - t

    t = time.perf_counter()
    top = scoring.top_n(users, items, args.k, exclude=exclude, threads=os.cpu_count() or 2)
    t_project = time.perf_counter() - t
    print(f"scoring: project {t_project:.2f}s / bare faiss IndexFlatIP {t_faiss:.2f}s = {t_project / t_faiss:.2f}x")

    url = scratch_database(args.database_url or db.database_url())
    db.upgrade(url)
    user_ids = [f"user{n:07d}" for n in range(args.users)]
    item_ids = np.array([""] + [f"item{n:06d}" for n in range(1, args.items + 1)], dtype=object)
    # every row carries an explanation, as the pipeline's rows do (reason item and its cosine; not timed here)
    reasons = rng.integers(1, args.items + 1, size=top.items.shape)
    reason_scores = rng.random(size=top.items.shape, dtype=np.float32)

    def project_write() -> int:
        publish_id = publish.plan_scoring(url, DS)
        block = publish.result_rows(
            DS, publish_id, 0, "bench", user_ids, item_ids, top.items, top.scores, reasons, reason_scores, "model"
        )
        rows = publish.write_shard(url, DS, publish_id, 0, [block])
        publish.publish_day(url, DS, publish_id, "bench", shards=1)
        return rows

    psql = shutil.which("psql") or "psql"
    cols = ", ".join(publish.RESULT_COLUMNS)
    t_write, t_copy = [], []
    with tempfile.TemporaryDirectory() as tmp:
        csv_path = Path(tmp) / "rows.csv"
        for _ in range(args.repeat):  # alternate the two, each from the same empty state after a CHECKPOINT
            reset(url)
            t = time.perf_counter()
            rows = project_write()
            t_write.append(time.perf_counter() - t)
            if not csv_path.exists():  # the same rows as CSV, exported by PostgreSQL itself (not timed)
                with db.connect(url) as conn, conn.cursor() as cur, open(csv_path, "w") as f:
                    cur.copy_expert(
                        f"COPY (SELECT {cols} FROM recs.results) TO STDOUT WITH (FORMAT csv, NULL '\\N')", f
                    )
            reset(url)
            t = time.perf_counter()
            subprocess.run(
                [
                    psql,
                    url,
                    "-q",
                    "-c",
                    f"\\copy public.bench_copy_reference ({cols}) FROM '{csv_path}' WITH (FORMAT csv, NULL '\\N')",
                ],
                check=True,
            )
            t_copy.append(time.perf_counter() - t)
            with db.connect(url) as conn, conn.cursor() as cur:
                cur.execute("SELECT count(*) FROM public.bench_copy_reference")
                copied = cur.fetchone()[0]
            assert copied == rows, (copied, rows)
    w, c = statistics.median(t_write), statistics.median(t_copy)
    runs = ", ".join(f"{a:.2f}/{b:.2f}" for a, b in zip(t_write, t_copy, strict=True))
    print(
        f"write: project {rows:,} rows {w:.2f}s / psql \\copy {c:.2f}s = {w / c:.2f}x "
        f"(median of {args.repeat}; runs {runs})"
    )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024
    print(f"peak RSS: {peak:.2f} GiB")


if __name__ == "__main__":
    main()
