"""``ContactColumns``: what rules and filters read, one array per field, for all contacts.

Built from ``(id, document)`` pairs. Every contact field and the state classify reads
(stage, stage_since, stage_rules) is an ``EncodedColumn``; so is every custom field
name any contact has (``custom``: NAME -> column, made when a name is first seen, by
``build`` or ``put``; rules may read any of them); activities live in an
``ActivityLog``, recorded stage moves (what the Funnel tab counts) in a ``StageLog``. Rows keep their positions: ``put`` replaces a contact's row or
appends one, ``remove`` clears it and marks it dead in ``alive``; ``row_of`` maps ids
to rows and ``ids`` rows to ids. Arrays are longer than the rows in use (they grow by
doubling); ``rows`` is how many are in use, alive or dead, and every array a reader
gets covers exactly that many.
"""

from __future__ import annotations

import gc
from itertools import islice
from typing import Any, Iterable

import numpy as np

from funnel.engine.columns.activity_log import ActivityLog
from funnel.engine.columns.encoded import Coded, EncodedColumn, Numbers, encode_documents
from funnel.engine.columns.stage_log import StageLog
from funnel.engine.model import FIELDS

# The engine-kept keys classify reads besides the fields.
STATE_COLUMNS = ("stage", "stage_since", "stage_rules", "updated_at")  # updated_at: a sort
COLUMN_NAMES = tuple(FIELDS) + STATE_COLUMNS
BUILD_CHUNK = 5000  # documents parsed and encoded at a time by ``build``
NUMBER_FIELDS = frozenset(name for name, spec in FIELDS.items() if spec.kind in ("int", "number"))


