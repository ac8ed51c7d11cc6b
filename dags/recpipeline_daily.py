"""
### recpipeline_daily

One run = one day (`ds`, the run's **logical date**): the day's shop events and catalogue become ranked,
explained recommendations in PostgreSQL.

`ingest >> data_quality >> features >> train >> plan_scoring >> score (one per user shard) >> evaluate >> publish`

* **Reads** landing files from `RECPIPE_LANDING_DIR/<ds>/` (or rows landed earlier with `recpipeline load`).
* **Writes** `raw`, `clean`, `dq`, `features`, `models`, `eval`, and `recs` (readers use `recs.latest`).
* **Rerun a day** by clearing its run: every task replaces its own rows for `ds`; `recs.latest` only changes
  when `publish` succeeds, and only when `evaluate` blessed the model.
* A failing data-quality check of severity `error` stops the run before training.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import Asset, CronDataIntervalTimetable, Param, dag, get_current_context, task

from recpipeline import tasks
from recpipeline.config import CELLS, RANGES, UNKNOWN_ITEM_POLICIES
from recpipeline.runtime import PUBLISHED_ASSET_URI, run_date, run_settings

PUBLISHED = Asset(PUBLISHED_ASSET_URI)


def _setting(name: str, kind: str, description: str, **schema) -> Param:
    """A run Param over the setting `name`; null (the default) keeps the RECPIPE_* / built-in value (see README).
    Numeric bounds come from config.RANGES, the one home of every setting's range."""
    bounds = RANGES.get(name)
    if bounds is not None and bounds.lo is not None:
        schema["exclusiveMinimum" if bounds.lo_open else "minimum"] = bounds.lo
    if bounds is not None and bounds.hi is not None:
        schema["exclusiveMaximum" if bounds.hi_open else "maximum"] = bounds.hi
    return Param(None, type=["null", kind], description=f"{description} Empty: the deployment default.", **schema)


PARAMS = {
    "top_k": _setting("top_k", "integer", "Recommendations per user."),
    "cell": _setting("cell", "string", "Recurrent cell of the user tower.", enum=[None, *CELLS]),
    "embedding_dim": _setting("embedding_dim", "integer", "Vector size of both towers."),
    "epochs": _setting("epochs", "integer", "Upper bound on training epochs."),
    "seq_len": _setting("seq_len", "integer", "Interactions the user tower reads."),
    "shards": _setting("shards", "integer", "Parallel scoring tasks (user shards); 0 = one per users_per_shard."),
    "gate_margin": _setting("gate_margin", "number", "Relative lift over the best baseline required to publish."),
    "unknown_items": _setting(
        "unknown_items",
        "string",
        "Events on items not in the catalogue: accept and warn, or reject.",
        enum=[None, *UNKNOWN_ITEM_POLICIES],
    ),
    "max_reject_rate": _setting("max_reject_rate", "number", "Data quality fails above this share of rejected rows."),
    "min_volume_ratio": _setting(
        "min_volume_ratio", "number", "Data quality fails below this day volume / trailing median."
    ),
    "random_model": _setting("random_model", "boolean", "Gate drill: replace the model's vectors with random noise."),
}


def _ctx():
    context = get_current_context()
    return run_date(context), run_settings(context, PARAMS)


@dag(
    dag_id="recpipeline_daily",
    schedule=CronDataIntervalTimetable("0 0 * * *", timezone="UTC"),
    start_date=pendulum.datetime(2010, 1, 1, tz="UTC"),  # early: runs for days before start_date run no tasks
    catchup=False,
    max_active_runs=1,
    params=PARAMS,
    doc_md=__doc__,
    tags=["recpipeline"],
)
def recpipeline_daily():
    @task(multiple_outputs=False)
    def ingest() -> dict:
        """Land the day's events and catalogue into `raw` (COPY); nothing is dropped at the door."""
        return tasks.ingest(*_ctx())

    @task(multiple_outputs=False)
    def data_quality() -> dict:
        """Validate `raw` into `clean`; quarantine bad rows in `dq.rejects`; fail on `error` checks."""
        return tasks.data_quality(*_ctx())

    @task(multiple_outputs=False)
    def features() -> dict:
        """Item content features and user behaviour sequences for the day into `features`."""
        return tasks.build_features(*_ctx())

    @task(multiple_outputs=False, queue="training", pool="training", execution_timeout=timedelta(hours=2))
    def train() -> dict:
        """Train the two-tower model on history before the day; register it in `models.registry`."""
        return tasks.train(*_ctx())

    @task(multiple_outputs=False)
    def plan_scoring(trained: dict) -> list[dict]:
        """Allocate a publish id and one scoring job per user shard."""
        return tasks.plan_scoring(*_ctx(), trained)

    @task(multiple_outputs=False)
    def score(job: dict) -> dict:
        """Exact cosine Top-N for one user shard into the day's `recs.results` partition (unpublished)."""
        return tasks.score(*_ctx(), job)

    @task(multiple_outputs=False)
    def evaluate(trained: dict) -> dict:
        """Full-ranking metrics of the model and baselines on the day's behaviour; bless or reject."""
        return tasks.evaluate(*_ctx(), trained)

    @task(outlets=[PUBLISHED], multiple_outputs=False)
    def publish(trained: dict, jobs: list[dict]) -> dict:
        """Swap the day into `recs.latest` in one transaction, only if the model was blessed."""
        return tasks.publish_results(*_ctx(), trained, jobs)

    trained = train()
    jobs = plan_scoring(trained)
    scored = score.expand(job=jobs)
    ingest() >> data_quality() >> features() >> trained
    verdict = evaluate(trained)
    scored >> verdict
    verdict >> publish(trained, jobs)


recpipeline_daily()
