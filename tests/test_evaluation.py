"""The publish gate and the chronological split, on hand-made numbers."""

from __future__ import annotations

import numpy as np

from recpipeline.config import load_settings
from recpipeline.evaluation.gate import gate
from recpipeline.evaluation.protocol import chronological_split, remap_ranking
from recpipeline.features import Sequences


def results(model: float, **baselines: float) -> dict[str, dict[str, float]]:
    out = {"model": {"ndcg@10": model, "users": 10}}
    out.update({name: {"ndcg@10": value, "users": 10} for name, value in baselines.items()})
    return out


def test_gate_needs_a_margin_over_the_best_configured_baseline():
    s = load_settings({"gate_margin": 0.1, "gate_baselines": "popularity,trending,cooccurrence"})
    assert gate(results(0.23, popularity=0.1, cooccurrence=0.2), s, None).blessed
    verdict = gate(results(0.21, popularity=0.1, cooccurrence=0.2), s, None)
    assert not verdict.blessed and verdict.best_baseline == "cooccurrence" and "needs > 0.2200" in verdict.reason
    only_pop = load_settings({"gate_margin": 0.1, "gate_baselines": "popularity"})
    assert gate(results(0.21, popularity=0.1, cooccurrence=0.2), only_pop, None).blessed


def test_gate_rejects_a_regression_against_the_last_blessed_model_on_the_same_users():
    s = load_settings({"gate_margin": 0.0, "gate_tolerance": 0.1})
    assert gate(results(0.30, popularity=0.1), s, last_blessed=0.32).blessed  # within 10%
    verdict = gate(results(0.28, popularity=0.1), s, last_blessed=0.32)
    assert not verdict.blessed and "below the last blessed" in verdict.reason


def test_chronological_split_uses_only_new_items_after_the_cutoff():
    items = [np.array([1, 2, 3, 2, 4]), np.array([5, 6]), np.array([7])]
    events = [np.ones(5, int), np.ones(2, int), np.ones(1, int)]
    ts = [np.array([1, 2, 3, 10, 11]), np.array([1, 2]), np.array([12])]
    data = chronological_split(Sequences(["u1", "u2", "u3"], items, events, ts), cutoff_epoch=10)
    assert [h.tolist() for h in data.history] == [[1, 2, 3]]  # user 2 has nothing after, user 3 nothing before
    assert data.relevant == [{4}]  # item 2 was seen before the cutoff: not a new item
    assert len(data.all_history) == 2


def test_remap_ranking_between_days_catalogues():
    old_ids = np.array(["", "a", "b", "c"], dtype=object)
    ranked = np.array([[3, 1, -1], [2, 2, 1]])
    out = remap_ranking(ranked, old_ids, {"a": 2, "c": 1})
    assert out.tolist() == [[1, 2, -1], [-1, -1, 2]]