class ContactColumns:
    """The column store; see the module docstring."""

    def __init__(self, capacity: int = 0) -> None:
        capacity = max(capacity, 16)
        self.rows = 0
        self._ids: list[int] | None = []  # None: only ``_id_array`` (``adopting``)
        self._row_of: dict[int, int] | None = {}  # None: made on first use (``row_of``)
        self.alive = np.zeros(capacity, bool)
        self.columns = {name: EncodedColumn(capacity) for name in COLUMN_NAMES}
        self.custom: dict[str, EncodedColumn] = {}
        self.activities = ActivityLog(capacity)
        self.stages = StageLog(capacity)  # each row's recorded stage moves
        self.version = 0  # changes with every put and remove: derived arrays key on it
        self._id_array: np.ndarray | None = None
        self._ascending = False  # (``adopting``) the ids ascend: ``row`` may search them

    @classmethod
    def build(cls, items: Iterable[tuple[int, dict]], size: int = 0,
              chunk: int = BUILD_CHUNK) -> "ContactColumns":
        """Columns of many contacts at once (much faster than ``put`` one by one).

        ``items`` is read ``chunk`` at a time, so only one chunk of parsed documents is
        held (100,000 parsed documents would take half a gigabyte); ``size``, if known,
        sizes the arrays once."""
        table = cls(size)
        pending = iter(items)
        # Nothing built here forms a cycle; collecting while millions of small objects
        # are made would scan the documents' heap again and again (as parsing it would).
        collecting = gc.isenabled()
        gc.disable()
        try:
            while True:
                part = list(islice(pending, chunk))
                if not part:
                    break
                table.extend(part)
        finally:
            if collecting:
                gc.enable()
        return table

    def extend(self, pairs: list[tuple[int, dict]]) -> None:
        """Append the rows of ``pairs`` in one go (as ``build`` does); an id seen before
        is put again (the later document wins, as with ``put``)."""
        start = self.rows
        documents: list[dict] = []
        again: list[tuple[int, dict]] = []
        for contact_id, document in pairs:
            if contact_id in self.row_of:
                again.append((contact_id, document))
            else:
                self._append(contact_id)
                documents.append(document)
        encode_documents(self.columns, documents, self.custom, len(self.alive), start)
        self.activities.fill((start + offset, document.get("activities"))
                             for offset, document in enumerate(documents))
        self.stages.fill((start + offset, document.get("history"))
                         for offset, document in enumerate(documents))
        self.alive[start:self.rows] = True
        self.version += 1
        for contact_id, document in again:
            self.put(contact_id, document)

    @classmethod
    def adopting(cls, ids: np.ndarray, alive: np.ndarray) -> "ContactColumns":
        """An empty table of these rows (ids, and which are alive), to be filled by the
        caller with columns it has (a cache): ``row_of`` is made only when first used,
        as a table only read looks rows up by the ids' order (``row``)."""
        table = cls(len(ids))
        table.rows = len(ids)
        table._ids = None  # a list of a million ints is 36 MB: made only if asked for
        table._id_array = ids
        table.alive[:len(ids)] = alive
        table._row_of = None
        table._ascending = len(ids) < 2 or bool((ids[1:] > ids[:-1]).all())
        return table

    @property
    def ids(self) -> list[int]:
        """Each row's contact id (``id_array`` is the same as an array)."""
        if self._ids is None:
            assert self._id_array is not None
            self._ids = self._id_array.tolist()
        return self._ids

    @property
    def row_of(self) -> dict[int, int]:
        """Contact id -> row of every alive row."""
        if self._row_of is None:
            alive = self.live()
            self._row_of = dict(zip(self.id_array()[alive].tolist(),
                                    np.flatnonzero(alive).tolist()))
        return self._row_of

    def row(self, contact_id: int) -> int | None:
        """The contact's row, or None: a million ids in a dict cost a fifth of a second
        and 100 MB, so a table whose ids ascend is searched until it changes."""
        if self._row_of is not None or not self._ascending:
            return self.row_of.get(contact_id)
        ids = self.id_array()
        at = int(np.searchsorted(ids, contact_id))
        return at if at < self.rows and ids[at] == contact_id and self.alive[at] else None

    def __len__(self) -> int:
        """How many contacts (alive rows)."""
        if self._row_of is not None:
            return len(self._row_of)
        return int(np.count_nonzero(self.live()))

    def put(self, contact_id: int, document: dict) -> int:
        """Store ``document`` as contact ``contact_id``: its row, replaced or appended."""
        row = self.row(contact_id)
        if row is None:
            row = self._append(contact_id)
        for name, column in self.columns.items():
            column.set(row, document.get(name))
        self._put_custom(row, document.get("custom"))
        self.activities.put(row, document.get("activities"))
        self.stages.put(row, document.get("history"))
        self.alive[row] = True
        self.version += 1
        return row

    def remove(self, contact_id: int) -> None:
        """Forget a contact; its row stays (dead), so other rows keep their positions."""
        row = self.row(contact_id)
        if row is None:
            return
        if self._row_of is not None:
            del self._row_of[contact_id]
        for column in self.columns.values():
            column.codes[row] = 0
        for column in self.custom.values():
            column.codes[row] = 0
        self.activities.remove(row)
        self.stages.remove(row)
        self.alive[row] = False
        self.version += 1

    def _put_custom(self, row: int, fields: Any) -> None:
        fields = fields if fields.__class__ is dict else {}
        for name, column in self.custom.items():
            column.codes[row] = column.code(fields.get(name))
        for name, value in fields.items():
            if name not in self.custom and value is not None:
                column = self.custom[name] = EncodedColumn(len(self.alive))
                column.codes[row] = column.code(value)

    def append_ids(self, contact_ids: list[int]) -> tuple[int, int]:
        """New rows for ``contact_ids`` (new ids), to be filled by the caller: their span."""
        start = self.rows
        for contact_id in contact_ids:
            self._append(contact_id)
        return start, self.rows

    def _append(self, contact_id: int) -> int:
        row_of = self.row_of  # made (if it was not) from the rows as they were
        if self.rows == len(self.alive):
            capacity = 2 * len(self.alive)
            grown = np.zeros(capacity, bool)
            grown[:self.rows] = self.alive[:self.rows]
            self.alive = grown
            for column in self.columns.values():
                column.resize(capacity)
            for column in self.custom.values():
                column.resize(capacity)
            self.activities.resize(capacity)
            self.stages.resize(capacity)
        row = self.rows
        self.rows += 1
        row_of[contact_id] = row
        self.ids.append(contact_id)  # a removed id coming back gets a new row
        return row

    # -- reading ---------------------------------------------------------
    def id_array(self) -> np.ndarray:
        """``ids`` as an array (a row's id never changes: kept until rows are added)."""
        if self._id_array is None or len(self._id_array) != self.rows:
            self._id_array = np.array(self.ids, np.int64)
        return self._id_array

    def live(self) -> np.ndarray:
        """Which rows hold a contact."""
        return self.alive[:self.rows]

    def coded(self, name: str) -> Coded:
        return self.columns[name].view(self.rows)

    def custom_coded(self, name: str) -> Coded:
        """Custom field ``name`` over the rows (all missing when no contact has it)."""
        column = self.custom.get(name)
        if column is None:
            return Coded(np.zeros(self.rows, np.int32), [None])
        return column.view(self.rows)

    def numbers(self, name: str) -> Numbers:
        """A number field's rows as numbers (see ``EncodedColumn.numbers``)."""
        return self.columns[name].numbers(self.rows)

    def custom_state(self) -> list[tuple[str, np.ndarray, list]]:
        """Each custom column as (name, codes of the rows in use, values): what a cache
        keeps and ``restore_custom`` takes back."""
        return [(name, column.codes[:self.rows].copy(), column.values)
                for name, column in self.custom.items()]

    def restore_custom(self, state: list[tuple[str, np.ndarray, list]]) -> None:
        """The custom columns ``custom_state`` gave (ValueError if they do not fit)."""
        for name, codes, values in state:
            if not isinstance(name, str) or len(codes) != self.rows:
                raise ValueError(f"custom column {name!r} does not fit the rows")
            self.custom[name] = EncodedColumn.restored(codes, values, len(self.alive))

    def values(self, row: int) -> dict[str, Any]:
        """One row's values as the document had them (absent ones left out)."""
        found = {}
        for name, column in self.columns.items():
            code = int(column.codes[row])
            if code:
                found[name] = column.value_of(code)
        custom = {name: column.values[column.codes[row]] for name, column in self.custom.items()
                  if column.codes[row]}
        if custom:
            found["custom"] = custom
        return found
