"""`recpipeline ...`: parses arguments, calls the library (`local`, `demo`, stages) and prints."""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import psycopg2

from recpipeline import db, local
from recpipeline.config import load_settings
from recpipeline.generate import DEFAULT_SEED, profile_names

log = logging.getLogger("recpipeline")


def _date(text: str) -> date:
    return date.fromisoformat(text)


def cmd_db(args) -> int:
    settings = load_settings()
    if args.action == "stop":
        if settings.database_url:
            print("RECPIPE_DATABASE_URL is set: that server is not ours to stop")
            return 1
        print("embedded PostgreSQL stopped" if local.stop_embedded_db(settings) else "embedded PostgreSQL not running")
        return 0
    url = db.database_url(settings)
    if args.action == "reader-password":
        password = os.environ.get("RECPIPE_READER_PASSWORD", "")
        if not password:
            raise ValueError("set RECPIPE_READER_PASSWORD to the password recpipeline_reader logs in with")
        with db.connect(url) as conn, conn.cursor() as cur:
            db.execute(cur, "db_reader_password", {"password": password})
        print("recpipeline_reader can log in with RECPIPE_READER_PASSWORD")
        return 0
    if args.action == "url":
        print(url)
    elif args.action == "days":
        from recpipeline.ingest import landed_days

        days = landed_days(url, settings.landing)
        print(f"{len(days)} day(s) with landed data: {days[0]} .. {days[-1]}" if days else "no landed data yet")
    else:
        applied = db.upgrade(url)
        print(f"applied {len(applied)} migration(s): {', '.join(applied) or 'none (up to date)'}")
    return 0


def cmd_generate(args) -> int:
    from recpipeline.generate import generate_shop

    t0 = time.time()
    shop = generate_shop(args.profile, args.seed, Path(args.out))
    print(
        f"generated profile {shop.profile} (seed {shop.seed}) in {time.time() - t0:.1f}s: {shop.users:,} users, "
        f"{shop.items:,} items, {shop.events:,} events over {len(shop.days)} days ({shop.days[0]} .. "
        f"{shop.last_day}) into {shop.out}"
    )
    return 0


def print_landed(landed: local.LandedSource, fmt: str) -> None:
    """What a load did, one line per validated day."""
    if not landed.days:
        print("landed nothing")
        return
    rows = ", ".join(f"{n:,} {t}" for t, n in sorted(landed.rows.items()))
    print(f"landed {rows} rows ({fmt}) over {len(landed.days)} day(s): {landed.days[0]} .. {landed.days[-1]}")
    for day, outcome in landed.outcomes.items():
        print(f"  {day}: {outcome}")


def cmd_load(args) -> int:
    url = db.database_url(load_settings())
    db.upgrade(url)
    landed = local.land_and_validate(url, args.format, Path(args.path), args.ds, args.source, not args.no_validate)
    print_landed(landed, args.format)
    return 0 if landed.ok else 1


def cmd_dq(args) -> int:
    from recpipeline import quality

    lines = quality.report_lines(db.database_url(load_settings()), args.ds)
    print("\n".join(lines))
    return 0 if lines and not lines[0].startswith("no ") else 1


def cmd_eval(args) -> int:
    from recpipeline.evaluation import report, store

    settings = load_settings()
    url = db.database_url(settings)
    if args.recompute:  # the evaluate task's computation, printed; the day's recorded decision is never rewritten
        from recpipeline import registry
        from recpipeline.evaluation.daily import compute_day

        model_id = args.model_id or store.latest_model_id(url, args.ds)
        if model_id is None:
            raise LookupError(f"no evaluated model for {args.ds}; pass --model-id")
        day = compute_day(url, args.ds, settings, model_id, registry.get(url, model_id).artifact_uri)
        print("\n".join(store.format_table(args.ds, *store.results_table(day.results))))
        print(
            f"  gate (recomputed, not recorded): model {model_id} "
            f"{'would be BLESSED' if day.decision.blessed else 'would NOT be blessed'}: {day.decision.reason}"
        )
        return 0
    print("\n".join(store.report_lines(url, args.ds)))
    path = report.latest_report_path(url, args.ds, settings.artifacts)
    print(f"report: {path}" if path else "no HTML report for this day yet (written by the evaluate task)")
    return 0


