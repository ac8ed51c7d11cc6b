"""The sasrec cell: causal (a later item never changes an earlier user state, in Keras and in numpy), blind to
left padding, numpy equal to Keras at every position, and deterministic for a seed."""

from __future__ import annotations

import numpy as np
import pytest

from recpipeline.config import CELLS
from recpipeline.model import ModelParams, TrainingSet, train
from recpipeline.model.numpy_net import NumpyNet
from recpipeline.model.types import N_EVENT_CODES

N_ITEMS, VOCAB, WIDTH, L = 30, 9, 3, 12
TOL = 1e-5


def params(**kw) -> ModelParams:
    base = dict(cell="sasrec", embedding_dim=8, num_heads=2, num_blocks=2, seq_len=L, seed=4, epochs=1, batch_size=8)
    return ModelParams(**{**base, **kw}).validated()


def nets(p: ModelParams, seed: int = 0):
    """A Keras engine with random weights (every weight, layer norms included) and the numpy net of the same."""
    from recpipeline.model.engine import Engine

    rng = np.random.default_rng(seed)
    engine = Engine(p, N_ITEMS, VOCAB, WIDTH)
    engine.set_weights([rng.normal(0.0, 0.5, w.shape).astype(np.float32) for w in engine.get_weights()])
    numpy_net = NumpyNet.from_weights(p, N_ITEMS, VOCAB, engine.get_weights(), engine.weight_names())
    tokens = rng.integers(0, VOCAB, (N_ITEMS + 1, WIDTH)).astype(np.int32)
    warm = np.ones(N_ITEMS + 1, dtype=np.float32)
    warm[0] = 0.0
    return engine, numpy_net, numpy_net.raw_table(tokens, warm)


def batch(seed: int = 1, users: int = 6) -> tuple[np.ndarray, np.ndarray]:
    """(users, L) left-padded ids with lengths 1..L and their event codes."""
    rng = np.random.default_rng(seed)
    ids = np.zeros((users, L), dtype=np.int32)
    for u, n in enumerate(np.linspace(1, L, users).astype(int)):
        ids[u, L - n :] = rng.integers(1, N_ITEMS + 1, n)
    events = np.where(ids > 0, rng.integers(1, N_EVENT_CODES, ids.shape), 0).astype(np.int32)
    return ids, events


def keras_states(engine, ids: np.ndarray, events: np.ndarray, table: np.ndarray) -> np.ndarray:
    return np.asarray(engine.net.user_states(ids, events, table, training=False))


def test_sasrec_is_a_cell():
    assert "sasrec" in CELLS
    with pytest.raises(ValueError, match="divisible"):
        params(embedding_dim=8, num_heads=3)


