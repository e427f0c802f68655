"""Held-out validation: the split, ROC AUC, the Brier score and the ten tenths.

The held-out part is the newest 30% by creation date when the dates vary (a model is
used on the leads that come next), else a stratified 30% drawn with a fixed seed.
"""

from __future__ import annotations

from typing import Any

import numpy as np

HOLDOUT_SHARE = 0.3
SEED = 42
DAY = 86400.0
MIN_SPREAD_DAYS = 7.0  # creation dates within a week do not "vary"
MIN_HELD_OUT_EACH = 10


def split(labels: np.ndarray, created: np.ndarray, seed: int = SEED
          ) -> tuple[np.ndarray, np.ndarray, str]:
    """(training rows, held-out rows, how) over the rows with labels 0/1."""
    rows = np.flatnonzero(labels >= 0)
    times = created[rows]
    known = ~np.isnan(times)
    if known.all() and len(rows) and np.ptp(times) >= MIN_SPREAD_DAYS * DAY:
        order = rows[np.lexsort((rows, times))]
        cut = len(order) - int(round(HOLDOUT_SHARE * len(order)))
        held = np.sort(order[cut:])
        held_labels = labels[held]
        if min((held_labels == 1).sum(), (held_labels == 0).sum()) >= MIN_HELD_OUT_EACH:
            return np.sort(order[:cut]), held, "newest 30% by creation date"
    train, held = stratified_part(rows, labels, HOLDOUT_SHARE, seed)
    return train, held, f"stratified 30% (seed {seed})"


def auc(scores: np.ndarray, y: np.ndarray) -> float:
    """ROC AUC: the chance a random positive scores above a random negative (ties half)."""
    positives = int((y == 1).sum())
    negatives = len(y) - positives
    if not positives or not negatives:
        return float("nan")
    _, inverse, counts = np.unique(scores, return_inverse=True, return_counts=True)
    ends = np.cumsum(counts)
    average_rank = (ends - (counts - 1) / 2.0)[inverse]  # 1-based, ties averaged
    return float((average_rank[y == 1].sum() - positives * (positives + 1) / 2)
                 / (positives * negatives))


def brier(probabilities: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean((probabilities - y) ** 2))


def deciles(probabilities: np.ndarray, y: np.ndarray) -> list[dict[str, Any]]:
    """Predicted vs observed in each tenth of the contacts, ranked by prediction."""
    order = np.argsort(probabilities, kind="stable")
    found = []
    for tenth, part in enumerate(np.array_split(order, 10), 1):
        if not len(part):
            continue
        predicted = float(probabilities[part].mean())
        observed = float(y[part].mean())
        found.append({"tenth": tenth, "contacts": int(len(part)),
                      "predicted": round(predicted, 4), "observed": round(observed, 4),
                      "gap": round(abs(predicted - observed), 4)})
    return found


def stratified_part(rows: np.ndarray, labels: np.ndarray, share: float, seed: int
                    ) -> tuple[np.ndarray, np.ndarray]:
    """``rows`` split into (the rest, a stratified ``share``), with a fixed seed."""
    rng = np.random.default_rng(seed)
    rest, part = [], []
    for value in (0, 1):
        members = rows[labels[rows] == value]
        members = members[rng.permutation(len(members))]
        cut = int(round(share * len(members)))
        part.append(members[:cut])
        rest.append(members[cut:])
    return np.sort(np.concatenate(rest)), np.sort(np.concatenate(part))