def _conf(text: str | None) -> dict:
    """--conf as a JSON object of DAG Params, or a one-line error."""
    try:
        conf = json.loads(text) if text else {}
    except json.JSONDecodeError as exc:
        raise ValueError(f"--conf is not JSON: {exc}") from None
    if not isinstance(conf, dict):
        raise ValueError(f"--conf must be a JSON object of DAG Params, e.g. '{{\"epochs\": 2}}'; got {text}")
    return conf


def cmd_forget(args) -> int:
    import getpass

    from recpipeline.privacy import forget_user

    erased = forget_user(db.database_url(load_settings()), args.user, args.actor or getpass.getuser())
    rows = ", ".join(f"{table} {n:,}" for table, n in erased.items() if table != "erasure_id")
    print(f"erased user (audit row {erased['erasure_id']} in dq.erasures): {rows}")
    return 0


def cmd_run(args) -> int:
    local.run_dag(args.ds, _conf(args.conf))
    return 0


def cmd_rerun(args) -> int:
    run = local.rerun(args.ds, _conf(args.conf))
    print(f"triggered {run['run_id']} ({run['state']}): {run['url']}")
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

    s = sub.add_parser("db", help="database: the URL in use, migrations, days with data, stop the embedded server")
    s.add_argument("action", choices=["upgrade", "url", "days", "stop", "reader-password"])
    s.set_defaults(func=cmd_db)

    s = sub.add_parser("generate", help="write a synthetic shop's daily landing files")
    s.add_argument("--profile", default="demo", choices=profile_names())
    s.add_argument("--seed", type=int, default=DEFAULT_SEED)
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
    s.add_argument(
        "--recompute",
        action="store_true",
        help="evaluate again outside Airflow (same code as the evaluate task), then report",
    )
    s.add_argument("--model-id", help="with --recompute: the model to evaluate (default: the day's latest)")
    s.set_defaults(func=cmd_eval)

    s = sub.add_parser("run", help="run recpipeline_daily for one day here, through Airflow (dag.test)")
    s.add_argument("--ds", type=_date, required=True)
    s.add_argument("--conf", help='DAG Params as JSON, e.g. \'{"cell": "lstm"}\'')
    s.set_defaults(func=cmd_run)

    s = sub.add_parser("rerun", help="trigger recpipeline_daily for a day on a running Airflow (REST API)")
    s.add_argument("--ds", type=_date, required=True)
    s.add_argument("--conf", help="DAG Params as JSON, e.g. '{\"epochs\": 2}'")
    s.set_defaults(func=cmd_rerun)

    s = sub.add_parser("forget", help="erase one user from every schema (one transaction, audited)")
    s.add_argument("--user", required=True)
    s.add_argument("--actor", help="who asked (default: the OS user), kept in dq.erasures")
    s.set_defaults(func=cmd_forget)

    from recpipeline.feedback import simulate

    s = simulate.add_arguments(sub.add_parser("simulate", help="closed-loop synthetic shop through the pipeline"))
    s.set_defaults(func=simulate.run)

    s = sub.add_parser("demo", help="set up, generate the demo shop, run the DAG, print a summary")
    s.add_argument("--profile", default="demo", choices=profile_names())
    s.add_argument("--seed", type=int, default=DEFAULT_SEED)
    s.set_defaults(func=cmd_demo)

    s = sub.add_parser("airflow-env", help="print export lines for the project's Airflow environment")
    s.set_defaults(func=cmd_airflow_env)
    return p


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, FileNotFoundError, LookupError, ConnectionError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (psycopg2.OperationalError, psycopg2.ProgrammingError) as exc:  # unreachable, bad credentials or URL
        if isinstance(exc, psycopg2.ProgrammingError) and not str(exc).startswith("invalid dsn"):
            raise
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(f"error: cannot connect to the results database: {first}", file=sys.stderr)
        return 2
    except subprocess.CalledProcessError as exc:
        print(f"error: {' '.join(exc.cmd[:4])} ... exited {exc.returncode}", file=sys.stderr)
        return exc.returncode or 1


if __name__ == "__main__":
    sys.exit(main())


__all__ = ["main"]
