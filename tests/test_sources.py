"""Landing source files into raw.* against a real PostgreSQL: counts, line numbers, exact text, idempotency,
atomicity and the errors a user sees. Every test writes its own small files."""

from __future__ import annotations

import csv
import json
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from recpipeline import db
from recpipeline.events import EVENT_COLUMNS, ITEM_COLUMNS
from recpipeline.sources import FORMATS, LandingError, land
from recpipeline.sources.base import content_id

D1, D2 = date(2024, 3, 1), date(2024, 3, 2)
LOADED_AT = datetime(2024, 3, 5, 12, 0, tzinfo=UTC)  # the load's day, where unreadable timestamps land
LD = LOADED_AT.date()
EVENTS_HEADER = ",".join(EVENT_COLUMNS)
ITEMS_HEADER = ",".join(ITEM_COLUMNS)


def fetch(url: str, sql: str, params: tuple = ()) -> list[tuple]:
    with db.connect(url) as conn, conn.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()


def raw_rows(url: str, target: str) -> list[tuple]:
    """Every landed row without its load_id (which changes on re-landing), in a stable order."""
    cols = EVENT_COLUMNS if target == "events" else ITEM_COLUMNS
    return fetch(url, f"SELECT ds, line_no, {', '.join(cols)} FROM raw.{target} ORDER BY ds, line_no")


def loads(url: str) -> list[tuple]:
    return fetch(
        url, "SELECT ds, source, format, target, path, rows_landed FROM raw.loads ORDER BY ds, target, load_id"
    )


def nothing_landed(url: str) -> bool:
    counts = fetch(
        url,
        "SELECT (SELECT count(*) FROM raw.loads), (SELECT count(*) FROM raw.events), (SELECT count(*) FROM raw.items)",
    )
    return counts == [(0, 0, 0)]


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8", newline="")
    return path


def day_folder(root: Path, day: date, events: list[str], items: list[str] | None = None) -> Path:
    folder = root / day.isoformat()
    write(folder / "events.csv", "\n".join([EVENTS_HEADER, *events]) + "\n")
    if items is not None:
        write(folder / "items.csv", "\n".join([ITEMS_HEADER, *items]) + "\n")
    return folder


TRICKY_EVENTS = [
    "e1,u1,i1,view,2024-03-01T10:00:00Z,s1,,",
    'e2,u1,i2,purchase,not-a-time,s1,,"12,5 ""EUR"""',
    'e3,u2,,search,2024-03-01T11:00:00Z,,"café, crème ""brûlée""\nzweite Zeile",',
    "e4,u3,i1,view,2024-03-01T12:00:00Z,s3,,\\N",
]
TRICKY_ITEMS = [
    'i1,"Tee, grün ""Sencha"" 🍵",Food > Tea,green|tea,Ōcha,abc,true,2024-02-01T00:00:00Z',
    "i2,Mug,,,,4.50,,",
]


def test_canonical_day_folder_keeps_text_exactly(fresh_db, workdir):
    folder = day_folder(workdir, D1, TRICKY_EVENTS, TRICKY_ITEMS)
    results = land(fresh_db, "canonical", folder)

    assert [(r.ds, r.source, r.format, r.target, r.rows, r.malformed) for r in results] == [
        (D1, "canonical", "canonical", "events", 4, ()),
        (D1, "canonical", "canonical", "items", 2, ()),
    ]
    assert loads(fresh_db) == [
        (D1, "canonical", "canonical", "events", str(folder / "events.csv"), 4),
        (D1, "canonical", "canonical", "items", str(folder / "items.csv"), 2),
    ]
    assert raw_rows(fresh_db, "events") == [
        (D1, 1, "e1", "u1", "i1", "view", "2024-03-01T10:00:00Z", "s1", None, None),
        (D1, 2, "e2", "u1", "i2", "purchase", "not-a-time", "s1", None, '12,5 "EUR"'),
        (D1, 3, "e3", "u2", None, "search", "2024-03-01T11:00:00Z", None, 'café, crème "brûlée"\nzweite Zeile', None),
        (D1, 4, "e4", "u3", "i1", "view", "2024-03-01T12:00:00Z", "s3", None, "\\N"),
    ]
    assert raw_rows(fresh_db, "items") == [
        (
            D1,
            1,
            "i1",
            'Tee, grün "Sencha" 🍵',
            "Food > Tea",
            "green|tea",
            "Ōcha",
            "abc",
            "true",
            "2024-02-01T00:00:00Z",
        ),
        (D1, 2, "i2", "Mug", None, None, None, "4.50", None, None),
    ]
    load_ids = {r[0] for r in fetch(fresh_db, "SELECT DISTINCT load_id FROM raw.events")}
    assert load_ids == {results[0].load_id}


