"""Writes the bad-input corpus (tests/corpus/<format>/...) and its expected outcomes (tests/corpus/expected.json).

Each kind is one input of one format and what the door and data quality must make of it: a LandingError whose
message matches `error`, or per target the number of accepted rows and the reason codes of every quarantined
row (in load and line order). Run `python tests/corpus/make_corpus.py` after changing a kind; the files are
committed, so the test (tests/test_door_corpus.py) reads them as they are.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

HERE = Path(__file__).parent
D1 = "2024-03-01"
TS = "1709287200"  # 2024-03-01T10:00:00Z
T = "2024-03-01T10:00:00Z"
EV = "event_id,user_id,item_id,event_type,ts,session_id,query,value"
IT = "item_id,title,category,tags,brand,price,in_stock,updated_at"
RB = "user_id:token\titem_id:token\ttimestamp:float"
Q = '"'
KINDS: list[dict] = []


def kind(name: str, fmt: str, files: dict[str, bytes | str], path: str = "", ds: str | None = D1, **expect) -> None:
    """Register one kind: its files (relative to tests/corpus/<fmt>/<name>/), the path landed and the outcome."""
    KINDS.append({"kind": f"{fmt}/{name}", "format": fmt, "files": files, "path": path, "ds": ds, **expect})


def ok(accepted: int, *quarantined: list[str]) -> dict:
    """An expected outcome for one target: accepted rows and each quarantined row's reasons."""
    return {"accepted": accepted, "quarantined": [sorted(q) for q in quarantined]}


def tb(*lines: str | bytes) -> bytes:
    """A Taobao file body from lines."""
    return b"".join((x if isinstance(x, bytes) else x.encode()) + b"\n" for x in lines)


