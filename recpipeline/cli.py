"""`recpipeline ...`: local runs, the demo, loading data, reports."""

from __future__ import annotations

import argparse
import logging
import shutil
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

from recpipeline import db
from recpipeline.config import load_settings

log = logging.getLogger("recpipeline")
# Training runs in this pool (one slot) so that backfills cannot start several trainings at once.
TRAINING_POOL = ("training", "1", "one model training at a time")


def _date(text: str) -> date:
    return date.fromisoformat(text)


def cmd_db(args) -> int:
    settings = load_settings()
    url = db.database_url(settings)
    if args.action == "url":
        print(url)
    else:
        applied = db.upgrade(url)
        print(f"applied {len(applied)} migration(s): {', '.join(applied) or 'none (up to date)'}")
    return 0


def cmd_generate(args) -> int:
    from recpipeline.generate import generate_shop

    t0 = time.time()
    shop = generate_shop(args.profile, args.seed, Path(args.out))
    print(f"generated profile {shop.profile} (seed {shop.seed}) in {time.time() - t0:.1f}s: {shop.users:,} users, "
          f"{shop.items:,} items, {shop.events:,} events over {len(shop.days)} days ({shop.days[0]} .. "
          f"{shop.last_day}) into {shop.out}")
    return 0


def land_and_validate(url: str, fmt: str, path: Path, ds: date | None, source: str | None, validate: bool) -> bool:
    """Land a source into raw and validate each day it touched; False when any day failed its checks."""
    from recpipeline import quality, sources

    settings = load_settings()
    results = sources.land(url, fmt, path, ds=ds, source=source)
    days = sorted({r.ds for r in results})
    by_target: dict[str, int] = {}
    for r in results:
        by_target[r.target] = by_target.get(r.target, 0) + r.rows
    print(f"landed {', '.join(f'{n:,} {t}' for t, n in sorted(by_target.items()))} rows "
          f"({fmt}) over {len(days)} day(s): {days[0]} .. {days[-1]}" if days else "landed nothing")
    ok = True
    if validate:
        for day in days:
            try:
                report = quality.validate_day(url, day, settings)
                print(f"  {day}: events accepted {report.accepted['events']:,} rejected {report.rejected['events']:,}; "
                      f"items accepted {report.accepted['items']:,} rejected {report.rejected['items']:,}")
            except quality.DataQualityError as exc:
                ok = False
                print(f"  {day}: {exc}")
    return ok


def cmd_load(args) -> int:
    url = db.database_url(load_settings())
    db.upgrade(url)
    ok = land_and_validate(url, args.format, Path(args.path), args.ds, args.source, not args.no_validate)
    return 0 if ok else 1


def cmd_dq(args) -> int:
    from recpipeline import quality

    print("\n".join(quality.report_lines(db.database_url(load_settings()), args.ds)))
    return 0


def cmd_eval(args) -> int:
    from recpipeline import evaluation, report

    settings = load_settings()
    url = db.database_url(settings)
    if args.recompute:
        from recpipeline import registry, tasks

        model_id = args.model_id or evaluation.latest_model_id(url, args.ds)
        if model_id is None:
            raise LookupError(f"no evaluated model for {args.ds}; pass --model-id")
        record = registry.get(url, model_id)
        tasks.evaluate(args.ds, settings, {"model_id": model_id, "artifact": record.artifact_uri})
    print("\n".join(evaluation.report_lines(url, args.ds)))
    path = report.latest_report_path(url, args.ds, settings.artifacts)
    print(f"report: {path}" if path else "no HTML report for this day yet (written by the evaluate task)")
    return 0


def airflow(args: list[str], env: dict[str, str]) -> None:
    """Run the Airflow CLI of this virtualenv; raise with its exit code on failure."""
    exe = shutil.which("airflow", path=str(Path(sys.executable).parent)) or "airflow"
    subprocess.run([exe, *args], env=env, check=True)


def ensure_airflow_db(env: dict[str, str], home: Path) -> None:
    marker = home / ".migrated"
    if not marker.exists():
        airflow(["db", "migrate"], env)
        airflow(["pools", "set", *TRAINING_POOL], env)
        marker.touch()


