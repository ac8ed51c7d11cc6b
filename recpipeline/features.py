"""Feature extraction: per-item content inputs and per-user behaviour sequences, keyed by ds.

Items get a dense index (1..n in item_id order; 0 is padding) per ds. Repairs for features (documented in
README): missing prices are filled with the category median, outliers are clipped by the IQR rule within
their category, text is NFKC-normalised, lower-cased and whitespace-collapsed; the number of values each
rule touched goes to `dq.repairs`.
"""

from __future__ import annotations

import io
import logging
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np

from recpipeline import db
from recpipeline.config import Settings
from recpipeline.days import day_bounds
from recpipeline.events import CATEGORY_SEPARATOR, EVENT_TYPES, ITEM_EVENTS, TAG_SEPARATOR
from recpipeline.pgbinary import HEADER, PG_EPOCH, TRAILER

if TYPE_CHECKING:  # pandas is imported where frames are built, not when the DAG file is parsed
    import pandas as pd

log = logging.getLogger(__name__)
PRICE_BUCKETS = 10
MAX_CONTENT_TOKENS = 32
_WORD = re.compile(r"\w+", re.UNICODE)


def normalise_text(text: str | None) -> str:
    """NFKC, lower case, collapsed whitespace: the one text normalisation features use."""
    if not text:
        return ""
    return " ".join(unicodedata.normalize("NFKC", text).lower().split())


def tokens(text: str | None) -> list[str]:
    return _WORD.findall(normalise_text(text))


def repair_prices(frame: pd.DataFrame) -> tuple[pd.Series, dict[str, int]]:
    """Fill missing prices from the category median and clip outliers by 1.5 IQR within each category."""
    price = frame["price"].astype(float)
    category = frame["category"].fillna("")
    missing = price.isna()
    by_cat = price.groupby(category).transform("median")
    filled = price.fillna(by_cat).fillna(price.median() if price.notna().any() else 0.0)
    q1 = filled.groupby(category).transform(lambda s: s.quantile(0.25))
    q3 = filled.groupby(category).transform(lambda s: s.quantile(0.75))
    low, high = q1 - 1.5 * (q3 - q1), q3 + 1.5 * (q3 - q1)
    clipped = filled.clip(lower=low, upper=high)
    touched = {
        "price_filled_from_category_median": int(missing.sum()),
        "price_clipped_iqr": int(((clipped != filled) & filled.notna()).sum()),
    }
    return clipped, touched


def price_buckets(price: pd.Series) -> np.ndarray:
    """Deciles of price over the catalogue, 1..PRICE_BUCKETS (0 only for an empty catalogue)."""
    if price.empty:
        return np.zeros(0, dtype=np.int16)
    ranks = price.rank(method="first", pct=True).to_numpy()
    return np.minimum(np.ceil(ranks * PRICE_BUCKETS), PRICE_BUCKETS).astype(np.int16)


def item_feature_frame(catalogue: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, int]]:
    """features.items rows from the validated catalogue (sorted by item_id)."""
    price, touched = repair_prices(catalogue)
    text_changed = 0
    title_tokens, category_paths, tag_lists, brands = [], [], [], []
    for title, category, tags, brand in zip(
        catalogue["title"], catalogue["category"], catalogue["tags"], catalogue["brand"], strict=True
    ):
        text_changed += normalise_text(title) != title
        title_tokens.append(tokens(title))
        levels = (category or "").split(CATEGORY_SEPARATOR.strip())
        category_paths.append([normalise_text(c) for c in levels if c.strip()])
        tag_lists.append([normalise_text(t) for t in (tags or []) if t])
        brands.append(normalise_text(brand) or None)
    touched["text_normalised"] = int(text_changed)
    import pandas as pd

    frame = pd.DataFrame(
        {
            "item_idx": np.arange(1, len(catalogue) + 1),
            "item_id": catalogue["item_id"].to_numpy(),
            "title_tokens": [pg_text_array(t) for t in title_tokens],
            "category_path": [pg_text_array(c) for c in category_paths],
            "tags": [pg_text_array(t) for t in tag_lists],
            "brand": brands,
            "price": price.to_numpy(),
            "price_bucket": price_buckets(price),
            "in_stock": catalogue["in_stock"].to_numpy(),
        }
    )
    return frame, touched


