"""Reading the online metrics back (eval.online_metrics / eval.online_lift, written by `feedback.online`) for
the report, the UI's Overview and the CLI; no pandas, so pages can import it cheaply."""

from __future__ import annotations

from datetime import date

from recpipeline import db
from recpipeline.feedback.groups import TREATMENT


def fmt_ratio(x: float | None) -> str:
    """A lift or interval end for a log line: 3 decimals, "-" when unknown."""
    return "-" if x is None else f"{x:.3f}"


def report_lines(url: str, ds: date) -> list[str]:
    """The day's online metrics per publish, model, source and group, and the lift (for a CLI or a log)."""
    with db.connect(url) as conn, conn.cursor() as cur:
        view = online_view(cur, ds)
    if view is None:
        return [f"no online metrics for {ds}: no impressions were validated for it"]
    lines = [f"online metrics for lists shown on {ds}"]
    for g in view["groups"]:
        values = "  ".join(f"{name} {g[name]:.4g}" for name in SHOWN_METRICS if name in g)
        lines.append(f"  {g['grp']:9} {g['source']:8} {g['model_id']} (publish {g['publish_id']}): {values}")
    for x in view["lifts"]:
        lines.append(
            f"  lift {x['metric']}@{x['k']}: treatment {x['treatment']:.4f} ({x['users_treatment']:,} users) / "
            f"holdout {x['holdout']:.4f} ({x['users_holdout']:,} users) = {fmt_ratio(x['lift'])} "
            f"(95% CI {fmt_ratio(x['ci_low'])}-{fmt_ratio(x['ci_high'])})"
        )
    return lines


# eval.online_lift's columns after ds (feedback_lift_for_day selects them in this order)
LIFT_COLUMNS = ("metric", "k", "treatment", "holdout", "lift", "ci_low", "ci_high", "users_treatment", "users_holdout")
SHOWN_METRICS = (
    "impressions",
    "ctr",
    "cart_rate",
    "purchase_rate",
    "revenue_per_mille",
    "clicked_coverage",
    "satisfaction",
)


def online_view(cur, ds: date, k: int = 10, days: int = 14) -> dict | None:
    """What the report and the UI show of the lists shown on `ds`: per group, source and model the headline
    metrics (CTR at k), the lifts with their intervals, and the CTR@k lift of recent days. None: no impressions."""
    metrics = db.fetch_all(cur, "feedback_online_for_day", {"ds": ds})
    if not metrics:
        return None
    groups: dict[tuple, dict[str, float]] = {}
    for _ds, publish_id, model_id, source, grp, metric, mk, value, _n in metrics:
        if metric in SHOWN_METRICS and (metric != "ctr" or mk == k):
            groups.setdefault((grp, source, model_id, publish_id), {})[metric] = (
                int(value) if metric == "impressions" else value
            )
    history_names = ("ds", "treatment", "holdout", "lift", "ci_low", "ci_high", "users_treatment", "users_holdout")
    return {
        "ds": ds,
        "k": k,
        "groups": [
            {"grp": grp, "source": source, "model_id": model_id, "publish_id": publish_id, **values}
            for (grp, source, model_id, publish_id), values in sorted(
                groups.items(), key=lambda g: (g[0][0] != TREATMENT, g[0][1:])
            )
        ],
        "lifts": [
            dict(zip(LIFT_COLUMNS, r, strict=True)) for r in db.fetch_all(cur, "feedback_lift_for_day", {"ds": ds})
        ],
        "history": [
            dict(zip(history_names, r, strict=True))
            for r in db.fetch_all(cur, "feedback_online_history", {"ds": ds, "k": k, "days": days})
        ],
    }
