"""One commit that changes many contacts: one journal record, all-or-nothing on disk.

A bulk action (assign the marked contacts, advance them, undo a bulk step) plans one
``Planned`` change per contact: what it is based on (``expect``, or a revision) and how
to build the new document from the contact as it is now. ``commit_many`` then checks
and builds every one under the lock, inside one store transaction, and writes those
that change in one record through ``Writer.commit`` (the one write path). A contact
someone else changed since is not written: it comes back as a ``Conflict``; a contact
a build refuses (no stage to advance to, a bad value for it) comes back as skipped
with the reason. Neither stops the others.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from funnel.engine.errors import Conflict, FunnelError
from funnel.engine.workspace.documents import stamped
from funnel.engine.workspace.events import ChangeEvent, ChangeKind
from funnel.engine.workspace.expectations import clashes, refusal
from funnel.engine.workspace.shared import Shared
from funnel.engine.workspace.writer import Build, Writer, Written


@dataclass
class Planned:
    """One contact's part of a bulk change."""

    contact_id: int
    changes: Mapping[str, Any]  # the stored values it writes (checked against ``expect``)
    build: Build  # the contact as it is now -> the new document, or None: nothing to do
    expect: Mapping[str, Any] | None = None  # None: what this session shows of ``changes``
    rev: int | None = None  # refuse unless the contact is at this revision (undo, redo)


@dataclass(frozen=True)
class Skipped:
    """A contact a bulk action left alone, and why (in words for a person)."""

    contact_id: int
    reason: str


@dataclass
class Outcome:
    """What ``commit_many`` did, contact by contact (each id is in one list only)."""

    changed: list[int] = field(default_factory=list)
    unchanged: list[int] = field(default_factory=list)  # already as asked: nothing written
    skipped: list[Skipped] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    before: dict[int, dict] = field(default_factory=dict)  # id -> the document replaced
    after: dict[int, dict] = field(default_factory=dict)  # id -> the document written


def commit_many(shared: Shared, writer: Writer, plans: Sequence[Planned], kind: ChangeKind,
                by: str) -> Outcome:
    """Check, build and write every planned change in one commit (see the module)."""
    outcome = Outcome()
    # What this session showed of each contact, read before the lock (as ``Writer``).
    shown = {plan.contact_id: shared.store.get(plan.contact_id) for plan in plans}

    def write() -> Written:
        store, now = shared.store, shared.clock()
        fresh = Outcome()  # a commit may be retried: nothing is kept from a failed try
        puts = {}
        seen: set[int] = set()
        for plan in plans:
            contact_id = plan.contact_id
            current = store.get(contact_id)
            if current is None:
                fresh.skipped.append(Skipped(contact_id, "deleted by someone else"))
                continue
            if current is not shown[contact_id]:
                seen.add(contact_id)  # changed by another session since this one read it
            if plan.rev is not None and current.get("rev") != plan.rev:
                fresh.skipped.append(Skipped(contact_id, "changed since, so left as it is"))
                continue
            base = shown[contact_id] or current
            expect = plan.expect if plan.expect is not None \
                else {name: base.get(name) for name in plan.changes}
            found = clashes(current, expect, plan.changes, shared.rules, now)
            if found:
                fresh.conflicts.append(refusal(contact_id, current, found, plan.changes,
                                               expect))
                continue
            try:
                new = plan.build(current)
            except FunnelError as error:
                fresh.skipped.append(Skipped(contact_id, str(error)))
                continue
            if new is None:
                fresh.unchanged.append(contact_id)
                continue
            stored = stamped(new, current, now)
            puts[contact_id] = store.encode(stored, f"contact {contact_id}")
            fresh.changed.append(contact_id)
            fresh.before[contact_id], fresh.after[contact_id] = current, stored
        if puts:
            store.write_many([], puts, by=by)
        outcome.__dict__.update(fresh.__dict__)
        events = [ChangeEvent(kind, tuple(puts), by)] if puts else []
        return Written(events, seen=seen - set(puts), size=len(puts))

    writer.commit(write)
    return outcome
