"""The rules' score of contacts from only what a model may read: the fair baseline.

A contact is taken as known before its outcome (``examples``), the sources left out
of learning are removed (fields emptied, custom fields and activity kinds dropped),
and the rules classify it at its outcome's moment. Comparing the model with the rules
on the same inputs keeps the comparison honest.
"""

from __future__ import annotations

from datetime import datetime
from typing import Iterable

import numpy as np

from funnel.engine.learn.examples import known_before_outcome
from funnel.engine.model import FIELDS
from funnel.engine.rules.classify import classify
from funnel.engine.rules.ruleset import Rules


def strip(document: dict, skip: set[str]) -> dict:
    """A copy of ``document`` without the sources in ``skip``."""
    view = dict(document)
    for name in skip:
        if name in FIELDS:
            view[name] = None
    custom = view.get("custom")
    if isinstance(custom, dict):
        view["custom"] = {name: value for name, value in custom.items()
                          if "custom." + name not in skip}
    kinds = {name.partition(".")[2] for name in skip if name.startswith("activity.")}
    if kinds and view.get("activities"):
        view["activities"] = [activity for activity in view["activities"]
                              if activity.get("kind") not in kinds]
    return view


def as_learned(document: dict, skip: set[str], now: datetime) -> tuple[dict, datetime]:
    """The document as a model reads it, and the moment it is read at."""
    view, moment = known_before_outcome(document)
    return strip(view, skip), moment or now


def rules_scores(items: Iterable[tuple[int, dict]], wanted: dict[int, int], rules: Rules,
                 now: datetime, skip: set[str]) -> np.ndarray:
    """Per wanted id (in ``wanted``'s order), the rules' score of its learned view."""
    position = {contact_id: index for index, contact_id in enumerate(wanted)}
    scores = np.zeros(len(wanted), np.int64)
    for contact_id, document in items:
        index = position.get(contact_id)
        if index is None:
            continue
        view, moment = as_learned(document, skip, now)
        scores[index] = classify(view, rules, moment, explain=False).score
    return scores