# --- taobao: user,item,category,behavior,unix seconds (no header) ---
G = f"1,100,7,pv,{TS}"
kind("good", "taobao", {"ub.csv": tb(G, f"2,101,7,buy,{TS}")}, events=ok(2), items=ok(2))
kind("exact_duplicates", "taobao", {"ub.csv": tb(G, G, G)}, events=ok(1, ["duplicate_row"], ["duplicate_row"]))
kind(
    "nul_in_item_id",
    "taobao",
    {"ub.csv": tb(G, f"2,10\x0001,7,pv,{TS}".encode())},
    events=ok(1, ["nul_byte"]),
    items=ok(1, ["nul_byte"]),
)
kind(
    "invalid_utf8_user_id",
    "taobao",
    {"ub.csv": tb(G, b"2\xff,100,7,pv," + TS.encode())},
    events=ok(1, ["invalid_utf8"]),
)
kind(
    "two_corrupt_ids_stay_apart",
    "taobao",
    {"ub.csv": tb(b"1,10\xfe1,7,pv," + TS.encode(), b"1,10\xff1,7,pv," + TS.encode())},
    events=ok(0, ["invalid_utf8"], ["invalid_utf8"]),
    items=ok(0, ["invalid_utf8"], ["invalid_utf8"]),
)
kind("control_char_in_user_id", "taobao", {"ub.csv": tb(G, f"u\x01,100,7,pv,{TS}")}, events=ok(1, ["control_chars"]))
kind("c1_control_in_user_id", "taobao", {"ub.csv": tb(G, f"u\x85,100,7,pv,{TS}")}, events=ok(1, ["control_chars"]))
kind(
    "tab_in_item_id",
    "taobao",
    {"ub.csv": tb(G, f"2,10\t0,7,pv,{TS}")},
    events=ok(1, ["control_chars"]),
    items=ok(1, ["control_chars"]),
)
kind(
    "carriage_return_mid_line",
    "taobao",
    {"ub.csv": tb(G, f"2,10\r0,7,pv,{TS}")},
    events=ok(1, ["control_chars"]),
    items=ok(1, ["control_chars"]),
)
kind("backslash_n_item_id", "taobao", {"ub.csv": tb(G, f"2,\\N,7,pv,{TS}")}, events=ok(2), items=ok(2))
kind("end_of_data_marker_user_id", "taobao", {"ub.csv": tb(G, f"\\.,100,7,pv,{TS}")}, events=ok(2))
kind("unknown_behaviour", "taobao", {"ub.csv": tb(G, f"2,100,7,scroll,{TS}")}, events=ok(1, ["unknown_event_type"]))
kind("uppercase_behaviour", "taobao", {"ub.csv": tb(G, f"2,100,7,PV,{TS}")}, events=ok(1, ["unknown_event_type"]))
kind("too_few_fields", "taobao", {"ub.csv": tb(G, "2,100,7,pv")}, events=ok(1, ["malformed_line", "missing_ts"]))
kind("too_many_fields", "taobao", {"ub.csv": tb(G, f"2,100,7,pv,{TS},x")}, events=ok(1, ["malformed_line", "bad_ts"]))
kind("empty_user_id", "taobao", {"ub.csv": tb(G, f",100,7,pv,{TS}")}, events=ok(1, ["missing_user_id"]))
kind("garbage_timestamp", "taobao", {"ub.csv": tb(G, "2,100,7,pv,soon")}, events=ok(1, ["bad_ts"]))
kind("fractional_timestamp", "taobao", {"ub.csv": tb(G, f"2,100,7,pv,{TS}.5")}, events=ok(2))
kind(
    "epoch_zero_without_ds",
    "taobao",
    {"ub.csv": tb(G, "2,100,7,pv,0")},
    ds=None,
    events=ok(1, ["ts_implausible", "ts_too_early"]),
)
kind(
    "negative_timestamp_without_ds",
    "taobao",
    {"ub.csv": tb(G, "2,100,7,pv,-1510000000")},
    ds=None,
    events=ok(1, ["ts_implausible", "ts_too_early"]),
)
kind(
    "year_2100_without_ds",
    "taobao",
    {"ub.csv": tb(G, "2,100,7,pv,4102444800", "3,100,7,pv,soon")},
    ds=None,
    events=ok(1, ["ts_in_future"], ["bad_ts"]),
)
kind(
    "field_over_size_limit", "taobao", {"ub.csv": tb(G, f"2{'x' * 200_000},100,7,pv,{TS}")}, events=ok(1, ["too_long"])
)
kind(
    "stray_quote_in_3000_lines",
    "taobao",
    {"ub.csv": tb(*[f"{Q if k == 7 else ''}u{k},100,7,pv,{TS}" for k in range(3000)])},
    events=ok(2999, ["malformed_line", "missing_event_type", "missing_ts", "unbalanced_quote"]),
)
kind("byte_order_mark", "taobao", {"ub.csv": b"\xef\xbb\xbf" + tb(G, f"2,100,7,pv,{TS}")}, events=ok(2))
kind("crlf_line_endings", "taobao", {"ub.csv": tb(G + "\r", f"2,100,7,pv,{TS}\r")}, events=ok(2))
kind("blank_lines", "taobao", {"ub.csv": tb("", G, "", f"2,100,7,pv,{TS}", "")}, events=ok(2))
kind("empty_file", "taobao", {"ub.csv": b""}, events=ok(0))
kind("a_folder", "taobao", {"ub.csv": tb(G)}, path=".", error="not a folder")

# --- canonical: YYYY-MM-DD/events.csv (+ items.csv) with the exact header ---
ITEMS = f"{IT}\ni1,Mug,,,,4.5,true,\n"
C = f"e1,u1,i1,view,{T},s1,,"


def cn(*lines: str | bytes, items: str = ITEMS) -> dict[str, bytes | str]:
    """A canonical day folder's files from event lines."""
    body = EV.encode() + b"\n" + b"".join((x if isinstance(x, bytes) else x.encode()) + b"\n" for x in lines)
    return {f"{D1}/events.csv": body, f"{D1}/items.csv": items}


