"""The DAG's tasks as plain functions: each takes the run's ds and Settings and returns a small summary.

DAG files call these in one line each; tests call them without Airflow. Data moves through PostgreSQL and
the artifact folder; only these summaries travel by XCom.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np

from recpipeline import db, evaluation, features, publish, quality, registry, scoring
from recpipeline.config import Settings
from recpipeline.events import EVENT_CODES
from recpipeline.loo import item_counts

log = logging.getLogger(__name__)


def ingest(ds: date, settings: Settings) -> dict:
    """Land the day's canonical files from the landing folder; a day landed earlier (CLI) is kept."""
    from recpipeline import sources

    url = db.database_url(settings)
    folder = settings.landing / ds.isoformat()
    if folder.is_dir():
        results = sources.land(url, "canonical", folder, ds=ds)
        summary = {r.target: r.rows for r in results}
        log.info("ingest %s: landed %s from %s", ds, summary, folder)
        return {"source": str(folder), **summary}
    with db.connect(url) as conn, conn.cursor() as cur:
        landed = {t: int(n) for t, _, n in db.fetch_all(cur, "raw_loads_for_day", {"ds": ds})}
    if not landed.get("events"):
        raise FileNotFoundError(
            f"no landing folder {folder} and nothing landed for {ds}: put events.csv/items.csv there "
            f"or run `recpipeline load --format ... PATH --ds {ds}`"
        )
    log.info("ingest %s: no landing folder; using rows landed earlier %s", ds, landed)
    return {"source": "already landed", **landed}


def data_quality(ds: date, settings: Settings) -> dict:
    report = quality.validate_day(db.database_url(settings), ds, settings)
    return {"landed": report.landed, "accepted": report.accepted, "rejected": report.rejected,
            "warnings": [c.name for c in report.checks if c.status == "warn"]}


def build_features(ds: date, settings: Settings) -> dict:
    return features.build_features(db.database_url(settings), ds, settings)


def day_start_epoch(ds: date) -> int:
    """Unix seconds of `ds` 00:00 UTC: where a day's history ends for training and evaluation."""
    return int(quality.day_bounds(ds)[0].timestamp())


def model_id_for(ds: date, settings: Settings) -> str:
    """Deterministic per (ds, model settings): a rerun of a day re-registers the same model id."""
    relevant = {k: v for k, v in settings.public_dict().items()
                if k not in ("home", "artifact_root", "landing_dir", "shards")}
    digest = hashlib.sha1(json.dumps(relevant, sort_keys=True).encode()).hexdigest()[:8]
    return f"{ds:%Y%m%d}-{settings.cell}-{digest}"


def _content(items: features.ItemTable):
    from recpipeline.model import ItemContent

    return ItemContent(tokens=items.content_tokens, vocab_size=len(items.vocab) + 1)


def train(ds: date, settings: Settings) -> dict:
    """Train on interactions before ds (the last one per user held out for early stopping); register it."""
    from recpipeline.model import ModelParams, TrainingSet
    from recpipeline.model import train as fit

    url = db.database_url(settings)
    items = features.load_item_table(url, ds)
    history = features.load_sequences(url, ds).before(day_start_epoch(ds), min_len=2)
    if len(history) == 0:
        raise RuntimeError(f"no user has 2+ interactions before {ds}: nothing to train on")
    train_items, train_events, val_hist, val_events, val_targets = [], [], [], [], []
    for it, ev in zip(history.items, history.events, strict=True):
        if len(it) >= 3:
            val_hist.append(it[:-1])
            val_events.append(ev[:-1])
            val_targets.append(it[-1])
            it, ev = it[:-1], ev[:-1]
        train_items.append(it)
        train_events.append(ev)
    counts = item_counts(train_items, items.n_items)
    params = ModelParams.from_settings(settings)
    data = TrainingSet(n_items=items.n_items, sequences=train_items, events=train_events,
                       content=_content(items), item_counts=counts)
    validation = (val_hist, val_events, np.asarray(val_targets)) if val_targets else None
    log.info("train %s: %d users, %d interactions, %d items, %d validation users, cell %s",
             ds, len(train_items), int(counts.sum()), items.n_items, len(val_targets), settings.cell)
    model = fit(data, params, validation=validation, log=log.info)

    model_id = model_id_for(ds, settings)
    artifact = settings.artifacts / "models" / model_id
    model.save(artifact)
    (artifact / "vocab.json").write_text(json.dumps(items.vocab))
    last = model.history[-1] if model.history else {}
    metrics = {"epochs": len(model.history), "final_loss": last.get("loss"),
               "val_ndcg@10": max((h.get("val_ndcg@10") or 0.0 for h in model.history), default=None)}
    first_ts = min(int(t[0]) for t in history.ts)
    registry.register(url, model_id, ds, settings.cell, settings.public_dict(),
                      datetime.fromtimestamp(first_ts, UTC),
                      datetime.fromtimestamp(day_start_epoch(ds), UTC), metrics, str(artifact))
    _write_item_embeddings(url, ds, model_id, items, model.item_vectors(_content(items)))
    log.info("registered model %s (%s epochs, final loss %s) at %s", model_id, metrics["epochs"],
             metrics["final_loss"], artifact)
    return {"model_id": model_id, "artifact": str(artifact), **metrics}


