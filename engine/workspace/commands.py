"""The commands that change contacts: add, edit, move, disqualify, unpin, adjust a
score, and the draft preview a form shows before an edit (logging work: ``work_log``).

Each validates first, then builds the new document from the contact as it is on disk
and commits through ``Writer`` (the one write path), which records undo, drops stale
caches and tells subscribers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable, Mapping

from funnel.engine.errors import Conflict, FieldError, FunnelError
from funnel.engine.model import new_contact
from funnel.engine.rules.classify import Classification, classify
from funnel.engine.workspace.bulk import bulk_work
from funnel.engine.workspace.cache import ClassificationCache
from funnel.engine.workspace.documents import (Changed, draft, enter_stage, evidence_time,
                                               not_a_stage, record_stage, set_fields,
                                               stamp_created, validated)
from funnel.engine.workspace.events import ChangeEvent
from funnel.engine.workspace.expectations import check_expectation_names, override_reasons
from funnel.engine.workspace.shared import Shared
from funnel.engine.workspace.undo import UndoHistory
from funnel.engine.workspace.writer import Build, Writer, Written


@dataclass(frozen=True)
class EditResult:
    contact_id: int
    changed: dict[str, tuple[Any, Any]]  # field -> (old, new)
    before: Classification
    after: Classification

    @property
    def stage_changed(self) -> bool:
        return self.before.stage != self.after.stage


class Commands:
    def __init__(self, shared: Shared, cache: ClassificationCache, writer: Writer,
                 undo: UndoHistory) -> None:
        self._shared = shared
        self._cache = cache
        self._writer = writer
        self._undo = undo

    def preview(self, contact_id: int, changes: dict[str, Any]) -> Classification:
        """Classify a draft of the contact with ``changes`` applied; nothing is written."""
        draft_document = dict(self._shared.document(contact_id))
        draft_document.update(validated(self._shared.rules, changes))
        return classify(draft_document, self._shared.rules, self._shared.clock())

    def add_many(self, items: Iterable[dict[str, Any]], by: str) -> list[int]:
        """Validate every contact first; then write them all in one go (all or nothing)."""
        now = self._shared.clock()
        with bulk_work():
            documents = self._new_documents(items, now, by)
        ids: list[int] = []

        def write() -> Written:
            with bulk_work():
                ids.extend(self._shared.store.insert_many(documents, by=by))
            return Written([ChangeEvent("add", tuple(ids), by)], size=len(documents))

        self._writer.commit(write)
        return ids

    def _new_documents(self, items: Iterable[dict[str, Any]], now: datetime, by: str
                       ) -> list[dict]:
        rules = self._shared.rules
        documents = []
        for index, fields in enumerate(items):
            try:
                document = new_contact(fields, now)
            except FieldError as error:
                raise FieldError(error.field, f"contact {index + 1}: {error.reason}") from None
            stamp_created(document, rules, now, by, "added")
            record_stage(document, classify(document, rules, now), rules,
                         evidence_time(document, now), by)
            documents.append(document)
        return documents

    def edit(self, contact_id: int, changes: dict[str, Any], by: str,
             why: str | None = None, expect: Mapping[str, Any] | None = None,
             overrides: Mapping[str, str] | None = None) -> EditResult:
        """Validate, classify, persist and record an edit of some fields, refused
        (Conflict) if a field in ``expect`` no longer holds the value expected."""
        clean = validated(self._shared.rules, changes)
        expect = checked_expectation(expect)
        before = self._cache.classification(contact_id)
        changed: Changed = {}
        build = self.edit_builder(clean, by, why, overrides, changed)
        label = f"edit {', '.join(clean)} of {self.named(contact_id)}"
        self._writer.change(contact_id, "edit", by, label, clean, build, expect=expect,
                            record=self._undo.recorder(contact_id, label))
        return EditResult(contact_id, dict(changed), before,
                          self._cache.classification(contact_id))

    def edit_builder(self, clean: dict[str, Any], by: str, why: str | None,
                     overrides: Mapping[str, str] | None = None,
                     changed: Changed | None = None) -> Build:
        """How an edit of ``clean`` (validated values) builds the new document from the
        contact as it is now; ``changed`` hears field -> (old, new)."""
        rules = self._shared.rules
        changed = {} if changed is None else changed

        def build(current: dict) -> dict | None:
            now = self._shared.clock()
            new = draft(current)
            changed.clear()
            changed.update(set_fields(new, current, clean, now, by, why, overrides))
            if not changed:
                return None
            record_stage(new, classify(new, rules, now), rules, now, by,
                         cause=", ".join(changed))
            return new
        return build

    def named(self, contact_id: int) -> str:
        """How an undo description names a contact: its name, else email, else #id."""
        document = self._shared.store.get(contact_id) or {}
        return str(document.get("name") or document.get("email") or f"#{contact_id}")

    def override(self, conflict: Conflict, by: str, why: str | None = None) -> EditResult:
        """Apply a refused edit over the values that refused it, knowingly: based on
        what is stored now, each field written over someone's change is recorded as an
        override in the history. Refused again if the contact changed once more."""
        if conflict.contact_id is None or not conflict.changes:
            raise FunnelError("nothing to override: the refusal carries no edit")
        expect = dict(conflict.expect)
        expect.update({clash.field: clash.theirs for clash in conflict.clashes})
        return self.edit(conflict.contact_id, conflict.changes, by, why, expect,
                         override_reasons(conflict))

    def move(self, contact_id: int, stage_id: str, why: str, by: str,
             expect: Mapping[str, Any] | None = None) -> EditResult:
        """A person moves a contact to a stage. Moving back or out pins the stage;
        moving forward never does (see ``move_changes``)."""
        changes = self.move_changes(contact_id, stage_id, why)
        return self._manual_stage(contact_id, stage_id, changes, why.strip(), by, expect)

    def move_changes(self, contact_id: int, stage_id: str, why: str) -> dict[str, Any]:
        """The fields a hand move to ``stage_id`` sets (checked first).

        Back or out: a pin, or the rules would move the contact on again. Forward: the
        stage is entered and automatic moves (forward only) keep it, so no pin; a pin
        the contact had is released, unless the rules give a stage beyond the target
        (releasing it would let them move the contact past where the person put it).
        """
        rules = self._shared.rules
        if not (why or "").strip():
            raise FieldError("why", "a reason is required to move a contact by hand")
        target = rules.by_id.get(stage_id)
        if target is None:
            raise not_a_stage(rules, "stage", stage_id)
        result = self._cache.classification(contact_id)
        current = rules.by_id.get(result.stage)
        backward = current is not None and (target.is_exit or current.is_exit
                                            or target.order < current.order)
        pin = {"stage_pin": stage_id, "pin_reason": why.strip()}
        if backward:
            return pin
        if not self._shared.document(contact_id).get("stage_pin"):
            return {}
        by_rules = rules.by_id.get(result.rules_stage)
        if by_rules is not None and not by_rules.is_exit and by_rules.order <= target.order:
            return {"stage_pin": None, "pin_reason": None}
        return pin

    def disqualify(self, contact_id: int, reason: str, by: str,
                   expect: Mapping[str, Any] | None = None) -> EditResult:
        changes = self.disqualify_changes(reason)
        return self._manual_stage(contact_id, "disqualified", changes, reason.strip(), by,
                                  expect)

    def disqualify_changes(self, reason: str) -> dict[str, Any]:
        """The fields disqualifying sets (checked first)."""
        rules = self._shared.rules
        if not (reason or "").strip():
            raise FieldError("reason", "a reason is required to disqualify a contact")
        if "disqualified" not in rules.by_id:
            raise FunnelError(f"the rules {rules.name!r} have no 'disqualified' exit")
        return {"stage_pin": "disqualified", "pin_reason": reason.strip(),
                "disqualify_reason": reason.strip()}

    def unpin(self, contact_id: int, why: str, by: str) -> EditResult:
        return self.edit(contact_id, {"stage_pin": None, "pin_reason": None}, by, why)

    def adjust_score(self, contact_id: int, points: int, reason: str, by: str,
                     expect: Mapping[str, Any] | None = None) -> EditResult:
        if points and not (reason or "").strip():
            raise FieldError("score_adjustment_reason", "a reason is required to adjust a score")
        return self.edit(contact_id, {"score_adjustment": points or None,
                                      "score_adjustment_reason": reason.strip() or None
                                      if points else None}, by, reason, expect)

    def _manual_stage(self, contact_id: int, stage_id: str, changes: dict[str, Any],
                      why: str, by: str, expect: Mapping[str, Any] | None) -> EditResult:
        before = self._cache.classification(contact_id)
        clean = validated(self._shared.rules, changes)
        expect = checked_expectation(self.stage_expectation(contact_id, clean, expect))
        changed: Changed = {}
        build = self.stage_builder(stage_id, clean, why, by, changed)
        label = (f"disqualify {self.named(contact_id)}" if stage_id == "disqualified"
                 else f"move {self.named(contact_id)} to {stage_id}")
        self._writer.change(contact_id, "move", by, label, clean, build, expect=expect,
                            record=self._undo.recorder(contact_id, label))
        return EditResult(contact_id, dict(changed), before,
                          self._cache.classification(contact_id))

    def stage_expectation(self, contact_id: int, clean: Mapping[str, Any],
                          expect: Mapping[str, Any] | None) -> Mapping[str, Any]:
        """What a hand move is based on: ``expect``, else the stage and the fields it
        sets as this session shows them."""
        if expect is not None:
            return expect
        shown = self._shared.document(contact_id)
        return {"stage": self._cache.classification(contact_id).stage,
                **{name: shown.get(name) for name in clean}}

    def stage_builder(self, stage_id: str, clean: dict[str, Any], why: str, by: str,
                      changed: Changed | None = None) -> Build:
        """How a hand move to ``stage_id`` (setting ``clean``) builds the new document."""
        rules = self._shared.rules
        changed = {} if changed is None else changed

        def build(current: dict) -> dict | None:
            now = self._shared.clock()
            new = draft(current)
            changed.clear()
            changed.update(set_fields(new, current, clean, now, by, why))
            shown = classify(current, rules, now).stage
            if shown != stage_id:
                enter_stage(new, stage_id, rules, now, by, shown, why)
            return None if new == current else new
        return build


def checked_expectation(expect: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """``expect`` as a dict, its names checked (FieldError for a name not expectable)."""
    if expect is None:
        return None
    check_expectation_names(expect)
    return dict(expect)
