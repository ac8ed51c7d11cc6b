"""The environment every Airflow process of a local RecPipeline install gets (CLI, tests, make airflow)."""

from __future__ import annotations

import os
import secrets

from recpipeline.config import PROJECT_ROOT, Settings


def airflow_home(settings: Settings):
    return settings.home / "airflow"


def airflow_environment(settings: Settings, database_url: str, **extra: str) -> dict[str, str]:
    """os.environ plus Airflow settings: project DAGs/plugins, no examples, our results DB connection."""
    home = airflow_home(settings)
    home.mkdir(parents=True, exist_ok=True)
    secret_file = home / "jwt_secret"
    if not secret_file.exists():
        secret_file.write_text(secrets.token_hex(16))
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
