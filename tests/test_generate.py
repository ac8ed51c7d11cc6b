"""The synthetic shop: determinism, canonical file format, realistic funnels and a planted sequential signal."""

from __future__ import annotations

import re
import time
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from recpipeline.events import EVENT_COLUMNS, EVENT_TYPES, ITEM_COLUMNS, ITEM_EVENTS
from recpipeline.generate import (
    DEFAULT_START,
    PROFILES,
    ShopSummary,
    generate_shop,
    planted_complements,
    profile_names,
)

SEED = 7
TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> ShopSummary:
    began = time.perf_counter()
    summary = generate_shop("tiny", SEED, tmp_path_factory.mktemp("tiny"))
    assert time.perf_counter() - began < 10, "the tiny profile is meant for unit tests: keep it fast"
    return summary


def read_csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def all_events(root: Path) -> pd.DataFrame:
    days = sorted(p for p in root.iterdir() if p.is_dir())
    return pd.concat([read_csv(d / "events.csv").assign(ds=d.name) for d in days], ignore_index=True)


def item_pairs(events: pd.DataFrame) -> pd.DataFrame:
    """Consecutive (previous item, next item) per user over item events, repeats of one item collapsed."""
    ev = events[events.item_id != ""].sort_values(["user_id", "ts", "event_id"])
    ev = ev[(ev.user_id != ev.user_id.shift()) | (ev.item_id != ev.item_id.shift())]
    same_user = ev.user_id.to_numpy()[1:] == ev.user_id.to_numpy()[:-1]
    return pd.DataFrame(
        {
            "prev": ev.item_id.to_numpy()[:-1][same_user],
            "next": ev.item_id.to_numpy()[1:][same_user],
            "ds": ev.ds.to_numpy()[1:][same_user],
        }
    )


# --- API and determinism -----------------------------------------------------------------------------


def test_profiles_are_listed_smallest_first() -> None:
    assert profile_names() == ["tiny", "demo", "bench"]
    assert [PROFILES[n].users for n in profile_names()] == [200, 5_000, 100_000]
    with pytest.raises(ValueError, match="unknown profile 'huge'"):
        generate_shop("huge", 1, Path("/nonexistent"))


def test_summary_matches_files(tiny: ShopSummary) -> None:
    folders = sorted(p.name for p in tiny.out.iterdir())
    assert tiny.days == [DEFAULT_START + timedelta(days=d) for d in range(10)]
    assert folders == [d.isoformat() for d in tiny.days]
    assert tiny.last_day == date(2026, 10, 10)
    events = all_events(tiny.out)
    assert tiny.events == len(events)
    assert 4_000 <= tiny.events <= 7_000
    assert tiny.users == events.user_id.nunique() <= 200
    assert tiny.items == len(read_csv(tiny.out / "2026-10-10" / "items.csv")) == 120


def test_same_seed_same_bytes_other_seed_other_bytes(tiny: ShopSummary, tmp_path: Path) -> None:
    again = generate_shop("tiny", SEED, tmp_path / "again")
    other = generate_shop("tiny", SEED + 1, tmp_path / "other")
    for day in tiny.days:
        for name in ("events.csv", "items.csv"):
            rel = Path(day.isoformat()) / name
            assert (tiny.out / rel).read_bytes() == (again.out / rel).read_bytes(), rel
    first = Path(tiny.days[0].isoformat()) / "events.csv"
    assert (tiny.out / first).read_bytes() != (other.out / first).read_bytes()


def test_start_date_moves_the_folders(tmp_path: Path) -> None:
    summary = generate_shop("tiny", SEED, tmp_path, start=date(2025, 1, 30))
    assert summary.days[0] == date(2025, 1, 30) and summary.last_day == date(2025, 2, 8)
    events = read_csv(tmp_path / "2025-02-08" / "events.csv")
    assert events.ts.str.startswith("2025-02-08T").all()


# --- canonical format and value domains --------------------------------------------------------------


def test_headers_are_the_canonical_columns(tiny: ShopSummary) -> None:
    for day in tiny.days:
        folder = tiny.out / day.isoformat()
        assert (folder / "events.csv").read_text().splitlines()[0] == ",".join(EVENT_COLUMNS)
        assert (folder / "items.csv").read_text().splitlines()[0] == ",".join(ITEM_COLUMNS)


