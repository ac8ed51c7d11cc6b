"""The Keras network: item tower (id + content) and user tower (GRU, LSTM or SASRec). Imports TensorFlow: import lazily.

Item tower. v_i = keep_i * E_id[i] + mean_{t in tokens(i)} E_tok[t]   (sum combination, both in R^d)
  keep_i = 0 for padding, for items never seen in training (item_counts == 0) and for ids beyond the trained
  range, so a cold item's vector comes from its content alone. During training keep_i is additionally
  Bernoulli(1 - id_dropout) per item and step ("id-dropout"), which forces the content path to carry a
  usable vector on its own. The same table V is the user tower's input embedding and the output
  (softmax) matrix (weight tying), so content also shapes how a history is read.

User tower. x_t = Dropout(V[s_t] + E_event[e_t]);  h_t = RNN(x_1..x_t) (GRU or LSTM, masked: padding
  steps carry the state unchanged, so left padding does not change h);  u_t = W Dropout(h_t) (+ V[s_t]).
  Scores are cosines: cos(u_t, v_j) = <u_t/|u_t|, v_j/|v_j|>.

SASRec user tower (cell = "sasrec"). Positions count from each sequence's first real item,
  p_t = min(#{j <= t: s_j > 0} - 1, L - 1) (with recency_positions they count back from the last real item,
  min(#{j >= t: s_j > 0} - 1, L - 1), so the last item is always at 0); left padding changes neither.
  With a learned table P:
  h^0_t = Dropout(V[s_t] + E_event[e_t] + P[p_t]); then num_blocks pre-layer-norm blocks b = 1..B:
    a = LN_1(h^{b-1});  Q = a W_q + b_q,  K = a W_k + b_k,  U = a W_v + b_v, split into H heads of d/H columns;
    A_h = softmax_j(Q_h K_h^T / sqrt(d/H) + M),  M_tj = 0 if j <= t and (s_j > 0 or j = t) else -1e9  (causal);
    g = h^{b-1} + Dropout(concat_h(A_h U_h) W_o + b_o);
    h^b = g + Dropout(ReLU(LN_2(g) W_1 + b_1) W_2 + b_2)        (W_1: d x ffn_mult*d)
  with LN(x) = gamma * (x - mean(x)) / sqrt(var(x) + 1e-6) + beta over the d features; then
  u_t = W Dropout(LN_f(h^B_t)) + b (+ V[s_t] if residual). State t reads only positions <= t (causal).
"""

from __future__ import annotations

import math

import keras
import tensorflow as tf

from recpipeline.model.types import N_EVENT_CODES, ModelParams

EPS = 1e-8
LN_EPS = 1e-6  # layer-norm epsilon (numpy_net.LN_EPS)
MASKED = -1e9  # attention logit of a forbidden (future or padding) key


def l2_normalize(x: tf.Tensor) -> tf.Tensor:
    return x * tf.math.rsqrt(tf.maximum(tf.reduce_sum(tf.square(x), axis=-1, keepdims=True), EPS * EPS))


def layer_norm(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor) -> tf.Tensor:
    """gamma * (x - mean) / sqrt(var + LN_EPS) + beta over the last axis."""
    mean = tf.reduce_mean(x, axis=-1, keepdims=True)
    var = tf.reduce_mean(tf.square(x - mean), axis=-1, keepdims=True)
    return (x - mean) * tf.math.rsqrt(var + LN_EPS) * gamma + beta


def positions(mask: tf.Tensor, max_position: int, from_end: bool = False) -> tf.Tensor:
    """(B, L) int32 position of each step, clipped to max_position - 1.

    Counted from the sequence's first real item; with from_end (recency) the number of real items after the
    step, so a sequence's last real item is always at 0 however long the sequence. Left padding changes
    neither; padding steps get some clipped value (they are masked as keys, their states unused).
    """
    real = tf.cast(mask, tf.int32)
    counted = tf.cumsum(real, axis=1, reverse=from_end) - 1
    return tf.clip_by_value(counted, 0, max_position - 1)


def attention_mask(mask: tf.Tensor) -> tf.Tensor:
    """(B, 1, L, L) bool: query t may read key j iff j <= t and (key j is real or j == t)."""
    steps = tf.shape(mask)[1]
    causal = tf.linalg.band_part(tf.ones((steps, steps), tf.bool), -1, 0)
    allowed = causal[None, :, :] & (mask[:, None, :] | tf.eye(steps, dtype=tf.bool)[None, :, :])
    return allowed[:, None, :, :]


