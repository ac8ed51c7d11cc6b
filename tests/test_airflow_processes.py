"""recpipeline_daily under real Airflow processes (api-server, scheduler, dag-processor, Celery workers).

What the docker-compose deployment does, on this machine: a PostgreSQL metadata database of its own, runs
triggered through REST v2 with a logical date and conf, a backfill, and (Celery) score shards spread over two
workers. Each variant prints its wall time. Slow: ~3-5 minutes each on 2 cores.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import psycopg2
import pytest
from sqlalchemy.engine import make_url

from recpipeline.config import PROJECT_ROOT

pytestmark = pytest.mark.slow

AIRFLOW = Path(sys.executable).parent / "airflow"
DAG_ID = "recpipeline_daily"
SEED = 3
# epochs as conf: the DAG's Param defaults override RECPIPE_EPOCHS (see the report); 30 beats popularity.
CONF = {"shards": 2, "top_k": 5, "epochs": 30}
WORKER_HOSTNAME_VAR = "RECPIPE_TEST_WORKER_HOSTNAME"


def worker_hostname() -> str:
    """`[core] hostname_callable` for the Celery variant: two workers on one machine report distinct hosts
    (as two containers would), so task instances' `hostname` tells which worker ran them."""
    return os.environ.get(WORKER_HOSTNAME_VAR) or socket.getfqdn()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Processes:
    """Airflow components started by this test, each in its own session with its output in a file."""

    logs: Path
    procs: dict[str, tuple[subprocess.Popen, Path]] = field(default_factory=dict)

    def start(self, name: str, args: list[str], env: dict[str, str], cwd: Path | None = None) -> None:
        log = self.logs / f"{name}.log"
        with open(log, "wb") as out:
            proc = subprocess.Popen(
                [str(AIRFLOW), *args],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=cwd or PROJECT_ROOT,
                start_new_session=True,
            )
        self.procs[name] = (proc, log)

    def check_alive(self) -> None:
        dead = {n: p.returncode for n, (p, _) in self.procs.items() if p.poll() is not None}
        assert not dead, f"Airflow components exited: {dead}\n{self.tails()}"

    def stop(self, timeout: float = 45) -> None:
        """SIGTERM to each component's own PID (newest first), then SIGKILL to its session if it lingers."""
        for proc, _ in reversed(list(self.procs.values())):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for proc, _ in self.procs.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
        for proc, _ in self.procs.values():
            try:  # the session we created: the component and whatever it forked (serve-logs, task processes)
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait()

    def text(self, name: str) -> str:
        return self.procs[name][1].read_text(errors="replace")

    def tails(self, chars: int = 2500) -> str:
        return "\n".join(
            f"--- {name} ({log}) ---\n{log.read_text(errors='replace')[-chars:]}"
            for name, (_, log) in self.procs.items()
        )


class Api:
    """REST v2 with a SimpleAuthManager token."""

    def __init__(self, base: str):
        import requests

        self.base = base
        self.http = requests.Session()

    def login(self, username: str = "admin", password: str = "admin") -> None:
        r = self.http.post(f"{self.base}/auth/token", json={"username": username, "password": password}, timeout=30)
        r.raise_for_status()
        self.http.headers["Authorization"] = f"Bearer {r.json()['access_token']}"

    def call(self, method: str, path: str, ok: tuple[int, ...] = (200,), **kw):
        r = self.http.request(method, f"{self.base}/api/v2{path}", timeout=30, **kw)
        assert r.status_code in ok, f"{method} {path}: {r.status_code} {r.text[:2000]}"
        return r.json() if r.content else None

    def runs(self) -> list[dict]:
        return self.call("GET", f"/dags/{DAG_ID}/dagRuns", params={"limit": 100})["dag_runs"]

    def task_instances(self, run_id: str) -> list[dict]:
        return self.call("GET", f"/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances", params={"limit": 100})[
            "task_instances"
        ]


