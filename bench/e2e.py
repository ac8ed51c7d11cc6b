"""The whole day at shop scale: the bench profile's history landed, then recpipeline_daily for its last day.

    .venv/bin/python bench/e2e.py [--fraction 1.0] [--scaling] [--database-url URL] [--reuse] [--land-only]
                                  [--py-spy DIR]

Generates the bench profile (recpipeline.generate, users and items scaled by --fraction) under
RECPIPE_HOME/bench-e2e, creates a scratch database (recpipeline_e2e_<percent>) on the configured server (the
embedded PostgreSQL 16 unless --database-url), lands and validates every day but the last with the project's
own `local.land_and_validate`, then runs `recpipeline_daily` for the last day through real Airflow (`dag.test`
in a subprocess with the project's Airflow environment, as `recpipeline run` does; its ingest lands the day
from the landing folder). Prints per task its wall time (from the Airflow metadata DB) and the peak RSS of the
run's process tree while the task ran (a psutil sampler; dag.test runs tasks in one process, so a task's peak
includes what earlier tasks left in it: an upper bound of a forked task's), then

    e2e bench: total X s, peak RSS Y GiB

where X is the day's run from process start to exit (Airflow start-up included). --scaling runs 25%, 50% and
100% and prints per task the log-log slope of its time against the fraction. --py-spy DIR records the day's
run with py-spy (raw collapsed stacks, subprocesses included) and prints its top functions. --reuse keeps
generated files and a scratch database whose history is complete; --land-only stops once the history is landed
(a later --reuse run then times just the day).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import psutil
import psycopg2
from psycopg2.extensions import make_dsn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._profiles import scaled_profile  # noqa: E402
from bench._pyspy import top_functions  # noqa: E402
from recpipeline import db, local  # noqa: E402
from recpipeline.airflow_env import airflow_environment, airflow_home  # noqa: E402
from recpipeline.config import PROJECT_ROOT, load_settings  # noqa: E402
from recpipeline.generate import generate_shop  # noqa: E402

GIB = 1024**3
SCALING_FRACTIONS = (0.25, 0.5, 1.0)
TARGET_SECONDS, TARGET_GIB = 900, 4.0


@dataclass
class TaskTiming:
    """One task instance of the day's run: wall time, and the tree's peak RSS (and growth) while it ran."""

    name: str
    state: str
    seconds: float
    peak_rss: int
    rss_growth: int


@dataclass
class BenchResult:
    """One fraction's figures: history landing per day, the day's tasks, the run's total and peak."""

    fraction: float
    events: int
    land_seconds: list[float] = field(default_factory=list)
    tasks: list[TaskTiming] = field(default_factory=list)
    total: float = 0.0
    peak_rss: int = 0
    ok: bool = False


def load() -> str:
    """The 1/5/15-minute load averages, for the record (the machine is shared)."""
    return "/".join(f"{x:.2f}" for x in os.getloadavg())


