"""What the workspace derives from the documents and keeps: classifications, and the
slim copies and activity summaries that make a bulk pass cheap.

Classifications are valid until an edit, a rules change or a new day. Slim copies
(what rules read; no history) and activity summaries do not depend on the rules, so a
rules change reclassifies without parsing the documents again. Above
``forked.MIN_ITEMS`` a forked child does half of a bulk pass.
"""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any, Callable, Iterable, Iterator, Sequence

from funnel.engine.model import FIELDS
from funnel.engine.rules.classify import Classification, classify
from funnel.engine.rules.facts import (ActivitySummary, share_values, shared_summary,
                                       slim_contact, summarise_activities)
from funnel.engine.rules.ruleset import Rules
from funnel.engine.workspace import forked
from funnel.engine.workspace.bulk import (PROGRESS_EVERY, Counts, Plain, bulk_work, count,
                                          from_plain_values, merge_counts, plain_values)
from funnel.engine.workspace.shared import Shared

Progress = Callable[[int, int], None]  # (done, total); may raise to stop early
Inputs = tuple[dict, ActivitySummary]  # what classify reads of one contact
# What slim copies keep whatever the rules read (so switching presets keeps them): every
# field but the long free texts no shipped rule reads. A dict's own size dominates, so
# the fields left out would save little more.
SLIM_KEYS = (frozenset(FIELDS) | {"stage", "stage_since", "stage_rules"}) - {
    "notes", "outcome_reason", "disqualify_reason"}
# What a forked child sends back per contact: its id, its classification, and the slim
# copy and summary it had to make (None when this process already keeps them).
_Sent = tuple[int, Plain, dict | None, ActivitySummary | None]


