"""Online metrics of shown lists (eval.online_metrics) and the treatment / holdout lift with a 95% bootstrap
interval over users (eval.online_lift), from the day's impressions and their attributed events.

Definitions (per day, publish, model, source, group): impressions; lists (requests); users; CTR@K = clicked
impressions at positions <= K / impressions at positions <= K; CTR at each position; cart and purchase rate
per impression; revenue per 1,000 impressions (attributed purchase values, else item prices); coverage of
clicked items = distinct clicked items / catalogue size; satisfaction = share of users shown a list who
clicked, carted or bought something from it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from recpipeline import db
from recpipeline.feedback.groups import HOLDOUT, TREATMENT
from recpipeline.feedback.online_view import LIFT_COLUMNS, fmt_ratio

log = logging.getLogger(__name__)
CTR_KS = (5, 10, 20)
BOOTSTRAP = 1000
GROUP_KEYS = ["publish_id", "model_id", "source", "grp"]


@dataclass(frozen=True)
class Lift:
    """Treatment over holdout of a ratio metric, with its 95% bootstrap interval."""

    treatment: float
    holdout: float
    lift: float | None
    ci_low: float | None
    ci_high: float | None
    users_treatment: int
    users_holdout: int


def group_metrics(frame: pd.DataFrame, catalogue_size: int) -> list[tuple[str, int, float, int]]:
    """(metric, k, value, n) of one group of impressions."""
    n = len(frame)
    positive = frame["clicked"] | frame["carted"] | frame["purchased"]
    out = [
        ("impressions", 0, float(n), n),
        ("lists", 0, float(frame["request_id"].nunique()), n),
        ("users", 0, float(frame["user_id"].nunique()), n),
        ("cart_rate", 0, float(frame["carted"].mean()), n),
        ("purchase_rate", 0, float(frame["purchased"].mean()), n),
        ("revenue_per_mille", 0, float(1000.0 * frame["revenue"].sum() / n), n),
        ("clicked_coverage", 0, frame.loc[frame["clicked"], "item_id"].nunique() / max(catalogue_size, 1), n),
    ]
    users = positive.groupby(frame["user_id"]).any()
    out.append(("satisfaction", 0, float(users.mean()), len(users)))
    for k in CTR_KS:
        top = frame["position"] <= k
        if top.any():
            out.append(("ctr", k, float(frame.loc[top, "clicked"].mean()), int(top.sum())))
    for pos, part in frame.groupby("position"):
        out.append(("ctr_at_position", int(pos), float(part["clicked"].mean()), len(part)))
    return out


def user_units(frame: pd.DataFrame, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Per user (or user-day): clicks and impressions at positions <= k."""
    top = frame[frame["position"] <= k]
    keys = [c for c in ("ds", "user_id") if c in top.columns]
    per = top.groupby(keys)["clicked"].agg(["sum", "count"])
    return per["sum"].to_numpy(np.float64), per["count"].to_numpy(np.float64)


def ratio_lift(t: tuple[np.ndarray, np.ndarray], h: tuple[np.ndarray, np.ndarray], seed: int) -> Lift:
    """Lift of sum(num)/sum(den) treatment over holdout; CI from resampling users within each group."""
    (tn, td), (hn, hd) = t, h
    tv = tn.sum() / td.sum() if td.sum() else 0.0
    hv = hn.sum() / hd.sum() if hd.sum() else 0.0
    lift = tv / hv if hv else None
    lo = hi = None
    if len(tn) and len(hn) and hv:
        rng = np.random.default_rng(seed)
        ti = rng.integers(0, len(tn), (BOOTSTRAP, len(tn)))
        hi_ = rng.integers(0, len(hn), (BOOTSTRAP, len(hn)))
        tr = tn[ti].sum(1) / np.maximum(td[ti].sum(1), 1e-12)
        hr = hn[hi_].sum(1) / np.maximum(hd[hi_].sum(1), 1e-12)
        ratios = tr / np.where(hr > 0, hr, np.nan)
        ratios = ratios[np.isfinite(ratios)]
        if len(ratios):
            lo, hi = (float(x) for x in np.percentile(ratios, [2.5, 97.5]))
    return Lift(float(tv), float(hv), lift, lo, hi, len(tn), len(hn))


def ctr_lift(frame: pd.DataFrame, k: int, seed: int) -> Lift:
    """CTR@k of the treatment group over the holdout's."""
    return ratio_lift(
        user_units(frame[frame["grp"] == TREATMENT], k), user_units(frame[frame["grp"] == HOLDOUT], k), seed
    )


def online_metrics_day(url: str, ds: date) -> dict[str, float | None]:
    """Replace the day's online metrics and lift; returns the headline numbers."""
    with db.connect(url) as conn, conn.cursor() as cur:
        frame = db.read_frame(cur, "feedback_impression_outcomes", {"ds": ds})
        catalogue = db.fetch_all(cur, "feedback_catalogue_size", {"ds": ds})[0][0]
        db.execute(cur, "feedback_clear_online", {"ds": ds})
        if frame.empty:
            log.info("online metrics %s: no impressions", ds)
            return {}
        frame["revenue"] = frame["revenue"].astype(float)
        rows = []
        pooled = frame.assign(source="all")
        for keys, part in pd.concat([frame, pooled]).groupby(GROUP_KEYS):
            rows += [(ds, *keys, m, k, v, n) for m, k, v, n in group_metrics(part, catalogue)]
        db.copy_in(cur, "eval.online_metrics", ("ds", *GROUP_KEYS, "metric", "k", "value", "n"), rows)
        lifts = {}
        for k in CTR_KS:
            lift = ctr_lift(frame, k, seed=ds.toordinal() + k)
            lifts[k] = lift
            db.copy_in(
                cur,
                "eval.online_lift",
                ("ds", *LIFT_COLUMNS),
                [
                    (
                        ds,
                        "ctr",
                        k,
                        lift.treatment,
                        lift.holdout,
                        lift.lift,
                        lift.ci_low,
                        lift.ci_high,
                        lift.users_treatment,
                        lift.users_holdout,
                    )
                ],
            )
    ten = lifts[10]
    log.info(
        "online %s: %d impressions, CTR@10 treatment %.4f holdout %.4f lift %s (95%% CI %s-%s)",
        ds,
        len(frame),
        ten.treatment,
        ten.holdout,
        fmt_ratio(ten.lift),
        fmt_ratio(ten.ci_low),
        fmt_ratio(ten.ci_high),
    )
    return {
        "impressions": len(frame),
        "ctr10_treatment": ten.treatment,
        "ctr10_holdout": ten.holdout,
        "lift": ten.lift,
        "ci_low": ten.ci_low,
        "ci_high": ten.ci_high,
    }


def lift_between(url: str, since: date, through: date, k: int = 10, seed: int = 0) -> Lift:
    """CTR@k lift pooled over shown days [since, through], resampling user-days."""
    with db.connect(url) as conn, conn.cursor() as cur:
        frame = db.read_frame(cur, "feedback_impressions_between", {"since": since, "through": through})
    if frame.empty:
        return Lift(0.0, 0.0, None, None, None, 0, 0)
    return ctr_lift(frame, k, seed)
