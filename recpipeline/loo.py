"""Leave-one-out splits for next-item evaluation (SASRec / S3-Rec protocol), numpy only.

For each user with n >= 3 interactions: training sequence s[:-2]; validation target s[-2] given s[:-2];
test target s[-1] given s[:-1]. At ranking time the given history is excluded from the candidates.
Users with fewer than 3 interactions contribute their whole sequence to training and are not evaluated.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class LooSplit:
    train_sequences: list[np.ndarray]
    train_events: list[np.ndarray]
    valid_histories: list[np.ndarray]
    valid_events: list[np.ndarray]
    valid_targets: np.ndarray
    test_histories: list[np.ndarray]
    test_events: list[np.ndarray]
    test_targets: np.ndarray
    eval_users: np.ndarray  # positions (in the input lists) of the evaluated users

    @property
    def validation(self) -> tuple[list[np.ndarray], list[np.ndarray], np.ndarray]:
        """The `validation` argument of `recpipeline.model.train`."""
        return self.valid_histories, self.valid_events, self.valid_targets

    @property
    def test(self) -> tuple[list[np.ndarray], list[np.ndarray], np.ndarray]:
        return self.test_histories, self.test_events, self.test_targets


def leave_one_out(sequences: list[np.ndarray], events: list[np.ndarray], min_length: int = 3) -> LooSplit:
    """Split chronological per-user sequences (and their event codes) as described in the module docstring."""
    train_s, train_e, vh, ve, vt, th, te, tt, users = [], [], [], [], [], [], [], [], []
    for u, (s, e) in enumerate(zip(sequences, events, strict=True)):
        s = np.asarray(s, dtype=np.int32)
        e = np.asarray(e, dtype=np.int32)
        if len(s) < max(min_length, 3):
            train_s.append(s)
            train_e.append(e)
            continue
        train_s.append(s[:-2])
        train_e.append(e[:-2])
        vh.append(s[:-2])
        ve.append(e[:-2])
        vt.append(s[-2])
        th.append(s[:-1])
        te.append(e[:-1])
        tt.append(s[-1])
        users.append(u)
    return LooSplit(train_s, train_e, vh, ve, np.array(vt, dtype=np.int64), th, te,
                    np.array(tt, dtype=np.int64), np.array(users, dtype=np.int64))


def item_counts(sequences: list[np.ndarray], n_items: int) -> np.ndarray:
    """(n_items + 1,) interaction counts over `sequences` (row 0, padding, is 0)."""
    flat = np.concatenate([np.asarray(s, dtype=np.int64).ravel() for s in sequences] or [np.zeros(0, np.int64)])
    return np.bincount(flat[(flat > 0) & (flat <= n_items)], minlength=n_items + 1).astype(np.int64)
