"""A deterministic synthetic e-commerce shop: canonical landing files with a planted, learnable signal.

`generate_shop(profile, seed, out)` writes one folder per day, ``out/<YYYY-MM-DD>/events.csv`` and
``out/<YYYY-MM-DD>/items.csv``, in the canonical landing columns of `recpipeline.events`. The same
(profile, seed) always gives byte-identical files.

What makes the data worth modelling (see docs/synthetic_shop.md):

* a category tree (top > sub > leaf) whose per-category vocabularies drive titles, tags, brands and
  search queries, so content features carry category signal (and new items can be placed cold);
* Zipf popularity inside each leaf and log-normal prices per leaf;
* users with a few latent interest leaves that drift slowly from day to day;
* sessions that walk a Markov chain over items: the next item is mostly a *complement* of the previous
  one (each item has three fixed complements in sibling leaves) or another item of the same leaf, and
  only rarely a globally popular item, so recent items predict the next one far better than popularity;
* view -> cart -> purchase funnels (~8% of item views are carted, ~2.5% purchased), searches whose
  query is built from a leaf's vocabulary followed by a click on an item of that leaf.

The simulation is vectorised over sessions: the Python loops run over days and session steps, never over
events, so the bench profile (2M+ events) generates in well under a minute.
"""

from __future__ import annotations

import argparse
import os
import re
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from recpipeline.events import CATEGORY_SEPARATOR, EVENT_COLUMNS, EVENT_TYPES, ITEM_COLUMNS, TAG_SEPARATOR

DEFAULT_START = date(2026, 10, 1)
DEFAULT_SEED = 7  # `make demo`, `recpipeline generate` and `python -m recpipeline.generate` alike
DAY_SECONDS = 86_400


# --------------------------------------------------------------------------------------------------
# Profiles
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Profile:
    """Size of a synthetic shop. `items` counts the final catalogue, including items that appear later."""

    name: str
    users: int
    items: int
    days: int
    top_categories: int  # how much of the category tree is used (at most 6 x 4 x 4)
    subcategories: int
    leaves: int
    daily_active: float  # mean probability that a user has at least one session on a given day
    session_steps: float  # mean number of items a session walks through
    new_item_share: float = 0.06  # share of the catalogue that appears after the first day


PROFILES: dict[str, Profile] = {
    p.name: p
    for p in (
        Profile(
            "tiny",
            users=200,
            items=120,
            days=10,
            top_categories=4,
            subcategories=2,
            leaves=2,
            daily_active=0.31,
            session_steps=6.0,
        ),
        Profile(
            "demo",
            users=5_000,
            items=2_000,
            days=30,
            top_categories=6,
            subcategories=4,
            leaves=4,
            daily_active=0.117,
            session_steps=6.0,
        ),
        Profile(
            "bench",
            users=100_000,
            items=50_000,
            days=21,
            top_categories=6,
            subcategories=4,
            leaves=4,
            daily_active=0.117,
            session_steps=6.0,
        ),
    )
}


def profile_names() -> list[str]:
    """Names accepted by `generate_shop`, smallest first."""
    return list(PROFILES)


@dataclass(frozen=True)
class Behaviour:
    """Shopper behaviour shared by all profiles; the probabilities that plant the signal live here."""

    interests: int = 3  # interest leaves per user
    interest_drift: float = 0.04  # daily chance that one interest leaf is replaced
    second_session: float = 0.2  # chance an active user comes back for a second session that day
    continue_session: float = 0.6  # chance a session starts from the user's last item (cross-session)
    # Next-item kinds after a plain view: complement, same leaf, another interest leaf, global popular.
    after_view: tuple[float, float, float, float] = (0.30, 0.45, 0.17, 0.08)
    # ... and after the item was carted (cross-sell: complements dominate).
    after_cart: tuple[float, float, float, float] = (0.60, 0.22, 0.12, 0.06)
    complement_pick: tuple[float, ...] = (0.5, 0.3, 0.2)  # which of an item's complements is chosen
    search_on_start: float = 0.35  # a fresh session opens with a search
    search_on_switch: float = 0.5  # moving to another interest leaf goes through a search
    click: float = 0.15  # an item reached from a listing is logged as `click` rather than `view`
    fav: float = 0.03
    cart: float = 0.085  # per item event, only when in stock
    purchase_after_cart: float = 0.30
    zipf: float = 1.1  # popularity exponent inside a leaf
    new_item_boost: float = 4.0  # "new arrivals" weight multiplier during an item's first week
    max_steps: int = 40


BEHAVIOUR = Behaviour()


@dataclass(frozen=True)
class ShopSummary:
    """What `generate_shop` wrote."""

    profile: str
    seed: int
    out: Path
    days: list[date]
    users: int  # distinct users with at least one event
    items: int  # items in the last day's catalogue
    events: int
    last_day: date
    seconds: float = field(default=0.0, compare=False)


# --------------------------------------------------------------------------------------------------
# Vocabulary: the category tree and per-top-category words
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TopVocab:
    """Words of one top category: its subcategory -> leaf tree and the vocabulary its items draw from."""

    subs: dict[str, tuple[str, ...]]
    brands: tuple[str, ...]
    adjectives: tuple[str, ...]
    variants: tuple[str, ...]
    tags: tuple[str, ...]
    price_range: tuple[float, float]  # range of leaf median prices


