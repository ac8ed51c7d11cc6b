"""Metric definitions against hand-computed values, and the vectorised paths against the reference ones."""

from __future__ import annotations

import math

import numpy as np
import pytest

from recpipeline.evaluation import metrics as m

L3, L6 = math.log2(3), math.log2(6)  # discounts of 0-based positions 1 and 4

# User A: string ids, hits at 0-based positions 1 ("b") and 4 ("e"), 3 relevant items ("z" never shown).
A_RANKED, A_REL = ["a", "b", "c", "d", "e"], {"b", "e", "z"}
# User B: int ids with duplicates: 3 counts at position 0 only; positions 1 and 3 are repeats, not hits.
B_RANKED, B_REL = [3, 3, 7, 3, 9], {3, 9}


def test_string_ids_at_5():
    assert m.precision_at_k(A_RANKED, A_REL, 5) == pytest.approx(2 / 5)
    assert m.recall_at_k(A_RANKED, A_REL, 5) == pytest.approx(2 / 3)
    # DCG = 1/log2(3) + 1/log2(6) = 1.01778
    # IDCG over min(3, 5) = 3 hits = 1 + 1/log2(3) + 1/log2(4) = 2.13093 -> NDCG = 0.477624
    assert m.ndcg_at_k(A_RANKED, A_REL, 5) == pytest.approx((1 / L3 + 1 / L6) / (1 + 1 / L3 + 0.5))
    assert m.ndcg_at_k(A_RANKED, A_REL, 5) == pytest.approx(0.477624, abs=1e-6)
    # AP = (precision@2 + precision@5) / min(3, 5) = (1/2 + 2/5) / 3 = 0.3
    assert m.average_precision_at_k(A_RANKED, A_REL, 5) == pytest.approx(0.3)
    assert m.hit_at_k(A_RANKED, A_REL, 5) == 1.0
    assert m.reciprocal_rank(A_RANKED, A_REL) == pytest.approx(1 / 2)


def test_string_ids_at_3():
    # only "b" (position 1) is in the top 3
    assert m.precision_at_k(A_RANKED, A_REL, 3) == pytest.approx(1 / 3)
    assert m.recall_at_k(A_RANKED, A_REL, 3) == pytest.approx(1 / 3)
    # DCG = 1/log2(3) = 0.63093; IDCG over min(3, 3) = 3 hits = 2.13093 -> 0.29608
    assert m.ndcg_at_k(A_RANKED, A_REL, 3) == pytest.approx(0.296082, abs=1e-6)
    # AP = (1/2) / min(3, 3) = 1/6
    assert m.average_precision_at_k(A_RANKED, A_REL, 3) == pytest.approx(1 / 6)
    assert m.hit_at_k(A_RANKED, A_REL, 1) == 0.0


def test_duplicates_count_only_at_first_position():
    assert m.first_hit_positions(B_RANKED, B_REL) == [0, 4]
    assert m.precision_at_k(B_RANKED, B_REL, 5) == pytest.approx(2 / 5)  # not 4/5
    assert m.recall_at_k(B_RANKED, B_REL, 5) == pytest.approx(1.0)
    # DCG = 1/log2(2) + 1/log2(6) = 1.386853; IDCG over 2 hits = 1 + 1/log2(3) = 1.630930 -> 0.850345
    assert m.ndcg_at_k(B_RANKED, B_REL, 5) == pytest.approx(0.850345, abs=1e-6)
    # AP = (1/1 + 2/5) / 2 = 0.7
    assert m.average_precision_at_k(B_RANKED, B_REL, 5) == pytest.approx(0.7)
    # a duplicated relevant item cannot push recall or precision past the distinct hits
    assert m.recall_at_k([3, 3, 3], {3, 9}, 3) == pytest.approx(0.5)


def test_fewer_recommendations_than_k():
    ranked, rel = [5], {5, 6}
    assert m.precision_at_k(ranked, rel, 10) == pytest.approx(1 / 10)  # still divides by K
    assert m.recall_at_k(ranked, rel, 10) == pytest.approx(1 / 2)
    # DCG = 1; IDCG over min(2, 10) = 2 hits = 1 + 1/log2(3) = 1.63093 -> 0.61315
    assert m.ndcg_at_k(ranked, rel, 10) == pytest.approx(1 / (1 + 1 / L3))
    assert m.average_precision_at_k(ranked, rel, 10) == pytest.approx(1 / 2)  # (1/1) / min(2, 10)
    assert m.mean_precision_at_k([ranked], [rel], 10) == pytest.approx(0.1)
    assert m.mean_precision_at_k(np.array([[5, -1]]), [rel], 10) == pytest.approx(0.1)  # dense path, padded


