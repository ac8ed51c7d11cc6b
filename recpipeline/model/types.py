"""Plain data types of the two-tower model (no TensorFlow here: the DAG imports this at parse time)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np

from recpipeline.config import CELLS, Settings, out_of_range
from recpipeline.events import EVENT_CODES, EVENT_WEIGHTS
from recpipeline.loo import item_counts


@dataclass
class ItemContent:
    """Per-item categorical inputs; row index = item_idx, row 0 = padding.

    `tokens` is (n_items + 1, T) int32: ids into one shared content vocabulary (title tokens, category path
    levels, tags, brand, price bucket), 0 = pad. `vocab_size` counts the pad id, so ids are < vocab_size.
    """

    tokens: np.ndarray
    vocab_size: int

    def __post_init__(self) -> None:
        self.tokens = np.asarray(self.tokens, dtype=np.int32)
        if self.tokens.ndim != 2:
            raise ValueError(f"content tokens must be 2-D (items, T), got shape {self.tokens.shape}")
        if self.tokens.size and int(self.tokens.max()) >= self.vocab_size:
            raise ValueError(f"content token id {int(self.tokens.max())} >= vocab_size {self.vocab_size}")


# Per-cell defaults, chosen on Amazon Beauty's validation split (bench/quality.py; runs listed in the README):
# the self-attention cell learns far faster with a larger step and the last item's vector added to the user
# state. They replace a value only while it is the shared default, so a configured value always wins.
CELL_DEFAULTS: dict[str, dict[str, Any]] = {
    "sasrec": {"learning_rate": 0.003, "dropout": 0.3, "residual": True},
}


@dataclass
class ModelParams:
    """Hyper-parameters of the two-tower model; build with `ModelParams.from_settings(settings, **overrides)`.

    The first block comes from `recpipeline.config.Settings` (defaults and ranges live there); the rest are
    model-only knobs with defaults chosen on Amazon Beauty with bench/beauty_experiment.py (full ranking,
    leave-one-out).
    """

    # --- shared with Settings, which owns their defaults and (config.RANGES) their ranges ---
    cell: str = Settings.cell  # user-tower cell: "gru" | "lstm" | "sasrec" (causal self-attention)
    embedding_dim: int = Settings.embedding_dim  # d: item/user vector size (item id, content token, event)
    epochs: int = Settings.epochs  # upper bound; early stopping on validation NDCG@10 when validation is given
    batch_size: int = Settings.batch_size  # users (sequences) per step
    learning_rate: float = Settings.learning_rate  # Adam
    temperature: float = Settings.temperature  # tau in softmax(cos(u, v) / tau)
    dropout: float = Settings.dropout  # user tower: input embeddings, outputs (and sasrec's residual branches)
    seed: int = Settings.seed  # seeds Keras/TF/numpy; same seed + same data -> same embeddings
    seq_len: int = Settings.seq_len  # L: the last L interactions of a user feed the user tower
    random_model: bool = Settings.random_model  # publish-gate drill: vectors are seeded noise, no training
    # --- model-only knobs ---
    hidden_dim: int = 0  # gru/lstm state size; 0 -> embedding_dim. Projected back to embedding_dim
    num_layers: int = 1  # gru/lstm: stacked recurrent layers
    num_blocks: int = 2  # sasrec: stacked pre-layer-norm self-attention blocks
    num_heads: int = 2  # sasrec: attention heads (embedding_dim must be divisible by it)
    ffn_mult: int = 1  # sasrec: feed-forward inner width = ffn_mult * embedding_dim
    recency_positions: bool = False  # sasrec: position 0 = the last real item (else, default: the first real item)
    residual: bool = False  # user state += input item embedding at that position (skip connection)
    learn_temperature: bool = False  # train log(tau) jointly (initialised at `temperature`)
    id_dropout: float = 0.1  # training-time prob. of zeroing an item's id embedding (teaches content path)
    use_content: bool = True  # add mean-pooled content token embeddings to the item vector
    use_events: bool = True  # add an event-type embedding to each user-tower input
    weight_decay: float = 0.0  # decoupled weight decay (AdamW) when > 0
    clipnorm: float = 0.0  # global gradient-norm clipping when > 0
    patience: int = 3  # early stopping: epochs without validation NDCG@10 improvement
    min_epochs: int = 1  # never stop before this many epochs
    full_softmax_max_items: int = 200_000  # above this catalogue size use sampled softmax (logQ-corrected)
    num_negatives: int = 1024  # sampled-softmax path: extra popularity-sampled negatives per step
    max_batch_positions: int = 8192  # cap on padded positions per step (bounds activations and logits)
    max_logit_elements: int = 100_000_000  # full softmax: positions per step <= this / (n_items + 1)
    threads: int = 0  # TF intra-op threads; 0 -> os.cpu_count()
    eval_batch_users: int = 2048  # users per block when ranking the full catalogue

    @classmethod
    def from_settings(cls, settings: Any, **overrides: Any) -> ModelParams:
        names = {f.name for f in dataclasses.fields(cls)}
        base = {n: getattr(settings, n) for n in names if hasattr(settings, n)}
        unknown = sorted(set(overrides) - names)
        if unknown:
            raise ValueError(f"unknown model params: {', '.join(unknown)}")
        shared = {f.name: f.default for f in dataclasses.fields(cls)}
        for name, value in CELL_DEFAULTS.get(overrides.get("cell", base.get("cell", cls.cell)), {}).items():
            if base.get(name, shared[name]) == shared[name]:
                base[name] = value
        return cls(**{**base, **overrides}).validated()

    def validated(self) -> ModelParams:
        problems = out_of_range(self)
        if self.cell not in CELLS:
            problems.append(f"cell must be one of {CELLS}, got {self.cell!r}")
        for name in ("num_layers", "max_batch_positions", "num_blocks", "num_heads", "ffn_mult"):
            if getattr(self, name) < 1:
                problems.append(f"{name} must be >= 1")
        if self.num_heads >= 1 and self.embedding_dim % self.num_heads:
            problems.append(f"embedding_dim {self.embedding_dim} must be divisible by num_heads {self.num_heads}")
        if not 0 <= self.id_dropout < 1:
            problems.append("id_dropout must be in [0, 1)")
        if problems:
            raise ValueError("invalid model params: " + "; ".join(problems))
        return self

    @property
    def state_dim(self) -> int:
        return self.hidden_dim or self.embedding_dim

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelParams:
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


@dataclass
class TrainingSet:
    """Behaviour sequences to learn next-item prediction from. Item indices 1..n_items, 0 = padding."""

    n_items: int
    sequences: list[np.ndarray]  # per user, chronological item_idx (int32)
    events: list[np.ndarray]  # per user, event codes (recpipeline.events.EVENT_CODES), same lengths
    content: ItemContent | None
    item_counts: np.ndarray | None = None  # (n_items+1,) training interaction counts (log-Q / cold flags)

    def counts(self) -> np.ndarray:
        """`item_counts`, or counted from `sequences` when not given."""
        if self.item_counts is not None:
            return np.asarray(self.item_counts, dtype=np.int64)
        return item_counts(self.sequences, self.n_items)


def event_weight_table() -> np.ndarray:
    """Sample weight of a target by its event code (index = code, 0 = padding -> 0)."""
    table = np.zeros(max(EVENT_CODES.values()) + 1, dtype=np.float32)
    for name, code in EVENT_CODES.items():
        table[code] = EVENT_WEIGHTS[name]
    return table


N_EVENT_CODES = max(EVENT_CODES.values()) + 1
