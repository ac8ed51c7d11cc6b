"""The DAG's tasks as wiring: each takes the run's ds and Settings, calls one stage function, returns a small dict.

DAG files call these in one line each; tests call them without Airflow. Data moves through PostgreSQL and
the artifact folder; only these summaries travel by XCom. The logic lives in the stages:
`ingest`, `quality`, `feedback.stage` (feedback), `features`, `model.daily` (train), `publish` (plan, publish),
`shard_scoring` (score) and `evaluation.daily` (evaluate).
"""

from __future__ import annotations

import logging
from datetime import date

from recpipeline import db, features, publish, quality
from recpipeline.config import Settings
from recpipeline.ingest import land_day

log = logging.getLogger(__name__)


def ingest(ds: date | None, settings: Settings) -> dict:
    """Land the day's canonical files (no day: the latest landed); its "ds" is the run's day from here on."""
    return land_day(db.database_url(settings), settings.landing, ds)


def data_quality(ds: date, settings: Settings) -> dict:
    """Validate the day's raw rows into clean, quarantining the bad ones."""
    report = quality.validate_day(db.database_url(settings), ds, settings)
    return {
        "landed": report.landed,
        "accepted": report.accepted,
        "rejected": report.rejected,
        "warnings": [c.name for c in report.checks if c.status == "warn"],
    }


def feedback(ds: date, settings: Settings) -> dict:
    """Land and validate the day's impressions and dismissals, credit the day's events to what was shown,
    and (re)compute the online metrics (what shoppers did with the lists)."""
    from recpipeline.feedback.stage import feedback_day

    return feedback_day(db.database_url(settings), ds, settings)


def build_features(ds: date, settings: Settings) -> dict:
    """Item content features and user behaviour sequences of the day."""
    return features.build_features(db.database_url(settings), ds, settings)


def train(ds: date, settings: Settings) -> dict:
    """Train on interactions before ds and register the model."""
    from recpipeline.model.daily import train_day

    return train_day(db.database_url(settings), ds, settings)


def plan_scoring(ds: date, settings: Settings, trained: dict) -> list[dict]:
    """One scoring job per user shard, all under a fresh publish_id."""
    url = db.database_url(settings)
    shards = settings.shards or publish.shard_count(
        features.count_active_users(url, ds, settings), settings.users_per_shard
    )
    publish_id = publish.plan_scoring(url, ds)
    log.info("plan_scoring %s: publish_id %d, %d shard(s)", ds, publish_id, shards)
    return [
        {
            "ds": ds.isoformat(),
            "shard": s,
            "shards": shards,
            "publish_id": publish_id,
            "model_id": trained["model_id"],
            "artifact": trained["artifact"],
        }
        for s in range(shards)
    ]


def score(ds: date, settings: Settings, job: dict) -> dict:
    """Exact cosine Top-N for one user shard, with explanations; cold users get trending items."""
    from recpipeline.shard_scoring import score_shard

    return score_shard(db.database_url(settings), ds, settings, job)


def evaluate(ds: date, settings: Settings, trained: dict) -> dict:
    """Model vs baselines on the day's new interactions (same users); the gate decision and report."""
    from recpipeline.evaluation.daily import evaluate_day

    return evaluate_day(db.database_url(settings), ds, settings, trained["model_id"], trained["artifact"])


def publish_results(ds: date, settings: Settings, trained: dict, jobs: list[dict]) -> dict:
    """Publish the day only if evaluate blessed the model (else publish.NotBlessed), then refresh what follows it."""
    return publish.publish_stage(
        db.database_url(settings), ds, jobs[0]["publish_id"], trained["model_id"], len(jobs), settings.artifacts
    )
