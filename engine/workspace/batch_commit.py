"""Committing a batch of new and changed contacts (an import) in one transaction.

Every document is validated, classified and given its history before the lock is
taken; under the lock there is only a check and one journal record, written through
the one write path (``Writer.commit``).

``commit_live`` keeps a ``LiveBatch`` current instead of refusing it when others
commit: it takes in their commits and lets the batch re-derive the rows they touched
before the lock, and again under the lock if more landed while it was building
(only those rows are rebuilt there). Conflicts are named with who changed the field.
"""

from __future__ import annotations

import marshal
import os
import signal
import tempfile
import time
from datetime import datetime
from typing import Callable, Sequence

from funnel.engine.history import entry as history_entry
from funnel.engine.model import (new_contact, parse_datetime, validate_activity, validate_changes,
                                 validate_custom)
from funnel.engine.model.after_contact import merged_after_contact
from funnel.engine.rules.classify import classify
from funnel.engine.store.contacts import Encoded
from funnel.engine.transfer.batch import (BatchConflict, BatchConflicts, BatchResult,
                                          BatchUpdate, Creation, LiveBatch, NewContact,
                                          StaleBatch)
from funnel.engine.workspace import forked
from funnel.engine.workspace.bulk import bulk_work
from funnel.engine.workspace.documents import (check_pin, enter_stage, evidence_time,
                                               not_a_stage, record_stage, stamp_created,
                                               stamped)
from funnel.engine.workspace.events import ChangeEvent
from funnel.engine.workspace.expectations import last_change
from funnel.engine.workspace.shared import Shared
from funnel.engine.workspace.writer import Writer, Written

Progress = Callable[[str, int, int], None]  # (phase, done, total)
REPORT_EVERY = 500  # documents built between progress reports
SPOOL_CHUNK = 2000  # documents a forked child writes to its spool at a time