VOCAB: dict[str, TopVocab] = {
    "Beauty": TopVocab(
        subs={
            "Skin Care": ("Moisturizer", "Cleanser", "Serum", "Sunscreen"),
            "Makeup": ("Lipstick", "Mascara", "Foundation", "Eyeliner"),
            "Hair Care": ("Shampoo", "Conditioner", "Hair Oil", "Hair Dryer"),
            "Fragrance": ("Eau de Parfum", "Body Mist", "Cologne", "Deodorant"),
        },
        brands=("Lumina", "Velvetia", "Aurora Skin", "Petalia", "Nordique", "Mirelle", "Solenne", "Kaia"),
        adjectives=(
            "Hydrating",
            "Gentle",
            "Radiant",
            "Matte",
            "Nourishing",
            "Organic",
            "Vegan",
            "Repairing",
            "Soothing",
            "Brightening",
        ),
        variants=("30ml", "50ml", "100ml", "200ml", "Travel Size", "Value Pack"),
        tags=("beauty", "cruelty-free", "dermatologist-tested", "fragrance-free", "paraben-free", "gift-idea"),
        price_range=(6.0, 60.0),
    ),
    "Electronics": TopVocab(
        subs={
            "Phones": ("Smartphone", "Phone Case", "Screen Protector", "Charger"),
            "Audio": ("Headphones", "Earbuds", "Bluetooth Speaker", "Soundbar"),
            "Computers": ("Laptop", "Monitor", "Keyboard", "Mouse"),
            "Cameras": ("Mirrorless Camera", "Camera Lens", "Tripod", "Memory Card"),
        },
        brands=("Voltix", "Nexa", "Sonique", "Pixelon", "Arcwave", "Quanta", "Helix", "Zentro"),
        adjectives=(
            "Wireless",
            "Portable",
            "Compact",
            "Ultra",
            "Smart",
            "Fast-Charging",
            "Noise-Cancelling",
            "Ergonomic",
            "Rugged",
            "Slim",
        ),
        variants=("Pro", "Mini", "Max", "X2", "Lite", "2026 Edition"),
        tags=("electronics", "warranty-2y", "bluetooth", "usb-c", "bestseller", "tech-gift"),
        price_range=(15.0, 600.0),
    ),
    "Home": TopVocab(
        subs={
            "Kitchen": ("Frying Pan", "Knife Set", "Coffee Maker", "Blender"),
            "Bedding": ("Duvet", "Pillow", "Bed Sheets", "Blanket"),
            "Decor": ("Vase", "Candle", "Wall Art", "Mirror"),
            "Storage": ("Storage Box", "Shelf", "Laundry Basket", "Hangers"),
        },
        brands=("Hearthly", "Casa Nova", "Linnea", "Oakmoor", "Brightnest", "Umbra Home", "Kiln and Co", "Mossgrove"),
        adjectives=(
            "Ceramic",
            "Cotton",
            "Bamboo",
            "Stainless",
            "Minimalist",
            "Rustic",
            "Nonstick",
            "Cozy",
            "Handmade",
            "Modern",
        ),
        variants=("Small", "Medium", "Large", "Set of 2", "Classic", "Deluxe"),
        tags=("home", "eco-friendly", "dishwasher-safe", "handmade", "housewarming", "bestseller"),
        price_range=(10.0, 150.0),
    ),
    "Fashion": TopVocab(
        subs={
            "Women": ("Dress", "Blouse", "Skirt", "Handbag"),
            "Men": ("Shirt", "Jeans", "Blazer", "Belt"),
            "Shoes": ("Sneakers", "Boots", "Sandals", "Loafers"),
            "Accessories": ("Watch", "Sunglasses", "Scarf", "Wallet"),
        },
        brands=("Maison Rue", "Northline", "Vero", "Atelier Nine", "Blu Harbor", "Sable", "Kestrel", "Ondine"),
        adjectives=(
            "Linen",
            "Leather",
            "Slim-Fit",
            "Oversized",
            "Classic",
            "Vintage",
            "Denim",
            "Wool",
            "Silk",
            "Casual",
        ),
        variants=("Black", "Navy", "Beige", "Olive", "White", "Burgundy"),
        tags=("fashion", "new-season", "sustainable", "unisex", "limited-edition", "gift-idea"),
        price_range=(15.0, 180.0),
    ),
    "Sports": TopVocab(
        subs={
            "Fitness": ("Yoga Mat", "Dumbbells", "Resistance Band", "Foam Roller"),
            "Running": ("Running Shoes", "Running Shorts", "Sports Watch", "Water Bottle"),
            "Cycling": ("Bike Helmet", "Bike Light", "Cycling Gloves", "Bike Lock"),
            "Outdoor": ("Tent", "Sleeping Bag", "Backpack", "Camping Stove"),
        },
        brands=("Stridon", "Peakform", "Trailhead", "Velocita", "Ironbark", "Aerolite", "Summit Co", "Kinetix"),
        adjectives=(
            "Lightweight",
            "Waterproof",
            "Breathable",
            "Insulated",
            "Reflective",
            "Durable",
            "Foldable",
            "Grip",
            "Thermal",
            "Pro",
        ),
        variants=("Size S", "Size M", "Size L", "1L", "Red", "Black"),
        tags=("sports", "outdoor", "training", "waterproof", "eco-friendly", "bestseller"),
        price_range=(8.0, 250.0),
    ),
    "Grocery": TopVocab(
        subs={
            "Coffee and Tea": ("Coffee Beans", "Green Tea", "Espresso Pods", "Herbal Tea"),
            "Snacks": ("Chocolate", "Crisps", "Granola Bar", "Nuts"),
            "Pantry": ("Olive Oil", "Pasta", "Rice", "Spices"),
            "Beverages": ("Sparkling Water", "Juice", "Energy Drink", "Kombucha"),
        },
        brands=(
            "Golden Field",
            "Verdant",
            "Bean and Leaf",
            "Harvest Moon",
            "Terroir",
            "Little Orchard",
            "Saltmarsh",
            "Sunpeak",
        ),
        adjectives=(
            "Organic",
            "Fair-Trade",
            "Roasted",
            "Sugar-Free",
            "Spicy",
            "Classic",
            "Premium",
            "Gluten-Free",
            "Sparkling",
            "Wholegrain",
        ),
        variants=("250g", "500g", "1kg", "6-Pack", "12-Pack", "Family Size"),
        tags=("grocery", "organic", "vegan", "gluten-free", "fair-trade", "bulk-buy"),
        price_range=(2.0, 30.0),
    ),
}


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


