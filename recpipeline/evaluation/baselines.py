"""Non-learned baseline algorithms, computed from training interactions only (leak-free): popularity and
item-to-item co-occurrence (trending is `recpipeline.trending`; the registry is `evaluation.registry`).

Input conventions (the model side's): items are dense int indices 1..n_items and 0 is padding (dropped
wherever it appears). Users are dense row indices 0..n_users-1, the same rows as the model's. A user's
training sequence is a 1-D int array in time order (``list[np.ndarray]``, or a 2-D 0-padded array);
``exclude`` is one collection of item ids per user (sets, lists or arrays).

Output: an int64 array (n_users x k) of item ids, best first; rows with fewer than k candidates are padded
with ``PAD`` (-1, as faiss does), which `evaluation.metrics` treats as an empty slot. Ties are broken by
item id ascending everywhere.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np

from recpipeline import ragged
from recpipeline.evaluation.metrics import unique_counts

PAD = -1


# ---------------------------------------------------------------------------------------------------------
# Shared helpers
# ---------------------------------------------------------------------------------------------------------


def rank_items(scores: np.ndarray) -> np.ndarray:
    """Item ids with a positive score, by score descending then id ascending (index 0 = padding, skipped)."""
    scores = np.asarray(scores, dtype=np.float64)
    ids = np.flatnonzero(scores > 0)
    ids = ids[ids > 0]
    return ids[np.lexsort((ids, -scores[ids]))].astype(np.int64)


def top_k_excluding(order: np.ndarray, k: int, n_users: int, ex_users: np.ndarray, ex_items: np.ndarray) -> np.ndarray:
    """Each user's first k items of the global ``order`` that are not among their excluded (user, item) pairs.

    Vectorised: with the user's excluded positions in ``order`` sorted as s_0 < s_1 < ..., the j-th
    (0-based) allowed position is j + #{i : s_i - i <= j}, which is one searchsorted for all (user, j).
    """
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    n = len(order)
    out = np.full((n_users, k), PAD, dtype=np.int64)
    if n == 0 or n_users == 0:
        return out
    if len(ex_items) == 0:
        out[:, : min(k, n)] = order[:k]
        return out
    size = int(max(order.max(), ex_items.max(initial=0))) + 1
    pos_of = np.full(size, -1, dtype=np.int64)
    pos_of[order] = np.arange(n)
    ok = (ex_items >= 0) & (ex_items < size)
    p = pos_of[ex_items[ok]]
    u = ex_users[ok]
    u, p = u[p >= 0], p[p >= 0]
    span = max(n, k) + 1
    codes, _ = unique_counts(u * n + p)  # distinct, sorted by (user, position)
    u, p = codes // n, codes % n
    group_start = np.searchsorted(u, u, side="left")
    t = p - (np.arange(len(u)) - group_start)  # non-decreasing within a user
    key = u * span + t
    rows = np.arange(n_users, dtype=np.int64)[:, None]
    j = np.arange(k, dtype=np.int64)[None, :]
    before = np.searchsorted(key, rows * span + j, side="right") - np.searchsorted(key, rows * span, side="left")
    positions = j + before
    valid = positions < n
    out[valid] = order[positions[valid]]
    return out


def _users_and_exclusions(
    exclude: Sequence[Collection[int]] | None, n_users: int | None
) -> tuple[int, np.ndarray, np.ndarray]:
    if exclude is None:
        empty = np.zeros(0, dtype=np.int64)
        return (1 if n_users is None else n_users), empty, empty
    if n_users is not None and n_users != len(exclude):
        raise ValueError(f"n_users={n_users} but {len(exclude)} exclusion sets")
    users, items = _flat(exclude)
    return len(exclude), users, items


# ---------------------------------------------------------------------------------------------------------
# Popularity and trending
# ---------------------------------------------------------------------------------------------------------


def popularity_scores(train_items: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Score per item id (index = id): interaction count, or summed weights. Index 0 (padding) scores 0."""
    items = np.asarray(train_items, dtype=np.int64)
    w = None if weights is None else np.asarray(weights, dtype=np.float64)
    keep = items > 0
    scores = np.bincount(items[keep], weights=None if w is None else w[keep]).astype(np.float64)
    return scores if len(scores) else np.zeros(1)


def popularity(
    train_items: np.ndarray,
    k: int,
    exclude: Sequence[Collection[int]] | None = None,
    *,
    weights: np.ndarray | None = None,
    n_users: int | None = None,
) -> np.ndarray:
    """Most interacted-with items (one entry of ``train_items`` per training interaction, optionally
    ``weights``), top k per user minus the user's ``exclude`` items (e.g. already seen).

    Only items with a positive score are recommended. Rows: one per exclusion set, else ``n_users``
    (default 1) identical rows. Ties by id ascending.
    """
    n, ex_users, ex_items = _users_and_exclusions(exclude, n_users)
    return top_k_excluding(rank_items(popularity_scores(train_items, weights)), k, n, ex_users, ex_items)


