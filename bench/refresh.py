"""Micro-batch refresh at scale: users act during the day after the live publish; how fast a refresh serves them,
and whether the refreshed lists predict their next action better than the stale ones.

    .venv/bin/python bench/refresh.py [--profile bench --users 1000 --epochs 3] [--reuse] [--database-url URL]

The synthetic shop (recpipeline.generate) is generated for the profile; every day but the last is landed,
validated, featurised, a model is trained on the second-to-last day (the live day) and its lists for every
active user are published (the gate is bypassed: this measures the refresh, not the model). The last day is
the shop's continuation of its users' sessions: `--users` users with at least two item interactions on it get
the events up to the middle of theirs (split at an item interaction) through the intake, as a shop service
would send them (INSERT as recpipeline_writer), and the next item interaction after that is their next action.
Prints

    refresh: N users in X s (Y users/s); next-event HR@10 refreshed A vs stale B

where X is the whole refresh (take, validate, re-encode, score, serve; one transaction) and A / B the share of
those users whose next action is in the top 10 of recs.latest after / before the refresh. Runs in a scratch
database (recpipeline_bench_refresh) on the configured server, recreated unless --reuse finds it prepared.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import psycopg2
from psycopg2.extensions import make_dsn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from recpipeline import db, features, publish, refresh, registry, sources  # noqa: E402
from recpipeline.config import load_settings  # noqa: E402
from recpipeline.events import EVENT_COLUMNS, ITEM_EVENTS  # noqa: E402

SCRATCH_DB = "recpipeline_bench_refresh"
K = 10


def scratch_url(server_url: str, recreate: bool) -> str:
    """The scratch database on the configured server (dropped and created again when `recreate`)."""
    conn = psycopg2.connect(server_url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (SCRATCH_DB,))
        exists = cur.fetchone() is not None
        if recreate or not exists:
            cur.execute(f"DROP DATABASE IF EXISTS {SCRATCH_DB} WITH (FORCE)")
            cur.execute(f"CREATE DATABASE {SCRATCH_DB}")
    conn.close()
    return make_dsn(server_url, dbname=SCRATCH_DB)


def prepare(url: str, work: Path, profile: str, seed: int, settings) -> tuple[date, Path]:
    """Generate the shop, publish its second-to-last day with a trained model; (live day, continuation file)."""
    from recpipeline import quality
    from recpipeline.generate import generate_shop
    from recpipeline.model.daily import train_day
    from recpipeline.shard_scoring import score_shard

    t = time.perf_counter()
    shutil.rmtree(work, ignore_errors=True)
    shop = generate_shop(profile, seed, work / "landing")
    live, follow = shop.days[-2], shop.days[-1]
    continuation = work / "continuation.csv"
    shutil.move(work / "landing" / follow.isoformat() / "events.csv", continuation)
    shutil.rmtree(work / "landing" / follow.isoformat())
    took = time.perf_counter() - t
    print(f"shop {profile}: {shop.users:,} users, {shop.items:,} items, {shop.events:,} events ({took:.0f}s)")
    db.upgrade(url)
    t = time.perf_counter()
    sources.land(url, "canonical", work / "landing")
    for day in shop.days[:-1]:
        quality.validate_day(url, day, settings)
    print(f"landed and validated {len(shop.days) - 1} days ({time.perf_counter() - t:.0f}s)")
    t = time.perf_counter()
    features.build_features(url, live, settings)
    trained = train_day(url, live, settings)
    print(f"trained {trained['model_id']} ({time.perf_counter() - t:.0f}s)")
    t = time.perf_counter()
    publish_id = publish.plan_scoring(url, live)
    score_shard(url, live, settings, {"shard": 0, "shards": 1, "publish_id": publish_id, **trained})
    registry.decide(url, trained["model_id"], True, "bench/refresh.py: gate bypassed", {})
    publish.publish_day(url, live, publish_id, trained["model_id"], shards=1)
    print(f"scored and published {live} ({time.perf_counter() - t:.0f}s)")
    return live, continuation


def reset_refreshes(url: str, live: date) -> None:
    """Forget earlier runs of this benchmark: refreshed lists, and what the intake landed after the live day."""
    with db.connect(url) as conn, conn.cursor() as cur:
        cur.execute("TRUNCATE recs.refresh_current, recs.refresh_results, recs.refreshes, raw.intake_events")
        cur.execute("DELETE FROM clean.events WHERE ds > %s", (live,))
        cur.execute("DELETE FROM dq.rejects WHERE ds > %s", (live,))
        cur.execute("DELETE FROM raw.events WHERE ds > %s", (live,))
        cur.execute("DELETE FROM raw.loads WHERE ds > %s", (live,))


def pick_sessions(url: str, live: date, continuation: Path, users: int, seed: int) -> tuple[pd.DataFrame, dict]:
    """Each chosen user's continuation events up to the middle item interaction, and the item they act on next."""
    events = pd.read_csv(continuation, dtype=str, keep_default_na=False)
    with db.connect(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT DISTINCT user_id FROM recs.latest WHERE source = 'model'")
        served = {r[0] for r in cur.fetchall()}
        cur.execute("SELECT item_id FROM features.items WHERE ds = %s", (live,))
        catalogue = {r[0] for r in cur.fetchall()}
    events = events.sort_values(["ts", "event_id"], kind="stable")
    events["on_item"] = events["event_type"].isin(ITEM_EVENTS) & events["item_id"].isin(list(catalogue))
    counts = events[events["on_item"]].groupby("user_id").size()
    eligible = sorted(u for u in counts[counts >= 2].index if u in served)
    chosen = np.random.default_rng(seed).choice(eligible, size=min(users, len(eligible)), replace=False)
    sent, targets = [], {}
    for user, rows in events[events["user_id"].isin(set(chosen))].groupby("user_id", sort=True):
        item_rows = np.flatnonzero(rows["on_item"].to_numpy())  # flagged once for the whole day (not per user)
        cut = item_rows[len(item_rows) // 2]  # the next action: the middle item interaction
        sent.append(rows.iloc[:cut].drop(columns="on_item"))
        targets[user] = rows.iloc[cut]["item_id"]
    return pd.concat(sent), targets


def send_as_writer(url: str, frame: pd.DataFrame) -> int:
    """INSERT the events into the intake as the shop's services would (role recpipeline_writer, COPY)."""
    with db.connect(url) as conn, conn.cursor() as cur:
        cur.execute("SET ROLE recpipeline_writer")
        rows = frame[list(EVENT_COLUMNS)].replace({"": None}).itertuples(index=False, name=None)
        return db.copy_in(cur, "raw.intake_events", EVENT_COLUMNS, rows)


def top_lists(url: str, users: list[str]) -> dict[str, list[str]]:
    """Each user's top K of recs.latest now."""
    with db.connect(url) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT user_id, array_agg(item_id ORDER BY rank) FROM recs.latest "
            "WHERE user_id = ANY(%s) AND rank <= %s GROUP BY user_id",
            (users, K),
        )
        return dict(cur.fetchall())


def hit_rate(lists: dict[str, list[str]], targets: dict[str, str]) -> float:
    """Share of users whose next item is in their list."""
    return sum(targets[u] in lists.get(u, []) for u in targets) / max(len(targets), 1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--profile", default="bench", choices=["tiny", "demo", "bench"])
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--users", type=int, default=1000)
    ap.add_argument("--epochs", type=int, default=3, help="training epochs of the live model (upper bound)")
    ap.add_argument("--database-url", default=None)
    ap.add_argument("--reuse", action="store_true", help="keep the prepared scratch database and shop if present")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("recpipeline.refresh").setLevel(logging.INFO)

    work = Path(load_settings().home) / f"bench-refresh-{args.profile}-{args.seed}"
    marker = work / "live_day"
    reuse = args.reuse and marker.exists()
    url = scratch_url(args.database_url or db.database_url(), recreate=not reuse)
    settings = load_settings(
        {"database_url": url, "home": work / "home", "epochs": args.epochs, "landing_dir": work / "landing"}
    )
    if reuse:
        live, continuation = date.fromisoformat(marker.read_text()), work / "continuation.csv"
        reset_refreshes(url, live)
    else:
        live, continuation = prepare(url, work, args.profile, args.seed, settings)
        marker.write_text(live.isoformat())
    frame, targets = pick_sessions(url, live, continuation, args.users, args.seed)
    users = sorted(targets)
    stale = top_lists(url, users)
    sent = send_as_writer(url, frame)
    print(f"{len(users):,} users sent {sent:,} events through the intake")

    started = time.perf_counter()
    result = refresh.refresh(url, settings, today=date.fromordinal(live.toordinal() + 1))
    seconds = time.perf_counter() - started
    fresh = top_lists(url, users)
    assert set(result.refreshed) >= set(users), "every user with new item events is refreshed"
    print(
        f"refresh: {result.users_refreshed:,} users in {seconds:.1f} s ({result.users_refreshed / seconds:,.0f} "
        f"users/s); next-event HR@{K} refreshed {hit_rate(fresh, targets):.3f} vs stale {hit_rate(stale, targets):.3f}"
    )


if __name__ == "__main__":
    main()
