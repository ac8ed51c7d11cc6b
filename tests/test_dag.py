"""The DAG through real Airflow: it parses cheaply, and a whole run on the tiny shop publishes recs."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta

import pytest

from recpipeline import db
from recpipeline.config import PROJECT_ROOT
from recpipeline.evaluation.registry import split_label


def test_dag_parses_without_import_errors_or_tensorflow(tmp_path):
    script = textwrap.dedent(f"""
        import copy, json, sys, time
        t = time.time()
        from airflow.dag_processing.dagbag import DagBag
        bag = DagBag(dag_folder={str(PROJECT_ROOT / "dags")!r})
        dag = bag.dags.get("recpipeline_daily")
        invalid = []
        for key, value in [("cell", "rnn"), ("top_k", 0), ("epochs", "many"), ("unknown_items", "drop")]:
            params = copy.deepcopy(dag.params)
            try:
                params[key] = value
                params.validate()
            except Exception as exc:
                invalid.append(type(exc).__name__)
        params = copy.deepcopy(dag.params)
        params["cell"] = "lstm"
        params.validate()  # a valid override passes
        print(json.dumps({{"errors": {{k: str(v) for k, v in bag.import_errors.items()}},
                          "tasks": sorted(t.task_id for t in dag.tasks) if dag else [],
                          "dags": sorted(bag.dags),
                          "tf": "tensorflow" in sys.modules, "faiss": "faiss" in sys.modules,
                          "pandas": "pandas" in sys.modules, "invalid": invalid}}))
    """)
    env = {"AIRFLOW_HOME": str(tmp_path), "AIRFLOW__CORE__LOAD_EXAMPLES": "False", "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["errors"] == {}
    assert result["dags"] == ["recpipeline_category_top", "recpipeline_daily", "recpipeline_refresh"]
    assert result["tasks"] == [
        "data_quality",
        "evaluate",
        "features",
        "feedback",
        "ingest",
        "plan_scoring",
        "publish",
        "score",
        "train",
    ]
    assert result["tf"] is False and result["faiss"] is False and result["pandas"] is False
    assert result["invalid"] == ["ParamValidationError"] * 4  # the trigger form rejects bad values up front


def latest_checksum(url: str) -> str | None:
    with db.connect(url) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT md5(string_agg(concat_ws(',', ds, model_id, user_id, rank, item_id, score, reason_item_id, "
            "source), ';' ORDER BY user_id, rank)) FROM recs.latest"
        )
        return cur.fetchone()[0]


def task_states(run) -> dict[str, str]:
    states: dict[str, str] = {}
    for ti in run.get_task_instances():
        states.setdefault(ti.task_id, str(ti.state))
    return states


@pytest.mark.slow
def test_whole_dag_on_tiny_shop_publishes_and_protects_recommendations(fresh_db, tmp_path):
    """A normal day publishes; a broken model is not blessed and a collapsed day fails data quality, and in
    both cases recs.latest stays byte-for-byte what it was."""
    from recpipeline.generate import generate_shop
    from recpipeline.local import land_and_validate
    from tests.airflow_support import prepare_airflow

    landing = tmp_path / "landing"
    shop = generate_shop("tiny", 3, landing)
    prepare_airflow(
        tmp_path / "home",
        fresh_db,
        RECPIPE_LANDING_DIR=str(landing),
        RECPIPE_EPOCHS="30",
        RECPIPE_GATE_BASELINES="popularity",
    )
    normal_day, broken_day, collapsed_day = shop.days[-3:]
    with (landing / normal_day.isoformat() / "events.csv").open("a") as f:  # a shopper who only searched: cold
        f.write(f"cold-search-1,u-cold,,search,{normal_day}T10:00:00Z,s-cold,running shoes,\n")
    for day in shop.days[:-3]:
        assert land_and_validate(fresh_db, "canonical", landing / day.isoformat(), day).ok

    from airflow.dag_processing.dagbag import DagBag

    dag = DagBag(dag_folder=str(PROJECT_ROOT / "dags")).dags["recpipeline_daily"]

    def at(day):
        return datetime.combine(day, datetime.min.time(), tzinfo=UTC)

    run = dag.test(logical_date=at(normal_day), run_conf={"shards": 3, "top_k": 7})
    assert run.state == "success", task_states(run)

    with db.connect(fresh_db) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT ds, count(DISTINCT user_id), count(*), max(rank), count(DISTINCT model_id) "
            "FROM recs.latest GROUP BY ds"
        )
        ((ds, users, rows, max_rank, models),) = cur.fetchall()
        cur.execute("SELECT count(DISTINCT shard) FROM recs.results WHERE ds = %s", (normal_day,))
        shards = cur.fetchone()[0]
        cur.execute("SELECT status FROM models.registry")
        statuses = [r[0] for r in cur.fetchall()]
        cur.execute("SELECT DISTINCT method FROM eval.metrics")
        methods = {r[0] for r in cur.fetchall()}
        cur.execute("SELECT count(*) FROM clean.events WHERE ds = %s", (normal_day,))
        landed_today = cur.fetchone()[0]
        cur.execute(
            "SELECT count(*), min(cardinality(vector)) FROM features.user_embeddings WHERE ds = %s", (normal_day,)
        )
        embedded_users, dim = cur.fetchone()
        cur.execute("SELECT count(*) FROM features.user_sequences WHERE ds = %s", (normal_day,))
        sequences = cur.fetchone()[0]
    assert ds == normal_day
    assert users > 50 and max_rank == 7 and rows <= users * 7 and models == 1
    assert shards == 3
    assert statuses == ["blessed"]
    assert methods == {
        "model",
        "popularity",
        "trending",
        "cooccurrence",
        "search_personalised",
        "search_text",
        "search_text_pop",
    }
    assert landed_today > 0  # the ingest task landed the day from the landing folder
    assert embedded_users == sequences and dim == 64  # every shard wrote its users' vectors exactly once
    published = latest_checksum(fresh_db)
    with db.connect(fresh_db) as conn, conn.cursor() as cur:
        cur.execute("SELECT item_id, source FROM recs.latest WHERE user_id = 'u-cold' ORDER BY rank")
        served_cold = cur.fetchall()
    assert len(served_cold) == 7 and {source for _, source in served_cold} == {"trending"}

    # recomputing the day outside Airflow gives exactly the DAG's numbers, and never rewrites its decision
    from recpipeline import registry
    from recpipeline.cli import main as cli
    from recpipeline.config import load_settings
    from recpipeline.evaluation.daily import compute_day

    def day_metrics():
        with db.connect(fresh_db) as conn, conn.cursor() as cur:
            cur.execute("SELECT method, metric, k, value FROM eval.metrics WHERE ds = %s", (normal_day,))
            stored = {(method, metric, k): value for method, metric, k, value in cur.fetchall()}
            cur.execute("SELECT model_id, blessed, decided_at FROM eval.gate_decisions WHERE ds = %s", (normal_day,))
            return stored, cur.fetchall()

    stored, decisions = day_metrics()
    ((model_id, _, _),) = decisions
    settings = load_settings({"gate_baselines": "popularity"})
    again = compute_day(fresh_db, normal_day, settings, model_id, registry.get(fresh_db, model_id).artifact_uri)
    recomputed = {
        (
            m,
            *split_label(label),
        ): v
        for m, r in again.results.items()
        for label, v in r.items()
        if label != "users"
    }
    ranking = {key: value for key, value in stored.items() if key[0] in again.results}  # search: its own stage
    assert recomputed == ranking and len(ranking) > 40
    assert cli(["eval", "report", "--ds", normal_day.isoformat(), "--recompute"]) == 0
    assert day_metrics() == (stored, decisions)

    run = dag.test(logical_date=at(broken_day), run_conf={"random_model": True})
    states = task_states(run)
    # a gate rejection is a decision, not a breakage: publish ends skipped and the run succeeds
    assert run.state == "success" and states["evaluate"] == "success" and states["publish"] == "skipped", states
    with db.connect(fresh_db) as conn, conn.cursor() as cur:
        cur.execute("SELECT status, reason FROM models.registry WHERE ds = %s", (broken_day,))
        status, reason = cur.fetchone()
    assert status == "rejected" and "does not beat popularity" in reason
    assert latest_checksum(fresh_db) == published

    # what is measured is what was served: the trending list the gate judged on broken_day is the list cold
    # users were served after normal_day's publish
    from recpipeline.evaluation.daily import trending_order
    from recpipeline.features import load_item_table

    items = load_item_table(fresh_db, broken_day)
    judged = items.item_ids[trending_order(fresh_db, broken_day, items)][:7].tolist()
    assert judged == [item for item, _ in served_cold]

    events = landing / collapsed_day.isoformat() / "events.csv"
    events.write_text("".join(events.read_text().splitlines(keepends=True)[:6]))  # header + 5 events
    run = dag.test(logical_date=at(collapsed_day))
    states = task_states(run)
    assert run.state == "failed" and states["data_quality"] == "failed", states
    assert states["train"] != "success" and states["publish"] != "success"
    with db.connect(fresh_db) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT check_name, status FROM dq.check_results WHERE ds = %s AND status = 'fail'", (collapsed_day,)
        )
        assert ("volume", "fail") in cur.fetchall()
    assert latest_checksum(fresh_db) == published

    # a scheduled run for a day nothing has landed for does not fail: every task ends skipped
    run = dag.test(logical_date=at(collapsed_day + timedelta(days=30)))
    assert run.state == "success" and set(task_states(run).values()) == {"skipped"}, task_states(run)
