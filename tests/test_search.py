"""Personalised search (recpipeline.search, migration 011): ranking, safety, privileges, atomic publish.

A hand-built catalogue: four shoes in two leaves (running, dance) with 2-d item vectors, a knife that matches
nothing, and two users with opposite interests (a runner and a dancer), published through the real publish path.
"""

from __future__ import annotations

import threading
from datetime import date, timedelta

import numpy as np
import psycopg2
import pytest
from sqlalchemy.engine import make_url

from recpipeline import db, publish, search

DS = date(2030, 3, 10)
MODEL = "m-search"
RUN, DANCE, KITCHEN = "Sports > Running > Shoes", "Arts > Dancing > Shoes", "Home > Kitchen > Knives"
ITEMS = {  # item_id: (title, category, vector)
    "r1": ("Swift Shoes", RUN, (1.0, 0.0)),
    "r2": ("Trail Shoes", RUN, (0.8, 0.6)),
    "d1": ("Ballet Shoes", DANCE, (0.0, 1.0)),
    "d2": ("Velvet Shoes", DANCE, (0.6, 0.8)),
    "k1": ("Chef Knife", KITCHEN, (0.7, 0.7)),
}
USERS = {"runner": (1.0, 0.0), "dancer": (0.0, 1.0)}
VIEWS = {"runner": ["r1", "r2", "r1"], "dancer": ["d1", "d2", "d1"], "u3": ["d1"] * 4 + ["r1"] * 3 + ["d2"] * 2}
# logged searches (user, query, clicked item); each query by at least two users so it can be suggested
SEARCHES = [
    ("runner", "running shoes", "r1"),
    ("u3", "running shoes", "r1"),
    ("dancer", "dance shoes", "d1"),
    ("u3", "dance shoes", "d1"),
    ("u4", "dance shoes", "d2"),
    ("u4", "shoes", "d1"),
    ("u3", "shoes", "d1"),
    ("u4", "knife", "k1"),  # one user only: never suggested to others
]
EXPECTED = {  # query "shoes", w_cos 1, w_pop 0: equal text, so the cosine orders
    "runner": ["r1", "r2", "d2", "d1"],
    "dancer": ["d1", "d2", "r2", "r1"],
    None: ["d1", "r1", "d2", "r2"],  # no vector: text + popularity (d1 10 views+clicks, r1 7, d2 4, r2 1)
}


def reader_url(url: str) -> str:
    return make_url(url).set(username="recpipeline_reader", password=None).render_as_string(hide_password=False)


def land(url: str, ds: date, items: dict, users: dict) -> None:
    """A day of the hand-built shop: catalogue, events (views and logged searches), vectors, the blend."""
    start = f"{ds - timedelta(days=1)}T10:00:00Z"
    with db.connect(url) as conn, conn.cursor() as cur:
        db.copy_in(
            cur,
            "clean.items",
            ("ds", "item_id", "title", "category", "tags", "brand", "in_stock"),
            [(ds, i, t, c, "{" + c.rsplit(" > ", 1)[1].lower() + "}", None, True) for i, (t, c, _) in items.items()],
        )
        rows, n = [], 0
        for user, seen in VIEWS.items():
            for item in seen:
                n += 1
                rows.append((ds, f"{ds}-v{n}", user, item, "view", start, f"s-{user}", None, 0, n))
        for user, query, clicked in SEARCHES:
            n += 1
            rows.append((ds, f"{ds}-s{n}", user, None, "search", f"{ds}T08:00:{n:02d}Z", f"q{n}", query, 0, n))
            rows.append((ds, f"{ds}-c{n}", user, clicked, "click", f"{ds}T08:01:{n:02d}Z", f"q{n}", None, 0, n))
        db.copy_in(
            cur,
            "clean.events",
            ("ds", "event_id", "user_id", "item_id", "event_type", "ts", "session_id", "query", "load_id", "line_no"),
            rows,
        )
        db.copy_in(
            cur,
            "features.item_embeddings",
            ("ds", "model_id", "item_id", "vector"),
            [(ds, MODEL, i, db.pg_array(v)) for i, (_, _, v) in items.items()],
        )
        db.copy_in(
            cur,
            "features.user_embeddings",
            ("ds", "model_id", "user_id", "vector"),
            [(ds, MODEL, u, db.pg_array(v)) for u, v in users.items()],
        )


def publish_shop(url: str, ds: date) -> int:
    """Score a placeholder list, build the search index, swap the day in (publish_day): the real path."""
    publish_id = publish.plan_scoring(url, ds)
    rows = publish.list_rows(ds, publish_id, 0, MODEL, ["runner", "dancer"], np.array(["", "r1"]), [1], "trending")
    publish.write_shard(url, ds, publish_id, 0, [rows])
    search.publish_search_index(url, ds, publish_id, MODEL)
    publish.publish_day(url, ds, publish_id, MODEL, shards=1)
    return publish_id