def scratch_url(server_url: str, name: str, recreate: bool) -> tuple[str, bool]:
    """A scratch database on the server (dropped and created again when `recreate`); (url, created)."""
    conn = psycopg2.connect(server_url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
        exists = cur.fetchone() is not None
        if recreate or not exists:
            cur.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            cur.execute(f"CREATE DATABASE {name}")
    conn.close()
    return make_dsn(server_url, dbname=name), recreate or not exists


def shop_days(shop: Path) -> list[date]:
    """The day folders of a generated shop, in order."""
    return sorted(date.fromisoformat(p.name) for p in shop.iterdir() if p.is_dir())


def ensure_shop(work: Path, fraction: float, seed: int, reuse: bool) -> Path:
    """Generate the (scaled) bench profile once per (fraction, seed); a complete earlier one is reused."""
    profile = scaled_profile("bench", fraction)
    shop = work / f"shop-{profile}-seed{seed}"
    marker = shop / ".complete"
    if reuse and marker.exists():
        return shop
    shutil.rmtree(shop, ignore_errors=True)
    t = time.perf_counter()
    s = generate_shop(profile, seed, shop)
    marker.write_text(json.dumps({"users": s.users, "items": s.items, "events": s.events}))
    print(
        f"generated {profile}: {s.users:,} users, {s.items:,} items, {s.events:,} events in "
        f"{time.perf_counter() - t:.0f}s (load {load()})",
        flush=True,
    )
    return shop


def validated_days(url: str) -> set[date]:
    """Days whose events passed data quality in the scratch database."""
    with db.connect(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT ds FROM dq.load_audit WHERE target = 'events'")
        return {r[0] for r in cur.fetchall()}


def land_history(url: str, shop: Path, days: list[date], settings) -> list[float]:
    """Land and validate each day with the project's code, one day at a time; seconds per day."""
    seconds = []
    for day in days:
        t = time.perf_counter()
        out = local.land_and_validate(url, "canonical", shop / day.isoformat(), ds=day, settings=settings)
        seconds.append(time.perf_counter() - t)
        print(f"  history {day}: {seconds[-1]:6.1f}s  {out.outcomes.get(day, '')}", flush=True)
        if not out.ok:
            raise SystemExit(f"history day {day} failed data quality: {out.outcomes[day]}")
    return seconds


class RssSampler(threading.Thread):
    """Samples the summed RSS of a process and its descendants every `interval` seconds."""

    def __init__(self, pid: int, interval: float = 0.2, skip_root: bool = False):
        super().__init__(daemon=True)
        self.pid, self.interval, self.skip_root = pid, interval, skip_root
        self.samples: list[tuple[float, int]] = []
        self._halt = threading.Event()

    def run(self) -> None:
        root = psutil.Process(self.pid)
        while not self._halt.is_set():
            try:
                procs = root.children(recursive=True) + ([] if self.skip_root else [root])
                rss = 0
                for p in procs:
                    if self.skip_root and p.name().startswith("py-spy"):
                        continue
                    try:
                        rss += p.memory_info().rss
                    except psutil.NoSuchProcess:
                        pass
                self.samples.append((time.time(), rss))
            except psutil.NoSuchProcess:
                return
            self._halt.wait(self.interval)

    def stop(self) -> None:
        self._halt.set()
        self.join()

    def peak(self, start: float = 0.0, end: float = math.inf) -> tuple[int, int]:
        """(peak RSS in [start, end], peak minus the RSS at start)."""
        inside = [r for t, r in self.samples if start <= t <= end]
        before = [r for t, r in self.samples if t <= start]
        if not inside:
            return 0, 0
        base = before[-1] if before else inside[0]
        return max(inside), max(inside) - base


def _utc(text: str | None) -> float:
    """A timestamp from Airflow's SQLite metadata DB as epoch seconds."""
    if not text:
        return math.nan
    value = datetime.fromisoformat(text)
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()


def task_instances(home: Path, since: float) -> list[tuple[str, int, str, float, float]]:
    """(task_id, map_index, state, start, end) of the newest recpipeline_daily run started after `since`."""
    with sqlite3.connect(home / "airflow.db") as conn:
        runs = conn.execute(
            "SELECT run_id, start_date FROM dag_run WHERE dag_id = 'recpipeline_daily' ORDER BY id DESC LIMIT 5"
        ).fetchall()
        run_id = next((r for r, s in runs if _utc(s) >= since - 5), None)
        if run_id is None:
            return []
        rows = conn.execute(
            "SELECT task_id, map_index, state, start_date, end_date FROM task_instance"
            " WHERE dag_id = 'recpipeline_daily' AND run_id = ? ORDER BY start_date",
            (run_id,),
        ).fetchall()
    return [(t, m, s or "", _utc(a), _utc(b)) for t, m, s, a, b in rows]


def run_day(ds: date, settings, url: str, conf: dict, log_path: Path, py_spy: Path | None) -> BenchResult:
    """recpipeline_daily for `ds` through real Airflow (dag.test in a subprocess, as local.run_dag), sampled."""
    env = airflow_environment(
        settings, url, RECPIPE_LANDING_DIR=str(settings.landing), RECPIPE_ARTIFACT_ROOT=str(settings.artifacts)
    )
    home = airflow_home(settings)
    local.ensure_airflow_db(env, home)
    cmd = [sys.executable, "-m", "recpipeline.local", json.dumps({**conf, "ds": ds.isoformat()})]
    if py_spy is not None:
        spy = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or "py-spy"
        cmd = [spy, "record", "--format", "raw", "--rate", "20", "--subprocesses", "-o", str(py_spy), "--", *cmd]
    result = BenchResult(fraction=0.0, events=0)
    started = time.time()
    with open(log_path, "w") as log_file:
        proc = subprocess.Popen(cmd, env=env, stdout=log_file, stderr=subprocess.STDOUT)
        sampler = RssSampler(proc.pid, skip_root=py_spy is not None)
        sampler.start()
        code = proc.wait()
        sampler.stop()
    result.total = time.time() - started
    result.peak_rss = sampler.peak()[0]
    for task_id, map_index, state, start, end in task_instances(home, started):
        peak, growth = sampler.peak(start, end)
        name = task_id if map_index < 0 else f"{task_id}[{map_index}]"
        result.tasks.append(TaskTiming(name, state, end - start, peak, growth))
    result.ok = code == 0 and all(t.state in ("success", "skipped") for t in result.tasks) and bool(result.tasks)
    return result


def bench_fraction(args, fraction: float, server_url: str) -> BenchResult:
    """Generate, land the history, run the last day; print the per-task table and the totals."""
    work = Path(args.work)
    shop = ensure_shop(work, fraction, args.seed, args.reuse)
    days = shop_days(shop)
    name = f"recpipeline_e2e_{round(fraction * 100):03d}"
    url, created = scratch_url(server_url, name, recreate=not args.reuse)
    db.upgrade(url)
    home = work / "home"
    settings = load_settings(
        {
            "database_url": url,
            "home": str(home),
            "landing_dir": str(shop),
            "artifact_root": str(work / f"artifacts-{name}"),
        }
    )
    history = days[:-1]
    land_seconds: list[float] = []
    done = validated_days(url) if not created else set()
    if set(history) - done:
        print(f"landing {len(history)} days of history into {name} (load {load()})", flush=True)
        land_seconds = land_history(url, shop, [d for d in history if d not in done], settings)
    else:
        print(f"history of {name} already landed ({len(history)} days)", flush=True)
    marker = json.loads((shop / ".complete").read_text())
    if args.land_only:
        print(f"history of {name} landed; --land-only: the day's run is left for a later --reuse run", flush=True)
        return BenchResult(fraction=fraction, events=marker["events"], land_seconds=land_seconds, ok=True)
    print(f"day {days[-1]}: recpipeline_daily through Airflow (load {load()})", flush=True)
    spy = Path(args.py_spy) / f"e2e-{name}.txt" if args.py_spy else None
    if spy:
        spy.parent.mkdir(parents=True, exist_ok=True)
    result = run_day(days[-1], settings, url, json.loads(args.conf), work / f"{name}.log", spy)
    result.fraction, result.events, result.land_seconds = fraction, marker["events"], land_seconds
    print_day(result, work / f"{name}.log")
    (work / f"{name}.json").write_text(json.dumps(dataclasses.asdict(result)))
    if spy and spy.exists():
        print_profile(spy)
    return result


def print_day(r: BenchResult, log_path: Path) -> None:
    """The per-task table and the closing line of one run."""
    if r.land_seconds:
        s = sorted(r.land_seconds)
        print(f"history: {len(s)} days in {sum(s):.0f}s (per day median {s[len(s) // 2]:.1f}s, max {s[-1]:.1f}s)")
    print(f"{'task':18} {'state':9} {'wall s':>8} {'peak RSS GiB':>13} {'growth GiB':>11}")
    for t in r.tasks:
        print(f"{t.name:18} {t.state:9} {t.seconds:8.1f} {t.peak_rss / GIB:13.2f} {t.rss_growth / GIB:11.2f}")
    print(
        f"e2e bench: total {r.total:.0f} s, peak RSS {r.peak_rss / GIB:.2f} GiB (fraction {r.fraction:g}, "
        f"{r.events:,} events, load {load()})"
    )
    if not r.ok:
        print(f"the day's run did not succeed: see {log_path}")
    else:
        verdict = "within" if r.total <= TARGET_SECONDS and r.peak_rss <= TARGET_GIB * GIB else "outside"
        print(f"target {TARGET_SECONDS} s / {TARGET_GIB:g} GiB at 100%: this run is {verdict} it")


def print_profile(path: Path, n: int = 5) -> None:
    """Top functions of a py-spy raw profile, by own and by inclusive samples."""
    own, inclusive, total = top_functions(path, n)
    print(f"py-spy {path.name}: {total:,} samples")
    print("  top own time:")
    for fn, count in own:
        print(f"    {100 * count / total:5.1f}%  {fn}")
    print("  top inclusive (recpipeline code):")
    for fn, count in inclusive:
        print(f"    {100 * count / total:5.1f}%  {fn}")


def load_result(path: Path) -> BenchResult:
    """A run saved by bench_fraction (<work>/<database>.json)."""
    data = json.loads(path.read_text())
    tasks = [TaskTiming(**t) for t in data.pop("tasks")]
    return BenchResult(**data, tasks=tasks)


def slope(xs: list[float], ys: list[float]) -> float:
    """Least-squares slope of log(y) against log(x)."""
    pts = [(math.log(x), math.log(y)) for x, y in zip(xs, ys, strict=True) if x > 0 and y > 0]
    if len(pts) < 2:
        return math.nan
    mx = sum(p[0] for p in pts) / len(pts)
    my = sum(p[1] for p in pts) / len(pts)
    den = sum((p[0] - mx) ** 2 for p in pts)
    return sum((p[0] - mx) * (p[1] - my) for p in pts) / den if den else math.nan


def print_scaling(results: list[BenchResult]) -> None:
    """Per task: seconds at each fraction and the exponent of cost against size."""
    names: list[str] = ["history/day (median)"]
    for r in results:
        names += [t.name for t in r.tasks if t.name not in names]
    rows: dict[str, list[float]] = {}
    for r in results:
        per = {t.name: t.seconds for t in r.tasks}
        land = sorted(r.land_seconds)
        per["history/day (median)"] = land[len(land) // 2] if land else math.nan
        per["total"] = r.total
        for name in [*names, "total"]:
            rows.setdefault(name, []).append(per.get(name, math.nan))
    xs = [r.fraction for r in results]
    head = " ".join(f"{f'{100 * x:g}% s':>9}" for x in xs)
    print(f"\nscaling (users and items x fraction; events grow with users)\n{'task':22} {head} {'exponent':>9}")
    flagged = []
    for name, ys in rows.items():
        e = slope(xs, ys)
        cells = " ".join(f"{y:9.1f}" for y in ys)
        mark = "  <- above 1.2" if e > 1.2 else ""
        print(f"{name:22} {cells} {e:9.2f}{mark}")
        if e > 1.2:
            flagged.append(name)
    if flagged:
        print(f"above 1.2: {', '.join(flagged)} (explained in the closing note of bench/e2e.py's run)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fraction", type=float, default=1.0, help="share of the bench profile's users and items")
    ap.add_argument("--scaling", action="store_true", help=f"run {SCALING_FRACTIONS} and print the exponents")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--database-url", default=None, help="server to create the scratch database on")
    ap.add_argument("--reuse", action="store_true", help="keep generated files and a complete landed history")
    ap.add_argument("--land-only", action="store_true", help="generate and land the history, then stop")
    ap.add_argument("--conf", default="{}", help="run conf for the day (JSON, the DAG's Params)")
    ap.add_argument("--py-spy", default=None, help="record the day's run with py-spy into this folder")
    ap.add_argument("--work", default=str(PROJECT_ROOT / ".recpipeline" / "bench-e2e"))
    ap.add_argument("--table", nargs="+", default=None, help="print the scaling table of saved runs (their .json)")
    args = ap.parse_args()
    if args.table:
        print_scaling(sorted((load_result(Path(p)) for p in args.table), key=lambda r: r.fraction))
        return
    server_url = args.database_url or db.embedded_url(PROJECT_ROOT / ".recpipeline")
    with psycopg2.connect(server_url) as conn, conn.cursor() as cur:
        cur.execute("SHOW server_version")
        version = cur.fetchone()[0]
    conn.close()
    print(
        f"server PostgreSQL {version} ({'--database-url' if args.database_url else 'embedded'}); "
        f"{os.cpu_count()} cores, load {load()}",
        flush=True,
    )
    Path(args.work).mkdir(parents=True, exist_ok=True)
    fractions = SCALING_FRACTIONS if args.scaling else (args.fraction,)
    results = [bench_fraction(args, f, server_url) for f in fractions]
    if args.scaling:
        print_scaling(results)
    if not all(r.ok for r in results):
        sys.exit(1)


if __name__ == "__main__":
    main()