def test_canonical_relanding_replaces_and_never_duplicates(fresh_db, workdir):
    folder = day_folder(workdir, D1, TRICKY_EVENTS, TRICKY_ITEMS)
    first = land(fresh_db, "canonical", folder)
    events, items = raw_rows(fresh_db, "events"), raw_rows(fresh_db, "items")
    second = land(fresh_db, "canonical", folder)
    assert raw_rows(fresh_db, "events") == events and raw_rows(fresh_db, "items") == items
    assert len(loads(fresh_db)) == 2
    assert {r.load_id for r in second}.isdisjoint(r.load_id for r in first)

    day_folder(workdir, D1, TRICKY_EVENTS[:1])  # a corrected, shorter file for the same day
    land(fresh_db, "canonical", folder / "events.csv")
    assert [r[2] for r in raw_rows(fresh_db, "events")] == ["e1"]
    assert len(raw_rows(fresh_db, "items")) == 2  # items of that day untouched
    land(fresh_db, "canonical", folder, source="other")  # another source is another load
    assert [r[2] for r in raw_rows(fresh_db, "events")] == ["e1", "e1"]
    assert len(loads(fresh_db)) == 4


def test_canonical_malformed_lines_land_without_aborting(fresh_db, workdir):
    folder = day_folder(
        workdir,
        D1,
        [
            "e1,u1,i1,view,2024-03-01T10:00:00Z,s1,,",
            "e2,u1,i2,view",  # too few fields
            "e3,u1,i3,view,2024-03-01T10:05:00Z,s1,,1.5,extra,more",  # too many
            "",  # blank: no data
            "\\.",  # COPY's end-of-data marker must not cut the file short
            'e5,u2,i1,cart,2024-03-01T11:00:00Z,,"a ""quoted"", value",',
        ],
    )
    [result] = land(fresh_db, "canonical", folder)
    assert (result.rows, result.malformed) == (5, (2, 3, 4))
    assert raw_rows(fresh_db, "events") == [
        (D1, 1, "e1", "u1", "i1", "view", "2024-03-01T10:00:00Z", "s1", None, None),
        (D1, 2, "e2", "u1", "i2", "view", None, None, None, None),
        (D1, 3, "e3", "u1", "i3", "view", "2024-03-01T10:05:00Z", "s1", None, "1.5,extra,more"),
        (D1, 4, "\\.", None, None, None, None, None, None, None),
        (D1, 5, "e5", "u2", "i1", "cart", "2024-03-01T11:00:00Z", None, 'a "quoted", value', None),
    ]


def test_canonical_bare_end_marker_alone_is_not_a_truncation(fresh_db, workdir):
    folder = day_folder(workdir, D1, ["e1,u1,i1,view,t,,,", "\\.", "e3,u1,i1,view,t,,,"])
    [result] = land(fresh_db, "canonical", folder)
    assert result.rows == 3
    assert [r[2] for r in raw_rows(fresh_db, "events")] == ["e1", "\\.", "e3"]


