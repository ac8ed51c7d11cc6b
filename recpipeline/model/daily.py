"""The train stage: fit the two-tower model on everything before the day, save it, register it.

Each user's last interaction before the day is held out for early stopping (`loo.hold_out_last`); the item
vectors of the day's catalogue go to `features.item_embeddings`. TensorFlow is imported by `train` only.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from recpipeline import features, registry
from recpipeline.config import Settings
from recpipeline.days import day_start_epoch
from recpipeline.loo import hold_out_last, item_counts
from recpipeline.model.tf_logs import known_notices_filtered
from recpipeline.model.types import CELL_DEFAULTS, ItemContent, ModelParams, TrainingSet

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainingWindow:
    """The interactions a model learned from: [start, end) in UTC."""

    start: datetime
    end: datetime


def model_id_for(ds: date, params: ModelParams, window: TrainingWindow, feedback: dict | None = None) -> str:
    """Deterministic per (day, model parameters, training window, and the feedback weights when shoppers'
    feedback shaped the training): settings the model never reads (paths, gate, data quality, scoring) do not
    change it."""
    key = {"params": params.to_dict(), "window": [window.start.isoformat(), window.end.isoformat()]}
    if feedback:
        key["feedback"] = feedback
    digest = hashlib.sha1(json.dumps(key, sort_keys=True).encode()).hexdigest()[:8]
    return f"{ds:%Y%m%d}-{params.cell}-{digest}"


def registered_params(settings: Settings, params: ModelParams) -> dict:
    """The settings as registered with a model, with the values it trained with where they differ (a cell's
    own defaults, `types.CELL_DEFAULTS`), so the Models page shows what was used."""
    out = settings.public_dict()
    used = params.to_dict()
    out.update({k: used[k] for k in (*out, *CELL_DEFAULTS.get(params.cell, {})) if k in used})
    return out


def item_content(items: features.ItemTable) -> ItemContent:
    """The item tower's content inputs for a day's catalogue."""
    return ItemContent(tokens=items.content_tokens, vocab_size=len(items.vocab) + 1)


def _feedback(url, ds, settings, history: features.Sequences, train_sequences, items):
    """What shoppers did with earlier lists, aligned with the training sequences (None: off or nothing shown)."""
    from recpipeline.feedback.training import feedback_inputs

    trimmed = features.Sequences(
        history.user_ids,
        [s[: len(t)] for s, t in zip(history.items, train_sequences, strict=True)],
        [e[: len(t)] for e, t in zip(history.events, train_sequences, strict=True)],
        [x[: len(t)] for x, t in zip(history.ts, train_sequences, strict=True)],
    )
    return feedback_inputs(url, ds, settings, trimmed, items)


def train_day(url: str, ds: date, settings: Settings) -> dict:
    """Train on interactions before `ds`, save the artifact, register the model, write its item vectors."""
    from recpipeline.model.training import train

    items = features.load_item_table(url, ds)
    history = features.load_sequences(url, ds).before(day_start_epoch(ds), min_len=2)
    if len(history) == 0:
        raise RuntimeError(f"no user has 2+ interactions before {ds}: nothing to train on")
    split = hold_out_last(history.items, history.events)
    counts = item_counts(split.train_sequences, items.n_items)
    params = ModelParams.from_settings(settings)
    window = TrainingWindow(
        datetime.fromtimestamp(min(int(t[0]) for t in history.ts), UTC),
        datetime.fromtimestamp(day_start_epoch(ds), UTC),
    )
    data = TrainingSet(
        n_items=items.n_items,
        sequences=split.train_sequences,
        events=split.train_events,
        content=item_content(items),
        item_counts=counts,
    )
    shown = _feedback(url, ds, settings, history, split.train_sequences, items)
    log.info(
        "train %s: %d users, %d interactions, %d items, %d validation users, cell %s",
        ds,
        len(split.train_sequences),
        int(counts.sum()),
        items.n_items,
        len(split.targets),
        params.cell,
    )
    with known_notices_filtered():  # TensorFlow's start-up banners, not errors (see model.tf_logs)
        model = train(
            data,
            params,
            validation=split.evaluation if len(split.targets) else None,
            log=log.info,
            budget_seconds=settings.train_budget_seconds,
            feedback=shown,
        )
    model.vocab = items.vocab

    weights = (
        {"click": settings.feedback_click_weight, "negative": settings.feedback_negative_weight} if shown else None
    )
    model_id = model_id_for(ds, params, window, weights)
    artifact = save_attempt(model, settings.artifacts / "models" / model_id)
    last = model.history[-1] if model.history else {}
    metrics = {
        "epochs": len(model.history),
        "final_loss": last.get("loss"),
        "val_ndcg@10": max((h.get("val_ndcg@10") or 0.0 for h in model.history), default=None),
    }
    summary = {"model_id": model_id, "artifact": str(artifact), **metrics}
    metrics["history"] = model.history  # per-epoch loss and validation metrics, for the Models page
    if not registry.register(
        url,
        model_id,
        ds,
        params.cell,
        registered_params(settings, params),
        window.start,
        window.end,
        metrics,
        str(artifact),
    ):
        record = registry.get(url, model_id)
        log.info(
            "model %s is already blessed: its registry entry and artifact %s stay as they are (this "
            "attempt's artifact: %s)",
            model_id,
            record.artifact_uri,
            artifact,
        )
    features.write_item_embeddings(url, ds, model_id, items, model.item_vectors(item_content(items)))
    log.info(
        "registered model %s (%s epochs, final loss %s) at %s",
        model_id,
        metrics["epochs"],
        metrics["final_loss"],
        artifact,
    )
    return summary


def save_attempt(model, folder: Path) -> Path:
    """Save into a new attempt folder under `folder`, visible only once complete (written aside, then renamed):
    an artifact a registered model points at is never rewritten."""
    stamp = f"{datetime.now(UTC):%Y%m%dT%H%M%S%f}-{os.getpid()}"
    final = folder / f"attempt-{stamp}"
    partial = folder / f".partial-{stamp}"
    model.save(partial)
    partial.rename(final)
    return final


def load_for_day(url: str, ds: date, artifact: str | Path):
    """A saved model and the day's catalogue in the model's content vocabulary: (model, items, item vectors)."""
    from recpipeline.model.artifact import TrainedModel

    model = TrainedModel.load(Path(artifact))
    items = features.load_item_table(url, ds, vocab=model.vocab)
    return model, items, model.item_vectors(item_content(items))
