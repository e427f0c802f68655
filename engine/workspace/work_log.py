"""Logged work (issue #15): a call, email, meeting or note a person records on a contact.

It is stored as an activity (so it counts as the contact being worked, and calls and
meetings feed engagement under the shipped rules) carrying the note and the outcome;
``work_activity`` checks what was typed before anything is written. ``WorkLog.log``
writes it, with the next follow-up date when one is given, in one commit and one
undo step. ``LOGGED_KINDS`` are the kinds a person logs by hand, in the order the app
offers them; any activity kind may be logged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from funnel.engine.errors import FieldError
from funnel.engine.history import entry as history_entry
from funnel.engine.model import format_datetime, validate_activity
from funnel.engine.model.fields import ACTIVITY_KINDS, WORK_OUTCOMES
from funnel.engine.rules.classify import classify
from funnel.engine.text import escape, unsafe_pattern
from funnel.engine.workspace.cache import ClassificationCache
from funnel.engine.workspace.commands import EditResult
from funnel.engine.workspace.documents import Changed, draft, record_stage, set_fields, validated
from funnel.engine.workspace.many import Outcome, Planned, commit_many
from funnel.engine.workspace.shared import Shared
from funnel.engine.workspace.undo import UndoHistory
from funnel.engine.workspace.writer import Writer

# (kind, label) in the order offered; every kind is an engine activity kind.
LOGGED_KINDS = (("call", "Call"), ("email_sent", "Email sent"), ("meeting", "Meeting"),
                ("note", "Note"))
# Words people type for a kind (the CLI's KIND, a bulk log): "email" is an email sent.
KIND_WORDS = {"email": "email_sent", "mail": "email_sent", "phone": "call"}
OUTCOME_LABELS = {"reached": "reached", "no_answer": "no answer",
                  "left_message": "left a message", "interested": "interested",
                  "not_interested": "not interested"}
NOTE_MAX = 10_000  # like a text field
# A note may hold line breaks and tabs; other controls would drive someone's terminal.
_NOTE_UNSAFE = unsafe_pattern(keep="\t\n")

assert all(kind in ACTIVITY_KINDS for kind, _ in LOGGED_KINDS)
assert tuple(OUTCOME_LABELS) == WORK_OUTCOMES


def activity_kind(text: str) -> str:
    """The activity kind for ``text`` (``call``, ``email``, ``email_sent``…)."""
    word = text.strip().casefold().replace("-", "_").replace(" ", "_")
    kind = KIND_WORDS.get(word, word)
    if kind not in ACTIVITY_KINDS:
        raise FieldError("kind", f"{text.strip()[:40]!r} is not an activity kind; log one of "
                         + ", ".join(k for k, _ in LOGGED_KINDS) + " (or "
                         + ", ".join(k for k in ACTIVITY_KINDS
                                     if k not in dict(LOGGED_KINDS)) + ")")
    return kind


def outcome_value(text: str | None) -> str | None:
    """The outcome for ``text`` (``no answer`` and ``no_answer`` alike); None for none."""
    if text is None or not text.strip():
        return None
    word = text.strip().casefold().replace("-", "_").replace(" ", "_")
    for value, label in OUTCOME_LABELS.items():
        if word in (value, label.replace(" ", "_")):
            return value
    raise FieldError("outcome", f"{text.strip()[:40]!r} is not an outcome; use one of "
                     + ", ".join(WORK_OUTCOMES))


def check_note(note: str | None) -> str | None:
    """The note as stored (trailing blanks dropped; None if empty), or FieldError."""
    if note is None:
        return None
    if not isinstance(note, str):
        raise FieldError("note", "a note must be text")
    note = note.replace("\r\n", "\n").rstrip()
    if len(note) > NOTE_MAX:
        raise FieldError("note", f"is {len(note):,} characters long; at most {NOTE_MAX:,}")
    found = _NOTE_UNSAFE.search(note)
    if found is not None:
        line = note.count("\n", 0, found.start()) + 1
        raise FieldError("note", f"contains a control character ({escape(found.group())} on "
                         f"line {line}); use printable text (newlines and tabs allowed)")
    return note or None


def work_activity(kind: str, at: str, count: int = 1, note: str | None = None,
                  outcome: str | None = None) -> dict[str, Any]:
    """The activity a piece of logged work is stored as; FieldError if anything is bad."""
    activity: dict[str, Any] = {"kind": kind, "at": at, "count": count}
    note = check_note(note)
    if note is not None:
        activity["note"] = note
    if outcome is not None:
        activity["outcome"] = outcome
    return validate_activity(activity)


@dataclass(frozen=True)
class LoggedWork(EditResult):
    """An edit result that also holds the activity as stored."""

    activity: dict[str, Any] = field(default_factory=dict)


class WorkLog:
    def __init__(self, shared: Shared, cache: ClassificationCache, writer: Writer,
                 undo: UndoHistory) -> None:
        self._shared = shared
        self._cache = cache
        self._writer = writer
        self._undo = undo

    def log(self, contact_id: int, kind: str, at: str | None, count: int, by: str, *,
            note: str | None = None, outcome: str | None = None,
            follow_up: str | None = None) -> LoggedWork:
        """Add an activity (``at``: when it happened, default now) and, unless
        ``follow_up`` is None, set the follow-up date ("" clears it): one commit.
        Everything is checked before anything is written."""
        activity, changes = self._checked(kind, at, count, note, outcome, follow_up)
        before = self._cache.classification(contact_id)
        changed: Changed = {}
        label = f"log {activity['kind'].replace('_', ' ')}" + (" and follow-up" if changes else "")
        self._writer.change(contact_id, "edit", by, label, changes,
                            self._builder(activity, changes, by, changed),
                            record=self._undo.recorder(contact_id, label))
        return LoggedWork(contact_id, dict(changed), before,
                          self._cache.classification(contact_id), activity)

    def log_many(self, ids: Sequence[int], kind: str, at: str | None, count: int, by: str,
                 *, note: str | None = None, outcome: str | None = None,
                 follow_up: str | None = None) -> Outcome:
        """The same work logged on every contact of ``ids`` ("emailed all 12"): one
        commit and one undo step; contacts whose follow-up someone changed since come
        back as conflicts, deleted ones as skipped, and the others are written."""
        activity, changes = self._checked(kind, at, count, note, outcome, follow_up)
        plans = [Planned(contact_id, changes, self._builder(activity, changes, by, {}))
                 for contact_id in ids]
        done = commit_many(self._shared, self._writer, plans, "edit", by)
        self._undo.record(f"log {activity['kind'].replace('_', ' ')} on "
                          f"{len(done.changed):,} contacts",
                          done.before, done.after)
        return done

    def _checked(self, kind: str, at: str | None, count: int, note: str | None,
                 outcome: str | None, follow_up: str | None
                 ) -> tuple[dict[str, Any], dict[str, Any]]:
        activity = work_activity(activity_kind(kind),
                                 at or format_datetime(self._shared.clock()), count, note,
                                 outcome_value(outcome))
        changes = ({} if follow_up is None
                   else validated(self._shared.rules, {"follow_up": follow_up}))
        return activity, changes

    def _builder(self, activity: dict[str, Any], changes: dict[str, Any], by: str,
                 changed: Changed) -> Callable[[dict], dict]:
        rules, kind = self._shared.rules, activity["kind"]

        def build(current: dict) -> dict:
            now = self._shared.clock()
            new = draft(current)
            new["activities"] = sorted((current.get("activities") or []) + [activity],
                                       key=lambda a: a["at"])
            new["history"].append(history_entry(now, by, "activity", after=activity))
            changed.clear()
            changed.update(set_fields(new, current, changes, now, by, f"logged {kind}"))
            record_stage(new, classify(new, rules, now), rules, now, by, cause=kind)
            return new
        return build
