"""Personalised search: a published day's search index, its learned blend weight, and its offline evaluation.

`recs.search(user_id, query, n)` (sql/migrations/011_search.sql) takes the best text matches of the live day's
catalogue and ranks them by text + w_cos * cosine(user vector, item vector) + w_pop * popularity (users without
a vector: text + w_pop_cold * popularity). `publish_search_index` builds the day's index under its publish_id
before the swap, so a search sees the old day or the new one, never a mixture. `evaluate_search` fits the
weights on the validation days' logged searches (query -> clicked item), stores them with the model
(models.search_blend), and judges personalised, text+popularity and text-only ranking on the day's searches
(MRR@10 and NDCG@10 of the clicked item, methods `search_*` in eval.metrics).
"""

from __future__ import annotations

import itertools
import logging
import time
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import psycopg2

from recpipeline import db, features, registry, scoring
from recpipeline.days import day_start_epoch
from recpipeline.evaluation.metrics import bootstrap_intervals
from recpipeline.events import EVENT_WEIGHTS

log = logging.getLogger(__name__)
POPULARITY_DAYS = 7  # popularity = weighted interactions of the 7 days before the searched day
INTEREST_DAYS = 30  # a user's interest categories: the last 30 days
LOG_DAYS = 30  # suggestions come from the last 30 days of the search log
MIN_QUERY_USERS = 2  # a logged query is suggested only once this many users searched it
CANDIDATES = 1000  # text matches re-ranked per search (as search.run)
VALIDATION_DAYS = 3  # the blend is fitted on the searches of the days before the evaluated day
SEARCHES_PER_DAY = 2000  # replayed searches per day (a fixed sample)
K = 10
GRID = (0.0, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0)  # candidate weights for the fit
PERSONALISED, TEXT_POP, TEXT = "search_personalised", "search_text_pop", "search_text"
METHODS = (PERSONALISED, TEXT_POP, TEXT)


@dataclass(frozen=True)
class Blend:
    """Weights of the ranking: personalised text + w_cos * cos + w_pop * pop; cold text + w_pop_cold * pop."""

    w_cos: float
    w_pop: float
    w_pop_cold: float


DEFAULT_BLEND = Blend(w_cos=1.0, w_pop=0.5, w_pop_cold=0.5)  # served only until a model has a fitted blend


def _event_weights() -> dict[str, list]:
    """The event weights (recpipeline.events) as bound parameters."""
    return {"event_types": list(EVENT_WEIGHTS), "weights": [float(w) for w in EVENT_WEIGHTS.values()]}


def blend_for(url: str, ds: date, model_id: str) -> tuple[Blend, str]:
    """The weights to serve `model_id` with: its fitted blend, else the latest of an earlier day, else default."""
    with db.connect(url) as conn, conn.cursor() as cur:
        rows = db.fetch_all(cur, "search_blend_for", {"ds": ds, "model_id": model_id})
    if not rows:
        return DEFAULT_BLEND, "default"
    source, w_cos, w_pop, w_pop_cold = rows[0]
    return Blend(float(w_cos), float(w_pop), float(w_pop_cold)), source


def publish_search_index(url: str, ds: date, publish_id: int, model_id: str) -> dict:
    """Build the search index of a publish attempt (before its swap): catalogue text, popularity, item and user
    vectors, interests, the query log and the blend weights, all under `publish_id`."""
    started = time.perf_counter()
    blend, source = blend_for(url, ds, model_id)
    conn = psycopg2.connect(url)  # not db.connect: its `with` block is a transaction, and the drops commit
    try:  # partition by partition (see migration 011 on locking)
        conn.autocommit = True
        with conn.cursor() as cur:
            db.execute(cur, "search_drop_superseded")
            dropped = cur.fetchone()[0]
            db.execute(cur, "search_drop_index", {"publish_id": publish_id})
    finally:
        conn.close()
    with db.connect(url) as conn, conn.cursor() as cur:
        db.execute(cur, "search_prepare", {"publish_id": publish_id})
        _, kind = cur.fetchone()
    params = {"ds": ds, "publish_id": publish_id, "model_id": model_id, **_event_weights()}
    with db.connect(url) as conn, conn.cursor() as cur:
        db.execute(
            cur, "search_build_items", {**params, "since": ds - timedelta(days=POPULARITY_DAYS - 1), "through": ds}
        )
        db.execute(cur, "search_build_users", params)
        db.execute(
            cur, "search_build_interests", {**params, "since": ds - timedelta(days=INTEREST_DAYS - 1), "through": ds}
        )
        db.execute(
            cur,
            "search_build_queries",
            {**params, "since": ds - timedelta(days=LOG_DAYS - 1), "through": ds, "min_users": MIN_QUERY_USERS},
        )
        db.execute(
            cur,
            "search_build_config",
            {
                **params,
                "w_cos": blend.w_cos,
                "w_pop": blend.w_pop,
                "w_pop_cold": blend.w_pop_cold,
                "blend_from": source,
            },
        )
        items, users, queries = cur.fetchone()
        db.execute(cur, "search_analyze", {"publish_id": publish_id})
    seconds = time.perf_counter() - started
    log.info(
        "search index %s publish_id %d: %d items, %d user vectors (%s), %d queries; blend w_cos %.2f w_pop %.2f "
        "w_pop_cold %.2f from %s; %d superseded indexes dropped; %.1fs",
        ds,
        publish_id,
        items,
        users,
        kind,
        queries,
        blend.w_cos,
        blend.w_pop,
        blend.w_pop_cold,
        source,
        dropped,
        seconds,
    )
    return {"items": int(items), "users": int(users), "queries": int(queries), "vectors": kind, "blend_from": source}


