"""The held-out measures: AUC against its definition, the split, the tenths."""

from __future__ import annotations

import numpy as np

from funnel.engine.learn.validate import auc, brier, deciles, split


def test_auc_is_the_chance_a_positive_ranks_above_a_negative_with_ties_half() -> None:
    rng = np.random.default_rng(1)
    scores = rng.integers(0, 6, 300).astype(float)  # many ties
    y = (rng.random(300) < 0.4).astype(float)
    pos, neg = scores[y == 1], scores[y == 0]
    pairs = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    assert abs(auc(scores, y) - pairs / (len(pos) * len(neg))) < 1e-12
    assert auc(y, y) == 1.0 and auc(-y, y) == 0.0
    assert np.isnan(auc(scores, np.ones(300)))


def test_brier_and_tenths() -> None:
    p = np.linspace(0, 1, 1000)
    y = (p > 0.5).astype(float)
    assert abs(brier(p, y) - np.mean((p - y) ** 2)) < 1e-12
    tenths = deciles(p, y)
    assert [t["tenth"] for t in tenths] == list(range(1, 11))
    assert sum(t["contacts"] for t in tenths) == 1000
    assert tenths[0]["observed"] == 0.0 and tenths[-1]["observed"] == 1.0


def test_the_split_holds_out_the_newest_when_dates_vary_else_a_stratified_share() -> None:
    labels = np.array([0, 1] * 200)
    day = 86400.0
    created = np.arange(400) * day
    train, held, how = split(labels, created)
    assert "newest" in how and len(held) == 120
    assert created[held].min() > created[train].max()
    same_day = np.zeros(400)
    train, held, how = split(labels, same_day)
    assert "stratified" in how and len(held) == 120
    assert (labels[held] == 1).sum() == 60  # each label's share held out
    assert set(train) | set(held) == set(range(400)) and not set(train) & set(held)
    again = split(labels, same_day)
    assert np.array_equal(again[1], held)  # a fixed seed: the same every run
