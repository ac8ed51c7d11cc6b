"""One recpipeline_daily run through real Airflow (dag.test), optionally with the results PostgreSQL restarted
mid-task: `python -m tests.fault_run CONFIG_JSON` prints the run's state and task tries as JSON.

Run in its own process because Airflow reads its configuration once per process. The faults are real: a
table the task writes is locked from another connection, and once the task's statement waits on that lock
the server is restarted (`pg_ctl restart -m immediate`), killing the task's connection mid-transaction.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from pathlib import Path

import psycopg2

# (table locked, text of the blocked statement): data_quality's audit insert, and a score shard's user vectors
FAULTS = {
    "data_quality": ("dq.load_audit", "%dq.load_audit%"),
    "score": ("features.user_embeddings", "%features.user_embeddings%"),
}


def restart_when_blocked(url: str, pgdata: Path, faults: list[str], log: list[str]) -> None:
    """For each fault in turn: hold its lock until a task's statement waits on it, then restart the server."""
    import pgserver

    for name in faults:
        table, needle = FAULTS[name]
        holder = psycopg2.connect(url)
        holder.cursor().execute(f"LOCK TABLE {table} IN EXCLUSIVE MODE")
        watcher = psycopg2.connect(url)
        watcher.autocommit = True
        deadline = time.monotonic() + 900
        while time.monotonic() < deadline:
            with watcher.cursor() as cur:
                cur.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query ILIKE %s",
                    (needle,),
                )
                if cur.fetchone()[0]:
                    break
            time.sleep(0.2)
        else:
            log.append(f"{name}: never blocked")
            return
        watcher.close()
        user = "pgserver" if os.geteuid() == 0 else None  # pgserver runs postgres as this user under root
        pgserver.pg_ctl(["restart", "-m", "immediate", "-w", "-l", str(pgdata / "log")], pgdata=pgdata, user=user)
        log.append(f"{name}: restarted the server while a statement waited on {table}")
        holder.close()


def main(config: dict) -> None:
    from tests.airflow_support import prepare_airflow

    prepare_airflow(Path(config["home"]), config["url"], **config["env"])
    from airflow.dag_processing.dagbag import DagBag

    from recpipeline.config import PROJECT_ROOT

    log: list[str] = []
    injector = None
    if config["faults"]:

        def inject() -> None:
            try:
                restart_when_blocked(config["url"], Path(config["pgdata"]), config["faults"], log)
            except Exception as exc:  # reported in the result, so a broken injector fails the test visibly
                detail = getattr(exc, "stderr", "") or getattr(exc, "output", "") or ""
                log.append(f"injector failed: {exc!r} {detail}")

        injector = threading.Thread(target=inject)
        injector.start()
    dag = DagBag(dag_folder=str(PROJECT_ROOT / "dags")).dags["recpipeline_daily"]
    run = dag.test(logical_date=None, run_conf=config["conf"])
    if injector is not None:
        injector.join(timeout=60)
    tries = {f"{ti.task_id}[{ti.map_index}]": ti.try_number for ti in run.get_task_instances()}
    states = {f"{ti.task_id}[{ti.map_index}]": str(ti.state) for ti in run.get_task_instances()}
    print("RESULT " + json.dumps({"state": str(run.state), "tries": tries, "states": states, "faults": log}))


if __name__ == "__main__":
    main(json.loads(sys.argv[1]))
