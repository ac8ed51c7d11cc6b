"""Personalised search replayed as the service would call it, against text-only search on the same catalogue.

    .venv/bin/python bench/search.py [--profile bench] [--seed 7] [--searches 1000] [--clients 8] [--epochs N]
                                     [--database-url URL] [--reuse]

In a scratch database (recpipeline_search_bench, recreated each run) on the configured server: generate the
synthetic shop, land and validate every day, run the stages for the day before the last (features, train,
score, the search evaluation that fits the blend, the search index, publish), then replay `--searches` logged
searches of the last day (query -> clicked item; after the publish, so nothing of them is in the vectors) as
recpipeline_reader: MRR@10 of the clicked item for recs.search (personalised) and recs.search_text (text only),
one client's latency (p50, p95) and the throughput of `--clients` concurrent clients. Prints

    search: personalised MRR@10 X vs text-only Y (R x); p50 A ms p95 B ms; 8 clients Q queries/s

and a line for text + popularity (recs.search for a user without a vector), the stronger reference, and how
many searches read candidates kept with the index (queries of the shop's log, migration 015) with the latency
of the other path (every GIN match ranked) on the same searches made unknown. --reuse
replays against the scratch database of an earlier run as it is (its live day and index; migrations applied), to
time the search functions again without preparing the shop.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

import psycopg2
from psycopg2.extensions import make_dsn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from recpipeline import db, features, publish, search  # noqa: E402
from recpipeline.config import load_settings  # noqa: E402

SCRATCH_DB = "recpipeline_search_bench"  # dropped and recreated on each run
READER = "recpipeline_reader"


def scratch_database(server_url: str) -> str:
    """A fresh database on the same server, so the benchmark never touches the pipeline's own tables."""
    conn = psycopg2.connect(server_url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS {SCRATCH_DB} WITH (FORCE)")
        cur.execute(f"CREATE DATABASE {SCRATCH_DB}")
    conn.close()
    return make_dsn(server_url, dbname=SCRATCH_DB)


def reusable(server_url: str) -> tuple[str, object] | None:
    """(url, live day) of an earlier run's scratch database that serves a day with a search index, else None."""
    conn = psycopg2.connect(server_url)
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (SCRATCH_DB,))
        exists = cur.fetchone() is not None
    conn.close()
    if not exists:
        return None
    url = make_dsn(server_url, dbname=SCRATCH_DB)
    with db.connect(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT to_regclass('recs.current') IS NOT NULL AND to_regclass('search.config') IS NOT NULL")
        if not cur.fetchone()[0]:
            return None
        cur.execute("SELECT c.ds FROM recs.current c JOIN search.config s USING (publish_id)")
        row = cur.fetchone()
    return (url, row[0]) if row else None


def prepare(url: str, profile: str, seed: int, workdir: Path, epochs: int | None) -> tuple:
    """Generate, land, run the stages for the day before the last and publish it with its search index."""
    from recpipeline.generate import generate_shop
    from recpipeline.local import land_and_validate
    from recpipeline.model.daily import train_day
    from recpipeline.shard_scoring import score_shard

    overrides = {"database_url": url, "home": workdir / "home", "shards": 1}
    if epochs:
        overrides["epochs"] = epochs
    settings = load_settings(overrides)
    started = time.perf_counter()
    days = generate_shop(profile, seed, workdir / "landing").days
    landed = land_and_validate(url, "canonical", workdir / "landing", settings=settings)
    if not landed.ok:
        raise SystemExit(f"landing failed on {landed.failed}")
    print(f"{profile}: {len(days)} days generated, landed and validated in {time.perf_counter() - started:.0f}s")
    ds, replay_day = days[-2], days[-1]
    started = time.perf_counter()
    features.build_features(url, ds, settings)
    trained = train_day(url, ds, settings)
    print(f"{ds}: features and model {trained['model_id']} in {time.perf_counter() - started:.0f}s")
    started = time.perf_counter()
    publish_id = publish.plan_scoring(url, ds)
    score_shard(url, ds, settings, {"shard": 0, "shards": 1, "publish_id": publish_id, **trained})
    evaluated = search.evaluate_search(url, ds, trained["model_id"], trained["artifact"])
    built = search.publish_search_index(url, ds, publish_id, trained["model_id"])
    publish.publish_day(url, ds, publish_id, trained["model_id"], shards=1)
    print(
        f"{ds}: scored, blend {evaluated['blend']} fitted on {evaluated['fit_searches']} searches, "
        f"index {built}, published in {time.perf_counter() - started:.0f}s"
    )
    return ds, replay_day


def logged(url: str, day, n: int) -> list[tuple[str, str, str]]:
    """n logged searches of `day` that led to a click: (user_id, query, clicked item_id)."""
    with db.connect(url) as conn, conn.cursor() as cur:
        rows = db.fetch_all(
            cur, "search_logged", {"since": day, "through": day, "catalogue": day, "test_cap": n, "fit_cap": n}
        )
    return [(r[2], r[3], r[4]) for r in rows]


def reciprocal_rank(items: list[str], clicked: str) -> float:
    return 1.0 / (items.index(clicked) + 1) if clicked in items[:10] else 0.0


def replay(reader_url: str, searches: list[tuple[str, str, str]]) -> dict[str, float]:
    """One client: MRR@10 of personalised, text+popularity and text-only search, and personalised latencies."""
    conn = psycopg2.connect(reader_url)
    conn.autocommit = True
    rr = {"personalised": [], "text_pop": [], "text": []}
    latencies = []
    with conn.cursor() as cur:
        cur.execute("SELECT current_user")
        assert cur.fetchone()[0] == READER
        for user, query, clicked in searches:
            started = time.perf_counter()
            cur.execute("SELECT item_id FROM recs.search(%s, %s, 10)", (user, query))
            items = [r[0] for r in cur.fetchall()]
            latencies.append((time.perf_counter() - started) * 1000)
            rr["personalised"].append(reciprocal_rank(items, clicked))
            cur.execute("SELECT item_id FROM recs.search(NULL, %s, 10)", (query,))
            rr["text_pop"].append(reciprocal_rank([r[0] for r in cur.fetchall()], clicked))
            cur.execute("SELECT item_id FROM recs.search_text(%s, 10)", (query,))
            rr["text"].append(reciprocal_rank([r[0] for r in cur.fetchall()], clicked))
    conn.close()
    latencies.sort()
    return {
        **{k: statistics.fmean(v) for k, v in rr.items()},
        "p50": latencies[len(latencies) // 2],
        "p95": latencies[min(len(latencies) - 1, int(len(latencies) * 0.95))],
    }


def uncached(query: str) -> str:
    """The same words reversed, plus one that matches nothing: the same matches, never a kept query's words."""
    return " ".join([*reversed(query.split()), "qzxjv"])


def latencies(reader_url: str, searches: list[tuple[str, str]]) -> dict[str, float]:
    """p50 and p95 of personalised searches (user, query) on one connection."""
    conn = psycopg2.connect(reader_url)
    conn.autocommit = True
    took = []
    with conn.cursor() as cur:
        for user, query in searches:
            started = time.perf_counter()
            cur.execute("SELECT item_id FROM recs.search(%s, %s, 10)", (user, query))
            cur.fetchall()
            took.append((time.perf_counter() - started) * 1000)
    conn.close()
    took.sort()
    return {"p50": took[len(took) // 2], "p95": took[min(len(took) - 1, int(len(took) * 0.95))]}


def throughput(reader_url: str, searches: list[tuple[str, str, str]], clients: int) -> float:
    """Personalised searches per second with `clients` concurrent connections sharing the replay."""
    conns = [psycopg2.connect(reader_url) for _ in range(clients)]
    for c in conns:
        c.autocommit = True

    def work(conn, part) -> None:
        with conn.cursor() as cur:
            for user, query, _ in part:
                cur.execute("SELECT item_id FROM recs.search(%s, %s, 10)", (user, query))
                cur.fetchall()

    threads = [threading.Thread(target=work, args=(c, searches[i::clients])) for i, c in enumerate(conns)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - started
    for c in conns:
        c.close()
    return len(searches) / seconds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--profile", default="bench", choices=("tiny", "demo", "bench"))
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--searches", type=int, default=1000)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--epochs", type=int, default=None, help="override the training epochs (default: settings)")
    ap.add_argument("--database-url", default=None)
    ap.add_argument("--reuse", action="store_true", help="replay against an earlier run's prepared scratch database")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    live = reusable(args.database_url or db.database_url()) if args.reuse else None
    if live:
        url, ds = live
        day = ds + timedelta(days=1)
        db.upgrade(url)
        print(f"reusing {SCRATCH_DB}: live day {ds} (its profile and seed as they were prepared)")
    else:
        url = scratch_database(args.database_url or db.database_url())
        db.upgrade(url)
        with tempfile.TemporaryDirectory(prefix="recpipe-search-bench-") as tmp:
            ds, day = prepare(url, args.profile, args.seed, Path(tmp), args.epochs)
    searches = logged(url, day, args.searches)
    assert day - ds == timedelta(days=1)
    reader_url = make_dsn(url, user=READER, password="")
    with db.connect(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT search.vector_kind(), current_setting('server_version')")
        kind, version = cur.fetchone()
    print(f"replaying {len(searches)} logged searches of {day} against {ds}'s index (PostgreSQL {version}, {kind})")
    one = replay(reader_url, searches)
    qps = throughput(reader_url, searches, args.clients)
    ratio = one["personalised"] / one["text"] if one["text"] else float("inf")
    print(
        f"search: personalised MRR@10 {one['personalised']:.4f} vs text-only {one['text']:.4f} ({ratio:.2f} x); "
        f"p50 {one['p50']:.1f} ms p95 {one['p95']:.1f} ms; {args.clients} clients {qps:.0f} queries/s"
    )
    lift = one["personalised"] / one["text_pop"] if one["text_pop"] else float("inf")
    print(f"search: text+popularity MRR@10 {one['text_pop']:.4f} (personalised {lift:.2f} x)")
    with db.connect(url) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT count(*) FILTER (WHERE EXISTS (SELECT 1 FROM search.queries q JOIN recs.current c USING "
            "(publish_id) WHERE q.tokens = search.tokens(s.query) AND q.cand_items IS NOT NULL)), count(*) "
            "FROM unnest(%s::text[]) AS s(query)",
            ([q for _, q, _ in searches],),
        )
        hits, total = cur.fetchone()
    cold = latencies(reader_url, [(u, uncached(q)) for u, q, _ in searches])
    print(
        f"search: {hits}/{total} replayed searches had their candidates kept with the index (the log's frequent "
        f"queries); the rest path, timed on the same searches with their words reversed plus one that matches "
        f"nothing (never kept): p50 {cold['p50']:.1f} ms p95 {cold['p95']:.1f} ms"
    )


if __name__ == "__main__":
    main()
