"""Running the pages' named queries (`sql/queries/ui_*.sql`): every value a bound parameter, rows as dicts."""

from __future__ import annotations

from typing import Any

import psycopg2.extras

from recpipeline import db


def rows(url: str, name: str, **params: Any) -> list[dict[str, Any]]:
    """The rows of the named query as plain dicts (column name -> value)."""
    with db.connect(url) as conn, conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
        db.execute(cur, name, params)
        return [dict(r) for r in cur.fetchall()]


def one(url: str, name: str, **params: Any) -> dict[str, Any] | None:
    """The first row of the named query, or None."""
    found = rows(url, name, **params)
    return found[0] if found else None
