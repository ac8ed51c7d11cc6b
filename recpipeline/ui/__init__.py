"""RecPipeline pages for the Airflow UI (served by `plugins/recpipeline_plugin.py`), all fed from PostgreSQL.

Modules: `queries` (named `sql/queries/ui_*.sql` as dict rows), one data module per page (`overview`,
`quality`, `models`, `users`, `reports`: plain typed functions over a database URL, testable without Airflow),
`charts` (sparkline geometry and training-curve PNGs), `render` (a Jinja2 environment over `templates/` and the
evaluation report's templates), `web` (the FastAPI app; authentication is handed in by the plugin).
"""
