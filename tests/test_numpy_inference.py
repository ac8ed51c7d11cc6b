"""The numpy forward pass (`recpipeline.model.numpy_net`) against the Keras network it replaces at inference:
same user and item vectors within 1e-5 for every tower variant, and no TensorFlow in the loading path."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from recpipeline.model import ItemContent, ModelParams, TrainedModel, TrainingSet, train
from recpipeline.model.numpy_net import left_padded, weight_names
from recpipeline.model.types import N_EVENT_CODES

N_ITEMS, VOCAB, WIDTH = 40, 11, 3
TOL = 1e-5

VARIANTS = {
    "plain": {},
    "no-content-no-events": {"use_content": False, "use_events": False},
    "deep-residual-hidden": {"num_layers": 2, "residual": True, "hidden_dim": 12},
    "deep-no-events": {"num_layers": 2, "hidden_dim": 6, "use_events": False},
    # read by sasrec only (gru/lstm ignore them): 4 heads of 2 dims, 3 blocks, wider feed-forward
    "heads-blocks": {"num_heads": 4, "num_blocks": 3, "ffn_mult": 2, "residual": True},
}
CELLS = ["gru", "lstm", "sasrec"]


def params(cell: str, **kw) -> ModelParams:
    base = dict(cell=cell, embedding_dim=8, seq_len=10, eval_batch_users=16, seed=3, epochs=1, batch_size=16)
    return ModelParams(**{**base, **kw})


def content(rng: np.random.Generator, rows: int = N_ITEMS + 1) -> ItemContent:
    tokens = rng.integers(0, VOCAB, (rows, WIDTH)).astype(np.int32)
    tokens[0] = 0
    tokens[5] = 0  # an item without content
    return ItemContent(tokens, VOCAB)


def histories(rng: np.random.Generator, n: int = 90) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Empty, length-1, short and over-long (> seq_len) histories, with padding ids, ids beyond the table and
    event codes outside the vocabulary sprinkled in."""
    lengths = np.concatenate([[0, 0, 1, 1, 2, 10, 11, 35], rng.integers(0, 30, n - 8)])
    seqs = [rng.integers(0, N_ITEMS + 6, k).astype(np.int64) for k in lengths]
    events = [rng.integers(0, N_EVENT_CODES + 2, k).astype(np.int64) for k in lengths]
    seqs[1] = np.array([0, N_ITEMS + 4], dtype=np.int64)  # nothing left after dropping invalid ids
    events[1] = np.array([1, 2], dtype=np.int64)
    return seqs, events


def keras_model(p: ModelParams, rng: np.random.Generator, data_content: ItemContent | None) -> TrainedModel:
    """A Keras-engine model with every weight random (biases, event embeddings and all), fresh as after training."""
    from recpipeline.model.engine import Engine

    engine = Engine(p, N_ITEMS, VOCAB, WIDTH)
    engine.set_weights([rng.normal(0.0, 0.5, w.shape).astype(np.float32) for w in engine.get_weights()])
    counts = rng.integers(0, 3, N_ITEMS + 1)  # some items never seen in training: content-only vectors
    return TrainedModel(p, N_ITEMS, data_content, counts, engine=engine)


def max_diff(a: np.ndarray, b: np.ndarray) -> float:
    assert a.shape == b.shape and a.dtype == b.dtype == np.float32
    return float(np.abs(a - b).max()) if a.size else 0.0


@pytest.mark.parametrize("variant", sorted(VARIANTS))
@pytest.mark.parametrize("cell", CELLS)
def test_numpy_matches_keras(cell: str, variant: str, tmp_path: Path):
    rng = np.random.default_rng(len(variant) + CELLS.index(cell))
    p = params(cell, **VARIANTS[variant])
    keras = keras_model(p, rng, content(rng))
    keras.save(tmp_path / "m")
    loaded = TrainedModel.load(tmp_path / "m")
    assert loaded._engine is None and loaded._net is not None
    seqs, events = histories(rng)
    assert max_diff(loaded.user_vectors(seqs, events), keras.user_vectors(seqs, events)) < TOL
    assert max_diff(loaded.item_vectors(), keras.item_vectors()) < TOL
    # a grown catalogue: rows beyond the trained ids and token ids beyond the trained vocabulary
    grown = ItemContent(rng.integers(0, VOCAB + 4, (N_ITEMS + 8, WIDTH)), VOCAB + 4)
    assert max_diff(loaded.item_vectors(grown), keras.item_vectors(grown)) < TOL
    assert max_diff(loaded.user_vectors(seqs, events, grown), keras.user_vectors(seqs, events, grown)) < TOL


@pytest.mark.parametrize("cell", CELLS)
def test_numpy_matches_trained_keras_model(cell: str, tmp_path: Path):
    """Weights as training leaves them (one epoch, no content in the artifact)."""
    rng = np.random.default_rng(11)
    seqs = [
        ((s + np.arange(k)) % N_ITEMS + 1).astype(np.int32)
        for s, k in zip(rng.integers(0, N_ITEMS, 64), rng.integers(2, 14, 64), strict=True)
    ]
    events = [rng.integers(1, N_EVENT_CODES, len(s)).astype(np.int32) for s in seqs]
    model = train(TrainingSet(N_ITEMS, seqs, events, None), params(cell, num_layers=2, residual=True))
    model.save(tmp_path / "m")
    loaded = TrainedModel.load(tmp_path / "m")
    queries, query_events = histories(rng)
    assert max_diff(loaded.user_vectors(queries, query_events), model.user_vectors(queries, query_events)) < TOL
    assert max_diff(loaded.item_vectors(), model.item_vectors()) < TOL


