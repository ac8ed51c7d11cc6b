"""Personalised search: a published day's search index, its learned blend weight, and its offline evaluation.

`recs.search(user_id, query, n)` (sql/migrations/011_search.sql, 015_search_speed.sql) takes the best text
matches of the live day's catalogue (kept with the index for the shop's frequent queries) and ranks them by
text + w_cos * cosine(user vector, item vector) + w_pop * popularity (users without a vector: text + w_pop_cold
* popularity). `publish_search_index` builds the day's index under its publish_id before the swap, so a search
sees the old day or the new one, never a mixture. `evaluate_search` fits the weights on the validation days'
logged searches (query -> clicked item), stores them with the model (models.search_blend), and judges
personalised, text+popularity and text-only ranking on the day's searches (MRR@10 and NDCG@10 of the clicked
item, methods `search_*` in eval.metrics).
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
# Replayed searches: at most search_eval_searches (setting, default 2,000) of the evaluated day and as many again
# spread over the validation days, a fixed sample (md5 of the event id), so evaluate's cost does not grow with
# the shop's traffic.
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
        db.execute(cur, "search_build_cache", {"publish_id": publish_id})
        cached = cur.rowcount
        db.execute(cur, "search_analyze", {"publish_id": publish_id})
    seconds = time.perf_counter() - started
    log.info(
        "search index %s publish_id %d: %d items, %d user vectors (%s), %d queries (%d with their candidates kept); "
        "blend w_cos %.2f w_pop %.2f w_pop_cold %.2f from %s; %d superseded indexes dropped; %.1fs",
        ds,
        publish_id,
        items,
        users,
        kind,
        queries,
        cached,
        blend.w_cos,
        blend.w_pop,
        blend.w_pop_cold,
        source,
        dropped,
        seconds,
    )
    return {
        "items": int(items),
        "users": int(users),
        "queries": int(queries),
        "cached": int(cached),
        "vectors": kind,
        "blend_from": source,
    }


@dataclass
class Replay:
    """Logged searches with their candidates as search.run picks them; candidate arrays are grouped by search.

    Item ids are compared, never read: load_replay gives them as the catalogue's numbers in item_id order (ints,
    -1 for a click outside the catalogue), a hand-built replay may give strings."""

    day: np.ndarray  # (searches,) datetime64[D]
    user_ids: list[str]
    clicked: np.ndarray  # (searches,) item ids
    search: np.ndarray  # (candidates,) index of the search each candidate belongs to
    item_ids: np.ndarray  # (candidates,)
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


def sample_caps(searches: int, validation_days: int) -> tuple[int, int]:
    """(searches replayed of the evaluated day, searches a day of each validation day): at most `searches`
    of each, so the replay's cost is bounded whatever the shop's size."""
    return searches, max(1, -(-searches // max(1, validation_days)))


@dataclass
class _Group:
    """One distinct (searched day, word list): its candidates in search.run's order with their ranking inputs."""

    items: np.ndarray  # int32 catalogue numbers
    text: np.ndarray
    popularity: np.ndarray
    tiebreak: np.ndarray
    idorder: np.ndarray


def _group(idx: np.ndarray, tr: np.ndarray, pop: np.ndarray, cap: int) -> _Group:
    """The best `cap` of one word list's matches on one day by ts_rank, then popularity, then item_id (the
    catalogue numbers follow item_id), with text relative to the best and the two tie-break ranks."""
    order = np.lexsort((idx, -pop, -tr))[:cap]
    idx, tr, pop = idx[order], tr[order], pop[order]
    best = tr.max() if len(tr) else 0.0
    text = tr / best if best > 0 else np.zeros_like(tr)
    tiebreak = np.empty(len(idx), dtype=np.int32)
    tiebreak[np.lexsort((idx, -pop))] = np.arange(len(idx), dtype=np.int32)
    idorder = np.empty(len(idx), dtype=np.int32)
    idorder[np.argsort(idx, kind="stable")] = np.arange(len(idx), dtype=np.int32)
    return _Group(idx.astype(np.int32), text, pop, tiebreak, idorder)


