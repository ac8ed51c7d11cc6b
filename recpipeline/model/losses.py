"""Next-item losses over cosine scores. Imports TensorFlow: import lazily.

Notation: u_p (P, d) L2-normalised user states at the P target positions of a batch, y_p their next items,
w_p sample weights (by the target's event type), V the L2-normalised item table, tau the temperature.
"""

from __future__ import annotations

import tensorflow as tf

NEG_INF = -1e9


def full_softmax_loss(
    users: tf.Tensor, targets: tf.Tensor, weights: tf.Tensor, items: tf.Tensor, inv_temperature: tf.Tensor
) -> tf.Tensor:
    """Weighted cross-entropy of a full softmax over the whole catalogue.

    logits_pj = cos(u_p, v_j) / tau for every item j (column 0, padding, masked to -inf);
    loss = sum_p w_p * (logsumexp_j logits_pj - logits_p,y_p) / sum_p w_p.
    """
    logits = tf.matmul(users, items, transpose_b=True) * inv_temperature
    pad = tf.one_hot(0, tf.shape(items)[0], on_value=NEG_INF, off_value=0.0, dtype=logits.dtype)
    ce = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=targets, logits=logits + pad[None, :])
    return tf.reduce_sum(ce * weights) / tf.maximum(tf.reduce_sum(weights), 1e-6)


def sampled_softmax_loss(
    users: tf.Tensor,
    targets: tf.Tensor,
    weights: tf.Tensor,
    items: tf.Tensor,
    inv_temperature: tf.Tensor,
    negatives: tf.Tensor,
    log_q: tf.Tensor,
) -> tf.Tensor:
    """Sampled softmax with in-batch + sampled negatives, logQ correction and accidental-hit removal.

    Candidates C = (y_1..y_P, n_1..n_M): the batch's own targets (in-batch negatives) followed by M items
    drawn from the unigram distribution Q (item_counts / total). Both sources draw items ~ Q, so
    following Yi et al. 2019 ("Sampling-bias-corrected neural modeling for large corpus item
    recommendations") every candidate's logit is corrected by its log sampling probability:
        s_pc = cos(u_p, v_c) / tau - log Q(c),
    which makes the sampled softmax an (asymptotically) unbiased estimate of the full softmax.
    Accidental hits: a candidate c != p (column) that is the same item as the row's true target y_p is
    masked to -inf, so a positive is never pushed down as a negative. loss = weighted mean over p of
    -log softmax_c(s_p)[p] (the positive sits on the diagonal).
    """
    candidates = tf.concat([targets, negatives], axis=0)
    cand_vecs = tf.gather(items, candidates)
    logits = tf.matmul(users, cand_vecs, transpose_b=True) * inv_temperature
    logits = logits - tf.gather(log_q, candidates)[None, :]
    p = tf.shape(targets)[0]
    same = tf.equal(targets[:, None], candidates[None, :])
    diagonal = tf.equal(tf.range(p)[:, None], tf.range(tf.shape(candidates)[0])[None, :])
    logits = tf.where(same & ~diagonal, tf.cast(NEG_INF, logits.dtype), logits)
    ce = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=tf.range(p), logits=logits)
    return tf.reduce_sum(ce * weights) / tf.maximum(tf.reduce_sum(weights), 1e-6)
