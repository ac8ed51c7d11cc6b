"""Ranking and beyond-accuracy metrics: one definition of each, shared by the DAG, the CLI and the benches.

Conventions (they hold for every function in this module):

* ``ranked[u]`` is user u's recommendation list, best first; ``relevant[u]`` the user's held-out items,
  aligned by position. Items are hashable ids (ints or strings). ``ranked`` may also be a 2-D integer
  array (users x K), which takes a vectorised path; ``relevant`` may then be a 1-D integer array (exactly
  one target per user, negative = none) or per-user collections of ints.
* Padding: ``None`` or a negative integer (faiss's -1) in a ranked list is an empty slot. It is never a hit
  and is ignored by the beyond-accuracy metrics.
* Duplicates: an item counts only at its first position in a list; later copies are never hits and are
  ignored by coverage, novelty and diversity.
* Users with no relevant items have no ground truth, so their metrics are undefined: `align` drops them,
  per-user values are 0.0 (a placeholder) and every mean skips them. ``users`` in a report is the number
  of users that entered the means.
* Fewer than K recommendations: the missing slots are misses; precision@K still divides by K.
* Means over zero evaluated users are 0.0.

Accuracy metrics are computed from a boolean hit matrix (users x width, see `hit_matrix` and `Hits`); the
scalar per-user functions (`precision_at_k` ...) are the plain-Python reference definitions.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Collection, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from recpipeline import ragged

Ranked = Sequence[Sequence[Hashable]] | np.ndarray
Relevant = Sequence[Collection[Hashable]] | np.ndarray
DEFAULT_KS = (5, 10, 20)


def _is_pad(item: Any) -> bool:
    """True for an empty slot: None or a negative integer id."""
    return item is None or (isinstance(item, int | np.integer) and item < 0)


def _as_set(items: Collection[Hashable]) -> set | frozenset:
    """The distinct non-padding items of a relevant collection."""
    if isinstance(items, set | frozenset) and not any(_is_pad(x) for x in items):
        return items
    return {x for x in items if not _is_pad(x)}


def unique_counts(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct values and their counts, by sorting (numpy 2's hash-based np.unique is far slower on
    millions of mostly distinct int64 codes)."""
    s = np.sort(np.asarray(values).ravel())
    if len(s) == 0:
        return s, np.zeros(0, dtype=np.int64)
    first = np.empty(len(s), dtype=bool)
    first[0] = True
    np.not_equal(s[1:], s[:-1], out=first[1:])
    starts = np.flatnonzero(first)
    return s[starts], np.diff(np.append(starts, len(s)))


def _check_k(k: int | None) -> None:
    if k is not None and k < 1:
        raise ValueError(f"k must be >= 1, got {k}")


def _is_int_matrix(ranked: Any) -> bool:
    return isinstance(ranked, np.ndarray) and ranked.ndim == 2 and ranked.dtype.kind in "iu"


# ---------------------------------------------------------------------------------------------------------
# Per-user reference definitions (one list, one relevant set)
# ---------------------------------------------------------------------------------------------------------


def first_hit_positions(
    ranked_list: Sequence[Hashable], relevant: Collection[Hashable], k: int | None = None
) -> list[int]:
    """0-based positions (< k) where a relevant item appears for the first time in ``ranked_list``."""
    rel = _as_set(relevant)
    if not rel:
        return []
    head = ranked_list if k is None else ranked_list[:k]
    candidates = [pos for pos, item in enumerate(head) if item in rel]
    if len(candidates) < 2:
        return candidates
    seen: set = set()
    out = []
    for pos in candidates:
        item = head[pos]
        if item not in seen:
            seen.add(item)
            out.append(pos)
    return out


def precision_at_k(ranked_list: Sequence[Hashable], relevant: Collection[Hashable], k: int) -> float:
    """Hits in the top k / k, in [0, 1]; short lists still divide by k."""
    _check_k(k)
    return len(first_hit_positions(ranked_list, relevant, k)) / k


