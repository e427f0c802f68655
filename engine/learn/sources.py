"""The values a model may learn from, read from documents into columns.

A *source* is one thing a contact document records, named the way ``after_contact``
names it: a field (``industry``), ``tags``, ``custom.NAME``, ``activity.KIND`` (the
count of that kind, faded with the rules' half-life), and ``days_since_activity``
(made later from the per-kind ages, over the kinds allowed). Values are read as of a
moment: the outcome's for a contact that teaches, now for one being scored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterable

import numpy as np

from funnel.engine.model import ACTIVITY_KINDS, FIELDS, parse_datetime
from funnel.engine.rules.facts import summarise_activities

# Never learned from, whatever the data: the outcome itself, what a person decided
# about the contact, and what the engine derives from the rules.
NEVER = {
    "outcome": "the outcome itself",
    "outcome_reason": "written with the outcome",
    "stage": "derived from the rules and moved by people as the sale goes",
    "stage_pin": "a person's decision about the contact",
    "pin_reason": "a person's decision about the contact",
    "disqualify_reason": "written with the disqualification",
    "score": "the rules' score (compared as the baseline, never learned from)",
    "score_adjustment": "a person's judgement of the score",
    "score_adjustment_reason": "a person's judgement of the score",
    "lead_type": "derived from the rules",
}
# Not traits of the lead: a moment, an identifier, the sales team's working notes.
NOT_TRAITS = {
    "created_at": "a moment, not a trait (older contacts had longer to convert)",
    "external_id": "an identifier",
    "notes": "the sales team's working notes",
    "next_action": "the sales team's working notes",
    "follow_up": "set by the sales team while working the contact",
}
FIELD_SOURCES = tuple(name for name in FIELDS
                      if name not in NEVER and name not in NOT_TRAITS and name != "tags")
# Identity text: nearly every value unique, so only whether it is given says anything.
PRESENCE_FIELDS = frozenset({"name", "email", "phone", "company", "referred_by"})
GIVEN = "(given)"
LAST_ACTIVITY = "days_since_activity"
_SCALARS = (str, int, float, bool)


class Encoder:
    """One field's values as codes into its distinct values (0: None); filled by
    ``RawColumns.add``."""

    __slots__ = ("index", "distinct", "codes")

    def __init__(self) -> None:
        self.index: dict[Any, int] = {}
        self.distinct: list = [None]
        self.codes: list[int] = []


def activity_source(kind: str) -> str:
    return "activity." + kind


def custom_source(name: str) -> str:
    return "custom." + name


@dataclass
class RawColumns:
    """Raw values of many contacts, one list (or sparse dict) per source."""

    ids: list[int] = field(default_factory=list)
    labels: list[int] = field(default_factory=list)  # -1: no label
    created: list[float] = field(default_factory=list)  # seconds; NaN when unreadable
    fields: dict[str, Encoder] = field(
        default_factory=lambda: {name: Encoder() for name in FIELD_SOURCES})
    tags: list[Any] = field(default_factory=list)
    custom: dict[str, dict[int, str]] = field(default_factory=dict)  # name -> row -> text
    decayed: dict[str, dict[int, float]] = field(
        default_factory=lambda: {kind: {} for kind in ACTIVITY_KINDS})
    ages: dict[str, dict[int, float]] = field(  # days since the latest of each kind
        default_factory=lambda: {kind: {} for kind in ACTIVITY_KINDS})
    after_contact: set[str] = field(default_factory=set)  # union over teaching contacts
    # Scoring reads only what a model uses: None reads every custom field; False
    # skips the activities.
    custom_wanted: set[str] | None = None
    activities_wanted: bool = True

    @classmethod
    def for_sources(cls, sources: set[str]) -> "RawColumns":
        """Columns that read only ``sources`` (and what they are made from)."""
        raw = cls(fields={name: Encoder() for name in FIELD_SOURCES if name in sources})
        raw.custom_wanted = {name[len("custom."):] for name in sources
                             if name.startswith("custom.")}
        raw.activities_wanted = any(name == LAST_ACTIVITY or name.startswith("activity.")
                                    for name in sources)
        return raw

    def __len__(self) -> int:
        return len(self.ids)

    def add(self, contact_id: int, document: dict, moment: datetime, half_life: float,
            label: int | None) -> None:
        """Read one contact (already as known at ``moment``)."""
        row = len(self.ids)
        self.ids.append(contact_id)
        self.labels.append(-1 if label is None else label)
        self.created.append(_seconds(document.get("created_at")))
        get = document.get
        for name, encoder in self.fields.items():  # Encoder.add, inlined: the hot loop
            value = get(name)
            if value is None or value == "":
                encoder.codes.append(0)
                continue
            if name in PRESENCE_FIELDS:
                value = GIVEN
            elif value.__class__ not in _SCALARS:
                value = str(value)
            index = encoder.index
            found = index.get(value)
            if found is None:
                found = index[value] = len(encoder.distinct)
                encoder.distinct.append(value)
            encoder.codes.append(found)
        self.tags.append(get("tags"))
        custom = get("custom")
        if isinstance(custom, dict):
            wanted = self.custom_wanted
            for name, value in custom.items():
                if value not in (None, "") and (wanted is None or name in wanted):
                    self.custom.setdefault(name, {})[row] = value
        if label is not None:
            marked = get("after_contact")
            if isinstance(marked, list):
                self.after_contact.update(str(item) for item in marked)
        if self.activities_wanted and get("activities"):
            kinds, _, decayed, days_since, *_ = summarise_activities(document, moment,
                                                                     half_life)
            for kind, amount, age in zip(kinds, decayed, days_since):
                if kind in self.decayed:
                    self.decayed[kind][row] = amount
                    self.ages[kind][row] = age

    def numbers(self, sparse: dict[int, float], fill: float) -> np.ndarray:
        """A sparse per-row dict as an array (``fill`` where a row has nothing)."""
        result = np.full(len(self.ids), fill, np.float64)
        if sparse:
            result[np.fromiter(sparse.keys(), np.int64, len(sparse))] = \
                np.fromiter(sparse.values(), np.float64, len(sparse))
        return result

    def last_activity(self, kinds: Iterable[str]) -> np.ndarray:
        """Days since the latest activity of any of ``kinds`` (NaN: none)."""
        result = np.full(len(self.ids), np.inf)
        for kind in kinds:
            np.minimum(result, self.numbers(self.ages[kind], np.inf), out=result)
        result[np.isinf(result)] = np.nan
        return result

    def source_names(self) -> list[str]:
        """Every source these rows hold values for, in a stable order."""
        names = list(self.fields) + ["tags"]
        names += [custom_source(name) for name in sorted(self.custom)]
        names += [activity_source(kind) for kind in ACTIVITY_KINDS if self.decayed[kind]]
        return names + [LAST_ACTIVITY]


def _seconds(text: Any) -> float:
    try:
        return parse_datetime(text).timestamp()
    except (ValueError, TypeError, AttributeError):
        return float("nan")