@dataclass
class Replay:
    """Logged searches with their candidates as search.run picks them; candidate arrays are grouped by search."""

    day: np.ndarray  # (searches,) datetime64[D]
    user_ids: list[str]
    clicked: np.ndarray  # (searches,) object item ids
    search: np.ndarray  # (candidates,) index of the search each candidate belongs to
    item_ids: np.ndarray  # (candidates,) object
    text: np.ndarray  # (candidates,) ts_rank / the search's best ts_rank
    popularity: np.ndarray  # (candidates,)
    cos: np.ndarray  # (candidates,) cosine with the user's vector; nan where the user has none
    tiebreak: np.ndarray  # (candidates,) rank inside the search by popularity desc, item_id
    idorder: np.ndarray  # (candidates,) rank inside the search by item_id

    @property
    def n(self) -> int:
        return len(self.user_ids)

    def subset(self, keep: np.ndarray) -> Replay:
        """The searches where `keep` is true (with their candidates), renumbered."""
        new_index = np.cumsum(keep) - 1
        rows = keep[self.search]
        return Replay(
            self.day[keep],
            [u for u, k in zip(self.user_ids, keep, strict=True) if k],
            self.clicked[keep],
            new_index[self.search[rows]],
            self.item_ids[rows],
            self.text[rows],
            self.popularity[rows],
            self.cos[rows],
            self.tiebreak[rows],
            self.idorder[rows],
        )


def _ranks_inside(search: np.ndarray, keys: list[np.ndarray]) -> np.ndarray:
    """0-based position of each candidate inside its search when sorted by `keys` (last key most significant)."""
    order = np.lexsort([*keys, search])
    pos = np.empty(len(search), dtype=np.int64)
    starts = np.searchsorted(search[order], search[order], side="left")
    pos[order] = np.arange(len(search)) - starts
    return pos


def load_replay(url: str, ds: date, since: date, through: date, artifact: str, per_day: int) -> Replay:
    """Logged searches of days since..through (a sample of `per_day` a day) replayed against ds's catalogue, with
    user vectors of `artifact`'s model from each user's history before the searched day (nothing of that day)."""
    from recpipeline.model.daily import load_for_day

    params = {"since": since, "through": through, "catalogue": ds, "per_day": per_day}
    with db.connect(url) as conn, conn.cursor() as cur:
        searches = db.fetch_all(cur, "search_logged", params)
        db.execute(cur, "search_eval_prepare", {"catalogue": ds})
        db.copy_in(
            cur, "search_eval_queries", ("search_id", "day", "q"), ((i, r[0], r[3]) for i, r in enumerate(searches))
        )
        for day in sorted({r[0] for r in searches}):
            db.execute(
                cur,
                "search_eval_popularity",
                {
                    "day": day,
                    "since": day - timedelta(days=POPULARITY_DAYS),
                    "through": day - timedelta(days=1),
                    **_event_weights(),
                },
            )
        db.execute(cur, "search_eval_analyze")
        rows = db.fetch_all(cur, "search_eval_candidates", {"cap": CANDIDATES})
    search = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
    item_ids = np.array([r[1] for r in rows], dtype=object)
    tr = np.fromiter((r[2] for r in rows), dtype=np.float64, count=len(rows))
    pop = np.fromiter((r[3] for r in rows), dtype=np.float64, count=len(rows))
    best = np.zeros(len(searches))
    np.maximum.at(best, search, tr)
    text = np.divide(tr, best[search], out=np.zeros_like(tr), where=best[search] > 0)

    model, items, item_vecs = load_for_day(url, ds, artifact)
    item_vecs = scoring.normalise(item_vecs)
    item_vecs[0] = 0.0  # items without a vector score cosine 0, as in search.run
    cand_vecs = item_vecs[items.indices(item_ids)].astype(np.float32)
    user_vecs = _user_vectors(url, ds, model, searches)
    known = np.array([v is not None for v in user_vecs], dtype=bool)
    dim = item_vecs.shape[1]
    users = np.stack([v if v is not None else np.zeros(dim, dtype=np.float32) for v in user_vecs]) if searches else None
    cos = np.full(len(rows), np.nan)
    for first in range(0, len(rows), 200_000):  # chunks bound the (candidates x dim) temporaries
        part = slice(first, first + 200_000)
        cos[part] = np.einsum("ij,ij->i", cand_vecs[part], users[search[part]])
    cos[~known[search]] = np.nan
    id_rank = np.unique(item_ids, return_inverse=True)[1] if len(rows) else np.zeros(0, dtype=np.int64)
    return Replay(
        day=np.array([r[0] for r in searches], dtype="datetime64[D]"),
        user_ids=[r[2] for r in searches],
        clicked=np.array([r[4] for r in searches], dtype=object),
        search=search,
        item_ids=item_ids,
        text=text,
        popularity=pop,
        cos=cos,
        tiebreak=_ranks_inside(search, [id_rank, -pop]),
        idorder=_ranks_inside(search, [id_rank]),
    )


