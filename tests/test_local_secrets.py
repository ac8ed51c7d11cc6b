"""Local secrets: the JWT secret and the admin password are private files, and the password is never a default."""

from __future__ import annotations

import os
import stat

from recpipeline.airflow_env import airflow_environment
from recpipeline.config import load_settings


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_jwt_secret_is_private_and_long_enough(tmp_path):
    settings = load_settings({"home": tmp_path})
    secret = tmp_path / "airflow" / "jwt_secret"
    secret.parent.mkdir(parents=True)
    secret.write_text("short")  # an old, world-readable, too-short secret
    os.chmod(secret, 0o644)
    env = airflow_environment(settings, "postgresql://x@localhost/db")
    assert mode(secret) == 0o600
    assert env["AIRFLOW__API_AUTH__JWT_SECRET"] == secret.read_text().strip() and len(secret.read_text()) >= 64
    again = airflow_environment(settings, "postgresql://x@localhost/db")
    assert again["AIRFLOW__API_AUTH__JWT_SECRET"] == env["AIRFLOW__API_AUTH__JWT_SECRET"]  # stable once made


def test_admin_password_is_configured_or_random_never_admin(tmp_path, monkeypatch, pg_url):
    from recpipeline import standalone

    monkeypatch.setenv("RECPIPE_HOME", str(tmp_path))
    monkeypatch.setenv("RECPIPE_DATABASE_URL", pg_url)  # the session's database, not a new embedded server
    monkeypatch.delenv("RECPIPE_AIRFLOW_PASSWORD", raising=False)
    first, second = standalone.admin_password(), standalone.admin_password()
    assert first != "admin" and len(first) >= 12 and first != second  # nothing stored yet: fresh each time
    monkeypatch.setenv("RECPIPE_AIRFLOW_PASSWORD", "from-env")
    env, _ = standalone.standalone_environment("from-env")
    stored = tmp_path / "airflow" / "simple_auth_manager_passwords.json"
    assert mode(stored) == 0o600 and "from-env" in stored.read_text()
    monkeypatch.delenv("RECPIPE_AIRFLOW_PASSWORD")
    assert standalone.admin_password() == "from-env"  # a later `make airflow` keeps the stored password
