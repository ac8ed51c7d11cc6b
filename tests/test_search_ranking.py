"""The offline search evaluation's ranking arithmetic (recpipeline.search), without a database."""

from __future__ import annotations

import numpy as np

from recpipeline import search


def replay() -> search.Replay:
    """Two searches with three candidates each: the click is the popular item in search 0 (whose user has no
    vector; a text match slightly better than it) and the item closest to the user in search 1 (text ties)."""
    searched = np.array([0, 0, 0, 1, 1, 1])
    item_ids = np.array(["a", "b", "c", "a", "b", "c"], dtype=object)
    popularity = np.array([0.1, 0.9, 0.5, 0.9, 0.1, 0.5])
    id_rank = np.array([0, 1, 2, 0, 1, 2])
    return search.Replay(
        day=np.array(["2030-01-01", "2030-01-02"], dtype="datetime64[D]"),
        user_ids=["u0", "u1"],
        clicked=np.array(["b", "b"], dtype=object),
        search=searched,
        item_ids=item_ids,
        text=np.array([1.0, 0.8, 0.8, 1.0, 1.0, 1.0]),
        popularity=popularity,
        cos=np.array([np.nan, np.nan, np.nan, 0.0, 0.9, 0.1]),
        tiebreak=search._ranks_inside(searched, [id_rank, -popularity]),
        idorder=search._ranks_inside(searched, [id_rank]),
    )


def test_click_ranks_follow_search_run_order() -> None:
    r = replay()
    blend = search.Blend(w_cos=1.0, w_pop=0.0, w_pop_cold=1.0)
    assert search.click_ranks(r, search.TEXT, blend).tolist() == [2, 2]  # ties by item_id: a, b, c
    assert search.click_ranks(r, search.TEXT_POP, blend).tolist() == [1, 3]  # b popular enough, then the least popular
    assert search.click_ranks(r, search.PERSONALISED, blend).tolist() == [1, 1]  # cold -> text+pop; cosine


def test_missing_click_counts_zero_and_metrics() -> None:
    r = replay()
    r.clicked = np.array(["zzz", "b"], dtype=object)
    ranks = search.click_ranks(r, search.TEXT, search.DEFAULT_BLEND)
    assert np.isinf(ranks[0]) and ranks[1] == 2
    values = search.per_search_metrics(np.array([1.0, 2.0, 11.0, np.inf]))
    assert np.allclose(values[:, 0], [1.0, 0.5, 0.0, 0.0])
    assert np.allclose(values[:, 1], [1.0, 1 / np.log2(3), 0.0, 0.0])


def test_fit_prefers_the_weights_that_rank_clicks_first() -> None:
    blend, scores = search.fit_blend(replay())
    assert blend.w_cos > 0 and blend.w_pop_cold > 0
    assert scores[search.PERSONALISED] == 1.0 and scores[search.TEXT] == 0.5
    assert search.mrr(search.click_ranks(replay(), search.PERSONALISED, blend)) == 1.0


def test_subset_renumbers_searches() -> None:
    one = replay().subset(np.array([False, True]))
    assert one.n == 1 and one.search.tolist() == [0, 0, 0] and one.user_ids == ["u1"]


def naive_candidates(day_of, query_of, matches, pops, cap):
    """search.run's pick spelled out search by search: the query's matches by ts_rank, popularity that day,
    item number; the best `cap`; text over the best; tie-break ranks by (popularity desc, item) and by item."""
    out = {k: [] for k in ("search", "items", "text", "popularity", "tiebreak", "idorder")}
    for s, (d, q) in enumerate(zip(day_of, query_of, strict=True)):
        rows = sorted(((-tr, -pops[d][i], i, tr) for qq, i, tr in matches if qq == q))[:cap]
        best = max((r[3] for r in rows), default=0.0)
        by_pop = sorted(rows, key=lambda r: (r[1], r[2]))
        by_id = sorted(rows, key=lambda r: r[2])
        for r in rows:
            out["search"].append(s)
            out["items"].append(r[2])
            out["text"].append(r[3] / best if best > 0 else 0.0)
            out["popularity"].append(-r[1])
            out["tiebreak"].append(by_pop.index(r))
            out["idorder"].append(by_id.index(r))
    return {k: np.array(v) for k, v in out.items()}


def test_candidates_per_distinct_query_equal_a_search_by_search_pick() -> None:
    rng = np.random.default_rng(3)
    n_items, n_queries, days = 40, 6, 3
    matches = []
    for q in range(n_queries):
        hit = np.sort(rng.choice(n_items, size=int(rng.integers(0, 25)), replace=False))
        tr = rng.choice([0.1, 0.2, 0.3, 0.6], size=len(hit))  # many ties at the cut
        matches += [(q, int(i), float(t)) for i, t in zip(hit, tr, strict=True)]
    pops = [rng.choice([0.0, 0.25, 0.5, 1.0], size=n_items) for _ in range(days)]
    day_of = rng.integers(0, days, size=30)
    query_of = rng.integers(0, n_queries, size=30)
    q_ids, m_idx, m_tr = (np.array(c) for c in zip(*matches, strict=True))
    got = search._candidates(day_of, query_of, q_ids, m_idx, m_tr, pops, cap=7)
    want = naive_candidates(day_of, query_of, matches, pops, cap=7)
    for key, values in want.items():
        assert got[key].tolist() == values.tolist(), key
    empty = search._candidates(np.zeros(0, int), np.zeros(0, int), q_ids, m_idx, m_tr, pops, cap=7)
    assert all(len(v) == 0 for v in empty.values())


def random_replay(seed: int, searches: int = 40, per: int = 30) -> search.Replay:
    """Searches with coarse (tie-rich) text, popularity and cosine; some users cold, some clicks not candidates."""
    rng = np.random.default_rng(seed)
    searched = np.repeat(np.arange(searches), per)
    items = np.tile(np.arange(per), searches)
    popularity = rng.choice([0.0, 0.1, 0.5, 1.0], size=len(items))
    cos = rng.choice([-0.5, 0.0, 0.2, 0.9], size=len(items))
    cos[np.isin(searched, rng.choice(searches, size=searches // 4, replace=False))] = np.nan
    return search.Replay(
        day=np.full(searches, "2030-01-01", dtype="datetime64[D]"),
        user_ids=[f"u{i}" for i in range(searches)],
        clicked=rng.integers(0, per + 3, size=searches),  # beyond `per`: not a candidate
        search=searched,
        item_ids=items,
        text=rng.choice([0.25, 0.5, 1.0], size=len(items)),
        popularity=popularity,
        cos=cos,
        tiebreak=search._ranks_inside(searched, [items, -popularity]),
        idorder=search._ranks_inside(searched, [items]),
    )


def test_fit_grid_scores_every_weight_as_click_ranks() -> None:
    for seed in range(3):
        full = random_replay(seed)
        grid = search._FitGrid(full)
        assert len(grid.search) < len(full.search)
        for w_cos in search.GRID:
            for w_pop in search.GRID:
                blend = search.Blend(w_cos, w_pop, w_pop)
                for method in (search.PERSONALISED, search.TEXT_POP):
                    want = search.mrr(search.click_ranks(full, method, blend))
                    assert grid.mrr(method, blend) == want, (seed, blend, method)