def test_reciprocal_rank_anywhere_and_at_k():
    ranked, rel = ["x", "y", "a"], {"a"}
    assert m.reciprocal_rank(ranked, rel) == pytest.approx(1 / 3)
    assert m.reciprocal_rank(ranked, rel, k=2) == 0.0
    assert m.reciprocal_rank(ranked, {"q"}) == 0.0
    assert m.mean_reciprocal_rank([ranked, ["a"]], [rel, rel]) == pytest.approx((1 / 3 + 1) / 2)
    assert m.mean_reciprocal_rank([ranked, ["a"]], [rel, rel], k=2) == pytest.approx((0 + 1) / 2)


def test_users_without_relevant_items_are_zero_and_skipped_by_means():
    for fn in (m.precision_at_k, m.recall_at_k, m.ndcg_at_k, m.average_precision_at_k, m.hit_at_k):
        assert fn(["a", "b"], set(), 2) == 0.0
    assert m.reciprocal_rank(["a"], []) == 0.0
    # user 2 has no ground truth: mean precision@5 is user 1's 0.4, not (0.4 + 0) / 2
    hits = m.hit_matrix([A_RANKED, ["b"]], [A_REL, set()])
    assert hits.precision(5).tolist() == pytest.approx([0.4, 0.0])
    assert m.mean_precision_at_k([A_RANKED, ["b"]], [A_REL, set()], 5) == pytest.approx(0.4)
    assert m.ranking_report([A_RANKED, ["b"]], [A_REL, set()])["users"] == 1.0
    assert m.ranking_report([], [])["ndcg@10"] == 0.0


def test_align_takes_test_users_and_scores_missing_recommendations_zero():
    ranked_by_user = {"u1": A_RANKED, "u3": ["x"]}
    relevant_by_user = {"u1": A_REL, "u2": ["x"], "u4": set()}
    aligned = m.align(ranked_by_user, relevant_by_user)
    assert aligned.users == ["u1", "u2"]  # u4: no ground truth; u3: not a test user
    assert aligned.ranked == [A_RANKED, []]
    # precision@5 = (0.4 + 0) / 2 users
    assert m.mean_precision_at_k(aligned.ranked, aligned.relevant, 5) == pytest.approx(0.2)


def test_ranking_report_mixed_users():
    ranked = [A_RANKED, B_RANKED, []]
    relevant = [A_REL, B_REL, {"q"}]
    report = m.ranking_report(ranked, relevant, ks=(5,))
    assert report["users"] == 3.0
    assert report["precision@5"] == pytest.approx((0.4 + 0.4 + 0) / 3)
    assert report["recall@5"] == pytest.approx((2 / 3 + 1 + 0) / 3)
    assert report["ndcg@5"] == pytest.approx((0.477624 + 0.850345 + 0) / 3, abs=1e-6)
    assert report["map@5"] == pytest.approx((0.3 + 0.7 + 0) / 3)
    assert report["hit_rate@5"] == pytest.approx(2 / 3)
    assert report["mrr"] == pytest.approx((1 / 2 + 1 + 0) / 3)
    assert set(m.ranking_report(ranked, relevant)) >= {"ndcg@10", "recall@20", "map@5", "mrr", "users"}


def test_dense_hit_matrix_padding_and_duplicates():
    ranked = np.array([[3, 3, 7, 3, 9], [4, -1, -1, -1, -1]])
    hits = m.hit_matrix(ranked, [{3, 9}, {4, 8}])
    assert hits.matrix.tolist() == [[True, False, False, False, True], [True, False, False, False, False]]
    assert hits.n_relevant.tolist() == [2, 2]
    assert hits.average_precision(5).tolist() == pytest.approx([0.7, 0.5])