def _user_vectors(url: str, ds: date, model, searches: list[tuple]) -> list[np.ndarray | None]:
    """Per search, the user's unit vector from their interactions before the searched day (None: no history)."""
    users = {r[2] for r in searches}
    seqs = features.load_sequences(url, ds)
    keep = [i for i, u in enumerate(seqs.user_ids) if u in users]
    out: list[np.ndarray | None] = [None] * len(searches)
    for day in sorted({r[0] for r in searches}):
        cutoff = day_start_epoch(day)
        hist, events, ids = [], [], []
        for i in keep:
            n = int(np.searchsorted(seqs.ts[i], cutoff, side="left"))
            if n:
                hist.append(seqs.items[i][:n])
                events.append(seqs.events[i][:n])
                ids.append(seqs.user_ids[i])
        if not ids:
            continue
        vecs = scoring.normalise(model.user_vectors(hist, events))
        by_user = dict(zip(ids, vecs, strict=True))
        for j, r in enumerate(searches):
            if r[0] == day:
                out[j] = by_user.get(r[2])
    return out


def click_ranks(replay: Replay, method: str, blend: Blend) -> np.ndarray:
    """1-based rank of each search's clicked item under `method` as search.run orders it (inf: not a candidate)."""
    if method == TEXT:
        score, tiebreak = replay.text, replay.idorder
    else:
        cold = np.isnan(replay.cos) | (method == TEXT_POP)
        personal = replay.text + blend.w_cos * np.nan_to_num(replay.cos) + blend.w_pop * replay.popularity
        score = np.where(cold, replay.text + blend.w_pop_cold * replay.popularity, personal)
        tiebreak = replay.tiebreak
    return _ranks_of_clicked(replay, score, tiebreak)


def _ranks_of_clicked(replay: Replay, score: np.ndarray, tiebreak: np.ndarray) -> np.ndarray:
    is_clicked = replay.item_ids == replay.clicked[replay.search]
    ranks = np.full(replay.n, np.inf)
    if not is_clicked.any():
        return ranks
    at = np.flatnonzero(is_clicked)
    clicked_score = np.full(replay.n, np.nan)
    clicked_tie = np.zeros(replay.n, dtype=np.int64)
    clicked_score[replay.search[at]] = score[at]
    clicked_tie[replay.search[at]] = tiebreak[at]
    s, t = clicked_score[replay.search], clicked_tie[replay.search]
    ahead = (score > s) | ((score == s) & (tiebreak < t))
    counts = np.bincount(replay.search[ahead], minlength=replay.n)
    found = ~np.isnan(clicked_score)
    ranks[found] = counts[found] + 1
    return ranks


def per_search_metrics(ranks: np.ndarray, k: int = K) -> np.ndarray:
    """(searches x 2): reciprocal rank and NDCG of the one clicked item, both 0 beyond rank k."""
    inside = ranks <= k
    rr = np.where(inside, 1.0 / np.where(inside, ranks, 1.0), 0.0)
    ndcg = np.where(inside, 1.0 / np.log2(np.where(inside, ranks, 1.0) + 1.0), 0.0)
    return np.column_stack([rr, ndcg])


def mrr(ranks: np.ndarray, k: int = K) -> float:
    """Mean reciprocal rank at k (0 for no searches)."""
    return float(per_search_metrics(ranks, k)[:, 0].mean()) if len(ranks) else 0.0


