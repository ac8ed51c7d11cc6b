"""The RecPipeline pages in a real Airflow UI: a real `airflow api-server` with the project's plugins folder,
logged in through SimpleAuthManager's login form by Playwright driving the system Chromium, every page opened
from the UI's nav route (/plugin/<url_route>, the page in the UI's frame) and checked for the database's numbers.

Needs /usr/bin/chromium (`apt-get install -y chromium`) and the playwright package (`uv pip install playwright`;
no `playwright install`: the system Chromium is used); skipped with the reason otherwise.
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from recpipeline.config import load_settings
from tests.test_plugin_api import BAD_ROWS, one_row, shop  # noqa: F401  (shop: the module's data fixture)

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
AIRFLOW = Path(sys.executable).parent / "airflow"
USER, PASSWORD = "admin", "plugin-test-password"


def browser_missing() -> str | None:
    """Why the browser test cannot run here, or None."""
    if not CHROMIUM.exists():
        return f"{CHROMIUM} not found: install it with `apt-get install -y chromium`"
    if importlib.util.find_spec("playwright") is None:
        return "the playwright package is missing: `uv pip install playwright` (the system Chromium is used)"
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def api_server(home: Path, results_url: str, log: Path, users: str = f"{USER}:admin") -> Iterator[str]:
    """`airflow api-server` with the project's DAGs and plugins, SimpleAuthManager users with known passwords
    and a migrated SQLite metadata DB under `home`; yields its base URL; SIGTERM to its own PID at the end."""
    from recpipeline.airflow_env import airflow_environment

    port = free_port()
    passwords = home / "passwords.json"
    passwords.parent.mkdir(parents=True, exist_ok=True)
    passwords.write_text(json.dumps({name.split(":")[0]: PASSWORD for name in users.split(",")}))
    base = f"http://localhost:{port}"
    env = airflow_environment(
        load_settings({"home": str(home)}),
        results_url,
        AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS=users,
        AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE=str(passwords),
        AIRFLOW__API__PORT=str(port),
        AIRFLOW__API__BASE_URL=base,
        AIRFLOW__API__WORKERS="1",
        AIRFLOW__CORE__LAZY_LOAD_PLUGINS="False",
    )
    env.setdefault("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", f"sqlite:///{home / 'airflow' / 'airflow.db'}")
    subprocess.run([str(AIRFLOW), "db", "migrate"], env=env, check=True, capture_output=True, timeout=300)
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [str(AIRFLOW), "api-server", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_healthy(base, proc, log)
        yield base
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _wait_healthy(base: str, proc: subprocess.Popen, log: Path, timeout: float = 180) -> None:
    """Until the health endpoint answers; fails with the server's log if it exits or takes too long."""
    import requests

    deadline = time.monotonic() + timeout
    while True:
        assert proc.poll() is None, f"api-server exited {proc.returncode}:\n{log.read_text(errors='replace')[-4000:]}"
        try:
            if requests.get(f"{base}/api/v2/monitor/health", timeout=5).ok:
                return
        except requests.RequestException:
            pass
        assert time.monotonic() < deadline, f"api-server not healthy:\n{log.read_text(errors='replace')[-4000:]}"
        time.sleep(1)


@contextmanager
def chromium(width: int = 1440, height: int = 1800) -> Iterator:
    """A Playwright page in the system Chromium (headless), closed at the end."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser.new_page(viewport={"width": width, "height": height})
        finally:
            browser.close()


def log_in(page, base: str, user: str = USER, password: str = PASSWORD) -> None:
    """Through SimpleAuthManager's login form, as a person would; ends on the Airflow home page."""
    page.goto(f"{base}/auth/login")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/auth/login" not in url, timeout=60_000)


def open_page(page, base: str, path: str):
    """A RecPipeline page inside the Airflow UI (its nav route); returns the frame holding the page."""
    page.goto(f"{base}/plugin/recpipeline-{path}")
    frame_element = page.wait_for_selector("iframe", timeout=60_000)
    frame = frame_element.content_frame()
    frame.wait_for_selector("nav.tabs", timeout=60_000)
    return frame


def test_pages_inside_the_airflow_ui_show_the_databases_numbers(shop, tmp_path):  # noqa: F811
    reason = browser_missing()
    if reason:
        pytest.skip(reason)
    ds, model_id = shop.days[-1], shop.models[-1]
    landed = one_row(shop.url, "SELECT landed FROM dq.load_audit WHERE ds = %s AND target = 'events'", (ds,))[0]
    gate_reason = one_row(shop.url, "SELECT reason FROM eval.gate_decisions WHERE ds = %s", (ds,))[0]
    (user,) = one_row(shop.url, "SELECT user_id FROM recs.latest WHERE source = 'model' ORDER BY user_id LIMIT 1")
    (explanation,) = one_row(shop.url, "SELECT explanation FROM recs.explain(%s) WHERE rank = 1", (user,))
    # the api-server reads the results DB and artifacts of `shop`; its own state lives under tmp_path
    os.environ["RECPIPE_ARTIFACT_ROOT"] = str(load_settings({"home": shop.home}).artifacts)
    with api_server(tmp_path / "home", shop.url, tmp_path / "api-server.log") as base, chromium() as page:
        unauthenticated = page.request.get(f"{base}/recpipeline/api/summary")
        assert unauthenticated.status == 401
        log_in(page, base)

        nav = page.request.get(f"{base}/api/v2/plugins").json()
        views = [v for p in nav["plugins"] if p["name"] == "recpipeline" for v in p["external_views"]]
        assert [v["name"] for v in views] == ["Overview", "Data quality", "Models", "User lookup", "Reports"]

        frame = open_page(page, base, "overview")
        text = frame.inner_text("main")
        assert str(ds) in frame.inner_text("#live-ds") and model_id in text
        assert f"{landed:,} landed" in text and gate_reason in text
        assert "popularity" in frame.inner_text("#metrics")

        frame = open_page(page, base, "quality")
        text = frame.inner_text("main")
        assert "unknown_event_type" in text and "missing_user_id" in text and "event_type_psi" in text

        frame = open_page(page, base, "models")
        text = frame.inner_text("main")
        assert all(m in text for m in shop.models) and "Side by side" in text
        assert frame.is_visible("#republish-form")

        frame = open_page(page, base, "users")
        frame.fill("#user_id", user)
        frame.click("#lookup button")
        frame.wait_for_selector("#recs")
        assert explanation in frame.inner_text("#recs")

        frame = open_page(page, base, "reports")
        frame.click(f"a[href='/recpipeline/reports/{ds}?model_id={model_id}']")
        report = frame.wait_for_selector("#report").content_frame()
        report.wait_for_selector("h1")
        assert f"Evaluation report · {ds}" in report.inner_text("h1")
        assert f"/plugin/recpipeline-reports/recpipeline/reports/{ds}" in page.url  # the UI follows the frame

        frame = open_page(page, base, "models")
        frame.select_option("#ds", str(shop.days[0]))
        frame.fill("#reason", "browser test: roll back to the earlier day")
        frame.click("#republish-form button")
        frame.wait_for_selector("#done")
        assert f"{shop.days[0]} is live again" in frame.inner_text("#done")
    assert one_row(shop.url, "SELECT ds FROM recs.current") == (shop.days[0],)
    actor = one_row(shop.url, "SELECT actor FROM recs.publish_audit ORDER BY audit_id DESC LIMIT 1")
    assert actor == (USER,)
