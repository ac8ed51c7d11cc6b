"""Model quality on a real public dataset, through the pipeline's own code, in a scratch database.

    .venv/bin/python bench/quality.py --format seqfile PATH/TO/amazon_beauty [--cell gru|lstm|sasrec]
    .venv/bin/python bench/quality.py --format taobao PATH/UserBehavior_head.csv
    .venv/bin/python bench/quality.py --format recbole PATH/NAME.inter

Works in a scratch database (`recpipeline_bench_quality` on the configured server, dropped and recreated on
each run; `--database-url` names the server), so nothing else the configured database holds reaches the
model. Lands PATH with the project's source adapter: a timestamped source (taobao, recbole with a timestamp
column) lands every row on its own UTC day, an untimestamped one (seqfile) on one synthetic day. Every landed
day is validated in order (data_quality, with the day-volume check off: a replayed dataset is not a daily
feed, a quiet day is not an outage; the reject-rate and other checks hold), then the features of the last day
are built over the whole history (features.items / features.user_sequences). Then the leave-one-out protocol
of the SASRec / S3-Rec / ICLRec papers: per user the last item is the test target and the one before it the
validation target (early stopping and model selection on validation only; the test targets are ranked once,
at the end); every target is ranked against ALL items with the user's history excluded (ties counted
pessimistically). The popularity baseline is leak-free (counts interactions before each user's test item
only). Published references are printed only when PATH is a dataset they were measured on (recognised by the
SHA-256 of its file), never for another. Prints one line per epoch (loss, train seconds, sequences/s,
validation) and, at the end, `model HR@10 .. NDCG@10 .. HR@20 .. NDCG@20 ..` and the same for `popularity`.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from recpipeline import db, features, quality, sources  # noqa: E402
from recpipeline.config import CELLS, Settings, load_settings  # noqa: E402
from recpipeline.evaluation import baselines, metrics  # noqa: E402

if TYPE_CHECKING:
    from recpipeline.loo import LooSplit
    from recpipeline.model import ModelParams, TrainedModel, TrainingSet

SCRATCH_DB = "recpipeline_bench_quality"  # dropped and recreated on each run
# A bench measures the model, not the daily task's wall-clock bound (a budget also swaps in the sampled softmax).
NO_TIME_BUDGET = {"RECPIPE_TRAIN_BUDGET_SECONDS": "0"}


@dataclass(frozen=True)
class Reference:
    """Published full-ranking leave-one-out numbers for one dataset file."""

    dataset: str
    rows: dict[str, tuple[float, float, float, float]]  # name -> HR@10, NDCG@10, HR@20, NDCG@20
    ratio_to: str | None = None  # print the model's ratio to this row


REFERENCES: dict[str, Reference] = {  # sha256 of the data file -> its published numbers
    "226cce9c3105299ca0db9615d7d3fb32b3175e90da43100ae352599f0f0107b8": Reference(
        "Amazon Beauty 5-core (S3-Rec preprocessing; S3-Rec paper, CIKM 2020, and ICLRec's released model)",
        {
            "popularity (S3-Rec paper)": (0.0152, 0.0068, 0.0217, 0.0084),
            "GRU4Rec": (0.0283, 0.0137, 0.0479, 0.0187),
            "SASRec": (0.0605, 0.0318, 0.0902, 0.0394),
            "ICLRec (WWW 2022)": (0.0744, 0.0403, 0.1058, 0.0483),
            "SASRec, full-softmax CE (eSASRec study, 2025)": (0.0921, 0.0531, float("nan"), float("nan")),
        },
        ratio_to="ICLRec (WWW 2022)",
    ),
}


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def reference_for(path: Path) -> Reference | None:
    """The published numbers of the dataset at `path` (a file, or any regular file directly in a folder)."""
    files = [path] if path.is_file() else sorted(p for p in path.iterdir() if p.is_file())
    for file in files:
        found = REFERENCES.get(sha256(file))
        if found is not None:
            return found
    return None


def scratch_database(server_url: str, name: str = SCRATCH_DB) -> str:
    """A fresh database `name` on the same server, migrated: the bench never reads the pipeline's tables."""
    import psycopg2  # noqa: PLC0415
    from psycopg2.extensions import make_dsn  # noqa: PLC0415

    conn = psycopg2.connect(server_url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS {name}")
        cur.execute(f"CREATE DATABASE {name}")
    conn.close()
    url = make_dsn(server_url, dbname=name)
    db.upgrade(url)
    return url


def bench_settings(**overrides: Any) -> Settings:
    """Settings of a replayed dataset: no day-volume check (min_volume_ratio 0), the rest as configured."""
    return load_settings({"min_volume_ratio": 0.0, **overrides})


@dataclass(frozen=True)
class Prepared:
    """A dataset landed, validated day by day and turned into features in a scratch database."""

    url: str
    days: list[date]  # every day with landed events, oldest first
    last_day: date  # the features' day; its history window covers every landed day
    landed: int
    accepted: int
    rejected: int
    settings: Settings


def prepare(url: str, fmt: str, path: Path, **settings_overrides: Any) -> Prepared:
    """Land PATH (rows on their own days), validate every landed day in order, build the last day's features.

    Raises quality.DataQualityError when a day fails data quality (an honest bench does not skip one).
    """
    landed = sources.land(url, fmt, path, source=f"bench-{fmt}")
    days = sorted({r.ds for r in landed if r.target == "events"})
    if not days:
        raise SystemExit(f"{path}: no events landed")
    history_days = (days[-1] - days[0]).days + 1
    settings = bench_settings(history_days=history_days, **settings_overrides)
    accepted = rejected = 0
    for ds in days:
        report = quality.validate_day(url, ds, settings)
        accepted += report.accepted["events"]
        rejected += report.rejected["events"]
    features.build_features(url, days[-1], settings)
    total = sum(r.rows for r in landed if r.target == "events")
    return Prepared(url, days, days[-1], total, accepted, rejected, settings)


def line(name: str, report: dict[str, float]) -> str:
    return (
        f"{name} HR@10 {report['hit_rate@10']:.4f} NDCG@10 {report['ndcg@10']:.4f} "
        f"HR@20 {report['hit_rate@20']:.4f} NDCG@20 {report['ndcg@20']:.4f}"
    )


def typed_overrides(pairs: list[str], defaults: dict[str, Any]) -> dict[str, Any]:
    """`--set KEY=VALUE` pairs typed like the ModelParams field's default."""
    out: dict[str, Any] = {}
    for kv in pairs:
        key, _, value = kv.partition("=")
        if key not in defaults:
            raise SystemExit(f"unknown model param: {key}")
        kind = type(defaults[key])
        out[key] = value.lower() in ("1", "true", "yes") if kind is bool else kind(value)
    return out


def run(args: argparse.Namespace) -> dict[str, dict[str, float]]:
    """The whole bench; returns {"model": report, "popularity": report} (k = 10, 20)."""
    from recpipeline.loo import item_counts, leave_one_out  # noqa: PLC0415
    from recpipeline.model import ItemContent, ModelParams, TrainingSet, evaluate, train  # noqa: PLC0415

    os.environ.update(NO_TIME_BUDGET)
    t0 = time.perf_counter()
    url = scratch_database(args.database_url or db.database_url(), args.scratch_db)
    prep = prepare(url, args.format, args.path, cell=args.cell, epochs=args.epochs)
    print(
        f"landed {prep.landed:,} events over {len(prep.days)} day(s) {prep.days[0]}..{prep.last_day}; accepted "
        f"{prep.accepted:,}, rejected {prep.rejected:,} ({time.perf_counter() - t0:.0f}s)",
        flush=True,
    )
    items = features.load_item_table(url, prep.last_day)
    seqs = features.load_sequences(url, prep.last_day)
    split = leave_one_out(seqs.items, seqs.events)
    params = ModelParams.from_settings(prep.settings)
    params = ModelParams.from_dict({**params.to_dict(), **typed_overrides(args.set, params.to_dict())}).validated()
    data = TrainingSet(
        items.n_items,
        split.train_sequences,
        split.train_events,
        ItemContent(items.content_tokens, len(items.vocab) + 1),
        item_counts(split.train_sequences, items.n_items),
    )
    print(f"features: {len(seqs.user_ids):,} users, {items.n_items:,} items; model {params.to_dict()}", flush=True)
    model = train(
        data,
        params,
        validation=split.validation,
        log=lambda m: print(m, flush=True),
        budget_seconds=args.budget_seconds,
        budget_sampled=False,
    )

    best = max(model.history, key=lambda r: r.get("val_ndcg@10", -1.0))
    best_epoch = int(best["epoch"])
    refit = refit_model(split, data, params, best_epoch) if args.refit else None

    ks = (10, 20)
    hist, hist_events, targets = split.test  # read once, after training
    model_report = evaluate(model, hist, hist_events, targets, ks)
    before_test = np.concatenate(hist)  # every interaction before each user's test item
    pop = baselines.popularity(before_test, max(ks), exclude=hist)
    pop_report = metrics.single_target_report(metrics.single_target_ranks(pop, targets), ks)

    print(
        f"\nleave-one-out, {len(targets):,} users, full ranking over {items.n_items:,} items, cell {params.cell}, "
        f"best epoch {best['epoch']} of {len(model.history)} (val NDCG@10 {best.get('val_ndcg@10', float('nan')):.4f}"
        f", val HR@10 {best.get('val_hit_rate@10', float('nan')):.4f}), {time.perf_counter() - t0:.0f}s total"
    )
    reference = reference_for(args.path)
    if reference is None:
        print("  no published reference for this file")
    else:
        print(f"  published on {reference.dataset}:")
        width = max(len(name) for name in reference.rows)
        for name, values in reference.rows.items():
            h10, n10, h20, n20 = (f"{v:.4f}" if v == v else "  -   " for v in values)  # nan: not published
            print(f"  published {name:{width}} HR@10 {h10} NDCG@10 {n10} HR@20 {h20} NDCG@20 {n20}")
        if reference.ratio_to:
            h10, n10, _, _ = reference.rows[reference.ratio_to]
            print(
                f"  ratio to {reference.ratio_to}: HR@10 {model_report['hit_rate@10'] / h10:.2f}x, "
                f"NDCG@10 {model_report['ndcg@10'] / n10:.2f}x"
            )
    print(line("popularity", pop_report))
    print(line("model", model_report), flush=True)
    reports = {"model": model_report, "popularity": pop_report}
    if refit is not None:
        reports["refit"] = evaluate(refit, hist, hist_events, targets, ks)
        print(line(f"model refit ({best_epoch} epochs on train + validation targets)", reports["refit"]))
    return reports


def refit_model(split: LooSplit, data: TrainingSet, params: ModelParams, epochs: int) -> TrainedModel:
    """Retrain from scratch, same parameters and seed, for the validation-selected number of epochs on every
    interaction but each user's test item: the validation targets become training data, as a production
    model trains on everything it has. Selection stays on validation; the test targets are not read here."""
    from recpipeline.loo import item_counts  # noqa: PLC0415
    from recpipeline.model import ModelParams, TrainingSet, train  # noqa: PLC0415

    sequences = split.refit_sequences
    full = TrainingSet(data.n_items, sequences, split.refit_events, data.content, item_counts(sequences, data.n_items))
    print(f"refit: {epochs} epochs on {sum(len(s) for s in sequences):,} interactions", flush=True)
    refit_params = ModelParams.from_dict({**params.to_dict(), "epochs": epochs})
    return train(full, refit_params, log=lambda m: print(m, flush=True), budget_seconds=0, budget_sampled=False)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("path", type=Path)
    ap.add_argument("--format", default="seqfile", choices=sorted(sources.FORMATS))
    ap.add_argument("--cell", default="gru", choices=list(CELLS))
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument(
        "--budget-seconds",
        type=float,
        default=0.0,
        help="bound training's wall clock (0 = none); full softmax still; the best validated weights are kept",
    )
    ap.add_argument(
        "--refit",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="after selection, retrain on train + validation targets for the selected epochs and print that "
        "model's line last (the line above it is the model trained without them, as the S3-Rec papers evaluate)",
    )
    ap.add_argument("--database-url", help="server to create the scratch database on (default: the configured one)")
    ap.add_argument("--scratch-db", default=SCRATCH_DB, help="name of the scratch database (dropped and recreated)")
    ap.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="PARAM=VALUE",
        help="extra ModelParams, e.g. --set embedding_dim=128 --set use_content=false",
    )
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    from recpipeline.model.tf_logs import known_notices_filtered  # noqa: PLC0415

    with known_notices_filtered():  # TensorFlow's start-up banners, not errors (see model.tf_logs)
        run(parse_args(argv))


if __name__ == "__main__":
    main()