def _candidates(
    day_of: np.ndarray,
    query_of: np.ndarray,
    q_ids: np.ndarray,
    m_idx: np.ndarray,
    m_tr: np.ndarray,
    pops: list[np.ndarray],
    cap: int,
) -> dict[str, np.ndarray]:
    """Every search's candidates, grouped by search: each distinct (day, word list) is cut and ordered once
    (`_group`) and repeated for its searches. day_of / query_of: per search its day (index into `pops`, the
    popularity by catalogue number) and word list; (q_ids, m_idx, m_tr): the word lists' matches sorted by q_id."""
    n_queries = int(max(q_ids.max(initial=-1), query_of.max(initial=-1))) + 1
    bounds = np.searchsorted(q_ids, np.arange(n_queries + 1))
    keys, group_of = np.unique(day_of * max(1, n_queries) + query_of, return_inverse=True)
    groups = []
    for key in keys:
        day, q = divmod(int(key), max(1, n_queries))
        part = slice(bounds[q], bounds[q + 1])
        groups.append(_group(m_idx[part], m_tr[part], pops[day][m_idx[part]], cap))
    lengths = np.array([len(g.items) for g in groups], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    per_search = lengths[group_of.ravel()] if len(day_of) else np.zeros(0, dtype=np.int64)
    search = np.repeat(np.arange(len(day_of), dtype=np.int32), per_search)
    first = np.concatenate([[0], np.cumsum(per_search)[:-1]]).astype(np.int64)
    rows = np.repeat(offsets[:-1][group_of.ravel()] - first, per_search) + np.arange(len(search))
    out = {"search": search}
    for field, dtype in (
        ("items", np.int32),
        ("text", np.float64),
        ("popularity", np.float64),
        ("tiebreak", np.int32),
        ("idorder", np.int32),
    ):
        values = np.concatenate([getattr(g, field) for g in groups]) if groups else np.zeros(0)
        out[field] = values.astype(dtype)[rows]
    return out


def load_replay(
    url: str, ds: date, since: date, through: date, artifact: str, test_cap: int, fit_cap: int | None = None
) -> Replay:
    """Logged searches of days since..through (at most `test_cap` of ds and `fit_cap` a day of the others, a
    fixed sample) replayed against ds's catalogue, with user vectors of `artifact`'s model from each user's
    history before the searched day (nothing of that day).

    The text side runs once per distinct word list (ts_rank in PostgreSQL, the best `CANDIDATES` with ties at
    the cut); the per-day cut by popularity, the blend and the ranks are numpy. Memory is about 60 bytes per
    (search, candidate): at most (test_cap + days x fit_cap) x CANDIDATES."""
    from recpipeline.model.daily import load_for_day

    fit_cap = test_cap if fit_cap is None else fit_cap
    params = {"since": since, "through": through, "catalogue": ds, "test_cap": test_cap, "fit_cap": fit_cap}
    with db.connect(url) as conn, conn.cursor() as cur:
        searches = db.fetch_all(cur, "search_logged", params)
        db.execute(cur, "search_eval_prepare", {"catalogue": ds})
        word_lists: dict[tuple[str, ...], int] = {}
        query_of = np.array([word_lists.setdefault(tuple(r[5]), len(word_lists)) for r in searches], dtype=np.int64)
        db.copy_in(
            cur, "search_eval_queries", ("query_id", "tokens"), ((q, db.pg_array(w)) for w, q in word_lists.items())
        )
        db.execute(cur, "search_eval_query_terms")
        catalogue = [r[1] for r in db.fetch_all(cur, "search_eval_catalogue")]
        matches = db.copy_out_frame(
            cur,
            "search_eval_candidates",
            {"cap": CANDIDATES},
            {"query_id": np.int64, "idx": np.int64, "tr": np.float64},
        )
        days = sorted({r[0] for r in searches})
        p = db.copy_out_frame(
            cur,
            "search_eval_popularity",
            {
                "days": days,
                "window": POPULARITY_DAYS,
                "first": min(days, default=ds) - timedelta(days=POPULARITY_DAYS),
                "last": max(days, default=ds) - timedelta(days=1),
                **_event_weights(),
            },
            {"day": str, "idx": np.int64, "popularity": np.float64},
        )
    pop_by_day = {}
    for day in days:
        at = (p["day"] == day.isoformat()).to_numpy()
        pop = np.zeros(len(catalogue))
        pop[p["idx"].to_numpy()[at]] = p["popularity"].to_numpy()[at]
        pop_by_day[day] = pop
    day_of = np.array([days.index(r[0]) for r in searches], dtype=np.int64)
    cand = _candidates(
        day_of,
        query_of,
        *(matches[c].to_numpy() for c in ("query_id", "idx", "tr")),
        [pop_by_day[d] for d in days],
        CANDIDATES,
    )
    search, item_ids = cand["search"], cand["items"]
    number = {item_id: i for i, item_id in enumerate(catalogue)}
    clicked = np.array([number.get(r[4], -1) for r in searches], dtype=np.int64)

    model, items, item_vecs = load_for_day(url, ds, artifact)
    item_vecs = scoring.normalise(item_vecs).astype(np.float32)
    item_vecs[0] = 0.0  # items without a vector score cosine 0, as in search.run
    model_row = items.indices(catalogue)  # catalogue number -> the model's item row (0: none)
    user_vecs = _user_vectors(url, ds, model, searches)
    known = np.array([v is not None for v in user_vecs], dtype=bool)
    dim = item_vecs.shape[1]
    users = np.stack([v if v is not None else np.zeros(dim, dtype=np.float32) for v in user_vecs]) if searches else None
    cos = np.full(len(search), np.nan)
    for first in range(0, len(search), 100_000):  # chunks bound the (candidates x dim) temporaries
        part = slice(first, first + 100_000)
        cos[part] = np.einsum("ij,ij->i", item_vecs[model_row[item_ids[part]]], users[search[part]])
    if len(search):
        cos[~known[search]] = np.nan
    return Replay(
        day=np.array([r[0] for r in searches], dtype="datetime64[D]"),
        user_ids=[r[2] for r in searches],
        clicked=clicked,
        search=search,
        item_ids=item_ids,
        text=cand["text"],
        popularity=cand["popularity"],
        cos=cos,
        tiebreak=cand["tiebreak"],
        idorder=cand["idorder"],
    )


def _searchers_sequences(url: str, ds: date, users: list[str]) -> features.Sequences:
    """features.user_sequences of `ds` for the replayed searches' users only (not every user of the day)."""
    with db.connect(url) as conn, conn.cursor() as cur:
        rows = db.fetch_all(cur, "search_eval_sequences", {"ds": ds, "users": users})
    return features.Sequences(
        user_ids=[r[0] for r in rows],
        items=[np.asarray(r[1], dtype=np.int32) for r in rows],
        events=[np.asarray(r[2], dtype=np.int32) for r in rows],
        ts=[np.asarray(r[3], dtype=np.int64) for r in rows],
    )


def _user_vectors(url: str, ds: date, model, searches: list[tuple]) -> list[np.ndarray | None]:
    """Per search, the user's unit vector from their interactions before the searched day (None: no history)."""
    seqs = _searchers_sequences(url, ds, sorted({r[2] for r in searches}))
    row = {u: i for i, u in enumerate(seqs.user_ids)}
    out: list[np.ndarray | None] = [None] * len(searches)
    for day in sorted({r[0] for r in searches}):
        cutoff = day_start_epoch(day)
        hist, events, ids = [], [], []
        for i in sorted({row[r[2]] for r in searches if r[0] == day and r[2] in row}):  # that day's searchers
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


class _FitGrid:
    """MRR@10 of the text+popularity and personalised rankings of a replay for any weights in [0, top], exactly
    as click_ranks computes them, on the few candidates that decide a rank inside the top 10.

    A candidate's lead over its search's click, text + w_cos * cos + w_pop * popularity minus the click's, is
    linear in the weights, so over the box it is largest and smallest at corners (cold users' cosine counts 0:
    text + w_pop_cold * popularity is the w_cos = 0 edge). A candidate behind the click at every corner (by more
    than rounding) never counts, one ahead at every corner always does; a search with 10 sure leaders scores 0
    for every weight. Only the others are scored per weight, with click_ranks' own arithmetic."""

    def __init__(self, replay: Replay, top: float = max(GRID)):
        self.n = replay.n
        is_clicked = replay.item_ids == replay.clicked[replay.search]
        at = np.flatnonzero(is_clicked)
        found = np.zeros(replay.n, dtype=bool)
        found[replay.search[at]] = True
        cos = np.nan_to_num(replay.cos)
        click = {
            name: np.zeros(replay.n, dtype=values.dtype)
            for name, values in (("text", replay.text), ("cos", cos), ("pop", replay.popularity))
        }
        click["tie"] = np.zeros(replay.n, dtype=np.int64)
        click["text"][replay.search[at]] = replay.text[at]
        click["cos"][replay.search[at]] = cos[at]
        click["pop"][replay.search[at]] = replay.popularity[at]
        click["tie"][replay.search[at]] = replay.tiebreak[at]
        s = replay.search
        d_text = replay.text - click["text"][s]
        d_cos = top * (cos - click["cos"][s])
        d_pop = top * (replay.popularity - click["pop"][s])
        best = d_text + np.maximum(d_cos, 0.0) + np.maximum(d_pop, 0.0)
        worst = d_text + np.minimum(d_cos, 0.0) + np.minimum(d_pop, 0.0)
        eps = 1e-9
        rival = found[s] & ~is_clicked
        sure = rival & (worst > eps)
        self.sure = np.bincount(s[sure], minlength=replay.n)
        live = found & (self.sure < K)  # searches whose rank can be inside the top K for some weights
        rows = rival & ~sure & (best > -eps) & live[s]
        self.live = live
        self.search = s[rows]
        self.cold = np.isnan(replay.cos[rows])
        self.text, self.cos, self.pop, self.tie = (
            replay.text[rows],
            cos[rows],
            replay.popularity[rows],
            replay.tiebreak[rows],
        )
        self.c_text, self.c_cos, self.c_pop, self.c_tie = (click[k][self.search] for k in ("text", "cos", "pop", "tie"))

    def mrr(self, method: str, blend: Blend) -> float:
        """MRR@10 of `method` (PERSONALISED or TEXT_POP) under `blend`, as mrr(click_ranks(replay, ...))."""
        if not self.n:
            return 0.0
        cold = self.cold | (method == TEXT_POP)
        row = np.where(
            cold,
            self.text + blend.w_pop_cold * self.pop,
            self.text + blend.w_cos * self.cos + blend.w_pop * self.pop,
        )
        clicked = np.where(
            cold,
            self.c_text + blend.w_pop_cold * self.c_pop,
            self.c_text + blend.w_cos * self.c_cos + blend.w_pop * self.c_pop,
        )
        ahead = (row > clicked) | ((row == clicked) & (self.tie < self.c_tie))
        ranks = 1 + self.sure + np.bincount(self.search[ahead], minlength=self.n)
        inside = self.live & (ranks <= K)
        rr = np.zeros(self.n)
        rr[inside] = 1.0 / ranks[inside]
        return float(rr.mean())  # as per_search_metrics averages, so equal ranks give equal floats


def fit_blend(replay: Replay) -> tuple[Blend, dict[str, float]]:
    """Grid-search the weights maximising MRR@10 on `replay`: (w_cos, w_pop) for users with a vector, w_pop_cold
    for text+popularity; ties go to the smaller weights. Returns the blend and the MRR@10 of each method."""
    grid = _FitGrid(replay)
    best_cold = max(GRID, key=lambda w: (grid.mrr(TEXT_POP, Blend(0.0, 0.0, w)), -w))
    best = max(
        itertools.product(GRID, GRID),
        key=lambda wc_wp: (grid.mrr(PERSONALISED, Blend(*wc_wp, best_cold)), -sum(wc_wp)),
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
    searches: int | None = None,
) -> dict:
    """Fit the blend on the searches of the `validation_days` days before ds and store it with the model; then
    MRR@10 and NDCG@10 of personalised, text+popularity and text-only ranking on ds's searches into eval.metrics.

    `searches` (default: the search_eval_searches setting) bounds the sample: at most that many searches of ds
    and that many in all of the validation days."""
    started = time.perf_counter()
    if searches is None:
        from recpipeline.config import load_settings

        searches = load_settings().search_eval_searches
    artifact = artifact or registry.get(url, model_id).artifact_uri
    fit_from = ds - timedelta(days=validation_days)
    test_cap, fit_cap = sample_caps(searches, validation_days)
    replay = load_replay(url, ds, fit_from, ds, artifact, test_cap, fit_cap)
    loaded = time.perf_counter() - started
    on_day = replay.day == np.datetime64(ds, "D")
    fit, test = replay.subset(~on_day), replay.subset(on_day)
    candidates = len(replay.search)
    del replay  # the two subsets are copies: keep the peak at one replay's size
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
        "on %d searches of the day MRR@10 personalised %.4f, text+pop %.4f, text %.4f; a fixed sample of at most "
        "%d searches of the day and %d a validation day (search_eval_searches %d), %d candidates; %.1fs "
        "(replay loaded in %.1fs)",
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
        test_cap,
        fit_cap,
        searches,
        candidates,
        time.perf_counter() - started,
        loaded,
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