def run_dag(ds: date, conf: dict | None = None) -> None:
    """Run recpipeline_daily for `ds` through real Airflow (`airflow dags test`, migrated metadata DB)."""
    import json

    from recpipeline.airflow_env import airflow_environment, airflow_home

    settings = load_settings()
    env = airflow_environment(settings, db.database_url(settings))
    ensure_airflow_db(env, airflow_home(settings))
    cmd = ["dags", "test", "recpipeline_daily", ds.isoformat()]
    if conf:
        cmd += ["--conf", json.dumps(conf)]
    airflow(cmd, env)


def cmd_run(args) -> int:
    import json

    run_dag(args.ds, json.loads(args.conf) if args.conf else None)
    return 0


def cmd_demo(args) -> int:
    from recpipeline import demo

    return demo.run_demo(args.profile, args.seed)


def cmd_airflow_env(args) -> int:
    """Print `export` lines for the project's Airflow environment (used by `make airflow`)."""
    import shlex

    from recpipeline.airflow_env import airflow_environment

    settings = load_settings()
    env = airflow_environment(settings, db.database_url(settings))
    for key in sorted(env):
        if key.startswith(("AIRFLOW", "RECPIPE", "TF_CPP")):
            print(f"export {key}={shlex.quote(env[key])}")
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="recpipeline", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("db", help="database: print the URL in use or apply migrations")
    s.add_argument("action", choices=["upgrade", "url"])
    s.set_defaults(func=cmd_db)

    s = sub.add_parser("generate", help="write a synthetic shop's daily landing files")
    s.add_argument("--profile", default="demo", choices=["tiny", "demo", "bench"])
    s.add_argument("--seed", type=int, default=7)
    s.add_argument("--out", required=True)
    s.set_defaults(func=cmd_generate)

    s = sub.add_parser("load", help="land a source into raw (COPY) and validate the days it touched")
    s.add_argument("--format", required=True, help="canonical | taobao | seqfile | recbole")
    s.add_argument("path")
    s.add_argument("--ds", type=_date, help="land everything under this day (default: from the data)")
    s.add_argument("--source", help="name recorded in raw.loads (default: the format)")
    s.add_argument("--no-validate", action="store_true", help="land only; skip data quality")
    s.set_defaults(func=cmd_load)

    s = sub.add_parser("dq", help="data-quality report")
    s.add_argument("action", choices=["report"])
    s.add_argument("--ds", type=_date, required=True)
    s.set_defaults(func=cmd_dq)

    s = sub.add_parser("eval", help="evaluation report")
    s.add_argument("action", choices=["report"])
    s.add_argument("--ds", type=_date, required=True)
    s.add_argument("--recompute", action="store_true",
                   help="evaluate again outside Airflow (same code as the evaluate task), then report")
    s.add_argument("--model-id", help="with --recompute: the model to evaluate (default: the day's latest)")
    s.set_defaults(func=cmd_eval)

    s = sub.add_parser("run", help="run the recpipeline_daily DAG for one day through Airflow")
    s.add_argument("--ds", type=_date, required=True)
    s.add_argument("--conf", help='DAG Params as JSON, e.g. \'{"cell": "lstm"}\'')
    s.set_defaults(func=cmd_run)

    s = sub.add_parser("demo", help="set up, generate the demo shop, run the DAG, print a summary")
    s.add_argument("--profile", default="demo", choices=["tiny", "demo", "bench"])
    s.add_argument("--seed", type=int, default=7)
    s.set_defaults(func=cmd_demo)

    s = sub.add_parser("airflow-env", help="print export lines for the project's Airflow environment")
    s.set_defaults(func=cmd_airflow_env)
    return p


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, FileNotFoundError, LookupError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except subprocess.CalledProcessError as exc:
        print(f"error: {' '.join(exc.cmd[:4])} ... exited {exc.returncode}", file=sys.stderr)
        return exc.returncode or 1


if __name__ == "__main__":
    sys.exit(main())


__all__ = ["main"]
