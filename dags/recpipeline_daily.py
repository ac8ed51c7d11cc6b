"""
### recpipeline_daily

One run = one day (`ds`): the day's shop events and catalogue become ranked, explained recommendations in
PostgreSQL. The day is the `ds` Param if given, else the run's **logical date**; a run triggered without a
logical date processes the latest day with landed data.

`ingest >> data_quality >> feedback >> features >> train >> plan_scoring >> score (one per user shard)
>> evaluate >> publish`

* **Reads** landing files from `RECPIPE_LANDING_DIR/<ds>/` (or rows landed earlier with `recpipeline load`),
  and the shop's impressions / dismissals of the lists it showed (`impressions.csv`, `feedback.csv`), if any.
* **Writes** `raw`, `clean`, `dq`, `feedback`, `features`, `models`, `eval`, and `recs` (readers use `recs.latest`).
* **No data for the day**: `ingest` ends *skipped* with the reason and so does the rest: nothing to do is not
  a failure. **Gate rejection**: `publish` ends *skipped* with the gate's reason; `recs.latest` keeps the
  previous day. Red means broken.
* **Rerun a day** with other Params: trigger without a logical date and set `ds` (and e.g. `epochs`), or
  `recpipeline rerun --ds D --conf '{"epochs": 2}'`; every task replaces its own rows for `ds`, and the
  earlier run stays in the history.
* A failing data-quality check of severity `error` stops the run before training.
* The DAG is created paused: unpause it to start the nightly schedule.
"""

from __future__ import annotations

from datetime import date, timedelta

import pendulum
from airflow.sdk import Asset, CronDataIntervalTimetable, Param, dag, get_current_context, task
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

from recpipeline import tasks
from recpipeline.config import CELLS, RANGES, UNKNOWN_ITEM_POLICIES
from recpipeline.ingest import NoDataForDay
from recpipeline.publish import NotBlessed
from recpipeline.quality import DataQualityError
from recpipeline.runtime import PUBLISHED_ASSET_URI, requested_date, run_settings
from recpipeline.sources import LandingError

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
    "ds": Param(
        None,
        type=["null", "string"],
        format="date",
        description="Day to process (YYYY-MM-DD), e.g. to rerun a day with other Params. Empty: the run's logical "
        "date; a run triggered without one processes the latest day with landed data.",
    ),
    "top_k": _setting("top_k", "integer", "Recommendations per user."),
    "cell": _setting("cell", "string", "User tower: GRU, LSTM or causal self-attention (sasrec).", enum=[None, *CELLS]),
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


def _call(stage, landed: dict | None = None, *extra):
    """Run a stage for the run's day (from ingest once it has decided) and map its outcome onto Airflow:
    nothing to do or a gate rejection ends the task skipped; bad input or a failed data-quality check fails it
    at once; anything else (a lost database connection, a restart) is retried with backoff (DEFAULT_ARGS)."""
    context = get_current_context()
    try:
        ds = date.fromisoformat(landed["ds"]) if landed else requested_date(context)
        return stage(ds, run_settings(context, PARAMS), *extra)
    except (NoDataForDay, NotBlessed) as exc:
        raise AirflowSkipException(str(exc)) from exc
    except (DataQualityError, LandingError, ValueError) as exc:
        raise AirflowFailException(str(exc)) from exc


DEFAULT_ARGS = {
    "retries": 2,
    "retry_delay": timedelta(seconds=10),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=2),
}


@dag(
    dag_id="recpipeline_daily",
    schedule=CronDataIntervalTimetable("0 0 * * *", timezone="UTC"),
    start_date=pendulum.datetime(2010, 1, 1, tz="UTC"),  # early: runs for days before start_date run no tasks
    catchup=False,
    max_active_runs=1,
    is_paused_upon_creation=True,  # the schedule starts only when an operator unpauses it
    default_args=DEFAULT_ARGS,
    params=PARAMS,
    doc_md=__doc__,
    tags=["recpipeline"],
)
def recpipeline_daily():
    @task(multiple_outputs=False)
    def ingest() -> dict:
        """Land the day's events and catalogue into `raw` (COPY); nothing is dropped at the door. A day with
        no data skips the run (nothing to do is not a failure)."""
        return _call(tasks.ingest)

    @task(multiple_outputs=False)
    def data_quality(landed: dict) -> dict:
        """Validate `raw` into `clean`; quarantine bad rows in `dq.rejects`; fail on `error` checks."""
        return _call(tasks.data_quality, landed)

    @task(multiple_outputs=False)
    def feedback(landed: dict) -> dict:
        """Impressions and dismissals of `<ds>/impressions.csv` / `feedback.csv` (if any) validated into
        `feedback`, the day's clicks, carts and purchases credited to what was shown, online metrics into `eval`."""
        return _call(tasks.feedback, landed)

    @task(multiple_outputs=False)
    def features(landed: dict) -> dict:
        """Item content features and user behaviour sequences for the day into `features`."""
        return _call(tasks.build_features, landed)

    @task(multiple_outputs=False, queue="training", pool="training", execution_timeout=timedelta(hours=2))
    def train(landed: dict) -> dict:
        """Train the two-tower model on history before the day; register it in `models.registry`."""
        return _call(tasks.train, landed)

    @task(multiple_outputs=False)
    def plan_scoring(landed: dict, trained: dict) -> list[dict]:
        """Allocate a publish id and one scoring job per user shard."""
        return _call(tasks.plan_scoring, landed, trained)

    @task(multiple_outputs=False)
    def score(job: dict) -> dict:
        """Exact cosine Top-N for one user shard into the day's `recs.results` partition (unpublished)."""
        return _call(tasks.score, job, job)

    @task(multiple_outputs=False)
    def evaluate(landed: dict, trained: dict) -> dict:
        """Full-ranking metrics of the model and baselines on the day's behaviour; bless or reject."""
        return _call(tasks.evaluate, landed, trained)

    @task(outlets=[PUBLISHED], multiple_outputs=False)
    def publish(landed: dict, trained: dict, jobs: list[dict]) -> dict:
        """Swap the day into `recs.latest` in one transaction, only if the model was blessed; a model the gate
        did not bless ends this task skipped (with the gate's reason) and keeps the previous day live."""
        return _call(tasks.publish_results, landed, trained, jobs)

    landed = ingest()
    checked = data_quality(landed)
    built = features(landed)
    trained = train(landed)
    looped = feedback(landed)
    checked >> looped >> built >> trained
    jobs = plan_scoring(landed, trained)
    scored = score.expand(job=jobs)
    verdict = evaluate(landed, trained)
    scored >> verdict
    verdict >> publish(landed, trained, jobs)


recpipeline_daily()
