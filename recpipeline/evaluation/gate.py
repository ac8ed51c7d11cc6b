"""The publish gate: bless a model only when it beats the baselines and does not regress."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from recpipeline.evaluation.registry import MODEL, metric_label

if TYPE_CHECKING:
    from recpipeline.config import Settings


@dataclass
class GateDecision:
    blessed: bool
    metric: str
    candidate: float
    best_baseline: str
    baseline: float
    last_blessed: float | None
    reason: str


def gate(results: dict[str, dict[str, float]], settings: Settings, last_blessed: float | None) -> GateDecision:
    """Bless when the model beats the best baseline by `gate_margin` (relative) and is not worse than the
    last blessed model by more than `gate_tolerance` (relative). `last_blessed` is that model's gate metric
    on today's users (never another day's number: days differ in difficulty)."""
    key = metric_label(settings.gate_metric, settings.eval_k)
    candidate = results[MODEL][key]
    contenders = [(m, r[key]) for m, r in results.items() if m in settings.gate_baseline_names]
    name, best = max(contenders, key=lambda x: (x[1], x[0]))
    needed = best * (1 + settings.gate_margin)
    if candidate <= needed:
        reason = (
            f"{key} {candidate:.4f} does not beat {name} {best:.4f} by {settings.gate_margin:.0%} "
            f"(needs > {needed:.4f})"
        )
        return GateDecision(False, key, candidate, name, best, last_blessed, reason)
    if last_blessed is not None and candidate < last_blessed * (1 - settings.gate_tolerance):
        reason = (
            f"{key} {candidate:.4f} is more than {settings.gate_tolerance:.0%} below the last blessed "
            f"model's {last_blessed:.4f}"
        )
        return GateDecision(False, key, candidate, name, best, last_blessed, reason)
    reason = f"{key} {candidate:.4f} beats {name} {best:.4f} ({candidate / best if best else float('inf'):.2f}x)"
    return GateDecision(True, key, candidate, name, best, last_blessed, reason)
