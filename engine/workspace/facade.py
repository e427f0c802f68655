"""The workspace: the one API that every front end (TUI, CLI) calls.

It opens a database with a set of rules, lists and filters contacts, previews
an edit (classify a draft, no write), validates-classifies-persists edits,
records history, keeps undo/redo, and tells subscribers about every change.
"""

from __future__ import annotations

import copy
import gc
import os
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Iterable, Iterator, Sequence

from funnel.engine.transfer.batch import BatchResult, BatchUpdate, NewContact, StaleBatch
from funnel.engine.workspace import forked
from funnel.engine.rules.classify import Classification, classify
from funnel.engine.rules.loading import load_rules
from funnel.engine.errors import Conflict, FieldError, FunnelError, NotFound
from funnel.engine.rules.facts import share_values, shared_summary, slim_contact, summarise_activities
from funnel.engine.history import entry as history_entry
from funnel.engine.model import (FIELDS, compact_document, format_datetime, new_contact, parse_datetime,
                    utc_now, validate_activity, validate_changes, validate_custom)
from funnel.engine.workspace.query import SORTS_READING_MORE, parse_query, sort_key
from funnel.engine.rules.ruleset import Rules
from funnel.engine.store.contacts import ContactStore

Clock = Callable[[], datetime]
# What slim copies keep whatever the rules read (so switching presets keeps them): every
# field but the long free texts no shipped rule reads. A dict's own size dominates, so
# the fields left out would save little more.
_SLIM_KEYS = (frozenset(FIELDS) | {"stage", "stage_since", "stage_rules"}) - {
    "notes", "outcome_reason", "disqualify_reason"}
PROGRESS_EVERY = 2000  # contacts classified between progress reports
BULK_COMPACT = 1000  # adding this many contacts at once compacts the store straight after
# The keys undo/redo restore: every editable field plus the engine's stage state.
_RESTORED = tuple(FIELDS) + ("stage", "stage_since", "stage_rules", "activities")


@dataclass(frozen=True)
class ChangeEvent:
    """What subscribers hear: which contacts changed, how, and by whom."""

    kind: str  # add, edit, move, undo, redo, rules
    ids: tuple[int, ...]
    by: str


@dataclass(frozen=True)
class EditResult:
    contact_id: int
    changed: dict[str, tuple[Any, Any]]  # field -> (old, new)
    before: Classification
    after: Classification

    @property
    def stage_changed(self) -> bool:
        return self.before.stage != self.after.stage


@dataclass
class _UndoStep:
    contact_id: int
    before: dict[str, Any]
    after: dict[str, Any]
    rev: int  # the revision the contact must have for this step to be undone / redone
    label: str


@dataclass
class Row:
    id: int
    contact: dict
    classification: Classification


@dataclass
class _Subscribers:
    callbacks: list[Callable[[ChangeEvent], None]] = field(default_factory=list)

    def notify(self, event: ChangeEvent) -> None:
        for callback in list(self.callbacks):
            callback(event)