def test_vectorised_paths_agree_with_reference_definitions():
    rng = np.random.default_rng(7)
    for _ in range(20):
        n_users, width = int(rng.integers(1, 30)), int(rng.integers(1, 12))
        ranked = rng.integers(-1, 15, size=(n_users, width))  # small id range: duplicates and padding
        relevant = [set(rng.integers(0, 15, size=int(rng.integers(0, 5))).tolist()) for _ in range(n_users)]
        dense = m.hit_matrix(ranked, relevant)
        generic = m.hit_matrix(ranked.tolist(), relevant)
        assert (dense.matrix == generic.matrix).all()
        assert (dense.n_relevant == generic.n_relevant).all()
        lists = ranked.tolist()
        for k in (1, 3, width + 2):
            for method, ref in [
                ("precision", m.precision_at_k),
                ("recall", m.recall_at_k),
                ("ndcg", m.ndcg_at_k),
                ("average_precision", m.average_precision_at_k),
                ("hit_rate", m.hit_at_k),
            ]:
                expected = [ref(lst, rel, k) for lst, rel in zip(lists, relevant, strict=True)]
                assert getattr(dense, method)(k) == pytest.approx(expected), (method, k)
        expected_rr = [m.reciprocal_rank(lst, rel) for lst, rel in zip(lists, relevant, strict=True)]
        assert dense.reciprocal_rank() == pytest.approx(expected_rr)


def test_single_target_fast_path_agrees_with_general_path():
    rng = np.random.default_rng(42)
    for _ in range(25):
        n_users, width = int(rng.integers(1, 40)), int(rng.integers(1, 25))
        ranked = rng.integers(-1, 30, size=(n_users, width))
        targets = rng.integers(-1, 30, size=n_users)  # -1: no ground truth
        fast = m.single_target_report(m.single_target_ranks(ranked, targets), ks=(1, 5, 10, 20))
        general = m.ranking_report(ranked, targets, ks=(1, 5, 10, 20))
        generic = m.ranking_report(ranked.tolist(), [{t} for t in targets.tolist()], ks=(1, 5, 10, 20))
        assert fast.keys() == general.keys()
        for key in fast:
            assert fast[key] == pytest.approx(general[key]), key
            assert fast[key] == pytest.approx(generic[key]), key


def test_single_target_ranks():
    ranked = np.array([[5, 2, 2], [1, 2, 3], [7, 7, 7]])
    ranks = m.single_target_ranks(ranked, np.array([2, 9, -1]))
    assert ranks[0] == 1 and np.isinf(ranks[1]) and np.isnan(ranks[2])
    # one user, rank 1: HR@1 = 0, HR@2 = 1, NDCG@2 = 1/log2(3), MRR = 1/2
    report = m.single_target_report(ranks, ks=(1, 2))
    assert report["users"] == 2.0
    assert report["hit_rate@2"] == pytest.approx(1 / 2)
    assert report["ndcg@2"] == pytest.approx((1 / L3 + 0) / 2)
    assert report["mrr"] == pytest.approx((1 / 2 + 0) / 2)
    assert report["hit_rate@1"] == 0.0


# Beyond accuracy -------------------------------------------------------------------------------------------

CATALOG = ["a", "b", "c", "d"]
LISTS = [["a", "b"], ["a", "c", "zz"], ["a", None, "a"]]  # "zz" not sellable; None padding; repeat of "a"


def test_catalog_coverage_and_counts():
    # a: 3 lists, b: 1, c: 1, d: 0 ("zz" outside the catalogue, the repeated "a" counts once)
    assert m.recommendation_counts(LISTS, CATALOG).tolist() == [3, 1, 1, 0]
    assert m.catalog_coverage(LISTS, CATALOG) == pytest.approx(3 / 4)
    assert m.catalog_coverage(LISTS, []) == 0.0
    dense = np.array([[1, 2, -1], [1, 3, 99], [1, -1, 1]])
    assert m.recommendation_counts(dense, np.arange(1, 5)).tolist() == [3, 1, 1, 0]


