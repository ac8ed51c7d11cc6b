"""Data-quality throughput on a 2M-row day, against a plain typed copy measured in the same run.

    .venv/bin/python bench/dq.py [--landing DIR] [--database-url URL]

Without --landing it generates the bench profile (100k users, 50k items, 2.1M events) into a temp folder.
All events are landed as ONE day (lateness widened so timestamps of the earlier days stay valid), then
validated by `recpipeline.quality.validate_day` (every rule, rejects, audit, checks). The reference is the
cheapest possible set-based step over the same raw rows: casting them into a typed table with no checks.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from recpipeline import db, quality, sources  # noqa: E402
from recpipeline.config import load_settings  # noqa: E402

REFERENCE_SQL = """
CREATE TEMP TABLE typed_reference AS
SELECT ds, event_id, user_id, item_id, event_type, ts::timestamptz AS ts, session_id, query,
       nullif(value, '')::double precision AS value, load_id, line_no
FROM raw.events WHERE ds = %(ds)s
"""


def one_day_file(landing: Path, out: Path) -> tuple[int, date]:
    days = sorted(p for p in landing.iterdir() if p.is_dir())
    rows = 0
    with open(out / "events.csv", "w", encoding="utf-8") as f:
        for i, day in enumerate(days):
            with open(day / "events.csv", encoding="utf-8") as src:
                header = src.readline()
                if i == 0:
                    f.write(header)
                for line in src:
                    f.write(line)
                    rows += 1
    (out / "items.csv").write_bytes((days[-1] / "items.csv").read_bytes())
    return rows, date.fromisoformat(days[-1].name)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--landing", type=Path, help="canonical landing root (default: generate the bench profile)")
    ap.add_argument("--database-url")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        landing = args.landing
        if landing is None:
            from recpipeline.generate import generate_shop

            landing = tmp / "shop"
            generate_shop("bench", 42, landing)
        day_dir = tmp / "day"
        day_dir.mkdir()
        n, ds = one_day_file(landing, day_dir)
        url = args.database_url or db.database_url()
        db.upgrade(url)
        t = time.perf_counter()
        sources.land(url, "canonical", day_dir, ds=ds, source="bench-dq")
        t_land = time.perf_counter() - t

        settings = load_settings({"max_lateness_hours": 24 * 40, "max_reject_rate": 1.0})
        t = time.perf_counter()
        report = quality.validate_day(url, ds, settings)
        t_dq = time.perf_counter() - t

        with db.connect(url) as conn, conn.cursor() as cur:
            t = time.perf_counter()
            cur.execute(REFERENCE_SQL, {"ds": ds})
            t_ref = time.perf_counter() - t
            conn.rollback()
        print(f"{n:,} events in one day; landed in {t_land:.1f}s ({n / t_land:,.0f} rows/s)")
        print(
            f"validated: accepted {report.accepted['events']:,} rejected {report.rejected['events']:,} "
            f"in {t_dq:.1f}s = {n / t_dq:,.0f} rows/s"
        )
        print(f"data_quality {t_dq:.1f}s / plain typed copy {t_ref:.1f}s = {t_dq / t_ref:.2f}x")


if __name__ == "__main__":
    main()