class Workspace:
    def __init__(self, store: ContactStore, rules: Rules, *, clock: Clock = utc_now,
                 user: str | None = None) -> None:
        self._store = store
        self._rules = rules
        self._clock = clock
        self.user = user or os.environ.get("FUNNEL_USER") or os.environ.get("USER") or "me"
        self._classes: dict[int, Classification] = {}
        # Activity summaries, valid for one day and one half-life, whatever the rules.
        self._summaries: dict[int, tuple] = {}
        self._summaries_half_life: float | None = None
        # Slim copies of the contacts (what rules read; no history): valid until an edit.
        self._slims: dict[int, dict] = {}
        self._slim_keys: frozenset[str] = frozenset()
        self._pool: dict[str, str] = {}  # repeating values the slim copies share
        self._classified_at: datetime | None = None
        self._undo: list[_UndoStep] = []
        self._redo: list[_UndoStep] = []
        self._subscribers = _Subscribers()
        # A front end may classify everything in a worker thread while the person
        # keeps editing; writes and classification chunks take turns on this lock.
        self._lock = threading.RLock()
        # One bulk pass at a time: a second caller (another tab's worker) waits for the
        # first and then finds everything classified, instead of doing it all again.
        self._pass_lock = threading.Lock()
        self._touched_while_walking: set[int] | None = None

    # -- opening and closing ---------------------------------------------
    @classmethod
    def open(cls, path: str | os.PathLike, rules: Rules | str | os.PathLike | None = None, *,
             clock: Clock = utc_now, user: str | None = None,
             create: bool = True) -> "Workspace":
        if not isinstance(rules, Rules):
            rules = load_rules(rules)
        return cls(ContactStore(path, create=create), rules, clock=clock, user=user)

    def close(self) -> None:
        self._store.close()

    def __enter__(self) -> "Workspace":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- rules -------------------------------------------------------------
    @property
    def rules(self) -> Rules:
        return self._rules

    def set_rules(self, rules: Rules, by: str | None = None) -> None:
        """Switch rules; every classification is re-derived on next use."""
        self._rules = rules
        self._classes.clear()
        self._subscribers.notify(ChangeEvent("rules", (), by or self.user))

    def preview_rules(self, rules: Rules, progress: Callable[[int, int], None] | None = None
                      ) -> dict[str, dict[str, int]]:
        """Stats under other rules, without switching: the Scoring tab's preview.

        ``progress`` hears (done, total) every few thousand contacts and may raise to
        stop early; edits from another thread wait at most for one chunk.
        """
        with self._pass_lock:
            with self._lock:
                self._refresh_clock()
                now = self._now
                if not self._slim_keys:
                    self._prepare_caches(self._rules)
                # Rules that read what the caches do not hold are walked from the
                # documents, leaving the caches as the active rules need them.
                own = rules.half_life_days == self._summaries_half_life \
                    and rules.contact_keys <= self._slim_keys
                ids = self._store.ids()
            total = len(ids)
            with bulk_work():
                if total >= forked.MIN_ITEMS and forked.can_fork():
                    # The child counts its half and sends back only the counts.
                    mine: list[dict[str, Any]] = []
                    theirs = forked.split_pass(
                        ids, lambda half: mine.append(_count(
                            self._walk(half, rules, now, progress, 2, keep=own, own=own),
                            rules)),
                        lambda half: _count(self._walk(half, rules, now, None, 1,
                                                       keep=False, own=own), rules))
                    counts = _merge_counts(mine[0], theirs)
                else:
                    counts = _count(self._walk(ids, rules, now, progress, keep=own, own=own),
                                    rules)
        if progress is not None:
            progress(total, total)
        return counts

    def _prepare_caches(self, rules: Rules) -> None:
        """Under the lock: make the slim copies and summaries fit ``rules``."""
        if self._summaries_half_life != rules.half_life_days:
            self._summaries.clear()
            self._summaries_half_life = rules.half_life_days
        if not rules.contact_keys <= self._slim_keys:  # these rules read other fields
            self._slims.clear()
            self._slim_keys = self._slim_keys | rules.contact_keys | _SLIM_KEYS

    def _foreign_inputs(self, contact_id: int, now: datetime, rules: Rules
                        ) -> tuple[dict, tuple] | None:
        """What ``rules`` need of one contact, from its document, touching no cache."""
        document = self._store.peek(contact_id)
        if document is None:
            return None
        return document, summarise_activities(document, now, rules.half_life_days)

    def _inputs(self, contact_id: int, now: datetime, keep: bool = True
                ) -> tuple[dict, tuple] | None:
        """Under the lock: the slim contact and its activity summary, from the caches,
        parsing the document only for what is missing (kept unless ``keep`` is False)."""
        slim = self._slims.get(contact_id)
        summary = self._summaries.get(contact_id)
        if slim is None or summary is None:
            document = self._store.peek(contact_id)
            if document is None:
                return None
            if summary is None:
                summary = summarise_activities(document, now, self._summaries_half_life)
                if keep:
                    self._summaries[contact_id] = summary
            if slim is None:
                slim = slim_contact(document, self._slim_keys, self._pool)
                if keep:
                    self._slims[contact_id] = slim
        return slim, summary

    def _walk(self, ids: Sequence[int], rules: Rules, now: datetime,
              progress: Callable[[int, int], None] | None, pace: int = 1, keep: bool = True,
              own: bool = True) -> Iterator[Classification]:
        """Classify ``ids`` (no explanations) chunk by chunk under the lock; ``pace``
        scales the progress reported (2 when a forked child does as much meanwhile).
        ``own=False``: rules the caches do not fit, read from the documents alone."""
        total = len(self._store)
        for start in range(0, len(ids), PROGRESS_EVERY):
            with self._lock:
                chunk = []
                for contact_id in ids[start:start + PROGRESS_EVERY]:
                    found = self._inputs(contact_id, now, keep) if own \
                        else self._foreign_inputs(contact_id, now, rules)
                    if found is not None:
                        chunk.append(classify(found[0], rules, now, found[1], explain=False))
            yield from chunk
            if progress is not None and start + PROGRESS_EVERY < len(ids):  # the end: caller
                progress(min(total, pace * (start + PROGRESS_EVERY)), total)

    # -- reading -----------------------------------------------------------
    def now(self) -> datetime:
        """The workspace's clock (tests and demos fix it)."""
        return self._clock()

    def __len__(self) -> int:
        return len(self._store)

    def ids(self) -> list[int]:
        return self._store.ids()

    def get(self, contact_id: int) -> dict:
        """A copy of the contact document (history included)."""
        return copy.deepcopy(self._doc(contact_id))

    def classification(self, contact_id: int) -> Classification:
        self._doc(contact_id)
        self._refresh_clock()
        found = self._classes.get(contact_id)
        if found is None or found.explanation is None:  # none, or derived without one
            found = self._classes[contact_id] = classify(self._doc(contact_id), self._rules,
                                                         self._now)
        return found

    def explained(self, contact_id: int) -> Classification:
        """The classification with its explanation, without keeping the explanation
        (an export of every contact should not hold every explanation in memory)."""
        document = self._doc(contact_id)
        self._refresh_clock()
        found = self._classes.get(contact_id)
        if found is not None and found.explanation is not None:
            return found
        return classify(document, self._rules, self._now)

    def classify_all(self, progress: Callable[[int, int], None] | None = None
                     ) -> dict[int, Classification]:
        """Classify every contact (cached until an edit, a rules change or a new day).

        Bulk results carry no explanation (``classification(id)`` derives it when
        asked). What does not depend on the rules is kept between passes: the slim
        copy of each contact and the summary of its activities, so a rules change
        reclassifies without parsing the documents again. Above ``forked.MIN_ITEMS``
        a forked child does half the work. ``progress`` hears (done, total) every few
        thousand contacts; another thread may edit meanwhile (contacts it touches
        are re-derived on their next use).
        """
        with self._lock:
            self._refresh_clock()
            if len(self._classes) >= len(self._store):
                return self._classes
        with self._pass_lock:
            return self._classify_pending(progress)

    def _classify_pending(self, progress: Callable[[int, int], None] | None
                          ) -> dict[int, Classification]:
        with self._lock:
            self._refresh_clock()
            rules, now, cache = self._rules, self._now, self._classes
            self._prepare_caches(rules)
            total = len(self._store)
            if len(cache) >= total:
                return cache
            pending = [contact_id for contact_id in self._store.ids()
                       if contact_id not in cache]
            self._touched_while_walking = touched = set()
        already = total - len(pending)

        def report(done: int, _total: int) -> None:
            if progress is not None:
                progress(min(total, already + done), total)

        def here(ids: Sequence[int], pace: int = 1) -> None:
            for start in range(0, len(ids), PROGRESS_EVERY):
                part = ids[start:start + PROGRESS_EVERY]
                results = list(self._walk(part, rules, now, None))
                with self._lock:
                    for contact_id, result in zip(part, results):
                        cache.setdefault(contact_id, result)
                if start + PROGRESS_EVERY < len(ids):  # the caller reports the end
                    report(pace * (start + len(part)), total)

        def there(ids: Sequence[int]) -> list[tuple]:
            sent = []
            for contact_id in ids:
                slim, summary = self._slims.get(contact_id), self._summaries.get(contact_id)
                found = self._inputs(contact_id, now, keep=False)
                if found is None:
                    continue
                result = classify(found[0], rules, now, found[1], explain=False)
                sent.append((contact_id, _compact(result),
                             found[0] if slim is None else None,
                             found[1] if summary is None else None))
            return sent

        try:
            with bulk_work():
                if len(pending) >= forked.MIN_ITEMS and forked.can_fork():
                    for contact_id, compact, slim, summary in forked.split_pass(
                            pending, lambda half: here(half, 2), there):
                        cache.setdefault(contact_id, Classification(*compact, explanation=None))
                        if slim is not None:
                            self._slims.setdefault(contact_id, self._pooled(slim))
                        if summary is not None:
                            self._summaries.setdefault(contact_id, shared_summary(summary))
                else:
                    here(pending)
        finally:
            with self._lock:
                self._touched_while_walking = None
                for contact_id in touched:  # maybe classified from a copy older than the edit
                    self._forget(contact_id)
        if progress is not None:
            progress(total, total)
        return cache

    def _pooled(self, slim: dict) -> dict:
        """A slim copy sent back by the forked child, its repeating values shared again
        (in place: a copy would leave the received one behind as garbage)."""
        share_values(slim, self._pool)
        return slim

    def _forget(self, contact_id: int) -> None:
        """Under the lock: drop what was derived from this contact's document."""
        self._classes.pop(contact_id, None)
        self._summaries.pop(contact_id, None)
        self._slims.pop(contact_id, None)

    def select(self, query: str | None = None, sort: str = "attention",
               descending: bool = False) -> list[int]:
        """The ids of the contacts matching ``query``, in ``sort`` order.

        Only ids are kept, so a list of 100,000 costs little; read each row with
        ``row(id)`` when it is shown.
        """
        test = parse_query(query, self.user)
        classes = self.classify_all()
        order = {stage.id: stage.order for stage in self._rules.stages + self._rules.exits}
        key = sort_key(sort, order)
        keyed = []
        # The slim copies the bulk pass kept hold every field the filter and the sort
        # read (but custom fields and updated_at): no document is parsed per keystroke.
        slims = None if test.reads_custom or sort in SORTS_READING_MORE \
            or not _SLIM_KEYS <= self._slim_keys else self._slims
        with bulk_work():
            for contact_id, document in (self._slim_items(slims) if slims is not None
                                         else self._store.items()):
                result = classes.get(contact_id) or self.classification(contact_id)
                if test(document, result):
                    keyed.append((key((contact_id, document, result)), contact_id))
        keyed.sort(reverse=descending)
        return [contact_id for _, contact_id in keyed]

    def _slim_items(self, slims: dict[int, dict]) -> Iterator[tuple[int, dict]]:
        """(id, slim copy) for every contact; the full document where none is kept
        (a contact changed since the last bulk pass)."""
        for contact_id in self._store.ids():
            slim = slims.get(contact_id)
            if slim is None:
                slim = self._store.peek(contact_id)
                if slim is None:
                    continue
            yield contact_id, slim

    def row(self, contact_id: int) -> tuple[dict, Classification]:
        """One contact and its classification, to show. The dict is shared: never mutate it."""
        return self._doc(contact_id), self.classification(contact_id)

    def contacts(self, query: str | None = None, sort: str = "attention") -> list[Row]:
        test = parse_query(query, self.user)
        classes = self.classify_all()
        rows = [(cid, doc, classes[cid]) for cid, doc in self._store.items()
                if test(doc, classes[cid])]
        order = {stage.id: stage.order for stage in self._rules.stages + self._rules.exits}
        rows.sort(key=sort_key(sort, order))
        return [Row(*row) for row in rows]

    def stats(self) -> dict[str, Any]:
        return _count(self.classify_all().values(), self._rules)

    def preview(self, contact_id: int, changes: dict[str, Any]) -> Classification:
        """Classify a draft of the contact with ``changes`` applied; nothing is written.

        Raises FieldError for a value that cannot be stored, like ``edit`` would.
        """
        draft = dict(self._doc(contact_id))
        draft.update(self._validated(changes))
        return classify(draft, self._rules, self._clock())

    # -- writing -----------------------------------------------------------
    def add(self, fields: dict[str, Any], by: str | None = None) -> int:
        return self.add_many([fields], by)[0]

    def add_many(self, items: Iterable[dict[str, Any]], by: str | None = None) -> list[int]:
        """Validate every contact first; then write them all in one go (all or nothing)."""
        by = by or self.user
        now = self._clock()
        with bulk_work():
            documents = self._new_documents(items, now, by)
            with self._lock, self._store.transaction() as remote:
                ids = self._store.insert_many(documents, by=by)
        self._absorb(remote)
        if len(documents) >= BULK_COMPACT:
            self._store.compact()  # fold a big batch into the snapshot rather than the journal
        self._subscribers.notify(ChangeEvent("add", tuple(ids), by))
        return ids

    def _new_documents(self, items: Iterable[dict[str, Any]], now: datetime, by: str
                       ) -> list[dict]:
        documents = []
        for index, fields in enumerate(items):
            try:
                document = new_contact(fields, now)
            except FieldError as error:
                raise FieldError(error.field, f"contact {index + 1}: {error.reason}") from None
            self._check_pin(document.get("stage_pin"))
            result = classify(document, self._rules, now)
            created = min(parse_datetime(document["created_at"]), now)
            document["history"].append(history_entry(created, by, "created", why="added"))
            # The contact reached its stage when its latest evidence arrived, not now:
            # imported and generated contacts carry months of past activity.
            self._set_stage(document, result, _evidence_time(document, now), by)
            documents.append(document)
        return documents

    def edit(self, contact_id: int, changes: dict[str, Any], by: str | None = None,
             why: str | None = None) -> EditResult:
        """Validate, classify, persist and record an edit of some fields."""
        by = by or self.user
        clean = self._validated(changes)
        before = self.classification(contact_id)
        changed: dict[str, tuple[Any, Any]] = {}

        def build(current: dict) -> dict | None:
            changed.clear()
            changed.update({name: (current.get(name), value) for name, value in clean.items()
                            if _empty_as_none(current.get(name)) != _empty_as_none(value)})
            if not changed:
                return None
            now = self._clock()
            new = dict(current)
            new["history"] = list(current["history"])
            for name, (was, value) in changed.items():
                new[name] = value
                new["history"].append(history_entry(now, by, "field", field=name, before=was,
                                                    after=value, why=why))
            self._set_stage(new, classify(new, self._rules, now), now, by,
                            cause=", ".join(changed))
            return new

        self._mutate(contact_id, "edit", by, f"edit {', '.join(clean)}", tuple(clean), build)
        return EditResult(contact_id, dict(changed), before, self.classification(contact_id))

    def move(self, contact_id: int, stage_id: str, why: str, by: str | None = None) -> EditResult:
        """A person moves a contact to a stage. Moving back or out pins the stage."""
        if not (why or "").strip():
            raise FieldError("why", "a reason is required to move a contact by hand")
        target = self._rules.by_id.get(stage_id)
        if target is None:
            raise FieldError("stage", f"{stage_id!r} is not a stage; use one of "
                             + ", ".join(self._rules.stage_ids))
        current = self._rules.by_id.get(self.classification(contact_id).stage)
        backward = current is not None and (target.is_exit or current.is_exit
                                            or target.order < current.order)
        changes: dict[str, Any] = {}
        if backward or self._doc(contact_id).get("stage_pin"):
            changes = {"stage_pin": stage_id, "pin_reason": why.strip()}
        return self._manual_stage(contact_id, target.id, changes, why.strip(), by or self.user)

    def disqualify(self, contact_id: int, reason: str, by: str | None = None) -> EditResult:
        if not (reason or "").strip():
            raise FieldError("reason", "a reason is required to disqualify a contact")
        if "disqualified" not in self._rules.by_id:
            raise FunnelError(f"the rules {self._rules.name!r} have no 'disqualified' exit")
        changes = {"stage_pin": "disqualified", "pin_reason": reason.strip(),
                   "disqualify_reason": reason.strip()}
        return self._manual_stage(contact_id, "disqualified", changes, reason.strip(),
                                  by or self.user)

    def unpin(self, contact_id: int, why: str = "back to automatic", by: str | None = None
              ) -> EditResult:
        return self.edit(contact_id, {"stage_pin": None, "pin_reason": None}, by, why)

    def adjust_score(self, contact_id: int, points: int, reason: str, by: str | None = None
                     ) -> EditResult:
        if points and not (reason or "").strip():
            raise FieldError("score_adjustment_reason", "a reason is required to adjust a score")
        return self.edit(contact_id, {"score_adjustment": points or None,
                                      "score_adjustment_reason": reason.strip() or None
                                      if points else None}, by, reason)

    def log_activity(self, contact_id: int, kind: str, at: str | None = None,
                     count: int = 1, by: str | None = None) -> EditResult:
        by = by or self.user
        activity = validate_activity({"kind": kind, "at": at or format_datetime(self._clock()),
                                      "count": count})
        before = self.classification(contact_id)

        def build(current: dict) -> dict:
            now = self._clock()
            new = dict(current)
            new["activities"] = sorted((current.get("activities") or []) + [activity],
                                       key=lambda a: a["at"])
            new["history"] = current["history"] + [history_entry(now, by, "activity",
                                                                 after=activity)]
            self._set_stage(new, classify(new, self._rules, now), now, by, cause=kind)
            return new

        self._mutate(contact_id, "edit", by, f"log {kind}", (), build)
        return EditResult(contact_id, {}, before, self.classification(contact_id))

    # -- undo / redo ---------------------------------------------------------
    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    @property
    def can_redo(self) -> bool:
        return bool(self._redo)

    def undo(self, by: str | None = None) -> int:
        """Undo this session's last change (stage included); returns the contact id."""
        if not self._undo:
            raise FunnelError("nothing to undo")
        step = self._undo.pop()
        self._restore(step, step.before, "undo", by or self.user)
        self._redo.append(step)
        return step.contact_id

    def redo(self, by: str | None = None) -> int:
        if not self._redo:
            raise FunnelError("nothing to redo")
        step = self._redo.pop()
        self._restore(step, step.after, "redo", by or self.user)
        self._undo.append(step)
        return step.contact_id

    # -- subscriptions -------------------------------------------------------
    def subscribe(self, callback: Callable[[ChangeEvent], None]) -> Callable[[], None]:
        """Call ``callback(event)`` after every change; returns the unsubscribe function."""
        self._subscribers.callbacks.append(callback)
        return lambda: self._subscribers.callbacks.remove(callback)

    def refresh(self) -> set[int]:
        """Take in what other processes committed; subscribers hear a "remote" event."""
        ids = self._store.refresh()
        self._absorb(ids)
        return ids

    @property
    def warnings(self) -> list[str]:
        """What opening the database had to work around (e.g. a torn last record)."""
        return list(self._store.warnings)

    # -- batches: imports (engine/importer.py plans them, this commits) ------------
    @property
    def version(self) -> int:
        """Changes with every commit this session has seen, its own or another's."""
        return self._store.version

    def documents(self) -> Iterator[tuple[int, dict]]:
        """Every (id, contact) for one pass. The dicts are shared: never mutate them."""
        return self._store.items()

    def apply_import(self, plan: Any, *, skip_bad: bool = False, by: str | None = None,
                     progress: Callable[[str, int, int], None] | None = None) -> Any:
        """Write an ``engine.importer.plan_import`` plan: all rows or none (``skip_bad``
        leaves out the rows with errors). Returns an ``ImportResult``."""
        from funnel.engine.transfer.importer import apply_import

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
        now = self._clock()
        total = len(creates) + len(updates)
        documents: list[tuple[dict, str]] = []  # checked and encoded outside the lock
        puts: dict[int, tuple[dict, str]] = {}
        encode = self._store.encode
        with bulk_work():
            for index, item in enumerate(creates):
                documents.append(encode(self._batch_new(item, now, by),
                                        f"new contact {index + 1}"))
                if progress is not None and index % 500 == 499:
                    progress("write", index + 1, total)
            for index, update in enumerate(updates):
                puts[update.contact_id] = encode(self._batch_update(update, now, by),
                                                 f"contact {update.contact_id}")
                if progress is not None and index % 500 == 499:
                    progress("write", len(creates) + index + 1, total)
        if not documents and not puts:
            return BatchResult()
        remote: set[int] = set()
        try:
            with self._lock, self._store.transaction() as remote:
                locked = time.perf_counter()
                if version is not None and self._store.version != version:
                    raise StaleBatch("the database changed since the import was planned")
                ids = self._store.write_many(documents, puts, by=by)
            held = time.perf_counter() - locked
        except StaleBatch:
            self._absorb(remote)
            raise
        self._absorb(remote)
        with self._lock:
            for contact_id in puts:
                if self._touched_while_walking is not None:
                    self._touched_while_walking.add(contact_id)
                self._forget(contact_id)
        if len(documents) + len(puts) >= BULK_COMPACT:
            self._store.compact()  # fold a big batch into the snapshot rather than the journal
        if progress is not None:
            progress("write", total, total)
        if ids:
            self._subscribers.notify(ChangeEvent("add", tuple(ids), by))
        if puts:
            self._subscribers.notify(ChangeEvent("edit", tuple(puts), by))
        return BatchResult(ids, list(puts), held)

    def _batch_new(self, item: NewContact, now: datetime, by: str) -> dict:
        document = new_contact(item.fields, now)
        self._check_pin(document.get("stage_pin"))
        created = min(parse_datetime(document["created_at"]), now)
        document["history"].append(history_entry(created, by, "created", why=item.why))
        if item.stage is not None:
            stage = self._rules.by_id.get(item.stage)
            if stage is None:
                raise FieldError("stage", f"{item.stage!r} is not a stage; use one of "
                                 + ", ".join(self._rules.stage_ids))
            since = min(parse_datetime(item.stage_since), now) if item.stage_since \
                else _evidence_time(document, now)
            document["history"].append(history_entry(since, by, "stage", field="stage",
                                                     before=None, after=stage.id,
                                                     why=item.why))
            document["stage"] = stage.id
            document["stage_since"] = format_datetime(since)
            document["stage_rules"] = self._rules.name
        result = classify(document, self._rules, now)
        self._set_stage(document, result, _evidence_time(document, now), by)
        return document

    def _batch_update(self, update: BatchUpdate, now: datetime, by: str) -> dict:
        current = self._store.get(update.contact_id)
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
                    self._check_pin(value)
                history.append(history_entry(now, by, "field", field=name, before=was,
                                             after=value, why=why))
            new[name] = value
        if update.stage is not None and not new.get("stage_pin"):
            target = self._rules.by_id.get(update.stage)
            shown = self._rules.by_id.get(classify(current, self._rules, now).stage)
            if target is not None and shown is not None and not shown.is_exit \
                    and not target.is_exit and target.order > shown.order:
                history.append(history_entry(now, by, "stage", field="stage",
                                             before=shown.id, after=target.id, why=why))
                new["stage"] = target.id
                new["stage_since"] = format_datetime(now)
                new["stage_rules"] = self._rules.name
        new["history"] = history
        self._set_stage(new, classify(new, self._rules, now), now, by,
                        cause=", ".join(update.changes) or "stage")
        new = compact_document(new)
        new["rev"] = int(current.get("rev") or 0) + 1
        new["updated_at"] = format_datetime(now)
        return new

    # -- internals -----------------------------------------------------------
    def _doc(self, contact_id: int) -> dict:
        document = self._store.get(contact_id)
        if document is None:
            raise NotFound(f"no contact with id {contact_id}")
        return document

    def _refresh_clock(self) -> None:
        # Decay, rotting and overdue depend on the day; re-derive when it turns.
        now = self._clock()
        if self._classified_at is None or now.date() != self._classified_at.date():
            self._classes.clear()
            self._summaries.clear()
            self._classified_at = now
        self._now = self._classified_at

    def _validated(self, changes: dict[str, Any]) -> dict[str, Any]:
        clean = validate_changes(changes)
        if "stage_pin" in clean:
            self._check_pin(clean["stage_pin"])
        return clean

    def _check_pin(self, stage_id: str | None) -> None:
        if stage_id is not None and stage_id not in self._rules.by_id:
            raise FieldError("stage_pin", f"{stage_id!r} is not a stage; use one of "
                             + ", ".join(self._rules.stage_ids))

    def _set_stage(self, document: dict, result: Classification, now: datetime, by: str,
                   cause: str | None = None) -> None:
        """Record an automatic stage transition the classification calls for."""
        current = document.get("stage") if document.get("stage_rules") == self._rules.name \
            else None
        if result.stage == current:
            return
        why = result.stage_reason
        if cause:
            why += f" (after {by} changed {cause})"
        actor = by if result.manual else f"rule:stage.{result.stage}"
        document["history"] = list(document["history"]) + [
            history_entry(now, actor, "stage", field="stage", before=current,
                          after=result.stage, why=why)]
        document["stage"] = result.stage
        document["stage_since"] = format_datetime(now)
        document["stage_rules"] = self._rules.name

    def _manual_stage(self, contact_id: int, stage_id: str, changes: dict[str, Any], why: str,
                      by: str) -> EditResult:
        before = self.classification(contact_id)
        clean = self._validated(changes)
        changed: dict[str, tuple[Any, Any]] = {}

        def build(current: dict) -> dict | None:
            now = self._clock()
            new = dict(current)
            new["history"] = list(current["history"])
            changed.clear()
            for name, value in clean.items():
                if _empty_as_none(current.get(name)) != _empty_as_none(value):
                    changed[name] = (current.get(name), value)
                    new[name] = value
                    new["history"].append(history_entry(now, by, "field", field=name,
                                                        before=current.get(name), after=value,
                                                        why=why))
            shown = classify(current, self._rules, now).stage
            if shown != stage_id:
                new["history"].append(history_entry(now, by, "stage", field="stage",
                                                    before=shown, after=stage_id, why=why))
                new["stage"] = stage_id
                new["stage_since"] = format_datetime(now)
                new["stage_rules"] = self._rules.name
            return None if new == current else new

        self._mutate(contact_id, "move", by, f"move to {stage_id}",
                     tuple(clean) + ("stage",), build)
        return EditResult(contact_id, dict(changed), before, self.classification(contact_id))

    def _mutate(self, contact_id: int, kind: str, by: str, label: str,
                touched: tuple[str, ...], build: Callable[[dict], dict | None], *,
                expect_rev: int | None = None, record_undo: bool = True) -> dict | None:
        """The one write path: lock, catch up, check for a conflict, build, commit, tell.

        ``build`` gets the contact as it is now on disk (which may be newer than what
        this session showed) and returns the new document, or None for no change.
        Another process's change to a field this edit also changes is a conflict;
        changes to other fields are kept and this edit applies on top of them.
        """
        with self._lock:
            if self._touched_while_walking is not None:
                self._touched_while_walking.add(contact_id)
            return self._mutate_unlocked(contact_id, kind, by, label, touched, build,
                                         expect_rev, record_undo)

    def _mutate_unlocked(self, contact_id: int, kind: str, by: str, label: str,
                         touched: tuple[str, ...], build: Callable[[dict], dict | None],
                         expect_rev: int | None, record_undo: bool) -> dict | None:
        base = self._doc(contact_id)
        try:
            return self._mutate_locked(contact_id, kind, by, label, touched, build, base,
                                       expect_rev, record_undo)
        except FunnelError as error:
            # Refused: still show what the others committed, this contact included.
            remote = getattr(error, "remote", set())
            if remote or isinstance(error, (Conflict, NotFound)):
                self._absorb(remote | {contact_id})
            raise

    def _mutate_locked(self, contact_id: int, kind: str, by: str, label: str,
                       touched: tuple[str, ...], build: Callable[[dict], dict | None],
                       base: dict, expect_rev: int | None, record_undo: bool) -> dict | None:
        remote: set[int] = set()
        try:
            with self._store.transaction() as remote:
                current = self._mutate_inside(contact_id, kind, label, touched, base,
                                              expect_rev)
                new = build(current)
                if new is not None:
                    new = compact_document(new)
                    new["rev"] = int(current.get("rev") or 0) + 1
                    new["updated_at"] = format_datetime(self._clock())
                    self._store.put(contact_id, new, by=by)
        except FunnelError as error:
            error.remote = remote  # type: ignore[attr-defined]
            raise
        self._absorb(remote - {contact_id})
        if new is None:
            if current is not base:
                self._absorb({contact_id})
            return None
        self._forget(contact_id)
        if record_undo:
            self._undo.append(_UndoStep(contact_id, _snapshot(current), _snapshot(new),
                                        new["rev"], label))
            self._redo.clear()
        self._subscribers.notify(ChangeEvent(kind, (contact_id,), by))
        return new

    def _mutate_inside(self, contact_id: int, kind: str, label: str, touched: tuple[str, ...],
                       base: dict, expect_rev: int | None) -> dict:
        """Under the lock: the contact as it is now, or a refusal."""
        current = self._store.get(contact_id)
        if current is None:
            raise NotFound(f"no contact with id {contact_id} (deleted by someone else)")
        if expect_rev is not None and current.get("rev") != expect_rev:
            raise FunnelError(f"contact {contact_id} changed since; cannot {kind} "
                              f"'{label}'")
        if current.get("rev") != base.get("rev"):
            clash = [name for name in touched
                     if _empty_as_none(current.get(name)) != _empty_as_none(base.get(name))]
            if clash:
                raise Conflict(_conflict_message(contact_id, current, clash))
        return current

    def _absorb(self, ids: set[int]) -> None:
        """Bring this session's copies up to date with documents others changed."""
        if not ids:
            return
        with self._lock:
            if self._touched_while_walking is not None:
                self._touched_while_walking.update(ids)
            for contact_id in ids:
                self._forget(contact_id)
        self._subscribers.notify(ChangeEvent("remote", tuple(sorted(ids)), "another session"))

    def _restore(self, step: _UndoStep, target: dict[str, Any], kind: str, by: str) -> None:
        def build(current: dict) -> dict:
            now = self._clock()
            new = dict(current)
            new["history"] = list(current["history"])
            for name in _RESTORED:
                if current.get(name) != target.get(name):
                    if name not in ("stage_since", "stage_rules", "activities"):
                        new["history"].append(history_entry(
                            now, by, "stage" if name == "stage" else "field", field=name,
                            before=current.get(name), after=target.get(name),
                            why=f"{kind} of '{step.label}'"))
                    new[name] = copy.deepcopy(target.get(name))
            return new

        new = self._mutate(step.contact_id, kind, by, step.label, (), build,
                           expect_rev=step.rev, record_undo=False)
        if new is not None:
            step.rev = new["rev"]