@dataclass
class Stack:
    api: Api
    procs: Processes
    env: dict[str, str]
    days: list[date]
    results_url: str

    def diagnostics(self, runs: list[dict]) -> str:
        """Task states of the given runs, the failed tasks' log tails and the components' log tails."""
        out = []
        logs = Path(self.env["AIRFLOW_HOME"]) / "logs" / f"dag_id={DAG_ID}"
        for run in runs:
            tis = self.api.task_instances(run["dag_run_id"])
            out.append(
                f"{run['dag_run_id']} {run['state']}: "
                + ", ".join(f"{t['task_id']}[{t['map_index']}]={t['state']}" for t in tis)
            )
            for t in tis:
                if t["state"] in ("failed", "up_for_retry"):
                    suffix = "" if t["map_index"] < 0 else f"/map_index={t['map_index']}"
                    for f in sorted(
                        (logs / f"run_id={run['dag_run_id']}" / f"task_id={t['task_id']}{suffix}").glob("attempt=*.log")
                    ):
                        out.append(f"--- {f} ---\n{f.read_text(errors='replace')[-4000:]}")
        return "\n".join(out) + "\n" + self.procs.tails()

    def wait_runs(self, want: int, select, timeout: float) -> list[dict]:
        """Poll until `want` runs matching `select` succeeded; fail fast (with diagnostics) on a failure."""
        deadline = time.monotonic() + timeout
        while True:
            runs = [r for r in self.api.runs() if select(r)]
            failed = [r for r in runs if r["state"] == "failed"]
            if failed:
                pytest.fail(f"run(s) failed: {[r['dag_run_id'] for r in failed]}\n{self.diagnostics(runs)}")
            if len(runs) >= want and all(r["state"] == "success" for r in runs):
                return runs
            if time.monotonic() > deadline:
                pytest.fail(f"timed out after {timeout:.0f}s waiting for {want} run(s)\n{self.diagnostics(runs)}")
            self.procs.check_alive()
            time.sleep(3)

    def trigger(self, day: date, conf: dict) -> str:
        run_id = f"rest__{day}"
        self.api.call(
            "POST",
            f"/dags/{DAG_ID}/dagRuns",
            json={"dag_run_id": run_id, "logical_date": f"{day}T00:00:00Z", "conf": conf},
        )
        return run_id


def _admin(url: str):
    conn = psycopg2.connect(url)
    conn.autocommit = True
    return conn