kind("good", "canonical", cn(C, f"e2,u1,,search,{T},s1,mugs,"), path=D1, events=ok(2), items=ok(1))
kind("bad_header", "canonical", {f"{D1}/events.csv": "id,user\n1,2\n"}, path=D1, error="bad events header")
kind(
    "header_wrong_order",
    "canonical",
    {f"{D1}/events.csv": EV.replace("user_id,item_id", "item_id,user_id") + "\n"},
    path=D1,
    error="wrong order",
)
kind(
    "single_file_without_ds",
    "canonical",
    {"loose/events.csv": EV + "\n" + C + "\n"},
    path="loose/events.csv",
    ds=None,
    error="needs --ds",
)
kind(
    "day_folder_before_2000",
    "canonical",
    {"1999-12-31/events.csv": EV + "\n" + C + "\n"},
    path=".",
    ds=None,
    error="earliest plausible day",
)
kind(
    "bare_end_of_data_line",
    "canonical",
    cn(C, "\\.", f"e3,u1,i1,view,{T},s1,,"),
    path=D1,
    events=ok(2, ["malformed_line", "missing_user_id", "missing_event_type", "missing_ts"]),
)
kind("quoted_backslash_n_ids", "canonical", cn(f'"\\N","\\N",i1,view,{T},"\\.",,'), path=D1, events=ok(1))
kind(
    "stray_quote_folding_lines",
    "canonical",
    cn(C, f'e2,"u2,i1,view,{T},s1,,', f"e3,u3,i1,view,{T},s1,,", f"e4,u4,i1,view,{T},s1,,", f'e5,u"5,i1,view,{T},s1,,'),
    path=D1,
    events=ok(4, ["malformed_line", "missing_event_type", "missing_ts", "unbalanced_quote"]),
)
kind(
    "unterminated_quote_at_end",
    "canonical",
    cn(C, f'e2,u2,i1,view,{T},s1,"never closed,'),
    path=D1,
    events=ok(1, ["malformed_line", "unbalanced_quote"]),
)
kind("multi_line_query", "canonical", cn(C, f'e2,u1,,search,{T},s1,"two\nlines",'), path=D1, events=ok(2))
kind("nul_byte", "canonical", cn(C, f"e2,u\x002,i1,view,{T},s1,,".encode()), path=D1, events=ok(1, ["nul_byte"]))
kind(
    "invalid_utf8",
    "canonical",
    cn(C, b"e2,u\xc3,i1,view," + T.encode() + b",s1,,"),
    path=D1,
    events=ok(1, ["invalid_utf8"]),
)
kind("duplicate_row", "canonical", cn(C, C), path=D1, events=ok(1, ["duplicate_row"]))
kind("duplicate_event_id", "canonical", cn(C, f"e1,u2,i1,view,{T},s1,,"), path=D1, events=ok(1, ["duplicate_event_id"]))
kind(
    "special_timestamp_words",
    "canonical",
    cn(C, "e2,u1,i1,view,now,s1,,", "e3,u1,i1,view,epoch,s1,,"),
    path=D1,
    events=ok(1, ["bad_ts"], ["bad_ts"]),
)
kind(
    "control_char_in_ts", "canonical", cn(C, f'e2,u1,i1,view,"{T}\x0b",s1,,'), path=D1, events=ok(1, ["control_chars"])
)  # PostgreSQL reads the stamp (a trailing \v is whitespace)
kind(
    "timestamp_before_2000",
    "canonical",
    cn(C, "e2,u1,i1,view,1999-06-01T00:00:00Z,s1,,"),
    path=D1,
    events=ok(1, ["ts_implausible", "ts_too_early"]),
)
kind(
    "byte_order_mark",
    "canonical",
    {**cn(C), f"{D1}/events.csv": b"\xef\xbb\xbf" + cn(C)[f"{D1}/events.csv"]},
    path=D1,
    events=ok(1),
)
kind(
    "field_over_size_limit",
    "canonical",
    cn(C, f"e2,u{'x' * 70_000},i1,view,{T},s1,,"),
    path=D1,
    events=ok(1, ["too_long"]),
)
kind(
    "item_exact_copy_and_id_reuse",
    "canonical",
    cn(C, items=f"{IT}\ni1,Mug,,,,4.5,true,\ni1,Mug,,,,4.5,true,\ni1,Cup,,,,4.5,true,\n"),
    path=D1,
    events=ok(1),
    items=ok(1, ["duplicate_row"], ["duplicate_item_id"]),
)
kind(
    "item_nul_in_title",
    "canonical",
    cn(C, items=(ITEMS + "i2,M\x00ug,,,,4.5,true,\n").encode()),
    path=D1,
    events=ok(1),
    items=ok(1, ["nul_byte"]),
)
kind(
    "item_control_char_in_price",
    "canonical",
    cn(C, items=ITEMS + "i2,Mug,,,,4.5\x01,true,\n"),
    path=D1,
    events=ok(1),
    items=ok(1, ["bad_price", "control_chars"]),
)

