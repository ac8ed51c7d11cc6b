"""The day at scale, its parts: training bounded by a time budget, and features read with COPY round-trip exactly."""

from __future__ import annotations

import time
from datetime import date

import numpy as np

from recpipeline import db, features
from recpipeline.config import load_settings
from recpipeline.model import train
from tests.test_model import params, planted, validation_of

DS = date(2026, 10, 5)


def test_budget_stops_training_and_keeps_the_best_epoch():
    data = planted(n_users=120)
    log: list[str] = []
    t = time.perf_counter()
    model = train(data, params(epochs=50), validation=validation_of(data), log=log.append, budget_seconds=1e-6)
    assert time.perf_counter() - t < 120
    assert len(model.history) == 1, log
    assert any(line.startswith("time budget: ") for line in log), log
    assert model.item_vectors().shape[0] == data.n_items + 1


def test_no_budget_trains_every_epoch():
    data = planted(n_users=60)
    log: list[str] = []
    model = train(data, params(epochs=2), log=log.append, budget_seconds=0)
    assert len(model.history) == 2 and not any("time budget" in line for line in log)


def test_features_read_with_copy_round_trip(fresh_db):
    """Quotes, commas, separators and line breaks in text, NULL category/brand/price, empty tags: read back as the
    cursor path (read_frame / fetch_all) would give them."""
    items = [
        ("i1", 'Glow "Serum", 30ml', "Beauty > Skin", ["serum", "a,b", 'q"t'], "Lumi", 19.9, True),
        ("i2", "Night\nCream", None, [], None, None, False),
        ("i3", "Lip Balm", "Beauty > Lips", ["lips"], "", 4.5, True),
    ]
    with db.connect(fresh_db) as conn, conn.cursor() as cur:
        for item_id, title, category, tags, brand, price, in_stock in items:
            cur.execute(
                "INSERT INTO clean.items (ds, item_id, title, category, tags, brand, price, in_stock)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                (DS, item_id, title, category, tags, brand, price, in_stock),
            )
        frame = features.read_catalogue(cur, DS)
    features.build_features(fresh_db, DS, load_settings())
    table = features.load_item_table(fresh_db, DS)
    with db.connect(fresh_db) as conn, conn.cursor() as cur:
        cur.execute("INSERT INTO features.user_sequences VALUES (%s, 'u1', '{3,1}', '{1,5}', '{10,20}')", (DS,))
        cur.execute("INSERT INTO features.user_sequences VALUES (%s, 'u2', '{2}', '{4}', '{30}')", (DS,))
    assert frame["item_id"].tolist() == ["i1", "i2", "i3"]
    assert frame["title"].tolist() == [i[1] for i in items]
    assert [t for t in frame["tags"]] == [["serum", "a,b", 'q"t'], [""], ["lips"]]
    assert frame["in_stock"].tolist() == [True, False, True]
    assert np.isnan(frame["price"][1]) and frame["price"][0] == 19.9
    assert frame["category"][1] == "" and frame["brand"][1] == ""
    table_frame, _ = features.item_feature_frame(frame)
    assert table_frame["tags"].tolist() == ['{"serum","a,b","q\\"t"}', "{}", '{"lips"}']
    assert table.item_ids.tolist() == ["", "i1", "i2", "i3"] and table.in_stock.tolist() == [False, True, False, True]
    assert {"g:a,b", 'g:q"t', "t:serum", "t:night", "c0:beauty", "b:lumi"} <= set(table.vocab)
    assert not any(t.startswith("b:") for t in (table.vocab[i - 1] for i in table.content_tokens[2] if i))
    seqs = features.load_sequences(fresh_db, DS)
    assert seqs.user_ids == ["u1", "u2"]
    assert [s.tolist() for s in seqs.items] == [[3, 1], [2]]
    assert [s.tolist() for s in seqs.events] == [[1, 5], [4]]
    assert [s.tolist() for s in seqs.ts] == [[10, 20], [30]]
    assert seqs.items[0].dtype == np.int32 and seqs.ts[0].dtype == np.int64
    assert len(features.load_sequences(fresh_db, date(2026, 1, 1))) == 0


def test_embeddings_written_with_binary_copy_read_back_exactly(fresh_db):
    rng = np.random.default_rng(0)
    users = ["u1", 'u"2,x', "ü3", "u" * 100]
    vectors = rng.normal(size=(4, 8)).astype(np.float32)
    features.write_user_embeddings(fresh_db, DS, "m-1", 0, 1, users, vectors)
    features.write_user_embeddings(fresh_db, DS, "m-2", 0, 1, [], np.zeros((0, 8), np.float32))
    with db.connect(fresh_db) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT user_id, vector FROM features.user_embeddings WHERE ds = %s ORDER BY model_id, user_id", (DS,)
        )
        rows = dict(cur.fetchall())
    assert set(rows) == set(users)
    for user, vec in zip(users, vectors, strict=True):
        np.testing.assert_array_equal(np.asarray(rows[user], dtype=np.float32), vec)
