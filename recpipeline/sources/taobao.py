"""`taobao`: the Taobao UserBehavior log (Alibaba Tianchi), CSV without a header:
`user_id,item_id,category_id,behavior_type,timestamp`.

Events: event_id 'tb-<digest of (user, item, event type, timestamp)>' (base.content_id): the same event
has the same id in any file, so an exact duplicate is quarantined as a duplicate of the row it copies, and
several files of one day land side by side (one load per file and ds; landing a file again replaces its
own load). line_no is the 1-based line of the row in the file (blank lines count). Behaviours pv/cart/fav/buy become
view/cart/fav/purchase (anything else is kept as-is for the data-quality stage to reject); unix-second
timestamps become 'YYYY-MM-DDTHH:MM:SSZ' (UTC), a non-numeric one is kept as-is. session_id, query and
value are NULL.

ds: with --ds, every row lands under it. Otherwise each row lands under the UTC date of its timestamp when
that is plausible (base: from 2000-01-01 to the load time), and rows whose timestamp cannot be read or is
implausible under the load's day (the UTC date of the load), never under some other row's day.

Items: the dataset ships no catalogue and no titles, only a category id per item, so one items row per
distinct item_id is synthesised: category = the category_id on the item's first line, title = the
placeholder "Taobao item <id> (category <category_id>)", tags/brand/price/updated_at NULL, in_stock
'true', line_no = the line that first mentions the item. Every ds gets the items seen up to and
including that ds (a cumulative catalogue), so each day is self-contained: the snapshot for D holds
every item a history up to D can mention and none that appear only later. On the 84,475-row head file
that is 286,890 item rows over 14 days. With --ds, the whole catalogue lands under that ds.

Malformed lines: each line is read on its own (a quote never spans lines). A line with too few fields gets
NULL for the missing ones (so its timestamp is NULL); with too many, the surplus is joined with ',' into
the timestamp, which is then kept as-is. Either way the row lands and the data-quality stage rejects it;
its line_no is in LoadResult.malformed. Bytes, field sizes and quotes follow the door's rules (base).
"""

from __future__ import annotations

import bisect
import logging
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from recpipeline.days import unix_to_iso
from recpipeline.sources.base import (
    Adapter,
    LandingError,
    clean_fields,
    content_id,
    decode_line,
    event_type_of,
    fit_fields,
    read_lines,
    split_line,
)
from recpipeline.sources.staging import Landing

log = logging.getLogger(__name__)
FIELDS = ("user_id", "item_id", "category_id", "behavior_type", "timestamp")


class _Item:
    __slots__ = ("line_no", "category", "first_ds", "defects")

    def __init__(self, line_no: int, category: str | None, first_ds: date, defects: list[str]) -> None:
        self.line_no = line_no
        self.category = category
        self.first_ds = first_ds
        self.defects = defects


def land_taobao(landing: Landing, path: Path, ds: date | None) -> None:
    """Land a UserBehavior CSV: events per ds, then the synthesised cumulative item catalogue per ds."""
    if path.is_dir():
        raise LandingError(f"{path}: taobao takes the UserBehavior CSV file itself, not a folder")
    items: dict[str, _Item] = {}
    counts: Counter[date] = Counter()
    malformed: defaultdict[date, list[int]] = defaultdict(list)
    landing.begin("events")
    landing.copy_rows("events", _event_rows(landing, path, ds, items, counts, malformed))
    if ds is not None:
        counts[ds] += 0  # an empty file with --ds still replaces that day's load
    if not counts:
        log.warning("%s: no rows; nothing landed", path)
        return
    landing.finish("events", path, counts, malformed)

    days = sorted(counts)
    ordered = sorted(items.items(), key=lambda kv: (kv[1].first_ds, kv[1].line_no))
    firsts = [item.first_ds for _, item in ordered]
    item_counts = {day: bisect.bisect_right(firsts, day) for day in days}
    landing.begin("items")
    for item in items.values():
        landing.flag(item.line_no, item.defects)
    landing.copy_rows("items", _item_rows(days, ordered))
    landing.finish("items", path, item_counts)


def _event_rows(
    landing: Landing,
    path: Path,
    ds: date | None,
    items: dict[str, _Item],
    counts: Counter[date],
    malformed: defaultdict[date, list[int]],
) -> Iterator[tuple]:
    """Staging rows for the events; records items, per-ds counts, malformed lines and door defects on the way."""
    for line_no, line, cut in read_lines(path):
        text = decode_line(line).rstrip("\r\n")
        if not text and not cut:
            continue
        defects = ["too_long"] if cut else []
        record = split_line(text, ",", defects)
        wrong = len(record) != len(FIELDS)
        if wrong:
            record = fit_fields(record, len(FIELDS), ",")
        user_id, item_id, _, behavior, raw_ts = clean_fields(record, defects)
        ts, ts_day = unix_to_iso(raw_ts)
        day = landing.day_for(ds, ts_day)
        counts[day] += 1
        if wrong:
            malformed[day].append(line_no)
        landing.flag(line_no, defects)
        item_defects: list[str] = []  # the catalogue row judges the item's own fields only
        own_item, category_id = clean_fields(record[1:3], item_defects) if defects else record[1:3]
        if own_item:
            item = items.get(own_item)
            if item is None:
                items[own_item] = _Item(line_no, category_id, day, item_defects)
            elif day < item.first_ds:
                item.first_ds = day
        event_type = event_type_of(behavior)
        event_id = content_id("tb", user_id, item_id, event_type, ts)
        yield (day, line_no, event_id, user_id, item_id, event_type, ts, None, None, None)


def _item_rows(days: list[date], ordered: list[tuple[str, _Item]]) -> Iterator[tuple]:
    """The cumulative catalogue: under each ds, every item first seen on or before it."""
    for day in days:
        for item_id, item in ordered:
            if item.first_ds > day:
                break
            title = f"Taobao item {item_id}" + (f" (category {item.category})" if item.category else "")
            yield (day, item.line_no, item_id, title, item.category, None, None, None, "true", None)


ADAPTER = Adapter("taobao", land_taobao, "Taobao UserBehavior CSV (user,item,category,behavior,unix ts)", appends=True)