@contextmanager
def metadata_database(server_url: str, tag: str) -> Iterator[str]:
    name = f"recpipe_af_{os.getpid()}_{tag}"
    admin = _admin(server_url)
    try:
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            cur.execute(f'CREATE DATABASE "{name}"')
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@contextmanager
def airflow_stack(
    tmp_path: Path, server_url: str, results_url: str, executor: str, workers: dict[str, str], landed_days: slice
) -> Iterator[Stack]:
    """Tiny shop in a landing folder (days in `landed_days` landed and validated beforehand), a migrated
    metadata DB, api-server + scheduler + dag-processor (+ Celery workers), the DAG parsed and unpaused."""
    from recpipeline.airflow_env import airflow_environment
    from recpipeline.config import load_settings
    from recpipeline.generate import generate_shop
    from recpipeline.local import land_and_validate

    landing = tmp_path / "landing"
    shop = generate_shop("tiny", SEED, landing)
    for day in shop.days[landed_days]:
        assert land_and_validate(results_url, "canonical", landing / day.isoformat(), day).ok

    port = free_port()
    passwords = tmp_path / "passwords.json"
    passwords.write_text(json.dumps({"admin": "admin"}))
    logs = tmp_path / "logs"
    logs.mkdir()
    with metadata_database(server_url, executor[:5].lower()) as meta_url:
        env = airflow_environment(
            load_settings({"home": str(tmp_path / "home")}),
            results_url,
            AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=meta_url,
            AIRFLOW__CORE__EXECUTOR=executor,
            AIRFLOW__CORE__PARALLELISM="4",
            AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS="admin:admin",
            AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE=str(passwords),
            AIRFLOW__API__PORT=str(port),
            AIRFLOW__API__BASE_URL=f"http://localhost:{port}",
            AIRFLOW__CORE__EXECUTION_API_SERVER_URL=f"http://localhost:{port}/execution/",
            AIRFLOW__API__WORKERS="1",
            AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL="3",
            AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE="False",  # only the runs we create (catchup=False adds one)
            AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT=str(free_port()),
            AIRFLOW__CELERY__BROKER_URL=f"redis://127.0.0.1:6379/{8 + os.getpid() % 8}",
            AIRFLOW__CELERY__RESULT_BACKEND="db+" + meta_url,
            AIRFLOW__CELERY__WORKER_PREFETCH_MULTIPLIER="1",
            RECPIPE_LANDING_DIR=str(landing),
            RECPIPE_EPOCHS="30",
            RECPIPE_GATE_BASELINES="popularity",
            # Day-to-day ndcg on the tiny shop swings far more than 10% (different users each day), so the
            # "no worse than the last blessed model" check would reject healthy backfilled days.
            RECPIPE_GATE_TOLERANCE="1",
            PYTHONPATH=str(PROJECT_ROOT),
        )
        subprocess.run([str(AIRFLOW), "db", "migrate"], env=env, check=True, capture_output=True, timeout=300)
        procs = Processes(logs)
        try:
            procs.start("api-server", ["api-server", "--port", str(port)], env)
            procs.start("scheduler", ["scheduler"], env)
            procs.start("dag-processor", ["dag-processor"], env)
            for name, queues in workers.items():
                wdir = tmp_path / name
                wdir.mkdir()
                procs.start(
                    name,
                    [
                        "celery",
                        "worker",
                        "--celery-hostname",
                        f"{name}@%h",
                        "--concurrency",
                        "1",
                        "--queues",
                        queues,
                        "--skip-serve-logs",
                        "--pid",
                        str(wdir / "worker.pid"),
                    ],
                    {
                        **env,
                        WORKER_HOSTNAME_VAR: name,
                        "AIRFLOW__CORE__HOSTNAME_CALLABLE": f"{__name__}.worker_hostname",
                    },
                    cwd=wdir,
                )
            api = Api(f"http://localhost:{port}")
            stack = Stack(api, procs, env, shop.days, results_url)
            _wait_ready(stack, list(workers), timeout=240)
            # What standalone and airflow-init create too; needed once train runs with pool="training".
            api.call(
                "POST",
                "/pools",
                ok=(200, 201),
                json={"name": "training", "slots": 1, "description": "one training task at a time"},
            )
            api.call("PATCH", f"/dags/{DAG_ID}", json={"is_paused": False})
            yield stack
        finally:
            procs.stop()


def _wait_ready(stack: Stack, workers: list[str], timeout: float) -> None:
    """Health endpoint up, token issued, DAG parsed into the metadata DB, Celery workers ready."""
    import requests

    deadline = time.monotonic() + timeout
    steps = ["health", "login", "dag", *workers]
    while steps:
        stack.procs.check_alive()
        assert time.monotonic() < deadline, f"not ready ({steps[0]}) after {timeout:.0f}s\n{stack.procs.tails()}"
        step = steps[0]
        try:
            if step == "health":
                done = requests.get(f"{stack.api.base}/api/v2/monitor/health", timeout=5).ok
            elif step == "login":
                stack.api.login()
                done = True
            elif step == "dag":
                done = stack.api.http.get(f"{stack.api.base}/api/v2/dags/{DAG_ID}", timeout=10).ok
            else:
                done = f"{step}@" in stack.procs.text(step) and " ready." in stack.procs.text(step)
        except requests.RequestException:
            done = False
        if done:
            steps.pop(0)
        else:
            time.sleep(1)