class ClassificationCache:
    def __init__(self, shared: Shared) -> None:
        self._shared = shared
        self._classes: dict[int, Classification] = {}
        # Activity summaries, valid for one day and one half-life, whatever the rules.
        self._summaries: dict[int, ActivitySummary] = {}
        self._summaries_half_life: float | None = None
        # Slim copies of the contacts (what rules read; no history): valid until an edit.
        self._slims: dict[int, dict] = {}
        self._slim_keys: frozenset[str] = frozenset()
        self._pool: dict[str, str] = {}  # repeating values the slim copies share
        self._classified_at: datetime | None = None
        # One bulk pass at a time: a second caller (another tab's worker) waits for the
        # first and then finds everything classified, instead of doing it all again.
        self._pass_lock = threading.Lock()
        self._touched_while_walking: set[int] | None = None

    # -- one contact -------------------------------------------------------
    def classification(self, contact_id: int) -> Classification:
        self._shared.document(contact_id)
        now = self._refresh_clock()
        found = self._classes.get(contact_id)
        if found is None or found.explanation is None:  # none, or derived without one
            found = self._classes[contact_id] = classify(
                self._shared.document(contact_id), self._shared.rules, now)
        return found

    def explained(self, contact_id: int) -> Classification:
        """The classification with its explanation, without keeping the explanation."""
        document = self._shared.document(contact_id)
        now = self._refresh_clock()
        found = self._classes.get(contact_id)
        if found is not None and found.explanation is not None:
            return found
        return classify(document, self._shared.rules, now)

    # -- forgetting ----------------------------------------------------------
    def forget(self, ids: Iterable[int]) -> None:
        """Drop what was derived from these contacts' documents (they changed)."""
        with self._shared.lock:
            for contact_id in ids:
                if self._touched_while_walking is not None:
                    self._touched_while_walking.add(contact_id)
                self._classes.pop(contact_id, None)
                self._summaries.pop(contact_id, None)
                self._slims.pop(contact_id, None)

    def rules_changed(self) -> None:
        """Every classification is re-derived on next use (the slim copies and summaries
        are kept: they do not depend on the rules)."""
        self._classes.clear()

    # -- every contact -------------------------------------------------------
    def classify_all(self, progress: Progress | None = None) -> dict[int, Classification]:
        """Classify every contact; bulk results carry no explanation. Another thread may
        edit meanwhile (contacts it touches are re-derived on their next use)."""
        with self._shared.lock:
            self._refresh_clock()
            if len(self._classes) >= len(self._shared.store):
                return self._classes
        with self._pass_lock:
            return self._classify_pending(progress)

    def _classify_pending(self, progress: Progress | None) -> dict[int, Classification]:
        store = self._shared.store
        with self._shared.lock:
            now = self._refresh_clock()
            rules, cache = self._shared.rules, self._classes
            self._prepare_caches(rules)
            total = len(store)
            if len(cache) >= total:
                return cache
            pending = [contact_id for contact_id in store.ids() if contact_id not in cache]
            touched: set[int] = set()
            self._touched_while_walking = touched
        already = total - len(pending)

        def report(done: int, _total: int) -> None:
            if progress is not None:
                progress(min(total, already + done), total)

        def here(ids: Sequence[int], pace: int = 1) -> None:
            for start in range(0, len(ids), PROGRESS_EVERY):
                part = ids[start:start + PROGRESS_EVERY]
                results = list(self._walk(part, rules, now, None))
                with self._shared.lock:
                    for contact_id, result in zip(part, results):
                        cache.setdefault(contact_id, result)
                if start + PROGRESS_EVERY < len(ids):  # the caller reports the end
                    report(pace * (start + len(part)), total)

        def there(ids: Sequence[int]) -> list[_Sent]:
            sent: list[_Sent] = []
            for contact_id in ids:
                slim, summary = self._slims.get(contact_id), self._summaries.get(contact_id)
                found = self._inputs(contact_id, rules, now, keep=False)
                if found is None:
                    continue
                result = classify(found[0], rules, now, found[1], explain=False)
                sent.append((contact_id, plain_values(result),
                             found[0] if slim is None else None,
                             found[1] if summary is None else None))
            return sent

        try:
            with bulk_work():
                if len(pending) >= forked.MIN_ITEMS and forked.can_fork():
                    received = forked.split_pass(
                        pending, lambda half: here(half, 2), there)
                    for contact_id, plain, slim, summary in received:
                        cache.setdefault(contact_id, from_plain_values(plain))
                        if slim is not None:
                            self._slims.setdefault(contact_id, self._pooled(slim))
                        if summary is not None:
                            self._summaries.setdefault(contact_id, shared_summary(summary))
                else:
                    here(pending)
        finally:
            with self._shared.lock:
                self._touched_while_walking = None
                self.forget(touched)  # maybe classified from a copy older than an edit
        if progress is not None:
            progress(total, total)
        return cache

    def preview_rules(self, rules: Rules, progress: Progress | None = None) -> Counts:
        """Counts under other rules, without switching; edits from another thread wait
        at most for one chunk."""
        with self._pass_lock:
            with self._shared.lock:
                now = self._refresh_clock()
                if not self._slim_keys:
                    self._prepare_caches(self._shared.rules)
                # Rules that read what the caches do not hold are walked from the
                # documents, leaving the caches as the active rules need them.
                own = rules.half_life_days == self._summaries_half_life \
                    and rules.contact_keys <= self._slim_keys
                ids = self._shared.store.ids()
            total = len(ids)
            with bulk_work():
                if total >= forked.MIN_ITEMS and forked.can_fork():
                    # The child counts its half and sends back only the counts.
                    mine: list[Counts] = []
                    theirs = forked.split_pass(
                        ids, lambda half: mine.append(count(
                            self._walk(half, rules, now, progress, 2, keep=own, own=own),
                            rules)),
                        lambda half: count(self._walk(half, rules, now, None, 1,
                                                      keep=False, own=own), rules))
                    counts = merge_counts(mine[0], theirs)
                else:
                    counts = count(self._walk(ids, rules, now, progress, keep=own, own=own),
                                   rules)
        if progress is not None:
            progress(total, total)
        return counts

    def readable(self, full: bool) -> Iterator[tuple[int, dict]]:
        """(id, contact) for a filter or a sort: the slim copies the last bulk pass kept
        (every field but custom fields and updated_at), or the documents when ``full``
        or no slim copies are kept. Never mutate the dicts."""
        if full or not SLIM_KEYS <= self._slim_keys:
            yield from self._shared.store.items()
            return
        slims = self._slims
        for contact_id in self._shared.store.ids():
            slim = slims.get(contact_id)
            if slim is None:  # changed since the last bulk pass
                slim = self._shared.store.peek(contact_id)
                if slim is None:
                    continue
            yield contact_id, slim

    # -- internals -------------------------------------------------------------
    def _refresh_clock(self) -> datetime:
        """The moment classifications are made for: decay, rotting and overdue depend
        on the day, so everything is re-derived when it turns."""
        now = self._shared.clock()
        if self._classified_at is None or now.date() != self._classified_at.date():
            self._classes.clear()
            self._summaries.clear()
            self._classified_at = now
        return self._classified_at

    def _prepare_caches(self, rules: Rules) -> None:
        """Under the lock: make the slim copies and summaries fit ``rules``."""
        if self._summaries_half_life != rules.half_life_days:
            self._summaries.clear()
            self._summaries_half_life = rules.half_life_days
        if not rules.contact_keys <= self._slim_keys:  # these rules read other fields
            self._slims.clear()
            self._slim_keys = self._slim_keys | rules.contact_keys | SLIM_KEYS

    def _foreign_inputs(self, contact_id: int, now: datetime, rules: Rules) -> Inputs | None:
        """What ``rules`` need of one contact, from its document, touching no cache."""
        document = self._shared.store.peek(contact_id)
        if document is None:
            return None
        return document, summarise_activities(document, now, rules.half_life_days)

    def _inputs(self, contact_id: int, rules: Rules, now: datetime, keep: bool = True
                ) -> Inputs | None:
        """Under the lock: the slim contact and its activity summary, from the caches,
        parsing the document only for what is missing (kept unless ``keep`` is False).
        ``rules`` fit the caches (``_prepare_caches``)."""
        slim = self._slims.get(contact_id)
        summary = self._summaries.get(contact_id)
        if slim is None or summary is None:
            document = self._shared.store.peek(contact_id)
            if document is None:
                return None
            if summary is None:
                summary = summarise_activities(document, now, rules.half_life_days)
                if keep:
                    self._summaries[contact_id] = summary
            if slim is None:
                slim = slim_contact(document, self._slim_keys, self._pool)
                if keep:
                    self._slims[contact_id] = slim
        return slim, summary

    def _walk(self, ids: Sequence[int], rules: Rules, now: datetime,
              progress: Progress | None, pace: int = 1, keep: bool = True,
              own: bool = True) -> Iterator[Classification]:
        """Classify ``ids`` (no explanations) chunk by chunk under the lock; ``pace``
        scales the progress reported (2 when a forked child does as much meanwhile).
        ``own=False``: rules the caches do not fit, read from the documents alone."""
        total = len(self._shared.store)
        for start in range(0, len(ids), PROGRESS_EVERY):
            with self._shared.lock:
                chunk = []
                for contact_id in ids[start:start + PROGRESS_EVERY]:
                    found = self._inputs(contact_id, rules, now, keep) if own \
                        else self._foreign_inputs(contact_id, now, rules)
                    if found is not None:
                        chunk.append(classify(found[0], rules, now, found[1], explain=False))
            yield from chunk
            if progress is not None and start + PROGRESS_EVERY < len(ids):  # the end: caller
                progress(min(total, pace * (start + PROGRESS_EVERY)), total)

    def _pooled(self, slim: dict[str, Any]) -> dict[str, Any]:
        """A slim copy sent back by the forked child, its repeating values shared again
        (in place: a copy would leave the received one behind as garbage)."""
        share_values(slim, self._pool)
        return slim
