"""The trained two-tower network's forward pass in numpy: item and user vectors without importing TensorFlow.

`score`, `evaluate` and a refresh only run inference, so they read the saved weights (`weights.npz`, the Keras
weight list in `Engine.get_weights()` order) and compute exactly what `towers.TwoTowerNet` computes with
`training=False` (no dropout, no id-dropout), in float32, vectorised over a block of users with a Python loop
over time steps. tests/test_numpy_inference.py holds it to Keras within 1e-5.

Item tower  v_i = warm_i * E_id[min(i, n_items)] + sum_t [0 < tok_it < V] E_tok[tok_it] / max(#valid tokens, 1)
User tower  x_t = V[s_t] + E_event[e_t];  h_t = RNN layers (masked: a padding step keeps the state);
            u = W h_L + b (+ V[s_L] if residual);  user vector = u / max(|u|, eps)
SASRec      x_t = V[s_t] + E_event[e_t] + P[p_t] (p_t: position counted from the first real item, or back from the
            last with recency_positions); pre-LN causal
            self-attention blocks (equations in `towers`), only the last query computed in the last block;
            u = W LN_f(h_L) + b (+ V[s_L] if residual)
"""

from __future__ import annotations

import ctypes
import functools
import glob
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from recpipeline import ragged
from recpipeline.model.types import N_EVENT_CODES, ModelParams

EPS = 1e-8  # = towers.EPS (towers imports TensorFlow, so it is not imported here)
LN_EPS = 1e-6  # = towers.LN_EPS
MASKED = np.float32(-1e9)  # = towers.MASKED
RECURRENT_PARTS = ("kernel", "recurrent_kernel", "bias")
ATTENTION_PARTS = (  # = towers.SASREC_PARTS + towers.SASREC_FFN_PARTS, in Keras' creation order
    "ln1_gamma", "ln1_beta", "wq", "bq", "wk", "bk", "wv", "bv", "wo", "bo", "ln2_gamma", "ln2_beta",
    "w1", "b1", "w2", "b2",
)  # fmt: skip


def weight_names(params: ModelParams, vocab_size: int) -> list[str]:
    """Names of `TwoTowerNet`'s weights in `get_weights()` order (model prefix dropped), built from the params.

    Keras lists the model's own variable first, then each sub-layer's in attribute order; artifacts saved
    before `weight_names.json` existed are read with this list.
    """
    names = ["log_temperature", "item_id/embeddings"]
    if params.use_content and vocab_size > 1:
        names.append("content_token/embeddings")
    if params.use_events:
        names.append("event/embeddings")
    if params.cell == "sasrec":
        names.append("position/embeddings")
        for i in range(params.num_blocks):
            names += [f"sasrec_{i}/{part}" for part in ATTENTION_PARTS]
        names += ["sasrec_norm/gamma", "sasrec_norm/beta"]
    else:
        for i in range(params.num_layers):
            names += [f"{params.cell}_{i}/{params.cell}_cell/{part}" for part in RECURRENT_PARTS]
    return names + ["user_projection/kernel", "user_projection/bias"]


BLAS_THREAD_CONTROLS = (  # (get, set) thread-count functions of the OpenBLAS builds numpy ships or links
    ("scipy_openblas_get_num_threads64_", "scipy_openblas_set_num_threads64_"),
    ("scipy_openblas_get_num_threads", "scipy_openblas_set_num_threads"),
    ("openblas_get_num_threads", "openblas_set_num_threads"),
)


@functools.cache
def _openblas_thread_control() -> tuple[Callable[[], int], Callable[[int], None]] | None:
    """(get, set) of the process-wide thread count of the OpenBLAS numpy has loaded (its wheels bundle one)."""
    base = os.path.dirname(np.__file__)
    for path in glob.glob(f"{base}.libs/lib*openblas*") + glob.glob(f"{base}/.dylibs/lib*openblas*"):
        try:
            lib = ctypes.CDLL(path, mode=os.RTLD_NOLOAD)
        except (OSError, AttributeError):
            continue
        for get_name, set_name in BLAS_THREAD_CONTROLS:
            if hasattr(lib, get_name) and hasattr(lib, set_name):
                get, set_ = getattr(lib, get_name), getattr(lib, set_name)
                get.argtypes, get.restype, set_.argtypes, set_.restype = [], ctypes.c_int, [ctypes.c_int], None
                return get, set_
    return None


