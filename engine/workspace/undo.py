"""Undo and redo of this session's own changes, one action at a time.

One entry is one action of the person, whatever it touched: an edit of one contact,
or a bulk action on 1,204 marked ones; each says what it was ("assign 3 contacts to
ola"), so a front end can say what it undoes. A step keeps each contact's fields and
stage state before and after the change, and the revision the change left: a
contact is undone (or redone) only while it is still at that revision, so another
session's later change is never overwritten; such a contact is left as it is and
named in the answer. Undoing is itself a change, written through the one write path
(one commit, one journal record for the whole entry) with its own history entries.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, Callable, Literal

from funnel.engine.errors import FunnelError
from funnel.engine.history import entry as history_entry
from funnel.engine.model import FIELDS
from funnel.engine.workspace.many import Planned, commit_many
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
    # The contact's revision while it is as ``after`` says (to be undone) and as
    # ``before`` says (to be redone); a restore that leaves it so updates them.
    rev_after: int
    rev_before: int


@dataclass
class UndoEntry:
    """One action of the person: what it was, and each contact it changed."""

    description: str
    steps: list[UndoStep]
    # An action that is not field changes (a merge deletes a contact) undoes and redoes
    # itself: (kind, by) -> what it did (engine.workspace.merge, issue #15).
    restore: Callable[[Literal["undo", "redo"], str], Undone] | None = None


@dataclass(frozen=True)
class Undone:
    """What an undo (or redo) did: the action it undid and the contacts it restored;
    ``left``: contacts someone changed since, left as they are."""

    kind: Literal["undo", "redo"]
    description: str
    ids: tuple[int, ...]
    left: tuple[int, ...] = ()

    @property
    def message(self) -> str:
        """One line for a person: "Undo: assign 3 contacts to ola"."""
        text = f"{self.kind.capitalize()}: {self.description}"
        if self.left:
            shown = ", ".join(f"#{contact_id}" for contact_id in self.left[:5])
            more = f" and {len(self.left) - 5} more" if len(self.left) > 5 else ""
            text += f" ({shown}{more} changed by someone since, so left as they are)"
        return text


def snapshot(document: dict) -> dict[str, Any]:
    """The restored keys of a stored document. Not copied: stored documents and their
    values are never changed in place (a change builds a new document, see
    ``documents.draft``), and a restore copies what it writes back."""
    return {name: document.get(name) for name in RESTORED}


class UndoHistory:
    def __init__(self, shared: Shared, writer: Writer) -> None:
        self._shared = shared
        self._writer = writer
        self._undo: list[UndoEntry] = []
        self._redo: list[UndoEntry] = []

    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    @property
    def can_redo(self) -> bool:
        return bool(self._redo)

    @property
    def undo_description(self) -> str | None:
        """What ``undo`` would undo now, in words (None: nothing)."""
        return self._undo[-1].description if self._undo else None

    @property
    def redo_description(self) -> str | None:
        return self._redo[-1].description if self._redo else None

    def recorder(self, contact_id: int, label: str) -> Recorder:
        """What a command passes to ``Writer.change``: records the change it writes as
        the next entry to undo (a new change clears redo)."""
        def record(before: dict, after: dict) -> None:
            self.record(label, {contact_id: before}, {contact_id: after})
        return record

    def record(self, description: str, before: dict[int, dict], after: dict[int, dict]
               ) -> None:
        """Record one action that wrote ``after`` over ``before`` (id -> document) as
        one entry to undo; nothing is recorded when nothing was written."""
        if not after:
            return
        steps = [UndoStep(contact_id, snapshot(before[contact_id]), snapshot(document),
                          document["rev"], int(before[contact_id].get("rev") or 0))
                 for contact_id, document in after.items()]
        self._undo.append(UndoEntry(description, steps))
        self._redo.clear()

    def push(self, entry: UndoEntry) -> None:
        """Record an entry made elsewhere (one that restores itself) as the next to undo."""
        self._undo.append(entry)
        self._redo.clear()

    def undo(self, by: str) -> Undone:
        """Undo this session's last action (stage included), every contact it changed
        in one commit."""
        if not self._undo:
            raise FunnelError("nothing to undo")
        entry = self._undo.pop()
        done = self._restore(entry, "undo", by)
        self._redo.append(entry)
        return done

    def redo(self, by: str) -> Undone:
        if not self._redo:
            raise FunnelError("nothing to redo")
        entry = self._redo.pop()
        done = self._restore(entry, "redo", by)
        self._undo.append(entry)
        return done

    def _restore(self, entry: UndoEntry, kind: Literal["undo", "redo"], by: str) -> Undone:
        if entry.restore is not None:
            return entry.restore(kind, by)
        undoing = kind == "undo"
        plans = [Planned(step.contact_id, {}, self._builder(step, kind, entry.description, by),
                         expect={}, rev=step.rev_after if undoing else step.rev_before)
                 for step in entry.steps]
        outcome = commit_many(self._shared, self._writer, plans, kind, by)
        for step in entry.steps:
            if step.contact_id in outcome.after:
                self._chain(step, outcome.after[step.contact_id]["rev"], undoing)
        left = tuple(skip.contact_id for skip in outcome.skipped)
        if left and not outcome.changed and not outcome.unchanged:
            # Nothing could be restored: the entry is dropped (it can never apply again).
            what = f"contact {left[0]}" if len(left) == 1 else f"{len(left)} contacts"
            raise FunnelError(f"{what} changed since; cannot {kind} '{entry.description}'")
        # The contacts left alone cannot be undone or redone later either.
        entry.steps = [step for step in entry.steps if step.contact_id not in left]
        return Undone(kind, entry.description,
                      tuple(outcome.changed) + tuple(outcome.unchanged), left)

    def _chain(self, step: UndoStep, rev: int, undoing: bool) -> None:
        """Note that ``step``'s contact is now at ``rev``, as ``step.before`` (undone) or
        ``step.after`` (redone) says. The next step of the same contact on the stack
        it was restored from left (undo) or starts from (redo) that very state, if its
        revision is the one this step replaced; then it is at ``rev`` too: one's own
        changes undo one after another, and a change by someone else in between stops
        the chain (its revision differs)."""
        # Undone: this step is now at ``rev`` as ``before`` says, which the earlier step
        # left (its ``rev_after``); redone: as ``after`` says, where the later one starts.
        mine, theirs = ("rev_before", "rev_after") if undoing else ("rev_after", "rev_before")
        was = getattr(step, mine)
        setattr(step, mine, rev)
        for entry in reversed(self._undo if undoing else self._redo):
            for other in entry.steps:
                if other.contact_id == step.contact_id:
                    if getattr(other, theirs) == was:
                        setattr(other, theirs, rev)
                    return

    def _builder(self, step: UndoStep, kind: Literal["undo", "redo"], label: str, by: str):
        target = step.before if kind == "undo" else step.after

        def build(current: dict) -> dict | None:
            now = self._shared.clock()
            new = dict(current)
            new["history"] = list(current["history"])
            for name in RESTORED:
                if current.get(name) != target.get(name):
                    if name not in _UNRECORDED:
                        new["history"].append(history_entry(
                            now, by, "stage" if name == "stage" else "field", field=name,
                            before=current.get(name), after=target.get(name),
                            why=f"{kind} of '{label}'"))
                    new[name] = copy.deepcopy(target.get(name))
            return new
        return build
