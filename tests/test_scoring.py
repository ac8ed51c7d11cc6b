"""Exact Top-N against a brute-force numpy reference, with ties, exclusions and unsellable items."""

from __future__ import annotations

import numpy as np
import pytest

from recpipeline import scoring
from tests.reference import brute_force_top_n


def random_case(seed: int, users=60, items=300, dim=16):
    rng = np.random.default_rng(seed)
    user_vecs = scoring.normalise(rng.normal(size=(users, dim)))
    item_vecs = scoring.normalise(rng.normal(size=(items + 1, dim)))
    item_vecs[0] = 0
    exclude = [
        rng.choice(np.arange(1, items + 1), size=rng.integers(0, min(30, items)), replace=False) for _ in range(users)
    ]
    sellable = rng.random(items + 1) > 0.1
    return user_vecs, item_vecs, exclude, sellable


def test_top_n_equals_brute_force_with_exclusions():
    for seed in range(5):
        u, v, excl, sell = random_case(seed)
        got = scoring.top_n(u, v, 10, exclude=excl, sellable=sell)
        ref = brute_force_top_n(u, v, 10, exclude=excl, sellable=sell)
        np.testing.assert_array_equal(got.items, ref.items)
        np.testing.assert_allclose(got.scores, ref.scores, rtol=1e-5, atol=1e-6)
        for row, ex in zip(got.items, excl, strict=True):
            assert not set(row.tolist()) & set(ex.tolist())
            assert sell[row].all() and 0 not in row


def test_ties_are_broken_by_item_index():
    rng = np.random.default_rng(1)
    # halves and quarters: every inner product is exact in float32 whatever the BLAS kernel's summation order,
    # so copies of an item tie exactly (with random normals, numpy's matmul can differ in the last bit per row)
    base = rng.integers(-4, 5, size=(5, 8)) / 4
    item_vecs = np.vstack([np.zeros(8), np.repeat(base, 6, axis=0)]).astype(np.float32)  # 30 items, 6 copies each
    users = (rng.integers(-2, 3, size=(20, 8)) / 2).astype(np.float32)
    got = scoring.top_n(users, item_vecs, 8)
    ref = brute_force_top_n(users, item_vecs, 8)
    np.testing.assert_array_equal(got.items, ref.items)
    for row, scores in zip(got.items, got.scores, strict=True):
        for a in range(7):  # equal scores appear in ascending item order
            if scores[a] == scores[a + 1]:
                assert row[a] < row[a + 1]


def test_sharded_equals_unsharded():
    u, v, excl, sell = random_case(7, users=100)
    whole = scoring.top_n(u, v, 12, exclude=excl, sellable=sell)
    parts = [scoring.top_n(u[s::3], v, 12, exclude=excl[s::3], sellable=sell) for s in range(3)]
    for s, part in enumerate(parts):
        np.testing.assert_array_equal(part.items, whole.items[s::3])


def test_fewer_candidates_than_k_pads_with_minus_one():
    u, v, _, _ = random_case(3, users=4, items=5)
    got = scoring.top_n(u, v, 10)
    assert (got.items[:, :5] > 0).all() and (got.items[:, 5:] == -1).all()


def test_explanations_pick_the_most_similar_other_history_item():
    item_vecs = scoring.normalise(np.array([[0, 0], [1, 0], [0, 1], [0.9, 0.1], [0.1, 0.9]], dtype=np.float32))
    recommended = np.array([[3, 4, 1]])
    history = [np.array([1, 2, 2])]
    reason, score = scoring.explain(recommended, history, item_vecs)
    assert reason.tolist() == [[1, 2, 2]]  # item 1 cannot explain itself: its best other history item is 2
    assert score[0, 0] > 0.99 and score[0, 1] > 0.99 and score[0, 2] == np.float32(0.0)


def test_explanations_equal_a_per_user_reference():
    """Batched explain == the plain loop: last 20 distinct history items, most similar other item, recent wins ties."""
    rng = np.random.default_rng(5)
    item_vecs = scoring.normalise(rng.integers(-2, 3, size=(41, 4)).astype(np.float32))  # many exact ties
    item_vecs[0] = 0
    histories = [rng.integers(0, 41, size=rng.integers(0, 60)) for _ in range(300)]  # 0 = padding, repeats
    recommended = rng.integers(1, 41, size=(300, 7))
    recommended[::5, 4:] = -1
    reason, score = scoring.explain(recommended, histories, item_vecs)
    for u, hist in enumerate(histories):
        recent = list(dict.fromkeys(int(i) for i in hist[::-1] if i > 0))[: scoring.EXPLAIN_HISTORY]
        for r, item in enumerate(recommended[u]):
            others = [h for h in recent if h != item]
            if item < 0 or not others:
                assert reason[u, r] == -1 and np.isnan(score[u, r])
                continue
            sims = [float(item_vecs[item] @ item_vecs[h]) for h in others]
            best = int(np.argmax(sims))
            assert score[u, r] == pytest.approx(sims[best], abs=1e-6)
            assert reason[u, r] == others[best] or sims[others.index(reason[u, r])] == pytest.approx(sims[best])
