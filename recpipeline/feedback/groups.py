"""The one holdout definition in Python, equal to SQL's clean.holdout_bucket (migration 014)."""

from __future__ import annotations

import hashlib

SALT = "recpipeline-holdout:"
TREATMENT, HOLDOUT = "treatment", "holdout"


def holdout_bucket(user_id: str) -> int:
    """Bucket 0..99 of a user: the first 32 bits of md5(salt + id) modulo 100."""
    return int(hashlib.md5((SALT + user_id).encode()).hexdigest()[:8], 16) % 100


def group_of(user_id: str, holdout_share: float) -> str:
    """'holdout' when the user's bucket is below 100 x holdout_share, else 'treatment'."""
    return HOLDOUT if holdout_bucket(user_id) < holdout_pct(holdout_share) else TREATMENT


def holdout_pct(holdout_share: float) -> int:
    """The share as whole buckets (0.1 -> 10)."""
    return int(round(holdout_share * 100))