@pytest.mark.parametrize("variant", [{}, {"residual": True, "num_blocks": 3, "num_heads": 4}])
def test_changing_a_later_item_changes_no_earlier_state(variant: dict):
    engine, numpy_net, table = nets(params(**variant))
    ids, events = batch()
    before_k, before_n = keras_states(engine, ids, events, table), numpy_net.attention_states(ids, events, table, L)
    for t in (L - 1, L // 2, L - 3):
        changed, changed_events = ids.copy(), events.copy()
        changed[:, t] = np.where(ids[:, t] > 0, ids[:, t] % N_ITEMS + 1, 0)  # a different real item
        changed_events[:, t] = np.where(ids[:, t] > 0, events[:, t] % (N_EVENT_CODES - 1) + 1, 0)
        after_k = keras_states(engine, changed, changed_events, table)
        after_n = numpy_net.attention_states(changed, changed_events, table, L)
        real = ids[:, t] > 0
        np.testing.assert_array_equal(after_k[:, :t], before_k[:, :t])  # Keras: exactly the same earlier states
        np.testing.assert_array_equal(after_n[:, :t], before_n[:, :t])  # numpy too
        assert (np.abs(after_k[real, t] - before_k[real, t]).max(axis=1) > 1e-4).all()  # position t itself moves
        assert (np.abs(after_n[real, t] - before_n[real, t]).max(axis=1) > 1e-4).all()


def test_numpy_equals_keras_at_every_position_and_left_padding_changes_nothing():
    engine, numpy_net, table = nets(params(residual=True), seed=2)
    ids, events = batch(seed=3)
    keras = keras_states(engine, ids, events, table)
    numpy_all = numpy_net.attention_states(ids, events, table, L)
    real = ids > 0
    assert np.abs(keras[real] - numpy_all[real]).max() < TOL
    wider = np.concatenate([np.zeros((len(ids), 5), np.int32), ids], axis=1)  # 5 more padding steps on the left
    wider_events = np.concatenate([np.zeros((len(ids), 5), np.int32), events], axis=1)
    assert np.abs(keras_states(engine, wider, wider_events, table)[:, 5:][real] - keras[real]).max() < TOL
    assert np.abs(numpy_net.attention_states(wider, wider_events, table, L)[real] - numpy_all[real]).max() < TOL


def test_training_is_deterministic_for_a_seed():
    rng = np.random.default_rng(7)
    seqs = [rng.integers(1, N_ITEMS + 1, rng.integers(3, 15)).astype(np.int32) for _ in range(40)]
    events = [np.full(len(s), 1, dtype=np.int32) for s in seqs]
    data = TrainingSet(N_ITEMS, seqs, events, None)
    first, second = train(data, params(epochs=2)), train(data, params(epochs=2))
    np.testing.assert_array_equal(first.item_vectors(), second.item_vectors())
    np.testing.assert_array_equal(first.user_vectors(seqs, events), second.user_vectors(seqs, events))
    assert all(r["sequences_per_second"] > 0 and r["train_seconds"] > 0 for r in first.history)


def test_positions_from_the_first_or_back_from_the_last_item():
    """Default: counted from the first real item. Recency: the last real item is at position 0 in a validation
    history and in the test history one item longer."""
    from recpipeline.model.towers import positions

    valid = np.array([[0, 0, 0, 1, 1, 1], [0, 0, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1]], dtype=bool)
    got = np.asarray(positions(valid, L, from_end=True))
    np.testing.assert_array_equal(got[:, -1], [0, 0, 0])
    np.testing.assert_array_equal(got[1, 2:], [3, 2, 1, 0])
    np.testing.assert_array_equal(np.asarray(positions(valid, 3, from_end=True))[2], [2, 2, 2, 2, 1, 0])  # clipped
    np.testing.assert_array_equal(np.asarray(positions(valid, L))[1, 2:], [0, 1, 2, 3])
    np.testing.assert_array_equal(np.asarray(positions(valid, L))[:, -1], [2, 3, 5])


@pytest.mark.parametrize("recency", [True, False])
def test_numpy_reads_positions_as_keras(recency: bool):
    """The user state of the last item moves with its position row (0 with recency, n - 1 without), in both."""
    p = params(recency_positions=recency)
    engine, numpy_net, table = nets(p, seed=5)
    ids, events = batch(seed=6)
    keras = keras_states(engine, ids, events, table)[:, -1]
    assert np.abs(keras - numpy_net.attention_states(ids, events, table, 1)[:, -1]).max() < TOL
    weights = engine.get_weights()
    names = engine.weight_names()
    at = names.index("position/embeddings")
    lengths = (ids > 0).sum(axis=1)
    row = 0 if recency else int(lengths[-1]) - 1  # the longest user's last item
    weights[at] = weights[at].copy()
    weights[at][row] += np.linspace(-2.0, 2.0, weights[at].shape[1], dtype=np.float32)  # not a constant: LN removes it
    engine.set_weights(weights)
    moved = keras_states(engine, ids, events, table)[:, -1]
    assert np.abs(moved[-1] - keras[-1]).max() > 1e-3
    if recency:  # every user's last item reads row 0
        assert (np.abs(moved - keras).max(axis=1) > 1e-3).all()
    shifted = NumpyNet.from_weights(p, N_ITEMS, VOCAB, weights, names)
    assert np.abs(moved - shifted.attention_states(ids, events, table, 1)[:, -1]).max() < TOL
