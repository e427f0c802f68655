"""The workspace: the one API that every front end (TUI, CLI) calls.

``Workspace`` is a small façade over parts with one job each: ``ClassificationCache``
(what is derived from the documents and kept), ``Commands`` (edits, adds, moves…),
``Writer`` (the one write path), ``UndoHistory``, ``EventBus`` (subscribers) and
``BatchCommitter`` (imports). They share the store, the rules, the clock and one lock
through ``Shared``.
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Mapping, Sequence

from funnel.engine.errors import Conflict
from funnel.engine.model import utc_now
from funnel.engine.model.people_text import check_name, check_reason
from funnel.engine.rules.classify import Classification
from funnel.engine.rules.loading import load_rules
from funnel.engine.rules.ruleset import Rules
from funnel.engine.store.contacts import ContactStore
from funnel.engine.transfer.batch import BatchResult, BatchUpdate, LiveBatch, NewContact
from funnel.engine.workspace.batch_commit import BatchCommitter
from funnel.engine.workspace.bulk import Counts, bulk_work, count
from funnel.engine.workspace.cache import ClassificationCache
from funnel.engine.workspace.commands import Commands, EditResult
from funnel.engine.workspace.events import ChangeEvent, EventBus, Subscriber
from funnel.engine.workspace.query import SORTS_READING_MORE, parse_query, sort_key
from funnel.engine.workspace.shared import Clock, Shared
from funnel.engine.workspace.undo import UndoHistory
from funnel.engine.workspace.writer import Writer

if TYPE_CHECKING:
    from funnel.engine.transfer.importer import ImportPlan, ImportResult

__all__ = ["ChangeEvent", "EditResult", "Row", "Workspace", "bulk_work"]

Progress = Callable[[int, int], None]  # (done, total); may raise to stop early


def _user(user: str | None) -> str:
    """The session's user, named by the caller or else by the environment; checked,
    and the error names where it came from (``FUNNEL_USER``: fix the setting)."""
    if user is not None:
        return check_name(user, "user")
    for variable in ("FUNNEL_USER", "USER"):
        if os.environ.get(variable):
            return check_name(os.environ[variable], variable)
    return "me"


@dataclass
class Row:
    id: int
    contact: dict
    classification: Classification


class Workspace:
    def __init__(self, store: ContactStore, rules: Rules, *, clock: Clock = utc_now,
                 user: str | None = None) -> None:
        self._store = store
        self.user = _user(user)
        self._shared = Shared(store, rules, clock)
        self._cache = ClassificationCache(self._shared)
        self._events = EventBus()
        self._writer = Writer(self._shared, self._cache, self._events)
        self._undo = UndoHistory(self._shared, self._writer)
        self._commands = Commands(self._shared, self._cache, self._writer, self._undo)
        self._batches = BatchCommitter(self._shared, self._writer)

    # -- opening and closing ---------------------------------------------
    @classmethod
    def open(cls, path: str | os.PathLike, rules: Rules | str | os.PathLike | None = None, *,
             clock: Clock = utc_now, user: str | None = None,
             create: bool = True) -> "Workspace":
        if not isinstance(rules, Rules):
            rules = load_rules(rules)
        user = _user(user)  # before the database is opened or created
        return cls(ContactStore(path, create=create), rules, clock=clock, user=user)

    def close(self) -> None:
        self._store.close()

    def __enter__(self) -> "Workspace":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _by(self, by: str | None) -> str:
        """Who makes a change: this session's user unless a name is given (checked)."""
        return self.user if by is None else check_name(by, "by")

    # -- rules -------------------------------------------------------------
    @property
    def rules(self) -> Rules:
        return self._shared.rules

    def set_rules(self, rules: Rules, by: str | None = None) -> None:
        """Switch rules; every classification is re-derived on next use."""
        self._shared.rules = rules
        self._cache.rules_changed()
        self._events.publish([ChangeEvent("rules", (), self._by(by))])

    def preview_rules(self, rules: Rules, progress: Progress | None = None) -> Counts:
        """Stats under other rules, without switching: the Scoring tab's preview.

        ``progress`` hears (done, total) every few thousand contacts and may raise to
        stop early; edits from another thread wait at most for one chunk.
        """
        return self._cache.preview_rules(rules, progress)

    # -- reading -----------------------------------------------------------
    def now(self) -> datetime:
        """The workspace's clock (tests and demos fix it)."""
        return self._shared.clock()

    def __len__(self) -> int:
        return len(self._store)

    def ids(self) -> list[int]:
        return self._store.ids()

    def get(self, contact_id: int) -> dict:
        """A copy of the contact document (history included)."""
        return copy.deepcopy(self._shared.document(contact_id))

    def classification(self, contact_id: int) -> Classification:
        return self._cache.classification(contact_id)

    def explained(self, contact_id: int) -> Classification:
        """The classification with its explanation, without keeping the explanation
        (an export of every contact should not hold every explanation in memory)."""
        return self._cache.explained(contact_id)

    def classify_all(self, progress: Progress | None = None) -> dict[int, Classification]:
        """Classify every contact (cached until an edit, a rules change or a new day).

        Bulk results carry no explanation (``classification(id)`` derives it when
        asked). What does not depend on the rules is kept between passes: the slim
        copy of each contact and the summary of its activities, so a rules change
        reclassifies without parsing the documents again. Above ``forked.MIN_ITEMS``
        a forked child does half the work. ``progress`` hears (done, total) every few
        thousand contacts; another thread may edit meanwhile (contacts it touches
        are re-derived on their next use).
        """
        return self._cache.classify_all(progress)

    def select(self, query: str | None = None, sort: str = "attention",
               descending: bool = False) -> list[int]:
        """The ids of the contacts matching ``query``, in ``sort`` order.

        Only ids are kept, so a list of 100,000 costs little; read each row with
        ``row(id)`` when it is shown.
        """
        test = parse_query(query, self.user)
        classes = self.classify_all()
        key = sort_key(sort, self._stage_order())
        keyed = []
        # The slim copies the bulk pass kept hold every field the filter and the sort
        # read (but custom fields and updated_at): no document is parsed per keystroke.
        full = test.reads_custom or sort in SORTS_READING_MORE
        with bulk_work():
            for contact_id, document in self._cache.readable(full):
                result = classes.get(contact_id) or self.classification(contact_id)
                if test(document, result):
                    keyed.append((key((contact_id, document, result)), contact_id))
        keyed.sort(reverse=descending)
        return [contact_id for _, contact_id in keyed]

    def row(self, contact_id: int) -> tuple[dict, Classification]:
        """One contact and its classification, to show. The dict is shared: never mutate it."""
        return self._shared.document(contact_id), self.classification(contact_id)

    def contacts(self, query: str | None = None, sort: str = "attention") -> list[Row]:
        test = parse_query(query, self.user)
        classes = self.classify_all()
        rows = [(cid, doc, classes[cid]) for cid, doc in self._store.items()
                if test(doc, classes[cid])]
        rows.sort(key=sort_key(sort, self._stage_order()))
        return [Row(*row) for row in rows]

    def stats(self) -> Counts:
        return count(self.classify_all().values(), self.rules)

    def preview(self, contact_id: int, changes: dict[str, Any]) -> Classification:
        """Classify a draft of the contact with ``changes`` applied; nothing is written.

        Raises FieldError for a value that cannot be stored, like ``edit`` would.
        """
        return self._commands.preview(contact_id, changes)

    def _stage_order(self) -> dict[str, int]:
        return {stage.id: stage.order for stage in self.rules.stages + self.rules.exits}

    # -- writing (each command commits through the one write path) --------
    def add(self, fields: dict[str, Any], by: str | None = None) -> int:
        return self.add_many([fields], by)[0]

    def add_many(self, items: Iterable[dict[str, Any]], by: str | None = None) -> list[int]:
        """Validate every contact first; then write them all in one go (all or nothing)."""
        return self._commands.add_many(items, self._by(by))

    def edit(self, contact_id: int, changes: dict[str, Any], by: str | None = None,
             why: str | None = None, *, expect: Mapping[str, Any] | None = None
             ) -> EditResult:
        """Validate, classify, persist and record an edit of some fields.

        ``expect``: field -> value as the person saw it when they began (derived names
        like ``stage`` allowed). If any of them changed since, Conflict is raised with
        who changed what, and nothing is written; without it, the edit is based on what
        this session shows of the fields it changes."""
        return self._commands.edit(contact_id, changes, self._by(by), check_reason(why, "why"),
                                   expect)

    def override(self, conflict: Conflict, by: str | None = None,
                 why: str | None = None) -> EditResult:
        """Write a refused edit over the change that refused it, recorded in the history
        as an override; Conflict again if the contact changed once more meanwhile."""
        return self._commands.override(conflict, self._by(by), check_reason(why, "why"))

    def move(self, contact_id: int, stage_id: str, why: str, by: str | None = None, *,
             expect: Mapping[str, Any] | None = None) -> EditResult:
        """A person moves a contact to a stage. Moving back or out pins the stage."""
        return self._commands.move(contact_id, stage_id, check_reason(why, "why"), self._by(by),
                                   expect)

    def disqualify(self, contact_id: int, reason: str, by: str | None = None, *,
                   expect: Mapping[str, Any] | None = None) -> EditResult:
        return self._commands.disqualify(contact_id, check_reason(reason, "reason"), self._by(by),
                                         expect)

    def unpin(self, contact_id: int, why: str = "back to automatic", by: str | None = None
              ) -> EditResult:
        return self._commands.unpin(contact_id, check_reason(why, "why"), self._by(by))

    def adjust_score(self, contact_id: int, points: int, reason: str, by: str | None = None,
                     *, expect: Mapping[str, Any] | None = None) -> EditResult:
        return self._commands.adjust_score(contact_id, points, check_reason(reason, "reason"),
                                           self._by(by), expect)

    def log_activity(self, contact_id: int, kind: str, at: str | None = None,
                     count: int = 1, by: str | None = None) -> EditResult:
        return self._commands.log_activity(contact_id, kind, at, count, self._by(by))

    # -- undo / redo ---------------------------------------------------------
    @property
    def can_undo(self) -> bool:
        return self._undo.can_undo

    @property
    def can_redo(self) -> bool:
        return self._undo.can_redo

    def undo(self, by: str | None = None) -> int:
        """Undo this session's last change (stage included); returns the contact id."""
        return self._undo.undo(self._by(by))

    def redo(self, by: str | None = None) -> int:
        return self._undo.redo(self._by(by))

    # -- subscriptions -------------------------------------------------------
    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        """Call ``callback(event)`` after every change, with the workspace lock released
        (a subscriber that raises is logged); returns the unsubscribe function."""
        return self._events.subscribe(callback)

    def refresh(self) -> set[int]:
        """Take in what other processes committed; subscribers hear a "remote" event."""
        ids = self._store.refresh()
        self._writer.take_in(ids)
        return ids

    @property
    def warnings(self) -> list[str]:
        """What opening the database had to work around (e.g. a torn last record)."""
        return list(self._store.warnings)

    # -- batches: imports (engine/transfer/importer.py plans them, this commits) ---
    @property
    def version(self) -> int:
        """Changes with every commit this session has seen, its own or another's."""
        return self._store.version

    def documents(self) -> Iterator[tuple[int, dict]]:
        """Every (id, contact) for one pass. The dicts are shared: never mutate them."""
        return self._store.items()

    def apply_import(self, plan: ImportPlan, *, skip_bad: bool = False, by: str | None = None,
                     progress: Callable[[str, int, int], None] | None = None
                     ) -> ImportResult:
        """Write an ``engine.transfer.importer.plan_import`` plan: all rows or none
        (``skip_bad`` leaves out the rows with errors)."""
        from funnel.engine.transfer.importer import apply_import  # loaded on first import

        return apply_import(self, plan, skip_bad=skip_bad, by=by, progress=progress)

    def commit_batch(self, creates: Sequence[NewContact], updates: Sequence[BatchUpdate],
                     by: str, *, version: int | None = None,
                     progress: Callable[[str, int, int], None] | None = None) -> BatchResult:
        """Create and update many contacts in one transaction: all or nothing.

        Every document is validated, classified and given its history before the
        lock is taken; under the lock there is only a version check and one journal
        record. ``version`` is ``self.version`` when the batch was planned: if anything
        was committed since, StaleBatch is raised and nothing is written.
        """
        return self._batches.commit(creates, updates, by, version, progress)

    # (added for issue #11: imports that succeed while others edit)
    def commit_live_batch(self, batch: LiveBatch, by: str, *, strict: bool = False,
                          progress: Callable[[str, int, int], None] | None = None
                          ) -> BatchResult:
        """Like ``commit_batch``, but rows of contacts others changed since the batch was
        planned are derived again (``batch.revisit``) instead of refusing the batch; a
        field someone changed is a conflict in the result (``strict``: BatchConflicts,
        nothing written)."""
        return self._batches.commit_live(batch, by, strict=strict, progress=progress)
