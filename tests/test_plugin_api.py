"""The RecPipeline Airflow plugin's endpoints against a real PostgreSQL filled by the stages on the tiny shop.

Airflow's own authentication is used for real: a SimpleAuthManager with a migrated metadata DB, tokens minted
the way the api-server mints them (`auth_manager.generate_jwt`) with the JWT secret this module sets; the
plugin app is mounted under /recpipeline exactly as the api-server mounts it.
"""

from __future__ import annotations

import html as html_lib
import importlib.util
import json
import os
import re
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import psycopg2
import pytest

from recpipeline import db, features, publish
from recpipeline.config import PROJECT_ROOT, load_settings
from tests.conftest import with_database

JWT_SECRET = "recpipeline-plugin-tests-" + "0123456789abcdef" * 3  # 64 bytes: no short-key warning
SEED = 5
PLUGIN_FILE = PROJECT_ROOT / "plugins" / "recpipeline_plugin.py"
PAGES = ["/overview", "/quality", "/models", "/users", "/reports"]
BAD_ROWS = (  # appended to the last day's events: each one rejected by data quality
    "bad-1,u-bad,i00001,teleport,{ds}T10:00:00Z,s-bad,,\n",
    "bad-2,,i00001,view,{ds}T10:01:00Z,s-bad,,\n",
)


@dataclass
class Shop:
    url: str
    home: Path
    days: list[date]  # the two published days, older first
    models: list[str]  # their model ids


def run_day(url: str, landing: Path, ds: date, settings) -> str:
    """features -> train -> plan -> score (2 shards) -> evaluate -> publish (whatever the gate says)."""
    from recpipeline.evaluation.daily import evaluate_day
    from recpipeline.model.daily import train_day
    from recpipeline.shard_scoring import score_shard

    features.build_features(url, ds, settings)
    trained = train_day(url, ds, settings)
    publish_id = publish.plan_scoring(url, ds)
    for shard in range(2):
        job = {"shard": shard, "shards": 2, "publish_id": publish_id, **trained}
        score_shard(url, ds, settings, job)
    evaluate_day(url, ds, settings, trained["model_id"], trained["artifact"])
    publish.publish_day(url, ds, publish_id, trained["model_id"], shards=2)
    return trained["model_id"]