def _results(url: str) -> dict:
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT ds FROM recs.published ORDER BY ds")
        published = [r[0] for r in cur.fetchall()]
        cur.execute("SELECT DISTINCT ds FROM recs.latest")
        latest = [r[0] for r in cur.fetchall()]
        cur.execute("SELECT ds, count(*) FROM eval.metrics WHERE method = 'model' GROUP BY ds ORDER BY ds")
        metrics = dict(cur.fetchall())
        cur.execute("SELECT ds, status FROM models.registry ORDER BY ds")
        models = cur.fetchall()
        cur.execute("SELECT max(rank) FROM recs.latest")
        max_rank = cur.fetchone()[0]
        cur.execute("SELECT count(DISTINCT shard) FROM recs.results JOIN recs.current USING (ds, publish_id)")
        shards = cur.fetchone()[0]
    conn.close()
    return {
        "published": published,
        "latest": latest,
        "metrics": metrics,
        "models": models,
        "max_rank": max_rank,
        "shards": shards,
    }


CHECKSUM_QUERIES = {  # run-specific columns (timestamps, publish ids, load ids) left out on purpose
    "recs": "SELECT ds, model_id, user_id, rank, item_id, score, reason_item_id, reason_score, source "
    "FROM recs.recommendations",
    "features.user_sequences": "SELECT * FROM features.user_sequences",
    "features.items": "SELECT * FROM features.items",
    "features.item_embeddings": "SELECT * FROM features.item_embeddings",
    "features.user_embeddings": "SELECT * FROM features.user_embeddings",
    "eval.metrics": "SELECT * FROM eval.metrics",
    "dq.check_results": "SELECT * FROM dq.check_results",
    "dq.load_audit": "SELECT ds, target, landed, accepted, rejected FROM dq.load_audit",
    "dq.rejects": "SELECT ds, target, line_no, payload, reasons, message FROM dq.rejects",
    "clean.events": "SELECT ds, event_id, user_id, item_id, event_type, ts, session_id, query, value, line_no "
    "FROM clean.events",
}


def wait_backfill_completed(stack, backfill_id: int, runs: list[dict], timeout: float = 600) -> None:
    """Poll GET /backfills/{id} until the scheduler marks it completed."""
    deadline = time.monotonic() + timeout
    while stack.api.call("GET", f"/backfills/{backfill_id}").get("completed_at") is None:
        assert time.monotonic() < deadline, f"backfill {backfill_id} did not complete\n" + stack.diagnostics(runs)
        stack.procs.check_alive()
        time.sleep(3)


def table_checksums(url: str) -> dict[str, str]:
    """md5 over each table's rows in a canonical order."""
    out = {}
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        for name, sql in CHECKSUM_QUERIES.items():
            cur.execute(f"SELECT count(*), md5(coalesce(string_agg(t::text, ';' ORDER BY t::text), '')) FROM ({sql}) t")
            count, digest = cur.fetchone()
            out[name] = f"{count}:{digest}"
    conn.close()
    return out


