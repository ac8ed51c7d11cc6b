"""Scoring and publishing at scale, against references measured in the same run.

    .venv/bin/python bench/scoring.py [--users 100000 --items 50000 --dim 64 --k 50] [--database-url URL]

Prints (a) project Top-N time / bare faiss IndexFlatIP search on the same vectors, (b) the project's write of
the resulting rows into the real recs tables / `psql \\copy` of the same rows as CSV into an identical logged
table, (c) peak RSS. The project's scoring also removes each user's purchased items (up to 5 per user),
which bare faiss does not.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from recpipeline import db, publish, scoring  # noqa: E402

DS = date(2031, 1, 1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--users", type=int, default=100_000)
    ap.add_argument("--items", type=int, default=50_000)
    ap.add_argument("--dim", type=int, default=64)
    ap.add_argument("--k", type=int, default=50)
    ap.add_argument("--database-url", default=None)
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

    url = args.database_url or db.database_url()
    db.upgrade(url)
    user_ids = [f"user{n:07d}" for n in range(args.users)]
    item_ids = np.array([""] + [f"item{n:06d}" for n in range(1, args.items + 1)], dtype=object)
    none = np.full(top.items.shape, -1)
    nan = np.full(top.items.shape, np.nan, dtype=np.float32)

    t = time.perf_counter()
    publish_id = publish.plan_scoring(url, DS)
    chunks = publish.result_rows(DS, publish_id, 0, "bench", user_ids, item_ids, top.items, top.scores, none, nan,
                                 "model")
    rows = publish.write_shard(url, DS, publish_id, 0, [chunks])
    publish.publish_day(url, DS, publish_id, "bench")
    t_write = time.perf_counter() - t

    with tempfile.TemporaryDirectory() as tmp:
        csv_path = Path(tmp) / "rows.csv"
        with open(csv_path, "w") as f:  # the same rows, for the reference (not timed)
            f.writelines(publish.result_rows(DS, publish_id, 0, "bench", user_ids, item_ids, top.items, top.scores,
                                             none, nan, "model"))
        with db.connect(url) as conn, conn.cursor() as cur:
            cur.execute("DROP TABLE IF EXISTS public.bench_copy_reference")
            cur.execute("CREATE TABLE public.bench_copy_reference (LIKE recs.results INCLUDING ALL)")
        psql = shutil.which("psql") or "psql"
        cols = ", ".join(publish.RESULT_COLUMNS)
        t = time.perf_counter()
        subprocess.run([psql, url, "-q", "-c", f"\\copy public.bench_copy_reference ({cols}) FROM '{csv_path}' "
                        "WITH (FORMAT csv, NULL '\\N')"], check=True)
        t_copy = time.perf_counter() - t
    with db.connect(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM public.bench_copy_reference")
        copied = cur.fetchone()[0]
        cur.execute("DROP TABLE public.bench_copy_reference")
        cur.execute("DELETE FROM recs.current WHERE ds = %s", (DS,))
        cur.execute("DELETE FROM recs.published WHERE ds = %s", (DS,))
        cur.execute("DROP TABLE IF EXISTS recs.results_20310101")
    assert copied == rows, (copied, rows)
    print(f"write: project {rows:,} rows {t_write:.2f}s / psql \\copy {t_copy:.2f}s = {t_write / t_copy:.2f}x")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024
    print(f"peak RSS: {peak:.2f} GiB")


if __name__ == "__main__":
    main()
