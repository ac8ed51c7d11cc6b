"""Training loop: next-item prediction at every position of every sequence (many-to-many).

For a user sequence s_1..s_n the user tower reads s_1..s_{n-1} (left-padded, masked) and the state after
position t must predict s_{t+1}; every position is a training example with sample weight
EVENT_WEIGHTS[event of s_{t+1}]. Loss: full softmax over the whole catalogue of cos(u_t, v_j) / tau
(`losses.full_softmax_loss`) when n_items <= params.full_softmax_max_items, otherwise a sampled softmax with
in-batch + popularity-sampled negatives, logQ correction and accidental-hit removal
(`losses.sampled_softmax_loss`). Adam (AdamW with weight_decay), early stopping on validation NDCG@10 with
the best epoch's weights restored.

A time budget (`budget_seconds`, default the `train_budget_seconds` setting; 0 = none) bounds the whole fit:
no epoch starts that the last one's duration says would end past it, an epoch in progress stops taking steps
once it is spent (its validation still runs, so the best weights are kept), and above
BUDGET_FULL_SOFTMAX_MAX_ITEMS items the loss is the sampled softmax, whose step does not grow with the catalogue.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from recpipeline.config import load_settings
from recpipeline.evaluation.metrics import single_target_report
from recpipeline.model.artifact import TrainedModel
from recpipeline.model.engine import Engine, content_arrays, pad_left, seed_everything, warm_flags
from recpipeline.model.ranking import rank_of_targets
from recpipeline.model.types import N_EVENT_CODES, ModelParams, TrainingSet, event_weight_table

logger = logging.getLogger(__name__)

Validation = tuple[list[np.ndarray], list[np.ndarray], np.ndarray]
# With a time budget, catalogues above this train with the sampled softmax: measured on the bench profile (2 loaded
# cores, GRU d64) a full-softmax epoch costs ~ positions x items (25%: 12.5k items, 241 s for 18.5k users; 100%:
# ~16x that), the sampled step ~ positions x (1024 negatives + the batch's items) whatever the catalogue.
BUDGET_FULL_SOFTMAX_MAX_ITEMS = 10_000


@dataclass
class FeedbackInputs:
    """What shoppers did with shown lists, aligned with TrainingSet.sequences (built by recpipeline.feedback)."""

    multipliers: list[np.ndarray]  # per user and position: target-weight multiplier (1 = unchanged)
    negatives: list[np.ndarray]  # per user: item indices shown and ignored (hard negatives)
    negative_weights: list[np.ndarray]  # per user: the weight of each negative


def make_examples(
    sequences: list[np.ndarray],
    events: list[np.ndarray],
    seq_len: int,
    multipliers: list[np.ndarray] | None = None,
) -> tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray], list[np.ndarray]]:
    """Per user: inputs s[:-1], their events, targets s[1:] and target weights, each the last `seq_len`.

    Targets whose event weight is 0 are replaced by 0 (= not a training position). `multipliers` (per user and
    position, optional) scale the target weights (feedback: clicked recommendations weigh more).
    """
    table = event_weight_table()
    ids, evs, tgts, wts = [], [], [], []
    for u, (s, e) in enumerate(zip(sequences, events, strict=True)):
        s = np.asarray(s, dtype=np.int32)
        e = np.clip(np.asarray(e, dtype=np.int32), 0, N_EVENT_CODES - 1)
        if len(s) < 2:
            continue
        w = table[e[1:]]
        if multipliers is not None:
            w = w * np.asarray(multipliers[u], dtype=np.float32)[1:]
        t = np.where(w > 0, s[1:], 0).astype(np.int32)
        ids.append(s[:-1][-seq_len:])
        evs.append(e[:-1][-seq_len:])
        tgts.append(t[-seq_len:])
        wts.append(w[-seq_len:].astype(np.float32))
    return ids, evs, tgts, wts


def epoch_batches(
    lengths: np.ndarray, rng: np.random.Generator, batch_size: int, max_positions: int
) -> list[np.ndarray]:
    """Shuffled batches of example indices, length-bucketed inside chunks of 16 batches to cut padding.

    A batch holds at most `batch_size` sequences and at most `max_positions` padded positions.
    """
    order = rng.permutation(len(lengths))
    batches: list[np.ndarray] = []
    chunk = batch_size * 16
    for c in range(0, len(order), chunk):
        idx = order[c : c + chunk]
        idx = idx[np.argsort(lengths[idx], kind="stable")]
        current: list[int] = []
        for i in idx:
            if current and (len(current) >= batch_size or (len(current) + 1) * lengths[i] > max_positions):
                batches.append(np.array(current))
                current = []
            current.append(int(i))
        if current:
            batches.append(np.array(current))
    rng.shuffle(batches)
    return batches


def evaluate(
    model: TrainedModel,
    histories: list[np.ndarray],
    history_events: list[np.ndarray],
    targets: np.ndarray,
    ks: tuple[int, ...] = (10, 20),
) -> dict[str, float]:
    """Full-catalogue leave-one-out metrics: rank each target among all items, the history excluded."""
    users = model.user_vectors(histories, history_events)
    items = model.item_vectors()
    ranks = rank_of_targets(users, items, np.asarray(targets), histories, block=model.params.eval_batch_users)
    report = single_target_report(ranks, ks)
    out: dict[str, float] = {}
    for k in ks:
        out[f"hit_rate@{k}"], out[f"ndcg@{k}"] = report[f"hit_rate@{k}"], report[f"ndcg@{k}"]
    return out


def train(
    data: TrainingSet,
    params: ModelParams,
    validation: Validation | None = None,
    log: Callable[[str], None] = logger.info,
    feedback: FeedbackInputs | None = None,
    budget_seconds: float | None = None,
    budget_sampled: bool = True,
) -> TrainedModel:
    """Fit the two-tower model on `data`; see the module docstring for the objective.

    `validation` = (history item seqs, history event seqs, target item per user): after every epoch the
    validation NDCG@10 (full ranking, history excluded) drives early stopping (`params.patience`) and the
    best epoch's weights are kept. One log line per epoch. `feedback` (optional): target-weight multipliers
    and, per user, shown-and-ignored items that the user's last state must rank below its last target
    (pairwise softplus on cos / tau, weighted); None trains exactly as without it. `budget_sampled=False`
    keeps the full softmax under a time budget (a bench bounding its wall clock, not its objective).
    """
    started = time.perf_counter()
    budget = load_settings().train_budget_seconds if budget_seconds is None else budget_seconds
    deadline = started + budget if budget > 0 else float("inf")
    params = params.validated()
    counts = data.counts()
    if params.random_model:
        log("random_model: skipping training, vectors are seeded noise")
        return TrainedModel(params, data.n_items, data.content, counts)
    seed_everything(params.seed)
    rows = data.n_items + 1
    tokens, vocab_size = content_arrays(data.content, rows)
    warm = warm_flags(rows, data.n_items, counts)
    engine = Engine(params, data.n_items, vocab_size, tokens.shape[1])
    model = TrainedModel(params, data.n_items, data.content, counts, engine=engine)
    tf = engine.tf
    net = engine.net

    ids, evs, tgts, wts = make_examples(
        data.sequences, data.events, params.seq_len, feedback.multipliers if feedback else None
    )
    if feedback is not None:  # negatives of the users make_examples kept, in the same order
        kept = [u for u, s in enumerate(data.sequences) if len(s) >= 2]
        ex_negs = [np.asarray(feedback.negatives[u], dtype=np.int32) for u in kept]
        ex_negw = [np.asarray(feedback.negative_weights[u], dtype=np.float32) for u in kept]
    if not ids:
        raise ValueError("no training sequence has 2 or more interactions")
    lengths = np.array([len(x) for x in ids])
    sampled = data.n_items > params.full_softmax_max_items or (
        budget_sampled and budget > 0 and data.n_items > BUDGET_FULL_SOFTMAX_MAX_ITEMS
    )
    logger.info(
        "loss: %s softmax over %d items, time budget %gs", "sampled" if sampled else "full", data.n_items, budget
    )
    probs = counts[:rows].astype(np.float64)
    probs[probs <= 0] = 0.5  # unseen items get a small, non-zero Q
    probs[0] = 0.0
    probs /= probs.sum()
    log_q_all = np.log(np.maximum(probs, 1e-12)).astype(np.float32)
    cdf = np.cumsum(probs)

    import keras  # noqa: PLC0415

    from recpipeline.model.losses import full_softmax_loss, sampled_softmax_loss  # noqa: PLC0415
    from recpipeline.model.towers import l2_normalize  # noqa: PLC0415

    opt_kwargs = {"learning_rate": params.learning_rate}
    if params.clipnorm > 0:
        opt_kwargs["global_clipnorm"] = params.clipnorm
    if params.weight_decay > 0:
        optimizer = keras.optimizers.AdamW(weight_decay=params.weight_decay, **opt_kwargs)
    else:
        optimizer = keras.optimizers.Adam(**opt_kwargs)
    optimizer.build(net.trainable_variables)
    tokens_t = tf.constant(tokens)
    warm_t = tf.constant(warm)
    log_q_t = tf.constant(log_q_all)

    spec = [
        tf.TensorSpec([None], tf.int32),
        tf.TensorSpec([None, None], tf.int32),
        tf.TensorSpec([None, None], tf.int32),
        tf.TensorSpec([None, None], tf.int32),
        tf.TensorSpec([None, None], tf.float32),
        tf.TensorSpec([None], tf.int32),
    ]

    def next_item_loss(rows_g, ids_l, evs_b, tgts_l, wts_b, negs_l):
        """The softmax objective of one batch (traced into both steps): loss, states, item table, 1/tau, weights."""
        table = net.item_table(rows_g, tf.gather(tokens_t, rows_g), tf.gather(warm_t, rows_g), training=True)
        states = net.user_states(ids_l, evs_b, table, training=True)
        at = tgts_l > 0
        users = l2_normalize(tf.boolean_mask(states, at))
        y = tf.boolean_mask(tgts_l, at)
        w = tf.boolean_mask(wts_b, at)
        items = l2_normalize(table)
        inv_t = net.inverse_temperature()
        if sampled:
            loss = sampled_softmax_loss(users, y, w, items, inv_t, negs_l, tf.gather(log_q_t, rows_g))
        else:
            loss = full_softmax_loss(users, y, w, items, inv_t)
        return loss, states, items, inv_t, w

    def apply(tape, loss):
        optimizer.apply(tape.gradient(loss, net.trainable_variables), net.trainable_variables)

    @tf.function(input_signature=spec)
    def step(rows_g, ids_l, evs_b, tgts_l, wts_b, negs_l):
        with tf.GradientTape() as tape:
            loss, _, _, _, w = next_item_loss(rows_g, ids_l, evs_b, tgts_l, wts_b, negs_l)
        apply(tape, loss)
        return loss, tf.reduce_sum(w)

    fb_spec = [*spec, tf.TensorSpec([None, None], tf.int32), tf.TensorSpec([None, None], tf.float32)]

    @tf.function(input_signature=fb_spec)
    def step_feedback(rows_g, ids_l, evs_b, tgts_l, wts_b, negs_l, fb_l, fbw_b):
        with tf.GradientTape() as tape:
            loss, states, items, inv_t, w = next_item_loss(rows_g, ids_l, evs_b, tgts_l, wts_b, negs_l)
            last = l2_normalize(states[:, -1, :])  # each user's latest state (inputs are left-padded)
            valid = tf.cast(tgts_l[:, -1] > 0, tf.float32)
            pos = tf.reduce_sum(last * tf.gather(items, tgts_l[:, -1]), axis=-1)
            neg = tf.einsum("bd,bmd->bm", last, tf.gather(items, fb_l))
            pair = tf.nn.softplus((neg - pos[:, None]) * inv_t) * fbw_b * valid[:, None]
            loss = loss + tf.reduce_sum(pair) / tf.maximum(tf.reduce_sum(w), 1e-6)
        apply(tape, loss)
        return loss, tf.reduce_sum(w)

    # memory bound: the (positions x catalogue) logits and their gradient dominate a full-softmax step
    max_positions = params.max_batch_positions
    if not sampled:
        max_positions = max(params.seq_len, min(max_positions, params.max_logit_elements // rows))
    rng = np.random.default_rng(params.seed)
    all_rows = np.arange(rows, dtype=np.int32)
    empty = np.zeros(0, dtype=np.int32)
    best_score, best_weights, best_epoch, bad = -1.0, None, 0, 0
    for epoch in range(1, params.epochs + 1):
        t0 = time.perf_counter()
        if model.history and t0 + model.history[-1]["seconds"] > deadline:
            log(f"time budget: {budget:g}s would be spent before epoch {epoch} ends; stopping after {epoch - 1}")
            break
        total, weight_sum = 0.0, 0.0
        batches = epoch_batches(lengths, rng, params.batch_size, max_positions)
        for step_no, batch in enumerate(batches):
            if step_no and time.perf_counter() > deadline:
                log(f"time budget: {budget:g}s spent after {step_no}/{len(batches)} steps of epoch {epoch}")
                break
            b_ids = pad_left([ids[i] for i in batch])
            width = b_ids.shape[1]
            b_evs = pad_left([evs[i] for i in batch], width)
            b_tgt = pad_left([tgts[i] for i in batch], width)
            b_wts = np.zeros(b_ids.shape, dtype=np.float32)
            for j, i in enumerate(batch):
                b_wts[j, width - len(wts[i]) :] = wts[i]
            extra = ()
            if feedback is not None and any(len(ex_negs[i]) for i in batch):
                b_fb = pad_left([ex_negs[i] for i in batch])
                b_fbw = np.zeros(b_fb.shape, dtype=np.float32)
                for j, i in enumerate(batch):
                    b_fbw[j, b_fb.shape[1] - len(ex_negw[i]) :] = ex_negw[i]
                extra = (b_fb,)
            if sampled:
                negs = np.minimum(np.searchsorted(cdf, rng.random(params.num_negatives)), rows - 1)
                negs = np.maximum(negs, 1).astype(np.int32)
                parts = [[0], b_ids.ravel(), b_tgt.ravel(), negs, *(e.ravel() for e in extra)]
                rows_g = np.unique(np.concatenate(parts)).astype(np.int32)
                args = (
                    rows_g,
                    np.searchsorted(rows_g, b_ids).astype(np.int32),
                    b_evs,
                    np.searchsorted(rows_g, b_tgt).astype(np.int32),
                    b_wts,
                    np.searchsorted(rows_g, negs).astype(np.int32),
                )
                if extra:
                    loss, wsum = step_feedback(*args, np.searchsorted(rows_g, b_fb).astype(np.int32), b_fbw)
                else:
                    loss, wsum = step(*args)
            elif extra:
                loss, wsum = step_feedback(all_rows, b_ids, b_evs, b_tgt, b_wts, empty, b_fb, b_fbw)
            else:
                loss, wsum = step(all_rows, b_ids, b_evs, b_tgt, b_wts, empty)
            total += float(loss) * float(wsum)
            weight_sum += float(wsum)
        train_seconds = time.perf_counter() - t0
        record: dict[str, float] = {
            "epoch": epoch,
            "loss": total / max(weight_sum, 1e-9),
            "train_seconds": train_seconds,
            "sequences_per_second": len(ids) / max(train_seconds, 1e-9),
        }
        line = (
            f"epoch {epoch}/{params.epochs} loss {record['loss']:.4f} train {train_seconds:.1f}s "
            f"{record['sequences_per_second']:.0f} seq/s"
        )
        if params.learn_temperature:
            record["temperature"] = float(np.exp(np.array(net.log_temperature)))
            line += f" tau {record['temperature']:.4f}"
        stop = False
        if validation is not None:
            metrics = evaluate(model, validation[0], validation[1], validation[2], ks=(10,))
            record.update({f"val_{k}": v for k, v in metrics.items()})
            line += f" val_ndcg@10 {metrics['ndcg@10']:.4f} val_hit_rate@10 {metrics['hit_rate@10']:.4f}"
            if metrics["ndcg@10"] > best_score:
                best_score, best_weights, best_epoch, bad = metrics["ndcg@10"], engine.get_weights(), epoch, 0
            else:
                bad += 1
                stop = bad >= params.patience and epoch >= params.min_epochs
        record["seconds"] = time.perf_counter() - t0
        model.history.append(record)
        log(f"{line} epoch {record['seconds']:.1f}s")
        if stop:
            log(f"early stopping: best val_ndcg@10 {best_score:.4f} at epoch {best_epoch}")
            break
        if time.perf_counter() > deadline:
            log(f"time budget: {budget:g}s spent after epoch {epoch}; best val_ndcg@10 {best_score:.4f}")
            break
    if best_weights is not None:
        engine.set_weights(best_weights)
    return model
