"""The production evaluation protocol: chronological, full-catalogue ranking.

The model was trained on interactions before the day; each user with history before the cutoff is asked for
a ranking over the whole catalogue (their history excluded) and judged on the new items they interacted
with from the cutoff on. Baselines learn from the same pre-cutoff history only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from recpipeline.features import Sequences


@dataclass
class EvalSet:
    """Users with history before the cutoff and at least one new item after it (dense item indices)."""

    history: list[np.ndarray]
    history_events: list[np.ndarray]
    relevant: list[set[int]]
    all_history: list[np.ndarray]  # every user's pre-cutoff sequence (baselines learn from these)


def chronological_split(seqs: Sequences, cutoff_epoch: int) -> EvalSet:
    """Split sequences at the cutoff: before = features, after = ground truth (new items only)."""
    before, after = seqs.split_at(cutoff_epoch)
    out = EvalSet([], [], [], [])
    for hist, events, later in zip(before.items, before.events, after.items, strict=True):
        if len(hist) == 0:
            continue
        out.all_history.append(hist)
        new = set(later.tolist()) - set(hist.tolist())
        if new:
            out.history.append(hist)
            out.history_events.append(events)
            out.relevant.append(new)
    return out


def remap_ranking(ranked: np.ndarray, from_ids: np.ndarray, to_index: dict[str, int]) -> np.ndarray:
    """Rankings in another day's item indices -> this day's indices (-1 where the item no longer exists)."""
    ids = np.asarray(from_ids, dtype=object)
    table = np.array([to_index.get(i, -1) for i in ids] + [-1], dtype=np.int64)  # index -1 -> -1
    return table[np.where(ranked >= 0, ranked, -1)]
