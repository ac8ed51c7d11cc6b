"""Data quality: validate the day's landed rows into `clean`, quarantine the rest with reasons.

Row-level rules run set-based inside PostgreSQL (sql/queries/dq_flag_*.sql); every landed row ends
either in `clean` or in `dq.rejects` with all its reason codes, and landed = accepted + rejected is
checked here and by a table constraint. Dataset-level checks go to `dq.check_results`; any failing
check of severity `error` raises DataQualityError after the results are recorded.
"""

from __future__ import annotations

import json
import logging
import math
import os
import tomllib
from dataclasses import dataclass, field
from datetime import date

from recpipeline import db
from recpipeline.config import PROJECT_ROOT, Settings
from recpipeline.days import day_bounds
from recpipeline.events import EVENT_TYPES, ITEM_EVENTS

log = logging.getLogger(__name__)

MAX_PRICE = 1_000_000.0  # plausibility limit for prices and purchase values
# Earliest plausible event day, for the door (recpipeline.sources) and ts_implausible. A Settings field should
# carry it (default 2000-01-01); until then this constant is its one home.
EARLIEST_DAY = date(2000, 1, 1)
MAX_ID_LEN = 128
MAX_TEXT_LEN = 1000
VOLUME_WINDOW_DAYS = 7
THRESHOLDS_FILE = PROJECT_ROOT / "dq_thresholds.toml"


def load_thresholds() -> dict[str, dict]:
    """The documented thresholds file (RECPIPE_DQ_THRESHOLDS overrides its path)."""
    path = os.environ.get("RECPIPE_DQ_THRESHOLDS") or THRESHOLDS_FILE
    with open(path, "rb") as f:
        return tomllib.load(f)


def psi(today: dict[str, float], baseline: dict[str, float], floor: float = 1e-4) -> float:
    """Population stability index sum((p - q) * ln(p / q)) over the union of keys; shares floored at `floor`.

    Bit-identical whatever the process's string hash seed, so rerunning a day stores the same dq.check_results.
    """
    t_total, b_total = sum(today.values()), sum(baseline.values())
    if not t_total or not b_total:
        return 0.0
    terms = []
    for key in sorted(set(today) | set(baseline)):  # fixed order; fsum makes the sum exact besides
        p = max(today.get(key, 0) / t_total, floor)
        q = max(baseline.get(key, 0) / b_total, floor)
        terms.append((p - q) * math.log(p / q))
    return math.fsum(terms)


def banded(name: str, target: str, rule: dict, observed: float) -> CheckResult:
    """A check from a thresholds rule with warn_above / fail_above (a warn-severity check never fails)."""
    severity = rule.get("severity", "warn")
    fail, warn = rule.get("fail_above"), rule.get("warn_above")
    status = "pass"
    if warn is not None and observed > warn:
        status = "warn"
    if fail is not None and observed > fail and severity == "error":
        status = "fail"
    threshold = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in rule.items() if k != "severity")
    return CheckResult(name, target, severity, status, observed, threshold)


class DataQualityError(RuntimeError):
    """A check of severity `error` failed: nothing downstream may run for this day."""


@dataclass
class CheckResult:
    name: str
    target: str
    severity: str  # error | warn
    status: str  # pass | warn | fail
    observed: float | None
    threshold: str
    details: dict = field(default_factory=dict)


@dataclass
class DayReport:
    ds: date
    landed: dict[str, int]
    accepted: dict[str, int]
    rejected: dict[str, int]
    checks: list[CheckResult]

    @property
    def failed(self) -> list[CheckResult]:
        return [c for c in self.checks if c.status == "fail" and c.severity == "error"]


def _written(cur, name: str, params: dict) -> int:
    """Run a named INSERT and return how many rows it wrote."""
    db.execute(cur, name, params)
    return cur.rowcount


def event_rule_params(ds: date, settings: Settings, catalogue_ds: date | None) -> dict:
    """The bound parameters of the row rules (dq_flag_events.sql and the item rules) for day `ds`, events checked
    against the catalogue of `catalogue_ds`; the daily run and the refresh bind the same values."""
    day_start, day_end = day_bounds(ds)
    return {
        "ds": ds,
        "catalogue_ds": catalogue_ds,
        "day_start": day_start,
        "day_end": day_end,
        "lateness_hours": settings.max_lateness_hours,
        "earliest": day_bounds(EARLIEST_DAY)[0],
        "max_price": MAX_PRICE,
        "max_id_len": MAX_ID_LEN,
        "max_text_len": MAX_TEXT_LEN,
        "reject_unknown_items": settings.unknown_items == "reject",
        "event_types": list(EVENT_TYPES),
        "item_events": list(ITEM_EVENTS),
    }


