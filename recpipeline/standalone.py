"""`make airflow`: the Airflow UI and scheduler on this machine (`airflow standalone`) with the project's DAGs.

Prepares the results database, the project's Airflow environment, a SimpleAuthManager `admin` user with a
known password, and the `training` pool; then runs `airflow standalone` in the foreground until Ctrl-C or
SIGTERM. The metadata DB is SQLite under RECPIPE_HOME/airflow unless AIRFLOW__DATABASE__SQL_ALCHEMY_CONN is set.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

from recpipeline import db
from recpipeline.airflow_env import airflow_environment, airflow_home, write_private
from recpipeline.config import load_settings
from recpipeline.local import ensure_airflow_db

USER = "admin"


def standalone_environment(password: str) -> tuple[dict[str, str], int]:
    """Results DB migrated, Airflow env with a known admin password; returns (env, api port)."""
    settings = load_settings()
    url = db.database_url(settings)
    db.upgrade(url)
    home = airflow_home(settings)
    passwords = home / "simple_auth_manager_passwords.json"
    env = airflow_environment(
        settings,
        url,
        AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS=f"{USER}:admin",
        AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE=str(passwords),
    )
    known = json.loads(passwords.read_text() or "{}") if passwords.exists() else {}
    write_private(passwords, json.dumps({**known, USER: password}))
    # `airflow standalone` starts its components as plain `airflow ...` from PATH: make it this venv's.
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.setdefault("AIRFLOW__CORE__PARALLELISM", "4")  # LocalExecutor forks this many workers; 32 by default
    port = int(env.get("AIRFLOW__API__PORT", "8080"))
    # Task processes call the execution API; they assume port 8080 unless told otherwise.
    env.setdefault("AIRFLOW__CORE__EXECUTION_API_SERVER_URL", f"http://localhost:{port}/execution/")
    return env, port


def announce_when_ready(port: int, user: str, password: str, timeout: float = 300) -> bool:
    """Print the UI address once the API server answers its health check (not when the processes start)."""
    url = f"http://localhost:{port}/api/v2/monitor/health"
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    print(
                        f"\nAirflow UI ready after {time.monotonic() - started:.0f}s: http://localhost:{port}  "
                        f"login: {user} / {password}\n",
                        flush=True,
                    )
                    return True
        except OSError:  # not listening yet
            pass
        time.sleep(2)
    print(f"\nAirflow API did not answer {url} within {timeout:.0f}s; see the output above\n", flush=True)
    return False


def admin_password() -> str:
    """RECPIPE_AIRFLOW_PASSWORD, else the password stored by an earlier `make airflow`, else a new random one."""
    if os.environ.get("RECPIPE_AIRFLOW_PASSWORD"):
        return os.environ["RECPIPE_AIRFLOW_PASSWORD"]
    stored = airflow_home(load_settings()) / "simple_auth_manager_passwords.json"
    known = json.loads(stored.read_text() or "{}") if stored.exists() else {}
    return known.get(USER) or secrets.token_urlsafe(12)


def main() -> int:
    password = admin_password()
    env, port = standalone_environment(password)
    ensure_airflow_db(env, Path(env["AIRFLOW_HOME"]))  # migrates once and creates the training pool
    print(f"\nStarting Airflow: http://localhost:{port}  login: {USER} / {password}  (Ctrl-C stops)\n", flush=True)
    stopping: list[float] = []
    procs: list[subprocess.Popen] = []

    def stop(signum, frame):
        if not stopping and procs and procs[0].poll() is None:
            stopping.append(time.monotonic())
            procs[0].send_signal(signal.SIGINT)

    # Handlers before Popen: the child then starts with default SIGINT even if ours was ignored (nohup, `&`).
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    # Own session, so a terminal Ctrl-C reaches only us; we forward SIGINT to standalone's PID alone, which
    # makes it terminate its components and wait for them (SIGINT to the whole group can hang).
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "airflow"), "standalone"], env=env, start_new_session=True
    )
    procs.append(proc)
    threading.Thread(target=announce_when_ready, args=(port, USER, password), daemon=True).start()
    while proc.poll() is None:
        try:
            proc.wait(timeout=1)
        except subprocess.TimeoutExpired:
            if stopping and time.monotonic() - stopping[0] > 60:
                os.killpg(proc.pid, signal.SIGKILL)  # the session we created: standalone and its components
    try:
        os.killpg(proc.pid, signal.SIGTERM)  # a component that outlived standalone
    except ProcessLookupError:
        pass
    return 0 if stopping else proc.returncode


if __name__ == "__main__":
    sys.exit(main())
