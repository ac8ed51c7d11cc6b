"""
### recpipeline_refresh

Within-day micro-batch refresh (`recpipeline.refresh`): every 10 minutes, and whenever the asset
`recpipeline_microbatch` gets an event (a producer dropped files into `RECPIPE_LANDING_DIR/<ds>/microbatch/`),
one task takes the events that arrived since the last refresh, exactly once, from the intake table
`raw.intake_events` (services INSERT into it as `recpipeline_writer`) and from new micro-batch files
(`events*.csv|parquet`, written aside and renamed into place), validates them with the daily data-quality rules,
re-encodes the users they concern with the live model (numpy, no TensorFlow) and swaps just those users' lists
in `recs.latest` (`source = 'refresh'`, `refreshed_at` set), all in one transaction.

* The daily run stays the authority: its publish replaces every refreshed list; a refresh and a publish never
  interleave (the refresh holds a share lock on `recs.current`, which publish locks for update).
* Nothing published yet: the events are still taken and validated; nobody is re-encoded.
* Created paused: unpause it to start refreshing. Runs take no Params.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import Asset, AssetOrTimeSchedule, CronTriggerTimetable, dag, get_current_context, task

from recpipeline.runtime import run_settings

# Producers of micro-batch files emit this asset (an outlet of their DAG, or POST /api/v2/assets/events).
MICROBATCH = Asset(name="recpipeline_microbatch", uri="file:///recpipeline/landing/microbatch")


@dag(
    dag_id="recpipeline_refresh",
    schedule=AssetOrTimeSchedule(
        timetable=CronTriggerTimetable("*/10 * * * *", timezone="UTC"),
        assets=MICROBATCH,
    ),
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    is_paused_upon_creation=True,
    dagrun_timeout=timedelta(minutes=15),
    doc_md=__doc__,
    tags=["recpipeline"],
)
def recpipeline_refresh():
    @task(multiple_outputs=False, execution_timeout=timedelta(minutes=10), retries=2, retry_delay=timedelta(seconds=30))
    def refresh() -> dict:
        """Take new intake rows and micro-batch files once, validate, re-encode their users, swap their lists."""
        from recpipeline.refresh import refresh_task

        return refresh_task(run_settings(get_current_context(), ()))

    refresh()


recpipeline_refresh()
