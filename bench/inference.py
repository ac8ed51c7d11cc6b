"""User-tower inference with the numpy forward pass against the Keras network, in the same run.

    .venv/bin/python bench/inference.py [--users 100000 --items 50000 --dim 64 --seq-len 50 --cell gru]

Builds a two-tower model with random weights (every weight perturbed, so biases and event embeddings count),
saves it, loads it back with the numpy path (no TensorFlow) and with Keras, and times `user_vectors` for
`--users` histories of 1..seq_len items on both after a small warm-up each (Keras traces its functions
there). Prints `inference: numpy X s vs keras Y s (R x), max abs diff D` (D over the L2-normalised vectors),
then the start-up each side pays before its first vector: numpy artifact load vs TensorFlow import, network
build and load.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from recpipeline.model.artifact import TrainedModel  # noqa: E402
from recpipeline.model.types import N_EVENT_CODES, ItemContent, ModelParams  # noqa: E402


def histories(users: int, items: int, seq_len: int, seed: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Per user 1..seq_len random item ids and event codes."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(1, seq_len + 1, users)
    flat = rng.integers(1, items + 1, int(lengths.sum())).astype(np.int32)
    codes = rng.integers(1, N_EVENT_CODES, int(lengths.sum())).astype(np.int32)
    cuts = np.cumsum(lengths)[:-1]
    return np.split(flat, cuts), np.split(codes, cuts)


def save_random_model(args: argparse.Namespace, directory: Path) -> None:
    """A model of the benchmark's size with every weight randomly perturbed, saved as training would."""
    from recpipeline.model.engine import Engine  # noqa: PLC0415

    params = ModelParams(
        cell=args.cell, embedding_dim=args.dim, seq_len=args.seq_len, seed=args.seed, num_layers=args.layers
    )
    rng = np.random.default_rng(args.seed)
    tokens = rng.integers(1, args.vocab, (args.items + 1, args.tokens)).astype(np.int32)
    tokens[0] = 0
    engine = Engine(params, args.items, args.vocab, args.tokens)
    engine.set_weights([w + rng.normal(0.0, 0.05, w.shape).astype(np.float32) for w in engine.get_weights()])
    counts = rng.integers(0, 50, args.items + 1)
    TrainedModel(params, args.items, ItemContent(tokens, args.vocab), counts, engine=engine).save(directory)


def timed(fn, *a) -> tuple[float, np.ndarray]:
    start = time.perf_counter()
    out = fn(*a)
    return time.perf_counter() - start, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--items", type=int, default=50_000)
    parser.add_argument("--dim", type=int, default=64)
    parser.add_argument("--seq-len", type=int, default=50)
    parser.add_argument("--cell", choices=("gru", "lstm"), default="gru")
    parser.add_argument("--layers", type=int, default=1)
    parser.add_argument("--tokens", type=int, default=8, help="content tokens per item")
    parser.add_argument("--vocab", type=int, default=5_000, help="content vocabulary size")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        artifact = Path(tmp) / "model"
        tf_start = time.perf_counter()
        save_random_model(args, artifact)
        build = time.perf_counter() - tf_start
        seqs, events = histories(args.users, args.items, args.seq_len, args.seed + 1)

        np_load, numpy_model = timed(TrainedModel.load, artifact)
        keras_load, keras_model = timed(lambda: TrainedModel.load(artifact, keras=True))
        for model in (numpy_model, keras_model):  # warm-up: Keras traces its tf.functions here
            model.user_vectors(seqs[:64], events[:64])

        numpy_s, numpy_vecs = timed(numpy_model.user_vectors, seqs, events)
        keras_s, keras_vecs = timed(keras_model.user_vectors, seqs, events)
        items_np, items_numpy = timed(numpy_model.item_vectors)
        items_k, items_keras = timed(keras_model.item_vectors)

    diff, ratio = float(np.abs(numpy_vecs - keras_vecs).max()), keras_s / numpy_s
    print(f"inference: numpy {numpy_s:.2f} s vs keras {keras_s:.2f} s ({ratio:.1f} x), max abs diff {diff:.2e}")
    print(
        f"  {args.users} users, histories 1..{args.seq_len}, {args.items} items, dim {args.dim}, {args.cell} "
        f"x{args.layers}, {args.tokens} content tokens per item"
    )
    print(
        f"  item vectors: numpy {items_np:.2f} s vs keras {items_k:.2f} s, "
        f"max abs diff {float(np.abs(items_numpy - items_keras).max()):.2e}"
    )
    print(
        f"  start-up: numpy load {np_load:.2f} s; keras: TF import + first build {build:.1f} s, "
        f"then load (build + set weights) {keras_load:.2f} s"
    )


if __name__ == "__main__":
    main()
