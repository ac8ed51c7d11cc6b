"""
### recpipeline_category_top

Example consumer of the published recommendations: runs whenever `recpipeline_daily.publish` emits the
`recs/latest` asset and refreshes the materialised view `recs.category_top` (most recommended items per top
category). Reads `recs.latest` and `clean.items`; writes only `recs.category_top`. Safe to rerun at any time.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import Asset, dag, task

from recpipeline.runtime import PUBLISHED_ASSET_URI


@dag(
    dag_id="recpipeline_category_top",
    schedule=[Asset(PUBLISHED_ASSET_URI)],
    start_date=pendulum.datetime(2010, 1, 1, tz="UTC"),
    catchup=False,
    doc_md=__doc__,
    tags=["recpipeline", "example"],
)
def recpipeline_category_top():
    @task(multiple_outputs=False)
    def refresh() -> dict:
        """REFRESH MATERIALIZED VIEW recs.category_top (no logical date needed: it mirrors recs.latest)."""
        from recpipeline import db, publish
        from recpipeline.config import load_settings

        return publish.refresh_category_top(db.database_url(load_settings()))

    refresh()


recpipeline_category_top()
