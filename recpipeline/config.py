"""One home for configuration: environment variables and DAG Params map onto `Settings`.

Precedence, lowest to highest: the defaults below, `RECPIPE_*` environment variables, then explicit
overrides (Airflow Params or CLI flags). Every field is documented in README.md ("Configuration").
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SQL_DIR = PROJECT_ROOT / "sql"

# TensorFlow's CPU-machine chatter (CUDA probing) is noise here; real errors still surface as exceptions.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

CELLS = ("gru", "lstm")
UNKNOWN_ITEM_POLICIES = ("reject", "warn")
BASELINES = ("popularity", "trending", "cooccurrence")
MAX_SHARDS = 64  # score tasks per run, whether set or derived


@dataclass(frozen=True)
class Settings:
    """Everything a run needs to know; immutable so a task cannot drift from what it logged."""

    database_url: str | None = None  # RECPIPE_DATABASE_URL; None -> embedded PostgreSQL under home
    home: Path = PROJECT_ROOT / ".recpipeline"  # RECPIPE_HOME
    artifact_root: Path | None = None  # RECPIPE_ARTIFACT_ROOT; None -> home/artifacts
    landing_dir: Path | None = None  # RECPIPE_LANDING_DIR; None -> home/landing
    # data quality
    unknown_items: str = "warn"  # RECPIPE_UNKNOWN_ITEMS: reject | warn
    max_lateness_hours: int = 24  # RECPIPE_MAX_LATENESS_HOURS
    max_reject_rate: float = 0.2  # RECPIPE_MAX_REJECT_RATE: above -> data_quality fails
    min_volume_ratio: float = 0.3  # RECPIPE_MIN_VOLUME_RATIO: day volume / trailing median below -> fail
    # features
    history_days: int = 60  # RECPIPE_HISTORY_DAYS: look-back window of events used for features
    seq_len: int = 50  # RECPIPE_SEQ_LEN: last L interactions per user
    # model
    cell: str = "gru"  # RECPIPE_CELL: gru | lstm
    embedding_dim: int = 64  # RECPIPE_EMBEDDING_DIM
    epochs: int = 8  # RECPIPE_EPOCHS (upper bound; early stopping on validation NDCG@10)
    batch_size: int = 256  # RECPIPE_BATCH_SIZE
    learning_rate: float = 0.002  # RECPIPE_LEARNING_RATE
    temperature: float = 0.07  # RECPIPE_TEMPERATURE: cosine softmax temperature
    dropout: float = 0.2  # RECPIPE_DROPOUT
    seed: int = 42  # RECPIPE_SEED
    random_model: bool = False  # RECPIPE_RANDOM_MODEL: publish-gate drill, replaces vectors with noise
    # scoring and publishing
    top_k: int = 20  # RECPIPE_TOP_K
    shards: int = 2  # RECPIPE_SHARDS: score tasks mapped over user shards; 0 = one per users_per_shard
    users_per_shard: int = 200_000  # RECPIPE_USERS_PER_SHARD: shard size when shards = 0 (at most 64)
    exclude_purchased: bool = True  # RECPIPE_EXCLUDE_PURCHASED
    # evaluation and gate
    eval_k: int = 10  # RECPIPE_EVAL_K
    gate_metric: str = "ndcg"  # RECPIPE_GATE_METRIC at eval_k
    gate_margin: float = 0.05  # RECPIPE_GATE_MARGIN: relative lift required over the best baseline
    gate_tolerance: float = 0.10  # RECPIPE_GATE_TOLERANCE: allowed relative drop vs last blessed model
    gate_baselines: str = "popularity,trending,cooccurrence"  # RECPIPE_GATE_BASELINES: the model must beat these

    @property
    def artifacts(self) -> Path:
        return self.artifact_root or self.home / "artifacts"

    @property
    def gate_baseline_names(self) -> list[str]:
        return [b.strip() for b in self.gate_baselines.split(",") if b.strip()]

    @property
    def landing(self) -> Path:
        return self.landing_dir or self.home / "landing"

    def with_overrides(self, overrides: dict[str, Any] | None) -> Settings:
        """Apply Params/CLI overrides; unknown keys are an error so typos never pass silently."""
        if not overrides:
            return self
        known = {f.name: f for f in fields(self)}
        unknown = sorted(set(overrides) - set(known))
        if unknown:
            raise ValueError(f"unknown settings: {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        typed = {k: _coerce(known[k].type, v, k) for k, v in overrides.items() if v is not None}
        return dataclasses.replace(self, **typed).validated()

    def validated(self) -> Settings:
        problems = []
        if self.cell not in CELLS:
            problems.append(f"cell must be one of {CELLS}, got {self.cell!r}")
        if self.unknown_items not in UNKNOWN_ITEM_POLICIES:
            problems.append(f"unknown_items must be one of {UNKNOWN_ITEM_POLICIES}, got {self.unknown_items!r}")
        for name in ("seq_len", "embedding_dim", "epochs", "batch_size", "top_k", "users_per_shard", "eval_k"):
            if getattr(self, name) < 1:
                problems.append(f"{name} must be >= 1, got {getattr(self, name)}")
        if not 0 <= self.shards <= MAX_SHARDS:
            problems.append(f"shards must be 0 (derived from active users) to {MAX_SHARDS}, got {self.shards}")
        if not 0 < self.temperature <= 1:
            problems.append(f"temperature must be in (0, 1], got {self.temperature}")
        unknown = set(self.gate_baseline_names) - set(BASELINES)
        if unknown or not self.gate_baseline_names:
            problems.append(
                f"gate_baselines must be a comma-separated subset of {BASELINES}, got {self.gate_baselines!r}"
            )
        if problems:
            raise ValueError("invalid settings: " + "; ".join(problems))
        return self

    def public_dict(self) -> dict[str, Any]:
        """JSON-ready view (paths as text), for logs and the model registry."""
        out = dataclasses.asdict(self)
        out.pop("database_url")
        return {k: str(v) if isinstance(v, Path) else v for k, v in out.items()}


def _coerce(kind: Any, value: Any, name: str) -> Any:
    kind = str(kind)
    try:
        if "Path" in kind:
            return Path(value)
        if kind.startswith("bool"):
            if isinstance(value, str):
                return value.strip().lower() in ("1", "true", "yes", "on")
            return bool(value)
        if kind.startswith("int"):
            return int(value)
        if kind.startswith("float"):
            return float(value)
        return str(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"setting {name}: cannot read {value!r} as {kind}") from exc


def load_settings(overrides: dict[str, Any] | None = None) -> Settings:
    """Defaults, then RECPIPE_* environment variables, then `overrides`."""
    env = {}
    for f in fields(Settings):
        raw = os.environ.get("RECPIPE_" + f.name.upper())
        if raw not in (None, ""):
            env[f.name] = raw
    return Settings().with_overrides(env).with_overrides(overrides).validated()
