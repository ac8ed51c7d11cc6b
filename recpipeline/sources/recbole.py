"""`recbole`: RecBole atomic files, `NAME.inter` and optional `NAME.item`: tab-separated, no quoting, a
header of `name:type` fields (types token, token_seq, float, float_seq), e.g.
`user_id:token  item_id:token  rating:float  timestamp:float`.

PATH: the .inter file, or a folder holding exactly one *.inter; NAME.item is looked up beside it.
line_no: the 1-based data line (the header is not counted; blank lines are skipped but counted).
Several .inter files of one day land side by side (one load per file and ds); landing a file again
replaces its own load.

Events: user_id and item_id as they are; timestamp (unix seconds, float) -> 'YYYY-MM-DDTHH:MM:SS[.ffffff]Z'
UTC, a non-numeric one kept as-is. event_type is 'purchase' (RecBole's benchmark sets are ratings,
reviews and purchases) unless a column event_type / behavior_type / behavior / action_type says otherwise
(Taobao's pv/buy/... are mapped, other values kept). session_id from a session_id column; event_id from
an event_id column, else 'rb-<digest of (user, item, event type, timestamp)>' (base.content_id), so an
exact duplicate is quarantined as a duplicate of the row it copies. Other columns (rating, review text,
...) have no canonical place and are not landed. Without a timestamp column, timestamps are synthesised
from the order of the file: a user's k-th interaction (0-based) at ds 00:00:00 UTC + k minutes.

ds: --ds; else each row's UTC date when plausible (base: from 2000-01-01 to the load time), rows with an
unreadable or implausible timestamp under the load's day (the UTC date of the load); without a
timestamp column, 2020-01-01 (SYNTHETIC_DS).

Items: NAME.item rows with fields mapped by column name: item_id; title from title / movie_title /
item_name / name (a token_seq keeps its space-separated text; the placeholder "item <id>" when the file
has no title column at all); category from categories / category (token_seq tokens joined with ' > ');
tags from tags / genre / genres (token_seq tokens joined with '|'); brand; price; in_stock if present,
else 'true'. Without NAME.item, one row per distinct item of the interactions is synthesised (title
"item <id>", in_stock 'true', line_no of its first interaction). The catalogue lands once, under the
earliest ds of the events (or --ds): it carries no dates and RecBole sets span years, so a copy per day
would multiply it by thousands; the data-quality stage reads the latest item snapshot with ds <= D,
which finds it for every day.

Malformed lines: too few fields -> NULL for the missing ones; too many -> the surplus joined with a tab
into the last column. They land, for the data-quality stage to judge, and are listed in
LoadResult.malformed. No quoting: a quote is an ordinary character. Bytes and field sizes follow the
door's rules (base); a byte-order mark before the header is dropped.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from recpipeline.days import synthetic_stamps, unix_to_iso
from recpipeline.events import CATEGORY_SEPARATOR, TAG_SEPARATOR
from recpipeline.sources.base import (
    SYNTHETIC_DS,
    Adapter,
    LandingError,
    clean_fields,
    content_id,
    decode_line,
    event_type_of,
    fit_fields,
    read_lines,
    single_file,
)
from recpipeline.sources.staging import Landing

log = logging.getLogger(__name__)
EVENT_TYPE = "purchase"
EVENT_TYPE_COLUMNS = ("event_type", "behavior_type", "behavior", "action_type")
TITLE_COLUMNS = ("title", "movie_title", "item_name", "name")
CATEGORY_COLUMNS = ("categories", "category")
TAG_COLUMNS = ("tags", "genre", "genres")


class AtomicFile:
    """A RecBole atomic file: its header (names, types) and its data records."""

    def __init__(self, path: Path) -> None:
        self.path = path
        first = next(read_lines(path), (0, b"", False))[1]
        header = first.decode("utf-8", "replace").rstrip("\r\n")
        fields = header.split("\t") if header else []
        if not fields or not all(":" in h for h in fields):
            raise LandingError(f"{path}: not a RecBole atomic file; the header must be tab-separated name:type")
        self.names = [h.split(":", 1)[0] for h in fields]
        self.types = dict(h.split(":", 1) for h in fields)

    def index(self, *candidates: str) -> int | None:
        """Position of the first of `candidates` present as a column."""
        for name in candidates:
            if name in self.names:
                return self.names.index(name)
        return None

    def require(self, name: str) -> int:
        position = self.index(name)
        if position is None:
            raise LandingError(f"{self.path}: no {name} column (columns: {self.names})")
        return position

    def records(self) -> Iterator[tuple[int, list[str | None], bool, list[str]]]:
        """(data line number, fields fitted to the header width, whether the width was wrong, door defects)."""
        width = len(self.names)
        for physical, line, cut in read_lines(self.path):
            text = decode_line(line).rstrip("\r\n")
            if physical == 1 or (not text and not cut):
                continue
            defects = ["too_long"] if cut else []
            fields: list[str | None] = list(text.split("\t"))
            wrong = len(fields) != width
            if wrong:
                fields = fit_fields(fields, width, "\t")
            yield physical - 1, clean_fields(fields, defects), wrong, defects


def land_recbole(landing: Landing, path: Path, ds: date | None) -> None:
    """Land NAME.inter as events (per ds) and NAME.item (or synthesised items) under the earliest ds."""
    inter = AtomicFile(single_file(path, "*.inter", "RecBole .inter file"))
    counts: Counter[date] = Counter()
    malformed: defaultdict[date, list[int]] = defaultdict(list)
    first_seen: dict[str, int] = {}
    landing.begin("events")
    landing.copy_rows("events", _event_rows(landing, inter, ds, counts, malformed, first_seen))
    if ds is not None:
        counts[ds] += 0
    if not counts:
        log.warning("%s: no rows; nothing landed", inter.path)
        return
    landing.finish("events", inter.path, counts, malformed)

    items_ds = min(counts)
    item_path = inter.path.with_suffix(".item")
    landing.begin("items")
    if item_path.is_file():
        catalogue = AtomicFile(item_path)
        bad: list[int] = []
        rows = landing.copy_rows("items", _catalogue_rows(landing, catalogue, items_ds, bad))
        landing.finish("items", item_path, {items_ds: rows}, {items_ds: bad})
    else:
        rows = landing.copy_rows("items", _synthetic_items(first_seen, items_ds))
        landing.finish("items", inter.path, {items_ds: rows})


def _event_rows(
    landing: Landing,
    inter: AtomicFile,
    ds: date | None,
    counts: Counter[date],
    malformed: defaultdict[date, list[int]],
    first_seen: dict[str, int],
) -> Iterator[tuple]:
    user_col, item_col = inter.require("user_id"), inter.require("item_id")
    ts_col = inter.index("timestamp")
    type_col = inter.index(*EVENT_TYPE_COLUMNS)
    session_col = inter.index("session_id")
    id_col = inter.index("event_id")
    base_day = ds or SYNTHETIC_DS
    stamps: list[str] = []
    if ts_col is None:  # order only: synthesise, fitting every user's events into the day (one counting pass)
        per_user = Counter(fields[user_col] for _, fields, _, _ in inter.records())
        stamps = synthetic_stamps(base_day, max(per_user.values(), default=0))
    position: Counter[str] = Counter()
    for line_no, fields, wrong, defects in inter.records():
        user_id, item_id = fields[user_col], fields[item_col]
        if ts_col is not None:
            ts, ts_day = unix_to_iso(fields[ts_col])
            day = landing.day_for(ds, ts_day)
        else:
            ts = stamps[position[user_id]]
            position[user_id] += 1
            day = base_day
        counts[day] += 1
        if wrong:
            malformed[day].append(line_no)
        landing.flag(line_no, defects)
        if item_id and not defects:  # a row with door defects is quarantined; its fields name no catalogue item
            first_seen.setdefault(item_id, line_no)
        event_type = EVENT_TYPE if type_col is None else event_type_of(fields[type_col])
        event_id = fields[id_col] if id_col is not None else content_id("rb", user_id, item_id, event_type, ts)
        session_id = fields[session_col] if session_col is not None else None
        yield (day, line_no, event_id, user_id, item_id, event_type, ts, session_id, None, None)


def _catalogue_rows(landing: Landing, catalogue: AtomicFile, day: date, malformed: list[int]) -> Iterator[tuple]:
    item_col = catalogue.require("item_id")
    title_col = catalogue.index(*TITLE_COLUMNS)
    category_col = catalogue.index(*CATEGORY_COLUMNS)
    tags_col = catalogue.index(*TAG_COLUMNS)
    brand_col, price_col = catalogue.index("brand"), catalogue.index("price")
    stock_col = catalogue.index("in_stock")

    def field(fields: list[str | None], col: int | None, joiner: str | None = None) -> str | None:
        if col is None or fields[col] is None:
            return None
        value = fields[col]
        if joiner is not None and catalogue.types[catalogue.names[col]] == "token_seq":
            return joiner.join(value.split())
        return value

    for line_no, fields, wrong, defects in catalogue.records():
        if wrong:
            malformed.append(line_no)
        landing.flag(line_no, defects)
        item_id = fields[item_col]
        title = field(fields, title_col) if title_col is not None else f"item {item_id}"
        yield (
            day,
            line_no,
            item_id,
            title,
            field(fields, category_col, CATEGORY_SEPARATOR),
            field(fields, tags_col, TAG_SEPARATOR),
            field(fields, brand_col),
            field(fields, price_col),
            field(fields, stock_col) if stock_col is not None else "true",
            None,
        )


def _synthetic_items(first_seen: dict[str, int], day: date) -> Iterator[tuple]:
    for item_id, line_no in first_seen.items():
        yield (day, line_no, item_id, f"item {item_id}", None, None, None, None, "true", None)


ADAPTER = Adapter("recbole", land_recbole, "RecBole atomic files NAME.inter (+ NAME.item), tab-separated", appends=True)
