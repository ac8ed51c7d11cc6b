"""TensorFlow runtime of the model: thread/determinism setup, network construction, batched inference.

Imports TensorFlow lazily (inside functions) so that `import recpipeline.model` stays TF-free.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from recpipeline.model.types import N_EVENT_CODES, ItemContent, ModelParams

_TF_CONFIGURED = False


def setup_tf(params: ModelParams) -> Any:
    """Import TF, cap its thread pools to the machine (once per process) and return the module."""
    global _TF_CONFIGURED
    import tensorflow as tf  # noqa: PLC0415

    if not _TF_CONFIGURED:
        threads = params.threads or os.cpu_count() or 1
        try:
            tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(min(2, threads))
        except RuntimeError:  # runtime already initialised by someone else: keep its setting
            pass
        _TF_CONFIGURED = True
    return tf


def seed_everything(seed: int) -> None:
    """Same seed -> same weights, dropout masks and batches: seeds Python/numpy/TF, deterministic ops."""
    import keras  # noqa: PLC0415
    import tensorflow as tf  # noqa: PLC0415

    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


def content_arrays(content: ItemContent | None, rows: int) -> tuple[np.ndarray, int]:
    """(rows, T) int32 token matrix (zero rows where content is missing) and the vocabulary size."""
    if content is None:
        return np.zeros((rows, 1), dtype=np.int32), 0
    tokens = np.zeros((rows, max(content.tokens.shape[1], 1)), dtype=np.int32)
    n = min(rows, content.tokens.shape[0])
    tokens[:n, : content.tokens.shape[1]] = content.tokens[:n]
    return tokens, int(content.vocab_size)


def warm_flags(rows: int, n_items: int, item_counts: np.ndarray | None) -> np.ndarray:
    """1.0 where an item may use its id embedding: trained range, seen in training; padding row -> 0."""
    warm = np.zeros(rows, dtype=np.float32)
    upto = min(rows, n_items + 1)
    if item_counts is None:
        warm[1:upto] = 1.0
    else:
        warm[1:upto] = (np.asarray(item_counts)[1:upto] > 0).astype(np.float32)
    return warm


def pad_left(seqs: list[np.ndarray], length: int | None = None) -> np.ndarray:
    """Stack int sequences into (B, L) left-padded with 0; L = longest (at least 1) unless given."""
    width = max(1, max((len(s) for s in seqs), default=0)) if length is None else length
    out = np.zeros((len(seqs), width), dtype=np.int32)
    for i, s in enumerate(seqs):
        if len(s):
            s = np.asarray(s[-width:], dtype=np.int32)
            out[i, width - len(s) :] = s
    return out


class Engine:
    """A built `TwoTowerNet` plus compiled inference functions."""

    def __init__(self, params: ModelParams, n_items: int, vocab_size: int, token_width: int):
        tf = setup_tf(params)
        from recpipeline.model.towers import TwoTowerNet, l2_normalize  # noqa: PLC0415

        self.tf = tf
        self.params = params
        self.n_items = n_items
        self.net = TwoTowerNet(n_items, vocab_size, params)
        # build every layer eagerly so variables exist before any tf.function is traced
        rows = tf.range(2, dtype=tf.int32)
        table = self.net.item_table(rows, tf.zeros((2, token_width), tf.int32), tf.ones((2,)), training=False)
        self.net.user_states(tf.ones((1, 2), tf.int32), tf.ones((1, 2), tf.int32), table, training=False)
        d = params.embedding_dim
        net = self.net

        @tf.function(
            input_signature=[
                tf.TensorSpec([None], tf.int32),
                tf.TensorSpec([None, None], tf.int32),
                tf.TensorSpec([None], tf.float32),
            ]
        )
        def _table(rows, tokens, warm):
            return net.item_table(rows, tokens, warm, training=False)

        seq_spec = tf.TensorSpec([None, None], tf.int32)

        @tf.function(input_signature=[seq_spec, seq_spec, tf.TensorSpec([None, d], tf.float32)])
        def _last_state(ids, events, table):
            states = net.user_states(ids, events, table, training=False)
            return l2_normalize(states[:, -1, :])

        self._table = _table
        self._last_state = _last_state

    def raw_table(self, tokens: np.ndarray, warm: np.ndarray) -> np.ndarray:
        rows = np.arange(len(tokens), dtype=np.int32)
        return self._table(rows, tokens, warm).numpy()

    def user_vectors(
        self, sequences: list[np.ndarray], events: list[np.ndarray], table: np.ndarray, seq_len: int, batch_users: int
    ) -> np.ndarray:
        """L2-normalised final user states; the last `seq_len` items; ids outside `table` are dropped."""
        rows = len(table)
        out = np.zeros((len(sequences), self.params.embedding_dim), dtype=np.float32)
        clipped_s, clipped_e = [], []
        for s, e in zip(sequences, events, strict=True):
            s = np.asarray(s, dtype=np.int64)
            e = np.clip(np.asarray(e, dtype=np.int64), 0, N_EVENT_CODES - 1)  # unknown codes -> padding id
            keep = (s > 0) & (s < rows)
            clipped_s.append(s[keep][-seq_len:])
            clipped_e.append(e[keep][-seq_len:])
        lengths = np.array([len(s) for s in clipped_s])
        order = np.argsort(lengths, kind="stable")
        for start in range(0, len(order), batch_users):
            idx = order[start : start + batch_users]
            ids = pad_left([clipped_s[i] for i in idx])
            evs = pad_left([clipped_e[i] for i in idx], ids.shape[1])
            out[idx] = self._last_state(ids, evs, table).numpy()
        return out

    def get_weights(self) -> list[np.ndarray]:
        return [np.array(w) for w in self.net.get_weights()]

    def weight_names(self) -> list[str]:
        """Variable paths in `get_weights()` order, without the model's own (instance-numbered) prefix."""
        prefix = f"{self.net.name}/"
        return [w.path.removeprefix(prefix) for w in self.net.weights]

    def set_weights(self, weights: list[np.ndarray]) -> None:
        self.net.set_weights(weights)
