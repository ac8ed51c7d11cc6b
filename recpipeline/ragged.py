"""Ragged per-user arrays (one 1-D array or collection per user) as flat numpy arrays: the one way to flatten.

Every stage holds per-user data this way (behaviour sequences, exclusion sets, relevant items); numpy
code wants it flat: `flatten` gives aligned (row index, value) arrays in row order.
"""

from __future__ import annotations

import itertools
from collections.abc import Collection, Sequence

import numpy as np

Ragged = Sequence[Collection[int]] | Sequence[np.ndarray] | np.ndarray


def lengths(rows: Ragged) -> np.ndarray:
    """int64 length of each row (a 2-D array has rows of equal length)."""
    if isinstance(rows, np.ndarray) and rows.ndim == 2:
        return np.full(len(rows), rows.shape[1], dtype=np.int64)
    return np.fromiter((len(r) for r in rows), dtype=np.int64, count=len(rows))


def concat(rows: Ragged, dtype: type = np.int64) -> np.ndarray:
    """All values of all rows in row order, as one 1-D array."""
    if isinstance(rows, np.ndarray) and rows.ndim == 2:
        return rows.astype(dtype).ravel()
    if len(rows) and all(isinstance(r, np.ndarray) for r in rows):
        return np.concatenate([np.asarray(r, dtype=dtype).ravel() for r in rows])
    n = int(lengths(rows).sum())
    return np.fromiter(itertools.chain.from_iterable(rows), dtype=dtype, count=n)


def flatten(rows: Ragged, dtype: type = np.int64) -> tuple[np.ndarray, np.ndarray]:
    """(row index, value) arrays of every value, grouped by row in order."""
    owners = np.repeat(np.arange(len(rows), dtype=np.int64), lengths(rows))
    return owners, concat(rows, dtype)