@pytest.fixture(scope="module")
def shop(server_url: str, tmp_path_factory) -> Iterator[Shop]:
    """A database of its own: the tiny shop's last days landed and validated, the last two days trained,
    scored, evaluated and published (the newest is live), with two rejected rows on the last day."""
    from recpipeline.generate import generate_shop
    from recpipeline.local import land_and_validate

    tmp = tmp_path_factory.mktemp("plugin")
    name = f"recpipe_plugin_{os.getpid()}"
    admin = psycopg2.connect(server_url)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cur.execute(f'CREATE DATABASE "{name}"')
    url = with_database(server_url, name)
    db.upgrade(url)
    landing = tmp / "landing"
    summary = generate_shop("tiny", SEED, landing)
    last = summary.days[-1]
    with (landing / last.isoformat() / "events.csv").open("a") as f:
        f.writelines(row.format(ds=last) for row in BAD_ROWS)
    settings = load_settings({"database_url": url, "home": tmp / "home", "epochs": 2})
    for day in summary.days[-5:]:
        assert land_and_validate(url, "canonical", landing / day.isoformat(), day, settings=settings).ok
    days = summary.days[-2:]
    models = [run_day(url, landing, day, settings) for day in days]
    try:
        yield Shop(url, tmp / "home", days, models)
    finally:
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture(scope="module")
def plugin(shop: Shop, tmp_path_factory) -> Iterator[SimpleNamespace]:
    """The plugin module loaded as Airflow loads it, with Airflow configured for SimpleAuthManager users
    admin (admin) and viewer (viewer), our JWT secret, a migrated metadata DB and the results DB of `shop`."""
    from tests.airflow_support import prepare_airflow

    saved = dict(os.environ)
    home = tmp_path_factory.mktemp("airflow")
    prepare_airflow(
        home,
        shop.url,
        AIRFLOW__API_AUTH__JWT_SECRET=JWT_SECRET,
        AIRFLOW__CORE__AUTH_MANAGER="airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager",
        AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS="admin:admin,viewer:viewer",
        AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE=str(home / "passwords.json"),
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{home / 'airflow' / 'metadata.db'}",
        RECPIPE_HOME=str(shop.home),
    )
    from airflow import settings as airflow_settings

    airflow_settings.configure_vars()  # airflow may have been imported by an earlier test with other settings
    airflow_settings.reconfigure_orm()
    from airflow.api_fastapi.app import init_auth_manager
    from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    manager = init_auth_manager()
    spec = importlib.util.spec_from_file_location(
        "recpipeline_plugin", PROJECT_ROOT / "plugins" / "recpipeline_plugin.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    root = FastAPI()  # as the api-server: the plugin app mounted under its url_prefix
    for entry in module.RecPipelinePlugin.fastapi_apps:
        root.mount(entry["url_prefix"], entry["app"])

    def token(name: str, role: str, seconds: int = 600) -> str:
        user = SimpleAuthManagerUser(username=name, role=role)
        return manager.generate_jwt(user, expiration_time_in_seconds=seconds)

    try:
        yield SimpleNamespace(module=module, client=TestClient(root), token=token)
    finally:
        os.environ.clear()
        os.environ.update(saved)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def get(plugin, path: str, token: str | None = None, headers: dict[str, str] | None = None):
    """GET a plugin path, with a Bearer token when given; redirects are returned, not followed."""
    headers = {**(headers or {}), **(bearer(token) if token else {})}
    return plugin.client.get(f"/recpipeline{path}", headers=headers, follow_redirects=False)


def text_of(html: str) -> str:
    """The page's text with tags removed and whitespace collapsed, to look for numbers as a person reads them."""
    return re.sub(r"\s+", " ", html_lib.unescape(re.sub(r"<[^>]+>", " ", html)))


def one_row(url: str, sql: str, params: tuple = ()) -> tuple:
    with db.connect(url) as conn, conn.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchone()


# ------------------------------------------------------------------------------------------------ auth


ENDPOINTS = [*PAGES, "/", "/api/summary", "/reports/2026-10-01", "/reports/2026-10-01/m/index.html"]


@pytest.mark.parametrize("path", ENDPOINTS)
def test_every_endpoint_refuses_an_unauthenticated_request(plugin, path):
    r = get(plugin, path)
    assert r.status_code == 401 and r.json() == {"detail": "Airflow authentication required: Not authenticated"}
    browser = get(plugin, path, headers={"Accept": "text/html"})
    if "/api/" in path:
        assert browser.status_code == 401
    else:  # a browser is sent to Airflow's login page, and back here afterwards
        assert browser.status_code == 303
        assert browser.headers["location"].startswith("/auth/login?next=")
        assert "%2Frecpipeline" in browser.headers["location"]


def test_forged_and_expired_tokens_are_refused(plugin):
    import jwt

    forged = jwt.encode({"sub": "admin", "role": "admin", "aud": "apache-airflow"}, "another-secret", "HS512")
    assert get(plugin, "/overview", forged).status_code == 403
    expired = plugin.token("admin", "admin", seconds=-60)
    r = get(plugin, "/overview", expired)
    assert r.status_code == 401 and "Token Expired" in r.json()["detail"]


def test_a_post_without_authentication_changes_nothing(plugin, shop):
    before = one_row(shop.url, "SELECT ds, publish_id FROM recs.current")
    r = plugin.client.post("/recpipeline/models/republish", data={"ds": str(shop.days[0]), "reason": "x"})
    assert r.status_code == 401
    assert one_row(shop.url, "SELECT ds, publish_id FROM recs.current") == before
    assert one_row(shop.url, "SELECT count(*) FROM recs.publish_audit") == (0,)


def test_the_ui_session_cookie_and_a_bearer_token_are_both_accepted(plugin):
    token = plugin.token("admin", "admin")
    assert get(plugin, "/overview", token).status_code == 200
    r = plugin.client.get("/recpipeline/overview", cookies={"_token": token})
    assert r.status_code == 200 and "signed in as <b>admin</b>" in r.text
    plugin.client.cookies.clear()


def test_index_redirects_to_the_overview(plugin):
    r = get(plugin, "/", plugin.token("admin", "admin"))
    assert r.status_code == 303 and r.headers["location"] == "/recpipeline/overview"


# ------------------------------------------------------------------------------------------------ pages


def test_overview_shows_each_day_the_gate_the_metrics_with_intervals_and_what_is_live(plugin, shop):
    ds = shop.days[-1]
    r = get(plugin, "/overview", plugin.token("admin", "admin"))
    assert r.status_code == 200
    page = text_of(r.text)
    landed, accepted, rejected = one_row(
        shop.url, "SELECT landed, accepted, rejected FROM dq.load_audit WHERE ds = %s AND target = 'events'", (ds,)
    )
    assert rejected == len(BAD_ROWS)
    assert f"{landed:,} landed = {accepted:,} accepted + {rejected:,} rejected" in page
    reason, blessed = one_row(shop.url, "SELECT reason, blessed FROM eval.gate_decisions WHERE ds = %s", (ds,))
    assert reason in page and ("BLESSED" if blessed else "NOT BLESSED") in page
    assert f'<div class="value" id="live-ds">{ds}</div>' in r.text and shop.models[-1] in page
    value, low, high = one_row(
        shop.url,
        "SELECT value, ci_low, ci_high FROM eval.metrics WHERE ds = %s AND method = 'model' "
        "AND metric = 'ndcg' AND k = 10",
        (ds,),
    )
    assert f"{value:.4f}" in page
    if low is not None:  # the evaluate stage records bootstrap intervals
        assert f"[{low:.4f}, {high:.4f}]" in page
    for baseline in ("popularity", "trending", "cooccurrence"):
        assert f"<th>{baseline}</th>" in r.text
    checks = one_row(shop.url, "SELECT count(*) FROM dq.check_results WHERE ds = %s", (ds,))[0]
    assert page.count("freshness") >= 1 and checks > 0
    assert f"/dags/recpipeline_daily/runs?logical_date_gte={ds}T00%3A00%3A00Z" in r.text  # no Airflow run here
    older = get(plugin, f"/overview?ds={shop.days[0]}", plugin.token("admin", "admin"))
    assert f"Day {shop.days[0]}" in text_of(older.text)


def test_quality_page_shows_check_trends_rejects_with_payloads_and_drift(plugin, shop):
    token = plugin.token("viewer", "viewer")
    r = get(plugin, "/quality", token)
    assert r.status_code == 200
    page = text_of(r.text)
    days = one_row(shop.url, "SELECT count(DISTINCT ds) FROM dq.check_results")[0]
    assert f"Check history: {days} days" in page
    assert r.text.count('<svg class="spark"') >= 5
    assert "unknown_event_type" in page and "missing_user_id" in page
    assert "event_type_psi" in page and "share today" in page
    samples = get(plugin, "/quality?reason=unknown_event_type", token)
    assert "teleport" in samples.text and "bad-1" in samples.text and "bad-2" not in samples.text


def test_models_page_shows_the_registry_curves_side_by_side_and_the_roll_back_form(plugin, shop):
    r = get(plugin, "/models", plugin.token("admin", "admin"))
    assert r.status_code == 200
    page = text_of(r.text)
    for model_id in shop.models:
        assert model_id in page
    train_from, metrics = one_row(
        shop.url, "SELECT train_from, metrics FROM models.registry WHERE model_id = %s", (shop.models[-1],)
    )
    assert train_from.strftime("%Y-%m-%d %H:%M UTC") in page
    assert len(metrics["history"]) == 2 and f"{metrics['history'][-1]['loss']:.3f}" in page
    assert f"Side by side: A {shop.models[-1]} vs B {shop.models[0]}" in page
    assert 'alt="training curves of A and B"' in r.text and "data:image/png;base64," in r.text
    assert 'id="republish-form"' in r.text and f'<option value="{shop.days[0]}"' in r.text
    viewer = get(plugin, "/models", plugin.token("viewer", "viewer"))
    assert 'id="republish-form"' not in viewer.text and "may view but not change" in viewer.text


def test_user_lookup_shows_history_titles_and_explained_live_recommendations(plugin, shop):
    (user,) = one_row(shop.url, "SELECT user_id FROM recs.latest WHERE source = 'model' ORDER BY user_id LIMIT 1")
    (title,) = one_row(
        shop.url,
        "SELECT i.title FROM clean.events e JOIN clean.items i ON i.ds = e.ds AND i.item_id = e.item_id "
        "WHERE e.user_id = %s ORDER BY e.ts DESC LIMIT 1",
        (user,),
    )
    (explanation,) = one_row(shop.url, "SELECT explanation FROM recs.explain(%s) WHERE rank = 1", (user,))
    r = get(plugin, f"/users?user_id={user}", plugin.token("viewer", "viewer"))
    assert r.status_code == 200
    page = text_of(r.text)
    assert title in page and explanation in page and "recommended" in explanation
    recs = one_row(shop.url, "SELECT count(*) FROM recs.latest WHERE user_id = %s", (user,))[0]
    assert r.text.count("<td>model</td>") == 0 and page.count(" model ") >= recs  # source column
    missing = get(plugin, "/users?user_id=nobody-like-this", plugin.token("viewer", "viewer"))
    assert 'id="not-found"' in missing.text
    assert "Try:" in text_of(get(plugin, "/users", plugin.token("viewer", "viewer")).text)


def test_reports_are_listed_served_from_their_files_and_rendered_when_a_file_is_missing(plugin, shop):
    from recpipeline.evaluation.report import report_path

    token = plugin.token("viewer", "viewer")
    index = get(plugin, "/reports", token)
    for ds, model_id in zip(shop.days, shop.models, strict=True):
        assert f"/recpipeline/reports/{ds}?model_id={model_id}" in index.text
    ds, model_id = shop.days[-1], shop.models[-1]
    day = get(plugin, f"/reports/{ds}", token)
    assert f'src="/recpipeline/reports/{ds}/{model_id}/index.html"' in day.text
    path = report_path(load_settings({"home": shop.home}).artifacts, ds, model_id)
    served = get(plugin, f"/reports/{ds}/{model_id}/index.html", token)
    assert served.status_code == 200 and served.text == path.read_text()
    path.rename(path.with_suffix(".bak"))
    try:
        rendered = get(plugin, f"/reports/{ds}/{model_id}/index.html", token)
        assert rendered.status_code == 200 and f"Evaluation report · {ds}" in rendered.text
    finally:
        path.with_suffix(".bak").rename(path)
    unknown = get(plugin, f"/reports/{ds}/no-such-model/index.html", token)
    assert unknown.status_code == 404 and "no-such-model" in unknown.text
    assert get(plugin, "/reports/2001-01-01", token).status_code == 404


def test_summary_api_returns_live_and_days_as_json(plugin, shop):
    r = get(plugin, "/api/summary", plugin.token("viewer", "viewer"))
    body = r.json()
    assert r.status_code == 200 and body["user"] == "viewer"
    assert body["live"]["ds"] == str(shop.days[-1]) and body["live"]["model_id"] == shop.models[-1]
    assert [d["ds"] for d in body["days"]][:2] == [str(shop.days[-1]), str(shop.days[0])]


# ------------------------------------------------------------------------------------------------ roll back


def test_roll_back_needs_permission_and_a_reason_then_publishes_the_earlier_day_with_an_audit_row(plugin, shop):
    older, newer = shop.days
    form = {"ds": str(older), "reason": "newer day recommends sold-out items"}
    viewer = plugin.client.post(
        "/recpipeline/models/republish", data=form, headers=bearer(plugin.token("viewer", "viewer"))
    )
    assert viewer.status_code == 403 and "may not change what is published" in viewer.text
    admin = bearer(plugin.token("admin", "admin"))
    empty = plugin.client.post("/recpipeline/models/republish", data={"ds": str(older), "reason": "  "}, headers=admin)
    assert empty.status_code == 400 and "a reason is required" in empty.text
    never = plugin.client.post("/recpipeline/models/republish", data={"ds": "2001-01-01", "reason": "x"}, headers=admin)
    assert never.status_code == 404 and "no published recommendations" in never.text
    cross = plugin.client.post(
        "/recpipeline/models/republish", data=form, headers={**admin, "Origin": "https://evil.example"}
    )
    assert cross.status_code == 403
    assert one_row(shop.url, "SELECT ds FROM recs.current") == (newer,)

    done = plugin.client.post("/recpipeline/models/republish", data=form, headers=admin, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"].startswith("/recpipeline/models?done=")
    assert one_row(shop.url, "SELECT ds FROM recs.current") == (older,)
    assert one_row(shop.url, "SELECT DISTINCT ds, model_id FROM recs.latest") == (older, shop.models[0])
    actor, reason, to_ds = one_row(
        shop.url, "SELECT actor, reason, to_ds FROM recs.publish_audit ORDER BY audit_id DESC LIMIT 1"
    )
    assert (actor, reason, to_ds) == ("admin", form["reason"], older)
    page = text_of(plugin.client.get(done.headers["location"], headers=admin).text)
    assert f"{older} is live again" in page and form["reason"] in page
    overview = text_of(get(plugin, "/overview", plugin.token("admin", "admin")).text)
    assert f"made live again by admin: {form['reason']}" in overview

    back = {"ds": str(newer), "reason": "fixed; promote the newer day again"}
    assert plugin.client.post("/recpipeline/models/republish", data=back, headers=admin).status_code == 200
    assert one_row(shop.url, "SELECT ds FROM recs.current") == (newer,)


def test_the_audit_row_names_the_day_that_was_live_before(plugin, shop):
    admin = bearer(plugin.token("admin", "admin"))
    live = one_row(shop.url, "SELECT ds, publish_id FROM recs.current")
    other = next(d for d in shop.days if d != live[0])
    r = plugin.client.post("/recpipeline/models/republish", data={"ds": str(other), "reason": "audit"}, headers=admin)
    assert r.status_code == 200
    row = one_row(shop.url, "SELECT from_ds, from_publish_id FROM recs.publish_audit ORDER BY audit_id DESC LIMIT 1")
    plugin.client.post("/recpipeline/models/republish", data={"ds": str(live[0]), "reason": "back"}, headers=admin)
    assert row == live


def test_a_concurrent_reader_never_sees_an_empty_or_mixed_recs_latest_during_roll_backs(plugin, shop):
    expected = {}
    with db.connect(shop.url) as conn, conn.cursor() as cur:
        cur.execute("SELECT ds, model_id, rows_published FROM recs.published")
        for ds, model_id, rows in cur.fetchall():
            expected[ds] = (ds, model_id, rows)
    assert len(expected) == 2
    seen, stop, errors = [], threading.Event(), []

    def reader() -> None:
        conn = psycopg2.connect(shop.url)
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                while not stop.is_set():
                    cur.execute("SELECT ds, model_id, count(*) FROM recs.latest GROUP BY 1, 2")
                    seen.append(tuple(cur.fetchall()))
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            conn.close()

    admin = bearer(plugin.token("admin", "admin"))
    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for round_ in range(8):
            ds = shop.days[round_ % 2]
            r = plugin.client.post(
                "/recpipeline/models/republish", data={"ds": str(ds), "reason": f"drill {round_}"}, headers=admin
            )
            assert r.status_code == 200
            time.sleep(0.05)
    finally:
        stop.set()
        thread.join()
    assert not errors
    assert len(seen) > 20
    for observation in seen:
        assert len(observation) == 1, f"mixture or empty recs.latest: {observation}"
        assert observation[0] in expected.values()
    assert {o[0][0] for o in seen} == set(shop.days)  # the reader saw both days live
    assert one_row(shop.url, "SELECT count(*) FROM recs.publish_audit WHERE reason LIKE 'drill %%'") == (8,)


# ------------------------------------------------------------------------------------------------ plugin


def test_plugin_registers_nav_views_an_app_outside_reserved_prefixes_and_the_report_link(plugin, monkeypatch):
    cls = plugin.module.RecPipelinePlugin
    routes = [v["url_route"] for v in cls.external_views]
    assert routes == [f"recpipeline-{p.strip('/')}" for p in PAGES]
    assert all(v["href"].startswith("recpipeline/") and v["category"] == "RecPipeline" for v in cls.external_views)
    assert [a["url_prefix"] for a in cls.fastapi_apps] == ["/recpipeline"]
    link = cls.operator_extra_links[0]
    monkeypatch.setattr(plugin.module, "run_logical_date", lambda dag_id, run_id: date(2026, 10, 30))
    key = SimpleNamespace(dag_id="recpipeline_daily", run_id="manual__x", task_id="evaluate", map_index=-1)
    assert link.get_link(SimpleNamespace(task_id="evaluate"), ti_key=key) == (
        "/plugin/recpipeline-reports/recpipeline/reports/2026-10-30"
    )
    assert link.get_link(SimpleNamespace(task_id="train"), ti_key=key) == ""
    other = SimpleNamespace(dag_id="another_dag", run_id="r", task_id="evaluate", map_index=-1)
    assert link.get_link(SimpleNamespace(task_id="evaluate"), ti_key=other) == ""


def test_plugin_import_pulls_in_neither_tensorflow_nor_pandas_nor_faiss():
    script = (
        "import importlib.util, json, sys\n"
        f"spec = importlib.util.spec_from_file_location('p', {str(PLUGIN_FILE)!r})\n"
        "m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)\n"
        "print(json.dumps({k: k in sys.modules for k in ('tensorflow', 'pandas', 'faiss', 'matplotlib')}))\n"
    )
    import subprocess

    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert json.loads(out.stdout.strip().splitlines()[-1]) == {
        "tensorflow": False,
        "pandas": False,
        "faiss": False,
        "matplotlib": False,
    }
