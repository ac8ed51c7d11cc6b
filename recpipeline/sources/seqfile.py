"""`seqfile`: sequential-recommendation benchmark text (the SASRec / S3-Rec preprocessing), one user per
line, `user item_1 item_2 ... item_n`, items in time order and no timestamps; optionally
`<name>_item2attributes.json` (`{item_id: [attribute_id, ...]}`) beside it, or passed as the
`attributes` option.

PATH: the .txt file, or a folder holding exactly one *.txt.
ds: --ds, else 2020-01-01 (SYNTHETIC_DS); every row lands under that one ds.

Events: the file gives order only, so timestamps are synthesised: interaction k (0-based) of every user
at ds 00:00:00 UTC + k minutes, with the step shrunk below a minute (down to 1 s) when the longest
sequence would otherwise run past the day, so every timestamp falls on ds. Within a user the file's
order is kept; across users equal timestamps mean nothing. All events are 'purchase': these benchmarks
are built from reviews, and a review stands for a purchase. event_id 'sf-<digest of (user, item, event
type, timestamp)>' (base.content_id) is stable across reloads, and a line repeated for the same user is
quarantined as a duplicate of the first. line_no is the 1-based number of the interaction in file order,
not the file line: one line holds many interactions and line_no must be unique in a load. Several files
of one ds land side by side (one load per file); landing a file again replaces its own load.

Items: one row per distinct item of the interactions (items only in the attributes file are left out),
in order of first appearance: title "item <id>" (a placeholder; the benchmark ships no titles), tags =
its attribute ids as 'a<id>' joined with '|' (NULL without attributes), category/brand/price/updated_at
NULL, in_stock 'true', line_no = the line_no of the item's first interaction.

Malformed lines: blank lines are skipped; a line with a user and no items has no interactions to land
(it is logged). Any token lands as text, numeric or not. Tokens are split on ASCII whitespace; bytes and
sizes follow the door's rules (base), token by token: an interaction whose user or item token holds a NUL
or bytes that are not UTF-8 lands escaped with that defect, and so does the item's catalogue row.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from recpipeline.days import synthetic_stamps
from recpipeline.events import TAG_SEPARATOR
from recpipeline.sources.base import (
    SYNTHETIC_DS,
    Adapter,
    LandingError,
    clean_fields,
    content_id,
    decode_line,
    read_lines,
    single_file,
)
from recpipeline.sources.staging import Landing

log = logging.getLogger(__name__)
ATTRIBUTES_SUFFIX = "_item2attributes.json"
EVENT_TYPE = "purchase"


def land_seqfile(landing: Landing, path: Path, ds: date | None, attributes: Path | str | None = None) -> None:
    """Land a user-per-line sequence file and its items under one ds."""
    file = single_file(path, "*.txt", "sequence file")
    day = ds or SYNTHETIC_DS
    attrs_path = Path(attributes) if attributes else _attributes_beside(file)
    tags = _read_attributes(attrs_path) if attrs_path else {}
    users = _read_sequences(file)
    longest = max((len(items) for _, _, items in users), default=0)
    stamps = synthetic_stamps(day, longest)

    first_seen: dict[str, tuple[int, list[str]]] = {}
    landing.begin("events")
    rows = landing.copy_rows("events", _event_rows(landing, day, users, stamps, first_seen))
    landing.finish("events", file, {day: rows})
    landing.begin("items")
    for line_no, defects in first_seen.values():
        landing.flag(line_no, defects)
    items = landing.copy_rows("items", _item_rows(day, first_seen, tags))
    landing.finish("items", file, {day: items})
    log.info("%s: %d users, %d items, %d interactions (tags from %s)", file, len(users), items, rows, attrs_path)


def _attributes_beside(file: Path) -> Path | None:
    own = file.with_name(file.stem + ATTRIBUTES_SUFFIX)
    if own.is_file():
        return own
    found = sorted(file.parent.glob("*" + ATTRIBUTES_SUFFIX))
    return found[0] if len(found) == 1 else None


def _read_attributes(path: Path) -> dict[str, str]:
    """item_id -> 'a1|a2|...' from an item2attributes JSON."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise LandingError(f"{path}: cannot read the item attributes JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise LandingError(f"{path}: expected a JSON object {{item_id: [attribute_id, ...]}}")
    return {
        str(item): TAG_SEPARATOR.join(f"a{a}" for a in (attrs if isinstance(attrs, list) else [attrs]))
        for item, attrs in data.items()
    }


Token = tuple[str, list[str]]  # a token's text under the door's rules and its defects


def _read_sequences(file: Path) -> list[tuple[int, Token, list[Token]]]:
    """(file line, user, items) per non-blank line; each token cleaned on its own (base.clean_fields)."""
    users = []
    for line_no, line, cut in read_lines(file):
        tokens = [_token(t, cut) for t in line.split()]
        if not tokens:
            continue
        if len(tokens) == 1:
            log.warning("%s line %d: user %s has no items; nothing to land", file, line_no, tokens[0][0])
        users.append((line_no, tokens[0], tokens[1:]))
    return users


def _token(raw: bytes, cut: bool) -> Token:
    defects = ["too_long"] if cut else []
    [text] = clean_fields([decode_line(raw)], defects)
    return text or "", defects


def _event_rows(
    landing: Landing,
    day: date,
    users: list[tuple[int, Token, list[Token]]],
    stamps: list[str],
    first_seen: dict[str, tuple[int, list[str]]],
) -> Iterator[tuple]:
    n = 0
    for _, (user, user_defects), items in users:
        for k, (item, item_defects) in enumerate(items):
            n += 1
            first_seen.setdefault(item, (n, item_defects))
            landing.flag(n, user_defects + [d for d in item_defects if d not in user_defects])
            event_id = content_id("sf", user, item, EVENT_TYPE, stamps[k])
            yield (day, n, event_id, user, item, EVENT_TYPE, stamps[k], None, None, None)


def _item_rows(day: date, first_seen: dict[str, tuple[int, list[str]]], tags: dict[str, str]) -> Iterator[tuple]:
    for item, (line_no, _) in first_seen.items():
        yield (day, line_no, item, f"item {item}", None, tags.get(item), None, None, "true", None)


ADAPTER = Adapter(
    "seqfile",
    land_seqfile,
    "sequence benchmark text, one 'user item1 item2 ...' line per user (+ *_item2attributes.json)",
    options=("attributes",),
    appends=True,
)