# --------------------------------------------------------------------------------------------------
# Catalogue: category tree, items, complements (a pure function of profile and seed)
# --------------------------------------------------------------------------------------------------


@dataclass
class Catalogue:
    """Static item facts. Arrays are indexed by item number; leaf arrays by leaf number."""

    leaf_path: list[str]  # "Top > Sub > Leaf"
    leaf_top: np.ndarray
    leaf_weight: np.ndarray  # how many users care about a leaf (relative)
    leaf_queries: np.ndarray  # (leaves, queries) search texts built from the leaf's vocabulary
    item_ids: np.ndarray  # "i00042"
    item_leaf: np.ndarray
    item_intro: np.ndarray  # first day (0-based) the item is in the catalogue
    item_weight: np.ndarray  # Zipf popularity inside its leaf
    base_price: np.ndarray
    title: np.ndarray
    tags: np.ndarray
    brand: np.ndarray
    complements: np.ndarray  # (items, 3) item numbers of complements, always first-day items

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    @property
    def n_leaves(self) -> int:
        return len(self.leaf_path)


def _rng(seed: int, stream: int) -> np.random.Generator:
    """Independent random streams so the catalogue can be rebuilt without replaying the simulation."""
    return np.random.default_rng([seed, stream])


def _category_tree(profile: Profile) -> list[tuple[str, str, str]]:
    """The (top, sub, leaf) triples a profile uses: a slice of the full 6 x 4 x 4 tree."""
    tree = []
    for top in list(VOCAB)[: profile.top_categories]:
        for sub in list(VOCAB[top].subs)[: profile.subcategories]:
            for leaf in VOCAB[top].subs[sub][: profile.leaves]:
                tree.append((top, sub, leaf))
    return tree


@dataclass(frozen=True)
class LeafWords:
    """The slice of its top category's vocabulary a leaf uses, so words identify leaves, not just tops."""

    brands: list[np.ndarray]  # three brands per leaf
    adjectives: list[np.ndarray]  # four adjectives per leaf

    @classmethod
    def draw(cls, tree: list[tuple[str, str, str]], rng: np.random.Generator) -> LeafWords:
        return cls(
            brands=[rng.choice(VOCAB[t].brands, size=3, replace=False) for t, _, _ in tree],
            adjectives=[rng.choice(VOCAB[t].adjectives, size=4, replace=False) for t, _, _ in tree],
        )


def _leaf_queries(tree: list[tuple[str, str, str]], words: LeafWords) -> np.ndarray:
    """Five search texts per leaf: the leaf noun alone, with one of its adjectives, with one of its brands."""
    rows = []
    for i, (_top, _sub, leaf) in enumerate(tree):
        noun = leaf.lower()
        adjs, brands = words.adjectives[i], words.brands[i]
        rows.append(
            [
                noun,
                f"{adjs[0]} {noun}".lower(),
                f"{adjs[1]} {noun}".lower(),
                f"{brands[0]} {noun}".lower(),
                f"cheap {noun}",
            ]
        )
    return np.array(rows, dtype=object)


def _assign_leaves(n_items: int, n_leaves: int, rng: np.random.Generator) -> np.ndarray:
    """Leaf per item: at least two per leaf, the rest spread by uneven leaf sizes."""
    base = np.repeat(np.arange(n_leaves), 2)
    sizes = rng.lognormal(0.0, 0.4, n_leaves)
    rest = rng.choice(n_leaves, size=n_items - len(base), p=sizes / sizes.sum())
    leaves = np.concatenate([base, rest])
    return leaves[rng.permutation(n_items)]


def _zipf_weights(item_leaf: np.ndarray, zipf: float, rng: np.random.Generator) -> np.ndarray:
    """Popularity inside each leaf: a random rank order, weight = 1 / (rank + 1) ** zipf."""
    order = np.lexsort((rng.random(len(item_leaf)), item_leaf))
    leaf_sorted = item_leaf[order]
    starts = np.searchsorted(leaf_sorted, leaf_sorted, side="left")
    rank = np.empty(len(item_leaf), dtype=np.int64)
    rank[order] = np.arange(len(item_leaf)) - starts
    return 1.0 / (rank + 1.0) ** zipf


