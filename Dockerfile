# RecPipeline image for docker-compose.yml: the project and exactly uv.lock in /opt/recpipeline/.venv.
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    UV_PYTHON_DOWNLOADS=never \
    UV_LINK_MODE=copy \
    AIRFLOW_HOME=/opt/airflow \
    PATH=/opt/recpipeline/.venv/bin:$PATH

RUN pip install --no-cache-dir uv==0.13.9 \
    && useradd --create-home --uid 50000 airflow \
    && mkdir -p /opt/airflow/config /opt/airflow/logs /data/artifacts /data/landing \
    && chown -R airflow /opt/airflow /data

WORKDIR /opt/recpipeline
# Dependencies first (cached layer), then the project itself.
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project
COPY recpipeline ./recpipeline
COPY sql ./sql
COPY dags ./dags
# plugins/ may be empty (untracked by git): docker-compose.yml mounts ./dags and ./plugins over these.
RUN mkdir -p plugins && uv sync --frozen --no-dev && chown -R airflow /opt/recpipeline

USER airflow