def test_local_executor_rest_trigger_then_backfill(tmp_path, server_url, fresh_db):
    t0 = time.monotonic()
    # History landed up to the day before the triggered one; the backfilled days are re-landed by ingest
    # from the landing folder (idempotently).
    with airflow_stack(tmp_path, server_url, fresh_db, "LocalExecutor", {}, slice(0, -1)) as stack:
        ready = time.monotonic() - t0
        last = stack.days[-1]
        run_id = stack.trigger(last, CONF)
        stack.wait_runs(1, lambda r: r["dag_run_id"] == run_id, timeout=360)
        triggered = time.monotonic() - t0

        # `recpipeline rerun`: the same day again through the REST API, as a run without a logical date; the
        # first run stays in the history (a second trigger with the logical date would answer 409)
        from recpipeline.config import load_settings
        from recpipeline.local import rerun

        os.environ["RECPIPE_AIRFLOW_PASSWORD"] = "admin"
        again = rerun(last, CONF, load_settings({"airflow_url": stack.api.base}))
        stack.wait_runs(1, lambda r: r["dag_run_id"] == again["run_id"], timeout=360)
        runs_of_last = [r["dag_run_id"] for r in stack.api.runs() if r["state"] == "success"]
        assert {run_id, again["run_id"]} <= set(runs_of_last)

        first, to = last - timedelta(days=3), last - timedelta(days=1)
        backfill = stack.api.call(
            "POST",
            "/backfills",
            json={
                "dag_id": DAG_ID,
                "from_date": f"{first}T00:00:00Z",
                "to_date": f"{to}T00:00:00Z",
                "reprocess_behavior": "completed",
                "max_active_runs": 1,
                "run_backwards": False,
                "dag_run_conf": {**CONF, "shards": 1},
            },
        )  # one TensorFlow scoring process per day: faster on 2 cores
        runs = stack.wait_runs(3, lambda r: r["run_type"] == "backfill", timeout=600)
        backfilled = time.monotonic() - t0
        assert sorted(date.fromisoformat(r["logical_date"][:10]) for r in runs) == [first, first + timedelta(1), to]
        assert backfill["dag_id"] == DAG_ID
        wait_backfill_completed(stack, backfill["id"], runs)  # one active backfill per DAG
        results = _results(fresh_db)
        before = table_checksums(fresh_db)

        # the same backfill again, reprocessing completed days: every result table must come out identical
        again = stack.api.call(
            "POST",
            "/backfills",
            json={
                "dag_id": DAG_ID,
                "from_date": f"{first}T00:00:00Z",
                "to_date": f"{to}T00:00:00Z",
                "reprocess_behavior": "completed",
                "max_active_runs": 1,
                "run_backwards": False,
                "dag_run_conf": {**CONF, "shards": 1},
            },
        )
        wait_backfill_completed(stack, again["id"], runs)
        stack.wait_runs(3, lambda r: r["run_type"] == "backfill", timeout=120)
        reprocessed = time.monotonic() - t0
        after = table_checksums(fresh_db)

    total = time.monotonic() - t0
    print(
        f"\n[wall] LocalExecutor: ready {ready:.0f}s, triggered run done {triggered:.0f}s, "
        f"3-day backfill done {backfilled:.0f}s, reprocessed {reprocessed:.0f}s, total incl. shutdown {total:.0f}s"
    )
    assert after == before, {k: (before[k], after[k]) for k in before if before[k] != after[k]}
    assert results["published"] == [first, first + timedelta(1), to, last]
    assert results["latest"] == [last]  # publishing older days never moves recs.latest backwards
    assert set(results["metrics"]) == {first, first + timedelta(1), to, last}
    assert all(status == "blessed" for _, status in results["models"])
    assert results["max_rank"] == CONF["top_k"] and results["shards"] == CONF["shards"]


def test_celery_two_workers_share_score_shards(tmp_path, server_url, fresh_db):
    t0 = time.monotonic()
    workers = {"worker-a": "default", "worker-b": "default,training"}
    with airflow_stack(tmp_path, server_url, fresh_db, "CeleryExecutor", workers, slice(0, -1)) as stack:
        ready = time.monotonic() - t0
        last = stack.days[-1]
        run_id = stack.trigger(last, {**CONF, "shards": 4})
        stack.wait_runs(1, lambda r: r["dag_run_id"] == run_id, timeout=360)
        done = time.monotonic() - t0
        tis = stack.api.task_instances(run_id)
        results = _results(fresh_db)

    total = time.monotonic() - t0
    print(
        f"\n[wall] CeleryExecutor (2 workers): ready {ready:.0f}s, run done {done:.0f}s, "
        f"total incl. shutdown {total:.0f}s"
    )
    score_hosts = {t["map_index"]: t["hostname"] for t in tis if t["task_id"] == "score"}
    print(
        f"score shards by worker: {score_hosts}; other tasks: "
        f"{ {t['task_id']: t['hostname'] for t in tis if t['task_id'] != 'score'} }"
    )
    assert sorted(score_hosts) == [0, 1, 2, 3]
    assert set(score_hosts.values()) == set(workers)  # the shards ran on both workers
    assert {t["hostname"] for t in tis} <= set(workers)
    assert results["published"] == [last] and results["latest"] == [last]
    assert results["shards"] == 4
