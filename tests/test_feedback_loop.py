"""The closed-loop simulation (deterministic, equal to the shop on organic days, holdout and dismissals honoured)
and feedback into training (inputs on a tiny case; negatives reach the training batches; off = unchanged)."""

from __future__ import annotations

import filecmp
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from recpipeline import db, features, scoring
from recpipeline.config import load_settings
from recpipeline.feedback import dismissals, landing, quality
from recpipeline.feedback.groups import HOLDOUT, group_of
from recpipeline.feedback.simulate import LIST_SIZE, ClosedLoopShop, LiveLists
from recpipeline.feedback.training import build_inputs, feedback_inputs, propensities
from recpipeline.generate import generate_shop


def fake_live(shop: ClosedLoopShop, dismissed: dict[str, set[str]] | None = None) -> LiveLists:
    """Every user's 'list' is 20 items of their first interest leaf; trending is the 20 first items."""
    cat, users = shop.cat, shop.users
    lists = {}
    for u, user_id in enumerate(users.ids):
        in_leaf = np.flatnonzero(cat.item_leaf == users.interests[u, 0])[:20]
        lists[user_id] = list(cat.item_ids[in_leaf])
    trending = list(cat.item_ids[:20])
    return LiveLists(1, lists, dict.fromkeys(lists, "model"), trending, dismissed or {})


def run_days(seed: int, days: int = 4) -> list:
    shop = ClosedLoopShop("tiny", seed)
    return [shop.next_day(fake_live(shop)) for _ in range(days)]


def test_simulation_is_deterministic_for_a_seed():
    a, b, c = run_days(3), run_days(3), run_days(4)
    for x, y in zip(a, b, strict=True):
        for name in ("items", "events", "impressions", "feedback"):
            pd.testing.assert_frame_equal(getattr(x, name), getattr(y, name))
    assert not a[1].impressions.equals(c[1].impressions)
    assert sum(len(d.impressions) for d in a) > 500 and sum((d.events["event_id"].str[0] == "r").sum() for d in a)


def test_organic_days_are_byte_identical_to_the_shop(workdir):
    generate_shop("tiny", 5, workdir / "shop")
    shop = ClosedLoopShop("tiny", 5)
    for _ in range(3):
        shop.next_day().write(workdir / "loop")
    for day in ("2026-10-01", "2026-10-02", "2026-10-03"):
        for name in ("items.csv", "events.csv"):
            assert filecmp.cmp(workdir / "shop" / day / name, workdir / "loop" / day / name, shallow=False)
        assert not (workdir / "loop" / day / "impressions.csv").exists()


def test_holdout_sees_trending_treatment_its_own_list_and_clicks_follow_affinity_and_position():
    shop = ClosedLoopShop("tiny", 11)
    live = fake_live(shop)
    days = [shop.next_day(live) for _ in range(8)]
    imp = pd.concat([d.impressions for d in days])
    for _request, part in imp.groupby("request_id"):
        user = part["user_id"].iloc[0]
        expected = live.trending if group_of(user, 0.1) == HOLDOUT else live.lists[user]
        assert list(part.sort_values("position")["item_id"]) == expected[: len(part)]
        assert len(part) <= LIST_SIZE
    clicks = pd.concat([d.events[d.events["event_id"].str.startswith("r")] for d in days])
    clicks = clicks[clicks["event_type"] == "click"]
    shown = imp.merge(clicks[["user_id", "item_id"]].drop_duplicates().assign(clicked=True), how="left")
    shown["clicked"] = shown["clicked"].fillna(False).astype(bool)
    shown["holdout"] = [group_of(u, 0.1) == HOLDOUT for u in shown["user_id"]]
    ctr = shown.groupby("holdout")["clicked"].mean()
    assert ctr[False] > 2 * ctr[True]  # own-interest lists are clicked far more than trending
    by_pos = shown[~shown["holdout"]].groupby("position")["clicked"].mean()
    assert by_pos.loc[1:3].mean() > by_pos.loc[8:10].mean()  # position bias


def test_dismissed_items_never_reappear_within_the_window(fresh_db, workdir):
    settings = load_settings({"dismiss_days": 3})
    shop = ClosedLoopShop("tiny", 2)
    with db.connect(fresh_db) as conn, conn.cursor() as cur:
        cur.execute(
            "INSERT INTO recs.published (ds, publish_id, model_id, users, rows_published) "
            "VALUES ('2026-09-30', 1, 'm', 1, 1)"
        )
    seen: dict[tuple[str, str], list[date]] = {}
    shown_after: list[tuple] = []
    for _ in range(7):
        day = shop.next_date
        blocked = dismissals.dismissed(fresh_db, day - timedelta(days=1), settings)
        sim = shop.next_day(fake_live(shop, blocked))
        for user, item in zip(sim.impressions["user_id"], sim.impressions["item_id"], strict=True):
            for when in seen.get((user, item), []):
                if day - when <= timedelta(days=3):
                    shown_after.append((user, item, when, day))
        for user, item in zip(sim.feedback["user_id"], sim.feedback["item_id"], strict=True):
            seen.setdefault((user, item), []).append(day)
        folder = sim.write(workdir)
        landing.land_day(fresh_db, folder, day)
        quality.validate_day(fresh_db, day, settings)
    assert seen, "the response model dismissed nothing: the test would prove nothing"
    assert shown_after == []
    # and scoring can exclude them too: scoring.top_n with dismissals.exclusions never returns them
    user, item = next(iter(seen))
    index = {f"i{n}": n for n in range(1, 6)} | {item: 6}
    vecs = np.eye(7, dtype=np.float32)[:, :7]
    top = scoring.top_n(
        np.ones((1, 7), np.float32), vecs, 6, exclude=dismissals.exclusions([user], {user: {item}}, index, None)
    )
    assert 6 not in top.items[0] and (top.items[0] >= 0).sum() == 5


