"""`make demo`: the whole product on the built-in synthetic shop, then a summary an operator can read."""

from __future__ import annotations

import json
import time
from datetime import date

from recpipeline import db, local
from recpipeline.config import Settings, load_settings
from recpipeline.generate import DEFAULT_SEED


def prepare_history(settings: Settings, url: str, profile: str, seed: int) -> list[date]:
    """Generate the shop (once per profile/seed) and land + validate every day but the last."""
    from recpipeline.generate import generate_shop

    landing = settings.landing
    marker = landing / "shop.json"
    wanted = {"profile": profile, "seed": seed}
    if not marker.exists() or json.loads(marker.read_text()) != wanted:
        if landing.exists():
            import shutil

            shutil.rmtree(landing)
        shop = generate_shop(profile, seed, landing)
        marker.write_text(json.dumps(wanted))
        print(f"generated the {profile} shop: {shop.users:,} users, {shop.items:,} items, {shop.events:,} events")
    days = sorted(date.fromisoformat(p.name) for p in landing.iterdir() if p.is_dir())
    for day in days[:-1]:
        landed = local.land_and_validate(url, "canonical", landing / day.isoformat(), day, settings=settings)
        for failed in landed.failed:
            print(f"  {failed}: {landed.outcomes[failed]}")
    return days


def summary_lines(url: str, ds: date) -> list[str]:
    """Rows landed/rejected, training, evaluation vs popularity, sample recommendations, the psql line."""
    from recpipeline.evaluation import store

    out = [f"\n=== RecPipeline demo summary for {ds} ==="]
    with db.connect(url) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT target, sum(landed), sum(accepted), sum(rejected) FROM dq.load_audit "
            "WHERE ds <= %s GROUP BY target ORDER BY target",
            (ds,),
        )
        for target, landed, accepted, rejected in cur.fetchall():
            out.append(f"{target:6}: landed {landed:,}  accepted {accepted:,}  rejected {rejected:,} (all days)")
        cur.execute(
            "SELECT model_id, status, reason, metrics FROM models.registry WHERE ds = %s "
            "ORDER BY created_at DESC LIMIT 1",
            (ds,),
        )
        row = cur.fetchone()
        if row:
            model_id, status, reason, metrics = row
            out.append(
                f"model {model_id}: {metrics.get('epochs')} epochs, final training loss "
                f"{metrics.get('final_loss'):.4f}; {status} ({reason})"
            )
        out += store.report_lines(url, ds, compact=True)
        cur.execute("SELECT user_id FROM recs.latest WHERE source = 'model' GROUP BY user_id ORDER BY user_id LIMIT 3")
        users = [r[0] for r in cur.fetchall()]
        for user in users:
            cur.execute(
                "SELECT rank, item_id, score, reason_item_id FROM recs.latest WHERE user_id = %s ORDER BY rank LIMIT 5",
                (user,),
            )
            recs = ", ".join(f"{i} ({s:.3f}, because {r})" for _, i, s, r in cur.fetchall())
            out.append(f"top 5 for {user}: {recs}")
    out.append("query the published recommendations:")
    sql = "SELECT user_id, rank, item_id, score FROM recs.latest ORDER BY user_id, rank LIMIT 20"
    out.append(f"  psql '{url}' -c '{sql}'")
    return out


def run_demo(profile: str = "demo", seed: int = DEFAULT_SEED) -> int:
    t0 = time.time()
    settings = load_settings()
    url = db.database_url(settings)
    applied = db.upgrade(url)
    print(f"results database: {url} ({len(applied)} migration(s) applied)")
    days = prepare_history(settings, url, profile, seed)
    print(
        f"history landed and validated for {len(days) - 1} days in {time.time() - t0:.0f}s; "
        f"running recpipeline_daily for {days[-1]} through Airflow"
    )
    local.run_dag(days[-1], settings=settings)
    print("\n".join(summary_lines(url, days[-1])))
    print(f"demo finished in {time.time() - t0:.0f}s")
    return 0
