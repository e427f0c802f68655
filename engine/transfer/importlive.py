"""An import's batch kept current while it is written: a ``batch.LiveBatch``.

The plan matched every row against the database as it was then. By the time the
workspace commits it, others may have edited some of those contacts, or added one a
new row is about. ``revisit`` derives again only those rows, from the contact as it is
now (``importchanges.rebase``), so the import never has to start over: a field a row
sets that someone changed since the plan is a conflict (their value stays), the rest
of the row applies, and a new row whose contact now exists updates it instead of
adding it twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Iterator, Sequence, overload

from funnel.engine.transfer.batch import BatchConflict, BatchUpdate, Getter
from funnel.engine.transfer.importchanges import (PlannedCreate, Seen, rebase, seen_values,
                                                  to_update)
from funnel.engine.transfer.importmatch import document_keys, keys_of, why_of
from funnel.engine.transfer.importplan import ImportConflict, ImportPlan
from funnel.engine.transfer.incoming import Incoming
from funnel.engine.transfer.workspace_protocols import ImportTarget

DELETED = -1  # the revision of a row whose contact is gone


@dataclass(eq=False)
class _Row:
    """A row matched to a contact, and what it does to the contact as last seen."""

    item: Incoming
    contact_id: int
    seen: Seen  # the contact when planned: clashes are changes since
    rev: int  # the revision ``update`` was derived from
    update: BatchUpdate | None  # None: changes nothing
    clashes: list[BatchConflict]


class LiveImport:
    """A plan's creates and updates, re-derived for contacts that change meanwhile."""

    def __init__(self, plan: ImportPlan, workspace: ImportTarget) -> None:
        self._plan = plan
        self._workspace = workspace
        self._defaults = plan.defaults()
        self.version = plan.version
        self._rows: dict[int, _Row] = {}
        for item, update in plan.updates:
            seen = plan.seen[update.contact_id]
            self._rows[update.contact_id] = _Row(item, update.contact_id, seen, update.rev,
                                                 update, [])
        for item, contact_id in plan.unchanged:
            seen = plan.seen[contact_id]
            self._rows[contact_id] = _Row(item, contact_id, seen, seen.rev, None, [])
        # New rows, by their place in plan.incoming (read back when written); the
        # positions of those a contact added meanwhile turned into updates.
        self._creates = _Creates(plan, self._defaults)
        self._top = max(plan.top_id, 0)  # contacts above this id were added since
        self.rederived: set[int] = set()  # contacts whose row was derived again

    # -- what the workspace writes ------------------------------------------------
    @property
    def creates(self) -> "_Creates":
        return self._creates

    @property
    def updates(self) -> dict[int, BatchUpdate]:
        return {contact_id: row.update for contact_id, row in self._rows.items()
                if row.update is not None}

    @property
    def conflicts(self) -> list[BatchConflict]:
        return [clash for row in self._rows.values() for clash in row.clashes]

    @property
    def unchanged(self) -> int:
        return sum(1 for row in self._rows.values()
                   if row.update is None and row.rev != DELETED)

    # -- keeping it current ---------------------------------------------------------
    def revisit(self, get: Getter, changed: Iterable[int], version: int) -> None:
        """Derive again the rows of contacts whose revision moved; turn new rows whose
        contact was added (or given their email) meanwhile into updates."""
        self.version = version
        for row in self._rows.values():
            current = get(row.contact_id)
            if current is None:
                if row.rev != DELETED:
                    row.rev, row.update = DELETED, None
                    row.clashes = [BatchConflict(row.contact_id, "contact", None, None)]
                    self.rederived.add(row.contact_id)
                continue
            rev = int(current.get("rev") or 0)
            if rev != row.rev:
                update, clashes = rebase(row.item, row.contact_id, row.seen, current,
                                         self._defaults, self._workspace,
                                         why_of(self._plan, row.item))
                row.rev, row.update = rev, update
                row.clashes = [BatchConflict(row.contact_id, name, theirs, mine)
                               for name, theirs, mine in clashes]
                self.rederived.add(row.contact_id)
        self._claim(get, changed)

    def _claim(self, get: Getter, changed: Iterable[int]) -> None:
        candidates = set(changed)
        while get(self._top + 1) is not None:  # ids are given out in order: these are new
            self._top += 1
            candidates.add(self._top)
        match_on = self._plan.mapping.match_on
        documents = {}
        for contact_id in candidates - set(self._rows):
            document = get(contact_id)
            if document is not None and document_keys(document, match_on):
                documents[contact_id] = document
        if not documents:
            return
        # The first new row (in file order) with each key those contacts have: one pass
        # over the rows, and only when someone added or changed a contact meanwhile.
        wanted = {key for document in documents.values()
                  for key in document_keys(document, match_on)}
        first: dict[tuple[str, str], int] = {}
        for position, item in self._creates.rows():
            for key in keys_of(item, match_on):
                if key in wanted:
                    first.setdefault(key, position)
        for contact_id in sorted(documents):  # the lowest id wins, as when planning
            document = documents[contact_id]
            taken = next((first[key] for key in document_keys(document, match_on)
                          if key in first and self._creates[first[key]] is not None), None)
            if taken is None:
                continue
            item = self._creates.drop(taken)
            seen = seen_values(item, document, self._defaults)
            update = to_update(item, contact_id, document, self._defaults, self._workspace,
                               why_of(self._plan, item))
            self._rows[contact_id] = _Row(item, contact_id, seen, seen.rev, update, [])
            self.rederived.add(contact_id)

    # -- reporting --------------------------------------------------------------------
    def described(self, conflicts: Sequence[BatchConflict]) -> list[ImportConflict]:
        """The conflicts with the rows of the file they are about, in file order."""
        found = [ImportConflict(tuple(self._rows[c.contact_id].item.rows), c.contact_id,
                                c.field, c.theirs, c.mine, c.by, c.at) for c in conflicts]
        return sorted(found, key=lambda conflict: (conflict.rows, conflict.field))


class _Creates(Sequence["PlannedCreate | None"]):
    """A plan's new rows by position (``batch.LiveBatch.creates``): each derived from
    its packed row when asked, None once a contact added meanwhile took it over."""

    def __init__(self, plan: ImportPlan, defaults: dict) -> None:
        self._rows = plan.incoming
        self._places = plan.creates  # position -> the row's place in plan.incoming
        self._defaults = defaults
        self._source = why_of(plan, None)
        self._dropped: set[int] = set()

    def __len__(self) -> int:
        return len(self._places)

    @overload
    def __getitem__(self, position: int) -> PlannedCreate | None: ...

    @overload
    def __getitem__(self, position: slice) -> list[PlannedCreate | None]: ...

    def __getitem__(self, position: int | slice
                    ) -> PlannedCreate | None | list[PlannedCreate | None]:
        if isinstance(position, slice):
            return [self[at] for at in range(*position.indices(len(self)))]
        place = self._places[position]
        if position in self._dropped:
            return None
        return PlannedCreate(self._rows, place, self._defaults, self._source)

    def rows(self) -> Iterator[tuple[int, Incoming]]:
        """(position, row) of every new row still to be added, in file order."""
        wanted = iter(enumerate(self._places))
        position, place = next(wanted, (-1, -1))
        for at, item in enumerate(self._rows):
            if at == place:
                if position not in self._dropped:
                    yield position, item
                position, place = next(wanted, (-1, -1))

    def drop(self, position: int) -> Incoming:
        """Take a new row over (its contact was added meanwhile); returns the row."""
        self._dropped.add(position)
        return self._rows[self._places[position]]