def _vector_rows(ids, vectors: np.ndarray, prefix: tuple):
    for key, vec in zip(ids, vectors, strict=True):
        yield (*prefix, key, db.pg_array(f"{x:.6g}" for x in vec))


def _write_item_embeddings(url: str, ds: date, model_id: str, items: features.ItemTable, vecs: np.ndarray):
    with db.connect(url) as conn, conn.cursor() as cur:
        db.execute(cur, "features_clear_item_embeddings", {"ds": ds, "model_id": model_id})
        db.copy_in(cur, "features.item_embeddings", ("ds", "model_id", "item_id", "vector"),
                   _vector_rows(items.item_ids[1:], vecs[1:], (ds, model_id)))


def _write_user_embeddings(url: str, ds: date, model_id: str, shard: int, shards: int, user_ids, vecs) -> None:
    """Replace this shard's user vectors (same hash sharding as features_load_sequences)."""
    with db.connect(url) as conn, conn.cursor() as cur:
        db.execute(cur, "features_clear_user_embeddings",
                   {"ds": ds, "model_id": model_id, "shard": shard, "shards": shards})
        db.copy_in(cur, "features.user_embeddings", ("ds", "model_id", "user_id", "vector"),
                   _vector_rows(user_ids, vecs, (ds, model_id)))


def load_model(artifact: str):
    from recpipeline.model import TrainedModel

    path = Path(artifact)
    return TrainedModel.load(path), json.loads((path / "vocab.json").read_text())


def plan_scoring(ds: date, settings: Settings, trained: dict) -> list[dict]:
    """One job per user shard, all under a fresh publish_id (see recpipeline.publish).

    The shard count is the `shards` setting, or with 0, one shard per `users_per_shard` active users.
    """
    url = db.database_url(settings)
    shards = settings.shards
    if shards == 0:
        active = features.count_active_users(url, ds, settings)
        shards = publish.shard_count(active, settings.users_per_shard)
        log.info("plan_scoring %s: %d active users -> %d shards of up to %d users", ds, active, shards,
                 settings.users_per_shard)
    publish_id = publish.plan_scoring(url, ds)
    return [{"shard": s, "shards": shards, "publish_id": publish_id, "model_id": trained["model_id"],
             "artifact": trained["artifact"]} for s in range(shards)]


def trending_items(url: str, ds: date, k: int) -> list[str]:
    with db.connect(url) as conn, conn.cursor() as cur:
        since = ds - timedelta(days=evaluation.TRENDING_WINDOW_DAYS - 1)
        rows = db.fetch_all(cur, "recs_trending", {"ds": ds, "since": since, "k": k})
    return [r[0] for r in rows]


def score(ds: date, settings: Settings, job: dict) -> dict:
    """Exact cosine Top-N for one user shard, with explanations; cold users get trending items."""
    url = db.database_url(settings)
    shard, shards = job["shard"], job["shards"]
    model, vocab = load_model(job["artifact"])
    items = features.load_item_table(url, ds, vocab=vocab)
    item_vecs = scoring.normalise(model.item_vectors(_content(items)))
    seqs = features.load_sequences(url, ds, shard, shards)
    user_vecs = scoring.normalise(model.user_vectors(seqs.items, seqs.events)) if len(seqs) else np.zeros((0, 1))
    purchase = EVENT_CODES["purchase"]
    exclude = ([it[ev == purchase] for it, ev in zip(seqs.items, seqs.events, strict=True)]
               if settings.exclude_purchased else None)
    top = scoring.top_n(user_vecs, item_vecs, settings.top_k, exclude=exclude, sellable=items.in_stock)
    reasons, reason_scores = scoring.explain(top.items, seqs.items, item_vecs)
    buffers = [publish.result_rows(ds, job["publish_id"], shard, job["model_id"], seqs.user_ids,
                                       items.item_ids, top.items, top.scores, reasons, reason_scores, "model")]

    known = set(seqs.user_ids)
    cold = [u for u in features.active_users(url, ds, settings, shard, shards) if u not in known]
    if cold:
        trend = trending_items(url, ds, settings.top_k)
        index = {item_id: i for i, item_id in enumerate(items.item_ids)}
        trend_idx = np.array([index[t] for t in trend], dtype=np.int64)
        n = len(trend_idx)
        grid = np.tile(trend_idx, (len(cold), 1))
        ranks_score = np.tile(np.linspace(1.0, 0.0, n, endpoint=False, dtype=np.float32), (len(cold), 1))
        none = np.full(grid.shape, -1, dtype=np.int64)
        buffers.append(publish.result_rows(ds, job["publish_id"], shard, job["model_id"], cold,
                                               items.item_ids, grid, ranks_score, none,
                                               np.full(grid.shape, np.nan, dtype=np.float32), "trending"))
    started = time.perf_counter()
    rows = publish.write_shard(url, ds, job["publish_id"], shard, buffers)
    seconds = time.perf_counter() - started
    _write_user_embeddings(url, ds, job["model_id"], shard, shards, seqs.user_ids, user_vecs)
    summary = {"shard": shard, "users_model": len(seqs), "users_trending": len(cold), "rows": rows}
    log.info("score %s shard %d/%d: %d users by model, %d cold users by trending, %d rows staged in %.1fs "
             "(%.0f rows/s)", ds, shard + 1, shards, len(seqs), len(cold), rows, seconds, rows / max(seconds, 1e-9))
    return summary


