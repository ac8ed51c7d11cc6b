"""The loop wired into the daily stages (recpipeline.tasks, as the DAG runs them): the feedback task lands and
credits the shop's impressions, training reads them, scoring leaves dismissed items out, and the online gate
can refuse a model."""

from __future__ import annotations

import collections
from datetime import timedelta

import numpy as np
import pytest

from recpipeline import db, publish, tasks
from recpipeline.config import load_settings
from recpipeline.feedback.simulate import simulate
from recpipeline.model.artifact import TrainedModel
from tests.conftest import emptied

pytestmark = pytest.mark.slow  # a closed-loop simulation through the daily stages (about a minute)


@pytest.fixture(scope="module")
def looped(tmp_path_factory, pg_url):
    """Four organic days (the last one publishes), then two closed-loop days, through the daily stages."""
    url = emptied(pg_url)
    settings = load_settings(
        {
            "database_url": url,
            "home": tmp_path_factory.mktemp("loop"),
            "epochs": 6,
            "gate_baselines": "popularity",
        }
    )
    results = simulate("tiny", 7, days=2, warmup=4, settings=settings)
    return url, settings, results


def test_the_feedback_task_lands_credits_and_measures_the_shown_day(looped):
    url, settings, results = looped
    first = results[0]["ds"]
    assert results[0]["impressions"] > 0
    lift_sql = "SELECT treatment, holdout FROM eval.online_lift WHERE ds = %s AND metric = 'ctr' AND k = 10"
    with db.connect(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM clean.impressions WHERE ds = %s", (first,))
        assert cur.fetchone()[0] == results[0]["impressions"]
        cur.execute(lift_sql, (first,))
        ((treatment, holdout),) = cur.fetchall()
    # the next day's feedback task credited that day's early clicks to these impressions too: CTR only grows
    assert treatment >= results[0]["treatment"] and holdout >= results[0]["holdout"]
    again = tasks.feedback(first, settings)  # rerunning a day gives the same rows
    assert again["accepted"]["impressions"] == results[0]["impressions"]
    with db.connect(url) as conn, conn.cursor() as cur:
        cur.execute(lift_sql, (first,))
        assert cur.fetchall() == [(treatment, holdout)]


def test_training_reads_what_shoppers_did(looped):
    url, settings, results = looped
    day = results[1]["ds"]
    with_feedback = tasks.train(day, settings)
    without = tasks.train(day, settings.with_overrides({"feedback_training": False}))
    assert with_feedback["model_id"] != without["model_id"]  # the id says the feedback shaped the model
    a = TrainedModel.load(with_feedback["artifact"]).item_vectors()
    b = TrainedModel.load(without["artifact"]).item_vectors()
    assert not np.allclose(a, b)


def test_scoring_leaves_out_what_a_user_dismissed(looped):
    url, settings, results = looped
    day = results[1]["ds"]
    with db.connect(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM clean.feedback_events WHERE event_type = 'dismiss' AND ds <= %s", (day,))
        assert cur.fetchone()[0] > 0, "nobody dismissed anything: the test would prove nothing"
        cur.execute(
            "SELECT count(*) FROM recs.results r JOIN clean.feedback_events f ON f.user_id = r.user_id "
            "AND f.item_id = r.item_id AND f.event_type = 'dismiss' "
            "AND f.ds > r.ds - %(days)s AND f.ds <= r.ds WHERE r.ds = %(ds)s",
            {"ds": day, "days": settings.dismiss_days},
        )
        assert cur.fetchone()[0] == 0
    # without the exclusion, the model would have ranked some dismissed items again: the check is not vacuous
    off = settings.with_overrides({"dismiss_days": 0, "top_k": 50})
    trained = tasks.train(day, off)
    jobs = tasks.plan_scoring(day, off, trained)
    for job in jobs:
        tasks.score(day, off, job)
    with db.connect(url) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT count(*) FROM recs.results r JOIN clean.feedback_events f ON f.user_id = r.user_id "
            "AND f.item_id = r.item_id AND f.event_type = 'dismiss' AND f.ds <= r.ds "
            "WHERE r.ds = %(ds)s AND r.publish_id = %(p)s",
            {"ds": day, "p": jobs[0]["publish_id"]},
        )
        assert cur.fetchone()[0] > 0


def test_the_online_gate_refuses_a_model_when_the_live_group_lost_to_the_holdout(looped):
    url, settings, results = looped
    day = results[1]["ds"]
    with db.connect(url) as conn, conn.cursor() as cur:
        cur.execute(
            "UPDATE eval.online_lift SET treatment = 0.01, holdout = 0.10 WHERE ds = %s AND metric = 'ctr' AND k = 10",
            (day - timedelta(days=1),),
        )
    gated = settings.with_overrides({"online_gate": True})
    trained = tasks.train(day, gated)
    jobs = tasks.plan_scoring(day, gated, trained)
    for job in jobs:
        tasks.score(day, gated, job)
    verdict = tasks.evaluate(day, gated, trained)
    assert verdict["blessed"] is False and verdict["reason"].startswith("online gate:"), verdict
    with pytest.raises(publish.NotBlessed):
        tasks.publish_results(day, gated, trained, jobs)
    assert tasks.evaluate(day, settings, trained)["blessed"] is True  # off (the default): the offline gate alone


def test_the_report_and_the_overview_page_show_what_shoppers_did(looped):
    from recpipeline.evaluation.report import render as report_render
    from recpipeline.evaluation.report import report_context
    from recpipeline.ui import overview
    from recpipeline.ui import render as ui_render

    url, settings, results = looped
    day = results[1]["ds"]
    with db.connect(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT model_id FROM eval.gate_decisions WHERE ds = %s ORDER BY decided_at LIMIT 1", (day,))
        (model_id,) = cur.fetchone()
        cur.execute(
            "SELECT treatment, holdout FROM eval.online_lift WHERE ds = %s AND metric = 'ctr' AND k = 10", (day,)
        )
        treatment, holdout = cur.fetchone()
    html = report_render.render("report.html.j2", **report_context(url, day, model_id))
    assert "Online: what shoppers did with the lists" in html
    assert f"{treatment:.4f}" in html and f"{holdout:.4f}" in html
    page = overview.overview(url, day)
    view = page["detail"]["online"]
    assert {g["grp"] for g in view["groups"]} == {"treatment", "holdout"}
    # the holdout is shown trending by contract: its impressions never count for the model's lists
    assert {g["source"] for g in view["groups"] if g["grp"] == "holdout"} == {"trending", "all"}
    assert [h["ds"] for h in view["history"]] == [r["ds"] for r in reversed(results)]
    from recpipeline.ui.web import DAG_ID, PAGES, Viewer

    layout = {"title": "t", "page_title": "Overview", "base": "", "airflow": "", "dag_id": DAG_ID, "pages": PAGES}
    shown = ui_render.render(
        "overview.html.j2",
        **layout,
        current="overview",
        viewer=Viewer("analyst", False),
        runs=collections.defaultdict(lambda: "#"),
        known_runs=set(),
        **page,
    )
    assert "Online: what shoppers did with the lists shown on" in shown and f"{treatment:.4f}" in shown
    # a day nobody was shown anything says so instead of an empty table
    assert overview.online_for_day(url, day - timedelta(days=3)) is None
