"""Research driver: the two-tower model on Amazon Beauty, full ranking, leave-one-out (see data README).

    .venv/bin/python bench/beauty_experiment.py --data-dir PATH/TO/amazon_beauty --cell gru \
        --epochs 40 --record /tmp/beauty_experiments.jsonl

Every ModelParams field is a flag (--embedding-dim 64, --no-use-content, ...). Prints one line per epoch and
`model HR@10 x NDCG@10 y HR@20 x NDCG@20 y` on the test targets with the best-validation weights.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

from recpipeline.events import EVENT_CODES
from recpipeline.loo import item_counts, leave_one_out
from recpipeline.model import ItemContent, ModelParams, TrainingSet, evaluate, train


def read_beauty(data_dir: Path) -> tuple[list[np.ndarray], int]:
    """Beauty.txt: `user item item ...` per line, items chronological, ids from 1."""
    seqs = []
    with open(data_dir / "Beauty.txt") as fh:
        for line in fh:
            parts = line.split()
            if len(parts) > 1:
                seqs.append(np.array([int(x) for x in parts[1:]], dtype=np.int32))
    return seqs, int(max(int(s.max()) for s in seqs))


def read_attributes(data_dir: Path, n_items: int) -> ItemContent:
    """Beauty_item2attributes.json -> ItemContent: attribute id a becomes token a (0 = pad)."""
    with open(data_dir / "Beauty_item2attributes.json") as fh:
        attrs = {int(k): v for k, v in json.load(fh).items()}
    width = max(1, max((len(v) for v in attrs.values()), default=1))
    tokens = np.zeros((n_items + 1, width), dtype=np.int32)
    for item, values in attrs.items():
        if 0 < item <= n_items:
            tokens[item, : len(values)] = values
    return ItemContent(tokens, int(tokens.max()) + 1)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", type=Path, required=True, help="folder with Beauty.txt (S3-Rec format)")
    ap.add_argument("--record", type=Path, default=None, help="append a JSON line with config and results")
    ap.add_argument("--tag", default="", help="free-text label stored in the record")
    for f in dataclasses.fields(ModelParams):
        flag = "--" + f.name.replace("_", "-")
        if f.type in ("bool", bool):
            ap.add_argument(flag, action=argparse.BooleanOptionalAction, default=f.default)
        else:
            kind = {"int": int, "float": float, "str": str}[str(f.type)]
            ap.add_argument(flag, type=kind, default=f.default)
    ap.set_defaults(epochs=40, patience=5)
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    os.environ["RECPIPE_TRAIN_BUDGET_SECONDS"] = "0"  # research runs train to early stopping, full softmax
    params = ModelParams(**{f.name: getattr(args, f.name) for f in dataclasses.fields(ModelParams)}).validated()
    t0 = time.perf_counter()
    seqs, n_items = read_beauty(args.data_dir)
    content = read_attributes(args.data_dir, n_items)
    code = EVENT_CODES["purchase"]  # a review stands for a purchase; every target weighs the same
    events = [np.full(len(s), code, dtype=np.int32) for s in seqs]
    split = leave_one_out(seqs, events)
    data = TrainingSet(
        n_items, split.train_sequences, split.train_events, content, item_counts(split.train_sequences, n_items)
    )
    print(
        f"users {len(seqs)} items {n_items} train positions {sum(len(s) - 1 for s in data.sequences)} "
        f"params {json.dumps(params.to_dict(), sort_keys=True)}",
        flush=True,
    )
    model = train(data, params, validation=split.validation, log=lambda m: print(m, flush=True))
    train_seconds = time.perf_counter() - t0
    test = evaluate(model, *split.test, ks=(10, 20))
    total = time.perf_counter() - t0
    print(
        f"model HR@10 {test['hit_rate@10']:.4f} NDCG@10 {test['ndcg@10']:.4f} "
        f"HR@20 {test['hit_rate@20']:.4f} NDCG@20 {test['ndcg@20']:.4f}  ({total:.0f}s total)",
        flush=True,
    )
    if args.record:
        best = max(model.history, key=lambda r: r.get("val_ndcg@10", 0.0))
        rec = {
            "tag": args.tag,
            "params": params.to_dict(),
            "test": test,
            "best_epoch": best["epoch"],
            "best_val": {k: v for k, v in best.items() if k.startswith("val_")},
            "epochs_run": len(model.history),
            "train_seconds": train_seconds,
            "total_seconds": total,
            "sec_per_epoch": float(np.mean([r["seconds"] for r in model.history])),
        }
        with open(args.record, "a") as fh:
            fh.write(json.dumps(rec) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
