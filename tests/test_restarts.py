"""Transient faults: the results PostgreSQL restarted in the middle of data_quality and of a score shard.
The tasks retry with backoff, the run succeeds, and every table comes out as in a clean run."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import psycopg2
import pytest

from recpipeline import db
from recpipeline.config import PROJECT_ROOT

CHECKSUMS = {  # run-specific columns (timestamps, publish and load ids) left out
    "recs.latest": "SELECT ds, model_id, user_id, rank, item_id, score, reason_item_id, source FROM recs.latest",
    "clean.events": "SELECT ds, event_id, user_id, item_id, event_type, ts FROM clean.events",
    "dq.load_audit": "SELECT ds, target, landed, accepted, rejected FROM dq.load_audit",
    "features.user_embeddings": "SELECT * FROM features.user_embeddings",
    "eval.metrics": "SELECT * FROM eval.metrics",
}


def checksums(url: str) -> dict[str, str]:
    with db.connect(url) as conn, conn.cursor() as cur:
        out = {}
        for name, sql in CHECKSUMS.items():
            cur.execute(f"SELECT count(*), md5(coalesce(string_agg(t::text, ';' ORDER BY t::text), '')) FROM ({sql}) t")
            count, digest = cur.fetchone()
            out[name] = f"{count}:{digest}"
        return out


def run(config: dict) -> dict:
    out = subprocess.run(
        [sys.executable, "-m", "tests.fault_run", json.dumps(config)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=1500,
        env=dict(os.environ),
    )
    lines = [line for line in out.stdout.splitlines() if line.startswith("RESULT ")]
    assert out.returncode == 0 and lines, out.stdout[-3000:] + out.stderr[-5000:]
    return json.loads(lines[-1].removeprefix("RESULT "))


@pytest.mark.slow
def test_postgres_restarts_mid_data_quality_and_mid_score_leave_identical_tables(tmp_path, request):
    import pgserver

    from recpipeline.generate import generate_shop
    from recpipeline.local import land_and_validate

    # our own server (restarting it disturbs no one), outside pytest's 0700 tmp tree: under root, pgserver runs
    # postgres as its own user, which must reach the data folder again when the server restarts
    pgdata = Path(tempfile.mkdtemp(prefix="recpipe-restarts-")) / "pgdata"
    os.chmod(pgdata.parent, 0o755)
    server = pgserver.get_server(pgdata, cleanup_mode="stop")

    def remove() -> None:
        server.cleanup()
        shutil.rmtree(pgdata.parent, ignore_errors=True)

    request.addfinalizer(remove)
    admin = psycopg2.connect(server.get_uri())
    admin.autocommit = True
    admin.cursor().execute("CREATE DATABASE restarts")
    admin.close()
    url = server.get_uri("restarts")
    db.upgrade(url)
    landing = tmp_path / "landing"
    shop = generate_shop("tiny", 11, landing)
    for day in shop.days[:-1]:
        assert land_and_validate(url, "canonical", landing / day.isoformat(), day).ok
    day = shop.days[-1].isoformat()
    config = {
        "url": url,
        "pgdata": str(pgdata),
        "home": str(tmp_path / "home"),
        "faults": [],
        "env": {"RECPIPE_LANDING_DIR": str(landing), "RECPIPE_EPOCHS": "30", "RECPIPE_GATE_BASELINES": "popularity"},
        "conf": {"ds": day, "shards": 2},
    }
    clean = run(config)
    assert clean["state"] == "success", clean
    expected = checksums(url)
    assert expected["recs.latest"].split(":")[0] != "0"

    faulty = run({**config, "faults": ["data_quality", "score"]})
    assert faulty["state"] == "success", faulty
    assert len(faulty["faults"]) == 2 and all("restarted" in f for f in faulty["faults"]), faulty["faults"]
    assert faulty["tries"]["data_quality[-1]"] == 2  # failed once with the server gone, then succeeded
    assert max(faulty["tries"][f"score[{shard}]"] for shard in (0, 1)) == 2
    assert checksums(url) == expected