def test_feedback_inputs_on_a_tiny_case():
    seqs = features.Sequences(
        ["u1", "u2"],
        [np.array([1, 2, 3], np.int32), np.array([4, 5], np.int32)],
        [np.array([1, 2, 2], np.int32), np.array([1, 1], np.int32)],
        [np.array([100, 200, 300], np.int64), np.array([100, 200], np.int64)],
    )
    index = {f"i{n}": n for n in range(1, 8)}
    prop = propensities([(1, 100, 20), (2, 100, 10), (3, 100, 0)])
    assert prop == {1: 1.0, 2: 0.5, 3: 0.05}
    rows = [
        ("u1", "i3", 2, 250, True, 300),  # clicked recommendation at position 2 -> the target at ts 300
        ("u1", "i6", 1, 250, False, None),  # shown first and ignored -> strong negative
        ("u1", "i7", 3, 250, False, None),  # shown third and ignored -> weak negative
        ("u1", "i1", 1, 250, False, None),  # ignored in the list but interacted with -> not a negative
        ("u3", "i1", 1, 250, False, None),  # a user without a sequence is skipped
    ]
    fb = build_inputs(seqs, rows, index, prop, click_weight=2.0, negative_weight=0.5, dismissed={"u2": {"i6"}})
    assert fb.multipliers[0].tolist() == [1.0, 1.0, 4.0]  # 1 + 2 / 0.5 = 5, capped at MAX_MULTIPLIER
    assert fb.multipliers[1].tolist() == [1.0, 1.0]
    assert fb.negatives[0].tolist() == [6, 7] and fb.negative_weights[0].tolist() == pytest.approx([0.5, 0.025])
    assert fb.negatives[1].tolist() == [6] and fb.negative_weights[1].tolist() == [1.0]  # dismissed: explicit
    assert build_inputs(seqs, rows[-1:], index, prop, 2.0, 0.5) is None


def test_feedback_training_off_reads_nothing(monkeypatch):
    monkeypatch.setattr(db, "connect", lambda *a, **k: pytest.fail("feedback off must not touch the database"))
    assert feedback_inputs("x", date(2026, 10, 5), load_settings({"feedback_training": False}), None, None) is None


def tiny_training_set(n_items: int = 12, users: int = 24, seed: int = 0):
    from recpipeline.model.types import TrainingSet

    rng = np.random.default_rng(seed)
    seqs = [rng.integers(1, n_items + 1, 6).astype(np.int32) for _ in range(users)]
    events = [np.ones(6, np.int32) for _ in range(users)]
    return TrainingSet(n_items=n_items, sequences=seqs, events=events, content=None)


def test_feedback_negatives_reach_the_training_batches(monkeypatch):
    from recpipeline.model import training
    from recpipeline.model.types import ModelParams

    params = ModelParams(embedding_dim=8, epochs=2, batch_size=8, seed=3, use_content=False)
    data = tiny_training_set()
    fb = training.FeedbackInputs(
        multipliers=[np.ones(len(s), np.float32) for s in data.sequences],
        negatives=[np.array([11, 12], np.int32) if u % 2 else np.zeros(0, np.int32) for u in range(24)],
        negative_weights=[np.array([1.0, 0.5], np.float32) if u % 2 else np.zeros(0, np.float32) for u in range(24)],
    )
    padded = []
    real_pad = training.pad_left

    def spy(seqs, length=None):
        out = real_pad(seqs, length)
        padded.append(out)
        return out

    monkeypatch.setattr(training, "pad_left", spy)
    with_fb = training.train(data, params, feedback=fb).item_vectors()
    assert any(p.shape[1] == 2 and {11, 12} <= set(p.ravel().tolist()) for p in padded)
    monkeypatch.setattr(training, "pad_left", real_pad)
    plain = training.train(data, params).item_vectors()
    neutral = training.FeedbackInputs(
        [np.ones(len(s), np.float32) for s in data.sequences],
        [np.zeros(0, np.int32)] * 24,
        [np.zeros(0, np.float32)] * 24,
    )
    again = training.train(data, params, feedback=neutral).item_vectors()
    np.testing.assert_array_equal(plain, again)  # feedback that says nothing trains bit-identically
    assert not np.allclose(plain, with_fb)


def test_cli_wiring_parses_simulate_options():
    import argparse

    from recpipeline.feedback import simulate

    root = argparse.ArgumentParser(prog="recpipeline")
    sub = root.add_subparsers(dest="command", required=True)
    # the three lines cli.py's parser() gains
    s = simulate.add_arguments(sub.add_parser("simulate", help="closed-loop synthetic shop through the pipeline"))
    s.set_defaults(func=simulate.run)
    args = root.parse_args(["simulate", "--profile", "tiny", "--days", "3", "--conf", '{"epochs": 2}'])
    assert (args.func, args.profile, args.days, args.warmup, args.runner) == (simulate.run, "tiny", 3, 14, "direct")
    assert simulate.run(root.parse_args(["simulate", "--conf", '{"epochs": 0}'])) == 2  # bad settings: one line
