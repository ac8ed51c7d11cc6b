"""The closed-loop synthetic shop: each simulated day users are shown what is live, respond by a planted
response model, and the day's files go through the pipeline, whose next publish the users see the day after.

`recpipeline simulate --profile demo --days N` (until cli.py wires it: `python -m recpipeline.feedback.simulate`).

Organic traffic is the synthetic shop's own (recpipeline.generate internals, its random stream untouched, so the
warm-up days are byte-identical to `generate_shop`'s). On top of it, every user with a session that day gets one
list (surface `home`) just before the first session starts:
- treatment: the user's top `LIST_SIZE` of recs.latest (the trending list if the user has none);
- holdout (hashed `holdout_share` of users, recpipeline.feedback.groups): the trending list of the live day;
both minus the items the user dismissed in the last `dismiss_days` days (the surface's filter).

Planted response (its own random stream, `Response`): the chance to click the item at position p is
base_click x affinity x p ** -position_decay, where the affinity to the user's *current* latent interests is
1 for a complement of the user's last item, 0.5 + 0.5 x (weight of the leaf / the user's top weight) for an
item in an interest leaf, `same_top` for an item in the top category of an interest, `elsewhere` otherwise.
A click may go to the cart and on to a purchase; an examined, unclicked item of low affinity may be dismissed
("not interested"). Same profile, seed, days and pipeline settings -> the same files every time.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from recpipeline import generate as g
from recpipeline.events import EVENT_COLUMNS
from recpipeline.feedback.groups import HOLDOUT, group_of
from recpipeline.feedback.landing import FEEDBACK_COLUMNS, IMPRESSION_COLUMNS

log = logging.getLogger(__name__)
LIST_SIZE = 10
SURFACE = "home"
RESPONSE_STREAM = 14  # generate._rng stream of the response model (the shop uses 1 and 2)


@dataclass(frozen=True)
class Response:
    """The planted response model (probabilities)."""

    base_click: float = 0.35
    position_decay: float = 0.7
    same_top: float = 0.15
    elsewhere: float = 0.02
    cart_after_click: float = 0.15
    purchase_after_cart: float = 0.35
    dismiss: float = 0.08  # per examined, unclicked item with affinity <= same_top


RESPONSE = Response()


@dataclass
class LiveLists:
    """What the surface can show today: per-user lists from recs.latest, the trending list, the publish."""

    publish_id: int | None
    lists: dict[str, list[str]]
    sources: dict[str, str]
    trending: list[str]
    dismissed: dict[str, set[str]]

    @classmethod
    def empty(cls) -> LiveLists:
        return cls(None, {}, {}, [], {})


@dataclass
class SimDay:
    """One simulated day's landing frames."""

    day: date
    items: pd.DataFrame
    events: pd.DataFrame
    impressions: pd.DataFrame
    feedback: pd.DataFrame

    def write(self, root: Path) -> Path:
        """Write the day folder: items.csv, events.csv, and impressions.csv / feedback.csv when anything was shown."""
        folder = Path(root) / self.day.isoformat()
        folder.mkdir(parents=True, exist_ok=True)
        g._write_csv(self.items, folder / "items.csv")
        g._write_csv(self.events, folder / "events.csv")
        if len(self.impressions):
            g._write_csv(self.impressions, folder / "impressions.csv")
            g._write_csv(self.feedback, folder / "feedback.csv")
        return folder


def affinity(cat: g.Catalogue, users: g.Users, last_item: np.ndarray, u: np.ndarray, item: np.ndarray) -> np.ndarray:
    """True affinity of users `u` to items `item` (pairwise arrays) given their current interests."""
    r = RESPONSE
    leaf = cat.item_leaf[item]
    interests, weights = users.interests[u], users.interest_weight[u]
    match = interests == leaf[:, None]
    weight = (weights * match).max(axis=1) / weights.max(axis=1)
    same_top = (cat.leaf_top[interests] == cat.leaf_top[leaf][:, None]).any(axis=1)
    last = last_item[u]
    comp = (last >= 0) & (cat.complements[np.maximum(last, 0)] == item[:, None]).any(axis=1)
    return np.where(
        comp, 1.0, np.where(match.any(axis=1), 0.5 + 0.5 * weight, np.where(same_top, r.same_top, r.elsewhere))
    )