def test_canonical_invalid_utf8_and_nul_still_land(fresh_db, workdir):
    body = (EVENTS_HEADER + "\ne1,u\xff1,i1,view,t,,,\ne2,u2,i1,view,t,,,\n").encode("latin-1")
    write(workdir / D1.isoformat() / "events.csv", body.replace(b"u2", b"u\x002"))
    [result] = land(fresh_db, "canonical", workdir / D1.isoformat())
    assert result.rows == 2
    # the original bytes, backslash-escaped, and the defect that quarantines the row (never U+FFFD)
    assert [r[3] for r in raw_rows(fresh_db, "events")] == ["u\\xff1", "u\\x002"]
    assert fetch(fresh_db, "SELECT defects FROM raw.events ORDER BY line_no") == [(["invalid_utf8"],), (["nul_byte"],)]


def test_canonical_root_folder_lands_each_day_or_only_ds(fresh_db, workdir):
    day_folder(workdir, D1, TRICKY_EVENTS[:2], TRICKY_ITEMS)
    day_folder(workdir, D2, TRICKY_EVENTS[:1])
    (workdir / "notes").mkdir()  # folders that are not days are ignored

    results = land(fresh_db, "canonical", workdir, source="demo")
    assert [(r.ds, r.target, r.rows) for r in results] == [(D1, "events", 2), (D1, "items", 2), (D2, "events", 1)]
    assert {r[1] for r in loads(fresh_db)} == {"demo"}

    again = land(fresh_db, "canonical", workdir, ds=D2, source="demo")
    assert [(r.ds, r.target, r.rows) for r in again] == [(D2, "events", 1)]
    assert fetch(fresh_db, "SELECT ds, count(*) FROM raw.events GROUP BY ds ORDER BY ds") == [(D1, 2), (D2, 1)]


def test_canonical_failure_mid_land_leaves_nothing(fresh_db, workdir):
    day_folder(workdir, D1, TRICKY_EVENTS, TRICKY_ITEMS)
    bad = day_folder(workdir, D2, [])
    write(bad / "events.csv", "event_id,user_id,item_id,type,ts\ne9,u9,i9,view,t\n")
    with pytest.raises(LandingError, match="bad events header"):
        land(fresh_db, "canonical", workdir)
    assert nothing_landed(fresh_db)  # day 1 had already been staged and inserted in the same transaction


def test_canonical_bad_header_is_a_clear_error(fresh_db, workdir):
    folder = workdir / D1.isoformat()
    write(folder / "events.csv", "event_id,user_id,item,event_type,ts,session_id,query,value,extra\n")
    with pytest.raises(LandingError) as err:
        land(fresh_db, "canonical", folder)
    message = str(err.value)
    assert "events.csv" in message and "missing ['item_id']" in message and "unexpected ['item', 'extra']" in message
    write(folder / "events.csv", ",".join(reversed(EVENT_COLUMNS)) + "\n")
    with pytest.raises(LandingError, match="wrong order"):
        land(fresh_db, "canonical", folder)
    assert nothing_landed(fresh_db)


def test_canonical_single_file_needs_a_ds(fresh_db, workdir):
    file = write(workdir / "some" / "events_export.csv", EVENTS_HEADER + "\n" + TRICKY_EVENTS[0] + "\n")
    with pytest.raises(LandingError, match="--ds"):
        land(fresh_db, "canonical", file)
    [result] = land(fresh_db, "canonical", file, ds=D2)
    assert (result.ds, result.target, result.rows) == (D2, "events", 1)


def test_canonical_parquet_lands_values_as_text(fresh_db, workdir):
    folder = workdir / D1.isoformat()
    folder.mkdir()
    items = {c: pa.array([None, None], pa.string()) for c in ITEM_COLUMNS}
    items.update(
        item_id=pa.array(["i1", "i2"]),
        title=pa.array(['Tee, "grün" 🍵', ""]),
        price=pa.array([4.5, None]),
        in_stock=pa.array([True, False]),
    )
    pq.write_table(pa.table(items), folder / "items.parquet")
    events = {c: pa.array(["x", "y", None]) for c in reversed(EVENT_COLUMNS)}  # column order is free
    pq.write_table(pa.table(events), folder / "events.parquet")

    results = land(fresh_db, "canonical", folder)
    assert [(r.target, r.rows) for r in results] == [("events", 3), ("items", 2)]
    assert raw_rows(fresh_db, "items") == [
        (D1, 1, "i1", 'Tee, "grün" 🍵', None, None, None, "4.5", "true", None),
        (D1, 2, "i2", None, None, None, None, None, "false", None),
    ]
    assert [r[:3] for r in raw_rows(fresh_db, "events")] == [(D1, 1, "x"), (D1, 2, "y"), (D1, 3, None)]

    pq.write_table(pa.table({"item_id": ["i1"]}), folder / "items.parquet")
    with pytest.raises(LandingError, match="bad items columns"):
        land(fresh_db, "canonical", folder)