def fit_blend(replay: Replay) -> tuple[Blend, dict[str, float]]:
    """Grid-search the weights maximising MRR@10 on `replay`: (w_cos, w_pop) for users with a vector, w_pop_cold
    for text+popularity; ties go to the smaller weights. Returns the blend and the MRR@10 of each method."""
    best_cold = max(GRID, key=lambda w: (mrr(click_ranks(replay, TEXT_POP, Blend(0.0, 0.0, w))), -w))
    best = max(
        itertools.product(GRID, GRID),
        key=lambda wc_wp: (mrr(click_ranks(replay, PERSONALISED, Blend(*wc_wp, best_cold))), -sum(wc_wp)),
    )
    blend = Blend(best[0], best[1], best_cold)
    scores = {method: mrr(click_ranks(replay, method, blend)) for method in METHODS}
    return blend, scores


def evaluate_search(
    url: str,
    ds: date,
    model_id: str,
    artifact: str | None = None,
    validation_days: int = VALIDATION_DAYS,
    per_day: int = SEARCHES_PER_DAY,
) -> dict:
    """Fit the blend on the searches of the `validation_days` days before ds and store it with the model; then
    MRR@10 and NDCG@10 of personalised, text+popularity and text-only ranking on ds's searches into eval.metrics."""
    started = time.perf_counter()
    artifact = artifact or registry.get(url, model_id).artifact_uri
    fit_from = ds - timedelta(days=validation_days)
    replay = load_replay(url, ds, fit_from, ds, artifact, per_day)
    on_day = replay.day == np.datetime64(ds, "D")
    fit, test = replay.subset(~on_day), replay.subset(on_day)
    if fit.n:
        blend, fitted = fit_blend(fit)
    else:
        blend, fitted = blend_for(url, ds, model_id)[0], {m: float("nan") for m in METHODS}
        log.warning("search %s: no logged searches on %s..%s to fit the blend; using %s", ds, fit_from, ds, blend)
    if fit.n:
        store_blend(url, ds, model_id, blend, fit_from, ds - timedelta(days=1), fit.n, fitted)
    results = {method: per_search_metrics(click_ranks(test, method, blend)) for method in METHODS}
    store_metrics(url, ds, model_id, results)
    summary = {
        m: {"mrr@10": float(v[:, 0].mean()) if len(v) else 0.0, "ndcg@10": float(v[:, 1].mean()) if len(v) else 0.0}
        for m, v in results.items()
    }
    log.info(
        "search %s: blend w_cos %.2f w_pop %.2f w_pop_cold %.2f fitted on %d searches of %s..%s (MRR@10 %.4f); "
        "on %d searches of the day MRR@10 personalised %.4f, text+pop %.4f, text %.4f; %.1fs",
        ds,
        blend.w_cos,
        blend.w_pop,
        blend.w_pop_cold,
        fit.n,
        fit_from,
        ds - timedelta(days=1),
        fitted.get(PERSONALISED, float("nan")),
        test.n,
        summary[PERSONALISED]["mrr@10"],
        summary[TEXT_POP]["mrr@10"],
        summary[TEXT]["mrr@10"],
        time.perf_counter() - started,
    )
    return {"searches": test.n, "fit_searches": fit.n, "blend": blend.__dict__, **summary}


def store_blend(
    url: str, ds: date, model_id: str, blend: Blend, fit_from: date, fit_to: date, searches: int, mrrs: dict
) -> None:
    """Record the fitted weights with the model (models.search_blend)."""
    with db.connect(url) as conn, conn.cursor() as cur:
        db.execute(
            cur,
            "search_blend_upsert",
            {
                "model_id": model_id,
                "ds": ds,
                "w_cos": blend.w_cos,
                "w_pop": blend.w_pop,
                "w_pop_cold": blend.w_pop_cold,
                "fit_from": fit_from,
                "fit_to": fit_to,
                "searches": searches,
                "mrr_personalised": mrrs[PERSONALISED],
                "mrr_text_pop": mrrs[TEXT_POP],
                "mrr_text": mrrs[TEXT],
            },
        )


def store_metrics(url: str, ds: date, model_id: str, results: dict[str, np.ndarray]) -> None:
    """Replace the day's search rows in eval.metrics: per method mrr@10 and ndcg@10 over the searches, with
    95% bootstrap intervals (the same resamples for every method)."""
    rows = []
    for method, values in results.items():
        if not len(values):
            continue
        low, high = bootstrap_intervals(values, seed=0)
        means = values.mean(axis=0)
        for j, metric in enumerate(("mrr", "ndcg")):
            rows.append((ds, model_id, method, metric, K, float(means[j]), len(values), float(low[j]), float(high[j])))
    with db.connect(url) as conn, conn.cursor() as cur:
        db.execute(cur, "search_eval_clear", {"ds": ds, "model_id": model_id, "methods": list(METHODS)})
        db.copy_in(
            cur,
            "eval.metrics",
            ("ds", "model_id", "method", "metric", "k", "value", "users", "ci_low", "ci_high"),
            rows,
        )