@pytest.fixture
def shop(fresh_db: str) -> str:
    with db.connect(fresh_db) as conn, conn.cursor() as cur:
        cur.execute(  # the search schema is not emptied by fresh_db
            "SELECT inhrelid::regclass::text FROM pg_inherits WHERE inhparent = ANY(ARRAY['search.items', "
            "'search.users', 'search.interests', 'search.queries']::regclass[])"
        )
        for (part,) in cur.fetchall():
            cur.execute(f"DROP TABLE {part}")
        cur.execute("DELETE FROM search.config")
        cur.execute("DELETE FROM models.search_blend")
    search.store_blend(fresh_db, DS, MODEL, search.Blend(1.0, 0.0, 1.0), DS, DS, 0, dict.fromkeys(search.METHODS, 0.0))
    land(fresh_db, DS, ITEMS, USERS)
    publish_shop(fresh_db, DS)
    return fresh_db


def run(url: str, sql: str, params: tuple = ()) -> list[tuple]:
    with db.connect(url) as conn, conn.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()


def ids(url: str, user: str | None, query: str, n: int = 10) -> list[str]:
    return [r[0] for r in run(url, "SELECT item_id FROM recs.search(%s, %s, %s)", (user, query, n))]


def test_opposite_users_get_opposite_orders(shop: str) -> None:
    reader = reader_url(shop)
    for user, expected in EXPECTED.items():
        assert ids(reader, user, "shoes") == expected, user
    assert ids(reader, "someone-new", "shoes") == EXPECTED[None]
    assert ids(reader, "runner", "shoes", 2) == ["r1", "r2"]


def test_rows_say_why(shop: str) -> None:
    rows = run(
        reader_url(shop),
        "SELECT item_id, matched_terms, interest, personalised, ds, similarity FROM recs.search(%s, %s, 10)",
        ("runner", "Running SHO"),
    )
    first = rows[0]
    assert first[0] == "r1" and first[1] == ["running", "sho"] and first[3] is True and first[4] == DS
    assert first[2].startswith(f"your interest in {RUN} (")
    assert first[5] == pytest.approx(1.0, abs=1e-6)
    dance = [r for r in rows if r[0] == "d2"][0]
    assert dance[1] == ["sho"] and dance[2].startswith("similar to what you interacted with (cosine 0.60")
    cold = run(reader_url(shop), "SELECT interest, personalised FROM recs.search('nobody', 'shoes', 1)")
    assert cold == [("popular with shoppers (no history of yours yet)", False)]


def test_text_only_reference(shop: str) -> None:
    rows = run(reader_url(shop), "SELECT item_id, matched_terms FROM recs.search_text('swift shoes', 10)")
    assert rows[0] == ("r1", ["swift", "shoes"])
    assert [r[0] for r in rows[1:]] == ["d1", "d2", "r2"]  # equal text: by item_id


@pytest.mark.parametrize(
    "query",
    [
        "'; DROP TABLE search.items; --",
        "shoes' OR 1=1 --",
        "!!! & | :* <-> ( ) \\",
        "$$; SELECT pg_sleep(10); $$",
        "the and of",
        "",
        "   ",
        None,
        "x" * 10_000,
    ],
)
def test_sql_looking_and_empty_queries_are_just_text(shop: str, query: str | None) -> None:
    reader = reader_url(shop)
    got = ids(reader, "runner", query)
    assert got == (EXPECTED["runner"] if query and "shoes" in query else [])
    assert run(shop, "SELECT count(*) FROM search.items")[0][0] == len(ITEMS)
    assert [r[0] for r in run(reader, "SELECT query FROM recs.suggest('runner', %s, 5)", (query,))] in (
        [],
        ["running shoes", "dance shoes", "shoes"],  # an empty prefix completes to everything
    )


def test_suggest_reranks_by_the_users_categories(shop: str) -> None:
    reader = reader_url(shop)

    def suggest(user: str, prefix: str) -> list[str]:
        return [r[0] for r in run(reader, "SELECT query FROM recs.suggest(%s, %s, 5)", (user, prefix))]

    assert suggest("nobody", "") == ["dance shoes", "running shoes", "shoes"]  # by how often searched
    assert suggest("runner", "") == ["running shoes", "dance shoes", "shoes"]
    assert suggest("runner", "sh") == ["running shoes", "dance shoes", "shoes"]  # a word's prefix
    assert suggest("dancer", "sh") == ["dance shoes", "shoes", "running shoes"]
    assert suggest("runner", "da") == ["dance shoes"]
    assert suggest("runner", "%") == [] and suggest("runner", "_") == []  # LIKE wildcards are literal
    why = run(reader, "SELECT interest FROM recs.suggest('runner', 'run', 1)")
    assert why == [(f"fits your interest in {RUN}",)]
    assert run(shop, "SELECT count(*) FROM search.queries")[0][0] == 3  # u4's lone 'knife' is not kept