def test_unknown_format_names_the_known_ones(fresh_db, workdir):
    folder = day_folder(workdir, D1, TRICKY_EVENTS)
    with pytest.raises(LandingError) as err:
        land(fresh_db, "csv", folder)
    assert "unknown format 'csv'" in str(err.value)
    assert all(name in str(err.value) for name in FORMATS)
    with pytest.raises(LandingError, match="no such file"):
        land(fresh_db, "canonical", workdir / "missing")
    with pytest.raises(LandingError, match="takes no option"):
        land(fresh_db, "canonical", folder, attributes="x.json")
    assert nothing_landed(fresh_db)


TAOBAO = [
    "1,100,7,pv,1709287200",  # 2024-03-01T10:00:00Z
    "1,101,8,buy,1709290800",
    "2,100,7,cart,1709373600",  # 2024-03-02T10:00:00Z
    "",
    "2,102,9,fav,garbage",  # unreadable timestamp -> the load's day
    "3,103,9,pv",  # too few fields
    "3,104,9,pv,1709373600,extra",  # too many
    "3,105,9,scroll,1709287260",  # unknown behaviour kept as is
]


def test_taobao_events_ds_by_timestamp_and_cumulative_items(fresh_db, workdir):
    file = write(workdir / "UserBehavior.csv", "\n".join(TAOBAO) + "\n")
    results = land(fresh_db, "taobao", file, loaded_at=LOADED_AT)

    assert [(r.ds, r.target, r.rows, r.malformed) for r in results] == [
        (D1, "events", 3, ()),
        (D2, "events", 1, ()),
        (LD, "events", 3, (6, 7)),
        (D1, "items", 3, ()),
        (D2, "items", 3, ()),
        (LD, "items", 6, ()),
    ]

    def tb(line_no, ds, user, item, kind, ts):
        return (ds, line_no, content_id("tb", user, item, kind, ts), user, item, kind, ts, None, None, None)

    assert raw_rows(fresh_db, "events") == [
        tb(1, D1, "1", "100", "view", "2024-03-01T10:00:00Z"),
        tb(2, D1, "1", "101", "purchase", "2024-03-01T11:00:00Z"),
        tb(8, D1, "3", "105", "scroll", "2024-03-01T10:01:00Z"),
        tb(3, D2, "2", "100", "cart", "2024-03-02T10:00:00Z"),
        tb(5, LD, "2", "102", "fav", "garbage"),
        tb(6, LD, "3", "103", "view", None),
        tb(7, LD, "3", "104", "view", "1709373600,extra"),
    ]
    items = raw_rows(fresh_db, "items")
    assert [(r[0], r[1], r[2]) for r in items] == [
        (D1, 1, "100"),
        (D1, 2, "101"),
        (D1, 8, "105"),
        (D2, 1, "100"),
        (D2, 2, "101"),
        (D2, 8, "105"),
        (LD, 1, "100"),
        (LD, 2, "101"),
        (LD, 5, "102"),
        (LD, 6, "103"),
        (LD, 7, "104"),
        (LD, 8, "105"),
    ]
    assert items[0] == (D1, 1, "100", "Taobao item 100 (category 7)", "7", None, None, None, "true", None)

    land(fresh_db, "taobao", file, loaded_at=LOADED_AT)  # re-landing: same rows, no duplicates
    assert len(raw_rows(fresh_db, "events")) == 7 and len(raw_rows(fresh_db, "items")) == 12
    assert len(loads(fresh_db)) == 6