class BatchCommitter:
    def __init__(self, shared: Shared, writer: Writer) -> None:
        self._shared = shared
        self._writer = writer

    def commit(self, creates: Sequence[NewContact], updates: Sequence[BatchUpdate], by: str,
               version: int | None = None, progress: Progress | None = None) -> BatchResult:
        """Create and update many contacts: all or nothing. ``version`` is the store's
        version when the batch was planned: if anything was committed since, StaleBatch
        is raised and nothing is written."""
        now = self._shared.clock()
        total = len(creates) + len(updates)
        documents: list[Encoded] = []  # checked and encoded outside the lock
        puts: dict[int, Encoded] = {}
        encode = self._shared.store.encode
        with bulk_work():
            for index, item in enumerate(creates):
                documents.append(encode(self._new(item, now, by), f"new contact {index + 1}"))
                if progress is not None and index % REPORT_EVERY == REPORT_EVERY - 1:
                    progress("write", index + 1, total)
            for index, update in enumerate(updates):
                puts[update.contact_id] = encode(self._update(update, now, by),
                                                 f"contact {update.contact_id}")
                if progress is not None and index % REPORT_EVERY == REPORT_EVERY - 1:
                    progress("write", len(creates) + index + 1, total)
        if not documents and not puts:
            return BatchResult()
        ids: list[int] = []
        held = 0.0

        def write() -> Written:
            nonlocal held
            locked = time.perf_counter()
            store = self._shared.store
            if version is not None and store.version != version:
                raise StaleBatch("the database changed since the import was planned")
            written = self._write(documents, puts, by, ids)
            held = time.perf_counter() - locked
            return written

        written = self._writer.commit(write)
        if progress is not None:
            progress("write", total, total)
        return BatchResult(ids, list(puts), held, warnings=list(written.warnings))

    def commit_live(self, batch: LiveBatch, by: str, *, strict: bool = False,
                    progress: Progress | None = None) -> BatchResult:
        """Create and update many contacts: all or nothing, and never over a change made
        after the batch was planned (that field is a conflict, the rest applies); with
        ``strict`` any conflict raises BatchConflicts and nothing is written."""
        store = self._shared.store
        now = self._shared.clock()
        changed = store.refresh()  # what others committed since this session last looked
        if changed:
            self._writer.take_in(changed)
        if store.version != batch.version:
            batch.revisit(store.get, changed, store.version)
        built = _Built()
        with bulk_work():
            self._build(batch, built, now, by, progress)
        if progress is not None:
            total = len(built.new) + len(built.puts)
            progress("write", total, total)  # built: what is left is the commit
        conflicts: list[BatchConflict] = []
        ids: list[int] = []
        updated: list[int] = []
        held = 0.0

        def write() -> Written:
            nonlocal held, conflicts
            locked = time.perf_counter()
            if store.version != batch.version or built.stale:  # committed while building
                batch.revisit(store.get, (), store.version)
                built.stale = False
                self._build(batch, built, now, by, None)
                if built.stale:  # pragma: no cover - nobody else catches up under the lock
                    raise StaleBatch("a contact changed while the import was committed")
            conflicts = [self._named(conflict) for conflict in batch.conflicts]
            if strict and conflicts:
                raise BatchConflicts(conflicts)
            documents = [encoded for encoded, item in zip(built.new, batch.creates)
                         if encoded is not None and item is not None]
            puts = {contact_id: built.puts[contact_id][1] for contact_id in batch.updates}
            updated.extend(puts)
            written = self._write(documents, puts, by, ids)
            held = time.perf_counter() - locked
            return written

        if built.new.count(None) == len(built.new) and not built.puts and not built.stale \
                and not batch.conflicts:
            return BatchResult()
        written = self._writer.commit(write)
        return BatchResult(ids, updated, held, conflicts, list(written.warnings))

    def _build(self, batch: LiveBatch, built: "_Built", now: datetime, by: str,
               progress: Progress | None) -> None:
        """Build and encode what the batch holds now and was not built yet (all of it at
        first; under the lock, only rows the batch derived again). A new contact is
        kept as its JSON only: the dict is dropped as soon as it is encoded."""
        encode = self._shared.store.encode
        creates, updates = batch.creates, batch.updates
        total, done = len(creates) + len(updates), 0
        new = built.new
        new.extend([None] * (len(creates) - len(new)))
        # A create never changes once planned (it may only become an update, None).
        todo = [index for index, encoded in enumerate(new)
                if encoded is None and creates[index] is not None]
        if len(todo) >= forked.MIN_ITEMS and forked.can_fork():
            self._build_halves(creates, new, todo, now, by, progress, total)
        done = sum(1 for index in todo if new[index] is not None)  # built by halves
        for index in todo:
            if new[index] is None:  # (all of them, unless a forked child built half)
                new[index] = self._encoded_new(creates[index], index, now, by)
                done += 1
                if progress is not None and done % REPORT_EVERY == 0:
                    progress("write", done, total)
        done = len(creates)
        for contact_id, update in updates.items():
            if built.puts.get(contact_id, (None,))[0] is not update:
                try:
                    document = self._update(update, now, by)
                except StaleBatch:
                    # Another thread of this session took in a newer revision since the
                    # batch was revisited: it is revisited again under the lock.
                    built.stale = True
                    continue
                built.puts[contact_id] = (update, encode(document, f"contact {contact_id}"))
            done += 1
            if progress is not None and done % REPORT_EVERY == 0:
                progress("write", done, total)

    def _encoded_new(self, item: Creation | None, index: int, now: datetime, by: str
                     ) -> Encoded:
        assert item is not None
        return self._shared.store.encode(self._new(item, now, by), f"new contact {index + 1}")

    def _build_halves(self, creates: Sequence[Creation | None], new: list[Encoded | None],
                      todo: list[int], now: datetime, by: str, progress: Progress | None,
                      total: int) -> None:
        """Build the second half of ``todo`` in a forked child (``forked``: building is
        pure work on a copy-on-write view) while this process builds the first. The
        child writes its documents' JSON to a spool file, not a pipe (it would block
        until the parent has done its half) nor its memory (bounded); the parent reads
        them back once done. Whatever the child did not finish (a bad value, a crash)
        is left for the caller to build, which raises the real error."""
        half = len(todo) // 2
        mine, theirs = todo[:half], todo[half:]
        with tempfile.TemporaryFile() as spool:
            pid = os.fork()
            if pid == 0:  # the child: builds, writes to the spool, leaves
                code = 1
                try:
                    for start in range(0, len(theirs), SPOOL_CHUNK):
                        data = marshal.dumps([self._encoded_new(creates[index], index, now, by)
                                              for index in theirs[start:start + SPOOL_CHUNK]])
                        spool.write(len(data).to_bytes(8, "little") + data)
                    spool.flush()
                    code = 0
                finally:
                    os._exit(code)
            try:
                for done, index in enumerate(mine, 1):
                    new[index] = self._encoded_new(creates[index], index, now, by)
                    if progress is not None and done % REPORT_EVERY == 0:
                        progress("write", min(total, 2 * done), total)  # the child as far
            except BaseException:
                os.kill(pid, signal.SIGKILL)
                raise
            finally:
                _, status = os.waitpid(pid, 0)
            if status != 0:
                return
            spool.seek(0)
            for start in range(0, len(theirs), SPOOL_CHUNK):
                size = int.from_bytes(spool.read(8), "little")
                for index, encoded in zip(theirs[start:start + SPOOL_CHUNK],
                                          marshal.loads(spool.read(size))):
                    new[index] = encoded

    def _write(self, documents: list[Encoded], puts: dict[int, Encoded], by: str,
               ids: list[int]) -> Written:
        """Under the lock: the one journal record, and the events that tell about it."""
        if not documents and not puts:
            return Written()
        ids.extend(self._shared.store.write_many(documents, puts, by=by))
        events = [ChangeEvent("add", tuple(ids), by)] if ids else []
        if puts:
            events.append(ChangeEvent("edit", tuple(puts), by))
        return Written(events, size=len(documents) + len(puts))

    def _named(self, conflict: BatchConflict) -> BatchConflict:
        """The conflict with who made the change that is kept, from the history."""
        current = self._shared.store.get(conflict.contact_id)
        if current is None:
            return conflict
        by, at = last_change(current, conflict.field)
        return BatchConflict(conflict.contact_id, conflict.field, conflict.theirs,
                             conflict.mine, by, at)

    def _new(self, creation: Creation, now: datetime, by: str) -> dict:
        rules = self._shared.rules
        item = creation.contact()  # an import's row derives it on each ask: asked once
        why = item.why
        document = new_contact(item.fields, now)
        stamp_created(document, rules, now, by, why)
        if item.stage is not None:
            stage = rules.by_id.get(item.stage)
            if stage is None:
                raise not_a_stage(rules, "stage", item.stage)
            since = min(parse_datetime(item.stage_since), now) if item.stage_since \
                else evidence_time(document, now)
            enter_stage(document, stage.id, rules, since, by, None, why)
        record_stage(document, classify(document, rules, now), rules,
                     evidence_time(document, now), by)
        return document

    def _update(self, update: BatchUpdate, now: datetime, by: str) -> dict:
        rules = self._shared.rules
        current = self._shared.store.get(update.contact_id)
        if current is None or current.get("rev") != update.rev:
            raise StaleBatch(f"contact {update.contact_id} changed since the import was "
                             "planned")
        new = dict(current)
        history = list(current["history"])
        why = update.why
        for name, value in update.changes.items():
            was = current.get(name)
            if name == "activities":
                value = sorted((validate_activity(a) for a in value), key=lambda a: a["at"])
                old = was or []
                history += [history_entry(now, by, "activity", after=a, why=why)
                            for a in value if a not in old]
                history += [history_entry(now, by, "field", field="activities", before=a,
                                          after=None, why=why) for a in old if a not in value]
            elif name == "after_contact":  # sources recorded after contact: a union
                value = merged_after_contact(was, value)
                history.append(history_entry(now, by, "field", field=name, before=was,
                                             after=value, why=why))
            elif name == "custom":
                value = validate_custom(value)
                old = was or {}
                history += [history_entry(now, by, "field", field=f"custom.{key}",
                                          before=old.get(key), after=value.get(key), why=why)
                            for key in sorted(set(old) | set(value))
                            if old.get(key) != value.get(key)]
            else:
                value = validate_changes({name: value})[name]
                if name == "stage_pin":
                    check_pin(rules, value)
                history.append(history_entry(now, by, "field", field=name, before=was,
                                             after=value, why=why))
            new[name] = value
        new["history"] = history
        if update.stage is not None and not new.get("stage_pin"):
            # A stage reached elsewhere moves the contact forward only, never out.
            target = rules.by_id.get(update.stage)
            shown = rules.by_id.get(classify(current, rules, now).stage)
            if target is not None and shown is not None and not shown.is_exit \
                    and not target.is_exit and target.order > shown.order:
                enter_stage(new, target.id, rules, now, by, shown.id, why)
        record_stage(new, classify(new, rules, now), rules, now, by,
                     cause=", ".join(update.changes) or "stage")
        return stamped(new, current, now)


class _Built:
    """Documents built and encoded for a batch, with what each was built from."""

    def __init__(self) -> None:
        self.new: list[Encoded | None] = []  # by the position of the batch's create
        self.puts: dict[int, tuple[BatchUpdate, Encoded]] = {}  # contact id
        self.stale = False  # an update met a newer revision than it was derived from
