"""The online gate (off by default, `online_gate`): refuse to bless a model when, on the day before, the live
model group's online CTR@eval_k fell below the holdout's by more than `online_gate_tolerance` (relative)."""

from __future__ import annotations

from datetime import date, timedelta

from recpipeline import db
from recpipeline.config import Settings


def online_verdict(treatment: float, holdout: float, tolerance: float, k: int) -> tuple[bool, str]:
    """(pass, reason) for a treatment and holdout CTR."""
    floor = holdout * (1 - tolerance)
    if treatment < floor:
        return False, (
            f"online CTR@{k} of the live model's group {treatment:.4f} is more than {tolerance:.0%} below the "
            f"holdout's {holdout:.4f}"
        )
    return True, f"online CTR@{k} {treatment:.4f} vs holdout {holdout:.4f}"


def online_gate(url: str, ds: date, settings: Settings) -> tuple[bool, str]:
    """The gate's online check for the model evaluated on `ds` (judges ds - 1's lift); passes when off or unknown."""
    if not settings.online_gate:
        return True, "online gate off"
    with db.connect(url) as conn, conn.cursor() as cur:
        rows = db.fetch_all(cur, "feedback_lift_for_day", {"ds": ds - timedelta(days=1)})
    found = [r for r in rows if r[0] == "ctr" and r[1] == settings.eval_k]
    if not found or not found[0][8]:
        return True, f"no online CTR@{settings.eval_k} for {ds - timedelta(days=1)}: online gate passes"
    _m, k, treatment, holdout, *_ = found[0]
    return online_verdict(treatment, holdout, settings.online_gate_tolerance, k)
