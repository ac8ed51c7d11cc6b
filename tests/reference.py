"""Reference implementations the tests check the product against (slow, obvious, test-only)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from recpipeline.scoring import TopN


def brute_force_top_n(
    user_vecs: np.ndarray,
    item_vecs: np.ndarray,
    k: int,
    exclude: Sequence[np.ndarray] | None = None,
    sellable: np.ndarray | None = None,
) -> TopN:
    """Exact Top-N from the full score matrix, one user at a time (the reference for `scoring.top_n`)."""
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