def _empty_as_none(value: Any) -> Any:
    return None if value in ("", [], {}) else value


def _conflict_message(contact_id: int, current: dict, fields: list[str]) -> str:
    last = next((entry for entry in reversed(current.get("history") or [])
                 if entry.get("field") in fields), None)
    who = f" by {last['by']}" if last else ""
    name = current.get("name") or current.get("email") or "no name"
    return (f"conflict on contact {contact_id} ({name}): {', '.join(fields)} changed{who} "
            "since you loaded it; your edit was not saved (reload and try again)")


@contextmanager
def bulk_work():
    """Pause the cyclic garbage collector while building or walking 100,000 documents.

    Each collection would scan every live dict; our documents hold no cycles, and
    pausing measured 1.5x faster for a full reclassification.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _evidence_time(document: dict, now: datetime) -> datetime:
    moments = [document["created_at"]] + [a["at"] for a in (document.get("activities") or [])[-1:]]
    latest = parse_datetime(max(moments))
    return min(latest, now)


def _compact(result: Classification) -> tuple:
    """A classification without its explanation, as plain values (marshal-able)."""
    return (result.stage, result.rules_stage, result.stage_reason, result.manual, result.score,
            result.raw_score, result.fit, result.engagement, result.grade, result.temperature,
            result.lead_type, result.next_action, result.rotting, result.overdue)


def _merge_counts(first: dict[str, Any], second: dict[str, Any]) -> dict[str, Any]:
    """Two halves' counts (from ``_count``) as one."""
    merged = dict(first)
    for key, value in second.items():
        if isinstance(value, dict):
            group = dict(first.get(key) or {})
            for name, count in value.items():
                group[name] = group.get(name, 0) + count
            merged[key] = group
        elif isinstance(value, int) and not isinstance(value, bool):
            merged[key] = first.get(key, 0) + value
    return merged