def test_event_values(tiny: ShopSummary) -> None:
    seen_ids: set[str] = set()
    for day in tiny.days:
        folder = tiny.out / day.isoformat()
        ev, items = read_csv(folder / "events.csv"), read_csv(folder / "items.csv")
        assert set(ev.event_type) <= set(EVENT_TYPES)
        assert ev.ts.str.match(TS).all()
        assert ev.ts.str.startswith(day.isoformat() + "T").all(), "every event lies inside its folder's day"
        assert ev.ts.is_monotonic_increasing
        assert ev.event_id.str.fullmatch(r"e\d{9}").all() and ev.user_id.str.fullmatch(r"u\d{5}").all()
        assert ev.session_id.str.fullmatch(r"s\d{8}").all()
        assert seen_ids.isdisjoint(ev.event_id) and ev.event_id.is_unique
        seen_ids.update(ev.event_id)

        search = ev.event_type == "search"
        assert (ev.item_id[search] == "").all() and (ev["query"][search] != "").all()
        assert (ev["query"][~search] == "").all()
        assert ev.item_id[~search].isin(set(items.item_id)).all(), "event items are in that day's catalogue"

        purchase = ev[ev.event_type == "purchase"]
        assert (ev.value[ev.event_type != "purchase"] == "").all()
        price = dict(zip(items.item_id, items.price, strict=True))
        assert (purchase.value == purchase.item_id.map(price)).all(), "value is the day's price"
        in_stock = dict(zip(items.item_id, items.in_stock, strict=True))
        assert (purchase.item_id.map(in_stock) == "true").all(), "nobody buys what is out of stock"
        # a session belongs to one user
        assert (ev.groupby("session_id").user_id.nunique() == 1).all()


def test_catalogue_snapshots(tiny: ShopSummary) -> None:
    previous: set[str] = set()
    prices = []
    for day in tiny.days:
        items = read_csv(tiny.out / day.isoformat() / "items.csv")
        assert items.item_id.is_unique and items.item_id.str.fullmatch(r"i\d{5}").all()
        assert previous <= set(items.item_id), "items never vanish from the catalogue"
        previous = set(items.item_id)
        assert items.category.str.split(" > ").map(len).eq(3).all()
        assert items.tags.str.split("|").map(len).ge(3).all()
        assert set(items.in_stock) <= {"true", "false"}
        assert (items.price.astype(float) > 0).all()
        assert items.updated_at.str.match(TS).all()
        day_end = datetime.combine(day, datetime.min.time(), UTC) + timedelta(days=1)
        assert (pd.to_datetime(items.updated_at) < day_end).all()
        # the leaf noun is in the title: content features carry the category
        leaf = items.category.str.split(" > ").str[-1]
        assert all(noun in title for noun, title in zip(leaf, items.title, strict=True))
        prices.append(items.set_index("item_id").price.astype(float))
    first, last = (read_csv(tiny.out / d.isoformat() / "items.csv") for d in (tiny.days[0], tiny.days[-1]))
    assert len(last) > len(first), "new items appear over time (cold start)"
    common = prices[0].index
    assert (prices[0] != prices[-1][common]).any(), "some prices move"


def test_new_items_get_traffic_after_launch(tiny: ShopSummary) -> None:
    events = all_events(tiny.out)
    launch = {}
    for day in tiny.days:
        for item in read_csv(tiny.out / day.isoformat() / "items.csv").item_id:
            launch.setdefault(item, day.isoformat())
    new = {i for i, d in launch.items() if d > tiny.days[0].isoformat()}
    assert new
    on_new = events[events.item_id.isin(new)]
    assert len(on_new) > 0
    assert (on_new.ds >= on_new.item_id.map(launch)).all()


def test_searches_lead_to_matching_items(tiny: ShopSummary) -> None:
    events = all_events(tiny.out).sort_values(["session_id", "ts", "event_id"])
    leaf = read_csv(tiny.out / tiny.last_day.isoformat() / "items.csv").set_index("item_id").category
    nxt = events.shift(-1)
    searches = (events.event_type == "search") & (nxt.session_id == events.session_id)
    clicked = searches & (nxt.event_type == "click")
    assert searches.sum() > 50 and clicked.sum() > 0.6 * searches.sum()
    nouns = nxt.item_id[clicked].map(leaf).str.split(" > ").str[-1].str.lower()
    queries = events["query"][clicked]
    assert all(n in q for n, q in zip(nouns, queries, strict=True)), "the query names the clicked item's leaf"


