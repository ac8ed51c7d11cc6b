"""The registries of evaluation: every metric and every baseline is one entry here.

Settings validation (gate metric, gate baselines), the evaluate stage, the text and HTML reports and the
CLI all read these two dicts, so adding a metric or a baseline is one `MetricSpec` / `BaselineSpec` plus
its test. numpy only: `recpipeline.config` imports this module.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from recpipeline import ragged
from recpipeline.evaluation import baselines
from recpipeline.evaluation.metrics import Hits, count_distribution, intra_list_diversity, novelty

KS = (5, 10, 20)  # cut-offs of the accuracy metrics
BEYOND_K = 10  # the lists the beyond-accuracy metrics look at: each user's top BEYOND_K
MODEL = "model"  # the method name of the candidate model in eval.metrics


# ---------------------------------------------------------------------------------------------------------
# Metrics
# ---------------------------------------------------------------------------------------------------------


@dataclass
class MetricInput:
    """What a metric may look at for one method: hits of its full lists, its top-BEYOND_K lists, how often
    each catalogue item appears in those, the training interactions (novelty) and item vectors (diversity)."""

    hits: Hits
    top: np.ndarray  # (users x BEYOND_K) dense item ids, PAD = -1
    counts: np.ndarray  # (n_items,) appearances of items 1..n_items in `top`
    train_users: np.ndarray
    train_items: np.ndarray
    item_vecs: np.ndarray | None
    _distribution: dict[str, float] = field(default_factory=dict)

    def distribution(self) -> dict[str, float]:
        """coverage / gini / entropy of `counts`, computed once."""
        if not self._distribution:
            self._distribution.update(count_distribution(self.counts))
        return self._distribution


@dataclass(frozen=True)
class MetricSpec:
    """One metric: `name` (eval.metrics.metric), what it means, which way is better, and how to compute it
    at a cut-off k (`at_k` False: one value over the whole list, stored with k = 0)."""

    name: str
    description: str
    kind: Literal["accuracy", "beyond"]
    compute: Callable[[MetricInput, int], float]
    higher_is_better: bool = True
    at_k: bool = True
    per_user: Callable[[MetricInput, int], np.ndarray] | None = None  # the values `compute` averages, if any

    @property
    def ks(self) -> tuple[int, ...]:
        """The cut-offs this metric is reported at (0 = none)."""
        if not self.at_k:
            return (0,)
        return KS if self.kind == "accuracy" else (BEYOND_K,)


def _accuracy(name: str, description: str, per_user: str, at_k: bool = True) -> MetricSpec:
    """An accuracy metric: the mean over evaluated users of a per-user value of `Hits` (with a bootstrap CI)."""

    def values(m: MetricInput, k: int) -> np.ndarray:
        return getattr(m.hits, per_user)(k or None)[m.hits.evaluated]

    def compute(m: MetricInput, k: int) -> float:
        return m.hits.mean(getattr(m.hits, per_user)(k or None))

    return MetricSpec(name, description, "accuracy", compute, at_k=at_k, per_user=values)


METRICS: dict[str, MetricSpec] = {
    spec.name: spec
    for spec in (
        _accuracy("ndcg", "ranking quality of the hits, discounted by position (1 = all new items on top)", "ndcg"),
        _accuracy("recall", "share of the user's new items found in the top k", "recall"),
        _accuracy("precision", "share of the top k that are new items of the user", "precision"),
        _accuracy("map", "mean average precision: precision at each hit, averaged", "average_precision"),
        _accuracy("hit_rate", "share of users with at least one new item in the top k", "hit_rate"),
        _accuracy("mrr", "mean of 1 / rank of the first hit", "reciprocal_rank", at_k=False),
        MetricSpec(
            "coverage",
            "share of the catalogue recommended to at least one user",
            "beyond",
            lambda m, k: m.distribution()["coverage"],
        ),
        MetricSpec(
            "gini",
            "concentration of recommendations on few items (0 = even, 1 = one item); lower is better",
            "beyond",
            lambda m, k: m.distribution()["gini"],
            higher_is_better=False,
        ),
        MetricSpec(
            "entropy",
            "spread of recommendations over items, in bits (higher = more even)",
            "beyond",
            lambda m, k: m.distribution()["entropy"],
        ),
        MetricSpec(
            "novelty",
            "mean self-information of recommended items, in bits (higher = less popular items)",
            "beyond",
            lambda m, k: novelty(m.top[:, :k], m.train_users, m.train_items),
        ),
        MetricSpec(
            "diversity",
            "1 − mean cosine similarity of item vectors within a list",
            "beyond",
            lambda m, k: intra_list_diversity(m.top[:, :k], m.item_vecs),
        ),
    )
}
GATE_METRICS = tuple(name for name, spec in METRICS.items() if spec.kind == "accuracy" and spec.at_k)


def metric_label(metric: str, k: int) -> str:
    """`ndcg@10`, or the bare name for metrics without a cutoff (k = 0)."""
    return f"{metric}@{k}" if k else metric


def split_label(label: str) -> tuple[str, int]:
    """Inverse of `metric_label`: 'ndcg@10' -> ('ndcg', 10), 'mrr' -> ('mrr', 0)."""
    name, _, k = label.partition("@")
    return name, int(k) if k else 0


def compute_metrics(m: MetricInput) -> dict[str, float]:
    """Every registered metric at its cut-offs, keyed by label, plus `users` (the users averaged over).
    Diversity needs item vectors and is left out without them."""
    out: dict[str, float] = {}
    for spec in METRICS.values():
        if spec.name == "diversity" and m.item_vecs is None:
            continue
        for k in spec.ks:
            out[metric_label(spec.name, k)] = float(spec.compute(m, k))
    out["users"] = float(m.hits.n_users)
    return out


def per_user_values(m: MetricInput) -> dict[str, np.ndarray]:
    """label -> the per-user values behind each metric that is a mean over users (for confidence intervals)."""
    return {
        metric_label(spec.name, k): spec.per_user(m, k)
        for spec in METRICS.values()
        if spec.per_user is not None
        for k in spec.ks
    }


# ---------------------------------------------------------------------------------------------------------
# Baselines
# ---------------------------------------------------------------------------------------------------------


@dataclass
class BaselineInput:
    """What a baseline may learn from: interactions before the cutoff only (dense item ids 1..n_items).

    `histories[u]` is evaluated user u's sequence (also what their list must exclude); `all_histories` every
    user's, for statistics; `trending` the day's trending list (`recpipeline.trending`), as served to cold
    users, best first.
    """

    histories: list[np.ndarray]
    all_histories: list[np.ndarray]
    trending: np.ndarray
    n_items: int
    k: int


@dataclass(frozen=True)
class BaselineSpec:
    """One baseline: `rank(input)` -> (evaluated users x k) dense item ids, best first, PAD = -1."""

    name: str
    description: str
    rank: Callable[[BaselineInput], np.ndarray]


def _popularity(b: BaselineInput) -> np.ndarray:
    return baselines.popularity(ragged.concat(b.all_histories), b.k, b.histories)


def _trending(b: BaselineInput) -> np.ndarray:
    users, items = ragged.flatten(b.histories)
    return baselines.top_k_excluding(np.asarray(b.trending, dtype=np.int64), b.k, len(b.histories), users, items)


def _cooccurrence(b: BaselineInput) -> np.ndarray:
    return baselines.cooccurrence(b.histories, b.k, neighbors=baselines.cooccurrence_neighbors(b.all_histories))


BASELINES: dict[str, BaselineSpec] = {
    spec.name: spec
    for spec in (
        BaselineSpec("popularity", "most interacted-with items before the day", _popularity),
        BaselineSpec(
            "trending", "the trending list served to cold users (recent, weighted by event type, in stock)", _trending
        ),
        BaselineSpec(
            "cooccurrence", "items co-occurring with the user's last items in others' sequences", _cooccurrence
        ),
    )
}


def methods() -> tuple[str, ...]:
    """The model and every registered baseline, in report order."""
    return (MODEL, *BASELINES)