def validate_day(url: str, ds: date, settings: Settings) -> DayReport:
    """Validate raw rows of `ds` into clean/dq in one transaction; raise DataQualityError on `error` checks."""
    params = event_rule_params(ds, settings, catalogue_ds=ds)  # the day's snapshot (carried forward if none landed)
    with db.connect(url) as conn, conn.cursor() as cur:
        cur.execute("SET LOCAL work_mem = '256MB'")  # the duplicate window sorts the whole day in memory
        db.execute(cur, "dq_clear_day", params)
        landed, accepted, rejected = {}, {}, {}

        db.execute(cur, "dq_flag_items", params)
        landed["items"], copies = db.fetch_all(cur, "dq_item_stats")[0]
        accepted["items"] = _written(cur, "dq_accept_items", params)
        rejected["items"] = _written(cur, "dq_reject_items", params)
        if landed["items"] == 0:
            db.execute(cur, "dq_carry_catalogue", params)
            log.info("no catalogue landed for %s: carried forward %d items from the last snapshot", ds, cur.rowcount)
        db.execute(cur, "dq_analyze_items")  # the event flagging reads the snapshot just written

        db.execute(cur, "dq_event_candidates_day", params)
        db.execute(cur, "dq_flag_events", params)
        landed["events"], accepted_unknown = db.fetch_all(cur, "dq_event_stats")[0]
        accepted["events"] = _written(cur, "dq_accept_events", params)
        rejected["events"] = _written(cur, "dq_reject_events", params)
        db.execute(cur, "dq_analyze_events")  # the checks below and the features stage read the day's events

        for target in ("items", "events"):
            if landed[target] != accepted[target] + rejected[target]:  # rows written, against rows landed
                raise RuntimeError(
                    f"{target}: landed {landed[target]} but wrote {accepted[target]} to clean and "
                    f"{rejected[target]} to dq.rejects; nothing was committed"
                )
            db.execute(
                cur,
                "dq_insert_audit",
                {
                    "ds": ds,
                    "target": target,
                    "landed": landed[target],
                    "accepted": accepted[target],
                    "rejected": rejected[target],
                },
            )

        median, window_days = db.fetch_all(cur, "dq_trailing_volume", {"ds": ds, "window_days": VOLUME_WINDOW_DAYS})[0]
        rules = load_thresholds()
        checks = dataset_checks(
            settings, landed, accepted, rejected, accepted_unknown, median, window_days, rules, {"items": copies}
        )
        checks += distribution_checks(cur, ds, rules)
        for c in checks:
            db.execute(
                cur,
                "dq_insert_check",
                {
                    "ds": ds,
                    "check_name": c.name,
                    "target": c.target,
                    "severity": c.severity,
                    "status": c.status,
                    "observed": c.observed,
                    "threshold": c.threshold,
                    "details": json.dumps(c.details),
                },
            )
    report = DayReport(ds, landed, accepted, rejected, checks)
    log.info("%s", "\n".join(report_lines(url, ds)))  # the same view as `recpipeline dq report`
    if report.failed:
        names = "; ".join(f"{c.name} on {c.target}: observed {c.observed} ({c.threshold})" for c in report.failed)
        raise DataQualityError(f"data quality failed for {ds}: {names}. Inspect with `recpipeline dq report --ds {ds}`")
    return report


