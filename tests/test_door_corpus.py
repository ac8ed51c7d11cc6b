"""Issue 12: the bad-input corpus (tests/corpus, written by tests/corpus/make_corpus.py), one case per kind.

Each kind lands one input of one format and asserts its outcome: a clear LandingError, or per target the
accepted rows and the reason codes of every quarantined row, after data quality ran for every landed day.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from recpipeline.sources import LandingError, land
from tests.test_door_support import LOADED_AT, fetch, validate

CORPUS = Path(__file__).parent / "corpus"
KINDS = json.loads((CORPUS / "expected.json").read_text())


def outcome(url: str, target: str) -> dict:
    """Accepted rows of `target` over every validated day, and each quarantined row's sorted reasons."""
    [(accepted,)] = fetch(url, "SELECT coalesce(sum(accepted), 0) FROM dq.load_audit WHERE target = %s", (target,))
    rows = fetch(url, "SELECT reasons FROM dq.rejects WHERE target = %s ORDER BY ds, load_id, line_no", (target,))
    return {"accepted": accepted, "quarantined": [sorted(r) for (r,) in rows]}


def test_the_corpus_has_at_least_40_kinds_over_all_four_formats():
    assert len(KINDS) >= 40
    assert {k["format"] for k in KINDS} == {"canonical", "taobao", "seqfile", "recbole"}


@pytest.mark.parametrize("case", KINDS, ids=[k["kind"] for k in KINDS])
def test_corpus_kind(fresh_db, case):
    path = CORPUS / case["kind"] / case["path"]
    if "error" in case:
        with pytest.raises(LandingError, match=case["error"]):
            land(fresh_db, case["format"], path, ds=case["ds"], loaded_at=LOADED_AT)
        assert fetch(fresh_db, "SELECT count(*) FROM raw.loads") == [(0,)]
        return
    land(fresh_db, case["format"], path, ds=case["ds"], loaded_at=LOADED_AT)
    for (ds,) in fetch(fresh_db, "SELECT DISTINCT ds FROM raw.loads ORDER BY 1"):
        validate(fresh_db, ds)
    for target in ("events", "items"):
        if target in case:
            assert outcome(fresh_db, target) == case[target], target
