"""Running the product on this machine: land and validate a source, and run the DAG through real Airflow.

The CLI (`recpipeline load|run|demo`), `make airflow` and the tests call these; `cli` only parses and prints.
"""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import date
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
    """Run recpipeline_daily for `ds` through real Airflow (`airflow dags test`, migrated metadata DB)."""
    from recpipeline import db

    settings = settings or load_settings()
    env = airflow_environment(settings, db.database_url(settings))
    ensure_airflow_db(env, airflow_home(settings))
    cmd = ["dags", "test", "recpipeline_daily", ds.isoformat()]
    if conf:
        cmd += ["--conf", json.dumps(conf)]
    airflow(cmd, env)
