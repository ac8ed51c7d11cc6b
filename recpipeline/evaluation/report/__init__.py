"""The HTML evaluation report of a run: `artifact_root/reports/<ds>/<model_id>/index.html`.

The page holds the gate verdict, the metrics table (model vs baselines), the gate metric over past runs, the
day's score distribution and the long-tail curve of recommendations per item. Plots are PNGs embedded as
base64 data URIs and the CSS is inlined, so the file can be mailed or archived on its own.

Modules: `data` (loading from the database, the numbers, and `report_context`: everything a page needs as
plain values), `plots` (matplotlib figures as data URIs; matplotlib is imported only when drawing), `render`
(the Jinja2 environment, `render(template, **context)` and `write_report`), `templates/` (the page shell, the
report and its stylesheet: all markup and CSS live there). A page elsewhere (e.g. an Airflow UI plugin)
shows the same report with ``render.render("report.html.j2", **report_context(url, ds, model_id))``.
"""

from recpipeline.evaluation.report.data import (
    ReportExtras,
    latest_report_path,
    page_context,
    report_context,
    report_path,
)
from recpipeline.evaluation.report.render import write_report

__all__ = [
    "ReportExtras",
    "latest_report_path",
    "page_context",
    "report_context",
    "report_path",
    "write_report",
]
