"""The Keras network: item tower (id + content) and recurrent user tower. Imports TensorFlow: import lazily.

Item tower. v_i = keep_i * E_id[i] + mean_{t in tokens(i)} E_tok[t]   (sum combination, both in R^d)
  keep_i = 0 for padding, for items never seen in training (item_counts == 0) and for ids beyond the trained
  range, so a cold item's vector comes from its content alone. During training keep_i is additionally
  Bernoulli(1 - id_dropout) per item and step ("id-dropout"), which forces the content path to carry a
  usable vector on its own. The same table V is the user tower's input embedding and the output
  (softmax) matrix (weight tying), so content also shapes how a history is read.

User tower. x_t = Dropout(V[s_t] + E_event[e_t]);  h_t = RNN(x_1..x_t) (GRU or LSTM, masked: padding
  steps carry the state unchanged, so left padding does not change h);  u_t = W Dropout(h_t) (+ V[s_t]).
  Scores are cosines: cos(u_t, v_j) = <u_t/|u_t|, v_j/|v_j|>.
"""

from __future__ import annotations

import math

import keras
import tensorflow as tf

from recpipeline.model.types import N_EVENT_CODES, ModelParams

EPS = 1e-8


def l2_normalize(x: tf.Tensor) -> tf.Tensor:
    return x * tf.math.rsqrt(tf.maximum(tf.reduce_sum(tf.square(x), axis=-1, keepdims=True), EPS * EPS))


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
        x = self.input_dropout(x, training=training)
        h = x
        for rnn in self.rnns:
            h = rnn(h, mask=mask, training=training)
        out = self.projection(self.output_dropout(h, training=training))
        if self.params.residual:
            out = out + items
        return out

    def inverse_temperature(self) -> tf.Tensor:
        return tf.exp(-tf.convert_to_tensor(self.log_temperature))

    def call(self, inputs, training: bool = False):  # pragma: no cover - Keras API completeness only
        ids, events, rows, tokens, warm = inputs
        return self.user_states(ids, events, self.item_table(rows, tokens, warm, training), training)
