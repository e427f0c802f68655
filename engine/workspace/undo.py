"""Undo and redo of this session's changes, one contact at a time.

A step keeps the contact's fields and stage state before and after the change, and
the revision the change left: it is undone (or redone) only while the contact is still
at that revision, so another session's later change is never overwritten. Undoing is
itself a change, written through the one write path with its own history entries.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, Literal

from funnel.engine.errors import FunnelError
from funnel.engine.history import entry as history_entry
from funnel.engine.model import FIELDS
from funnel.engine.workspace.shared import Shared
from funnel.engine.workspace.writer import Recorder, Writer

# The keys undo/redo restore: every editable field plus the engine's stage state.
RESTORED = tuple(FIELDS) + ("stage", "stage_since", "stage_rules", "activities")
_UNRECORDED = ("stage_since", "stage_rules", "activities")  # restored without a history entry


@dataclass
class UndoStep:
    contact_id: int
    before: dict[str, Any]
    after: dict[str, Any]
    rev: int  # the revision the contact must have for this step to be undone / redone
    label: str


def snapshot(document: dict) -> dict[str, Any]:
    return {name: copy.deepcopy(document.get(name)) for name in RESTORED}


class UndoHistory:
    def __init__(self, shared: Shared, writer: Writer) -> None:
        self._shared = shared
        self._writer = writer
        self._undo: list[UndoStep] = []
        self._redo: list[UndoStep] = []

    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    @property
    def can_redo(self) -> bool:
        return bool(self._redo)

    def recorder(self, contact_id: int, label: str) -> Recorder:
        """What a command passes to ``Writer.change``: records the change it writes as
        the next step to undo (a new change clears redo)."""
        def record(before: dict, after: dict) -> None:
            self._undo.append(UndoStep(contact_id, snapshot(before), snapshot(after),
                                       after["rev"], label))
            self._redo.clear()
        return record

    def undo(self, by: str) -> int:
        """Undo this session's last change (stage included); returns the contact id."""
        if not self._undo:
            raise FunnelError("nothing to undo")
        step = self._undo.pop()
        self._restore(step, step.before, "undo", by)
        self._redo.append(step)
        return step.contact_id

    def redo(self, by: str) -> int:
        if not self._redo:
            raise FunnelError("nothing to redo")
        step = self._redo.pop()
        self._restore(step, step.after, "redo", by)
        self._undo.append(step)
        return step.contact_id

    def _restore(self, step: UndoStep, target: dict[str, Any],
                 kind: Literal["undo", "redo"], by: str) -> None:
        def build(current: dict) -> dict:
            now = self._shared.clock()
            new = dict(current)
            new["history"] = list(current["history"])
            for name in RESTORED:
                if current.get(name) != target.get(name):
                    if name not in _UNRECORDED:
                        new["history"].append(history_entry(
                            now, by, "stage" if name == "stage" else "field", field=name,
                            before=current.get(name), after=target.get(name),
                            why=f"{kind} of '{step.label}'"))
                    new[name] = copy.deepcopy(target.get(name))
            return new

        new = self._writer.change(step.contact_id, kind, by, step.label, {}, build,
                                  expect_rev=step.rev)
        if new is not None:
            step.rev = new["rev"]
