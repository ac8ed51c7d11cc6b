"""bench/quality.py on timestamped sources: rows land on their own days, every day passes data quality, the
leave-one-out protocol runs over the whole history in a scratch database, and references are printed only for
the dataset they were published on."""

from __future__ import annotations

import os
import re
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import psycopg2
import pytest

from recpipeline import sources

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import quality as bench  # noqa: E402

START = datetime(2021, 3, 1, tzinfo=UTC)
USERS, ITEMS, DAYS = 40, 25, 6
SEEDS = {"recbole": 1, "taobao": 2}


def interactions(seed: int = 0) -> list[tuple[str, str, str, int]]:
    """(user, item, behaviour, unix seconds): each user 5..9 events over DAYS days, items drifting per user."""
    rng = np.random.default_rng(seed)
    rows = []
    for u in range(USERS):
        n = int(rng.integers(5, 10))
        offsets = np.sort(rng.integers(0, DAYS * 86_400, n))
        for k, off in enumerate(offsets):
            item = (u * 3 + k) % ITEMS + 1
            behaviour = "buy" if k == n - 1 else ["pv", "pv", "cart", "fav"][k % 4]
            rows.append((f"u{u}", f"i{item}", behaviour, int(START.timestamp()) + int(off)))
    return rows


def write_recbole(folder: Path) -> Path:
    path = folder / "tiny.inter"
    lines = ["user_id:token\titem_id:token\trating:float\ttimestamp:float"]
    lines += [f"{u}\t{i}\t5.0\t{ts}" for u, i, _, ts in interactions(SEEDS["recbole"])]
    path.write_text("\n".join(lines) + "\n")
    return path


def write_taobao(folder: Path) -> Path:
    path = folder / "UserBehavior_tiny.csv"
    path.write_text(
        "".join(f"{u[1:]},{i[1:]},{int(i[1:]) % 4 + 1},{b},{ts}\n" for u, i, b, ts in interactions(SEEDS["taobao"]))
    )
    return path


@pytest.fixture
def scratch_name(server_url: str):
    name = f"recpipe_bench_quality_test_{os.getpid()}"
    yield name
    conn = psycopg2.connect(server_url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    conn.close()


@pytest.mark.parametrize(("fmt", "writer"), [("recbole", write_recbole), ("taobao", write_taobao)])
def test_timestamped_source_lands_on_its_days_and_passes_data_quality(
    fmt, writer, server_url: str, scratch_name: str, workdir: Path
):
    url = bench.scratch_database(server_url, scratch_name)
    prep = bench.prepare(url, fmt, writer(workdir))
    assert prep.days[0] == date(2021, 3, 1) and len(prep.days) == DAYS  # own days, not one synthetic day
    assert prep.settings.history_days == DAYS  # the features' window covers the whole history
    assert prep.rejected == 0 and prep.accepted == prep.landed == len(interactions(SEEDS[fmt]))
    from recpipeline import features

    seqs = features.load_sequences(url, prep.last_day)
    assert len(seqs.user_ids) == USERS
    assert sum(len(s) for s in seqs.items) == prep.accepted  # every day's events, not only the last day's


def test_bench_runs_end_to_end_in_a_scratch_database(
    fresh_db: str, server_url: str, scratch_name: str, workdir, capsys
):
    """The whole bench on a Taobao-format file; the configured database's own rows never reach it."""
    foreign = workdir / "foreign"
    foreign.mkdir()
    (foreign / "other.inter").write_text("user_id:token\titem_id:token\ttimestamp:float\nstranger\ti1\t1614585600\n")
    sources.land(fresh_db, "recbole", foreign / "other.inter")
    args = bench.parse_args(
        [str(write_taobao(workdir)), "--format", "taobao", "--cell", "sasrec", "--epochs", "2", "--scratch-db",
         scratch_name, "--database-url", server_url, "--set", "embedding_dim=8", "--set", "eval_batch_users=64",
         "--refit"]
    )  # fmt: skip
    reports = bench.run(args)
    out = capsys.readouterr().out
    assert f"over {DAYS} day(s)" in out and "rejected 0" in out
    assert f"features: {USERS} users" in out  # the stranger of the configured database is not among them
    assert "no published reference" in out and "ICLRec" not in out and "ratio" not in out
    lines = out.rstrip().splitlines()
    assert lines[-2].startswith("model HR@10") and lines[-1].startswith("model refit (")
    assert 0.0 <= reports["model"]["hit_rate@10"] <= 1.0 and 0.0 <= reports["refit"]["hit_rate@10"] <= 1.0
    assert "seq/s" in out
    # the refit trains for the validation-selected epochs on everything but each user's test item
    best = int(re.search(r"best epoch (\d+) of", out).group(1))
    refit = re.search(r"refit: (\d+) epochs on ([\d,]+) interactions", out)
    assert int(refit.group(1)) == best
    assert int(refit.group(2).replace(",", "")) == len(interactions(SEEDS["taobao"])) - USERS


def test_references_only_for_their_dataset(workdir: Path):
    other = workdir / "Beauty.txt"
    other.write_text("1 1 2 3\n")  # same name, other bytes: not Beauty
    assert bench.reference_for(workdir) is None
    assert bench.reference_for(other) is None
    known = next(iter(bench.REFERENCES.values()))
    assert "SASRec" in known.rows and known.ratio_to in known.rows