# --- seqfile: user item item ... (order only; one ds) ---
kind("good", "seqfile", {"seq.txt": "1 10 11\n2 11\n"}, events=ok(3), items=ok(2))
kind("repeated_line", "seqfile", {"seq.txt": "1 10 11\n1 10 11\n"}, events=ok(2, ["duplicate_row"], ["duplicate_row"]))
kind("user_without_items", "seqfile", {"seq.txt": "1 10\n2\n"}, events=ok(1))
kind(
    "nul_in_item_token", "seqfile", {"seq.txt": b"1 10 1\x001\n"}, events=ok(1, ["nul_byte"]), items=ok(1, ["nul_byte"])
)
kind(
    "invalid_utf8_user_token", "seqfile", {"seq.txt": b"1\xff 10\n2 10\n"}, events=ok(1, ["invalid_utf8"]), items=ok(1)
)
kind(
    "control_char_in_token",
    "seqfile",
    {"seq.txt": "1 10 1\x011\n"},
    events=ok(1, ["control_chars"]),
    items=ok(1, ["control_chars"]),
)
kind("byte_order_mark", "seqfile", {"seq.txt": b"\xef\xbb\xbf1 10\n"}, events=ok(1))
kind(
    "token_over_size_limit",
    "seqfile",
    {"seq.txt": f"1 10 {'9' * 70_000}\n"},
    events=ok(1, ["too_long"]),
    items=ok(1, ["too_long"]),
)
kind(
    "bad_attributes_json",
    "seqfile",
    {"seq.txt": "1 10\n", "seq_item2attributes.json": "{not json"},
    path="seq.txt",
    error="cannot read the item attributes JSON",
)
kind("folder_with_two_files", "seqfile", {"a.txt": "1 10\n", "b.txt": "2 10\n"}, path=".", error="expected one")

# --- recbole: NAME.inter (+ NAME.item), tab-separated name:type header ---
R = "u1\ti1\t" + TS
kind("good", "recbole", {"x.inter": f"{RB}\n{R}\nu2\ti2\t{TS}\n"}, events=ok(2), items=ok(2))
kind("header_not_atomic", "recbole", {"x.inter": "user item\nu1 i1\n"}, error="name:type")
kind("no_item_id_column", "recbole", {"x.inter": "user_id:token\tthing:token\nu1\ti1\n"}, error="no item_id column")
kind("too_few_fields", "recbole", {"x.inter": f"{RB}\n{R}\nu2\ti2\n"}, events=ok(1, ["malformed_line", "missing_ts"]))
kind(
    "too_many_fields",
    "recbole",
    {"x.inter": f"{RB}\n{R}\nu2\ti2\t{TS}\tx\n"},
    events=ok(1, ["malformed_line", "bad_ts", "control_chars"]),
)  # the surplus joins the timestamp with a tab
kind("exact_duplicate", "recbole", {"x.inter": f"{RB}\n{R}\n{R}\n"}, events=ok(1, ["duplicate_row"]))
kind(
    "event_id_column_reused",
    "recbole",
    {"x.inter": f"event_id:token\t{RB}\ne1\t{R}\ne1\tu2\ti1\t{TS}\n"},
    events=ok(1, ["duplicate_event_id"]),
)
kind("nul_in_user_id", "recbole", {"x.inter": f"{RB}\n{R}\nu\x002\ti1\t{TS}\n".encode()}, events=ok(1, ["nul_byte"]))
kind(
    "epoch_zero_without_ds",
    "recbole",
    {"x.inter": f"{RB}\n{R}\nu2\ti1\t0\n"},
    ds=None,
    events=ok(1, ["ts_implausible", "ts_too_early"]),
)
kind("byte_order_mark", "recbole", {"x.inter": b"\xef\xbb\xbf" + f"{RB}\n{R}\n".encode()}, events=ok(1))
kind("quote_is_an_ordinary_character", "recbole", {"x.inter": f'{RB}\n{R}\nu"2\ti1\t{TS}\n'}, events=ok(2))
kind(
    "item_file_bad_price",
    "recbole",
    {"x.inter": f"{RB}\n{R}\n", "x.item": "item_id:token\ttitle:token_seq\tprice:float\ni1\tMug\tabc\ni2\tCup\t3\n"},
    events=ok(1),
    items=ok(1, ["bad_price"]),
)


def main() -> None:
    """Write every kind's files and expected.json."""
    manifest = []
    for entry in KINDS:
        folder = HERE / entry["kind"]
        shutil.rmtree(folder, ignore_errors=True)
        for rel, body in entry["files"].items():
            target = folder / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(body if isinstance(body, bytes) else body.encode())
        default = next(iter(entry["files"]))
        manifest.append({k: v for k, v in entry.items() if k != "files"} | {"path": entry["path"] or default})
    (HERE / "expected.json").write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n")
    print(f"{len(manifest)} kinds")


if __name__ == "__main__":
    main()
