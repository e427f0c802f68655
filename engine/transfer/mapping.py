"""Import mappings: which column of a file feeds which part of a contact.

This module holds what a mapping is (``Mapping``, its ``ColumnMap``s and their
``Target``s). A mapping comes from a YAML file or preset (``mapping_file``, checked
entry by entry in ``mapping_build``) or, without one, from a best guess at the
header names (``mapping_guess``), which ``funnel import --dry-run`` shows before
anything is written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from funnel.engine.transfer.cells import value_key
from funnel.engine.transfer.csvread import header_key

MAPPING_FORMAT = 1
MATCH_KEYS = ("email", "external_id")
# Placeholder texts read as empty in every column, unless a mapping lists its own.
DEFAULT_EMPTY_VALUES = ("Select", "N/A", "#N/A", "null", "-", "--", "(none)", "(blank)")
# What a column can feed besides the contact fields.
SPECIAL_TARGETS = ("custom", "ignore", "activities", "stage", "stage_since")
# Columns `funnel export` writes that the rules derive: skipped when reading an export.
DERIVED_COLUMNS = ("id", "score", "fit", "engagement", "grade", "temperature", "lead_type",
                   "rotting", "overdue")
CUSTOM_PREFIX = "custom."  # an export's custom.NAME column holds custom field NAME

@dataclass(frozen=True)
class Target:
    """One thing a column feeds.

    kind: ``field`` (name = a contact field), ``custom`` (name = the custom field),
    ``count`` (name = an activity kind; the cell is how many), ``activities`` (the
    cell is a JSON list, or with ``values`` names one activity), ``stage`` (the stage
    the contact has reached), ``stage_since``, ``ignore``; and for a file written by
    ``funnel export``, ``funnel_id``: the contact's id in the database it came from,
    and ``after_contact``: the sources its contact recorded after contact.
    """

    kind: str
    name: str = ""
    values: dict[str, Any] | None = None  # value_key(cell) -> value (None: empty)
    other: str = "keep"  # for a cell not in values: keep, empty, error, or "value"
    other_value: Any = None
    per: float = 1.0
    at: str | None = None  # the column holding this activity's date
    date_format: str | None = None
    line: int | None = None
    soft: bool = False  # a value the field cannot take is kept as a custom field (guesses)

    def describe(self) -> str:
        if self.kind == "field":
            text = self.name
        elif self.kind == "custom":
            text = f"custom field {self.name!r}"
        elif self.kind == "count":
            text = f"{self.name} activities, one per {self.per:g}" if self.per != 1 \
                else f"{self.name} activities (the cell is a count)"
        elif self.kind == "activities":
            text = "an activity named by the cell" if self.values is not None \
                else "activities (a JSON list)"
        elif self.kind == "stage":
            text = "the stage reached"
        elif self.kind == "stage_since":
            text = "when the stage was reached"
        elif self.kind == "after_contact":
            text = "what was recorded after contact (kept, never learned from)"
        elif self.kind == "funnel_id":
            text = "matches the contact it was exported from (same id and created time)"
        else:
            text = "ignored"
        if self.soft:
            text += " (other values kept as a custom field)"
        if self.values is not None:
            text += f", {len(self.values)} value{'s' if len(self.values) != 1 else ''} " \
                    "translated"
        return text


@dataclass(frozen=True)
class ColumnMap:
    column: str  # as written in the mapping (or the file, for a guess)
    targets: tuple[Target, ...]
    optional: bool = False
    line: int | None = None
    note: str = ""  # why a guess chose this
    after_contact: bool = False  # recorded after the sales contact: read, never learned

    @property
    def key(self) -> str:
        return header_key(self.column)

    def sources(self) -> list[str]:
        """The feature sources this column feeds, as a contact's ``after_contact`` names
        them: a field, ``custom.NAME`` or ``activity.KIND`` (for an activity named by
        the cell, every kind its values name). Stages and ignored columns feed none."""
        found = []
        for target in self.targets:
            if target.kind == "field":
                found.append(target.name)
            elif target.kind == "custom":
                found.append(CUSTOM_PREFIX + target.name)
            elif target.kind == "count":
                found.append("activity." + target.name)
            elif target.kind == "activities" and target.values is not None:
                kinds = set(target.values.values()) | {target.other_value}
                found += ["activity." + kind for kind in kinds if kind is not None]
        return found


@dataclass(frozen=True)
class Mapping:
    name: str
    source: str  # the file, or "a best guess from the header"
    columns: tuple[ColumnMap, ...] = ()
    description: str = ""
    match_on: tuple[str, ...] = MATCH_KEYS
    defaults: dict[str, Any] = field(default_factory=dict)
    empty_values: frozenset[str] = frozenset(value_key(v) for v in DEFAULT_EMPTY_VALUES)
    keep_unmapped: bool = True
    date_format: str | None = None
    guessed: bool = False

    def column(self, name: str) -> ColumnMap | None:
        key = header_key(name)
        return next((column for column in self.columns if column.key == key), None)

    @property
    def after_contact(self) -> list[str]:
        """What the columns marked ``after_contact`` feed (sorted, each once): every
        contact this mapping imports records it, so a learner leaves it out."""
        return sorted({source for column in self.columns if column.after_contact
                       for source in column.sources()})

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "source": self.source, "guessed": self.guessed,
                "match_on": list(self.match_on), "defaults": dict(self.defaults),
                "after_contact": self.after_contact,
                "columns": {column.column: [target.describe() for target in column.targets]
                            for column in self.columns}}