class _SingleThreadedBlas:
    """Process-wide OpenBLAS thread count 1 while any holder is inside; the last to leave restores it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.holders = 0
        self.previous = 0

    @contextmanager
    def __call__(self) -> Iterator[None]:
        control = _openblas_thread_control()
        if control is None:
            yield
            return
        get, set_ = control
        with self.lock:
            if self.holders == 0:
                self.previous = get()
                set_(1)
            self.holders += 1
        try:
            yield
        finally:
            with self.lock:
                self.holders -= 1
                if self.holders == 0:
                    set_(self.previous)


# One BLAS thread during user-tower inference: each step multiplies a (2048, n) block by (n, G*n), too little
# work to share, so OpenBLAS's thread hand-off costs more than it saves (3-6x slower on a busy 2-core box);
# blocks run in parallel on a thread pool instead. OpenBLAS's count is process-wide, hence the holder count.
single_threaded_blas = _SingleThreadedBlas()


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Logistic function as 0.5 (1 + tanh(x / 2)): no overflow for large |x|, stays float32."""
    return np.float32(0.5) * (np.float32(1.0) + np.tanh(np.float32(0.5) * x))


def l2_normalize(x: np.ndarray) -> np.ndarray:
    """x / max(|x|, eps) row-wise, as `towers.l2_normalize` (a zero row stays zero)."""
    sq = np.einsum("ij,ij->i", x, x)[:, None]
    return (x / np.sqrt(np.maximum(sq, np.float32(EPS * EPS)))).astype(np.float32)


def _masked(valid: np.ndarray, new: np.ndarray, old: np.ndarray) -> np.ndarray:
    """The new state where the step is valid, the kept one where it is padding (Keras' masked RNN step)."""
    return new if valid.all() else np.where(valid, new, old)


def layer_norm(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray) -> np.ndarray:
    """gamma * (x - mean) / sqrt(var + LN_EPS) + beta over the last axis (as `towers.layer_norm`)."""
    centred = x - x.mean(axis=-1, keepdims=True)
    var = np.mean(centred * centred, axis=-1, keepdims=True)
    return centred / np.sqrt(var + np.float32(LN_EPS)) * gamma + beta


def softmax(logits: np.ndarray) -> np.ndarray:
    """Softmax over the last axis, max-shifted (masked logits at -1e9 become exact zeros)."""
    e = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def attention_mask(valid: np.ndarray) -> np.ndarray:
    """(B, L, L) bool: query t may read key j iff j <= t and (key j is real or j == t) (`towers.attention_mask`)."""
    steps = valid.shape[1]
    causal = np.tri(steps, dtype=bool)
    return causal[None] & (valid[:, None, :] | np.eye(steps, dtype=bool)[None])


