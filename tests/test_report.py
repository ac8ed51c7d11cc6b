"""The HTML evaluation report: self-contained, shows the verdict, the metrics, the trend and the recs plots."""

from __future__ import annotations

import base64
import html
import re
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from recpipeline import publish
from recpipeline.evaluation import report, store
from recpipeline.evaluation.gate import GateDecision
from recpipeline.evaluation.report import data, render

D1, D2 = date(2026, 10, 1), date(2026, 10, 2)
NDCG10 = {"model": 0.1353, "popularity": 0.0244, "trending": 0.0218, "cooccurrence": 0.1202}
IMG = re.compile(r"<img src=[\"']data:image/png;base64,([A-Za-z0-9+/=]+)[\"']")


def results_for(ndcg10: dict[str, float], users: int = 500) -> dict[str, dict[str, float]]:
    """A full metrics dict per method (what the evaluate stage stores), scaled around ndcg@10."""
    out = {}
    for i, (method, v) in enumerate(ndcg10.items()):
        r = {
            "users": float(users),
            "mrr": 1.6 * v,
            "coverage@10": 0.5 - 0.1 * i,
            "gini@10": 0.6 + 0.1 * i,
            "entropy@10": 9.0 - i,
            "novelty@10": 5.0 - 0.3 * i,
            "diversity@10": 0.6 + 0.05 * i,
        }
        for k, f in ((5, 0.9), (10, 1.0), (20, 1.15)):
            r.update(
                {
                    f"ndcg@{k}": v * f if k != 10 else v,
                    f"recall@{k}": 1.2 * v * f,
                    f"precision@{k}": 0.5 * v / f,
                    f"map@{k}": 0.6 * v,
                    f"hit_rate@{k}": min(1.0, 3 * v * f),
                }
            )
        out[method] = r
    return out


def store_run(
    url: str, ds: date, model_id: str, ndcg10: dict[str, float], blessed: bool = True, reason: str | None = None
) -> None:
    """Record a day's metrics and gate decision the way the evaluate task does."""
    best = max((m for m in ndcg10 if m != "model"), key=ndcg10.get)
    reason = reason or f"ndcg@10 {ndcg10['model']:.4f} beats {best} {ndcg10[best]:.4f}"
    decision = GateDecision(blessed, "ndcg@10", ndcg10["model"], best, ndcg10[best], None, reason)
    store.store(url, ds, model_id, results_for(ndcg10), decision)


def publish_recs(url: str, ds: date, model_id: str, users: int = 60, cold: int = 10, k: int = 10) -> None:
    """Score `users` users by the model (Zipf-ish item choice) and `cold` users by trending, then publish."""
    publish_id = publish.plan_scoring(url, ds)
    rng = np.random.default_rng(0)
    item_ids = np.array([""] + [f"i{n}" for n in range(1, 300)], dtype=object)
    p = 1.0 / np.arange(1, 300)
    items = np.stack([rng.choice(np.arange(1, 300), k, replace=False, p=p / p.sum()) for _ in range(users)])
    scores = np.sort(rng.uniform(0.2, 0.8, (users, k)).astype(np.float32), axis=1)[:, ::-1]
    none = np.full(items.shape, -1)
    nan = np.full(items.shape, np.nan, dtype=np.float32)
    model = publish.result_rows(
        ds, publish_id, 0, model_id, [f"u{n}" for n in range(users)], item_ids, items, scores, none, nan, "model"
    )
    grid = np.tile(np.arange(1, k + 1), (cold, 1))
    trend_scores = np.tile(np.linspace(1.0, 0.0, k, endpoint=False, dtype=np.float32), (cold, 1))
    trending = publish.result_rows(
        ds,
        publish_id,
        0,
        model_id,
        [f"c{n}" for n in range(cold)],
        item_ids,
        grid,
        trend_scores,
        none[:cold],
        nan[:cold],
        "trending",
    )
    publish.write_shard(url, ds, publish_id, 0, [model, trending])
    publish.publish_day(url, ds, publish_id, model_id)


def images(text: str) -> list[bytes]:
    """The decoded embedded images of a report."""
    return [base64.b64decode(m) for m in IMG.findall(text)]


def test_report_is_self_contained_with_verdict_metrics_and_three_plots(fresh_db, workdir: Path):
    store_run(fresh_db, D1, "m1", {"model": 0.12, "popularity": 0.03, "trending": 0.02, "cooccurrence": 0.10})
    store_run(fresh_db, D2, "m2", NDCG10)
    publish_recs(fresh_db, D2, "m2")
    extras = report.ReportExtras({"popularity": np.r_[np.full(10, 50), np.zeros(289, dtype=int)]}, k=10)
    path = report.write_report(fresh_db, D2, "m2", workdir, extras)
    assert path == workdir / "reports" / "2026-10-02" / "m2" / "index.html" == report.report_path(workdir, D2, "m2")
    text = path.read_text()
    assert not re.search(r"(src|href)\s*=\s*['\"]?\s*(https?:)?//", text, re.I)
    assert "<script" not in text and "<link" not in text
    assert "BLESSED" in text and "NOT BLESSED" not in text
    assert html.escape("ndcg@10 0.1353 beats cooccurrence 0.1202") in text
    for value in NDCG10.values():
        assert f">{value:.4f}</td>" in text
    pngs = images(text)
    assert len(pngs) == 3 and all(p.startswith(b"\x89PNG") for p in pngs)
    assert "Only one run" not in text
    assert report.latest_report_path(fresh_db, D2, workdir) == path
    assert report.latest_report_path(fresh_db, D1, workdir) is None  # evaluated but no report written


