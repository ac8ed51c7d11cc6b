"""Scaled copies of the synthetic shop's profiles for benchmarks (generate.py stays as it is)."""

from __future__ import annotations

import dataclasses

from recpipeline import generate


def scaled_profile(base: str, fraction: float) -> str:
    """Register `base` with users and items scaled by `fraction` (days, tree and behaviour kept); its name."""
    if fraction == 1.0:
        return base
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1]; got {fraction}")
    spec = generate.PROFILES[base]
    name = f"{base}@{fraction:g}"
    generate.PROFILES[name] = dataclasses.replace(
        spec, name=name, users=max(10, round(spec.users * fraction)), items=max(10, round(spec.items * fraction))
    )
    return name