def publish_results(ds: date, settings: Settings, trained: dict, jobs: list[dict]) -> dict:
    """Publish the day only if evaluate blessed the model; otherwise fail loudly and keep recs.latest."""
    url = db.database_url(settings)
    record = registry.get(url, trained["model_id"])
    if record.status != "blessed":
        raise RuntimeError(
            f"model {record.model_id} is {record.status}, not blessed ({record.reason}); "
            f"recs.latest keeps the previously published day"
        )
    return publish.publish_day(url, ds, jobs[0]["publish_id"], trained["model_id"], shards=len(jobs))


def _previous_model_metric(url: str, ds: date, settings: Settings, data, items: features.ItemTable) -> float | None:
    """The last blessed model's gate metric on today's users, ranking in its own day's catalogue."""
    from recpipeline import metrics

    record = registry.last_blessed(url, ds)
    if record is None:
        return None
    model, vocab = load_model(record.artifact_uri)
    old_items = features.load_item_table(url, record.ds, vocab=vocab)
    old_index = {item_id: i for i, item_id in enumerate(old_items.item_ids) if i}
    new_index = {item_id: i for i, item_id in enumerate(items.item_ids) if i}
    to_old = np.array([old_index.get(i, 0) for i in items.item_ids], dtype=np.int64)
    history = [to_old[h][to_old[h] > 0] for h in data.history]
    events = [e[to_old[h] > 0] for h, e in zip(data.history, data.history_events, strict=True)]
    ranked = scoring.top_n(scoring.normalise(model.user_vectors(history, events)),
                           scoring.normalise(model.item_vectors(_content(old_items))), max(evaluation.KS),
                           exclude=history).items
    ranked = evaluation.remap_ranking(ranked, old_items.item_ids, new_index)
    key = f"{settings.gate_metric}@{settings.eval_k}"
    value = metrics.ranking_report(ranked, data.relevant, (settings.eval_k,))[key]
    log.info("last blessed model %s (%s) on today's users: %s@%d %.4f", record.model_id, record.ds,
             settings.gate_metric, settings.eval_k, value)
    return float(value)


def evaluate(ds: date, settings: Settings, trained: dict) -> dict:
    """Model vs baselines on the day's new interactions (same users); record metrics and the gate decision."""
    url = db.database_url(settings)
    model, vocab = load_model(trained["artifact"])
    items = features.load_item_table(url, ds, vocab=vocab)
    seqs = features.load_sequences(url, ds)
    cutoff = day_start_epoch(ds)
    data = evaluation.chronological_split(seqs.items, seqs.events, seqs.ts, cutoff)
    if not data.relevant:
        raise RuntimeError(f"no user with history before {ds} interacted with a new item on {ds}: cannot evaluate")
    k = max(evaluation.KS)
    item_vecs = model.item_vectors(_content(items))
    rankings = {"model": evaluation.model_ranking(model.user_vectors(data.history, data.history_events),
                                                  item_vecs, data, k)}
    rankings.update(evaluation.baseline_rankings(data, k, cutoff))
    counts = evaluation.top10_counts(rankings, items.n_items)
    results = evaluation.method_metrics(rankings, data, items.n_items, item_vecs, counts)
    previous = _previous_model_metric(url, ds, settings, data, items)
    decision = evaluation.gate(results, settings, previous)
    evaluation.store(url, ds, trained["model_id"], results, decision)
    key = decision.metric
    registry.decide(url, trained["model_id"], decision.blessed, decision.reason,
                    {m: r[key] for m, r in results.items()})
    for line in evaluation.report_lines(url, ds, compact=True):
        log.info("%s", line)
    from recpipeline import report

    extras = report.ReportExtras(counts, k=10)
    path = report.write_report(url, ds, trained["model_id"], settings.artifacts, extras)
    log.info("evaluation report: %s", path)
    return {"blessed": decision.blessed, "reason": decision.reason, "users": int(results["model"]["users"]),
            **{f"{m}_{key}": round(r[key], 6) for m, r in results.items()}}
