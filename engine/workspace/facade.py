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
from funnel.engine.workspace.bulk import bulk_work
from funnel.engine.workspace.bulk_edit import BulkActions, BulkResult, Expectations
from funnel.engine.workspace.cache import ClassificationCache
from funnel.engine.workspace.commands import Commands, EditResult
from funnel.engine.workspace.events import ChangeEvent, EventBus, Subscriber
from funnel.engine.workspace.column_prefetch import ColumnPrefetch
from funnel.engine.workspace.column_rows import Counts
from funnel.engine.workspace.shared import Clock, Shared
from funnel.engine.workspace.undo import Undone, UndoHistory
from funnel.engine.workspace.writer import Writer
from funnel.engine.workspace.desk_work import DeskWork

if TYPE_CHECKING:
    from funnel.engine.columns.stage_log import StageMoves
    from funnel.engine.learn.model_file import Model
    from funnel.engine.learn.score import Scored
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


class Workspace(DeskWork):  # DeskWork: log work, duplicates, merge (issue #15)
    def __init__(self, store: ContactStore, rules: Rules, *, clock: Clock = utc_now,
                 user: str | None = None, prefetch: ColumnPrefetch | None = None) -> None:
        self._store = store
        self.user = _user(user)
        self._shared = Shared(store, rules, clock)
        self._cache = ClassificationCache(self._shared, prefetch)
        self._events = EventBus()
        self._writer = Writer(self._shared, self._cache, self._events)
        self._undo = UndoHistory(self._shared, self._writer)
        self._commands = Commands(self._shared, self._cache, self._writer, self._undo)
        self._batches = BatchCommitter(self._shared, self._writer)

    # -- opening and closing ---------------------------------------------
    @classmethod
    def open(cls, path: str | os.PathLike, rules: Rules | str | os.PathLike | None = None, *,
             clock: Clock = utc_now, user: str | None = None,
             create: bool = True, early_columns: bool = False) -> "Workspace":
        """``early_columns``: read the column cache beside opening the store (a session
        that lists or counts: the app, stats, export), in a ``ColumnPrefetch``."""
        if not isinstance(rules, Rules):
            rules = load_rules(rules)
        user = _user(user)  # before the database is opened or created
        prefetch = ColumnPrefetch(path) if early_columns else None
        return cls(ContactStore(path, create=create), rules, clock=clock, user=user,
                   prefetch=prefetch)

    def close(self) -> None:
        """Close the store, first writing the column cache if this session built or
        updated the columns (so the next ``stats`` or start need not parse every contact)."""
        try:
            self._cache.save()
        finally:
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

    @property
    def path(self) -> str:
        """The database file (front ends key what they remember per database on it)."""
        return os.fspath(self._store.path)

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

    def classify_all(self, progress: Progress | None = None) -> Mapping[int, Classification]:
        """Every contact's classification by id, without explanations
        (``classification(id)`` gives one with it).

        Made over the columns (kept until an edit, a rules change or a new day) and read
        back per contact when asked. ``progress`` hears (done, total) while the columns
        are first built.
        """
        return self._cache.classify_all(progress)

    def stage_moves(self) -> StageMoves:
        """Each contact's stage now and recorded stage moves, as arrays (the Funnel
        tab's figures are counted from them: ``reports.lifecycle``)."""
        return self._cache.stage_moves()

    def select(self, query: str | None = None, sort: str = "attention",
               descending: bool = False) -> list[int]:
        """The ids of the contacts matching ``query`` (see ``engine.workspace.query``),
        in ``sort`` order (``engine.workspace.sorting``).

        Answered from the columns: a mask per filter term and one sort over arrays, so
        no document is read per keystroke. Only ids are kept, so a list of 100,000
        costs little; read each row with ``row(id)`` when it is shown.
        """
        return self._cache.select(query, sort, descending, self.user)

    def row(self, contact_id: int) -> tuple[dict, Classification]:
        """One contact and its classification, to show. The dict is shared: never mutate it."""
        return self._shared.document(contact_id), self.classification(contact_id)

    def contacts(self, query: str | None = None, sort: str = "attention") -> list[Row]:
        return [Row(contact_id, *self.row(contact_id))
                for contact_id in self.select(query, sort)]

    def stats(self) -> Counts:
        return self._cache.counts()

    def preview(self, contact_id: int, changes: dict[str, Any]) -> Classification:
        """Classify a draft of the contact with ``changes`` applied; nothing is written.
        Raises FieldError for a value that cannot be stored, like ``edit`` would."""
        return self._commands.preview(contact_id, changes)

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

    # -- undo / redo ---------------------------------------------------------
    @property
    def can_undo(self) -> bool:
        return self._undo.can_undo

    @property
    def can_redo(self) -> bool:
        return self._undo.can_redo

    def undo(self, by: str | None = None) -> Undone:
        """Undo this session's last action (stage included; a bulk action as a whole);
        the answer says what it undid (``Undone.message``: "Undo: assign 3 contacts…")."""
        return self._undo.undo(self._by(by))

    def redo(self, by: str | None = None) -> Undone:
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

    # -- bulk actions (issue #15) ---------------------------------------------
    # One commit, one journal record and one undo entry each (engine.workspace.bulk_edit).
    # ``expect``: contact id -> field -> value as the person saw it when they marked it;
    # a contact changed since is a Conflict in the result, the others are written.
    @property
    def _bulk(self) -> BulkActions:
        return BulkActions(self._shared, self._cache, self._writer, self._undo,
                           self._commands)

    def bulk_edit(self, ids: Sequence[int], changes: Mapping[str, Any], by: str | None = None,
                  why: str | None = None, *, expect: Expectations | None = None,
                  description: str | None = None) -> BulkResult:
        """Set the same ``changes`` on every contact of ``ids`` (a bad value: FieldError,
        nothing written); ``description`` names it for undo ("{contacts}": the count)."""
        return self._bulk.edit({contact_id: changes for contact_id in ids}, self._by(by),
                               check_reason(why, "why"), expect, description)

    def bulk_edit_each(self, changes: Mapping[int, Mapping[str, Any]], by: str | None = None,
                       why: str | None = None, *, expect: Expectations | None = None,
                       description: str | None = None) -> BulkResult:
        """Like ``bulk_edit``, with each contact's own changes (id -> field -> value)."""
        return self._bulk.edit(changes, self._by(by), check_reason(why, "why"), expect,
                               description)

    def owners(self) -> list[tuple[str, int]]:
        """The people who own contacts, with how many each owns, most first (counted
        over the owner column: no document is read)."""
        return self._cache.owner_counts()

    def bulk_assign(self, ids: Sequence[int], owners: Sequence[str], by: str | None = None,
                    *, expect: Expectations | None = None) -> BulkResult:
        """Give the contacts to ``owners`` in turn, in the order given (round-robin)."""
        return self._bulk.assign(ids, owners, self._by(by), expect)

    def bulk_move(self, stages: Mapping[int, str], why: str, by: str | None = None, *,
                  expect: Expectations | None = None, description: str | None = None
                  ) -> BulkResult:
        """Move each contact to its stage (id -> stage) by hand, as ``move`` does."""
        return self._bulk.move(stages, check_reason(why, "why"), self._by(by), expect,
                               description)

    def bulk_disqualify(self, ids: Sequence[int], reason: str, by: str | None = None, *,
                        expect: Expectations | None = None) -> BulkResult:
        return self._bulk.disqualify(ids, check_reason(reason, "reason"), self._by(by), expect)

    @property
    def undo_description(self) -> str | None:
        """What ``undo`` would undo now, in words; None when there is nothing."""
        return self._undo.undo_description

    @property
    def redo_description(self) -> str | None:
        return self._undo.redo_description

    # -- learned likelihood (issue #14) ------------------------------------
    def likelihood_model(self) -> Model | None:
        """The model ``funnel learn`` saved beside this database, or None; FunnelError
        if it cannot be read."""
        from funnel.engine.learn.model_file import load_model, model_path

        return load_model(model_path(self._store.path))

    def likelihood(self, contact_id: int, model: Model) -> tuple[float, list[dict[str, Any]]]:
        """One contact's likelihood (0-1) under ``model`` and its factors, weightiest first."""
        from funnel.engine.learn.score import likelihood_of

        return likelihood_of(model, contact_id, self._shared.document(contact_id), self.now())

    def likelihood_of(self, contact_id: int) -> float | None:
        """One contact's likelihood (0-1) under the saved model, from the column the
        filters and sorts read (None without a model); FunnelError if it cannot be read."""
        return self._cache.likelihood_of(contact_id)

    def likelihoods(self, model: Model) -> Scored:
        """Every contact scored under ``model`` (``engine.learn.score.Scored``: ids,
        likelihoods, factors per row), read from the columns (no document is parsed)."""
        return self._cache.scored(model)
