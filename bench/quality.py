"""Model quality on a real public dataset, through the pipeline's own code, next to published numbers.

    .venv/bin/python bench/quality.py --format seqfile /work/shared/data/amazon_beauty [--cell gru|lstm]

Lands the data with the project's source adapter into PostgreSQL, validates it (data_quality), builds the
features (features.items / features.user_sequences), then runs the leave-one-out protocol of the
SASRec / S3-Rec / ICLRec papers: per user the last item is the test target and the one before it the
validation target (early stopping); every target is ranked against ALL items with the user's history
excluded (ties counted pessimistically). The popularity baseline is leak-free (counts interactions before
each user's test item only). Prints one line per epoch and, at the end,
`model HR@10 .. NDCG@10 .. HR@20 .. NDCG@20 ..` and the same for `popularity`.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from recpipeline import db, features, quality, sources  # noqa: E402
from recpipeline.config import load_settings  # noqa: E402
from recpipeline.evaluation import baselines, metrics  # noqa: E402

DS = date(2020, 1, 1)
PUBLISHED = {  # Amazon Beauty, full ranking (../shared/data/README.md)
    "popularity (S3-Rec paper)": (0.0152, 0.0068, 0.0217, 0.0084),
    "GRU4Rec": (0.0283, 0.0137, 0.0479, 0.0187),
    "SASRec": (0.0605, 0.0318, 0.0902, 0.0394),
    "ICLRec (WWW 2022)": (0.0744, 0.0403, 0.1058, 0.0483),
}


def line(name: str, report: dict[str, float]) -> str:
    return (
        f"{name} HR@10 {report['hit_rate@10']:.4f} NDCG@10 {report['ndcg@10']:.4f} "
        f"HR@20 {report['hit_rate@20']:.4f} NDCG@20 {report['ndcg@20']:.4f}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("path", type=Path)
    ap.add_argument("--format", default="seqfile")
    ap.add_argument("--cell", default="gru", choices=["gru", "lstm"])
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument("--database-url")
    ap.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="PARAM=VALUE",
        help="extra ModelParams, e.g. --set embedding_dim=128 --set use_content=false",
    )
    args = ap.parse_args()

    from recpipeline.loo import item_counts, leave_one_out
    from recpipeline.model import ItemContent, ModelParams, TrainingSet, rank_of_targets, train

    t0 = time.perf_counter()
    url = args.database_url or db.database_url()
    db.upgrade(url)
    settings = load_settings({"history_days": 100_000, "cell": args.cell, "epochs": args.epochs})
    landed = sources.land(url, args.format, args.path, ds=DS, source=f"bench-{args.format}")
    report = quality.validate_day(url, DS, settings)
    built = features.build_features(url, DS, settings)
    print(
        f"landed {sum(r.rows for r in landed if r.target == 'events'):,} events; accepted "
        f"{report.accepted['events']:,}, rejected {report.rejected['events']:,}; features: {built['users']:,} "
        f"users, {built['items']:,} items ({time.perf_counter() - t0:.0f}s)",
        flush=True,
    )

    items = features.load_item_table(url, DS)
    seqs = features.load_sequences(url, DS)
    split = leave_one_out(seqs.items, seqs.events)
    content = ItemContent(items.content_tokens, len(items.vocab) + 1)
    overrides = {}
    for kv in args.set:
        key, _, value = kv.partition("=")
        overrides[key] = value
    params = ModelParams.from_settings(settings)
    defaults = params.to_dict()
    unknown = sorted(set(overrides) - set(defaults))
    if unknown:
        raise SystemExit(f"unknown model params: {', '.join(unknown)}")
    for key, value in overrides.items():  # typed like the field's current value
        kind = type(defaults[key])
        overrides[key] = value.lower() in ("1", "true", "yes") if kind is bool else kind(value)
    params = ModelParams.from_dict({**params.to_dict(), **overrides}).validated()
    data = TrainingSet(
        items.n_items,
        split.train_sequences,
        split.train_events,
        content,
        item_counts(split.train_sequences, items.n_items),
    )
    model = train(data, params, validation=split.validation, log=lambda m: print(m, flush=True))

    ks = (10, 20)
    hist, hist_events, targets = split.test
    ranks = rank_of_targets(model.user_vectors(hist, hist_events), model.item_vectors(), targets, hist)
    model_report = metrics.single_target_report(ranks, ks)

    before_test = np.concatenate(hist)  # every interaction before each user's test item
    pop = baselines.popularity(before_test, max(ks), exclude=hist)
    pop_report = metrics.single_target_report(metrics.single_target_ranks(pop, targets), ks)

    print(
        f"\nAmazon-style leave-one-out, {len(targets):,} users, full ranking over {items.n_items:,} items, "
        f"cell {args.cell}, {time.perf_counter() - t0:.0f}s total"
    )
    for name, (h10, n10, h20, n20) in PUBLISHED.items():
        print(f"  published {name:28} HR@10 {h10:.4f} NDCG@10 {n10:.4f} HR@20 {h20:.4f} NDCG@20 {n20:.4f}")
    print(
        f"  ratio to ICLRec: HR@10 {model_report['hit_rate@10'] / 0.0744:.2f}x, "
        f"NDCG@10 {model_report['ndcg@10'] / 0.0403:.2f}x"
    )
    print(line("model", model_report))
    print(line("popularity", pop_report))


if __name__ == "__main__":
    main()