class ClosedLoopShop:
    """The synthetic shop advanced one day at a time, with the response model on top."""

    def __init__(self, profile: str, seed: int, start: date | None = None, holdout_share: float = 0.1):
        self.spec = g._profile(profile)
        self.seed = seed
        self.start = start or g.DEFAULT_START
        self.holdout_share = holdout_share
        self.cat = g.build_catalogue(self.spec, seed)
        self.rng = g._rng(seed, 2)
        self.users = g.Users.create(self.spec, self.cat, self.rng)
        self.stock = g.StockState.initial(self.cat, self.start, self.rng)
        self.response_rng = g._rng(seed, RESPONSE_STREAM)
        self.item_number = {item_id: i for i, item_id in enumerate(self.cat.item_ids)}
        self.holdout = np.array([group_of(u, holdout_share) == HOLDOUT for u in self.users.ids])
        self.d, self.events, self.sessions = 0, 0, 0
        self.expected: dict[str, float] = {}

    @property
    def next_date(self) -> date:
        return self.start + timedelta(days=self.d)

    def next_day(self, live: LiveLists | None = None) -> SimDay:
        """Organic traffic of the next day (as generate_shop), plus the shown lists and the responses to them."""
        d, day = self.d, self.next_date
        day_start = g._unix(day)
        if d > 0:
            self.stock.advance(self.cat, d, day_start, self.rng)
            self.users.drift(self.cat, self.rng)
        sampler = g.LeafSampler(self.cat.item_leaf, g._day_weights(self.cat, d), self.cat.leaf_weight)
        last_before = self.users.last_item.copy()
        ctx = g.DayContext(self.cat, sampler, self.stock.in_stock, self.users, self.rng, self.spec.session_steps)
        ev = g._simulate_day(ctx, self.sessions)
        prices = self.stock.prices(self.cat)
        items = g._items_frame(self.cat, self.stock, d)
        organic = g._events_frame(self.cat, self.users, prices, ev, day_start, self.events, self.rng)
        self.events += len(ev.user)
        self.sessions = int(ev.session.max(initial=self.sessions - 1)) + 1
        self.d += 1
        shown = self._show(live or LiveLists.empty(), ev, day, day_start)
        answered, impressions, feedback = self._respond(shown, ev, last_before, prices, day, day_start)
        events = pd.concat([organic, answered], ignore_index=True)
        events = events.iloc[np.argsort(events["ts"].to_numpy(dtype=str), kind="stable")].reset_index(drop=True)
        return SimDay(day, items, events, impressions, feedback)

    def _show(self, live: LiveLists, ev: g.DayEvents, day: date, day_start: int) -> pd.DataFrame:
        """One list per active user at the first session's start (user number, item number, position, second)."""
        cols = {"user": [], "item": [], "position": [], "second": []}
        if live.publish_id is None:
            return pd.DataFrame(cols)
        first = pd.DataFrame({"user": ev.user, "second": ev.second}).groupby("user")["second"].min()
        for user, second in zip(first.index.to_numpy(), first.to_numpy(), strict=True):
            user_id = self.users.ids[user]
            own = live.lists.get(user_id)
            pool = live.trending if self.holdout[user] or not own else own
            blocked = live.dismissed.get(user_id, set())
            shown = [i for i in pool if i not in blocked and i in self.item_number][:LIST_SIZE]
            for pos, item_id in enumerate(shown, start=1):
                cols["user"].append(user)
                cols["item"].append(self.item_number[item_id])
                cols["position"].append(pos)
                cols["second"].append(max(0, int(second) - 2))
        frame = pd.DataFrame(cols)
        frame.attrs["publish_id"] = live.publish_id
        return frame

    def _respond(
        self,
        shown: pd.DataFrame,
        ev: g.DayEvents,
        last_before: np.ndarray,
        prices: np.ndarray,
        day: date,
        day_start: int,
    ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
        """Clicks, carts, purchases (canonical events) and dismissals for the shown lists, plus the impressions."""
        r, rng, stamp = RESPONSE, self.response_rng, f"{day:%Y%m%d}"
        empty_events = pd.DataFrame({c: pd.Series(dtype=object) for c in EVENT_COLUMNS})
        empty_imp = pd.DataFrame({c: pd.Series(dtype=object) for c in IMPRESSION_COLUMNS})
        empty_fb = pd.DataFrame({c: pd.Series(dtype=object) for c in FEEDBACK_COLUMNS})
        if shown.empty:
            self.expected = {}
            return empty_events, empty_imp, empty_fb
        u = shown["user"].to_numpy(np.int64)
        item = shown["item"].to_numpy(np.int64)
        pos = shown["position"].to_numpy(np.int64)
        second = shown["second"].to_numpy(np.int64)
        aff = affinity(self.cat, self.users, last_before, u, item)
        examine = pos.astype(float) ** -r.position_decay
        draw = rng.random((4, len(u)))
        p_click = r.base_click * aff * examine
        clicked = draw[0] < p_click
        held = self.holdout[u]
        self.expected = {  # the click-through the planted model expects, free of the clicks' sampling noise
            "treatment": float(p_click[~held].mean()) if (~held).any() else 0.0,
            "holdout": float(p_click[held].mean()) if held.any() else 0.0,
        }
        carted = clicked & self.stock.in_stock[item] & (draw[1] < r.cart_after_click)
        bought = carted & (draw[2] < r.purchase_after_cart)
        dismissed = ~clicked & (aff <= r.same_top) & (draw[3] < r.dismiss * examine)
        t_click = np.minimum(second + 3 + pos * 4 + rng.integers(0, 30, len(u)), g.DAY_SECONDS - 3)
        t_cart = np.minimum(t_click + rng.integers(10, 90, len(u)), g.DAY_SECONDS - 2)
        t_buy = np.minimum(t_cart + rng.integers(30, 240, len(u)), g.DAY_SECONDS - 1)
        request = np.array([f"q{stamp}-{x:07d}" for x in u.tolist()], dtype=object)
        session = pd.Series(ev.session).groupby(ev.user).min()
        rows = []
        for mask, kind, t in ((clicked, "click", t_click), (carted, "cart", t_cart), (bought, "purchase", t_buy)):
            idx = np.flatnonzero(mask)
            value = [f"{prices[item[i]]:.2f}" if kind == "purchase" else "" for i in idx.tolist()]
            rows.append(
                pd.DataFrame(
                    {
                        "user_id": self.users.ids[u[idx]],
                        "item_id": self.cat.item_ids[item[idx]],
                        "event_type": kind,
                        "ts": g._iso(day_start + t[idx]),
                        "session_id": [f"s{session.get(x, 0):08d}" for x in u[idx].tolist()],
                        "query": "",
                        "value": value,
                        "_order": t[idx] * 4 + {"click": 0, "cart": 1, "purchase": 2}[kind],
                    }
                )
            )
        answered = pd.concat(rows, ignore_index=True).sort_values("_order", kind="stable").drop(columns="_order")
        answered.insert(0, "event_id", [f"r{stamp}{i:07d}" for i in range(len(answered))])
        impressions = pd.DataFrame(
            {
                "request_id": request,
                "user_id": self.users.ids[u],
                "item_id": self.cat.item_ids[item],
                "position": pos,
                "publish_id": shown.attrs["publish_id"],
                "shown_at": g._iso(day_start + second),
                "surface": SURFACE,
            }
        )
        gone = np.flatnonzero(dismissed)
        feedback = pd.DataFrame(
            {
                "event_id": [f"d{stamp}{i:06d}" for i in range(len(gone))],
                "user_id": self.users.ids[u[gone]],
                "item_id": self.cat.item_ids[item[gone]],
                "event_type": "dismiss",
                "ts": g._iso(day_start + np.minimum(second[gone] + 5 + pos[gone] * 2, g.DAY_SECONDS - 1)),
                "request_id": request[gone],
            }
        )
        return answered[list(EVENT_COLUMNS)], impressions, feedback


# --------------------------------------------------------------------------------------------------
# Running the loop through the pipeline
# --------------------------------------------------------------------------------------------------


def live_lists(url: str, day: date, settings) -> LiveLists:
    """What is live now (recs.latest), the live day's trending list, and dismissals up to the day before `day`."""
    from recpipeline import db, trending
    from recpipeline.feedback.dismissals import dismissed

    with db.connect(url) as conn, conn.cursor() as cur:
        rows = db.fetch_all(cur, "feedback_live_lists", {"k": settings.top_k})
    if not rows:
        return LiveLists.empty()
    lists: dict[str, list[str]] = {}
    sources: dict[str, str] = {}
    for user_id, item_id, _rank, source, _publish_id, _ds in rows:
        lists.setdefault(user_id, []).append(item_id)
        sources[user_id] = source
    publish_id, live_ds = rows[0][4], rows[0][5]
    trend = trending.trending_items(url, live_ds, settings.top_k)
    return LiveLists(publish_id, lists, sources, trend, dismissed(url, day - timedelta(days=1), settings))


def run_pipeline_day(url: str, day: date, settings, runner: str) -> str:
    """The day through the pipeline (direct: recpipeline.tasks in the DAG's order here, the feedback stage
    included; airflow: recpipeline_daily via dag.test). Returns what happened to publish."""
    from recpipeline import publish, tasks

    if runner == "airflow":
        from recpipeline.local import run_dag

        run_dag(day, {}, settings)
        return "dag run"
    tasks.ingest(day, settings)
    tasks.data_quality(day, settings)
    tasks.feedback(day, settings)
    tasks.build_features(day, settings)
    trained = tasks.train(day, settings)
    jobs = tasks.plan_scoring(day, settings, trained)
    for job in jobs:
        tasks.score(day, settings, job)
    verdict = tasks.evaluate(day, settings, trained)
    try:
        tasks.publish_results(day, settings, trained, jobs)
    except publish.NotBlessed as exc:
        return f"not published ({exc})"
    return f"published {trained['model_id']} ({verdict.get('reason', '')})"


def simulate(
    profile: str, seed: int, days: int, warmup: int, settings, runner: str = "direct", start: date | None = None
) -> list[dict]:
    """Warm up with `warmup` organic days (the last one through the pipeline, for the first publish), then
    `days` closed-loop days. Returns per simulated day its online CTR@10 by group."""
    from recpipeline import db, tasks
    from recpipeline.feedback import online

    url = db.database_url(settings)
    db.upgrade(url)
    shop = ClosedLoopShop(profile, seed, start, settings.holdout_share)
    root = settings.landing
    for w in range(warmup):
        day = shop.next_date
        shop.next_day().write(root)
        if w < warmup - 1:
            tasks.ingest(day, settings)
            tasks.data_quality(day, settings)
        else:
            outcome = run_pipeline_day(url, day, settings, runner)
            log.info("warm-up %s: %s", day, outcome)
    results = []
    for _ in range(days):
        began = time.perf_counter()
        day = shop.next_date
        sim = shop.next_day(live_lists(url, day, settings))
        sim.write(root)
        outcome = run_pipeline_day(url, day, settings, runner)
        lift = online.lift_between(url, day, day, 10, seed=day.toordinal())
        results.append(
            {
                "ds": day,
                "impressions": len(sim.impressions),
                "treatment": lift.treatment,
                "holdout": lift.holdout,
                "expected": shop.expected,
                "outcome": outcome,
                "seconds": time.perf_counter() - began,
            }
        )
        summary = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in results[-1].items()}
        (Path(settings.home) / "simulate").mkdir(parents=True, exist_ok=True)
        (Path(settings.home) / "simulate" / f"{day}.json").write_text(json.dumps(summary, indent=1))
        log.info(
            "simulated %s: %d impressions, CTR@10 treatment %.4f holdout %.4f; %s (%.0fs)",
            day,
            len(sim.impressions),
            lift.treatment,
            lift.holdout,
            outcome,
            results[-1]["seconds"],
        )
    return results


