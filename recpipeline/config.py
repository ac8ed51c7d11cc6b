"""One home for configuration: environment variables and DAG Params map onto `Settings`.

Precedence, lowest to highest: the defaults below, `RECPIPE_*` environment variables, then explicit
overrides (Airflow Params or CLI flags). Every field is documented in README.md ("Configuration").
"""

from __future__ import annotations

import dataclasses
import math
import os
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from recpipeline.evaluation.registry import BASELINES, GATE_METRICS

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SQL_DIR = PROJECT_ROOT / "sql"

# TensorFlow's CPU-machine chatter (CUDA probing) is noise here; real errors still surface as exceptions. Every
# process of the project imports this module first, and Airflow task subprocesses inherit the environment.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

CELLS = ("gru", "lstm", "sasrec")
UNKNOWN_ITEM_POLICIES = ("reject", "warn")
MAX_SHARDS = 64  # score tasks per run, whether set or derived
TRUE_WORDS, FALSE_WORDS = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


@dataclass(frozen=True)
class Range:
    """Allowed values of a numeric setting: lo..hi, each end open or closed (None = unbounded)."""

    lo: float | None = None
    hi: float | None = None
    lo_open: bool = False
    hi_open: bool = False

    def __contains__(self, value: float) -> bool:
        if isinstance(value, float) and math.isnan(value):
            return False
        above = self.lo is None or (value > self.lo if self.lo_open else value >= self.lo)
        below = self.hi is None or (value < self.hi if self.hi_open else value <= self.hi)
        return above and below

    def __str__(self) -> str:
        left = "-inf" if self.lo is None else f"{self.lo:g}"
        right = "inf" if self.hi is None else f"{self.hi:g}"
        opening = "(" if self.lo_open or self.lo is None else "["
        closing = ")" if self.hi_open or self.hi is None else "]"
        return f"{opening}{left}, {right}{closing}"


# The one home of every numeric setting's range: Settings, ModelParams and the DAG's Params read it.
RANGES: dict[str, Range] = {
    "max_lateness_hours": Range(0, 24 * 365),
    "max_reject_rate": Range(0, 1),
    "min_volume_ratio": Range(0, 1),
    "history_days": Range(1, 36_500),
    "seq_len": Range(2, 500),
    "embedding_dim": Range(8, 512),
    "epochs": Range(1, 200),
    "batch_size": Range(1, 65_536),
    "learning_rate": Range(0, 1, lo_open=True),
    "temperature": Range(0, 1, lo_open=True),
    "dropout": Range(0, 1, hi_open=True),
    "seed": Range(0, 2**31 - 1),
    "top_k": Range(1, 500),
    "shards": Range(0, MAX_SHARDS),
    "users_per_shard": Range(1),
    "eval_k": Range(1, 100),
    "gate_margin": Range(0, 10),
    "gate_tolerance": Range(0, 1),
    "train_budget_seconds": Range(0, 86_400),
    "attribution_window_hours": Range(1, 24 * 90),
    "holdout_share": Range(0, 0.5),
    "feedback_click_weight": Range(0, 100),
    "feedback_negative_weight": Range(0, 100),
    "dismiss_days": Range(0, 365),
    "online_gate_tolerance": Range(0, 1),
    "search_eval_searches": Range(1, 1_000_000),
}


