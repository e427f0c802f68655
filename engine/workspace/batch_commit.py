"""Committing a batch of new and changed contacts (an import) in one transaction.

Every document is validated, classified and given its history before the lock is
taken; under the lock there is only a version check and one journal record, written
through the one write path (``Writer.commit``).
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Callable, Sequence

from funnel.engine.history import entry as history_entry
from funnel.engine.model import (new_contact, parse_datetime, validate_activity, validate_changes,
                                 validate_custom)
from funnel.engine.rules.classify import classify
from funnel.engine.store.contacts import Encoded
from funnel.engine.transfer.batch import BatchResult, BatchUpdate, NewContact, StaleBatch
from funnel.engine.workspace.bulk import bulk_work
from funnel.engine.workspace.documents import (check_pin, enter_stage, evidence_time,
                                               not_a_stage, record_stage, stamp_created,
                                               stamped)
from funnel.engine.workspace.events import ChangeEvent
from funnel.engine.workspace.shared import Shared
from funnel.engine.workspace.writer import Writer, Written

Progress = Callable[[str, int, int], None]  # (phase, done, total)
REPORT_EVERY = 500  # documents built between progress reports


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
            ids.extend(store.write_many(documents, puts, by=by))
            held = time.perf_counter() - locked
            events = [ChangeEvent("add", tuple(ids), by)] if ids else []
            if puts:
                events.append(ChangeEvent("edit", tuple(puts), by))
            return Written(events, size=len(documents) + len(puts))

        self._writer.commit(write)
        if progress is not None:
            progress("write", total, total)
        return BatchResult(ids, list(puts), held)

    def _new(self, item: NewContact, now: datetime, by: str) -> dict:
        rules = self._shared.rules
        document = new_contact(item.fields, now)
        stamp_created(document, rules, now, by, item.why)
        if item.stage is not None:
            stage = rules.by_id.get(item.stage)
            if stage is None:
                raise not_a_stage(rules, "stage", item.stage)
            since = min(parse_datetime(item.stage_since), now) if item.stage_since \
                else evidence_time(document, now)
            enter_stage(document, stage.id, rules, since, by, None, item.why)
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