def test_taobao_with_ds_lands_everything_under_it(fresh_db, workdir):
    file = write(workdir / "UserBehavior.csv", "\n".join(TAOBAO) + "\n")
    results = land(fresh_db, "taobao", file, ds=D2)
    assert [(r.ds, r.target, r.rows) for r in results] == [(D2, "events", 7), (D2, "items", 6)]
    write(workdir / "bad.csv", "1,100,7,pv,soon\n")  # no readable timestamp at all: the load's day
    [events, _] = land(fresh_db, "taobao", workdir / "bad.csv", loaded_at=LOADED_AT)
    assert events.ds == LD
    assert len(raw_rows(fresh_db, "events")) == 8


def test_seqfile_synthesises_order_timestamps_and_tagged_items(fresh_db, workdir):
    folder = workdir / "beauty"
    write(folder / "Beauty.txt", "1 10 11 12\n\n2 11 13\n3\n")
    write(folder / "Beauty_item2attributes.json", json.dumps({"10": [1, 2], "13": [5], "99": [7]}))
    results = land(fresh_db, "seqfile", folder)

    assert [(r.ds, r.target, r.rows) for r in results] == [
        (date(2020, 1, 1), "events", 5),
        (date(2020, 1, 1), "items", 4),
    ]
    ds = date(2020, 1, 1)

    def sf(line_no, user, item, ts):
        return (ds, line_no, content_id("sf", user, item, "purchase", ts), user, item, "purchase", ts, None, None, None)

    assert raw_rows(fresh_db, "events") == [
        sf(1, "1", "10", "2020-01-01T00:00:00Z"),
        sf(2, "1", "11", "2020-01-01T00:01:00Z"),
        sf(3, "1", "12", "2020-01-01T00:02:00Z"),
        sf(4, "2", "11", "2020-01-01T00:00:00Z"),
        sf(5, "2", "13", "2020-01-01T00:01:00Z"),
    ]
    assert raw_rows(fresh_db, "items") == [
        (ds, 1, "10", "item 10", None, "a1|a2", None, None, "true", None),
        (ds, 2, "11", "item 11", None, None, None, None, "true", None),
        (ds, 3, "12", "item 12", None, None, None, None, "true", None),
        (ds, 5, "13", "item 13", None, "a5", None, None, "true", None),
    ]
    again = land(fresh_db, "seqfile", folder / "Beauty.txt", ds=D1)
    assert [r.ds for r in again] == [D1, D1]
    land(fresh_db, "seqfile", folder / "Beauty.txt", ds=D1)
    assert fetch(fresh_db, "SELECT ds, count(*) FROM raw.events GROUP BY ds ORDER BY ds") == [(ds, 5), (D1, 5)]


def test_recbole_inter_and_item_files(fresh_db, workdir):
    inter = write(
        workdir / "ml.inter",
        "user_id:token\titem_id:token\trating:float\ttimestamp:float\n"
        "u1\ti1\t5\t1709287200.0\n"
        "u1\ti2\t3\t1709373600.5\n"
        "u2\ti1\t4\tyesterday\n"
        "u2\ti3\n",
    )
    write(
        workdir / "ml.item",
        "item_id:token\tmovie_title:token_seq\tgenre:token_seq\tcategories:token_seq\t"
        "price:float\n"
        'i1\tToy Story, "the" 🎬\tAnimation Comedy\tFilm Kids\tabc\n'
        "i2\tHeat\t\t\t\n",
    )
    results = land(fresh_db, "recbole", workdir, loaded_at=LOADED_AT)

    assert [(r.ds, r.target, r.path, r.rows, r.malformed) for r in results] == [
        (D1, "events", str(inter), 1, ()),
        (D2, "events", str(inter), 1, ()),
        (LD, "events", str(inter), 2, (4,)),
        (D1, "items", str(workdir / "ml.item"), 2, ()),
    ]

    def rb(ds, line_no, user, item, ts):
        return (ds, line_no, content_id("rb", user, item, "purchase", ts), user, item, "purchase", ts, None, None, None)

    assert raw_rows(fresh_db, "events") == [
        rb(D1, 1, "u1", "i1", "2024-03-01T10:00:00Z"),
        rb(D2, 2, "u1", "i2", "2024-03-02T10:00:00.500000Z"),
        rb(LD, 3, "u2", "i1", "yesterday"),
        rb(LD, 4, "u2", "i3", None),
    ]
    assert raw_rows(fresh_db, "items") == [
        (D1, 1, "i1", 'Toy Story, "the" 🎬', "Film > Kids", "Animation|Comedy", None, "abc", "true", None),
        (D1, 2, "i2", "Heat", None, None, None, None, "true", None),
    ]
    land(fresh_db, "recbole", inter, loaded_at=LOADED_AT)
    assert len(raw_rows(fresh_db, "events")) == 4 and len(loads(fresh_db)) == 4