@dataclass(frozen=True)
class Settings:
    """Everything a run needs to know; immutable so a task cannot drift from what it logged."""

    database_url: str | None = None  # RECPIPE_DATABASE_URL; None -> embedded PostgreSQL under home
    home: Path = PROJECT_ROOT / ".recpipeline"  # RECPIPE_HOME
    artifact_root: Path | None = None  # RECPIPE_ARTIFACT_ROOT; None -> home/artifacts
    landing_dir: Path | None = None  # RECPIPE_LANDING_DIR; None -> home/landing
    airflow_url: str = "http://localhost:8080"  # RECPIPE_AIRFLOW_URL: the API server `recpipeline rerun` calls
    airflow_user: str = "admin"  # RECPIPE_AIRFLOW_USER (password: RECPIPE_AIRFLOW_PASSWORD, never a setting)
    # data quality
    unknown_items: str = "warn"  # RECPIPE_UNKNOWN_ITEMS: reject | warn
    max_lateness_hours: int = 24  # RECPIPE_MAX_LATENESS_HOURS
    max_reject_rate: float = 0.2  # RECPIPE_MAX_REJECT_RATE: above -> data_quality fails
    min_volume_ratio: float = 0.3  # RECPIPE_MIN_VOLUME_RATIO: day volume / trailing median below -> fail
    # features
    history_days: int = 60  # RECPIPE_HISTORY_DAYS: look-back window of events used for features
    seq_len: int = 50  # RECPIPE_SEQ_LEN: last L interactions per user
    # model
    cell: str = "gru"  # RECPIPE_CELL: gru | lstm | sasrec
    embedding_dim: int = 64  # RECPIPE_EMBEDDING_DIM
    epochs: int = 8  # RECPIPE_EPOCHS (upper bound; early stopping on validation NDCG@10)
    batch_size: int = 256  # RECPIPE_BATCH_SIZE
    learning_rate: float = 0.002  # RECPIPE_LEARNING_RATE
    temperature: float = 0.07  # RECPIPE_TEMPERATURE: cosine softmax temperature
    dropout: float = 0.2  # RECPIPE_DROPOUT
    seed: int = 42  # RECPIPE_SEED
    random_model: bool = False  # RECPIPE_RANDOM_MODEL: publish-gate drill, replaces vectors with noise
    train_budget_seconds: float = 300.0  # RECPIPE_TRAIN_BUDGET_SECONDS: wall-clock bound on training (0 = none)
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
    gate_baselines: str = ",".join(BASELINES)  # RECPIPE_GATE_BASELINES: the model must beat these
    search_eval_searches: int = 2000  # RECPIPE_SEARCH_EVAL_SEARCHES: searches replayed by evaluate (fixed sample)
    # feedback (impressions, attribution, online metrics; recpipeline.feedback)
    attribution_window_hours: int = 24  # RECPIPE_ATTRIBUTION_WINDOW_HOURS: click/cart/purchase credit window
    holdout_share: float = 0.1  # RECPIPE_HOLDOUT_SHARE: hashed share of users shown trending instead
    feedback_training: bool = True  # RECPIPE_FEEDBACK_TRAINING: impressions shape training (off: ablation)
    feedback_click_weight: float = 1.0  # RECPIPE_FEEDBACK_CLICK_WEIGHT: extra weight of a clicked recommendation
    feedback_negative_weight: float = 0.5  # RECPIPE_FEEDBACK_NEGATIVE_WEIGHT: weight of shown-and-ignored negatives
    dismiss_days: int = 7  # RECPIPE_DISMISS_DAYS: a dismissed item stays out of the user's lists this long
    online_gate: bool = False  # RECPIPE_ONLINE_GATE: refuse a model when the live group's CTR fell below holdout
    online_gate_tolerance: float = 0.1  # RECPIPE_ONLINE_GATE_TOLERANCE: allowed relative CTR shortfall

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
        """This object, or ValueError naming every field out of its range or vocabulary."""
        problems = out_of_range(self)
        for name, allowed in (("cell", CELLS), ("unknown_items", UNKNOWN_ITEM_POLICIES), ("gate_metric", GATE_METRICS)):
            if getattr(self, name) not in allowed:
                problems.append(f"{name} must be one of {', '.join(allowed)}; got {getattr(self, name)!r}")
        unknown = set(self.gate_baseline_names) - set(BASELINES)
        if unknown or not self.gate_baseline_names:
            problems.append(
                f"gate_baselines must be a comma-separated subset of {', '.join(BASELINES)}; "
                f"got {self.gate_baselines!r}"
            )
        if problems:
            raise ValueError("invalid settings: " + "; ".join(problems))
        return self

    def public_dict(self) -> dict[str, Any]:
        """JSON-ready view (paths as text), for logs and the model registry."""
        out = dataclasses.asdict(self)
        out.pop("database_url")
        return {k: str(v) if isinstance(v, Path) else v for k, v in out.items()}


def out_of_range(obj: Any) -> list[str]:
    """One message per field of `obj` (Settings or ModelParams) whose value is outside its RANGES entry."""
    return [
        f"{name} must be in {RANGES[name]}; got {getattr(obj, name)!r}"
        for name in (f.name for f in fields(obj))
        if name in RANGES and getattr(obj, name) not in RANGES[name]
    ]


def _coerce(kind: Any, value: Any, name: str) -> Any:
    kind = str(kind)
    try:
        if "Path" in kind:
            return Path(value)
        if kind.startswith("bool"):
            if isinstance(value, bool):
                return value
            word = str(value).strip().lower()
            if word not in TRUE_WORDS + FALSE_WORDS:
                raise ValueError(f"not one of {', '.join(TRUE_WORDS + FALSE_WORDS)}")
            return word in TRUE_WORDS
        if kind.startswith("int") and isinstance(value, float) and not value.is_integer():
            raise ValueError("not a whole number")
        if kind.startswith("int"):
            return int(value)
        if kind.startswith("float"):
            return float(value)
        return str(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"setting {name}: cannot read {value!r} as {kind} ({exc})") from exc


def load_settings(overrides: dict[str, Any] | None = None) -> Settings:
    """Defaults, then RECPIPE_* environment variables, then `overrides`."""
    env = {}
    for f in fields(Settings):
        raw = os.environ.get("RECPIPE_" + f.name.upper())
        if raw not in (None, ""):
            env[f.name] = raw
    return Settings().with_overrides(env).with_overrides(overrides).validated()