class LayerNorm(keras.layers.Layer):
    """LN(x) = gamma * (x - mean(x)) / sqrt(var(x) + 1e-6) + beta (explicit, so numpy_net matches it)."""

    def build(self, input_shape) -> None:
        d = int(input_shape[-1])
        self.gamma = self.add_weight(shape=(d,), name="gamma", initializer="ones")
        self.beta = self.add_weight(shape=(d,), name="beta", initializer="zeros")

    def call(self, x: tf.Tensor) -> tf.Tensor:
        return layer_norm(x, self.gamma, self.beta)


SASREC_PARTS = ("ln1_gamma", "ln1_beta", "wq", "bq", "wk", "bk", "wv", "bv", "wo", "bo", "ln2_gamma", "ln2_beta")
SASREC_FFN_PARTS = ("w1", "b1", "w2", "b2")


class CausalSelfAttentionBlock(keras.layers.Layer):
    """One pre-layer-norm transformer block with causal multi-head attention (equations: module docstring)."""

    def __init__(self, dim: int, heads: int, ffn_dim: int, dropout: float, seed: int, **kwargs):
        super().__init__(**kwargs)
        if dim % heads:
            raise ValueError(f"embedding_dim {dim} is not divisible by num_heads {heads}")
        self.dim, self.heads, self.ffn_dim = dim, heads, ffn_dim
        self.attention_dropout = keras.layers.Dropout(dropout, seed=seed)
        self.ffn_dropout = keras.layers.Dropout(dropout, seed=seed + 1)
        self.seed = seed

    def build(self, input_shape) -> None:
        d, f = self.dim, self.ffn_dim

        def glorot(offset: int) -> keras.initializers.Initializer:
            return keras.initializers.GlorotUniform(seed=self.seed + offset)

        shapes = {"wq": (d, d), "wk": (d, d), "wv": (d, d), "wo": (d, d), "w1": (d, f), "w2": (f, d)}
        for i, part in enumerate(SASREC_PARTS + SASREC_FFN_PARTS):
            if part in shapes:
                init: str | keras.initializers.Initializer = glorot(2 + i)
                shape = shapes[part]
            else:
                init = "ones" if part.endswith("gamma") else "zeros"
                shape = (f,) if part == "b1" else (d,)
            setattr(self, part, self.add_weight(shape=shape, name=part, initializer=init))

    def split_heads(self, x: tf.Tensor) -> tf.Tensor:
        """(B, L, d) -> (B, H, L, d/H)."""
        b, steps = tf.shape(x)[0], tf.shape(x)[1]
        return tf.transpose(tf.reshape(x, (b, steps, self.heads, self.dim // self.heads)), (0, 2, 1, 3))

    def call(self, h: tf.Tensor, allowed: tf.Tensor, training: bool = False) -> tf.Tensor:
        a = layer_norm(h, self.ln1_gamma, self.ln1_beta)
        q = self.split_heads(tf.matmul(a, self.wq) + self.bq)
        k = self.split_heads(tf.matmul(a, self.wk) + self.bk)
        v = self.split_heads(tf.matmul(a, self.wv) + self.bv)
        logits = tf.matmul(q, k, transpose_b=True) * (1.0 / math.sqrt(self.dim // self.heads))
        weights = tf.nn.softmax(tf.where(allowed, logits, tf.cast(MASKED, logits.dtype)), axis=-1)
        mixed = tf.transpose(tf.matmul(weights, v), (0, 2, 1, 3))
        mixed = tf.reshape(mixed, tf.shape(h))
        g = h + self.attention_dropout(tf.matmul(mixed, self.wo) + self.bo, training=training)
        inner = tf.nn.relu(tf.matmul(layer_norm(g, self.ln2_gamma, self.ln2_beta), self.w1) + self.b1)
        return g + self.ffn_dropout(tf.matmul(inner, self.w2) + self.b2, training=training)


class TwoTowerNet(keras.Model):
    """Holds the layers; the training loop and inference call `item_table` and `user_states` directly."""

    def __init__(self, n_items: int, vocab_size: int, params: ModelParams, **kwargs):
        super().__init__(**kwargs)
        d = params.embedding_dim
        self.params = params
        self.n_items = n_items
        self.vocab_size = vocab_size
        init = keras.initializers.RandomNormal(stddev=1.0 / math.sqrt(d), seed=params.seed)
        self.id_embedding = keras.layers.Embedding(n_items + 1, d, embeddings_initializer=init, name="item_id")
        self.token_embedding = None
        if params.use_content and vocab_size > 1:
            self.token_embedding = keras.layers.Embedding(
                vocab_size,
                d,
                name="content_token",
                embeddings_initializer=keras.initializers.RandomNormal(stddev=1.0 / math.sqrt(d), seed=params.seed + 1),
            )
        self.event_embedding = None
        if params.use_events:
            self.event_embedding = keras.layers.Embedding(
                N_EVENT_CODES, d, name="event", embeddings_initializer=keras.initializers.Zeros()
            )
        self.input_dropout = keras.layers.Dropout(params.dropout, seed=params.seed + 2)
        self.output_dropout = keras.layers.Dropout(params.dropout, seed=params.seed + 3)
        self.rnns: list[keras.layers.Layer] = []
        self.position_embedding = None
        self.blocks: list[CausalSelfAttentionBlock] = []
        self.final_norm = None
        if params.cell == "sasrec":
            self.build_sasrec(params)
        else:
            self.build_recurrent(params)
        self.projection = keras.layers.Dense(
            d, name="user_projection", kernel_initializer=keras.initializers.GlorotUniform(seed=params.seed + 4)
        )
        self.log_temperature = self.add_weight(
            shape=(),
            name="log_temperature",
            trainable=params.learn_temperature,
            initializer=keras.initializers.Constant(math.log(params.temperature)),
        )
        self.id_keep_seed = keras.random.SeedGenerator(params.seed + 5)

    def build_recurrent(self, params: ModelParams) -> None:
        cell = keras.layers.GRU if params.cell == "gru" else keras.layers.LSTM
        self.rnns = [
            cell(
                params.state_dim,
                return_sequences=True,
                name=f"{params.cell}_{i}",
                kernel_initializer=keras.initializers.GlorotUniform(seed=params.seed + 10 + i),
                recurrent_initializer=keras.initializers.Orthogonal(seed=params.seed + 20 + i),
            )
            for i in range(params.num_layers)
        ]

    def build_sasrec(self, params: ModelParams) -> None:
        d = params.embedding_dim
        self.position_embedding = keras.layers.Embedding(
            params.seq_len,
            d,
            name="position",
            embeddings_initializer=keras.initializers.RandomNormal(stddev=1.0 / math.sqrt(d), seed=params.seed + 6),
        )
        self.blocks = [
            CausalSelfAttentionBlock(
                d, params.num_heads, params.ffn_mult * d, params.dropout, params.seed + 30 + 20 * i, name=f"sasrec_{i}"
            )
            for i in range(params.num_blocks)
        ]
        self.final_norm = LayerNorm(name="sasrec_norm")

    def item_table(self, rows: tf.Tensor, tokens: tf.Tensor, warm: tf.Tensor, training: bool = False) -> tf.Tensor:
        """V (len(rows), d), unnormalised, for global item ids `rows`.

        tokens (len(rows), T) int32 content ids of those rows; warm (len(rows),) float32, 1 = id part allowed.
        """
        ids = tf.minimum(rows, self.n_items)
        keep = warm
        if training and self.params.id_dropout > 0:
            u = keras.random.uniform(tf.shape(rows), seed=self.id_keep_seed)
            keep = keep * tf.cast(u >= self.params.id_dropout, keep.dtype)
        table = self.id_embedding(ids) * keep[:, None]
        if self.token_embedding is not None:
            tok = tf.where(tokens < self.vocab_size, tokens, tf.zeros_like(tokens))
            valid = tf.cast(tok > 0, table.dtype)[:, :, None]
            summed = tf.reduce_sum(self.token_embedding(tok) * valid, axis=1)
            table = table + summed / tf.maximum(tf.reduce_sum(valid, axis=1), 1.0)
        return table

    def user_states(self, ids: tf.Tensor, events: tf.Tensor, table: tf.Tensor, training: bool = False) -> tf.Tensor:
        """(B, L, d) unnormalised user states after every position; ids left-padded with 0."""
        mask = ids > 0
        items = tf.gather(table, ids)
        x = items
        if self.event_embedding is not None:
            x = x + self.event_embedding(events)
        if self.position_embedding is not None:
            x = x + self.position_embedding(positions(mask, self.params.seq_len, self.params.recency_positions))
        x = self.input_dropout(x, training=training)
        h = x
        for rnn in self.rnns:
            h = rnn(h, mask=mask, training=training)
        if self.blocks:
            allowed = attention_mask(mask)
            for block in self.blocks:
                h = block(h, allowed, training=training)
            h = self.final_norm(h)
        out = self.projection(self.output_dropout(h, training=training))
        if self.params.residual:
            out = out + items
        return out

    def inverse_temperature(self) -> tf.Tensor:
        return tf.exp(-tf.convert_to_tensor(self.log_temperature))

    def call(self, inputs, training: bool = False):  # pragma: no cover - Keras API completeness only
        ids, events, rows, tokens, warm = inputs
        return self.user_states(ids, events, self.item_table(rows, tokens, warm, training), training)