def test_recbole_without_item_file_or_timestamps(fresh_db, workdir):
    write(
        workdir / "s.inter",
        "session_id:token\tuser_id:token\titem_id:token\tbehavior_type:token\n"
        "s1\tu1\ti1\tpv\ns1\tu1\ti2\tbuy\ns2\tu2\ti1\tclick\n",
    )
    results = land(fresh_db, "recbole", workdir / "s.inter", ds=D1)
    assert [(r.target, r.rows) for r in results] == [("events", 3), ("items", 2)]
    assert raw_rows(fresh_db, "events") == [
        (
            D1,
            1,
            content_id("rb", "u1", "i1", "view", "2024-03-01T00:00:00Z"),
            "u1",
            "i1",
            "view",
            "2024-03-01T00:00:00Z",
            "s1",
            None,
            None,
        ),
        (
            D1,
            2,
            content_id("rb", "u1", "i2", "purchase", "2024-03-01T00:01:00Z"),
            "u1",
            "i2",
            "purchase",
            "2024-03-01T00:01:00Z",
            "s1",
            None,
            None,
        ),
        (
            D1,
            3,
            content_id("rb", "u2", "i1", "click", "2024-03-01T00:00:00Z"),
            "u2",
            "i1",
            "click",
            "2024-03-01T00:00:00Z",
            "s2",
            None,
            None,
        ),
    ]
    assert [r[1:4] for r in raw_rows(fresh_db, "items")] == [(1, "i1", "item i1"), (2, "i2", "item i2")]
    write(workdir / "bad.inter", "user item\n")
    with pytest.raises(LandingError, match="name:type"):
        land(fresh_db, "recbole", workdir / "bad.inter")


def test_recbole_without_timestamps_fits_a_long_history_into_the_day(fresh_db, workdir):
    lines = "".join(f"u1\ti{n}\n" for n in range(2000)) + "u2\ti0\n"
    write(workdir / "long.inter", "user_id:token\titem_id:token\n" + lines)
    land(fresh_db, "recbole", workdir / "long.inter", ds=D1)
    stamps = [r[6] for r in raw_rows(fresh_db, "events") if r[3] == "u1"]
    assert len(stamps) == 2000 and stamps == sorted(stamps) and len(set(stamps)) == 2000
    assert all(s.startswith(D1.isoformat()) for s in stamps)  # 2,000 minutes would spill into the next day


def test_canonical_csv_from_csv_writer_round_trips(fresh_db, workdir):
    """Whatever Python's csv module writes (the usual producer of landing files) comes back verbatim."""
    values = [["e1", "u 1", "i,1", "view", "2024-03-01T10:00:00Z", "", 'q "x"\r\ny', " 1 "]]
    folder = workdir / D1.isoformat()
    folder.mkdir()
    with (folder / "events.csv").open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows([list(EVENT_COLUMNS), *values])
    land(fresh_db, "canonical", folder)
    assert raw_rows(fresh_db, "events") == [
        (D1, 1, "e1", "u 1", "i,1", "view", "2024-03-01T10:00:00Z", None, 'q "x"\r\ny', " 1 ")
    ]