# ---------------------------------------------------------------------------------------------------------
# Item-to-item co-occurrence
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemNeighbors:
    """Sparse symmetric co-occurrence, CSR by item id: neighbours of item i are
    ``indices[indptr[i]:indptr[i+1]]`` with counts ``weights[...]``, strongest first (ties by id)."""

    indptr: np.ndarray  # int64 (n_items + 2,) so that ids 0..n_items index it
    indices: np.ndarray  # int64
    weights: np.ndarray  # float64

    @property
    def n_items(self) -> int:
        return len(self.indptr) - 2

    def neighbors(self, item: int) -> tuple[np.ndarray, np.ndarray]:
        """(neighbour ids, co-occurrence counts) of one item."""
        if not 0 < item <= self.n_items:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        lo, hi = self.indptr[item], self.indptr[item + 1]
        return self.indices[lo:hi], self.weights[lo:hi]


def cooccurrence_neighbors(
    sequences: Sequence[np.ndarray] | np.ndarray,
    *,
    window: int = 5,
    sessions: Sequence[np.ndarray] | np.ndarray | None = None,
    max_neighbors: int | None = 100,
    n_items: int | None = None,
) -> ItemNeighbors:
    """Count, over all users, pairs of different items at most ``window`` positions apart in the same
    sequence (and in the same session when ``sessions``, aligned with ``sequences``, is given). Each such
    occurrence adds 1 to both directions; a user's repeats count again. Keeps each item's ``max_neighbors``
    strongest neighbours (None = all).

    Vectorised: one shifted comparison per offset 1..window, pair codes counted by sorting.
    """
    if window < 1:
        raise ValueError(f"window must be >= 1, got {window}")
    users, (flat_items, flat_sessions) = _flat_with_sessions(sequences, sessions)
    n = max(int(flat_items.max(initial=0)), n_items or 0)
    base = n + 1
    codes = []
    for d in range(1, window + 1):
        if d >= len(flat_items):
            break
        a, b = flat_items[:-d], flat_items[d:]
        ok = (users[:-d] == users[d:]) & (a != b)
        if flat_sessions is not None:
            ok &= flat_sessions[:-d] == flat_sessions[d:]
        a, b = a[ok], b[ok]
        codes.append(np.minimum(a, b) * base + np.maximum(a, b))
    all_codes = np.concatenate(codes) if codes else np.zeros(0, dtype=np.int64)
    pairs, counts = unique_counts(all_codes)
    lo, hi = pairs // base, pairs % base
    rows = np.concatenate([lo, hi])
    cols = np.concatenate([hi, lo])
    w = np.concatenate([counts, counts])
    top = int(w.max(initial=0))
    if base * base * (top + 1) < 2**62:  # one sorted int64 key (row, count desc, id), decoded afterwards
        key = np.sort((rows * (top + 1) + (top - w)) * base + cols)
        cols, rest = key % base, key // base
        rows, w = rest // (top + 1), top - rest % (top + 1)
    else:
        order = np.lexsort((cols, -w, rows))
        rows, cols, w = rows[order], cols[order], w[order]
    indptr = np.zeros(base + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=base), out=indptr[1:])
    if max_neighbors is not None:
        keep = (np.arange(len(rows)) - indptr[rows]) < max_neighbors
        rows, cols, w = rows[keep], cols[keep], w[keep]
        indptr[1:] = np.cumsum(np.bincount(rows, minlength=base))
    return ItemNeighbors(indptr, cols.astype(np.int64), w.astype(np.float64))


def _flat_with_sessions(
    sequences: Sequence[np.ndarray] | np.ndarray, sessions: Sequence[np.ndarray] | np.ndarray | None
) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray | None]]:
    """Flatten sequences (and aligned session ids) in order, dropping padding 0s from both."""
    users, items = ragged.flatten(sequences)
    sess = None
    if sessions is not None:
        sess = ragged.concat(sessions, dtype=np.asarray(sessions[0]).dtype if len(sessions) else np.int64)
        if len(sess) != len(items):
            raise ValueError("sessions must be aligned with sequences")
    keep = items > 0
    return users[keep], (items[keep], None if sess is None else sess[keep])


