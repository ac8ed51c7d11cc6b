"""Helpers for tests that run real Airflow: an isolated AIRFLOW_HOME with a migrated metadata DB."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from recpipeline.airflow_env import airflow_environment
from recpipeline.config import load_settings
from recpipeline.local import TRAINING_POOL


def prepare_airflow(home: Path, database_url: str, **extra: str) -> dict[str, str]:
    """Set this process's environment for Airflow (before `import airflow`) and migrate its metadata DB."""
    settings = load_settings({"home": str(home)})
    env = airflow_environment(settings, database_url, **extra)
    os.environ.update(env)
    airflow = Path(sys.executable).parent / "airflow"
    subprocess.run([str(airflow), "db", "migrate"], env=env, check=True, capture_output=True, timeout=300)
    subprocess.run(
        [str(airflow), "pools", "set", *TRAINING_POOL], env=env, check=True, capture_output=True, timeout=300
    )
    return env
