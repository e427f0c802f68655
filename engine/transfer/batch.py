"""A batch of new and changed contacts, written by the workspace at once.

The importer plans a batch (``engine.importer``); the workspace builds, classifies
and records the documents, then commits the whole batch in one transaction.

A ``LiveBatch`` (``Workspace.commit_live_batch``) is kept current while it is written:
the workspace asks it to ``revisit`` the contacts that changed since it was planned
(once before the lock, and again under the lock if someone committed meanwhile), so
the commit never has to give up; a field someone changed that the batch would set is
a ``BatchConflict`` of that contact, left as they set it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping, Protocol, Sequence

from funnel.engine.errors import FunnelError


@dataclass(frozen=True)
class NewContact:
    """A contact to create: fields (plus ``activities`` and ``custom``), the stage it
    has already reached elsewhere (forward-only from there), and why (for the history)."""

    fields: dict[str, Any]
    why: str
    stage: str | None = None
    stage_since: str | None = None

    def contact(self) -> "NewContact":
        return self


class Creation(Protocol):
    """What a batch needs of a contact to create: a ``NewContact``, or an import's
    row that derives one when asked (``importchanges.PlannedCreate``: a big import
    does not hold every row's contact at once)."""

    def contact(self) -> NewContact: ...


@dataclass(frozen=True)
class BatchUpdate:
    """New values for some keys of an existing contact planned at revision ``rev``.

    ``changes`` holds validated field values, and ``activities`` / ``custom`` as the
    whole new list / dict. ``stage``: a stage reached elsewhere; it moves the contact
    forward only, never back, and never past a pin.
    """

    contact_id: int
    rev: int
    changes: dict[str, Any]
    why: str
    stage: str | None = None


@dataclass(frozen=True)
class BatchConflict:
    """A field the batch would set that someone changed after it was planned: their
    value stays. ``field`` "contact" with no values: the contact was deleted."""

    contact_id: int
    field: str  # a field, or custom.KEY
    theirs: Any  # what they stored
    mine: Any  # what the batch would have written
    by: str | None = None  # who stored theirs (from the history), when known
    at: str | None = None


@dataclass
class BatchResult:
    created: list[int] = field(default_factory=list)
    updated: list[int] = field(default_factory=list)
    lock_seconds: float = 0.0  # how long the database was locked for the commit
    conflicts: list[BatchConflict] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # written, but something after failed


class StaleBatch(FunnelError):
    """Someone committed after the batch was planned: nothing was written; plan again."""


class BatchConflicts(FunnelError):
    """A strict batch met conflicts: nothing was written. ``conflicts`` lists them."""

    def __init__(self, conflicts: Sequence[BatchConflict]) -> None:
        super().__init__(f"{len(conflicts)} field{'s' if len(conflicts) != 1 else ''} "
                         "changed by someone else since the batch was planned")
        self.conflicts = list(conflicts)


Getter = Callable[[int], "dict[str, Any] | None"]  # contact id -> the contact as it is now


class LiveBatch(Protocol):
    """A planned batch that can derive its rows again for contacts changed since."""

    @property
    def version(self) -> int: ...  # the store's version it was planned (or last revisited) at

    @property
    def creates(self) -> Sequence[Creation | None]: ...  # by position, which never moves:
    # a create that became an update since (its contact was added meanwhile) is None

    @property
    def updates(self) -> Mapping[int, BatchUpdate]: ...  # contact id -> its update, now

    @property
    def conflicts(self) -> Sequence[BatchConflict]: ...  # without by/at: the workspace adds them

    def revisit(self, get: Getter, changed: Iterable[int], version: int) -> None:
        """Re-derive the rows of contacts that changed (every planned contact is
        checked; ``changed`` names others that did, which a new row may now match);
        ``version`` is the store's version ``get`` reads."""