def dataset_checks(
    settings: Settings,
    landed: dict[str, int],
    accepted: dict[str, int],
    rejected: dict[str, int],
    accepted_unknown: int,
    trailing_median: float | None,
    trailing_days: int,
    rules: dict[str, dict] | None = None,
    exact_copies: dict[str, int] | None = None,
) -> list[CheckResult]:
    """Day-level checks from the counts; pure so that thresholds are easy to test.

    `exact_copies` (per target) are quarantined rows that only repeat a kept row (a catalogue item landed by
    several files of one day): they lose nothing, so the reject rate leaves them out of both sides.
    """
    rules = rules or load_thresholds()
    checks = [
        CheckResult(
            "freshness",
            "events",
            "error",
            "pass" if accepted["events"] > 0 else "fail",
            float(accepted["events"]),
            "accepted events > 0",
        ),
        CheckResult(
            "catalogue_present",
            "items",
            "error",
            "pass" if accepted["items"] > 0 or landed["items"] == 0 else "fail",
            float(accepted["items"]),
            "accepted items > 0 when a catalogue landed",
        ),
    ]
    for target in ("events", "items"):
        copies = (exact_copies or {}).get(target, 0)
        judged = landed[target] - copies
        rate = (rejected[target] - copies) / judged if judged else 0.0
        limit = settings.max_reject_rate
        share = rules["reject_rate"]["warn_share_of_limit"]
        status = "fail" if rate > limit else "warn" if rate > limit * share else "pass"
        checks.append(
            CheckResult("reject_rate", target, "error", status, rate, f"fail > {limit}, warn > {limit * share:.3g}")
        )
    unknown_share = accepted_unknown / accepted["events"] if accepted["events"] else 0.0
    checks.append(banded("unknown_item_share", "events", rules["unknown_item_share"], unknown_share))
    if trailing_median:
        ratio = accepted["events"] / trailing_median
        band = rules["volume"]
        low, high = band["warn_below"], band["warn_above"]
        status = "fail" if ratio < settings.min_volume_ratio else "warn" if ratio < low or ratio > high else "pass"
        checks.append(
            CheckResult(
                "volume",
                "events",
                band["severity"],
                status,
                ratio,
                f"fail < {settings.min_volume_ratio} x trailing median, warn < {low} or > {high}",
                {"trailing_median": trailing_median, "trailing_days": trailing_days},
            )
        )
    return checks


def distribution_checks(cur, ds: date, rules: dict[str, dict]) -> list[CheckResult]:
    """Mix drift (PSI) against the trailing window, null rates of optional fields, catalogue size change."""
    mix: dict[str, tuple[dict, dict]] = {"event_type": ({}, {}), "category": ({}, {})}
    for dimension, key, today, trailing in db.fetch_all(cur, "dq_mix", {"ds": ds, "window_days": VOLUME_WINDOW_DAYS}):
        mix[dimension][0][key] = today
        mix[dimension][1][key] = trailing
    checks = []
    for dimension, (today, trailing) in mix.items():
        if sum(trailing.values()) and sum(today.values()):
            check = banded(f"{dimension}_psi", "events", rules[f"{dimension}_psi"], psi(today, trailing))
            check.details = {"today": today, "trailing": trailing}
            checks.append(check)
    for field_name, rate in db.fetch_all(cur, "dq_null_rates", {"ds": ds}):
        if rate is not None:
            checks.append(banded(f"null_rate_{field_name}", "events", rules["null_rate"], float(rate)))
    today_items, previous_items = db.fetch_all(cur, "dq_catalogue_sizes", {"ds": ds})[0]
    if previous_items:
        change = abs(today_items - previous_items) / previous_items
        check = banded("catalogue_change", "items", rules["catalogue_change"], change)
        check.details = {"today": today_items, "previous": previous_items}
        checks.append(check)
    return checks


def report_lines(url: str, ds: date) -> list[str]:
    """What `recpipeline dq report` prints: the day's counts, checks and top reject reasons."""
    with db.connect(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT target, landed, accepted, rejected FROM dq.load_audit WHERE ds = %s ORDER BY target", (ds,))
        audit = cur.fetchall()
        checks = db.fetch_all(cur, "dq_checks_for_day", {"ds": ds})
        reasons = db.fetch_all(cur, "dq_top_reasons", {"ds": ds})
    if not audit:
        return [f"no data-quality results for {ds}: run the data_quality task (or `recpipeline load`) first"]
    lines = [f"data quality for {ds}"]
    lines += [f"  {t:6} landed {n:>10,}  accepted {a:>10,}  rejected {r:>8,}" for t, n, a, r in audit]
    lines.append("checks:")
    for name, target, severity, status, observed, threshold in checks:
        obs = "-" if observed is None else f"{observed:.4g}"
        # the severity as what a failure would do, so grepping for "error" or "fail" finds only failing checks
        effect = {"error": "stops the run", "warn": "warns"}.get(severity, severity)
        lines.append(f"  [{status:4}] {name:20} {target:6} observed {obs:>10}  ({threshold}; {effect})")
    lines.append("top reject reasons:" if reasons else "no rejected rows")
    lines += [f"  {n:>8,}  {target:6} {reason}" for target, reason, n in reasons[:15]]
    return lines
