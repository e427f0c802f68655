"""What filters and sorts read: the columns, their classification and derived tables.

A ``ListContext`` is made for one ``Workspace.select``: the contact columns, every row's
classification under the active rules, the moment, and the workspace's ``ValueTables``
(kept between keystrokes). Everything a filter term or a sort key needs comes from
here as one array per row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable

import numpy as np

from funnel.engine.columns.classify import ColumnClassification
from funnel.engine.columns.encoded import Coded
from funnel.engine.columns.fact_columns import FactColumns
from funnel.engine.columns.table import ContactColumns
from funnel.engine.errors import FunnelError
from funnel.engine.rules.ruleset import Rules
from funnel.engine.workspace.value_tables import ValueTables

# A custom field over every row (the documents are read once per name and version).
CustomReader = Callable[[str], Coded]


@dataclass
class ListContext:
    table: ContactColumns
    result: ColumnClassification
    rules: Rules
    now: datetime
    values: ValueTables
    custom_reader: CustomReader
    me: str | None = None
    # Each live row's learned likelihood (NaN without a model); read when a term asks.
    likelihood_reader: Callable[[], np.ndarray | None] | None = None
    _facts: FactColumns | None = field(default=None, repr=False)

    @property
    def rows(self) -> int:
        return self.table.rows

    def facts(self) -> FactColumns:
        if self._facts is None:
            self._facts = FactColumns(self.table, self.now, self.rules.half_life_days)
        return self._facts

    def likelihood(self) -> np.ndarray:
        """The learned likelihood (0-1) per row; FunnelError if no model was trained."""
        found = self.likelihood_reader() if self.likelihood_reader is not None else None
        if found is None:
            raise FunnelError("no likelihood model for this database yet: run funnel learn")
        return found

    def coded(self, name: str) -> Coded:
        return self.table.coded(name)

    def custom(self, name: str) -> Coded:
        return self.custom_reader(name)

    def lowered(self, name: str) -> tuple[list[str], np.ndarray]:
        """A field's distinct values as lower-case text, and each row's code."""
        coded = self.coded(name)
        return self.values.lowered(name, coded), coded.codes

    def containing(self, name: str, needle: str) -> np.ndarray:
        """Which rows hold ``needle`` in field ``name``'s lower-case text."""
        coded = self.coded(name)
        return self.values.containing(name, coded, needle)[coded.codes]

    def moments(self, name: str) -> np.ndarray:
        """A date or date-time field per row as seconds since the epoch (NaN: none)."""
        column = self.table.columns[name]  # (its moments: a cache's values stay unparsed)
        micro, present = column.moments()
        return np.where(present, micro / 1e6, np.nan)[column.codes[:self.table.rows]]

    def text_ranks(self, name: str) -> np.ndarray:
        """A text field per row as its place in case-insensitive order (missing last)."""
        coded = self.coded(name)
        return self.values.ranks(name, coded)[coded.codes]

    def names(self, which: str) -> tuple[np.ndarray, tuple[Any, ...]]:
        """A classification output per row as codes, and the names the codes stand for."""
        result = self.result
        if which == "stage":
            return result.stage, result.stage_ids
        if which == "temperature":
            return result.temperature, result.temperatures
        if which == "lead_type":
            return result.lead_type, result.lead_types
        raise KeyError(which)