@pytest.mark.parametrize("variant", sorted(VARIANTS))
@pytest.mark.parametrize("cell", CELLS)
def test_weight_names_follow_keras_order(cell: str, variant: str):
    from recpipeline.model.engine import Engine

    p = params(cell, **VARIANTS[variant])
    for vocab in (1, VOCAB):  # a vocabulary of just the pad id builds no content embedding
        assert Engine(p, N_ITEMS, vocab, WIDTH).weight_names() == weight_names(p, vocab)


def test_artifact_without_weight_names_still_loads(tmp_path: Path):
    rng = np.random.default_rng(5)
    keras = keras_model(params("lstm", num_layers=2, hidden_dim=12), rng, content(rng))
    keras.save(tmp_path / "m")
    names = json.loads((tmp_path / "m" / "weight_names.json").read_text())
    assert names[0] == "log_temperature" and names[-1] == "user_projection/bias"
    (tmp_path / "m" / "weight_names.json").unlink()  # as saved before the file existed
    old = TrainedModel.load(tmp_path / "m")
    seqs, events = histories(rng)
    assert max_diff(old.user_vectors(seqs, events), keras.user_vectors(seqs, events)) < TOL
    # saved again without an engine: the same weights, loadable again
    old.save(tmp_path / "again")
    again = TrainedModel.load(tmp_path / "again")
    np.testing.assert_array_equal(again.user_vectors(seqs, events), old.user_vectors(seqs, events))
    # and the Keras path of the same artifact agrees
    assert max_diff(TrainedModel.load(tmp_path / "m", keras=True).item_vectors(), old.item_vectors()) < TOL


def test_mismatched_weights_are_refused(tmp_path: Path):
    rng = np.random.default_rng(6)
    keras_model(params("gru"), rng, content(rng)).save(tmp_path / "m")
    (tmp_path / "m" / "weight_names.json").write_text(json.dumps(weight_names(params("lstm"), VOCAB)))
    with pytest.raises(ValueError, match="do not match"):
        TrainedModel.load(tmp_path / "m")


def test_left_padding_keeps_the_last_valid_items():
    seqs = [np.array([3, 0, 4, 99, 5, 6]), np.array([], dtype=np.int64), np.array([7])]
    events = [np.array([1, 1, 2, 3, 9, 4]), np.array([], dtype=np.int64), np.array([2])]
    ids, codes, lengths = left_padded(seqs, events, rows=10, seq_len=3)
    assert ids.tolist() == [[4, 5, 6], [0, 0, 0], [0, 0, 7]]
    assert codes.tolist() == [[2, N_EVENT_CODES - 1, 4], [0, 0, 0], [0, 0, 2]]
    assert lengths.tolist() == [3, 0, 1]
    with pytest.raises(ValueError):
        left_padded(seqs, events[:2] + [np.array([1, 2])], rows=10, seq_len=3)


def run_without_tensorflow(code: str) -> subprocess.CompletedProcess:
    """Run `code` in a fresh interpreter that fails if anything imports TensorFlow or Keras."""
    guard = "import sys\nassert 'tensorflow' not in sys.modules and 'keras' not in sys.modules, sorted(sys.modules)\n"
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code) + guard], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done


@pytest.fixture(scope="module")
def saved_artifact(tmp_path_factory) -> tuple[Path, np.ndarray, np.ndarray]:
    """A saved GRU artifact with content, and its Keras user and item vectors for `histories(rng(9))`."""
    rng = np.random.default_rng(8)
    model = keras_model(params("gru", num_layers=2, residual=True), rng, content(rng))
    path = tmp_path_factory.mktemp("artifact") / "m"
    model.save(path)
    seqs, events = histories(np.random.default_rng(9))
    return path, model.user_vectors(seqs, events), model.item_vectors()


def test_loaded_artifact_computes_vectors_without_tensorflow(saved_artifact, tmp_path: Path):
    path, users, items = saved_artifact
    run_without_tensorflow(
        f"""
        import numpy as np
        from recpipeline.model.artifact import TrainedModel
        from tests.test_numpy_inference import histories
        model = TrainedModel.load({str(path)!r})
        seqs, events = histories(np.random.default_rng(9))
        np.save({str(tmp_path / "users.npy")!r}, model.user_vectors(seqs, events))
        np.save({str(tmp_path / "items.npy")!r}, model.item_vectors())
        """
    )
    assert max_diff(np.load(tmp_path / "users.npy"), users) < TOL
    assert max_diff(np.load(tmp_path / "items.npy"), items) < TOL


def test_score_and_evaluate_load_models_without_tensorflow(saved_artifact):
    """The stages' loading path (`model.daily.load_for_day`) with the catalogue read stubbed (no database)."""
    path, _, _ = saved_artifact
    run_without_tensorflow(
        f"""
        from datetime import date
        from types import SimpleNamespace
        import numpy as np
        import recpipeline.evaluation.daily, recpipeline.shard_scoring
        from recpipeline import features
        from recpipeline.model.daily import load_for_day
        from tests.test_numpy_inference import histories

        tokens = np.random.default_rng(1).integers(0, {VOCAB}, ({N_ITEMS} + 4, {WIDTH}))
        words = [f"tok{{i}}" for i in range(1, {VOCAB})]
        features.load_item_table = lambda url, ds, vocab=None: SimpleNamespace(content_tokens=tokens, vocab=words)
        model, items, item_vecs = load_for_day("postgresql://unused", date(2026, 10, 2), {str(path)!r})
        assert item_vecs.shape == ({N_ITEMS} + 4, 8)
        users = model.user_vectors(*histories(np.random.default_rng(9)))
        assert users.shape == (90, 8) and np.allclose(np.linalg.norm(users, axis=1), 1, atol=1e-5)
        """
    )