def recall_at_k(ranked_list: Sequence[Hashable], relevant: Collection[Hashable], k: int) -> float:
    """Hits in the top k / number of distinct relevant items, in [0, 1]; 0.0 without relevant items."""
    _check_k(k)
    rel = _as_set(relevant)
    return len(first_hit_positions(ranked_list, rel, k)) / len(rel) if rel else 0.0


def ndcg_at_k(ranked_list: Sequence[Hashable], relevant: Collection[Hashable], k: int) -> float:
    """Binary-gain DCG (sum of 1/log2(pos+2) over hits, pos 0-based) / ideal DCG of min(|relevant|, k)
    hits, in [0, 1]."""
    _check_k(k)
    rel = _as_set(relevant)
    if not rel:
        return 0.0
    dcg = sum(1.0 / math.log2(p + 2) for p in first_hit_positions(ranked_list, rel, k))
    ideal = sum(1.0 / math.log2(p + 2) for p in range(min(len(rel), k)))
    return dcg / ideal


def average_precision_at_k(ranked_list: Sequence[Hashable], relevant: Collection[Hashable], k: int) -> float:
    """Sum of precision@(pos+1) at each hit position / min(|relevant|, k), in [0, 1] (AP@k, MAP's term)."""
    _check_k(k)
    rel = _as_set(relevant)
    if not rel:
        return 0.0
    hits = first_hit_positions(ranked_list, rel, k)
    return sum((n + 1) / (p + 1) for n, p in enumerate(hits)) / min(len(rel), k)


def hit_at_k(ranked_list: Sequence[Hashable], relevant: Collection[Hashable], k: int) -> float:
    """1.0 if any relevant item is in the top k, else 0.0 (hit rate's term)."""
    _check_k(k)
    return 1.0 if first_hit_positions(ranked_list, relevant, k) else 0.0


def reciprocal_rank(ranked_list: Sequence[Hashable], relevant: Collection[Hashable], k: int | None = None) -> float:
    """1 / (1-based rank of the first relevant item), anywhere in the list or within the top k; 0.0 if
    none. In [0, 1]."""
    _check_k(k)
    hits = first_hit_positions(ranked_list, relevant, k)
    return 1.0 / (hits[0] + 1) if hits else 0.0


# ---------------------------------------------------------------------------------------------------------
# Alignment and the vectorised hit matrix
# ---------------------------------------------------------------------------------------------------------


class Aligned(NamedTuple):
    """Per-user lists aligned by position, ready for the mean metrics."""

    users: list[Hashable]
    ranked: list[list[Hashable]]
    relevant: list[set]


def align(
    ranked_by_user: Mapping[Hashable, Sequence[Hashable]],
    relevant_by_user: Mapping[Hashable, Collection[Hashable]],
) -> Aligned:
    """Align dicts user -> list. The evaluated users are those of ``relevant_by_user`` with at least one
    relevant item (in its order); a user without recommendations gets an empty list (scores 0); users
    only in ``ranked_by_user`` are ignored."""
    users: list[Hashable] = []
    ranked: list[list[Hashable]] = []
    relevant: list[set] = []
    for user, rel in relevant_by_user.items():
        rel_set = set(_as_set(rel))
        if not rel_set:
            continue
        users.append(user)
        ranked.append(list(ranked_by_user.get(user, ())))
        relevant.append(rel_set)
    return Aligned(users, ranked, relevant)


def first_occurrence_mask(ranked_idx: np.ndarray) -> np.ndarray:
    """Boolean (users x K): True where the id appears for the first time in its row."""
    ranked_idx = np.asarray(ranked_idx)
    if ranked_idx.shape[1] < 2:
        return np.ones(ranked_idx.shape, dtype=bool)
    order = np.argsort(ranked_idx, axis=1, kind="stable")
    ordered = np.take_along_axis(ranked_idx, order, axis=1)
    dup_sorted = np.zeros(ranked_idx.shape, dtype=bool)
    dup_sorted[:, 1:] = ordered[:, 1:] == ordered[:, :-1]
    dup = np.empty_like(dup_sorted)
    np.put_along_axis(dup, order, dup_sorted, axis=1)
    return ~dup


