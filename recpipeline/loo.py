"""Holding out each user's last interaction: the validation split of daily training and the leave-one-out
protocol of the SASRec / S3-Rec papers, numpy only.

`hold_out_last`: for each user with n >= min_length interactions, the target is s[-1] given s[:-1], and s[:-1]
trains; shorter sequences train whole and are not evaluated. `leave_one_out` applies it twice: test target
s[-1] given s[:-1]; validation target s[-2] given s[:-2]; training sequence s[:-2] (and s[:-1], the validation
target included, for a refit after model selection). At ranking time the given history is excluded from the
candidates.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from recpipeline import ragged


@dataclass
class HoldOut:
    """Training sequences and, for the evaluated users, their history and held-out target."""

    train_sequences: list[np.ndarray]
    train_events: list[np.ndarray]
    histories: list[np.ndarray]
    history_events: list[np.ndarray]
    targets: np.ndarray
    users: np.ndarray  # positions (in the input lists) of the evaluated users

    @property
    def evaluation(self) -> tuple[list[np.ndarray], list[np.ndarray], np.ndarray]:
        """(histories, their event codes, targets): the `validation` argument of `recpipeline.model.train`."""
        return self.histories, self.history_events, self.targets


def hold_out_last(
    sequences: list[np.ndarray], events: list[np.ndarray], min_length: int = 3, only: np.ndarray | None = None
) -> HoldOut:
    """Hold out the last interaction of every user with at least `min_length` interactions (only of the
    users at positions `only`, when given); see the module docstring."""
    eligible = None if only is None else set(only.tolist())
    out = HoldOut([], [], [], [], np.zeros(0, np.int64), np.zeros(0, np.int64))
    targets, users = [], []
    for u, (s, e) in enumerate(zip(sequences, events, strict=True)):
        s = np.asarray(s, dtype=np.int32)
        e = np.asarray(e, dtype=np.int32)
        if len(s) < min_length or (eligible is not None and u not in eligible):
            out.train_sequences.append(s)
            out.train_events.append(e)
            continue
        out.train_sequences.append(s[:-1])
        out.train_events.append(e[:-1])
        out.histories.append(s[:-1])
        out.history_events.append(e[:-1])
        targets.append(s[-1])
        users.append(u)
    out.targets = np.array(targets, dtype=np.int64)
    out.users = np.array(users, dtype=np.int64)
    return out


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
    refit_sequences: list[np.ndarray]  # every interaction but each evaluated user's test item (train + validation)
    refit_events: list[np.ndarray]

    @property
    def validation(self) -> tuple[list[np.ndarray], list[np.ndarray], np.ndarray]:
        """The `validation` argument of `recpipeline.model.train`."""
        return self.valid_histories, self.valid_events, self.valid_targets

    @property
    def test(self) -> tuple[list[np.ndarray], list[np.ndarray], np.ndarray]:
        return self.test_histories, self.test_events, self.test_targets


def leave_one_out(sequences: list[np.ndarray], events: list[np.ndarray], min_length: int = 3) -> LooSplit:
    """Split chronological per-user sequences (and their event codes) as described in the module docstring."""
    test = hold_out_last(sequences, events, max(min_length, 3))
    valid = hold_out_last(test.train_sequences, test.train_events, 2, only=test.users)
    return LooSplit(
        valid.train_sequences,
        valid.train_events,
        valid.histories,
        valid.history_events,
        valid.targets,
        test.histories,
        test.history_events,
        test.targets,
        test.users,
        test.train_sequences,
        test.train_events,
    )


def item_counts(sequences: list[np.ndarray], n_items: int) -> np.ndarray:
    """(n_items + 1,) interaction counts over `sequences` (row 0, padding, is 0)."""
    flat = ragged.concat(sequences)
    return np.bincount(flat[(flat > 0) & (flat <= n_items)], minlength=n_items + 1).astype(np.int64)
