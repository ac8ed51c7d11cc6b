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


@dataclass
class TopN:
    items: np.ndarray  # (users, k) int item_idx, -1 where fewer than k candidates
    scores: np.ndarray  # (users, k) float32 cosine


def normalise(vectors: np.ndarray) -> np.ndarray:
    v = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(v, axis=1, keepdims=True)
    return np.divide(v, norms, out=np.zeros_like(v), where=norms > 0)


def _exact_row(user: np.ndarray, item_vecs: np.ndarray, candidates: np.ndarray, exclude: set, k: int):
    scores = item_vecs[candidates] @ user
    keep = np.array([c not in exclude for c in candidates], dtype=bool)
    cand, sc = candidates[keep], scores[keep]
    order = np.lexsort((cand, -sc))[:k]
    return cand[order], sc[order]


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
        excl = [set(exclude[u].tolist()) if exclude is not None else set() for u in range(start, stop)]
        extra = max((len(e) for e in excl), default=0)
        depth = min(len(candidates), k + extra + 1)
        scores, pos = index.search(users[start:stop], depth)
        for row, u in enumerate(range(start, stop)):
            got = candidates[pos[row][pos[row] >= 0]]
            sc = scores[row][: len(got)]
            keep = np.fromiter((g not in excl[row] for g in got), dtype=bool, count=len(got))
            got, sc = got[keep], sc[keep]
            tie_at_cut = len(got) > k and sc[k] == sc[k - 1]
            truncated = depth < len(candidates) and len(sc) > 0 and sc[-1] == sc[min(k, len(sc)) - 1]
            if tie_at_cut or truncated:
                got, sc = _exact_row(users[u], items, candidates, excl[row], k)
            else:
                order = np.lexsort((got, -sc))[:k]
                got, sc = got[order], sc[order]
            out_items[u, : len(got)] = got
            out_scores[u, : len(got)] = sc
    return TopN(out_items, out_scores)


def explain(
    recommended: np.ndarray, histories: Sequence[np.ndarray], item_vecs: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """For each recommended item, the most similar item among the user's recent history, and the cosine.

    Returns (reason_item_idx, reason_score), shaped like `recommended`; -1 / nan where there is no history.
    """
    reason = np.full(recommended.shape, -1, dtype=np.int64)
    score = np.full(recommended.shape, np.nan, dtype=np.float32)
    for u, hist in enumerate(histories):
        recent = _recent_distinct(hist, EXPLAIN_HISTORY)
        recs = recommended[u]
        valid = recs >= 0
        if len(recent) == 0 or not valid.any():
            continue
        sims = item_vecs[recs[valid]] @ item_vecs[recent].T  # (k, h)
        sims[recs[valid][:, None] == recent[None, :]] = -np.inf  # an item does not explain itself
        best = sims.argmax(axis=1)
        best_score = sims[np.arange(len(best)), best]
        found = np.isfinite(best_score)
        rows = np.flatnonzero(valid)[found]
        reason[u, rows] = recent[best[found]]
        score[u, rows] = best_score[found]
    return reason, score


def _recent_distinct(history: np.ndarray, limit: int) -> np.ndarray:
    """The last `limit` distinct items of a chronological history, most recent first."""
    seen: dict[int, None] = {}
    for item in history[::-1]:
        if item > 0:
            seen.setdefault(int(item), None)
            if len(seen) == limit:
                break
    return np.fromiter(seen, dtype=np.int64, count=len(seen))


def brute_force_top_n(
    user_vecs: np.ndarray, item_vecs: np.ndarray, k: int,
    exclude: Sequence[np.ndarray] | None = None, sellable: np.ndarray | None = None,
) -> TopN:
    """Reference implementation (full score matrix); for tests and benchmarks only."""
    scores = np.asarray(user_vecs, np.float32) @ np.asarray(item_vecs, np.float32).T
    mask = np.ones(scores.shape[1], dtype=bool) if sellable is None else np.asarray(sellable, bool).copy()
    mask[0] = False
    items = np.full((len(scores), k), -1, dtype=np.int64)
    out = np.zeros((len(scores), k), dtype=np.float32)
    idx = np.arange(scores.shape[1])
    for u in range(len(scores)):
        m = mask.copy()
        if exclude is not None:
            m[exclude[u]] = False
        cand, sc = idx[m], scores[u][m]
        order = np.lexsort((cand, -sc))[:k]
        items[u, : len(order)] = cand[order]
        out[u, : len(order)] = sc[order]
    return TopN(items, out)
