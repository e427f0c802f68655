"""A batch of new and changed contacts, written by ``Workspace.commit_batch`` at once.

The importer plans a batch (``engine.importer``); the workspace builds, classifies
and records the documents, then commits the whole batch in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from funnel.engine.errors import FunnelError


@dataclass(frozen=True)
class NewContact:
    """A contact to create: fields (plus ``activities`` and ``custom``), the stage it
    has already reached elsewhere (forward-only from there), and why (for the history)."""

    fields: dict[str, Any]
    why: str
    stage: str | None = None
    stage_since: str | None = None


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


@dataclass
class BatchResult:
    created: list[int] = field(default_factory=list)
    updated: list[int] = field(default_factory=list)
    lock_seconds: float = 0.0  # how long the database was locked for the commit


class StaleBatch(FunnelError):
    """Someone committed after the batch was planned: nothing was written; plan again."""
