r"""Issue 12 row 4: every text value survives every COPY verbatim, raw through features, embeddings and recs.

Before: db.copy_in and db.copy_frame wrote CSV with NULL '\N' and left values unquoted, so a literal `\N` id
passed data quality, became NULL in features.items (NotNullViolation, every later day failing too) and in the
embeddings. Now NULL is the unquoted empty field and every value is quoted; staging quotes every value;
recs.results is binary COPY.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from recpipeline import db, features, publish
from recpipeline.config import load_settings
from recpipeline.events import EVENT_COLUMNS, ITEM_COLUMNS
from recpipeline.sources import land
from tests.test_door_support import D1, EVENTS_HEADER, ITEMS_HEADER, audit, fetch, validate, write

CONTROL = "".join(chr(c) for c in range(1, 32)) + "\x7f"
TRICKY = ["\\N", "\\.", "\\", "a\\b", "\\\\N", "\t", "a\tb", "\n\\.\n", "\r\n", '"', '""', ",", "", "NULL", CONTROL]
# ids that data quality accepts: no control characters
TRICKY_IDS = ["\\N", "\\.", "\\", "a\\b", "\\\\N", "NULL", 'x,"y"']


def csv_field(value: str) -> str:
    """One quoted CSV field."""
    return '"' + value.replace('"', '""') + '"'


def test_copy_in_keeps_every_text_verbatim_and_none_as_null(fresh_db):
    rows = [(n, v) for n, v in enumerate(TRICKY)] + [(len(TRICKY), None)]
    with db.connect(fresh_db) as conn, conn.cursor() as cur:
        cur.execute("CREATE TEMP TABLE t (n int, v text)")
        assert db.copy_in(cur, "t", ("n", "v"), rows) == len(rows)
        cur.execute("SELECT n, v FROM t ORDER BY n")
        assert cur.fetchall() == rows


def test_copy_frame_keeps_every_text_verbatim_and_nan_as_null(fresh_db):
    frame = pd.DataFrame({"n": range(len(TRICKY) + 1), "v": [*TRICKY, None], "x": [1.5] * len(TRICKY) + [np.nan]})
    with db.connect(fresh_db) as conn, conn.cursor() as cur:
        cur.execute("CREATE TEMP TABLE t (n int, v text, x float8)")
        assert db.copy_frame(cur, "t", frame) == len(frame)
        cur.execute("SELECT n, v, x FROM t ORDER BY n")
        assert cur.fetchall() == [
            (n, v, x) for n, v, x in zip(range(len(frame)), [*TRICKY, None], [1.5] * len(TRICKY) + [None], strict=True)
        ]


def test_embeddings_rows_keep_a_backslash_n_item_id(fresh_db):
    with db.connect(fresh_db) as conn, conn.cursor() as cur:
        db.copy_in(
            cur,
            "features.item_embeddings",
            ("ds", "model_id", "item_id", "vector"),
            [(D1, "m\\N", v, db.pg_array([1.0, 2.0])) for v in TRICKY_IDS],
        )
        db.copy_in(
            cur,
            "features.user_embeddings",
            ("ds", "model_id", "user_id", "vector"),
            [(D1, "m\\.", v, db.pg_array([0.5])) for v in TRICKY_IDS],
        )
    assert fetch(fresh_db, "SELECT model_id, item_id FROM features.item_embeddings ORDER BY item_id") == sorted(
        ("m\\N", v) for v in TRICKY_IDS
    )
    assert fetch(fresh_db, "SELECT user_id FROM features.user_embeddings ORDER BY user_id") == sorted(
        (v,) for v in TRICKY_IDS
    )


@pytest.mark.parametrize("fmt", ["canonical", "taobao"])
def test_tricky_values_survive_raw_and_clean_and_features(fresh_db, workdir, fmt):
    """`\\N`, `\\.`, backslashes as ids (raw -> clean -> features), tabs and line breaks in query text."""
    if fmt == "canonical":
        folder = workdir / D1.isoformat()
        events = [[f"e{n}", f"u{n}", v, "view", "2024-03-01T10:00:00Z", "", "", ""] for n, v in enumerate(TRICKY_IDS)]
        events.append(["q1", "\\N", "", "search", "2024-03-01T10:00:00Z", "", "\\.\n\t\\N\r\n\\", ""])
        items = [[v, f"title {v}", "", "", "", "1", "true", ""] for v in TRICKY_IDS]
        write(folder / "events.csv", "\n".join([EVENTS_HEADER, *(",".join(map(csv_field, r)) for r in events)]) + "\n")
        write(folder / "items.csv", "\n".join([ITEMS_HEADER, *(",".join(map(csv_field, r)) for r in items)]) + "\n")
        land(fresh_db, "canonical", folder)
        n_events = len(events)
    else:
        lines = [f"{n},{csv_field(v)},7,pv,1709287200" for n, v in enumerate(TRICKY_IDS)]
        land(fresh_db, "taobao", write(workdir / "ub.csv", "\n".join(lines) + "\n"))
        n_events = len(lines)
    ids = sorted(TRICKY_IDS)
    assert sorted(r[0] for r in fetch(fresh_db, "SELECT item_id FROM raw.events WHERE item_id IS NOT NULL")) == ids

    validate(fresh_db, D1)
    assert audit(fresh_db, D1)["events"] == (n_events, n_events, 0)
    assert sorted(r[0] for r in fetch(fresh_db, "SELECT item_id FROM clean.events WHERE item_id IS NOT NULL")) == ids
    assert sorted(r[0] for r in fetch(fresh_db, "SELECT item_id FROM clean.items")) == ids
    if fmt == "canonical":
        assert fetch(fresh_db, "SELECT user_id, query FROM clean.events WHERE event_type = 'search'") == [
            ("\\N", "\\.\n\t\\N\r\n\\")
        ]

    features.build_features(fresh_db, D1, load_settings())
    assert sorted(r[0] for r in fetch(fresh_db, "SELECT item_id FROM features.items")) == ids
    users = fetch(fresh_db, "SELECT count(*) FROM features.user_sequences WHERE ds = %s", (D1,))
    assert users == [(len(TRICKY_IDS),)]


def test_recs_rows_keep_tricky_user_and_item_ids(fresh_db):
    ds = date(2024, 3, 2)
    with db.connect(fresh_db) as conn, conn.cursor() as cur:
        cur.execute("SELECT recs.ensure_partition(%s)", (ds,))
    item_ids = np.array(TRICKY_IDS, dtype=object)
    part = publish.list_rows(ds, 1, 0, "m\\N", list(TRICKY), item_ids, np.arange(len(TRICKY_IDS)), "trending")
    rows = publish.write_shard(fresh_db, ds, 1, 0, [part])
    assert rows == len(TRICKY) * len(TRICKY_IDS)
    got = fetch(fresh_db, "SELECT DISTINCT user_id FROM recs.results ORDER BY 1")
    assert got == sorted((v,) for v in set(TRICKY))
    assert fetch(fresh_db, "SELECT DISTINCT model_id FROM recs.results") == [("m\\N",)]
    assert sorted(r[0] for r in fetch(fresh_db, "SELECT DISTINCT item_id FROM recs.results")) == sorted(TRICKY_IDS)


def test_staging_quotes_every_value_so_nothing_reads_as_null_or_end_of_data(fresh_db, workdir):
    """Python-built rows (the record-by-record path) keep `\\N`, `\\.` and a `\\.` line inside a quoted field."""
    folder = workdir / D1.isoformat()
    rows = [[f"e{n}", v, "i1", "view", "t", "", "", ""] for n, v in enumerate(TRICKY) if v]
    body = "\n".join([EVENTS_HEADER, *(",".join(map(csv_field, r)) for r in rows), "\\."]) + "\n"
    write(folder / "events.csv", body)  # the bare \. line sends it down the record-by-record path
    [result] = land(fresh_db, "canonical", folder)
    assert result.rows == len(rows) + 1
    got = fetch(fresh_db, "SELECT user_id FROM raw.events WHERE event_id <> '\\.' ORDER BY line_no")
    assert [r[0] for r in got] == [v for v in TRICKY if v]
    assert len(EVENT_COLUMNS) == 8 and len(ITEM_COLUMNS) == 8
