"""The workspace's methods for logged work, duplicates and merges (issue #15), mixed
into ``Workspace`` so the façade stays small: each hands over to the part that does
the work (``work_log``, ``duplicates``, ``merge``)."""

from __future__ import annotations

from typing import Sequence

from funnel.engine.model.people_text import check_reason
from funnel.engine.store.contacts import ContactStore
from funnel.engine.workspace.bulk import bulk_work
from funnel.engine.workspace.cache import ClassificationCache
from funnel.engine.workspace.many import Outcome
from funnel.engine.workspace.duplicates import DuplicateGroup, duplicates_of, find_duplicates
from funnel.engine.workspace.merge import Merger, MergeResult
from funnel.engine.workspace.shared import Shared
from funnel.engine.workspace.undo import UndoHistory
from funnel.engine.workspace.work_log import LoggedWork, WorkLog
from funnel.engine.workspace.writer import Writer


class DeskWork:
    """Mixed into ``Workspace``, which sets these parts up."""

    _store: ContactStore
    _shared: Shared
    _cache: ClassificationCache
    _writer: Writer
    _undo: UndoHistory

    def _by(self, by: str | None) -> str:
        raise NotImplementedError  # Workspace's: this session's user unless named

    def select(self, query: str | None = None, sort: str = "attention",
               descending: bool = False) -> list[int]:
        raise NotImplementedError  # Workspace's

    def log_activity(self, contact_id: int, kind: str, at: str | None = None,
                     count: int = 1, by: str | None = None, *, note: str | None = None,
                     outcome: str | None = None, follow_up: str | None = None
                     ) -> LoggedWork:
        """Record an activity (work logged: a call, an email sent, a meeting, a note),
        with an optional note and outcome, and set the follow-up date unless
        ``follow_up`` is None ("" clears it): one commit, one undo step."""
        return WorkLog(self._shared, self._cache, self._writer, self._undo).log(
            contact_id, kind, at, count, self._by(by), note=note, outcome=outcome,
            follow_up=follow_up)

    def log_activity_many(self, ids: Sequence[int], kind: str, at: str | None = None,
                          count: int = 1, by: str | None = None, *, note: str | None = None,
                          outcome: str | None = None, follow_up: str | None = None
                          ) -> Outcome:
        """``log_activity`` on every contact of ``ids``: one commit, one undo step."""
        return WorkLog(self._shared, self._cache, self._writer, self._undo).log_many(
            ids, kind, at, count, self._by(by), note=note, outcome=outcome,
            follow_up=follow_up)

    def duplicates(self) -> list[DuplicateGroup]:
        """Groups of likely duplicates (``engine.workspace.duplicates`` says what
        counts as the same): one pass over the contacts, grouped by keys."""
        with bulk_work():
            return find_duplicates(self._store.items())

    def duplicates_of(self, contact_id: int) -> DuplicateGroup | None:
        """``contact_id``'s group of likely duplicates, with the reasons: the group
        found over the columns (``duplicate:ID``), only its documents read."""
        ids = self.select(f"duplicate:{contact_id}")
        documents = ((other, self._store.get(other)) for other in ids)
        found = find_duplicates((other, document) for other, document in documents
                                if document is not None)  # (one removed meanwhile: left out)
        return duplicates_of(contact_id, found)

    def merge(self, keep_id: int, other_id: int, by: str | None = None,
              why: str | None = None) -> MergeResult:
        """Merge ``other_id`` into ``keep_id`` and delete it: one commit, one undo step."""
        return Merger(self._shared, self._cache, self._writer, self._undo).merge(
            keep_id, other_id, self._by(by), check_reason(why, "why"))