def test_reader_cannot_call_anything_beyond_recs(shop: str) -> None:
    reader = reader_url(shop)
    for sql in (
        "SELECT * FROM search.items",
        "SELECT * FROM search.users",
        "SELECT * FROM search.interests",
        "SELECT * FROM features.user_embeddings",
        "SELECT * FROM models.search_blend",
        "SELECT * FROM clean.events",
        "SELECT * FROM search.run('personalised', 'runner', 'shoes', 10)",
        "SELECT search.tokens('shoes')",
        "SELECT search.drop_superseded()",
        "SELECT search.prepare(1)",
    ):
        with pytest.raises(psycopg2.errors.InsufficientPrivilege):
            run(reader, sql)
    callable_elsewhere = run(
        reader,
        "SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
        "WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'recs') "
        "AND has_schema_privilege(n.oid, 'USAGE') AND has_function_privilege(p.oid, 'EXECUTE')",
    )
    assert callable_elsewhere == []
    definers = run(
        shop,
        "SELECT p.proname, p.proconfig FROM pg_proc p WHERE p.pronamespace = 'recs'::regnamespace "
        "AND p.proname IN ('search', 'search_text', 'suggest')",
    )
    assert len(definers) == 3 and all("search_path=pg_catalog, pg_temp" in cfg for _, cfg in definers)


def test_vectors_are_pgvector_where_available(shop: str) -> None:
    available = run(shop, "SELECT count(*) FROM pg_available_extensions WHERE name = 'vector'")[0][0]
    assert run(shop, "SELECT search.vector_kind()")[0][0] == ("pgvector" if available else "real[]")


def test_republishing_a_day_drops_the_superseded_index(shop: str) -> None:
    before = run(shop, "SELECT publish_id FROM search.config")
    again = publish_shop(shop, DS)  # the same day published again: the first index is superseded
    publish_shop(shop, DS)  # ... and dropped when the next index is built
    pids = [r[0] for r in run(shop, "SELECT publish_id FROM search.config ORDER BY 1")]
    assert before[0][0] not in pids and again in pids and len(pids) == 2
    assert ids(reader_url(shop), "runner", "shoes") == EXPECTED["runner"]


def test_search_during_publish_sees_one_day(shop: str) -> None:
    """Days alternate between two shops (B: a new item, the runner turned dancer); readers search all along."""
    items_b = {**ITEMS, "n1": ("Neon Shoes", RUN, (0.0, 1.0))}
    users_b = {"runner": (0.0, 1.0), "dancer": (1.0, 0.0)}
    expected = {
        "A": tuple(EXPECTED["runner"]),
        "B": ("d1", "n1", "d2", "r2", "r1"),
    }
    days = [DS + timedelta(days=i) for i in range(1, 7)]
    shape = {day: "B" if i % 2 == 0 else "A" for i, day in enumerate(days)}
    for day in days:
        land(shop, day, items_b if shape[day] == "B" else ITEMS, users_b if shape[day] == "B" else USERS)
        search.store_blend(
            shop, day, MODEL, search.Blend(1.0, 0.0, 1.0), day, day, 0, dict.fromkeys(search.METHODS, 0.0)
        )
    seen: list[tuple] = []
    stop = threading.Event()
    errors: list[BaseException] = []

    def reader() -> None:
        try:
            conn = psycopg2.connect(reader_url(shop))
            conn.autocommit = True
            with conn.cursor() as cur:
                while not stop.is_set():
                    cur.execute("SELECT item_id, ds FROM recs.search('runner', 'shoes', 10)")
                    rows = cur.fetchall()
                    seen.append((tuple(r[0] for r in rows), {r[1] for r in rows}))
            conn.close()
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=reader) for _ in range(3)]
    for t in threads:
        t.start()
    try:
        for day in days:
            publish_shop(shop, day)
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert not errors
    assert len(seen) > 20
    for order, day_set in seen:
        assert len(day_set) == 1, day_set
        (day,) = day_set
        assert order == (expected[shape[day]] if day in shape else expected["A"]), (day, order)
    assert {next(iter(d)) for _, d in seen} >= {days[-1]}


def test_kept_candidates_of_frequent_queries_give_the_same_rows(shop: str) -> None:
    """The index keeps the candidates of the log's queries (migration 015); a search with the same words reads
    them, any other ranks every match: both give the same rows, for every user kind and both functions."""
    kept = dict(run(shop, "SELECT query, cardinality(cand_items) FROM search.queries"))
    assert kept == {"running shoes": 4, "dance shoes": 4, "shoes": 4}
    reader = reader_url(shop)
    calls = [
        ("SELECT * FROM recs.search(%s, %s, 10)", (user, query))
        for user in ("runner", "dancer", "nobody")
        for query in ("shoes", "Running  SHOES!", "dance shoes", "swift shoes")
    ] + [("SELECT * FROM recs.search_text(%s, 10)", (q,)) for q in ("shoes", "dance shoes")]
    with_kept = [run(reader, sql, params) for sql, params in calls]
    with db.connect(shop) as conn, conn.cursor() as cur:
        cur.execute("UPDATE search.queries SET cand_items = NULL, cand_tr = NULL")
    assert [run(reader, sql, params) for sql, params in calls] == with_kept
