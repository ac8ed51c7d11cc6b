"""Baselines: exclusions, tie-breaking, time windows and the co-occurrence signal on planted patterns."""

from __future__ import annotations

import numpy as np
import pytest

from recpipeline.evaluation import baselines as b
from recpipeline.evaluation.baselines import PAD

DAY = 86_400.0


def test_popularity_ties_by_id_and_exclusions():
    # counts: 1 -> 2, 2 -> 2, 3 -> 1, 4 -> 3 (0 is padding); order 4, then the 1/2 tie by id, then 3
    items = np.array([1, 1, 2, 2, 3, 4, 4, 4, 0, 0, 0, 0])
    assert b.popularity(items, 3).tolist() == [[4, 1, 2]]
    assert b.popularity(items, 3, n_users=2).tolist() == [[4, 1, 2], [4, 1, 2]]
    exclude = [{4}, np.array([1, 2]), [], [1, 2, 3, 4]]
    assert b.popularity(items, 3, exclude).tolist() == [
        [1, 2, 3],
        [4, 3, PAD],  # only two unseen items have any interactions
        [4, 1, 2],
        [PAD, PAD, PAD],
    ]


def test_popularity_weights():
    items = np.array([1, 1, 2, 3])
    assert b.popularity(items, 2, weights=np.array([1.0, 1.0, 5.0, 0.5])).tolist() == [[2, 1]]


def test_top_k_excluding_matches_brute_force():
    rng = np.random.default_rng(3)
    for _ in range(30):
        n_items, n_users, k = int(rng.integers(1, 20)), int(rng.integers(1, 10)), int(rng.integers(1, 8))
        order = rng.permutation(np.arange(1, n_items + 1))[: int(rng.integers(0, n_items + 1))]
        exclude = [set(rng.integers(0, n_items + 3, size=int(rng.integers(0, 12))).tolist()) for _ in range(n_users)]
        users = np.repeat(np.arange(n_users), [len(e) for e in exclude])
        items = np.array([i for e in exclude for i in e], dtype=np.int64)
        got = b.top_k_excluding(order, k, n_users, users, items)
        for u in range(n_users):
            expected = [i for i in order.tolist() if i not in exclude[u]][:k]
            assert got[u].tolist() == expected + [PAD] * (k - len(expected))


def planted_sequences(n_users: int = 60, seed: int = 0) -> list[np.ndarray]:
    """Random filler items 10..199 with the pair A=1 -> B=2 planted once in every sequence."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n_users):
        filler = rng.choice(np.arange(10, 200), size=12, replace=False)
        at = int(rng.integers(0, len(filler)))
        out.append(np.concatenate([filler[:at], [1, 2], filler[at:]]).astype(np.int64))
    return out


def test_cooccurrence_recommends_the_planted_complement():
    train = planted_sequences()
    neighbors = b.cooccurrence_neighbors(train, window=5)
    ids, counts = neighbors.neighbors(1)
    assert ids[0] == 2 and counts[0] == 60  # A -> B, once per sequence
    pairs = list(zip((-counts).tolist(), ids.tolist(), strict=True))
    assert pairs == sorted(pairs)  # strongest first, ties by id
    users = train + [np.array([15, 27, 1]), np.array([0, 0, 33, 2]), np.array([250])]
    recs = b.cooccurrence(users, 5)
    assert recs[-3, 0] == 2  # last item A -> B first
    assert recs[-2, 0] == 1  # symmetric: last item B -> A first (left padding 0 ignored)
    for u, row in enumerate(recs):
        assert PAD not in row and len(set(row.tolist())) == len(row)  # filled, no repeats
        assert not set(row.tolist()) & set(users[u].tolist())  # nothing already seen
    # item 250 has no neighbours: pure popularity fill (1 and 2 are the most popular, tie by id)
    assert recs[-1, :2].tolist() == [1, 2]


def test_cooccurrence_explicit_recent_exclusions_and_padding():
    train = planted_sequences()
    recs = b.cooccurrence(train + [np.array([2])], 3, recent=[[]] * len(train) + [[1]], fill=False)
    assert recs[-1].tolist()[0] != 2  # B was seen: excluded even though A's strongest neighbour
    assert PAD not in recs[-1]
    recs = b.cooccurrence([np.array([1, 2]), np.array([1])], 3, fill=False)
    assert recs.tolist() == [[PAD, PAD, PAD], [2, PAD, PAD]]
    recs = b.cooccurrence([np.array([1, 2]), np.array([1])], 3, exclude_seen=False, fill=False)
    # user 0: recent {1, 2}; candidates 2 (via 1) and 1 (via 2) both score 1 -> tie by id
    assert recs.tolist() == [[1, 2, PAD], [2, PAD, PAD]]


def test_cooccurrence_window_and_sessions():
    seq = [np.array([1, 5, 6, 7, 8, 9, 2])]  # 1 and 2 are 6 positions apart
    assert 2 not in b.cooccurrence_neighbors(seq, window=5).neighbors(1)[0]
    assert 2 in b.cooccurrence_neighbors(seq, window=6).neighbors(1)[0]
    pair = [np.array([1, 2, 3])]
    sessions = [np.array([7, 8, 8])]  # 1 is alone in its session
    nb = b.cooccurrence_neighbors(pair, sessions=sessions)
    assert nb.neighbors(1)[0].tolist() == [] and nb.neighbors(2)[0].tolist() == [3]
    capped = b.cooccurrence_neighbors([np.array([1, 2, 3, 4, 1, 2])], max_neighbors=1)
    assert capped.neighbors(1)[0].tolist() == [2]  # 1-2 co-occur most


def test_padded_2d_sequences_match_lists():
    seqs = planted_sequences(20, seed=1)
    width = max(len(s) for s in seqs) + 2
    padded = np.zeros((len(seqs), width), dtype=np.int64)
    for i, s in enumerate(seqs):
        padded[i, width - len(s) :] = s
    assert (b.cooccurrence(padded, 7) == b.cooccurrence(seqs, 7)).all()


def test_invalid_arguments():
    with pytest.raises(ValueError):
        b.popularity(np.array([1]), 0)
    with pytest.raises(ValueError):
        b.cooccurrence_neighbors([np.array([1, 2])], window=0)
