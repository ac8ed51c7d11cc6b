"""The environment every Airflow process of a local RecPipeline install gets (CLI, tests, make airflow)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from recpipeline.config import PROJECT_ROOT, Settings


def airflow_home(settings: Settings):
    return settings.home / "airflow"


def write_private(path: Path, text: str) -> None:
    """Write a secret readable by its owner only (0600 from the start, not chmod-ed afterwards)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(path, 0o600)  # an existing file keeps its old mode through O_CREAT


def airflow_environment(settings: Settings, database_url: str, **extra: str) -> dict[str, str]:
    """os.environ plus Airflow settings: project DAGs/plugins, no examples, our results DB connection."""
    home = airflow_home(settings)
    home.mkdir(parents=True, exist_ok=True)
    secret_file = home / "jwt_secret"
    if not secret_file.exists() or len(secret_file.read_text().strip()) < 64:  # 32 bytes: no HMAC key warning
        write_private(secret_file, secrets.token_hex(32))
    os.chmod(secret_file, 0o600)
    env = dict(os.environ)
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT_ROOT / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(PROJECT_ROOT / "plugins"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
            "AIRFLOW__API_AUTH__JWT_SECRET": secret_file.read_text().strip(),
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "10",
            "AIRFLOW_CONN_RECPIPE_DB": database_url,
            "RECPIPE_DATABASE_URL": database_url,
            "RECPIPE_HOME": str(settings.home),
            "PYTHONWARNINGS": "ignore::DeprecationWarning",
        }
    )
    env.update(extra)
    return env
