"""docker-compose.yml stays faithful to what tests/test_airflow_processes.py runs (no Docker needed)."""

from __future__ import annotations

import re

import pytest
import yaml

from recpipeline.config import PROJECT_ROOT

AIRFLOW_SERVICES = (
    "airflow-init",
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
    "airflow-worker",
    "airflow-worker-training",
)
LONG_RUNNING = tuple(s for s in AIRFLOW_SERVICES if s != "airflow-init")
WORKERS = ("airflow-worker", "airflow-worker-training")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((PROJECT_ROOT / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


def command(service: dict) -> str:
    cmd = service.get("command", "")
    return " ".join(cmd) if isinstance(cmd, list) else cmd


def test_services_exist(services):
    assert {"postgres", "redis", *AIRFLOW_SERVICES} <= set(services)
    assert services["postgres"]["image"].startswith("postgres:16")
    assert services["redis"]["image"].startswith("redis:")


def test_airflow_services_share_the_common_anchor(compose, services):
    common = compose["x-airflow-common"]
    for name in AIRFLOW_SERVICES:
        svc = services[name]
        assert svc["image"] == common["image"], name
        assert svc["build"] == common["build"], name
        assert svc["volumes"] == common["volumes"], name
        for key, value in common["environment"].items():  # overrides may add variables, never change these
            assert svc["environment"].get(key) == value, (name, key)


def test_common_environment_is_a_celery_deployment(compose):
    env = compose["x-airflow-common"]["environment"]
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://redis:6379/")
    assert env["AIRFLOW__CELERY__RESULT_BACKEND"].startswith("db+postgresql://")
    assert "@postgres:5432/airflow" in env["AIRFLOW__CELERY__RESULT_BACKEND"]
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql")
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].endswith("@postgres:5432/airflow")
    # One JWT secret for every component, from one variable (else: "Invalid auth token").
    assert re.fullmatch(r"\$\{AIRFLOW_JWT_SECRET:\?[^}]*\}", env["AIRFLOW__API_AUTH__JWT_SECRET"])
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://airflow-apiserver:8080/execution/"
    assert env["AIRFLOW__CORE__LOAD_EXAMPLES"] == "False"
    assert env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"] == "admin:admin"


def test_results_database_is_separate_from_metadata(compose):
    env = compose["x-airflow-common"]["environment"]
    assert env["AIRFLOW_CONN_RECPIPE_DB"] == env["RECPIPE_DATABASE_URL"]
    assert env["RECPIPE_DATABASE_URL"].startswith("postgresql://")
    assert env["RECPIPE_DATABASE_URL"].endswith("@postgres:5432/recpipeline")
    assert env["RECPIPE_ARTIFACT_ROOT"].startswith("/data/")
    assert env["RECPIPE_LANDING_DIR"].startswith("/data/")


def test_artifacts_live_on_a_shared_named_volume(compose):
    artifact_root = compose["x-airflow-common"]["environment"]["RECPIPE_ARTIFACT_ROOT"]
    mounts = {v.split(":")[1]: v.split(":")[0] for v in compose["x-airflow-common"]["volumes"]}
    assert mounts[artifact_root] in compose["volumes"]  # named volume, shared by every worker
    assert any(
        v.endswith(":/var/lib/postgresql/data") and v.split(":")[0] in compose["volumes"]
        for v in compose["services"]["postgres"]["volumes"]
    )
    assert mounts["/opt/recpipeline/dags"] == "./dags"


def test_results_database_created_and_migrated(compose, services):
    init_sql = compose["configs"]["recpipeline-init"]["content"]
    assert "CREATE DATABASE recpipeline" in init_sql and "CREATEROLE" in init_sql  # migrations create roles
    targets = [c["target"] for c in services["postgres"]["configs"]]
    assert any(t.startswith("/docker-entrypoint-initdb.d/") for t in targets)
    init = command(services["airflow-init"])
    assert "recpipeline db upgrade" in init
    assert "airflow db migrate" in init
    assert re.search(r"airflow pools set training 1\b", init)
    assert "SIMPLE_AUTH_MANAGER_PASSWORDS_FILE" in init
    assert services["airflow-init"]["restart"] == "no"


def test_healthchecks(services):
    for name in ("postgres", "redis", "airflow-apiserver", "airflow-scheduler", *WORKERS):
        assert services[name].get("healthcheck", {}).get("test"), name
    assert "/api/v2/monitor/health" in " ".join(services["airflow-apiserver"]["healthcheck"]["test"])
    assert "8974/health" in " ".join(services["airflow-scheduler"]["healthcheck"]["test"])
    assert services["airflow-scheduler"]["environment"]["AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK"] == "True"


def test_depends_on_conditions(services):
    for name in AIRFLOW_SERVICES:
        deps = services[name]["depends_on"]
        assert deps["postgres"]["condition"] == "service_healthy", name
        assert deps["redis"]["condition"] == "service_healthy", name
    for name in LONG_RUNNING:
        assert services[name]["depends_on"]["airflow-init"]["condition"] == "service_completed_successfully"
    for name in WORKERS:  # workers call the execution API on the apiserver
        assert services[name]["depends_on"]["airflow-apiserver"]["condition"] == "service_healthy"


def test_components_and_workers(services):
    assert command(services["airflow-apiserver"]) == "airflow api-server"
    assert services["airflow-apiserver"]["ports"] == ["127.0.0.1:8080:8080"]
    assert command(services["airflow-scheduler"]) == "airflow scheduler"
    assert command(services["airflow-dag-processor"]) == "airflow dag-processor"
    assert command(services["airflow-triggerer"]) == "airflow triggerer"
    hostnames, queues = set(), {}
    for name in WORKERS:
        cmd = command(services[name])
        assert cmd.startswith("airflow celery worker"), name
        hostnames.add(re.search(r"--celery-hostname\s+\"?([^\"\s]+)", cmd).group(1))
        queues[name] = set(re.search(r"--queues\s+(\S+)", cmd).group(1).split(","))
    assert len(hostnames) == len(WORKERS)  # distinct Celery node names
    assert all("default" in q for q in queues.values())
    assert [n for n, q in queues.items() if "training" in q] == ["airflow-worker-training"]


def test_dockerfile_installs_exactly_the_lock():
    text = (PROJECT_ROOT / "Dockerfile").read_text()
    assert text.startswith("#") and "FROM python:3.11-slim" in text
    assert "uv==0.13.9" in text and "uv sync --frozen --no-dev" in text


def test_secrets_come_from_an_uncommitted_env_file_and_ports_stay_on_loopback(services):
    text = (PROJECT_ROOT / "docker-compose.yml").read_text()
    secrets = set(re.findall(r"\$\{([A-Z_]*(?:PASSWORD|SECRET|KEY))[:}]", text))
    assert {"AIRFLOW_JWT_SECRET", "AIRFLOW_FERNET_KEY", "AIRFLOW_ADMIN_PASSWORD", "RECPIPE_READER_PASSWORD"} <= secrets
    for name in secrets:  # required (${X:?...}), never a default a deployment could forget to change
        assert not re.search(r"\$\{" + name + r":-", text), name
    example = (PROJECT_ROOT / ".env.example").read_text()
    assert secrets <= set(re.findall(r"^([A-Z_]+)=", example, re.M))
    assert ".env" in (PROJECT_ROOT / ".gitignore").read_text().split()
    for name, svc in services.items():
        for port in svc.get("ports", []):
            assert port.startswith("127.0.0.1:"), (name, port)
    assert "recpipeline db reader-password" in command(services["airflow-init"])
