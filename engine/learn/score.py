"""Every contact's likelihood (0-1) and its factors, under a saved model.

A factor is one feature's part of the contact's calibrated log-odds, relative to the
training mean of that feature, in points: 10 x log-odds. The baseline (every feature
at its mean) plus the factors' points / 10 is the contact's log-odds, so factors add
up like the rules' explanation adds up to the score.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Iterable

import numpy as np

from funnel.engine.learn.features import Design, source_values
from funnel.engine.learn.logistic import sigmoid
from funnel.engine.learn.model_file import Model
from funnel.engine.learn.sources import RawColumns

POINTS_PER_LOG_ODDS = 10.0


def design_for(model: Model, raw: RawColumns) -> Design:
    inputs = [source_values(raw, feature.source, model.activity_kinds)
              for feature in model.features]
    return Design.build(model.features, inputs, len(raw))


def weights_of(model: Model) -> np.ndarray:
    return np.array([weight for feature in model.features for weight in feature.weights],
                    np.float64)


class Scored:
    """Likelihoods and factors of the rows of ``raw`` under ``model``."""

    def __init__(self, model: Model, raw: RawColumns) -> None:
        self.model = model
        self.ids = raw.ids
        self.design = design_for(model, raw)
        parts = self.design.feature_parts(weights_of(model))
        centres = np.array([feature.centre for feature in model.features])
        self.points = POINTS_PER_LOG_ODDS * model.slope * (parts - centres) \
            if len(model.features) else np.zeros((len(raw), 0))
        log_odds = model.baseline + self.points.sum(axis=1) / POINTS_PER_LOG_ODDS
        self.likelihood = sigmoid(log_odds)

    def factors(self, row: int) -> list[dict[str, Any]]:
        """``[{feature, value, points}]`` for one row, the weightiest first."""
        found: list[dict[str, Any]] = []
        coded = {number: position for position, number in enumerate(self.design.coded_features)}
        for number, feature in enumerate(self.model.features):
            if number in coded:
                column = int(self.design.codes[row, coded[number]]) - \
                    int(self.design.offsets[number])
                value = feature.labels[column]
            else:
                lo = np.searchsorted(self.design.tag_rows, row, side="left")
                hi = np.searchsorted(self.design.tag_rows, row, side="right")
                offset = int(self.design.offsets[number])
                tags = [feature.kept[int(column) - offset]
                        for column in self.design.tag_columns[lo:hi]
                        if offset <= column < offset + feature.width]
                value = ", ".join(sorted(tags)) if tags else "(none)"
            found.append({"feature": feature.source, "value": value,
                          "points": round(float(self.points[row, number]), 1)})
        found.sort(key=lambda item: (-abs(float(item["points"])), str(item["feature"])))
        return found


def read_contacts(model: Model, items: Iterable[tuple[int, dict]], now: datetime
                  ) -> RawColumns:
    """The contacts' values now (what they are today, not as at an outcome)."""
    raw = RawColumns.for_sources({feature.source for feature in model.features})
    for contact_id, document in items:
        raw.add(contact_id, document, now, model.half_life_days, None)
    return raw


def score_contacts(model: Model, items: Iterable[tuple[int, dict]], now: datetime) -> Scored:
    return Scored(model, read_contacts(model, items, now))


def likelihood_of(model: Model, contact_id: int, document: dict, now: datetime
                  ) -> tuple[float, list[dict[str, Any]]]:
    """One contact's likelihood and factors."""
    scored = score_contacts(model, [(contact_id, document)], now)
    return float(scored.likelihood[0]), scored.factors(0)


def tenths(likelihood: np.ndarray) -> dict[str, int]:
    """How many contacts in each tenth of likelihood: "0-10%" ... "90-100%"."""
    index = np.minimum((np.asarray(likelihood) * 10).astype(np.int64), 9)
    counts = np.bincount(index, minlength=10)
    return {f"{10 * tenth}-{10 * tenth + 10}%": int(counts[tenth]) for tenth in range(10)}
