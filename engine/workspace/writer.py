"""The one write path: every command, undo step and batch commits through
``Writer.commit``.

A commit takes the workspace lock and one store transaction (which first catches up
with what other processes committed), lets the caller check and write, drops what the
caches derived from every contact that changed, and only after releasing the lock
tells the subscribers: first what other sessions changed, then what this commit did.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping

from funnel.engine.errors import Conflict, FunnelError, NotFound
from funnel.engine.workspace.cache import ClassificationCache
from funnel.engine.workspace.documents import stamped
from funnel.engine.workspace.events import ChangeEvent, ChangeKind, EventBus
from funnel.engine.workspace.expectations import clashes, refusal
from funnel.engine.workspace.shared import Shared

BULK_COMPACT = 1000  # writing this many contacts at once compacts the store straight after
Build = Callable[[dict], dict | None]  # the contact as it is now -> new document, or None
Recorder = Callable[[dict, dict], None]  # (before, after) of a change that was written


@dataclass
class Written:
    """What one commit did, as its ``write`` function reports it."""

    events: list[ChangeEvent] = field(default_factory=list)  # this commit's own changes
    seen: set[int] = field(default_factory=set)  # left alone, but others changed them
    size: int = 0  # contacts written
    warnings: list[str] = field(default_factory=list)  # landed, but something after it failed

    @property
    def ids(self) -> set[int]:
        return {contact_id for event in self.events for contact_id in event.ids}


class Writer:
    def __init__(self, shared: Shared, cache: ClassificationCache, bus: EventBus) -> None:
        self._shared = shared
        self._cache = cache
        self._bus = bus

    def commit(self, write: Callable[[], Written], *,
               reload_on_refusal: Iterable[int] = ()) -> Written:
        """Run ``write`` under the lock inside one store transaction: all or nothing.

        ``write`` checks, writes and returns what it did, or raises a FunnelError to
        refuse; the refusal is raised on after this session has taken in what others
        committed meanwhile, with ``reload_on_refusal`` when there was any or the
        refusal is a conflict or a vanished contact.
        """
        heard: list[ChangeEvent] = []
        try:
            with self._shared.lock:
                remote: set[int] = set()
                try:
                    with self._shared.store.transaction() as remote:
                        written = write()
                except FunnelError as error:
                    if remote or isinstance(error, (Conflict, NotFound)):
                        remote = remote | set(reload_on_refusal)
                    heard += self._forget_remote(remote)
                    raise
                # No set of this commit's ids unless others committed too: a big
                # batch's would be held while it is compacted.
                others = remote - written.ids if remote else set()
                heard += self._forget_remote(others | written.seen)
                self._cache.forget(contact_id for event in written.events
                                   for contact_id in event.ids)
                heard += written.events
            if written.size >= BULK_COMPACT:
                self._compact_after(written)
        finally:
            self._bus.publish(heard)
        return written

    def _compact_after(self, written: Written) -> None:
        """Fold a big batch into the snapshot. The batch is already committed: a failure
        here (disk full, read-only folder) is a warning, not a failed commit."""
        try:
            self._shared.store.compact()
        except (OSError, FunnelError) as error:
            logging.getLogger(__name__).warning("compaction after a commit failed: %s", error)
            written.warnings.append(f"the changes were saved, but compacting the database "
                                    f"afterwards failed ({error}); it will be retried on "
                                    "the next large commit or by funnel check")

    def take_in(self, ids: set[int]) -> None:
        """Bring this session's caches up to date with documents others changed (found
        by a store refresh), and tell the subscribers."""
        with self._shared.lock:
            heard = self._forget_remote(ids)
        self._bus.publish(heard)

    def change(self, contact_id: int, kind: ChangeKind, by: str, label: str,
               changes: Mapping[str, Any], build: Build, *,
               expect: Mapping[str, Any] | None = None, expect_rev: int | None = None,
               record: Recorder | None = None) -> dict | None:
        """Commit a change of one contact; returns the new document, or None if
        ``build`` found nothing to change.

        ``build`` gets the contact as it is now on disk (which may be newer than what
        this session showed) and returns the new document, or None for no change.
        ``expect`` (field -> value as the editor saw it; see ``expectations``) is what
        the edit was based on; without it, the fields it ``changes`` as this session
        shows them now. A difference is a Conflict; changes to other fields are kept and
        this edit applies on top of them.
        ``expect_rev``: refuse unless the contact is at this revision (undo, redo).
        """
        base = self._shared.document(contact_id)  # what this session showed
        if expect is None:  # based on what it shows of the fields this edit changes
            expect = {name: base.get(name) for name in changes}
        stored: dict | None = None

        def write() -> Written:
            nonlocal stored
            current = self._current(contact_id, kind, label, changes, expect, expect_rev)
            new = build(current)
            if new is None:  # nothing to write; still show what others changed
                return Written(seen={contact_id} if current is not base else set())
            stored = stamped(new, current, self._shared.clock())
            self._shared.store.put(contact_id, stored, by=by)
            if record is not None:
                record(current, stored)
            return Written([ChangeEvent(kind, (contact_id,), by)], size=1)

        self.commit(write, reload_on_refusal=(contact_id,))
        return stored

    def _current(self, contact_id: int, kind: str, label: str, changes: Mapping[str, Any],
                 expect: Mapping[str, Any], expect_rev: int | None) -> dict:
        """In the transaction: the contact as it is now, or a refusal."""
        current = self._shared.store.get(contact_id)
        if current is None:
            raise NotFound(f"no contact with id {contact_id} (deleted by someone else)")
        if expect_rev is not None and current.get("rev") != expect_rev:
            raise FunnelError(f"contact {contact_id} changed since; cannot {kind} '{label}'")
        found = clashes(current, expect, changes, self._shared.rules, self._shared.clock())
        if found:
            raise refusal(contact_id, current, found, changes, expect)
        return current

    def _forget_remote(self, ids: set[int]) -> list[ChangeEvent]:
        """Under the lock: drop what was derived from documents others changed; the
        event that tells about them."""
        if not ids:
            return []
        self._cache.forget(ids)
        return [ChangeEvent("remote", tuple(sorted(ids)), "another session")]
