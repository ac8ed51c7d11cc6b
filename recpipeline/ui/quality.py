"""Data quality page: check history with trends, drift checks in detail, and a browser of rejected rows."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

from recpipeline.ui.charts import sparkline
from recpipeline.ui.queries import rows

HISTORY_DAYS = 30
SAMPLE_ROWS = 20
DRIFT_CHECKS = ("volume", "catalogue_change")  # besides every *_psi check


def is_drift(check_name: str) -> bool:
    """Whether a check measures drift against earlier days (distribution shift, volume, catalogue churn)."""
    return check_name.endswith("_psi") or check_name in DRIFT_CHECKS


def check_history(url: str, days: int = HISTORY_DAYS) -> dict[str, Any]:
    """Per check (name, target): its results over the last `days` checked days, a sparkline and the latest."""
    found = rows(url, "ui_check_history", days=days)
    dates = sorted({r["ds"] for r in found})
    series: dict[tuple[str, str], dict[date, dict[str, Any]]] = {}
    for r in found:
        series.setdefault((r["check_name"], r["target"]), {})[r["ds"]] = r
    checks = []
    for (name, target), by_day in sorted(series.items()):
        latest = by_day[max(by_day)]
        cells = [by_day.get(d) for d in dates]
        checks.append(
            {
                "name": name,
                "target": target,
                "severity": latest["severity"],
                "threshold": latest["threshold"],
                "latest": latest,
                "drift": is_drift(name),
                "statuses": [c["status"] if c else None for c in cells],
                "counts": {s: sum(1 for c in cells if c and c["status"] == s) for s in ("pass", "warn", "fail")},
                "spark": sparkline(
                    [c["observed"] if c else None for c in cells], [c["status"] if c else "none" for c in cells]
                ),
            }
        )
    return {"dates": dates, "checks": checks}


def drift_details(url: str, ds: date) -> list[dict[str, Any]]:
    """The drift checks of one day with their compared distributions (shares today vs the trailing days)."""
    out = []
    for r in rows(url, "ui_day_checks", ds=ds):
        if not is_drift(r["check_name"]):
            continue
        details = r["details"] or {}
        today, trailing = details.get("today"), details.get("trailing")
        shares = []
        if isinstance(today, dict) and isinstance(trailing, dict):
            t_sum, p_sum = sum(today.values()) or 1, sum(trailing.values()) or 1
            for key in sorted(set(today) | set(trailing), key=lambda k: -(today.get(k, 0) / t_sum)):
                a, b = today.get(key, 0) / t_sum, trailing.get(key, 0) / p_sum
                shares.append({"key": key, "today": a, "trailing": b, "change": a - b})
        facts = {k: v for k, v in details.items() if k not in ("today", "trailing") or not isinstance(v, dict)}
        if isinstance(today, (int, float)):
            facts["today"] = today
        out.append({**r, "shares": shares, "facts": facts})
    return out


def reject_reasons(url: str, since: date) -> list[dict[str, Any]]:
    """Rejected rows per target and reason code since `since`, most frequent first."""
    return rows(url, "ui_reject_reasons", since=since)


def reject_samples(
    url: str, reason: str | None = None, ds: date | None = None, limit: int = SAMPLE_ROWS
) -> list[dict[str, Any]]:
    """Sample rejected rows (payload as landed, pretty-printed), optionally for one reason code and day."""
    found = rows(url, "ui_reject_samples", reason=reason, ds=ds, limit=limit)
    for r in found:
        r["payload_text"] = json.dumps(r["payload"], ensure_ascii=False, indent=None, sort_keys=False)
    return found


def quality(url: str, reason: str | None = None, days: int = HISTORY_DAYS) -> dict[str, Any]:
    """Everything the Data quality page shows; `reason` filters the sample rejected rows."""
    history = check_history(url, days)
    last = history["dates"][-1] if history["dates"] else None
    since = history["dates"][0] if history["dates"] else date.today() - timedelta(days=days)
    return {
        "history": history,
        "last": last,
        "since": since,
        "drift": drift_details(url, last) if last else [],
        "reasons": reject_reasons(url, since),
        "reason": reason,
        "samples": reject_samples(url, reason),
    }
