"""Roles, the registry and erasure on a small shop run through the stages (no Airflow): the reader's
explanations, a live model that a rerun cannot touch, and `forget` reaching every schema."""

from __future__ import annotations

from pathlib import Path

import psycopg2
import pytest

from recpipeline import db, features, publish, registry
from recpipeline.config import load_settings


def run_day(url: str, tmp_path: Path, shards: int = 1) -> tuple[object, dict, object]:
    """Land the tiny shop's last days, then features, a (random) model, scoring and publish for the last day."""
    from recpipeline.generate import generate_shop
    from recpipeline.local import land_and_validate
    from recpipeline.model.daily import train_day
    from recpipeline.shard_scoring import score_shard

    shop = generate_shop("tiny", 5, tmp_path / "landing")
    settings = load_settings({"database_url": url, "home": tmp_path / "home", "random_model": True})
    for day in shop.days[-3:]:
        assert land_and_validate(url, "canonical", tmp_path / "landing" / day.isoformat(), day, settings=settings).ok
    ds = shop.days[-1]
    features.build_features(url, ds, settings)
    trained = train_day(url, ds, settings)
    publish_id = publish.plan_scoring(url, ds)
    for shard in range(shards):
        job = {"shard": shard, "shards": shards, "publish_id": publish_id, **trained}
        score_shard(url, ds, settings, job)
    publish.publish_day(url, ds, publish_id, trained["model_id"], shards=shards)
    return ds, trained, settings


def reader_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).set(username="recpipeline_reader", password=None).render_as_string(hide_password=False)


def test_the_reader_gets_explanations_but_still_cannot_read_raw_or_clean(fresh_db, tmp_path):
    run_day(fresh_db, tmp_path)
    with db.connect(fresh_db) as conn, conn.cursor() as cur:
        cur.execute("SELECT user_id FROM recs.latest WHERE source = 'model' LIMIT 1")
        (user,) = cur.fetchone()
    with psycopg2.connect(reader_url(fresh_db)) as conn, conn.cursor() as cur:
        cur.execute("SELECT rank, explanation FROM recs.explain(%s)", (user,))
        rows = cur.fetchall()
        assert rows and all("because you" in text for _, text in rows)
    for table in ("clean.events", "raw.events", "features.user_sequences"):
        with psycopg2.connect(reader_url(fresh_db)) as conn, conn.cursor() as cur:
            with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                cur.execute(f"SELECT 1 FROM {table} LIMIT 1")


def test_a_rerun_never_touches_a_blessed_model_or_its_artifact(fresh_db, tmp_path):
    from recpipeline.model.daily import train_day

    ds, trained, settings = run_day(fresh_db, tmp_path)
    registry.decide(fresh_db, trained["model_id"], True, "blessed for the test", {})
    live = registry.get(fresh_db, trained["model_id"])
    files = {p: p.read_bytes() for p in Path(live.artifact_uri).iterdir()}

    again = train_day(fresh_db, ds, settings)  # the same day and parameters: the same model id
    assert again["model_id"] == live.model_id and again["artifact"] != live.artifact_uri
    after = registry.get(fresh_db, live.model_id)
    assert (after.status, after.artifact_uri, after.reason) == ("blessed", live.artifact_uri, "blessed for the test")
    assert {p: p.read_bytes() for p in Path(live.artifact_uri).iterdir()} == files
    assert not list(Path(live.artifact_uri).parent.glob(".partial-*"))  # attempts become visible whole


def test_forget_erases_one_user_everywhere_in_one_transaction(fresh_db, tmp_path):
    from recpipeline.privacy import forget_user

    run_day(fresh_db, tmp_path)
    tables = {
        "raw.events": "btrim(user_id)",
        "clean.events": "user_id",
        "features.user_sequences": "user_id",
        "features.user_embeddings": "user_id",
        "recs.results": "user_id",
    }

    def rows(user: str) -> dict[str, int]:
        with db.connect(fresh_db) as conn, conn.cursor() as cur:
            out = {}
            for table, column in tables.items():
                cur.execute(f"SELECT count(*) FROM {table} WHERE {column} = %s", (user,))
                out[table] = cur.fetchone()[0]
            return out

    with db.connect(fresh_db) as conn, conn.cursor() as cur:
        cur.execute("SELECT DISTINCT user_id FROM recs.latest WHERE source = 'model' ORDER BY user_id LIMIT 2")
        user, other = (r[0] for r in cur.fetchall())
        # a quarantined row of the user's: the payload names them
        cur.execute(
            "INSERT INTO dq.rejects (ds, load_id, target, line_no, payload, reasons, message) "
            "VALUES ('2020-01-01', 0, 'events', 1, jsonb_build_object('user_id', %s), '{bad_ts}', 'x')",
            (f" {user} ",),
        )
    before, other_before = rows(user), rows(other)
    assert all(n > 0 for n in before.values()), before

    erased = forget_user(fresh_db, user, actor="privacy-officer")
    assert rows(user) == dict.fromkeys(tables, 0) and rows(other) == other_before
    assert {t: erased[t] for t in tables} == before and erased["dq.rejects"] == 1
    with db.connect(fresh_db) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT actor, subject_sha256 = encode(sha256(convert_to(%s, 'UTF8')), 'hex') FROM dq.erasures", (user,)
        )
        assert cur.fetchall() == [("privacy-officer", True)]
        cur.execute("SELECT count(*) FROM recs.latest WHERE user_id = %s", (user,))
        assert cur.fetchone()[0] == 0


def test_dq_report_lines_of_healthy_checks_never_read_as_errors(fresh_db, tmp_path):
    from recpipeline import quality

    ds, _, _ = run_day(fresh_db, tmp_path)
    lines = quality.report_lines(fresh_db, ds)
    passing = [line for line in lines if line.lstrip().startswith("[pass]")]
    assert passing and not [line for line in passing if "error" in line.lower()]
    assert any("stops the run" in line for line in passing)  # the severity is still said, as its effect