def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The options of `recpipeline simulate` on `parser` (cli.py's subparser or this module's own)."""
    parser.add_argument("--profile", choices=g.profile_names(), default="demo")
    parser.add_argument("--days", type=int, default=10, help="closed-loop days after the warm-up")
    parser.add_argument("--warmup", type=int, default=14, help="organic days before the first publish")
    parser.add_argument("--seed", type=int, default=g.DEFAULT_SEED)
    parser.add_argument("--start", type=date.fromisoformat, default=None)
    parser.add_argument(
        "--runner",
        choices=("direct", "airflow"),
        default="direct",
        help="direct: stage functions in this process; airflow: recpipeline_daily via dag.test",
    )
    parser.add_argument("--conf", default=None, help="settings overrides as JSON, e.g. '{\"epochs\": 3}'")
    return parser


def run(args: argparse.Namespace) -> int:
    """Run the simulation the parsed options describe and print one line per simulated day."""
    from recpipeline.config import load_settings

    try:
        overrides = json.loads(args.conf) if args.conf else {}
        for key, value in overrides.items():  # as RECPIPE_* too, so Airflow's task processes see them (runner airflow)
            os.environ["RECPIPE_" + key.upper()] = str(value).lower() if isinstance(value, bool) else str(value)
        settings = load_settings(overrides)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    results = simulate(args.profile, args.seed, args.days, args.warmup, settings, args.runner, args.start)
    for r in results:
        print(
            f"{r['ds']}  impressions {r['impressions']:>6,}  CTR@10 treatment {r['treatment']:.4f} "
            f"holdout {r['holdout']:.4f}  {r['outcome']}"
        )
    return 0


def main(argv: list[str] | None = None) -> int:
    """`recpipeline simulate --profile demo --days N [--warmup W] [--seed S] [--runner direct|airflow]`."""
    parser = argparse.ArgumentParser(prog="recpipeline simulate", description=__doc__.splitlines()[0])
    return run(add_arguments(parser).parse_args(argv))


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    sys.exit(main())