def pg_text_array(values: list[str]) -> str:
    """A PostgreSQL text[] literal with every element quoted (safe for commas, quotes, braces)."""
    quoted = ('"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values)
    return "{" + ",".join(quoted) + "}"


def read_catalogue(cur, ds: date) -> pd.DataFrame:
    """The day's validated catalogue (features_catalogue) read with COPY; tags as lists, in_stock as bool."""
    text = {c: str for c in ("item_id", "title", "category", "tags", "brand", "in_stock")}
    frame = db.copy_out_frame(cur, "features_catalogue", {"ds": ds}, {**text, "price": float}, nullable=("price",))
    frame["tags"] = frame["tags"].str.split(TAG_SEPARATOR)
    frame["in_stock"] = frame["in_stock"].eq("t")
    return frame


def _lists(column: pd.Series, sep: str) -> list[list[str]]:
    """Joined arrays back into lists ('' is the empty array)."""
    return [v.split(sep) if v else [] for v in column.tolist()]


def _numbers(column: pd.Series, dtype: type) -> np.ndarray:
    """Space-separated integers of every row, concatenated in row order (numpy's C parser)."""
    return np.fromstring(" ".join(column.tolist()), dtype=dtype, sep=" ")


def build_features(url: str, ds: date, settings: Settings) -> dict[str, int]:
    """Replace the day's features.items and features.user_sequences in one transaction."""
    window_start = ds - timedelta(days=settings.history_days - 1)
    _, day_end = day_bounds(ds)
    with db.connect(url) as conn, conn.cursor() as cur:
        db.execute(cur, "features_clear_day", {"ds": ds})
        catalogue = read_catalogue(cur, ds)
        if catalogue.empty:
            raise RuntimeError(f"no validated catalogue for {ds}: run data_quality for {ds} first")
        frame, touched = item_feature_frame(catalogue)
        frame.insert(0, "ds", ds)
        db.copy_frame(cur, "features.items", frame)
        db.execute(cur, "features_analyze_items")  # the sequences join below reads the rows just copied
        for rule, n in touched.items():
            db.execute(cur, "features_record_repair", {"ds": ds, "rule": rule, "touched": n})
        db.execute(
            cur,
            "features_build_sequences",
            {
                "ds": ds,
                "window_start": window_start,
                "day_end": day_end,
                "event_types": list(EVENT_TYPES),
                "item_events": list(ITEM_EVENTS),
            },
        )
        users = cur.rowcount
        cur.execute("SELECT coalesce(sum(cardinality(item_idx)), 0) FROM features.user_sequences WHERE ds = %s", (ds,))
        interactions = int(cur.fetchone()[0])
    summary = {"items": len(frame), "users": users, "interactions": interactions, **touched}
    log.info("features for %s: %s", ds, ", ".join(f"{k} {v:,}" for k, v in summary.items()))
    return summary


@dataclass
class ItemTable:
    """The day's catalogue as model inputs; arrays are indexed by item_idx (row 0 = padding)."""

    item_ids: np.ndarray  # (n+1,) object, item_ids[0] = ""
    in_stock: np.ndarray  # (n+1,) bool, False at 0
    content_tokens: np.ndarray  # (n+1, T) int32 ids into vocab, 0 = pad
    vocab: list[str]  # token strings; id i -> vocab[i - 1]
    _index: dict[str, int] | None = field(default=None, repr=False)

    @property
    def n_items(self) -> int:
        return len(self.item_ids) - 1

    @property
    def index(self) -> dict[str, int]:
        """item id -> dense index in this catalogue (built once)."""
        if self._index is None:
            self._index = {item_id: i for i, item_id in enumerate(self.item_ids) if i}
        return self._index

    def indices(self, ids: Sequence[str] | np.ndarray) -> np.ndarray:
        """Dense index of each item id in this catalogue (0, the padding row, where it is not in it)."""
        index = self.index
        return np.fromiter((index.get(i, 0) for i in ids), dtype=np.int64, count=len(ids))


def content_tokens(row: Mapping[str, Any]) -> list[str]:
    """The item tower's content vocabulary: title words, category levels, tags, brand, price bucket."""
    out = [f"t:{t}" for t in row["title_tokens"]]
    path = row["category_path"]
    out += [f"c{i}:{CATEGORY_SEPARATOR.join(path[: i + 1])}" for i in range(len(path))]
    out += [f"g:{t}" for t in row["tags"]]
    if row["brand"]:
        out.append(f"b:{row['brand']}")
    out.append(f"p:{row['price_bucket']}")
    return out[:MAX_CONTENT_TOKENS]


def load_item_table(url: str, ds: date, vocab: list[str] | None = None) -> ItemTable:
    """Read features.items; with a saved `vocab` (from a trained model) unseen tokens map to padding."""
    text = {c: str for c in ("item_id", "title_tokens", "category_path", "tags", "brand", "in_stock")}
    with db.connect(url) as conn, conn.cursor() as cur:
        frame = db.copy_out_frame(
            cur, "features_load_items", {"ds": ds}, {**text, "item_idx": int, "price_bucket": int}
        )
    if frame.empty:
        raise RuntimeError(f"no item features for {ds}: run the features task for {ds} first")
    for column in ("title_tokens", "category_path", "tags"):
        frame[column] = _lists(frame[column], "\x1f")
    frame["in_stock"] = frame["in_stock"].eq("t")
    per_item = [content_tokens(row) for row in frame.to_dict("records")]
    if vocab is None:
        vocab = sorted({t for toks in per_item for t in toks})
    index = {t: i + 1 for i, t in enumerate(vocab)}
    width = max(1, max(len(t) for t in per_item))
    matrix = np.zeros((len(frame) + 1, width), dtype=np.int32)
    for row, toks in enumerate(per_item, start=1):
        ids = [index[t] for t in toks if t in index]
        matrix[row, : len(ids)] = ids
    return ItemTable(
        item_ids=np.concatenate([[""], frame["item_id"].to_numpy(dtype=object)]),
        in_stock=np.concatenate([[False], frame["in_stock"].to_numpy(dtype=bool)]),
        content_tokens=matrix,
        vocab=vocab,
    )


@dataclass
class Sequences:
    """Users' chronological interactions (dense item indices, event codes, unix seconds)."""

    user_ids: list[str]
    items: list[np.ndarray]
    events: list[np.ndarray]
    ts: list[np.ndarray]

    def split_at(self, cutoff_epoch: int) -> tuple[Sequences, Sequences]:
        """(before, from) `cutoff_epoch` for every user, in user order (a part may be empty)."""
        before, after = Sequences([], [], [], []), Sequences([], [], [], [])
        for u, it, ev, t in zip(self.user_ids, self.items, self.events, self.ts, strict=True):
            n = int(np.searchsorted(t, cutoff_epoch, side="left"))
            for part, sl in ((before, slice(None, n)), (after, slice(n, None))):
                part.user_ids.append(u)
                part.items.append(it[sl])
                part.events.append(ev[sl])
                part.ts.append(t[sl])
        return before, after

    def before(self, cutoff_epoch: int, min_len: int = 1) -> Sequences:
        """The part of each sequence strictly before `cutoff_epoch`; users with < min_len left are dropped."""
        return self.split_at(cutoff_epoch)[0].longer_than(min_len - 1)

    def longer_than(self, n: int) -> Sequences:
        """The users with more than `n` interactions."""
        keep = [i for i, it in enumerate(self.items) if len(it) > n]
        return Sequences(
            [self.user_ids[i] for i in keep],
            [self.items[i] for i in keep],
            [self.events[i] for i in keep],
            [self.ts[i] for i in keep],
        )

    def __len__(self) -> int:
        return len(self.user_ids)


def load_sequences(url: str, ds: date, shard: int = 0, shards: int = 1) -> Sequences:
    """features.user_sequences of `ds` (optionally one hash shard of the users), ordered by user_id."""
    params = {"ds": ds, "shard": shard, "shards": shards}
    text = {c: str for c in ("user_id", "item_idx", "event_type", "ts")}
    with db.connect(url) as conn, conn.cursor() as cur:
        frame = db.copy_out_frame(cur, "features_load_sequences", params, {**text, "n": np.int64})
    if frame.empty:
        return Sequences([], [], [], [])
    cuts = np.cumsum(frame["n"].to_numpy())[:-1]
    return Sequences(
        user_ids=frame["user_id"].tolist(),
        items=np.split(_numbers(frame["item_idx"], np.int32), cuts),
        events=np.split(_numbers(frame["event_type"], np.int32), cuts),
        ts=np.split(_numbers(frame["ts"], np.int64), cuts),
    )


def count_active_users(url: str, ds: date, settings: Settings) -> int:
    """How many users the day scores (any event in the history window), to size the shards."""
    with db.connect(url) as conn, conn.cursor() as cur:
        db.execute(
            cur,
            "features_count_active_users",
            {"ds": ds, "window_start": ds - timedelta(days=settings.history_days - 1)},
        )
        return int(cur.fetchone()[0])


def active_users(url: str, ds: date, settings: Settings, shard: int = 0, shards: int = 1) -> list[str]:
    window_start = ds - timedelta(days=settings.history_days - 1)
    with db.connect(url) as conn, conn.cursor() as cur:
        rows = db.fetch_all(
            cur, "features_active_users", {"ds": ds, "window_start": window_start, "shard": shard, "shards": shards}
        )
    return [r[0] for r in rows]


FLOAT4_OID = 700


def _vector_copy(ds: date, model_id: str, ids: Sequence[str], vectors: np.ndarray) -> bytes:
    """Binary COPY of rows (ds, model_id, id, real[]) built column-wise with numpy (no Python work per row)."""
    if not len(ids):
        return HEADER + TRAILER
    n, dim = vectors.shape
    ds_days = (ds - PG_EPOCH).days
    mid = model_id.encode()
    fixed = np.array([4], ">i2").tobytes() + np.array([4, ds_days, len(mid)], ">i4").tobytes() + mid
    keys = [str(k).encode() for k in ids]
    lengths = np.fromiter((len(k) for k in keys), dtype=np.int64, count=n)
    array_header = np.array([20 + 8 * dim, 1, 0, FLOAT4_OID, dim, 1], ">i4").tobytes()
    cells = np.empty((n, dim), dtype=[("len", ">i4"), ("value", ">f4")])
    cells["len"], cells["value"] = 4, vectors
    block = np.concatenate(
        [np.broadcast_to(np.frombuffer(array_header, np.uint8), (n, 24)), cells.view(np.uint8).reshape(n, 8 * dim)],
        axis=1,
    )
    head = len(fixed) + 4  # the constant fields, then the id's length
    sizes = head + lengths + block.shape[1]
    starts = np.cumsum(sizes) - sizes
    out = np.empty(int(sizes.sum()), dtype=np.uint8)
    out[starts[:, None] + np.arange(len(fixed))] = np.frombuffer(fixed, np.uint8)
    out[starts[:, None] + len(fixed) + np.arange(4)] = lengths.astype(">i4").view(np.uint8).reshape(n, 4)
    key_starts = np.cumsum(lengths) - lengths
    out[np.repeat(starts + head - key_starts, lengths) + np.arange(int(lengths.sum()))] = np.frombuffer(
        b"".join(keys), np.uint8
    )
    out[(starts + head + lengths)[:, None] + np.arange(block.shape[1])] = block
    return HEADER + out.tobytes() + TRAILER


def write_item_embeddings(url: str, ds: date, model_id: str, items: ItemTable, vectors: np.ndarray) -> None:
    """Replace the model's item vectors of the day (row 0, padding, is not written)."""
    with db.connect(url) as conn, conn.cursor() as cur:
        db.execute(cur, "features_clear_item_embeddings", {"ds": ds, "model_id": model_id})
        rows = _vector_copy(ds, model_id, items.item_ids[1:], np.asarray(vectors[1:], dtype=np.float32))
        db.copy_buffer(
            cur, "features.item_embeddings", ("ds", "model_id", "item_id", "vector"), io.BytesIO(rows), binary=True
        )


def write_user_embeddings(
    url: str, ds: date, model_id: str, shard: int, shards: int, user_ids: Sequence[str], vectors: np.ndarray
) -> None:
    """Replace one user shard's vectors (same hash sharding as features_load_sequences)."""
    with db.connect(url) as conn, conn.cursor() as cur:
        db.execute(
            cur, "features_clear_user_embeddings", {"ds": ds, "model_id": model_id, "shard": shard, "shards": shards}
        )
        rows = _vector_copy(ds, model_id, user_ids, np.asarray(vectors, dtype=np.float32))
        db.copy_buffer(
            cur, "features.user_embeddings", ("ds", "model_id", "user_id", "vector"), io.BytesIO(rows), binary=True
        )