def _drop_repeats(matrix: np.ndarray, ranked_idx: np.ndarray) -> None:
    """In place: keep only first occurrences among hits (only rows with 2+ hits can hold a repeat)."""
    multi = matrix.sum(axis=1) > 1
    if multi.any():
        matrix[multi] &= first_occurrence_mask(ranked_idx[multi])


def _flat_int_targets(relevant: Any, n_users: int) -> tuple[np.ndarray, np.ndarray]:
    """(user index, item id) int64 arrays of the targets (a 2-D array, or per-user collections of ints)."""
    if len(relevant) != n_users:
        raise ValueError(f"{len(relevant)} relevant sets for {n_users} users")
    return ragged.flatten(relevant)


@dataclass(frozen=True)
class Hits:
    """Boolean hit matrix (users x width; first occurrences of relevant items only) and relevant counts.

    Every method returns one value per user (0.0 for users without relevant items); `mean` averages over
    the users that have relevant items. A k beyond the width means the extra slots are misses.
    """

    matrix: np.ndarray  # bool (users x width)
    n_relevant: np.ndarray  # int64 (users,): distinct relevant items per user

    @property
    def evaluated(self) -> np.ndarray:
        """Users with ground truth: the ones every mean runs over."""
        return self.n_relevant > 0

    @property
    def n_users(self) -> int:
        return int(self.evaluated.sum())

    def mean(self, values: np.ndarray) -> float:
        """Mean of per-user ``values`` over the evaluated users (0.0 if there are none)."""
        ev = self.evaluated
        return float(values[ev].mean()) if ev.any() else 0.0

    def _hits_at(self, k: int) -> np.ndarray:
        _check_k(k)
        return self.matrix[:, :k]

    def precision(self, k: int) -> np.ndarray:
        return self._hits_at(k).sum(axis=1) / k

    def recall(self, k: int) -> np.ndarray:
        hits = self._hits_at(k).sum(axis=1)
        return np.where(self.evaluated, hits / np.maximum(self.n_relevant, 1), 0.0)

    def ndcg(self, k: int) -> np.ndarray:
        h = self._hits_at(k)
        disc = 1.0 / np.log2(np.arange(2, k + 2))
        dcg = h @ disc[: h.shape[1]]
        ideal = np.concatenate([[0.0], np.cumsum(disc)])[np.minimum(self.n_relevant, k)]
        return np.divide(dcg, ideal, out=np.zeros(len(dcg)), where=ideal > 0)

    def average_precision(self, k: int) -> np.ndarray:
        h = self._hits_at(k)
        prec = np.cumsum(h, axis=1) / np.arange(1, h.shape[1] + 1)
        denom = np.minimum(self.n_relevant, k)
        return np.divide((prec * h).sum(axis=1), denom, out=np.zeros(len(h)), where=denom > 0)

    def hit_rate(self, k: int) -> np.ndarray:
        return self._hits_at(k).any(axis=1).astype(np.float64)

    def reciprocal_rank(self, k: int | None = None) -> np.ndarray:
        """1/(rank of the first hit) within the top k, or within the whole width when k is None."""
        h = self.matrix if k is None else self._hits_at(k)
        found = h.any(axis=1)
        return np.where(found, 1.0 / (h.argmax(axis=1) + 1.0), 0.0)

    def report(self, ks: Iterable[int] = DEFAULT_KS) -> dict[str, float]:
        """The `ranking_report` dict from this matrix."""
        out: dict[str, float] = {}
        for k in ks:
            out[f"precision@{k}"] = self.mean(self.precision(k))
            out[f"recall@{k}"] = self.mean(self.recall(k))
            out[f"ndcg@{k}"] = self.mean(self.ndcg(k))
            out[f"map@{k}"] = self.mean(self.average_precision(k))
            out[f"hit_rate@{k}"] = self.mean(self.hit_rate(k))
        out["mrr"] = self.mean(self.reciprocal_rank())
        out["users"] = float(self.n_users)
        return out