# --- realism: funnels and the planted sequential signal ----------------------------------------------


def test_funnel_rates_are_realistic(tiny: ShopSummary) -> None:
    counts = Counter(all_events(tiny.out).event_type)
    views = counts["view"] + counts["click"]
    assert 0.05 <= counts["cart"] / views <= 0.12
    assert 0.01 <= counts["purchase"] / views <= 0.045
    assert counts["purchase"] < counts["cart"] < views
    assert 0.01 <= counts["fav"] / views <= 0.06
    assert 0.03 <= counts["search"] / sum(counts.values()) <= 0.15


def _related_rates(
    events: pd.DataFrame, items: pd.DataFrame, comps: dict[str, list[str]], seed: int = 0
) -> tuple[float, float]:
    """How often the next item shares the leaf with / is a complement of the previous one, versus how
    often an item drawn by popularity would."""
    pairs = item_pairs(events)
    leaf = items.set_index("item_id").category
    freq = pairs.next.value_counts()
    guess = np.random.default_rng(seed).choice(freq.index.to_numpy(), len(pairs), p=(freq / freq.sum()).to_numpy())

    def related(prev: pd.Series, nxt: pd.Series) -> float:
        same_leaf = prev.map(leaf).to_numpy() == nxt.map(leaf).to_numpy()
        complement = np.array([b in comps[a] for a, b in zip(prev, nxt, strict=True)])
        return float(np.mean(same_leaf | complement))

    return related(pairs.prev, pairs.next), related(pairs.prev, pd.Series(guess))


def test_next_item_follows_the_previous_one(tiny: ShopSummary) -> None:
    items = read_csv(tiny.out / tiny.last_day.isoformat() / "items.csv")
    observed, popular = _related_rates(all_events(tiny.out), items, planted_complements("tiny", SEED))
    assert observed >= 0.5
    assert observed >= 3 * popular, (observed, popular)


def _hit_rates(events: pd.DataFrame, test_from: str, k: int = 10) -> tuple[float, float]:
    """HR@k of next-item prediction on the last days: global popularity vs item-to-item transitions."""
    pairs = item_pairs(events)
    train, test = pairs[pairs.ds < test_from], pairs[pairs.ds >= test_from]
    popular = train.next.value_counts().index[:k].tolist()
    follows: dict[str, Counter[str]] = defaultdict(Counter)
    for a, b in zip(train.prev, train.next, strict=True):
        follows[a][b] += 1
    hits_pop = hits_seq = 0
    for a, b in zip(test.prev, test.next, strict=True):
        guess = [x for x, _ in follows[a].most_common(k)]
        guess += [x for x in popular if x not in guess][: k - len(guess)]
        hits_pop += b in popular
        hits_seq += b in guess
    return hits_pop / len(test), hits_seq / len(test)


def test_popularity_is_not_the_best_predictor(tiny: ShopSummary) -> None:
    pop, seq = _hit_rates(all_events(tiny.out), tiny.days[-3].isoformat())
    assert seq >= 2 * pop, (pop, seq)


def test_complements_live_next_door() -> None:
    comps = planted_complements("tiny", SEED)
    assert comps == planted_complements("tiny", SEED)
    assert len(comps) == 120 and all(len(c) == 3 for c in comps.values())
    assert all(item not in c for item, c in comps.items())


def test_demo_profile_size_and_signal(tmp_path: Path) -> None:
    began = time.perf_counter()
    summary = generate_shop("demo", SEED, tmp_path)
    assert time.perf_counter() - began < 15
    assert len(summary.days) == 30 and summary.last_day == date(2026, 10, 30)
    assert summary.items == 2_000 and 3_500 <= summary.users <= 5_000
    assert 120_000 <= summary.events <= 180_000
    events = all_events(tmp_path)
    items = read_csv(tmp_path / summary.last_day.isoformat() / "items.csv")
    observed, popular = _related_rates(events, items, planted_complements("demo", SEED))
    assert observed >= 10 * popular, (observed, popular)
    pop, seq = _hit_rates(events, summary.days[-3].isoformat())
    assert seq >= 4 * pop, (pop, seq)
    assert set(events.event_type[events.item_id != ""]) == set(ITEM_EVENTS)