def test_gini_and_entropy():
    # counts [0, 1, 1, 3]: sum |xi - xj| over ordered pairs = 18; G = 18 / (2 * 4^2 * 1.25) = 0.45
    # equivalently 2 * (1*0 + 2*1 + 3*1 + 4*3) / (4 * 5) - 5/4 = 1.7 - 1.25
    assert m.gini_index([3, 1, 1, 0]) == pytest.approx(0.45)
    assert m.gini_index([2, 2, 2]) == pytest.approx(0.0)
    assert m.gini_index([0, 0, 0, 5]) == pytest.approx(0.75)  # the maximum 1 - 1/n
    assert m.gini_index([]) == 0.0 and m.gini_index([0, 0]) == 0.0
    # p = (3/5, 1/5, 1/5): H = 0.6 * log2(5/3) + 2 * 0.2 * log2(5) = 1.370951 bits
    assert m.shannon_entropy([3, 1, 1, 0]) == pytest.approx(1.370951, abs=1e-6)
    assert m.shannon_entropy([1, 1, 1, 1]) == pytest.approx(2.0)
    assert m.shannon_entropy([0, 0]) == 0.0
    dist = m.distributional_coverage(LISTS, CATALOG)
    assert dist == pytest.approx({"coverage": 0.75, "gini": 0.45, "entropy": 1.370951}, abs=1e-6)


def test_novelty_with_add_one_smoothing():
    # distinct (user, item): (u1,a) (u1,b) (u2,a) (u3,a) (u3,c); N = 3 users
    # p = (users + 1) / (N + 1): a = 4/4 -> 0 bits, b = c = 2/4 -> 1 bit, unseen d = 1/4 -> 2 bits
    train_users = ["u1", "u1", "u2", "u3", "u3", "u3"]
    train_items = ["a", "b", "a", "a", "a", "c"]
    ranked = [
        ["a", "b"],
        ["d", "d", "c"],
        [],
    ]  # per list: (0 + 1) / 2, (2 + 1) / 2 (repeat ignored); [] skipped
    assert m.novelty(ranked, train_users, train_items) == pytest.approx(1.0)
    # the same with integer arrays (vectorised path) and padding
    users = np.array([1, 1, 2, 3, 3, 3])
    items = np.array([10, 11, 10, 10, 10, 12])
    dense = np.array([[10, 11, -1], [13, 13, 12]])
    assert m.novelty(dense, users, items) == pytest.approx(1.0)


def test_intra_list_diversity():
    vectors = {"a": [1.0, 0.0], "b": [0.0, 1.0], "c": [1.0, 1.0], "z": [0.0, 0.0]}
    # [a, b, c]: cosines 0, 1/sqrt2, 1/sqrt2 -> mean 0.471405 -> 0.528595
    # [a, a, z]: repeat ignored, zero vector ignored -> one vector -> skipped
    # [a, b]: cosine 0 -> 1.0
    expected = (1 - math.sqrt(2) / 3 + 1.0) / 2
    assert m.intra_list_diversity([["a", "b", "c"], ["a", "a", "z"], ["a", "b"]], vectors) == pytest.approx(expected)
    table = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])  # row 0: zero padding vector
    dense = np.array([[1, 2, 3], [1, 1, 0], [1, 2, -1]])
    assert m.intra_list_diversity(dense, table) == pytest.approx(expected)
    assert m.intra_list_diversity(dense, table, chunk_rows=2) == pytest.approx(expected)
    assert m.intra_list_diversity([["a"]], vectors) == 0.0


def test_category_diversity():
    categories = {"a": "x", "b": "x", "c": "y", "d": None}
    # [a, b, c]: 3 pairs, 1 within category x -> 2/3; [a, d]: d has no category -> skipped; [c, a] -> 1
    lists = [["a", "b", "c"], ["a", "d"], ["c", "a"]]
    assert m.category_diversity(lists, categories) == pytest.approx((2 / 3 + 1) / 2)
    dense = np.array([[1, 2, 3], [1, 4, -1], [3, 1, 1]])
    codes = np.array([None, "x", "x", "y", None], dtype=object)
    assert m.category_diversity(dense, codes) == pytest.approx((2 / 3 + 1) / 2)
    assert m.category_diversity([["a", "b"]], categories) == pytest.approx(0.0)


def test_invalid_k():
    with pytest.raises(ValueError):
        m.precision_at_k(["a"], {"a"}, 0)
    with pytest.raises(ValueError):
        m.mean_ndcg_at_k([["a"]], [{"a"}], 0)
