"""Merging two contacts that are one person: ``Merger.merge(keep_id, other_id, by, why)``.

The kept contact keeps every value it has; its empty fields are filled from the other.
Where both hold different values the kept one wins and the other's goes into the kept
contact's notes ("From #7: email: x@y.z"), and into the merge's history entry, so
nothing is lost. Tags, custom fields (kept one winning), activities and histories are
unioned (each history entry keeps its date), a "merged" entry says from which contact,
the stage is derived again, and the other contact is deleted: all in one journal
record. Undo puts both documents back as they were (one record again), provided
neither changed since; redo merges them again.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from funnel.engine.errors import FieldError, FunnelError, NotFound
from funnel.engine.history import entry as history_entry
from funnel.engine.model import FIELDS
from funnel.engine.rules.classify import Classification, classify
from funnel.engine.rules.ruleset import Rules
from funnel.engine.workspace.cache import ClassificationCache
from funnel.engine.workspace.documents import empty_as_none, record_stage, stamped
from funnel.engine.workspace.events import ChangeEvent
from funnel.engine.workspace.shared import Shared
from funnel.engine.workspace.undo import UndoEntry, UndoHistory, Undone
from funnel.engine.workspace.writer import Writer, Written

_NOT_FILLED = ("notes", "tags", "created_at")  # merged their own way


@dataclass(frozen=True)
class MergeResult:
    kept: int
    removed: int
    filled: dict[str, Any]  # field -> value taken from the removed contact
    set_aside: dict[str, Any]  # field -> the removed contact's differing value, in notes
    before: Classification
    after: Classification

    def to_dict(self) -> dict[str, Any]:
        return {"kept": self.kept, "removed": self.removed, "filled": self.filled,
                "set_aside": self.set_aside, "before": self.before.to_dict(),
                "after": self.after.to_dict()}


def merged_document(keep: dict, other: dict, other_id: int, rules: Rules, now: datetime,
                    by: str, why: str | None) -> tuple[dict, dict[str, Any], dict[str, Any]]:
    """The kept contact with the other merged in; (document, filled, set aside)."""
    new = copy.deepcopy(keep)
    filled: dict[str, Any] = {}
    aside: dict[str, Any] = {}
    for name in FIELDS:
        mine, theirs = _known(keep.get(name)), _known(other.get(name))
        if name in _NOT_FILLED or theirs is None or mine == theirs:
            continue
        if mine is None:
            new[name] = filled[name] = copy.deepcopy(theirs)
        else:
            aside[name] = theirs
    new["tags"] = list(dict.fromkeys((keep.get("tags") or []) + (other.get("tags") or [])))
    new["created_at"] = min(keep["created_at"], other["created_at"])
    custom = dict(other.get("custom") or {})
    for key, value in (other.get("custom") or {}).items():
        if key in (keep.get("custom") or {}) and keep["custom"][key] != value:
            aside[f"custom {key}"] = value
    custom.update(keep.get("custom") or {})
    new["custom"] = custom
    activities = list(keep.get("activities") or [])
    activities += [a for a in other.get("activities") or [] if a not in activities]
    new["activities"] = sorted(activities, key=lambda a: a["at"])
    new["notes"] = _notes(keep.get("notes"), other.get("notes"), other_id, aside)
    # The other's entries say whose they were: its stage moves stay on record but are
    # not stays of this contact (the Funnel tab's timeline and movement skip them).
    theirs = [dict(entry, merged_from=other_id) if isinstance(entry, dict)
              and "merged_from" not in entry else entry for entry in other["history"]]
    history = sorted(list(keep["history"]) + theirs,
                     key=lambda entry: entry.get("at") or "")  # stable: kept one first
    record = history_entry(now, by, "merged", after={"id": other_id, "set_aside": aside,
                                                     "filled": sorted(filled)},
                           why=why or f"merged from #{other_id}")
    new["history"] = history + [record]
    record_stage(new, classify(new, rules, now), rules, now, by, cause=f"merge of #{other_id}")
    return new, filled, aside


def _known(value: Any) -> Any:
    """None for a value that says nothing (empty, or a BANT answer of "unknown")."""
    return None if value == "unknown" else empty_as_none(value)


def _notes(mine: Any, theirs: Any, other_id: int, aside: dict[str, Any]) -> str | None:
    parts = [mine] if mine else []
    if theirs and theirs != mine:
        parts.append(f"From #{other_id}:\n{theirs}")
    shown = {name: value for name, value in aside.items() if name != "notes"}
    if shown:
        parts.append(f"From #{other_id}, kept aside: " + "; ".join(
            f"{name}: {', '.join(value) if isinstance(value, list) else value}"
            for name, value in shown.items()))
    return "\n\n".join(parts) or None


class Merger:
    def __init__(self, shared: Shared, cache: ClassificationCache, writer: Writer,
                 undo: UndoHistory) -> None:
        self._shared = shared
        self._cache = cache
        self._writer = writer
        self._undo = undo

    def merge(self, keep_id: int, other_id: int, by: str, why: str | None = None
              ) -> MergeResult:
        """Merge ``other_id`` into ``keep_id`` (one commit, one undo step)."""
        result, restore = self.merge_now(keep_id, other_id, by, why)
        self._undo.push(UndoEntry(restore.label, [], restore=restore.restore))
        return result

    def merge_now(self, keep_id: int, other_id: int, by: str, why: str | None
                  ) -> tuple[MergeResult, _Restore]:
        """The merge itself, and how to undo it; recorded by the caller."""
        if keep_id == other_id:
            raise FieldError("merge", f"#{keep_id} cannot be merged with itself")
        before = self._cache.classification(keep_id)
        self._shared.document(other_id)  # NotFound before the lock
        done: dict[str, Any] = {}

        def write() -> Written:
            store, now = self._shared.store, self._shared.clock()
            keep, other = store.get(keep_id), store.get(other_id)
            if keep is None or other is None:
                gone = keep_id if keep is None else other_id
                raise NotFound(f"no contact with id {gone} (deleted by someone else)")
            new, filled, aside = merged_document(keep, other, other_id, self._shared.rules,
                                                 now, by, why)
            stored = stamped(new, keep, now)
            store.put_and_remove({keep_id: stored}, [other_id], by=by)
            done.update(keep=keep, other=other, rev=stored["rev"], filled=filled, aside=aside)
            return Written([ChangeEvent("edit", (keep_id, other_id), by)], size=2)

        self._writer.commit(write, reload_on_refusal=(keep_id, other_id))
        restore = _Restore(self, keep_id, other_id, why, done["keep"], done["other"],
                           done["rev"])
        return (MergeResult(keep_id, other_id, done["filled"], done["aside"], before,
                            self._cache.classification(keep_id)), restore)

    def unmerge(self, keep_id: int, other_id: int, keep: dict, other: dict, rev: int,
                label: str, by: str) -> None:
        """Put both documents back as they were before the merge (one record)."""
        def write() -> Written:
            store, now = self._shared.store, self._shared.clock()
            current = store.get(keep_id)
            if current is None or current.get("rev") != rev or store.get(other_id) is not None:
                raise FunnelError(f"contact {keep_id} changed since; cannot undo '{label}'")
            restored = []
            for document, base in ((keep, current), (other, other)):
                new = copy.deepcopy(document)
                new["history"] = list(document["history"]) + [history_entry(
                    now, by, "unmerged", why=f"undo of '{label}'")]
                restored.append(stamped(new, base, now))
            store.put_and_remove({keep_id: restored[0], other_id: restored[1]}, [], by=by)
            return Written([ChangeEvent("undo", (keep_id, other_id), by)], size=2)

        self._writer.commit(write, reload_on_refusal=(keep_id, other_id))


@dataclass
class _Restore:
    """How a merge is undone and redone (``UndoEntry.restore``)."""

    merger: Merger
    keep_id: int
    other_id: int
    why: str | None
    keep: dict  # both documents as they were before the merge
    other: dict
    rev: int  # the kept contact's revision the merge (or its redo) left

    @property
    def label(self) -> str:
        return f"merge #{self.other_id} into #{self.keep_id}"

    def restore(self, kind: Literal["undo", "redo"], by: str) -> Undone:
        if kind == "undo":
            self.merger.unmerge(self.keep_id, self.other_id, self.keep, self.other,
                                self.rev, self.label, by)
        else:  # merged again from the documents as they are now
            _, again = self.merger.merge_now(self.keep_id, self.other_id, by, self.why)
            self.keep, self.other, self.rev = again.keep, again.other, again.rev
        return Undone(kind, self.label, (self.keep_id, self.other_id))