def _snapshot(document: dict) -> dict[str, Any]:
    return {name: copy.deepcopy(document.get(name)) for name in _RESTORED}


def _count(results: Iterable[Classification], rules: Rules) -> dict[str, Any]:
    """Counts by stage, temperature, grade and lead type; ``results`` is read once
    (a stream: the classifications need not all be held at once)."""
    stages = {stage_id: 0 for stage_id in rules.stage_ids}
    temperatures = {"hot": 0, "warm": 0, "cold": 0}
    grades = {"1": 0, "2": 0, "3": 0, "4": 0}
    lead_types = {choice.value: 0 for choice in rules.lead_types}
    lead_types.setdefault(rules.lead_type_default or "none", 0)
    rotting = overdue = total = 0
    for result in results:
        total += 1
        stages[result.stage] = stages.get(result.stage, 0) + 1
        temperatures[result.temperature] = temperatures.get(result.temperature, 0) + 1
        grades[str(result.grade)] += 1
        key = result.lead_type or "none"
        lead_types[key] = lead_types.get(key, 0) + 1
        rotting += result.rotting
        overdue += result.overdue
    return {"total": total, "rules": rules.name, "stages": stages,
            "temperatures": temperatures, "grades": grades, "lead_types": lead_types,
            "rotting": rotting, "overdue": overdue}