def _flat(collections: Sequence[Collection[int]] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(user row, item id) int64 arrays of per-user collections, grouped by user in order; 0s dropped."""
    users, items = ragged.flatten(collections)
    keep = items > 0
    return users[keep], items[keep]


def _last_items(users: np.ndarray, items: np.ndarray, n_last: int) -> tuple[np.ndarray, np.ndarray]:
    """The last ``n_last`` entries of each user's group in flat (user, item) arrays grouped by user."""
    if len(users) == 0:
        return users, items
    group_end = np.searchsorted(users, users, side="right")
    keep = (group_end - np.arange(len(users))) <= n_last
    return users[keep], items[keep]


def _order_by_score(
    users: np.ndarray, items: np.ndarray, scores: np.ndarray, base: int
) -> tuple[np.ndarray, np.ndarray]:
    """(users, items) sorted by user, score descending, item ascending."""
    top = float(scores.max(initial=0.0))
    if len(scores) and top * base * (int(users.max()) + 1) < 2**52 and bool((scores == np.round(scores)).all()):
        # integral scores (co-occurrence counts): one int64 key, sorted then decoded
        t = int(top) + 1
        key = np.sort((users * t + (t - 1 - scores.astype(np.int64))) * base + items)
        return key // base // t, key % base
    order = np.lexsort((items, -scores, users))
    return users[order], items[order]


def cooccurrence(
    sequences: Sequence[np.ndarray] | np.ndarray,
    k: int,
    recent: Sequence[Collection[int]] | None = None,
    *,
    window: int = 5,
    n_recent: int = 3,
    max_neighbors: int | None = 100,
    sessions: Sequence[np.ndarray] | np.ndarray | None = None,
    exclude_seen: bool = True,
    fill: bool = True,
    fill_items: np.ndarray | None = None,
    neighbors: ItemNeighbors | None = None,
    chunk_users: int = 16_384,
) -> np.ndarray:
    """Item-to-item co-occurrence recommendations, one row per training sequence.

    A candidate's score is its summed co-occurrence count (`cooccurrence_neighbors`) with the user's
    distinct ``recent`` items (default: the last ``n_recent`` items of the user's sequence). With
    ``exclude_seen`` every item of the user's sequence (and their recent items) is excluded. Rows with fewer
    than k candidates are filled with popularity (same exclusions, no repeats) when ``fill``, else padded
    with PAD; popularity counts ``fill_items`` (one id per training interaction), by default the items of
    ``sequences``. Pass prebuilt ``neighbors`` to reuse them (e.g. learned from more users). Ties by id
    ascending.
    """
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    if neighbors is None:
        neighbors = cooccurrence_neighbors(sequences, window=window, sessions=sessions, max_neighbors=max_neighbors)
    seq_users, seq_items = _flat(sequences)
    n_users = len(sequences)
    if recent is None:
        rec_users, rec_items = _last_items(seq_users, seq_items, n_recent)
    else:
        if len(recent) != n_users:
            raise ValueError(f"{len(recent)} recent sets for {n_users} sequences")
        rec_users, rec_items = _flat(recent)
    base = max(neighbors.n_items, int(seq_items.max(initial=0)), int(rec_items.max(initial=0))) + 1
    rec, _ = unique_counts(rec_users * base + rec_items)  # distinct (user, item), sorted by user
    rec_users, rec_items = rec // base, rec % base
    if exclude_seen:
        seen, _ = unique_counts(np.concatenate([seq_users * base + seq_items, rec]))
    else:
        seen = np.zeros(0, dtype=np.int64)

    out = np.full((n_users, k), PAD, dtype=np.int64)
    indptr = neighbors.indptr
    for a in range(0, n_users, chunk_users):
        b = min(a + chunk_users, n_users)
        lo, hi = np.searchsorted(rec_users, [a, b])
        cu, ci = rec_users[lo:hi], rec_items[lo:hi]
        ci_ok = ci <= neighbors.n_items
        cu, ci = cu[ci_ok], ci[ci_ok]
        deg = indptr[ci + 1] - indptr[ci]
        total = int(deg.sum())
        if total == 0:
            continue
        offsets = np.repeat(indptr[ci] - (np.cumsum(deg) - deg), deg) + np.arange(total)
        cand_codes = np.repeat(cu, deg) * base + neighbors.indices[offsets]
        by_code = np.argsort(cand_codes)
        cand_codes, cand_w = cand_codes[by_code], neighbors.weights[offsets][by_code]
        starts = np.flatnonzero(np.r_[True, cand_codes[1:] != cand_codes[:-1]])
        codes, scores = cand_codes[starts], np.add.reduceat(cand_w, starts)  # sorted by (user, item)
        s_lo, s_hi = np.searchsorted(seen, [a * base, b * base])
        if s_hi > s_lo:
            chunk_seen = seen[s_lo:s_hi]
            at = np.searchsorted(chunk_seen, codes).clip(max=len(chunk_seen) - 1)
            allowed = chunk_seen[at] != codes
            codes, scores = codes[allowed], scores[allowed]
        users, items = _order_by_score(codes // base, codes % base, scores, base)
        rank = np.arange(len(users)) - np.searchsorted(users, users, side="left")
        top = rank < k
        out[users[top], rank[top]] = items[top]

    if fill:
        missing = (out == PAD).sum(axis=1)
        if missing.any():
            got = out != PAD
            got_users = np.nonzero(got)[0]
            ex_users = np.concatenate([seen // base, got_users])
            ex_items = np.concatenate([seen % base, out[got]])
            pop_from = seq_items if fill_items is None else fill_items
            pop = top_k_excluding(rank_items(popularity_scores(pop_from)), k, n_users, ex_users, ex_items)
            n_got = k - missing
            j = np.arange(k)[None, :]
            from_pop = np.take_along_axis(pop, np.clip(j - n_got[:, None], 0, k - 1), axis=1)
            out = np.where(j < n_got[:, None], out, from_pop)
    return out
