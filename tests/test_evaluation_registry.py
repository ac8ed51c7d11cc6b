"""Adding a baseline is one registry entry: a toy baseline reaches eval.metrics and the HTML report."""

from __future__ import annotations

import numpy as np

from recpipeline import db, features, ragged
from recpipeline.config import load_settings
from recpipeline.evaluation import baselines, registry


def toy_rank(given: registry.BaselineInput) -> np.ndarray:
    """The catalogue in reverse id order, minus each user's history: a deliberately naive baseline."""
    users, items = ragged.flatten(given.histories)
    order = np.arange(given.n_items, 0, -1, dtype=np.int64)
    return baselines.top_k_excluding(order, given.k, len(given.histories), users, items)


def test_a_registered_toy_baseline_is_evaluated_stored_and_reported(fresh_db, tmp_path, monkeypatch):
    from recpipeline.evaluation import report
    from recpipeline.evaluation.daily import evaluate_day
    from recpipeline.generate import generate_shop
    from recpipeline.local import land_and_validate
    from recpipeline.model.daily import train_day

    monkeypatch.setitem(registry.BASELINES, "toy", registry.BaselineSpec("toy", "reverse id order", toy_rank))
    shop = generate_shop("tiny", 5, tmp_path / "landing")
    settings = load_settings(
        {"database_url": fresh_db, "home": tmp_path / "home", "random_model": True, "gate_baselines": "popularity,toy"}
    )
    for day in shop.days[-4:]:
        assert land_and_validate(
            fresh_db, "canonical", tmp_path / "landing" / day.isoformat(), day, settings=settings
        ).ok
    ds = shop.days[-1]
    features.build_features(fresh_db, ds, settings)
    trained = train_day(fresh_db, ds, settings)
    summary = evaluate_day(fresh_db, ds, settings, trained["model_id"], trained["artifact"])

    with db.connect(fresh_db) as conn, conn.cursor() as cur:
        cur.execute("SELECT metric, k, value FROM eval.metrics WHERE ds = %s AND method = 'toy'", (ds,))
        toy = {(m, k): v for m, k, v in cur.fetchall()}
    expected = {(name, k) for name, spec in registry.METRICS.items() for k in spec.ks}
    assert set(toy) == expected  # every registered metric, at its cut-offs
    assert 0 <= toy[("ndcg", 10)] <= 1 and toy[("coverage", 10)] > 0
    assert "toy_ndcg@10" in summary  # the task's XCom summary names it too
    html = report.report_path(settings.artifacts, ds, trained["model_id"]).read_text()
    assert "<th>toy</th>" in html
