"""Online A/B on the closed-loop synthetic shop: treatment (the live model) vs the hashed 10% holdout (trending),
and the ablation of feedback training (same seeds, `feedback_training` off).

    .venv/bin/python bench/online.py --days 10            # demo profile, 14 warm-up days, both arms in parallel

Each arm runs `python -m recpipeline.feedback.simulate` (the stage functions in order, direct runner) in its own
scratch database and RECPIPE_HOME. Printed: per simulated day the treatment and holdout CTR@10 of both arms, then

    online CTR@10 model X holdout Y lift Z (95% CI A-B); feedback training on P vs off Q

where X, Y, Z and the interval are the feedback-on arm's pooled over all simulated days (bootstrap over
user-days), P and Q the treatment CTR@10 of the on and off arms. Also printed: the CTR@10 the planted response
model expects of each arm's treatment lists (the mean click probability, free of the clicks' sampling noise).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import psycopg2

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from recpipeline import db  # noqa: E402
from recpipeline.config import PROJECT_ROOT  # noqa: E402
from recpipeline.feedback import online  # noqa: E402
from recpipeline.generate import DEFAULT_START  # noqa: E402


def database_url(name: str) -> str:
    """The URL of database `name` on the configured (or embedded) server."""
    from sqlalchemy.engine import make_url

    server = os.environ.get("RECPIPE_DATABASE_URL") or db.embedded_url(PROJECT_ROOT / ".recpipeline")
    return make_url(server).set(database=name).render_as_string(hide_password=False)


def scratch_database(name: str) -> str:
    """A fresh database on the configured (or embedded) server; its URL."""
    server = os.environ.get("RECPIPE_DATABASE_URL") or db.embedded_url(PROJECT_ROOT / ".recpipeline")
    conn = psycopg2.connect(server)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cur.execute(f'CREATE DATABASE "{name}"')
    conn.close()
    return database_url(name)


def start_arm(name: str, args: argparse.Namespace, feedback: bool, root: Path) -> tuple[subprocess.Popen, str]:
    """Start one arm's simulation in the background; (process, database URL)."""
    url = scratch_database(f"recpipe_online_{name}")
    home = root / name
    home.mkdir(parents=True, exist_ok=True)
    conf = {"feedback_training": feedback, "gate_baselines": args.gate_baselines, "epochs": args.epochs}
    if feedback:
        conf.update(json.loads(args.feedback_conf or "{}"))
    env = {**os.environ, "RECPIPE_DATABASE_URL": url, "RECPIPE_HOME": str(home)}
    cmd = [
        sys.executable, "-m", "recpipeline.feedback.simulate", "--profile", args.profile, "--days", str(args.days),
        "--warmup", str(args.warmup), "--seed", str(args.seed), "--conf", json.dumps(conf),
    ]  # fmt: skip
    log = open(home / "simulate.log", "w")  # noqa: SIM115 - closed when the process ends
    return subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=PROJECT_ROOT), url


def main() -> int:
    """Run both arms, print per-day CTR@10 and the summary line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="demo")
    parser.add_argument("--days", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=14)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument(
        "--gate-baselines",
        default="popularity,trending",
        help="offline gate baselines (cooccurrence blocks the first publish on 14 warm-up days)",
    )
    parser.add_argument("--serial", action="store_true", help="run the arms one after the other")
    parser.add_argument("--feedback-conf", help="extra settings of the feedback-on arm as JSON (ablations)")
    parser.add_argument(
        "--only",
        choices=("on", "off"),
        help="run this arm only and read the other from an earlier run with the same --root (it is deterministic)",
    )
    parser.add_argument("--root", type=Path, default=None, help="where the arms' homes and logs go")
    args = parser.parse_args()
    root = args.root or Path(tempfile.mkdtemp(prefix="recpipe-online-"))
    began = time.perf_counter()
    arms = {}
    for name, feedback in (("on", True), ("off", False)):
        if args.only and name != args.only:
            arms[name] = (None, database_url(f"recpipe_online_{name}"))
            continue
        arms[name] = start_arm(name, args, feedback, root)
        if args.serial:
            arms[name][0].wait()
    for name, (proc, _url) in arms.items():
        if proc is not None and proc.wait() != 0:
            print(f"arm {name} failed (exit {proc.returncode}); log: {root / name / 'simulate.log'}")
            return 1
    first = DEFAULT_START + timedelta(days=args.warmup)
    days = [first + timedelta(days=d) for d in range(args.days)]
    print(
        f"{args.profile} seed {args.seed}: {args.warmup} warm-up days, {args.days} closed-loop days "
        f"{days[0]}..{days[-1]}, epochs {args.epochs}; logs under {root}"
    )
    print(
        f"{'day':10}  {'on: treatment':>14} {'holdout':>8} {'lift':>6}   {'off: treatment':>14} {'holdout':>8}"
        f"   {'expected on':>11} {'off':>7}"
    )
    expected: dict[str, list[float]] = {"on": [], "off": []}
    for day in days:
        on = online.lift_between(arms["on"][1], day, day, 10, seed=day.toordinal())
        off = online.lift_between(arms["off"][1], day, day, 10, seed=day.toordinal())
        lift = f"{on.lift:.2f}" if on.lift else "-"
        for name in expected:
            summary = root / name / "simulate" / f"{day}.json"
            seen = json.loads(summary.read_text()).get("expected", {}) if summary.exists() else {}
            expected[name].append(seen.get("treatment", float("nan")))
        print(
            f"{day}  {on.treatment:14.4f} {on.holdout:8.4f} {lift:>6}   {off.treatment:14.4f} {off.holdout:8.4f}"
            f"   {expected['on'][-1]:11.4f} {expected['off'][-1]:7.4f}"
        )
    total_on = online.lift_between(arms["on"][1], days[0], days[-1], 10, seed=args.seed)
    total_off = online.lift_between(arms["off"][1], days[0], days[-1], 10, seed=args.seed)
    print(
        f"expected CTR@10 of the treatment lists under the planted response (no click noise): feedback training on "
        f"{sum(expected['on']) / len(days):.4f} vs off {sum(expected['off']) / len(days):.4f}; "
        f"{time.perf_counter() - began:.0f} s"
    )
    print(
        f"online CTR@10 model {total_on.treatment:.4f} holdout {total_on.holdout:.4f} lift {_num(total_on.lift)} "
        f"(95% CI {_num(total_on.ci_low)}-{_num(total_on.ci_high)}); feedback training on {total_on.treatment:.4f} "
        f"vs off {total_off.treatment:.4f}"
    )
    return 0


def _num(x: float | None) -> str:
    return "-" if x is None else f"{x:.2f}"


if __name__ == "__main__":
    sys.exit(main())
