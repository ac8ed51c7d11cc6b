"""Running the product on this machine: land and validate a source, and run the DAG through real Airflow.

The CLI (`recpipeline load|run|demo`), `make airflow` and the tests call these; `cli` only parses and prints.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from recpipeline.airflow_env import airflow_environment, airflow_home
from recpipeline.config import Settings, load_settings

log = logging.getLogger(__name__)
# Training runs in this pool (one slot) so that backfills cannot start several trainings at once.
TRAINING_POOL = ("training", "1", "one model training at a time")


@dataclass
class LandedSource:
    """What `land_and_validate` did: rows per target, the days touched, and each day's outcome."""

    rows: dict[str, int]
    days: list[date]
    outcomes: dict[date, str] = field(default_factory=dict)  # day -> summary line or the failure
    failed: list[date] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed


def land_and_validate(
    url: str,
    fmt: str,
    path: Path,
    ds: date | None = None,
    source: str | None = None,
    validate: bool = True,
    settings: Settings | None = None,
) -> LandedSource:
    """Land a source into raw and validate each day it touched (a failed day is reported, not raised)."""
    from recpipeline import quality, sources

    settings = settings or load_settings()
    results = sources.land(url, fmt, path, ds=ds, source=source)
    rows: dict[str, int] = {}
    for r in results:
        rows[r.target] = rows.get(r.target, 0) + r.rows
    out = LandedSource(rows, sorted({r.ds for r in results}))
    for day in out.days if validate else []:
        try:
            report = quality.validate_day(url, day, settings)
            out.outcomes[day] = (
                f"events accepted {report.accepted['events']:,} rejected "
                f"{report.rejected['events']:,}; items accepted {report.accepted['items']:,} "
                f"rejected {report.rejected['items']:,}"
            )
        except quality.DataQualityError as exc:
            out.failed.append(day)
            out.outcomes[day] = str(exc)
    return out


def airflow(args: list[str], env: dict[str, str]) -> None:
    """Run the Airflow CLI of this virtualenv; raise with its exit code on failure."""
    exe = shutil.which("airflow", path=str(Path(sys.executable).parent)) or "airflow"
    subprocess.run([exe, *args], env=env, check=True)


def ensure_airflow_db(env: dict[str, str], home: Path) -> None:
    """Migrate Airflow's metadata DB and create the training pool, once per Airflow home."""
    marker = home / ".migrated"
    if not marker.exists():
        airflow(["db", "migrate"], env)
        airflow(["pools", "set", *TRAINING_POOL], env)
        marker.touch()


def run_dag(ds: date, conf: dict | None = None, settings: Settings | None = None) -> None:
    """Run recpipeline_daily for `ds` through real Airflow, in this machine's metadata DB, as a run without a
    logical date and `ds` as its Param: it keeps every earlier run of the day in the history and shows its
    real duration (`airflow dags test D` would replace the day's run and date its start at D 00:00)."""
    from recpipeline import db

    settings = settings or load_settings()
    env = airflow_environment(settings, db.database_url(settings))
    ensure_airflow_db(env, airflow_home(settings))
    run_conf = {**(conf or {}), "ds": ds.isoformat()}
    subprocess.run([sys.executable, "-m", "recpipeline.local", json.dumps(run_conf)], env=env, check=True)


def _test_run(run_conf: dict) -> int:
    """Inside the Airflow environment: one `dag.test` run of recpipeline_daily; 0 when it succeeded."""
    from airflow.dag_processing.dagbag import DagBag

    from recpipeline.config import PROJECT_ROOT

    dag = DagBag(dag_folder=str(PROJECT_ROOT / "dags")).dags["recpipeline_daily"]
    run = dag.test(logical_date=None, run_conf=run_conf)
    states = {ti.task_id: str(ti.state) for ti in run.get_task_instances()}
    log.info("run %s for %s: %s (%s)", run.run_id, run_conf["ds"], run.state, states)
    return 0 if str(run.state) == "success" else 1


def airflow_password(settings: Settings) -> str:
    """The Airflow password for `rerun`: RECPIPE_AIRFLOW_PASSWORD, else the one `make airflow` stored."""
    if os.environ.get("RECPIPE_AIRFLOW_PASSWORD"):
        return os.environ["RECPIPE_AIRFLOW_PASSWORD"]
    stored = airflow_home(settings) / "simple_auth_manager_passwords.json"
    if stored.exists():
        return json.loads(stored.read_text()).get(settings.airflow_user, "")
    raise LookupError("no Airflow password: set RECPIPE_AIRFLOW_PASSWORD (or start Airflow with `make airflow`)")


def _post_json(url: str, payload: dict, token: str | None = None) -> dict:
    headers = {"Content-Type": "application/json"} | ({"Authorization": f"Bearer {token}"} if token else {})
    request = urllib.request.Request(url, data=json.dumps(payload).encode(), headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        raise ConnectionError(f"{url} answered {exc.code}: {exc.read().decode(errors='replace')[:300]}") from exc
    except urllib.error.URLError as exc:
        raise ConnectionError(
            f"cannot reach Airflow at {url}: {exc.reason} (is it running? RECPIPE_AIRFLOW_URL)"
        ) from exc


def rerun(ds: date, conf: dict | None = None, settings: Settings | None = None) -> dict:
    """Trigger recpipeline_daily for `ds` with `conf` on a running Airflow through its REST API, as a new run
    without a logical date (a day can be rerun any number of times; earlier runs stay in the history)."""
    settings = settings or load_settings()
    base = settings.airflow_url.rstrip("/")
    token = _post_json(
        f"{base}/auth/token", {"username": settings.airflow_user, "password": airflow_password(settings)}
    )["access_token"]
    run_id = f"rerun__{ds.isoformat()}__{datetime.now(UTC):%Y%m%dT%H%M%S%f}"
    body = {"dag_run_id": run_id, "logical_date": None, "conf": {**(conf or {}), "ds": ds.isoformat()}}
    created = _post_json(f"{base}/api/v2/dags/recpipeline_daily/dagRuns", body, token)
    return {
        "run_id": created.get("dag_run_id", run_id),
        "state": created.get("state"),
        "url": f"{base}/dags/recpipeline_daily/runs/{urllib.parse.quote(run_id)}",
    }


def stop_embedded_db(settings: Settings | None = None) -> bool:
    """Stop the embedded PostgreSQL under RECPIPE_HOME (it outlives the commands that start it); False if it was
    not running."""
    import pgserver

    pgdata = (settings or load_settings()).home / "pgdata"
    if not (pgdata / "postmaster.pid").exists():
        return False
    pgserver.pg_ctl(["stop", "-m", "fast", "-w"], pgdata=pgdata)
    return True


if __name__ == "__main__":  # `run_dag` runs this inside the project's Airflow environment
    logging.basicConfig(level=logging.INFO)
    sys.exit(_test_run(json.loads(sys.argv[1])))
