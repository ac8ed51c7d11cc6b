"""Full-catalogue ranking of held-out targets (numpy only)."""

from __future__ import annotations

import numpy as np


def rank_of_targets(
    user_vecs: np.ndarray, item_vecs: np.ndarray, targets: np.ndarray, exclude: list[np.ndarray], block: int = 2048
) -> np.ndarray:
    """0-based rank of each user's target among all items, scored by <user, item> (cosine if normalised).

    Scores are computed in blocks of `block` users (users x items matmul). Row 0 of `item_vecs` (padding) and
    every item in the user's `exclude` list (their history) are set to -inf before ranking. Ties are counted
    pessimistically: rank = #{j != target : score_j >= score_target}; a constant scorer gets the worst rank.
    A target that is itself excluded (a repeat of a history item) or out of range counts as a miss with rank
    n_items (= len(item_vecs) - 1), which is >= any K used in practice.
    """
    user_vecs = np.asarray(user_vecs, dtype=np.float32)
    item_vecs = np.asarray(item_vecs, dtype=np.float32)
    targets = np.asarray(targets, dtype=np.int64)
    n_rows = item_vecs.shape[0]
    ranks = np.empty(len(targets), dtype=np.int64)
    for start in range(0, len(targets), block):
        stop = min(start + block, len(targets))
        scores = user_vecs[start:stop] @ item_vecs.T
        scores[:, 0] = -np.inf
        rows = [np.full(len(ex), i) for i, ex in enumerate(exclude[start:stop])]
        if rows:
            r = np.concatenate(rows).astype(np.int64)
            c = np.concatenate([np.asarray(ex, dtype=np.int64) for ex in exclude[start:stop]])
            ok = (c >= 0) & (c < n_rows)
            scores[r[ok], c[ok]] = -np.inf
        tgt = targets[start:stop]
        valid = (tgt > 0) & (tgt < n_rows)
        tscore = scores[np.arange(stop - start), np.where(valid, tgt, 0)]
        ge = (scores >= tscore[:, None]).sum(axis=1) - 1
        miss = ~valid | ~np.isfinite(tscore)
        ranks[start:stop] = np.where(miss, n_rows - 1, ge)
    return ranks