def _complement_leaves(tree: list[tuple[str, str, str]], item_leaf: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """For each item, three target leaves: mostly sibling leaves (same subcategory), sometimes same top."""
    by_sub: dict[tuple[str, str], list[int]] = {}
    by_top: dict[str, list[int]] = {}
    for i, (top, sub, _leaf) in enumerate(tree):
        by_sub.setdefault((top, sub), []).append(i)
        by_top.setdefault(top, []).append(i)
    siblings = [[j for j in by_sub[(t, s)] if j != i] for i, (t, s, _) in enumerate(tree)]
    cousins = [[j for j in by_top[t] if tree[j][1] != s] or siblings[i] for i, (t, s, _) in enumerate(tree)]
    siblings = [sib or cousins[i] for i, sib in enumerate(siblings)]
    n = len(item_leaf)
    targets = np.empty((n, len(BEHAVIOUR.complement_pick)), dtype=np.int64)
    pick_cousin = rng.random(targets.shape) < 0.2
    choice = rng.random(targets.shape)
    for leaf in range(len(tree)):
        rows = item_leaf == leaf
        for pool, use in ((siblings[leaf], ~pick_cousin), (cousins[leaf], pick_cousin)):
            mask = rows[:, None] & use
            targets[mask] = np.asarray(pool)[(choice[mask] * len(pool)).astype(np.int64)]
    return targets


class LeafSampler:
    """Draw items by weight inside given leaves (vectorised) or across the whole catalogue.

    Items are laid out leaf by leaf; the cumulative weight inside leaf `l` is shifted by `l`, so one
    `searchsorted` on `l + u` (u uniform in [0, 1)) lands inside leaf `l` for every draw at once.
    Zero-weight items (not yet in the catalogue) are never drawn.
    """

    def __init__(self, item_leaf: np.ndarray, weight: np.ndarray, leaf_weight: np.ndarray | None = None):
        self.order = np.argsort(item_leaf, kind="stable")
        leaf_sorted = item_leaf[self.order]
        w = weight[self.order].astype(np.float64)
        starts = np.searchsorted(leaf_sorted, np.arange(int(leaf_sorted[-1]) + 1), side="left")
        cum = np.cumsum(w)
        leaf_before = np.concatenate([[0.0], cum])[starts][leaf_sorted]
        leaf_total = np.add.reduceat(w, starts)
        self.cdf = leaf_sorted + (cum - leaf_before) / leaf_total[leaf_sorted]
        ends = np.append(starts[1:], len(w)) - 1
        self.cdf[ends] = np.arange(len(starts)) + 1.0  # exact leaf boundaries despite rounding
        share = leaf_total if leaf_weight is None else leaf_weight * 1.0
        global_w = w / leaf_total[leaf_sorted] * share[leaf_sorted]
        self.global_cdf = np.cumsum(global_w) / global_w.sum()

    def in_leaf(self, leaves: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        pos = np.searchsorted(self.cdf, leaves + rng.random(len(leaves)), side="right")
        return self.order[np.minimum(pos, len(self.order) - 1)]

    def anywhere(self, n: int, rng: np.random.Generator) -> np.ndarray:
        pos = np.searchsorted(self.global_cdf, rng.random(n), side="right")
        return self.order[np.minimum(pos, len(self.order) - 1)]


def _item_texts(
    tree: list[tuple[str, str, str]], words: LeafWords, item_leaf: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Titles, tags and brands from each leaf's slice of its top category's vocabulary."""
    n = len(item_leaf)
    leaf_brands, leaf_adjs = words.brands, words.adjectives
    pick_brand, pick_adj = rng.integers(0, 3, n), rng.integers(0, 4, n)
    pick_variant, pick_tag = rng.integers(0, 6, n), rng.integers(0, 6, n)
    titles, tags, brands = [], [], []
    for i in range(n):
        top, sub, leaf = tree[item_leaf[i]]
        vocab = VOCAB[top]
        brand = leaf_brands[item_leaf[i]][pick_brand[i]]
        adj = leaf_adjs[item_leaf[i]][pick_adj[i]]
        titles.append(f"{brand} {adj} {leaf} {vocab.variants[pick_variant[i]]}")
        tags.append(TAG_SEPARATOR.join((_slug(leaf), _slug(sub), _slug(adj), vocab.tags[pick_tag[i]])))
        brands.append(brand)
    return np.array(titles, dtype=object), np.array(tags, dtype=object), np.array(brands, dtype=object)


def _prices(tree: list[tuple[str, str, str]], item_leaf: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Log-normal prices around a per-leaf median that is log-uniform in the top category's range."""
    lo = np.log([VOCAB[t].price_range[0] for t, _, _ in tree])
    hi = np.log([VOCAB[t].price_range[1] for t, _, _ in tree])
    median = np.exp(lo + (hi - lo) * rng.random(len(tree)))
    return np.maximum(0.99, np.round(median[item_leaf] * rng.lognormal(0.0, 0.35, len(item_leaf)), 2))


def build_catalogue(profile: Profile, seed: int) -> Catalogue:
    """The static catalogue of a (profile, seed): same inputs, same catalogue, independent of events."""
    rng = _rng(seed, 1)
    tree = _category_tree(profile)
    n_leaves, n = len(tree), profile.items
    tops = list(dict.fromkeys(t for t, _, _ in tree))
    n_new = int(round(n * profile.new_item_share)) if profile.days > 1 else 0
    item_leaf = np.concatenate([_assign_leaves(n - n_new, n_leaves, rng), rng.integers(0, n_leaves, n_new)])
    intro = np.zeros(n, dtype=np.int64)
    intro[n - n_new :] = np.sort(rng.integers(1, max(profile.days, 2), n_new))
    weight = _zipf_weights(item_leaf, BEHAVIOUR.zipf, rng)
    # Complements are drawn among first-day items with flattened popularity, so they are item-specific.
    first_day = LeafSampler(item_leaf, np.where(intro == 0, weight**0.3, 0.0))
    targets = _complement_leaves(tree, item_leaf, rng)
    complements = first_day.in_leaf(targets.ravel(), rng).reshape(targets.shape)
    words = LeafWords.draw(tree, rng)
    titles, tags, brands = _item_texts(tree, words, item_leaf, rng)
    width = max(5, len(str(n - 1)))
    return Catalogue(
        leaf_path=[CATEGORY_SEPARATOR.join(path) for path in tree],
        leaf_top=np.array([tops.index(t) for t, _, _ in tree]),
        leaf_weight=rng.lognormal(0.0, 0.5, n_leaves),
        leaf_queries=_leaf_queries(tree, words),
        item_ids=np.array([f"i{i:0{width}d}" for i in range(n)], dtype=object),
        item_leaf=item_leaf,
        item_intro=intro,
        item_weight=weight,
        base_price=_prices(tree, item_leaf, rng),
        title=titles,
        tags=tags,
        brand=brands,
        complements=complements,
    )


def planted_complements(profile: str, seed: int) -> dict[str, list[str]]:
    """Ground truth for tests and evaluation: item id -> its complement item ids."""
    cat = build_catalogue(_profile(profile), seed)
    return {cat.item_ids[i]: list(cat.item_ids[cat.complements[i]]) for i in range(cat.n_items)}


# --------------------------------------------------------------------------------------------------
# Daily state: catalogue snapshot and users
# --------------------------------------------------------------------------------------------------


@dataclass
class StockState:
    """What changes in the catalogue from day to day: prices, stock, last update."""

    price_factor: np.ndarray
    in_stock: np.ndarray
    updated_at: np.ndarray  # unix seconds of the last change

    @classmethod
    def initial(cls, cat: Catalogue, start: date, rng: np.random.Generator) -> StockState:
        start_s = _unix(start)
        updated = start_s - rng.integers(1, 90 * DAY_SECONDS, cat.n_items)
        return cls(np.ones(cat.n_items), rng.random(cat.n_items) > 0.02, updated)

    def advance(self, cat: Catalogue, day: int, day_start: int, rng: np.random.Generator) -> None:
        """Nightly catalogue sync: a few prices move, a few items sell out or come back, new items land."""
        n = cat.n_items
        repriced = rng.random(n) < 0.04
        self.price_factor[repriced] *= np.exp(rng.normal(0.0, 0.07, int(repriced.sum())))
        sold_out = self.in_stock & (rng.random(n) < 0.01)
        restocked = ~self.in_stock & (rng.random(n) < 0.25)
        self.in_stock ^= sold_out | restocked
        landed = cat.item_intro == day
        self.in_stock[landed] = True
        self.updated_at[repriced | sold_out | restocked | landed] = day_start

    def prices(self, cat: Catalogue) -> np.ndarray:
        return np.maximum(0.99, np.round(cat.base_price * self.price_factor, 2))


@dataclass
class Users:
    """Latent user state: activity, interest leaves with weights, and the last item they touched."""

    activity: np.ndarray  # daily chance of a session
    interests: np.ndarray  # (users, K) leaf numbers
    interest_weight: np.ndarray  # (users, K) rows sum to 1
    last_item: np.ndarray  # -1 before the first session
    last_carted: np.ndarray  # whether that last item went to the cart
    ids: np.ndarray

    @classmethod
    def create(cls, profile: Profile, cat: Catalogue, rng: np.random.Generator) -> Users:
        n, k = profile.users, BEHAVIOUR.interests
        activity = rng.lognormal(0.0, 0.8, n)
        activity = np.clip(activity / activity.mean() * profile.daily_active, 0.01, 0.9)
        p_leaf = cat.leaf_weight / cat.leaf_weight.sum()
        first = rng.choice(cat.n_leaves, size=n, p=p_leaf)
        interests = np.empty((n, k), dtype=np.int64)
        interests[:, 0] = first
        for slot in range(1, k):
            interests[:, slot] = _related_leaf(cat, first, rng, p_near=0.6)
        width = max(5, len(str(n - 1)))
        return cls(
            activity=activity,
            interests=interests,
            interest_weight=rng.dirichlet(np.ones(k), size=n),
            last_item=np.full(n, -1, dtype=np.int64),
            last_carted=np.zeros(n, dtype=bool),
            ids=np.array([f"u{i:0{width}d}" for i in range(n)], dtype=object),
        )

    def drift(self, cat: Catalogue, rng: np.random.Generator) -> None:
        """Slow interest drift: now and then one interest leaf moves next door or somewhere new."""
        moving = np.flatnonzero(rng.random(len(self.activity)) < BEHAVIOUR.interest_drift)
        slot = rng.integers(0, self.interests.shape[1], len(moving))
        anchor = self.interests[moving, rng.integers(0, self.interests.shape[1], len(moving))]
        self.interests[moving, slot] = _related_leaf(cat, anchor, rng, p_near=0.5)

    def pick_interest(self, users: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """One interest leaf per given user, by the user's interest weights."""
        cum = np.cumsum(self.interest_weight[users], axis=1)
        slot = (cum < rng.random(len(users))[:, None]).sum(axis=1)
        return self.interests[users, np.minimum(slot, cum.shape[1] - 1)]


def _related_leaf(cat: Catalogue, anchor: np.ndarray, rng: np.random.Generator, p_near: float) -> np.ndarray:
    """A leaf in the anchor's top category with probability p_near, else a leaf by overall interest."""
    p_leaf = cat.leaf_weight / cat.leaf_weight.sum()
    out = rng.choice(cat.n_leaves, size=len(anchor), p=p_leaf)
    near = rng.random(len(anchor)) < p_near
    same_top = [np.flatnonzero(cat.leaf_top == t) for t in range(int(cat.leaf_top.max()) + 1)]
    for t, pool in enumerate(same_top):
        mask = near & (cat.leaf_top[anchor] == t)
        out[mask] = rng.choice(pool, size=int(mask.sum()))
    return out


# --------------------------------------------------------------------------------------------------
# Sessions: a vectorised Markov walk over items
# --------------------------------------------------------------------------------------------------

CODE = {name: i for i, name in enumerate(EVENT_TYPES)}


@dataclass
class DayContext:
    """Everything a day's sessions read: catalogue, samplers, stock, users, and the random stream."""

    cat: Catalogue
    sampler: LeafSampler
    in_stock: np.ndarray
    users: Users
    rng: np.random.Generator
    session_steps: float


@dataclass
class EventBlock:
    """Events of a batch of sessions, before they are placed in time (offsets from session start).

    A search row carries the item its results led to in `item`: the query is written from that item's
    leaf and the item id is blanked when the file is written.
    """

    session: list[np.ndarray] = field(default_factory=list)
    offset: list[np.ndarray] = field(default_factory=list)
    item: list[np.ndarray] = field(default_factory=list)
    code: list[np.ndarray] = field(default_factory=list)

    def add(self, session: np.ndarray, offset: np.ndarray, item: np.ndarray, code: int | np.ndarray) -> None:
        self.session.append(session)
        self.offset.append(offset)
        self.item.append(item)
        self.code.append(np.broadcast_to(np.asarray(code, dtype=np.int8), session.shape))

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        if not self.session:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty, empty, empty.astype(np.int8)
        return (
            np.concatenate(self.session),
            np.concatenate(self.offset),
            np.concatenate(self.item),
            np.concatenate(self.code),
        )


def _next_items(
    ctx: DayContext, prev: np.ndarray, carted: np.ndarray, users: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """One Markov step: complement / same leaf / another interest leaf / global popular.

    Returns the next items and whether each was reached through a search (interest switches only).
    """
    rng, cat, b = ctx.rng, ctx.cat, BEHAVIOUR
    probs = np.where(carted[:, None], np.array(b.after_cart), np.array(b.after_view))
    kind = (np.cumsum(probs, axis=1) < rng.random(len(prev))[:, None]).sum(axis=1)
    nxt = np.empty(len(prev), dtype=np.int64)
    searched = np.zeros(len(prev), dtype=bool)

    comp = kind == 0
    pick = np.searchsorted(np.cumsum(b.complement_pick), rng.random(int(comp.sum())) * sum(b.complement_pick))
    nxt[comp] = cat.complements[prev[comp], np.minimum(pick, cat.complements.shape[1] - 1)]

    same = kind == 1
    leaves = cat.item_leaf[prev[same]]
    drawn = ctx.sampler.in_leaf(leaves, rng)
    again = drawn == prev[same]  # a different item of the same leaf, if one more draw finds it
    drawn[again] = ctx.sampler.in_leaf(leaves[again], rng)
    nxt[same] = drawn

    switch = kind == 2
    nxt[switch] = ctx.sampler.in_leaf(ctx.users.pick_interest(users[switch], rng), rng)
    searched[switch] = rng.random(int(switch.sum())) < b.search_on_switch

    anywhere = kind == 3
    nxt[anywhere] = ctx.sampler.anywhere(int(anywhere.sum()), rng)
    return nxt, searched


def _first_items(ctx: DayContext, users: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A session either continues from the user's last item or starts fresh in an interest leaf."""
    rng, u = ctx.rng, ctx.users
    last = u.last_item[users]
    cont = (last >= 0) & (rng.random(len(users)) < BEHAVIOUR.continue_session)
    items = np.empty(len(users), dtype=np.int64)
    searched = np.zeros(len(users), dtype=bool)
    items[cont], searched[cont] = _next_items(ctx, last[cont], u.last_carted[users[cont]], users[cont])
    fresh = ~cont
    items[fresh] = ctx.sampler.in_leaf(u.pick_interest(users[fresh], rng), rng)
    searched[fresh] = rng.random(int(fresh.sum())) < BEHAVIOUR.search_on_start
    return items, searched


def _emit_step(
    ctx: DayContext, block: EventBlock, sess: np.ndarray, items: np.ndarray, searched: np.ndarray, clock: np.ndarray
) -> np.ndarray:
    """Log one step of the given sessions at their clocks: [search], view/click, [fav], [cart [purchase]].

    Returns whether each item was carted; advances `clock` in place past the step.
    """
    rng, b, n = ctx.rng, BEHAVIOUR, len(sess)
    t = clock[sess].copy()
    s = searched
    block.add(sess[s], t[s], items[s], CODE["search"])
    t[s] += rng.integers(8, 40, int(s.sum()))
    clicked = s | (rng.random(n) < b.click)
    block.add(sess, t.copy(), items, np.where(clicked, CODE["click"], CODE["view"]).astype(np.int8))

    fav = rng.random(n) < b.fav
    t[fav] += rng.integers(5, 40, int(fav.sum()))
    block.add(sess[fav], t[fav], items[fav], CODE["fav"])

    cart = (rng.random(n) < b.cart) & ctx.in_stock[items]
    t[cart] += rng.integers(10, 90, int(cart.sum()))
    block.add(sess[cart], t[cart], items[cart], CODE["cart"])
    buy = cart & (rng.random(n) < b.purchase_after_cart)
    t[buy] += rng.integers(30, 240, int(buy.sum()))
    block.add(sess[buy], t[buy], items[buy], CODE["purchase"])

    clock[sess] = t + 3 + rng.exponential(45.0, n).astype(np.int64)
    return cart


def _simulate_sessions(ctx: DayContext, users: np.ndarray) -> tuple[EventBlock, np.ndarray, np.ndarray, np.ndarray]:
    """Walk one session per given user. Returns events, each session's duration, last item and cart flag."""
    rng, n = ctx.rng, len(users)
    steps = np.minimum(rng.geometric(1.0 / ctx.session_steps, n), BEHAVIOUR.max_steps)
    block = EventBlock()
    clock = np.zeros(n, dtype=np.int64)
    items, searched = _first_items(ctx, users)
    carted = np.zeros(n, dtype=bool)
    for step in range(int(steps.max(initial=0))):
        alive = np.flatnonzero(steps > step)
        if step > 0:
            items[alive], searched[alive] = _next_items(ctx, items[alive], carted[alive], users[alive])
        carted[alive] = _emit_step(ctx, block, alive, items[alive], searched[alive], clock)
    return block, clock, items, carted


# Relative traffic by UTC hour: quiet nights, a lunch bump and an evening peak.
HOURLY_TRAFFIC = np.array([2, 1, 1, 1, 1, 2, 3, 5, 6, 6, 6, 7, 8, 7, 6, 6, 6, 7, 8, 10, 11, 10, 7, 4], dtype=float)


def _first_starts(durations: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Start second of each first session by the hourly traffic curve, pulled back so it ends in the day."""
    hour = rng.choice(24, size=len(durations), p=HOURLY_TRAFFIC / HOURLY_TRAFFIC.sum())
    start = hour * 3600 + rng.integers(0, 3600, len(durations))
    return np.maximum(0, np.minimum(start, DAY_SECONDS - 1 - durations))


@dataclass
class DayEvents:
    """A day's events in time order (seconds since midnight UTC)."""

    user: np.ndarray
    item: np.ndarray  # for searches: the item the search led to (see EventBlock)
    code: np.ndarray
    second: np.ndarray
    session: np.ndarray  # global session number


def _simulate_day(ctx: DayContext, first_session: int) -> DayEvents:
    """Active users get a session, a few a second one later that day; sessions that would run past
    midnight are dropped. User state (last item) is updated session by session."""
    rng, u = ctx.rng, ctx.users
    first = np.flatnonzero(rng.random(len(u.activity)) < u.activity)
    second = first[rng.random(len(first)) < BEHAVIOUR.second_session]
    ended = np.zeros(len(u.activity), dtype=np.int64)
    parts: list[tuple[np.ndarray, ...]] = []
    n = len(u.activity)  # session keys: round * n + position in the round
    for round_users in (first, second):
        block, durations, last, carted = _simulate_sessions(ctx, round_users)
        if round_users is first:
            start = _first_starts(durations, rng)
        else:
            start = ended[round_users] + 600 + rng.exponential(3 * 3600.0, len(round_users)).astype(np.int64)
        keep = start + durations < DAY_SECONDS
        kept_users = round_users[keep]
        ended[kept_users] = start[keep] + durations[keep]
        u.last_item[kept_users], u.last_carted[kept_users] = last[keep], carted[keep]
        sess, offset, item, code = block.arrays()
        ok = keep[sess]
        sess = sess[ok]
        parts.append((round_users[sess], item[ok], code[ok], start[sess] + offset[ok], sess + len(parts) * n))
    user, item, code, second_of_day, session = (np.concatenate(cols) for cols in zip(*parts, strict=True))
    order = np.lexsort((np.arange(len(user)), session, second_of_day))
    # Number sessions globally in the order they start.
    _, first_seen, local = np.unique(session[order], return_index=True, return_inverse=True)
    rank = np.empty(len(first_seen), dtype=np.int64)
    rank[np.argsort(first_seen, kind="stable")] = np.arange(len(first_seen))
    return DayEvents(user[order], item[order], code[order], second_of_day[order], first_session + rank[local])


# --------------------------------------------------------------------------------------------------
# Writing the landing files
# --------------------------------------------------------------------------------------------------


def _unix(day: date) -> int:
    return int((day - date(1970, 1, 1)).days) * DAY_SECONDS


def _iso(seconds: np.ndarray) -> np.ndarray:
    """Unix seconds -> '2026-10-01T08:15:03Z'."""
    text = np.datetime_as_string(seconds.astype("datetime64[s]"), unit="s")
    return np.array([t + "Z" for t in text.tolist()], dtype=object)


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    """Write via a temporary name and rename, so a watcher never sees half a file."""
    tmp = path.with_name(path.name + ".tmp")
    frame.to_csv(tmp, index=False, lineterminator="\n")
    os.replace(tmp, path)


def _items_frame(cat: Catalogue, stock: StockState, day: int) -> pd.DataFrame:
    """The full catalogue snapshot for a day: every item introduced so far, in item id order."""
    rows = np.flatnonzero(cat.item_intro <= day)
    prices = stock.prices(cat)[rows]
    leaf_path = np.array(cat.leaf_path, dtype=object)
    frame = pd.DataFrame(
        {
            "item_id": cat.item_ids[rows],
            "title": cat.title[rows],
            "category": leaf_path[cat.item_leaf[rows]],
            "tags": cat.tags[rows],
            "brand": cat.brand[rows],
            "price": [f"{p:.2f}" for p in prices.tolist()],
            "in_stock": np.where(stock.in_stock[rows], "true", "false"),
            "updated_at": _iso(stock.updated_at[rows]),
        }
    )
    return frame[list(ITEM_COLUMNS)]


def _events_frame(
    cat: Catalogue,
    users: Users,
    prices: np.ndarray,
    ev: DayEvents,
    day_start: int,
    first_event: int,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Canonical events: ids in time order, blank item for searches, price paid on purchases."""
    n = len(ev.user)
    is_search = ev.code == CODE["search"]
    is_purchase = ev.code == CODE["purchase"]
    item_ids = np.where(is_search, "", cat.item_ids[ev.item])
    query = np.full(n, "", dtype=object)
    pick = rng.integers(0, cat.leaf_queries.shape[1], int(is_search.sum()))
    query[is_search] = cat.leaf_queries[cat.item_leaf[ev.item[is_search]], pick]
    value = np.full(n, "", dtype=object)
    value[is_purchase] = [f"{p:.2f}" for p in prices[ev.item[is_purchase]].tolist()]
    frame = pd.DataFrame(
        {
            "event_id": [f"e{i:09d}" for i in range(first_event, first_event + n)],
            "user_id": users.ids[ev.user],
            "item_id": item_ids,
            "event_type": np.array(EVENT_TYPES, dtype=object)[ev.code],
            "ts": _iso(day_start + ev.second),
            "session_id": [f"s{s:08d}" for s in ev.session.tolist()],
            "query": query,
            "value": value,
        }
    )
    return frame[list(EVENT_COLUMNS)]


# --------------------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------------------


def _profile(name: str) -> Profile:
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(f"unknown profile {name!r}; known: {', '.join(profile_names())}") from None


def _day_weights(cat: Catalogue, day: int) -> np.ndarray:
    """Item draw weights on a day: Zipf inside the leaf, zero before launch, boosted in the first week."""
    age = day - cat.item_intro
    boost = np.where((age < 7) & (cat.item_intro > 0), BEHAVIOUR.new_item_boost, 1.0)
    return np.where(age >= 0, cat.item_weight * boost, 0.0)


def generate_shop(profile: str, seed: int, out: Path, start: date | None = None) -> ShopSummary:
    """Write `out/<YYYY-MM-DD>/{events,items}.csv` for each day of a profile, deterministic in profile+seed.

    Existing files for the same days are replaced; other folders under `out` are left alone.
    """
    began = time.perf_counter()
    spec = _profile(profile)
    start = start or DEFAULT_START
    out = Path(out)
    cat = build_catalogue(spec, seed)
    rng = _rng(seed, 2)
    users = Users.create(spec, cat, rng)
    stock = StockState.initial(cat, start, rng)
    seen = np.zeros(spec.users, dtype=bool)
    days, events, sessions = [], 0, 0
    for d in range(spec.days):
        day = start + timedelta(days=d)
        day_start = _unix(day)
        if d > 0:
            stock.advance(cat, d, day_start, rng)
            users.drift(cat, rng)
        sampler = LeafSampler(cat.item_leaf, _day_weights(cat, d), cat.leaf_weight)
        ctx = DayContext(cat, sampler, stock.in_stock, users, rng, spec.session_steps)
        ev = _simulate_day(ctx, sessions)
        folder = out / day.isoformat()
        folder.mkdir(parents=True, exist_ok=True)
        _write_csv(_items_frame(cat, stock, d), folder / "items.csv")
        _write_csv(_events_frame(cat, users, stock.prices(cat), ev, day_start, events, rng), folder / "events.csv")
        seen[ev.user] = True
        events += len(ev.user)
        sessions = int(ev.session.max(initial=sessions - 1)) + 1
        days.append(day)
    return ShopSummary(
        profile=spec.name,
        seed=seed,
        out=out,
        days=days,
        users=int(seen.sum()),
        items=int((cat.item_intro < spec.days).sum()),
        events=events,
        last_day=days[-1],
        seconds=round(time.perf_counter() - began, 2),
    )


def main(argv: list[str] | None = None) -> None:
    """`python -m recpipeline.generate --profile demo --seed 7 --out /tmp/shop` (same defaults as the CLI)"""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", choices=profile_names(), default="demo")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--start", type=date.fromisoformat, default=None)
    args = parser.parse_args(argv)
    s = generate_shop(args.profile, args.seed, args.out, args.start)
    print(
        f"{s.profile} seed={s.seed}: {len(s.days)} days {s.days[0]}..{s.last_day}, {s.users} users, "
        f"{s.items} items, {s.events} events in {s.seconds:.1f}s -> {s.out}"
    )


if __name__ == "__main__":
    main()
