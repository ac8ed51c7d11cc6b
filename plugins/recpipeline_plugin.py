"""RecPipeline inside the Airflow UI: the pages of `recpipeline.ui` as a FastAPI app under /recpipeline, one nav
entry per page (external views rendered inside the UI at /plugin/<url_route>), and an "Evaluation report" link
on the `evaluate` task.

Plugin FastAPI apps are not protected by Airflow: every route of the app depends on `identify`, which validates
Airflow's JWT exactly as the core API does (`security.get_user`: a Bearer header first, else the `_token` cookie
the UI holds) and refuses the request otherwise. Changing what is published needs permission to edit the DAG.
"""

from __future__ import annotations

import logging
from datetime import date
from urllib.parse import urlsplit

from airflow.configuration import conf
from airflow.plugins_manager import AirflowPlugin
from airflow.providers.standard.decorators.python import _PythonDecoratedOperator
from airflow.sdk import BaseOperatorLink
from fastapi import HTTPException, Request
from fastapi.security import HTTPBearer

from recpipeline.ui.web import DAG_ID, PAGES, Host, NotSignedIn, Viewer, create_app, report_page_path

log = logging.getLogger(__name__)
URL_PREFIX = "/recpipeline"
REPORTS_ROUTE = "recpipeline-reports"
_bearer = HTTPBearer(auto_error=False)


def airflow_root() -> str:
    """The path prefix of the Airflow UI ('' when it is served at the root), from [api] base_url."""
    return urlsplit(conf.get("api", "base_url", fallback="") or "").path.rstrip("/")


async def identify(request: Request) -> Viewer:
    """The signed-in Airflow user of a request (Bearer token, else the UI's `_token` cookie), or NotSignedIn."""
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity, DagDetails
    from airflow.api_fastapi.core_api.security import get_user

    try:
        user = await get_user(request, None, await _bearer(request))
    except HTTPException as exc:
        raise NotSignedIn(exc.status_code, f"Airflow authentication required: {exc.detail}") from None
    may_republish = get_auth_manager().is_authorized_dag(
        method="PUT", access_entity=DagAccessEntity.RUN, details=DagDetails(id=DAG_ID), user=user
    )
    return Viewer(name=user.get_name(), may_republish=bool(may_republish))


def login_url(next_path: str) -> str:
    """Airflow's login page, returning to `next_path` afterwards."""
    from airflow.api_fastapi.app import get_auth_manager

    return get_auth_manager().get_url_login(next_url=next_path)


def run_ids(days: list[date]) -> dict[date, str]:
    """The run id of recpipeline_daily for each logical date that has a run (read in the api-server)."""
    from datetime import UTC, datetime, time

    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session
    from sqlalchemy import select

    moments = [datetime.combine(d, time.min, tzinfo=UTC) for d in days]
    with create_session() as session:
        found = session.execute(
            select(DagRun.logical_date, DagRun.run_id).where(DagRun.dag_id == DAG_ID, DagRun.logical_date.in_(moments))
        ).all()
    return {logical.date(): run_id for logical, run_id in found if logical is not None}


def run_links(days: list[date]) -> dict[date, str]:
    """The Airflow UI page of each day's run, for the days that have one."""
    return {d: f"{airflow_root()}/dags/{DAG_ID}/runs/{run_id}" for d, run_id in run_ids(days).items()}


def run_logical_date(dag_id: str, run_id: str) -> date | None:
    """The logical date of a run (None when the run has none, e.g. an asset-triggered run)."""
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        logical = session.scalar(select(DagRun.logical_date).where(DagRun.dag_id == dag_id, DagRun.run_id == run_id))
    return logical.date() if logical is not None else None


def report_link(ds: date) -> str:
    """The report page of a day inside the Airflow UI (the Reports view with the plugin page in its frame)."""
    return f"{airflow_root()}/plugin/{REPORTS_ROUTE}{URL_PREFIX}{report_page_path(ds)}"


class EvaluationReportLink(BaseOperatorLink):
    """'Evaluation report' on the evaluate task of recpipeline_daily: the plugin's report page of the run's day."""

    name = "Evaluation report"

    def get_link(self, operator, *, ti_key) -> str:
        """The report page for the run's logical date; empty (no button) for other tasks or runs without one."""
        if ti_key.dag_id != DAG_ID or operator.task_id != "evaluate":
            return ""
        ds = run_logical_date(ti_key.dag_id, ti_key.run_id)
        return report_link(ds) if ds else ""


app = create_app(Host(identify=identify, login_url=login_url, run_links=run_links, airflow_root=airflow_root()))


class RecPipelinePlugin(AirflowPlugin):
    """The RecPipeline pages (FastAPI app + nav entries) and the evaluate task's report link."""

    name = "recpipeline"
    fastapi_apps = [{"app": app, "url_prefix": URL_PREFIX, "name": "RecPipeline pages"}]
    external_views = [
        {
            "name": title,
            "href": f"{URL_PREFIX.lstrip('/')}/{path}",
            "url_route": f"recpipeline-{path}",
            "category": "RecPipeline",
            "destination": "nav",
        }
        for path, title in PAGES
    ]
    operator_extra_links = [EvaluationReportLink()]


EvaluationReportLink.operators = [_PythonDecoratedOperator]  # every @task; get_link keeps only evaluate