def hit_matrix(ranked: Ranked, relevant: Relevant, width: int | None = None) -> Hits:
    """Build `Hits` over the first ``width`` positions (default: the longest list / all columns).

    A 2-D integer ``ranked`` array (negative = padding) takes a numpy path with integer targets (1-D array
    = one target per user, or per-user collections of ints); anything else is looped over in Python.
    """
    _check_k(width)
    if _is_int_matrix(ranked):
        r = ranked if width is None else ranked[:, :width]
        r = r.astype(np.int64, copy=False)
        n_users = r.shape[0]
        if isinstance(relevant, np.ndarray) and relevant.ndim == 1 and relevant.dtype.kind in "iu":
            if len(relevant) != n_users:
                raise ValueError(f"{len(relevant)} targets for {n_users} users")
            t = relevant.astype(np.int64)[:, None]
            matrix = (r == t) & (t >= 0)
            _drop_repeats(matrix, r)
            return Hits(matrix, (t[:, 0] >= 0).astype(np.int64))
        users, items = _flat_int_targets(relevant, n_users)
        keep = items >= 0
        users, items = users[keep], items[keep]
        modulus = int(max(r.max(initial=0), items.max(initial=0))) + 1
        targets, _ = unique_counts(users * modulus + items)
        n_rel = np.bincount(targets // modulus, minlength=n_users).astype(np.int64)
        codes = np.arange(n_users, dtype=np.int64)[:, None] * modulus + r
        pos = np.searchsorted(targets, codes).clip(max=max(len(targets) - 1, 0))
        matrix = (targets[pos] == codes) & (r >= 0) if len(targets) else np.zeros(r.shape, dtype=bool)
        _drop_repeats(matrix, r)
        return Hits(matrix, n_rel)

    if len(ranked) != len(relevant):
        raise ValueError(f"{len(ranked)} ranked lists for {len(relevant)} relevant sets")
    if width is None:
        width = max((len(r) for r in ranked), default=0) or 1
    matrix = np.zeros((len(ranked), width), dtype=bool)
    n_rel = np.zeros(len(ranked), dtype=np.int64)
    for u, (lst, rel) in enumerate(zip(ranked, relevant, strict=True)):
        rel_set = _as_set(rel)
        n_rel[u] = len(rel_set)
        for pos in first_hit_positions(lst, rel_set, width):
            matrix[u, pos] = True
    return Hits(matrix, n_rel)


def mean_precision_at_k(ranked: Ranked, relevant: Relevant, k: int) -> float:
    """Mean precision@k over users with relevant items."""
    h = hit_matrix(ranked, relevant, k)
    return h.mean(h.precision(k))


def mean_ndcg_at_k(ranked: Ranked, relevant: Relevant, k: int) -> float:
    """Mean NDCG@k over users with relevant items."""
    h = hit_matrix(ranked, relevant, k)
    return h.mean(h.ndcg(k))


def mean_reciprocal_rank(ranked: Ranked, relevant: Relevant, k: int | None = None) -> float:
    """MRR over users with relevant items; the first hit anywhere in the list, or within the top k."""
    h = hit_matrix(ranked, relevant, k)
    return h.mean(h.reciprocal_rank(k))


def ranking_report(ranked: Ranked, relevant: Relevant, ks: Iterable[int] = DEFAULT_KS) -> dict[str, float]:
    """``precision@k, recall@k, ndcg@k, map@k, hit_rate@k`` for each k, ``mrr`` (whole list) and ``users``
    (number of users with relevant items, i.e. the ones averaged over)."""
    return hit_matrix(ranked, relevant).report(ks)


# ---------------------------------------------------------------------------------------------------------
# Leave-one-out fast path: exactly one target per user
# ---------------------------------------------------------------------------------------------------------


def single_target_ranks(ranked_idx: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """0-based rank (float) of each user's target in its row: first occurrence; inf if absent from the row;
    nan if the target is negative (no ground truth: skipped by `single_target_report`)."""
    ranked_idx = np.asarray(ranked_idx)
    targets = np.asarray(targets, dtype=np.int64)
    eq = ranked_idx == targets[:, None]
    ranks = np.where(eq.any(axis=1), eq.argmax(axis=1), np.inf).astype(np.float64)
    ranks[targets < 0] = np.nan
    return ranks


def single_target_report(ranks: np.ndarray, ks: Iterable[int] = DEFAULT_KS) -> dict[str, float]:
    """`ranking_report` from target ranks: HR@k = recall@k = mean(rank < k), precision@k = HR@k / k,
    NDCG@k = mean(1/log2(rank+2) if rank < k), MAP@k = mean(1/(rank+1) if rank < k),
    MRR = mean(1/(rank+1)) (0 for an absent target)."""
    ranks = np.asarray(ranks, dtype=np.float64)
    ranks = ranks[~np.isnan(ranks)]
    n = len(ranks)
    found = np.isfinite(ranks)
    rr = np.zeros(n)
    rr[found] = 1.0 / (ranks[found] + 1.0)
    gain = np.zeros(n)
    gain[found] = 1.0 / np.log2(ranks[found] + 2.0)

    def mean(x: np.ndarray) -> float:
        return float(x.mean()) if n else 0.0

    out: dict[str, float] = {}
    for k in ks:
        _check_k(k)
        inside = ranks < k
        hr = mean(inside.astype(np.float64))
        out[f"precision@{k}"] = hr / k
        out[f"recall@{k}"] = hr
        out[f"ndcg@{k}"] = mean(np.where(inside, gain, 0.0))
        out[f"map@{k}"] = mean(np.where(inside, rr, 0.0))
        out[f"hit_rate@{k}"] = hr
    out["mrr"] = mean(rr)
    out["users"] = float(n)
    return out


# ---------------------------------------------------------------------------------------------------------
# Beyond accuracy
# ---------------------------------------------------------------------------------------------------------


def _flatten(ranked: Ranked) -> tuple[np.ndarray, Sequence[Hashable] | np.ndarray]:
    """(user index, item) of every first occurrence of a non-padding item, grouped by user in order."""
    if _is_int_matrix(ranked):
        keep = (ranked >= 0) & first_occurrence_mask(ranked)
        users, cols = np.nonzero(keep)
        return users.astype(np.int64), ranked[users, cols].astype(np.int64)
    users: list[int] = []
    items: list[Hashable] = []
    for u, lst in enumerate(ranked):
        seen: set = set()
        for x in lst:
            if x in seen or _is_pad(x):
                continue
            seen.add(x)
            users.append(u)
            items.append(x)
    return np.asarray(users, dtype=np.int64), items


def _lookup(items: Sequence[Hashable] | np.ndarray, keys: Sequence[Hashable]) -> np.ndarray:
    """Index of each item in the distinct ``keys`` (-1 if absent)."""
    key_arr = np.asarray(keys) if not isinstance(keys, np.ndarray) else keys
    if isinstance(items, np.ndarray) and items.dtype.kind in "iu" and key_arr.dtype.kind in "iu":
        if len(key_arr) == 0 or len(items) == 0:
            return np.full(len(items), -1, dtype=np.int64)
        lo, hi = int(key_arr.min()), int(key_arr.max())
        if hi - lo < 4 * (len(key_arr) + len(items)) + 2**20:  # dense ids: a direct lookup table
            table = np.full(hi - lo + 1, -1, dtype=np.int64)
            table[key_arr.astype(np.int64) - lo] = np.arange(len(key_arr))
            inside = (items >= lo) & (items <= hi)
            out = np.full(len(items), -1, dtype=np.int64)
            out[inside] = table[items[inside].astype(np.int64) - lo]
            return out
        if len(key_arr) > 1 and bool((key_arr[1:] > key_arr[:-1]).all()):
            sorter, sorted_keys = None, key_arr
        else:
            sorter = np.argsort(key_arr, kind="stable")
            sorted_keys = key_arr[sorter]
        pos = np.searchsorted(sorted_keys, items).clip(max=len(key_arr) - 1)
        idx = pos if sorter is None else sorter[pos]
        return np.where(key_arr[idx] == items, idx, -1).astype(np.int64)
    index = {k: i for i, k in enumerate(keys)}
    return np.fromiter((index.get(x, -1) for x in items), dtype=np.int64, count=len(items))


def _distinct(catalog: Iterable[Hashable]) -> list[Hashable] | np.ndarray:
    if isinstance(catalog, np.ndarray):
        return unique_counts(catalog)[0]
    return list(dict.fromkeys(catalog))


def recommendation_counts(ranked: Ranked, catalog: Iterable[Hashable]) -> np.ndarray:
    """How many lists recommend each distinct catalogue item (catalogue order; sorted if an array), zeros
    included. Recommended items outside the catalogue are ignored."""
    keys = _distinct(catalog)
    _, items = _flatten(ranked)
    idx = _lookup(items, keys)
    return np.bincount(idx[idx >= 0], minlength=len(keys)).astype(np.int64)


def catalog_coverage(ranked: Ranked, catalog: Iterable[Hashable]) -> float:
    """Distinct recommended catalogue items / catalogue size, in [0, 1]; 0.0 for an empty catalogue.
    The catalogue (sellable items) is passed explicitly; recommendations outside it do not count."""
    counts = recommendation_counts(ranked, catalog)
    return float((counts > 0).mean()) if len(counts) else 0.0


def gini_index(counts: Sequence[float] | np.ndarray) -> float:
    """Gini of a count distribution: 0 = perfectly even, up to 1 - 1/n when one entry holds everything;
    0.0 for empty or all-zero input."""
    x = np.sort(np.asarray(counts, dtype=np.float64))
    n, total = len(x), x.sum()
    if n == 0 or total <= 0:
        return 0.0
    i = np.arange(1, n + 1)
    return float((2.0 * (i * x).sum()) / (n * total) - (n + 1.0) / n)


def shannon_entropy(counts: Sequence[float] | np.ndarray) -> float:
    """Entropy in bits of the distribution counts/sum, in [0, log2(n)]; 0.0 for empty or all-zero input."""
    x = np.asarray(counts, dtype=np.float64)
    total = x.sum()
    if total <= 0:
        return 0.0
    p = x[x > 0] / total
    return float(-(p * np.log2(p)).sum() + 0.0)


def distributional_coverage(ranked: Ranked, catalog: Iterable[Hashable]) -> dict[str, float]:
    """``gini`` and ``entropy`` (bits) of recommendation counts over the whole catalogue (never-recommended
    items count as zeros), plus ``coverage`` (`catalog_coverage`)."""
    return count_distribution(recommendation_counts(ranked, catalog))


def count_distribution(counts: np.ndarray) -> dict[str, float]:
    """``coverage``, ``gini`` and ``entropy`` of per-item recommendation counts (see distributional_coverage)."""
    return {
        "coverage": float((counts > 0).mean()) if len(counts) else 0.0,
        "gini": gini_index(counts),
        "entropy": shannon_entropy(counts),
    }


def _per_user_mean(users: np.ndarray, values: np.ndarray) -> float:
    """Mean over users of the mean of their values (users without values skipped); 0.0 if none."""
    if len(users) == 0:
        return 0.0
    sums = np.bincount(users, weights=values)
    counts = np.bincount(users)
    has = counts > 0
    return float((sums[has] / counts[has]).mean())


def _int_arrays(users: Any, items: Any) -> bool:
    """Integer arrays whose (item, user) pair codes fit in int64."""
    if not all(isinstance(a, np.ndarray) and a.dtype.kind in "iu" for a in (users, items)):
        return False
    if len(users) == 0 or len(items) == 0:
        return True
    span = int(users.max()) - int(users.min()) + 1
    return (int(items.max()) - int(items.min()) + 1) * span < 2**62


def novelty(ranked: Ranked, train_users: Sequence[Hashable], train_items: Sequence[Hashable]) -> float:
    """Mean self-information -log2 p(i) of recommended items (per list, then over non-empty lists).

    p(i) = (u_i + 1) / (N + 1): u_i distinct training users who interacted with i, N distinct training
    users. Add-one smoothing gives never-interacted items the floor p = 1/(N+1) (the maximum novelty,
    log2(N+1) bits) instead of infinity; an item every user touched scores 0. Range [0, log2(N+1)].
    """
    if _int_arrays(train_users, train_items):
        if len(train_users) != len(train_items):
            raise ValueError("train_users and train_items must be aligned")
        u = train_users.astype(np.int64) - train_users.min(initial=0)
        i = train_items.astype(np.int64)
        i_min = int(i.min(initial=0))
        span = int(u.max(initial=0)) + 1
        pairs, _ = unique_counts((i - i_min) * span + u)  # distinct (item, user), sorted by item
        keys, n_item_users = unique_counts(pairs // span)
        keys = keys + i_min
        n_users = len(unique_counts(u)[0])
    else:
        if len(train_users) != len(train_items):
            raise ValueError("train_users and train_items must be aligned")
        pairs_set = set(zip(train_users, train_items, strict=True))
        n_users = len({u for u, _ in pairs_set})
        per_item = Counter(i for _, i in pairs_set)
        keys = list(per_item)
        n_item_users = np.fromiter(per_item.values(), dtype=np.int64, count=len(per_item))
    users, items = _flatten(ranked)
    idx = _lookup(items, keys)
    u_i = np.where(idx >= 0, n_item_users[np.maximum(idx, 0)] if len(keys) else 0, 0)
    info = -np.log2((u_i + 1.0) / (n_users + 1.0)) + 0.0
    return _per_user_mean(users, info)


def _item_rows(items: Sequence[Hashable] | np.ndarray, table: Mapping[Hashable, Any] | np.ndarray) -> tuple:
    """(row index per item, -1 if unknown; stacked table values) for a Mapping or an array indexed by id."""
    if isinstance(table, Mapping):
        keys = list(table)
        return _lookup(items, keys), [table[k] for k in keys]
    arr = np.asarray(table)
    ids = np.asarray(items, dtype=np.int64) if len(items) else np.zeros(0, dtype=np.int64)
    return np.where((ids >= 0) & (ids < len(arr)), ids, -1), arr


def intra_list_diversity(
    ranked: Ranked, item_vectors: Mapping[Hashable, Sequence[float]] | np.ndarray, chunk_rows: int = 1 << 17
) -> float:
    """1 - mean pairwise cosine similarity of item vectors within a list, averaged over lists.

    ``item_vectors`` maps id -> vector, or is an array whose row i is item i's vector. Items without a vector
    (unknown id or an all-zero vector, e.g. a padding row) are ignored; lists with fewer than two vectors are
    skipped; 0.0 if no list qualifies. Range [0, 2] ([0, 1] for non-negative vectors).
    """
    users, items = _flatten(ranked)
    rows, table = _item_rows(items, item_vectors)
    vecs = np.asarray(table, dtype=np.float64)
    if vecs.ndim != 2 or len(vecs) == 0:
        return 0.0
    norms = np.linalg.norm(vecs, axis=1)
    # unit vectors plus one zero row (index len(vecs)) for empty slots
    unit = np.zeros((len(vecs) + 1, vecs.shape[1]))
    np.divide(vecs, norms[:, None], out=unit[:-1], where=norms[:, None] > 0)
    keep = rows >= 0
    keep[keep] = norms[rows[keep]] > 0
    users, rows = users[keep], rows[keep]
    if len(users) == 0:
        return 0.0
    # lists as a padded (lists x longest) matrix of unit-vector rows
    starts = np.flatnonzero(np.r_[True, users[1:] != users[:-1]])
    sizes = np.diff(np.append(starts, len(users)))
    slot = np.arange(len(users)) - np.repeat(starts, sizes)
    padded = np.full((len(starts), int(sizes.max())), len(vecs), dtype=np.int64)
    padded[np.repeat(np.arange(len(starts)), sizes), slot] = rows
    pair_sum = np.empty(len(starts))
    step = max(1, chunk_rows // padded.shape[1])
    for a in range(0, len(starts), step):
        summed = unit[padded[a : a + step]].sum(axis=1)
        # sum over ordered pairs i != j of cos = |sum of unit vectors|^2 - number of vectors
        pair_sum[a : a + step] = np.einsum("ij,ij->i", summed, summed) - sizes[a : a + step]
    ok = sizes >= 2
    if not ok.any():
        return 0.0
    mean_cos = pair_sum[ok] / (sizes[ok] * (sizes[ok] - 1.0))
    return float((1.0 - mean_cos).mean())


def category_diversity(ranked: Ranked, item_category: Mapping[Hashable, Hashable] | np.ndarray) -> float:
    """Share of item pairs within a list whose categories differ, averaged over lists, in [0, 1].

    ``item_category`` maps id -> category (or is an array indexed by id). Items without a category (unknown
    or None) are ignored; lists with fewer than two categorised items are skipped; 0.0 if none qualifies.
    """
    users, items = _flatten(ranked)
    rows, table = _item_rows(items, item_category)
    cat_codes: dict[Hashable, int] = {}
    codes_of_rows = np.fromiter(
        (-1 if c is None else cat_codes.setdefault(c, len(cat_codes)) for c in table),
        dtype=np.int64,
        count=len(table),
    )
    cats = np.where(rows >= 0, codes_of_rows[np.maximum(rows, 0)] if len(table) else -1, -1)
    keep = cats >= 0
    users, cats = users[keep], cats[keep]
    if len(users) == 0:
        return 0.0
    n_users = int(users.max()) + 1
    sizes = np.bincount(users, minlength=n_users).astype(np.float64)
    n_cats = max(len(cat_codes), 1)
    groups, counts = unique_counts(users * n_cats + cats)
    same = np.bincount(groups // n_cats, weights=counts * (counts - 1) / 2.0, minlength=n_users)
    ok = sizes >= 2
    if not ok.any():
        return 0.0
    pairs = sizes[ok] * (sizes[ok] - 1) / 2.0
    return float((1.0 - same[ok] / pairs).mean())


# ---------------------------------------------------------------------------------------------------------
# Uncertainty
# ---------------------------------------------------------------------------------------------------------


def bootstrap_intervals(
    values: np.ndarray, resamples: int = 200, level: float = 0.95, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Percentile-bootstrap confidence intervals of the column means of ``values`` (users x metrics).

    Users are resampled with replacement, the same resamples for every column (so intervals of metrics on the
    same users are comparable); resample r's means are ``counts_r @ values / n`` with counts_r the multinomial
    draw, one matrix product for all columns. Deterministic for a seed; (nan, nan) columns without users.
    """
    values = np.asarray(values, dtype=np.float64)
    n = values.shape[0]
    if n == 0:
        empty = np.full(values.shape[1], np.nan)
        return empty, empty.copy()
    rng = np.random.default_rng(seed)
    counts = np.stack([np.bincount(rng.integers(0, n, n), minlength=n) for _ in range(resamples)])
    means = counts.astype(np.float64) @ values / n
    tail = (1.0 - level) / 2.0
    return np.quantile(means, tail, axis=0), np.quantile(means, 1.0 - tail, axis=0)
