"""Importance scoring: exact cosine Top-N over the whole sellable catalogue, with explanations.

Vectors are L2-normalised, so the inner product is the cosine. faiss IndexFlatIP does the exact search in
user blocks (memory bounded by block x catalogue, never users x items). Ties are broken by item index
(= item_id order), deterministically: rows whose cut-off falls inside a run of equal scores are recomputed
exactly with numpy.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

log = logging.getLogger(__name__)
USER_BLOCK = 4096
EXPLAIN_HISTORY = 20  # how many of the user's most recent distinct items may explain a recommendation
EXPLAIN_BLOCK_VALUES = 1 << 22  # users per explain block x top-k x dims: about 16 MB of recommended vectors


@dataclass
class TopN:
    items: np.ndarray  # (users, k) int item_idx, -1 where fewer than k candidates
    scores: np.ndarray  # (users, k) float32 cosine


def normalise(vectors: np.ndarray) -> np.ndarray:
    v = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(v, axis=1, keepdims=True)
    return np.divide(v, norms, out=np.zeros_like(v), where=norms > 0)


def _exact_row(user: np.ndarray, item_vecs: np.ndarray, candidates: np.ndarray, exclude: np.ndarray, k: int):
    scores = item_vecs[candidates] @ user
    keep = ~np.isin(candidates, exclude)
    cand, sc = candidates[keep], scores[keep]
    order = np.lexsort((cand, -sc))[:k]
    return cand[order], sc[order]


def _padded(arrays: Sequence[np.ndarray]) -> np.ndarray:
    """Ragged int arrays -> (n, max_len) matrix padded with -2 (never an item index)."""
    width = max((len(a) for a in arrays), default=0)
    out = np.full((len(arrays), width), -2, dtype=np.int64)
    for i, a in enumerate(arrays):
        out[i, : len(a)] = a
    return out


def top_n(
    user_vecs: np.ndarray,
    item_vecs: np.ndarray,
    k: int,
    exclude: Sequence[np.ndarray] | None = None,
    sellable: np.ndarray | None = None,
    threads: int = 2,
) -> TopN:
    """Exact Top-k items per user by inner product, skipping excluded and unsellable items.

    item_vecs is indexed by item_idx (row 0 = padding, never recommended); `sellable` is a bool mask over
    the same rows. Order: score descending, then item_idx ascending.
    """
    import faiss

    faiss.omp_set_num_threads(threads)
    users = np.ascontiguousarray(user_vecs, dtype=np.float32)
    items = np.ascontiguousarray(item_vecs, dtype=np.float32)
    mask = np.ones(len(items), dtype=bool) if sellable is None else np.asarray(sellable, dtype=bool).copy()
    mask[0] = False
    candidates = np.flatnonzero(mask)
    index = faiss.IndexFlatIP(items.shape[1])
    index.add(items[candidates])
    n_users = len(users)
    out_items = np.full((n_users, k), -1, dtype=np.int64)
    out_scores = np.zeros((n_users, k), dtype=np.float32)
    if len(candidates) == 0 or n_users == 0:
        return TopN(out_items, out_scores)
    for start in range(0, n_users, USER_BLOCK):
        stop = min(start + USER_BLOCK, n_users)
        excl = _padded(exclude[start:stop]) if exclude is not None else np.zeros((stop - start, 0), np.int64)
        depth = min(len(candidates), k + excl.shape[1] + 1)
        scores, pos = index.search(users[start:stop], depth)
        got = np.where(pos >= 0, candidates[np.maximum(pos, 0)], -1)
        drop = (pos < 0) | (got[:, :, None] == excl[:, None, :]).any(axis=2)
        # faiss returns each row by descending score: move dropped entries to the end (stable), then fix the
        # order inside runs of equal scores (item index ascending) in the rare rows that have them
        order = np.argsort(drop, axis=1, kind="stable")
        got = np.take_along_axis(got, order, axis=1)
        sc = np.take_along_axis(scores, order, axis=1)
        kept = (~drop).sum(axis=1)
        inside = np.arange(depth - 1)[None, :] < (kept - 1)[:, None]
        for row in np.flatnonzero(((sc[:, 1:] == sc[:, :-1]) & inside).any(axis=1)):
            n = kept[row]
            fix = np.lexsort((got[row, :n], -sc[row, :n]))
            got[row, :n], sc[row, :n] = got[row, :n][fix], sc[row, :n][fix]
        width = min(k, depth)
        block_items, block_scores = got[:, :width].copy(), sc[:, :width].copy()
        short = np.arange(width)[None, :] >= kept[:, None]
        block_items[short], block_scores[short] = -1, 0.0
        # exactness at the cut: equal scores may continue past what faiss returned -> recompute those rows
        last_kept = sc[np.arange(len(sc)), np.maximum(kept - 1, 0)]
        kth = sc[np.arange(len(sc)), min(k, depth) - 1]
        unsure = (kept > k) & (sc[:, min(k, depth - 1)] == kth)
        unsure |= (depth < len(candidates)) & (kept >= k) & (last_kept == kth)
        for row in np.flatnonzero(unsure):
            it, s_ = _exact_row(users[start + row], items, candidates, excl[row][excl[row] >= 0], k)
            block_items[row], block_scores[row] = -1, 0.0
            block_items[row, : len(it)], block_scores[row, : len(it)] = it, s_
        out_items[start:stop, :width] = block_items
        out_scores[start:stop, :width] = block_scores
    return TopN(out_items, out_scores)


def explain(
    recommended: np.ndarray, histories: Sequence[np.ndarray], item_vecs: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """For each recommended item, the most similar item among the user's recent history, and the cosine.

    Returns (reason_item_idx, reason_score), shaped like `recommended`; -1 / nan where there is no history.
    Batched matrix products over blocks of users; on equal cosines the more recent history item wins.
    """
    n, k = recommended.shape
    reason = np.full((n, k), -1, dtype=np.int64)
    score = np.full((n, k), np.nan, dtype=np.float32)
    if n == 0 or k == 0:
        return reason, score
    recent = recent_distinct(histories, EXPLAIN_HISTORY)
    if recent.shape[1] == 0:
        return reason, score
    block = max(1, EXPLAIN_BLOCK_VALUES // (k * item_vecs.shape[1]))
    for start in range(0, n, block):
        recs, hist = recommended[start : start + block], recent[start : start + block]
        sims = np.matmul(item_vecs[np.maximum(recs, 0)], item_vecs[np.maximum(hist, 0)].transpose(0, 2, 1))
        # no history item, no recommendation, or the item itself: it cannot explain
        sims[(hist[:, None, :] < 0) | (recs[:, :, None] < 0) | (recs[:, :, None] == hist[:, None, :])] = -np.inf
        best = sims.argmax(axis=2)
        best_score = np.take_along_axis(sims, best[:, :, None], axis=2)[:, :, 0]
        found = np.isfinite(best_score)
        reason[start : start + block] = np.where(found, np.take_along_axis(hist, best, axis=1), -1)
        score[start : start + block] = np.where(found, best_score, np.nan)
    return reason, score


def recent_distinct(histories: Sequence[np.ndarray], limit: int) -> np.ndarray:
    """Each chronological history's last `limit` distinct items (> 0), most recent first; rows padded with -1."""
    newest_first = _padded([np.asarray(h)[::-1] for h in histories])
    if newest_first.shape[1] == 0:
        return np.full((len(histories), 0), -1, dtype=np.int64)
    order = np.argsort(newest_first, axis=1, kind="stable")  # equal items: the most recent one first
    ordered = np.take_along_axis(newest_first, order, axis=1)
    first_in_order = np.ones(ordered.shape, dtype=bool)
    first_in_order[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
    first = np.empty_like(first_in_order)
    np.put_along_axis(first, order, first_in_order, axis=1)
    keep = first & (newest_first > 0)
    keep &= np.cumsum(keep, axis=1) <= limit
    packed = np.argsort(~keep, axis=1, kind="stable")[:, :limit]  # kept entries to the left, order kept
    out = np.take_along_axis(newest_first, packed, axis=1)
    out[~np.take_along_axis(keep, packed, axis=1)] = -1
    return out
