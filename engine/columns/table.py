"""``ContactColumns``: what rules and filters read, one array per field, for all contacts.

Built from ``(id, document)`` pairs. Every contact field and the state classify reads
(stage, stage_since, stage_rules) is an ``EncodedColumn``; activities live in an
``ActivityLog``. Rows keep their positions: ``put`` replaces a contact's row or
appends one, ``remove`` clears it and marks it dead in ``alive``; ``row_of`` maps ids
to rows and ``ids`` rows to ids. Arrays are longer than the rows in use (they grow by
doubling); ``rows`` is how many are in use, alive or dead, and every array a reader
gets covers exactly that many.
"""

from __future__ import annotations

import gc
from typing import Any, Iterable

import numpy as np

from funnel.engine.columns.activity_log import ActivityLog
from funnel.engine.columns.encoded import Coded, EncodedColumn, Numbers, encode_documents
from funnel.engine.model import FIELDS

# The engine-kept keys classify reads besides the fields.
STATE_COLUMNS = ("stage", "stage_since", "stage_rules")
COLUMN_NAMES = tuple(FIELDS) + STATE_COLUMNS
NUMBER_FIELDS = frozenset(name for name, spec in FIELDS.items() if spec.kind in ("int", "number"))


class ContactColumns:
    """The column store; see the module docstring."""

    def __init__(self, capacity: int = 0) -> None:
        capacity = max(capacity, 16)
        self.rows = 0
        self.ids: list[int] = []
        self.row_of: dict[int, int] = {}
        self.alive = np.zeros(capacity, bool)
        self.columns = {name: EncodedColumn(capacity) for name in COLUMN_NAMES}
        self.activities = ActivityLog(capacity)
        self.version = 0  # changes with every put and remove: derived arrays key on it

    @classmethod
    def build(cls, items: Iterable[tuple[int, dict]]) -> "ContactColumns":
        """Columns of many contacts at once (much faster than ``put`` one by one)."""
        pairs = list(items)
        table = cls(len(pairs))
        documents: list[dict] = []
        for contact_id, document in pairs:
            row = table.row_of.get(contact_id)
            if row is None:
                row = table.row_of[contact_id] = len(table.ids)
                table.ids.append(contact_id)
                documents.append(document)
            else:  # the same id twice: the later document wins, as with put
                documents[row] = document
        table.rows = len(documents)
        table.alive[:table.rows] = True
        # Nothing built here forms a cycle; collecting while millions of small objects
        # are made would scan the documents' heap again and again (as parsing it would).
        collecting = gc.isenabled()
        gc.disable()
        try:
            encode_documents(table.columns, documents)
            table.activities.fill((row, doc.get("activities"))
                                  for row, doc in enumerate(documents))
        finally:
            if collecting:
                gc.enable()
        return table

    def __len__(self) -> int:
        """How many contacts (alive rows)."""
        return len(self.row_of)

    def put(self, contact_id: int, document: dict) -> int:
        """Store ``document`` as contact ``contact_id``: its row, replaced or appended."""
        row = self.row_of.get(contact_id)
        if row is None:
            row = self._append(contact_id)
        for name, column in self.columns.items():
            column.codes[row] = column.code(document.get(name))
        self.activities.put(row, document.get("activities"))
        self.alive[row] = True
        self.version += 1
        return row

    def remove(self, contact_id: int) -> None:
        """Forget a contact; its row stays (dead), so other rows keep their positions."""
        row = self.row_of.pop(contact_id, None)
        if row is None:
            return
        for column in self.columns.values():
            column.codes[row] = 0
        self.activities.remove(row)
        self.alive[row] = False
        self.version += 1

    def _append(self, contact_id: int) -> int:
        if self.rows == len(self.alive):
            capacity = 2 * len(self.alive)
            grown = np.zeros(capacity, bool)
            grown[:self.rows] = self.alive[:self.rows]
            self.alive = grown
            for column in self.columns.values():
                column.resize(capacity)
            self.activities.resize(capacity)
        row = self.rows
        self.rows += 1
        self.row_of[contact_id] = row
        self.ids.append(contact_id)  # a removed id coming back gets a new row
        return row

    # -- reading ---------------------------------------------------------
    def live(self) -> np.ndarray:
        """Which rows hold a contact."""
        return self.alive[:self.rows]

    def coded(self, name: str) -> Coded:
        return self.columns[name].view(self.rows)

    def numbers(self, name: str) -> Numbers:
        """A number field's rows as numbers (see ``EncodedColumn.numbers``)."""
        return self.columns[name].numbers(self.rows)

    def values(self, row: int) -> dict[str, Any]:
        """One row's values as the document had them (absent ones left out)."""
        found = {}
        for name, column in self.columns.items():
            code = int(column.codes[row])
            if code:
                found[name] = column.values[code]
        return found