def test_single_run_says_so_instead_of_an_empty_chart(fresh_db, workdir: Path):
    store_run(fresh_db, D1, "m1", NDCG10)
    publish_recs(fresh_db, D1, "m1")
    text = report.write_report(fresh_db, D1, "m1", workdir).read_text()
    assert "Only one run so far" in text
    assert len(images(text)) == 2  # scores and long tail


def test_not_blessed_renders_the_reason_and_missing_recs_are_noted(fresh_db, workdir: Path):
    reason = "ndcg@10 0.1000 does not beat cooccurrence 0.1202 by 5% (needs > 0.1262)"
    store_run(fresh_db, D1, "m1", {"model": 0.11, "popularity": 0.02, "trending": 0.02, "cooccurrence": 0.10})
    store_run(fresh_db, D2, "m2", {**NDCG10, "model": 0.1}, blessed=False, reason=reason)
    text = report.write_report(fresh_db, D2, "m2", workdir).read_text()
    assert "NOT BLESSED" in text and html.escape(reason) in text
    assert "No recommendations in recs.results" in text
    assert len(images(text)) == 1  # only the trend


def test_missing_evaluation_is_an_error(fresh_db, workdir: Path):
    with pytest.raises(LookupError, match="no evaluation"):
        report.write_report(fresh_db, D1, "nope", workdir)
    assert report.latest_report_path(fresh_db, D1, workdir) is None


def test_number_helpers():
    assert data.best_methods({"model": 0.6, "popularity": 0.99}, "gini") == {"model"}
    assert data.best_methods({"model": 0.6, "popularity": 0.99}, "coverage") == {"popularity"}
    counts = np.r_[[50] * 2, [1] * 98, [0] * 100]  # 200-item catalogue: top 1% = 2 items
    assert data.head_share(counts, 200, 0.01) == pytest.approx(100 / 198)
    change, good = data.lift_vs_best_baseline({"model": 0.6, "popularity": 0.8, "trending": 0.9}, "gini")
    assert change == pytest.approx(-0.25) and good
    assert data.fmt(0.123456) == "0.1235" and data.fmt(float("nan")) == "–"


def test_import_is_cheap():
    import subprocess
    import sys

    code = "import sys, recpipeline.evaluation.report; print(any(m.startswith('matplotlib') for m in sys.modules))"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout == "False\n"


def test_names_from_the_database_are_escaped():
    evil_model, evil_method = "m<script>alert(1)</script>", "<script>alert(2)</script>"
    table = {("ndcg", 10): {"model": 0.2, "popularity": 0.1, evil_method: 0.15}, ("gini", 10): {"model": 0.5}}
    decision = GateDecision(True, "ndcg@10", 0.2, evil_method, 0.15, None, "beats <script>alert(3)</script>")
    history = [(D1, evil_model, True, 0.2, evil_method, 0.15)]
    run = data.ReportData(
        D1,
        evil_model,
        table,
        users=10,
        decision=decision,
        gate_metric="ndcg@10",
        history=history,
        attempt=None,
        score_edges=np.zeros(0),
        score_counts={},
        item_counts=None,
        catalogue=0,
    )
    text = render.render("report.html.j2", **data.page_context(run))
    assert "<script" not in text
    assert html.escape(evil_model, quote=False) in text and html.escape(evil_method, quote=False) in text
    assert f"<th>{html.escape(evil_method, quote=False)}</th>" in text  # an unregistered method is a column too
    assert "Only one run so far (2026-10-01)" in text and "No model recommendations" in text


HTML_TAG = re.compile(
    r"</?(html|head|body|main|table|thead|tbody|tr|td|th|div|span|style|script|img|figure|"
    r"figcaption|dl|dt|dd|h[1-6]|footer|code|ul|li)\b[^<]*?>|<!DOCTYPE",
    re.I,
)
CSS_RULE = re.compile(r"[\w.#\]*:>-]\s*\{\s*[a-z-]+\s*:\s*[^;{}\n]+;")


def test_no_html_or_css_in_python_files():
    root = Path(__file__).resolve().parents[1]
    offenders = []
    for folder in ("recpipeline", "dags", "plugins"):
        for path in sorted((root / folder).rglob("*.py")) if (root / folder).is_dir() else ():
            text = path.read_text(encoding="utf-8")
            for pattern in (HTML_TAG, CSS_RULE):
                offenders += [f"{path.relative_to(root)}: {m.group(0)[:60]!r}" for m in pattern.finditer(text)]
    assert not offenders, "markup and styles belong in recpipeline/evaluation/report/templates:\n" + "\n".join(
        offenders
    )
