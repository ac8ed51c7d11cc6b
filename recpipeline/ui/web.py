"""The pages as a FastAPI app. Who the caller is comes from the host (the Airflow plugin hands in `identify`,
which validates Airflow's JWT); every route depends on it, so nothing is served to an unauthenticated caller:
pages redirect a browser to the login page, anything else gets the 401/403 as JSON."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Annotated, Any
from urllib.parse import quote, urlencode, urlsplit

from fastapi import Depends, FastAPI, Form, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from recpipeline import db
from recpipeline.config import Settings, load_settings
from recpipeline.ui import models, overview, quality, reports, users
from recpipeline.ui.render import render

log = logging.getLogger(__name__)
DAG_ID = "recpipeline_daily"
PAGES = (  # (path, title) of the pages, in the order of the page tabs and of the Airflow nav entries
    ("overview", "Overview"),
    ("quality", "Data quality"),
    ("models", "Models"),
    ("users", "User lookup"),
    ("reports", "Reports"),
)


@dataclass(frozen=True)
class Viewer:
    """The signed-in user: their name (the audit's actor) and whether they may change what is published."""

    name: str
    may_republish: bool


class NotSignedIn(Exception):
    """The request carries no valid Airflow session or token (status 401), or an invalid one (403)."""

    def __init__(self, status: int, detail: str):
        super().__init__(detail)
        self.status = status
        self.detail = detail


@dataclass(frozen=True)
class Host:
    """What the host (the Airflow plugin) provides: authentication, its login page, links to its runs."""

    identify: Callable[[Request], Awaitable[Viewer]]  # raises NotSignedIn
    login_url: Callable[[str], str]  # the login page that returns to the given path afterwards
    run_links: Callable[[list[date]], dict[date, str]] = field(default=lambda days: {})  # day -> Airflow run path
    airflow_root: str = ""  # path prefix of the Airflow UI (from its base_url)
    settings: Callable[[], Settings] = load_settings


def _host(request: Request) -> Host:
    """The Host the app was created with."""
    return request.app.state.host


async def signed_in(request: Request) -> Viewer:
    """Dependency of every route: the signed-in Viewer, or NotSignedIn."""
    return await _host(request).identify(request)


SignedIn = Annotated[Viewer, Depends(signed_in)]


def _wants_html(request: Request) -> bool:
    """A browser navigating (GET of a page, not the JSON API)."""
    return (
        request.method == "GET"
        and "text/html" in request.headers.get("accept", "")
        and "/api/" not in (request.url.path)
    )


async def _refuse(request: Request, exc: NotSignedIn) -> Response:
    """Unauthenticated: a browser goes to the login page (and back here after), anything else gets JSON."""
    log.info("refused %s %s: %s", request.method, request.url.path, exc.detail)
    if _wants_html(request):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(_host(request).login_url(target), status_code=303)
    return JSONResponse({"detail": exc.detail}, status_code=exc.status)


def _page(request: Request, viewer: Viewer, template: str, title: str, status: int = 200, **context: Any):
    """A page inside the common layout (tabs, signed-in user, links back to Airflow)."""
    host = _host(request)
    html = render(
        template,
        title=f"RecPipeline · {title}",
        page_title=title,
        base=request.scope.get("root_path", "").rstrip("/"),
        airflow=host.airflow_root.rstrip("/"),
        dag_id=DAG_ID,
        pages=PAGES,
        current=template.removesuffix(".html.j2"),
        viewer=viewer,
        **context,
    )
    return HTMLResponse(html, status_code=status)


def _settings(request: Request) -> tuple[str, Settings]:
    """The results database URL and settings of this deployment (RECPIPE_* environment)."""
    settings = _host(request).settings()
    return db.database_url(settings), settings


def _run_links(request: Request, days: list[date]) -> tuple[dict[date, str], set[date]]:
    """The Airflow UI path of each day's run (the run page when known, else the DAG's runs of that date), and
    the days whose run is known."""
    host = _host(request)
    try:
        known = host.run_links(days)
    except Exception:  # the pages work without Airflow's metadata DB
        log.warning("could not look up the Airflow runs of %s", days, exc_info=True)
        known = {}
    root = host.airflow_root.rstrip("/")
    fallback = {
        d: f"{root}/dags/{DAG_ID}/runs?"
        + urlencode({"logical_date_gte": f"{d}T00:00:00Z", "logical_date_lte": f"{d}T00:00:00Z"})
        for d in days
    }
    return {**fallback, **known}, set(known)


def create_app(host: Host) -> FastAPI:
    """The pages and the roll back action; `host` authenticates every request."""
    app = FastAPI(title="RecPipeline", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.host = host
    app.add_exception_handler(NotSignedIn, _refuse)

    @app.get("/", include_in_schema=False)
    async def index(request: Request, viewer: SignedIn) -> RedirectResponse:
        return RedirectResponse(request.scope.get("root_path", "").rstrip("/") + "/overview", status_code=303)

    @app.get("/overview", response_class=HTMLResponse)
    def overview_page(request: Request, viewer: SignedIn, ds: date | None = None) -> HTMLResponse:
        url, _ = _settings(request)
        data = overview.overview(url, ds)
        runs, known = _run_links(request, [d["ds"] for d in data["days"]] + ([data["ds"]] if data["ds"] else []))
        return _page(request, viewer, "overview.html.j2", "Overview", runs=runs, known_runs=known, **data)

    @app.get("/quality", response_class=HTMLResponse)
    def quality_page(request: Request, viewer: SignedIn, reason: str | None = None) -> HTMLResponse:
        url, _ = _settings(request)
        return _page(request, viewer, "quality.html.j2", "Data quality", **quality.quality(url, reason or None))

    @app.get("/models", response_class=HTMLResponse)
    def models_page(
        request: Request, viewer: SignedIn, a: str | None = None, b: str | None = None, done: int | None = None
    ) -> HTMLResponse:
        url, _ = _settings(request)
        data = models.models_page(url, a, b)
        done_row = next((r for r in data["audit"] if r["audit_id"] == done), None) if done else None
        return _page(request, viewer, "models.html.j2", "Models", done=done_row, error=None, form=None, **data)

    @app.post("/models/republish", response_class=HTMLResponse)
    def republish(
        request: Request,
        viewer: SignedIn,
        ds: Annotated[str, Form()] = "",
        reason: Annotated[str, Form()] = "",
    ) -> Response:
        url, _ = _settings(request)
        error, status = _republish_refusal(request, viewer, ds, reason)
        if error is None:
            try:
                result = models.roll_back(url, date.fromisoformat(ds), viewer.name, reason.strip())
            except LookupError as exc:
                error, status = str(exc), 404
            else:
                base = request.scope.get("root_path", "").rstrip("/")
                return RedirectResponse(f"{base}/models?done={result['audit_id']}", status_code=303)
        log.warning("republish of %r by %s refused: %s", ds, viewer.name, error)
        data = models.models_page(url)
        form = {"ds": ds, "reason": reason}
        return _page(request, viewer, "models.html.j2", "Models", status, done=None, error=error, form=form, **data)

    @app.get("/users", response_class=HTMLResponse)
    def users_page(request: Request, viewer: SignedIn, user_id: str | None = None) -> HTMLResponse:
        url, _ = _settings(request)
        return _page(request, viewer, "users.html.j2", "User lookup", **users.user_page(url, (user_id or "").strip()))

    @app.get("/reports", response_class=HTMLResponse)
    def reports_page(request: Request, viewer: SignedIn) -> HTMLResponse:
        url, settings = _settings(request)
        found = reports.reports(url, settings.artifacts)
        return _page(request, viewer, "reports.html.j2", "Reports", reports=found, ds=None, day=[], model_id=None)

    @app.get("/reports/{ds}", response_class=HTMLResponse)
    def report_day(request: Request, viewer: SignedIn, ds: date, model_id: str | None = None) -> HTMLResponse:
        url, settings = _settings(request)
        day = reports.models_of_day(url, ds, settings.artifacts)
        chosen = model_id if any(r["model_id"] == model_id for r in day) else (day[0]["model_id"] if day else None)
        status = 200 if day else 404
        return _page(
            request, viewer, "reports.html.j2", f"Report {ds}", status, reports=[], ds=ds, day=day, model_id=chosen
        )

    @app.get("/reports/{ds}/{model_id}/index.html", response_class=HTMLResponse)
    def report_file(request: Request, viewer: SignedIn, ds: date, model_id: str) -> HTMLResponse:
        url, settings = _settings(request)
        try:
            return HTMLResponse(reports.report_html(url, settings.artifacts, ds, model_id))
        except LookupError as exc:
            return _page(request, viewer, "message.html.j2", "No report", 404, message=str(exc))

    @app.get("/api/summary")
    def summary(request: Request, viewer: SignedIn) -> JSONResponse:
        url, _ = _settings(request)
        live = overview.live_now(url)
        days = overview.recent_days(url)
        return JSONResponse(jsonable_encoder({"user": viewer.name, "live": live, "days": days}))

    return app


def _republish_refusal(request: Request, viewer: Viewer, ds: str, reason: str) -> tuple[str | None, int]:
    """Why a roll back / promote request is refused (message, HTTP status), or (None, 200)."""
    origin = request.headers.get("origin")
    if origin and urlsplit(origin).netloc != request.url.netloc:
        return f"cross-site form post from {origin} refused", 403
    if not viewer.may_republish:
        return f"{viewer.name} may not change what is published (needs permission to edit DAG {DAG_ID})", 403
    try:
        date.fromisoformat(ds)
    except ValueError:
        return f"choose a published day to make live again (got {ds!r})", 400
    if not reason.strip():
        return "a reason is required: it is kept in recs.publish_audit with your name", 400
    return None, 200


def report_page_path(ds: date) -> str:
    """The plugin path of a day's report page (relative to where the app is mounted)."""
    return f"/reports/{quote(ds.isoformat())}"