@dataclass(frozen=True)
class AttentionBlock:
    """One pre-layer-norm causal self-attention block of `towers.CausalSelfAttentionBlock`, at inference.

    a = LN_1(h); A_h = softmax(Q_h K_h^T / sqrt(d/H) + M); g = h + concat_h(A_h U_h) W_o + b_o;
    out = g + ReLU(LN_2(g) W_1 + b_1) W_2 + b_2   (Q, K, U = a W_q + b_q, a W_k + b_k, a W_v + b_v).
    """

    heads: int
    w: dict[str, np.ndarray]  # ATTENTION_PARTS -> array

    def split(self, x: np.ndarray) -> np.ndarray:
        """(B, L, d) -> (B, H, L, d/H)."""
        b, steps, d = x.shape
        return x.reshape(b, steps, self.heads, d // self.heads).transpose(0, 2, 1, 3)

    def __call__(self, h: np.ndarray, allowed: np.ndarray, queries: int) -> np.ndarray:
        """The block's output at the last `queries` positions of h (B, L, d); allowed (B, L, L) as `attention_mask`."""
        w = self.w
        b, steps, d = h.shape
        a = layer_norm(h, w["ln1_gamma"], w["ln1_beta"])
        q = self.split(a[:, steps - queries :] @ w["wq"] + w["bq"])
        k = self.split(a @ w["wk"] + w["bk"])
        v = self.split(a @ w["wv"] + w["bv"])
        logits = (q @ k.transpose(0, 1, 3, 2)) * np.float32(1.0 / np.sqrt(d // self.heads))
        weights = softmax(np.where(allowed[:, None, steps - queries :, :], logits, MASKED))
        mixed = (weights @ v).transpose(0, 2, 1, 3).reshape(b, queries, d)
        g = h[:, steps - queries :] + (mixed @ w["wo"] + w["bo"])
        inner = np.maximum(layer_norm(g, w["ln2_gamma"], w["ln2_beta"]) @ w["w1"] + w["b1"], np.float32(0.0))
        return (g + (inner @ w["w2"] + w["b2"])).astype(np.float32, copy=False)


Projection = Callable[[int, int], np.ndarray]  # (step t, first active row a) -> x_t W + b of rows a.., (B - a, G*n)


@dataclass(frozen=True)
class Recurrent:
    """One Keras GRU or LSTM layer, its gate blocks arranged for few numpy calls per step."""

    cell: str  # "gru": column blocks z, r, h (Keras order); "lstm": i, f, o, c (Keras' i, f, c, o reordered)
    kernel: np.ndarray  # (input, G*n) W, the x part of every gate
    recurrent_kernel: np.ndarray  # (n, G*n) U, the h part of every gate
    bias: np.ndarray  # (G*n,) added to x_t W; GRU: input bias + recurrent bias of z and r
    candidate_bias: np.ndarray  # (n,) GRU: recurrent bias of h, applied inside r * (.); LSTM: unused

    @classmethod
    def from_keras(cls, cell: str, kernel: np.ndarray, recurrent_kernel: np.ndarray, bias: np.ndarray) -> Recurrent:
        """From a Keras cell's (kernel, recurrent_kernel, bias); GRU bias is (2, 3n) with reset_after=True."""
        n = recurrent_kernel.shape[0]
        if cell == "gru":
            input_bias, recurrent_bias = bias
            folded = input_bias + np.concatenate([recurrent_bias[: 2 * n], np.zeros(n, np.float32)])
            return cls(cell, kernel, recurrent_kernel, folded, recurrent_bias[2 * n :])
        order = np.concatenate([np.arange(0, 2 * n), np.arange(3 * n, 4 * n), np.arange(2 * n, 3 * n)])
        return cls(cell, kernel[:, order], recurrent_kernel[:, order], bias[order], np.zeros(n, np.float32))

    @property
    def units(self) -> int:
        return self.recurrent_kernel.shape[0]

    def gru_step(self, xw: np.ndarray, h: np.ndarray) -> np.ndarray:
        """Keras 3 GRU (reset_after=True, sigmoid recurrent activation, tanh activation) from x_t W + b.

        With x_t W + b_x = (x_z, x_r, x_h) and h_{t-1} U + b_h = (u_z, u_r, u_h):
          z = sigmoid(x_z + u_z);  r = sigmoid(x_r + u_r);  h~ = tanh(x_h + r * u_h);
          h_t = z h_{t-1} + (1 - z) h~ = h~ + z (h_{t-1} - h~)
        (b_h of z and r is folded into b_x; only u_h's bias must stay inside r * (.).)
        """
        n = self.units
        hu = h @ self.recurrent_kernel
        zr = sigmoid(xw[:, : 2 * n] + hu[:, : 2 * n])
        candidate = np.tanh(xw[:, 2 * n :] + zr[:, n:] * (hu[:, 2 * n :] + self.candidate_bias))
        return candidate + zr[:, :n] * (h - candidate)

    def lstm_step(self, xw: np.ndarray, h: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Keras 3 LSTM (sigmoid recurrent activation, tanh activation; unit forget bias is part of `bias`).

        With x_t W + h_{t-1} U + b = (a_i, a_f, a_o, a_c):
          c_t = sigmoid(a_f) c_{t-1} + sigmoid(a_i) tanh(a_c);  h_t = sigmoid(a_o) tanh(c_t)
        """
        n = self.units
        a = xw + h @ self.recurrent_kernel
        gates = sigmoid(a[:, : 3 * n])
        c_new = gates[:, n : 2 * n] * c + gates[:, :n] * np.tanh(a[:, 3 * n :])
        return gates[:, 2 * n :] * np.tanh(c_new), c_new

    def run(self, project: Projection, mask: np.ndarray, starts: np.ndarray, sequences: bool) -> np.ndarray:
        """Time-major (L, B, n) outputs if `sequences`, else the (B, n) final state, from a zero state.

        mask (L, B): valid steps; starts (B,) each row's first valid step, non-increasing (rows sorted by
        length), so the rows that have started by step t are a suffix and only they are computed. A masked
        step keeps h (and c), and Keras (zero_output_for_mask=False) outputs the kept state there: outputs
        equal states, zeros before a row's first step.
        """
        steps, b = mask.shape
        h = np.zeros((b, self.units), dtype=np.float32)
        c = np.zeros_like(h)
        out = np.zeros((steps, b, self.units), dtype=np.float32) if sequences else None
        first = np.searchsorted(-starts, -np.arange(steps), side="left")  # rows first[t].. have started at t
        for t in range(steps):
            a = int(first[t])
            if a == b:
                continue
            valid = mask[t, a:, None]
            if self.cell == "gru":
                h[a:] = _masked(valid, self.gru_step(project(t, a), h[a:]), h[a:])
            else:
                h_new, c_new = self.lstm_step(project(t, a), h[a:], c[a:])
                h[a:], c[a:] = _masked(valid, h_new, h[a:]), _masked(valid, c_new, c[a:])
            if out is not None:
                out[t, a:] = h[a:]
        return out if out is not None else h


@dataclass(frozen=True)
class NumpyNet:
    """`TwoTowerNet` at inference, from its saved weights."""

    n_items: int
    vocab_size: int
    id_embedding: np.ndarray  # (n_items + 1, d)
    token_embedding: np.ndarray | None  # (vocab_size, d), row 0 zeroed (padding never counts)
    event_embedding: np.ndarray | None  # (N_EVENT_CODES, d)
    layers: tuple[Recurrent, ...]
    projection_kernel: np.ndarray  # (state_dim, d)
    projection_bias: np.ndarray  # (d,)
    residual: bool
    position_embedding: np.ndarray | None = None  # sasrec: (seq_len, d)
    blocks: tuple[AttentionBlock, ...] = ()  # sasrec: self-attention blocks (then `layers` is empty)
    final_norm: tuple[np.ndarray, np.ndarray] | None = None  # sasrec: (gamma, beta) of LN_f
    recency_positions: bool = False  # sasrec: positions count back from the last real item (ModelParams)

    @classmethod
    def from_weights(
        cls,
        params: ModelParams,
        n_items: int,
        vocab_size: int,
        weights: list[np.ndarray],
        names: list[str] | None = None,
    ) -> NumpyNet:
        """Map the Keras weight list to roles by name (`names`, else `weight_names(params, vocab_size)`)."""
        expected = weight_names(params, vocab_size)
        names = expected if names is None else list(names)
        if len(names) != len(weights) or sorted(names) != sorted(expected):
            raise ValueError(
                f"saved weights do not match the model's params: {len(weights)} arrays named {names}, "
                f"expected {expected}"
            )
        w = {name: np.asarray(a, dtype=np.float32) for name, a in zip(names, weights, strict=True)}
        d = params.embedding_dim
        if w["item_id/embeddings"].shape != (n_items + 1, d):
            raise ValueError(
                f"item_id/embeddings has shape {w['item_id/embeddings'].shape}, expected {(n_items + 1, d)}"
            )
        tokens = w.get("content_token/embeddings")
        if tokens is not None:
            tokens = tokens.copy()
            tokens[0] = 0.0
        layers, blocks, final_norm = [], [], None
        if params.cell == "sasrec":
            for i in range(params.num_blocks):
                blocks.append(AttentionBlock(params.num_heads, {p: w[f"sasrec_{i}/{p}"] for p in ATTENTION_PARTS}))
            final_norm = (w["sasrec_norm/gamma"], w["sasrec_norm/beta"])
        else:
            for i in range(params.num_layers):
                prefix = f"{params.cell}_{i}/{params.cell}_cell/"
                layers.append(Recurrent.from_keras(params.cell, *(w[prefix + part] for part in RECURRENT_PARTS)))
        return cls(
            n_items=n_items,
            vocab_size=vocab_size,
            id_embedding=w["item_id/embeddings"],
            token_embedding=tokens,
            event_embedding=w.get("event/embeddings"),
            layers=tuple(layers),
            projection_kernel=w["user_projection/kernel"],
            projection_bias=w["user_projection/bias"],
            residual=params.residual,
            position_embedding=w.get("position/embeddings"),
            blocks=tuple(blocks),
            final_norm=final_norm,
            recency_positions=params.recency_positions,
        )

    def raw_table(self, tokens: np.ndarray, warm: np.ndarray) -> np.ndarray:
        """V (rows, d), unnormalised: warm id embedding + mean of the valid content token embeddings.

        tokens (rows, T) int content ids (ids >= the trained vocabulary count as padding); warm (rows,) 1/0.
        """
        rows = len(tokens)
        ids = np.minimum(np.arange(rows), self.n_items)
        table = self.id_embedding[ids] * np.asarray(warm, dtype=np.float32)[:, None]
        if self.token_embedding is not None:
            tok = np.where((tokens > 0) & (tokens < self.vocab_size), tokens, 0)
            summed = np.zeros_like(table)
            for column in tok.T:  # one (rows, d) gather per token slot, never (rows, T, d) at once
                summed += self.token_embedding[column]
            count = np.maximum((tok > 0).sum(axis=1), 1).astype(np.float32)
            table = table + summed / count[:, None]
        return table.astype(np.float32, copy=False)

    def first_layer_inputs(self, table: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """(V W + b, E_event W) of the first recurrent layer: x_t W + b = (V W + b)[s_t] + (E_event W)[e_t].

        Projecting the item table once turns the first layer's input matmul at every step into two gathers.
        SASRec has no recurrent layer: (V, None).
        """
        if not self.layers:
            return table, None
        first = self.layers[0]
        events = None if self.event_embedding is None else self.event_embedding @ first.kernel
        return table @ first.kernel + first.bias, events

    def last_states(self, ids: np.ndarray, events: np.ndarray, table: np.ndarray) -> np.ndarray:
        """(B, d) L2-normalised user vectors after the last position; ids (B, L) left-padded with 0."""
        with single_threaded_blas():
            return self._last_states(ids, events, table, self.first_layer_inputs(table))

    def _last_states(
        self, ids: np.ndarray, events: np.ndarray, table: np.ndarray, inputs: tuple[np.ndarray, np.ndarray | None]
    ) -> np.ndarray:
        """`last_states` with the first layer's projected inputs given (computed once per call of user_vectors)."""
        if self.blocks:
            return self._attention_last_states(ids, events, table)
        steps = ids.shape[1]
        valid = ids > 0
        starts = np.where(valid.any(axis=1), valid.argmax(axis=1), steps)
        order = np.argsort(-starts, kind="stable")  # longest histories last: started rows form a suffix
        ids_t = np.ascontiguousarray(ids[order].T)
        events_t = np.ascontiguousarray(events[order].T)
        table_w, events_w = inputs

        def first_layer(t: int, a: int) -> np.ndarray:
            xw = table_w[ids_t[t, a:]]
            return xw if events_w is None else xw + events_w[events_t[t, a:]]

        project, x = first_layer, None
        for i, layer in enumerate(self.layers):
            if x is not None:
                project = _projection(x, layer)
            x = layer.run(project, ids_t > 0, starts[order], sequences=i < len(self.layers) - 1)
        out = x @ self.projection_kernel + self.projection_bias
        if self.residual:
            out = out + table[ids_t[-1]]
        result = np.empty_like(out)
        result[order] = l2_normalize(out)
        return result

    def _attention_last_states(self, ids: np.ndarray, events: np.ndarray, table: np.ndarray) -> np.ndarray:
        """SASRec user vectors after the last position of ids (B, L), left-padded with 0."""
        return l2_normalize(self.attention_states(ids, events, table, queries=1)[:, -1])

    def attention_states(self, ids: np.ndarray, events: np.ndarray, table: np.ndarray, queries: int) -> np.ndarray:
        """(B, queries, d) unnormalised SASRec user states at the last `queries` positions of ids (B, L).

        x_t = V[s_t] + E_event[e_t] + P[p_t], p_t = min(#real items from t on - 1, P - 1) (recency_positions, else
        #real items up to t - 1); every block but the last over all
        positions, the last block for the last `queries` queries only (a later position never changes an
        earlier one). As `TwoTowerNet.user_states` at those positions.
        """
        valid = ids > 0
        assert self.position_embedding is not None and self.final_norm is not None
        counted = np.cumsum(valid[:, ::-1], axis=1)[:, ::-1] if self.recency_positions else np.cumsum(valid, axis=1)
        where = np.clip(counted - 1, 0, len(self.position_embedding) - 1)
        x = table[ids] + self.position_embedding[where]
        if self.event_embedding is not None:
            x = x + self.event_embedding[events]
        x = x.astype(np.float32, copy=False)
        allowed = attention_mask(valid)
        for i, block in enumerate(self.blocks):
            x = block(x, allowed, queries if i == len(self.blocks) - 1 else x.shape[1])
        out = layer_norm(x, *self.final_norm) @ self.projection_kernel + self.projection_bias
        if self.residual:
            out = out + table[ids[:, ids.shape[1] - queries :]]
        return out.astype(np.float32, copy=False)

    def user_vectors(
        self, sequences: list[np.ndarray], events: list[np.ndarray], table: np.ndarray, seq_len: int, batch_users: int
    ) -> np.ndarray:
        """L2-normalised final user states over the last `seq_len` items; ids outside `table` are dropped.

        Users are sorted by length and run in blocks of `batch_users`, each as wide as its longest history.
        """
        ids, codes, lengths = left_padded(sequences, events, len(table), seq_len)
        out = np.zeros((len(sequences), self.projection_kernel.shape[1]), dtype=np.float32)
        inputs = self.first_layer_inputs(table)
        order = np.argsort(lengths, kind="stable")
        blocks = [order[start : start + batch_users] for start in range(0, len(order), batch_users)]

        def run_block(idx: np.ndarray) -> None:
            width = max(1, int(lengths[idx].max()))
            out[idx] = self._last_states(ids[idx, seq_len - width :], codes[idx, seq_len - width :], table, inputs)

        workers = min(len(blocks), os.cpu_count() or 1)
        with single_threaded_blas():
            if workers <= 1:
                for idx in blocks:
                    run_block(idx)
            else:  # numpy releases the GIL in matmuls, ufuncs and gathers: one block per core
                with ThreadPoolExecutor(workers) as pool:
                    list(pool.map(run_block, blocks))
        return out


def _projection(x: np.ndarray, layer: Recurrent) -> Projection:
    """x_t W + b of rows a.. for a deeper layer, from the previous layer's time-major outputs x (L, B, n)."""
    return lambda t, a: x[t, a:] @ layer.kernel + layer.bias


def left_padded(
    sequences: list[np.ndarray], events: list[np.ndarray], rows: int, seq_len: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(n, seq_len) int32 item ids and event codes, left-padded with 0, and each user's kept length.

    As `Engine.user_vectors`: ids outside 1..rows-1 are dropped, event codes clipped into the vocabulary, the
    last `seq_len` kept; vectorised over the flattened histories (no loop over users).
    """
    n = len(sequences)
    if not np.array_equal(ragged.lengths(sequences), ragged.lengths(events)):
        raise ValueError("every user's events must be as long as their item sequence")
    owners, items = ragged.flatten(sequences)
    codes = np.clip(ragged.concat(events), 0, N_EVENT_CODES - 1)
    keep = (items > 0) & (items < rows)
    owners, items, codes = owners[keep], items[keep], codes[keep]
    counts = np.bincount(owners, minlength=n)
    from_end = np.cumsum(counts)[owners] - 1 - np.arange(len(owners))  # 0 = the user's last kept item
    recent = from_end < seq_len
    rows_at, cols_at = owners[recent], seq_len - 1 - from_end[recent]
    ids = np.zeros((n, seq_len), dtype=np.int32)
    ids[rows_at, cols_at] = items[recent]
    evs = np.zeros((n, seq_len), dtype=np.int32)
    evs[rows_at, cols_at] = codes[recent]
    return ids, evs, np.minimum(counts, seq_len)
