"""What the workspace derives from the documents and keeps.

Two kinds: the classification of single contacts with their explanation (what a card
or a row on screen shows; valid until an edit, a rules change or a new day), and the
columns of every contact with their classification (``ColumnState``: what lists,
counts, previews and the learned likelihood read). Both hear of every change through
``forget``. Nothing here holds the lock while calling a caller's progress function.
"""

from __future__ import annotations

import functools
from datetime import datetime, timedelta
from typing import Any, Callable, Iterable, TypeVar

import numpy as np

from funnel.engine.columns.encoded import Coded
from funnel.engine.columns.stage_log import StageMoves, stage_moves
from funnel.engine.columns.stored_values import StoredValuesDamaged
from funnel.engine.columns.table import ContactColumns
from funnel.engine.learn.from_columns import scored_from_columns
from funnel.engine.learn.model_file import Model
from funnel.engine.rules.classify import Classification, classify
from funnel.engine.rules.ruleset import Rules
from funnel.engine.workspace.column_rows import (ColumnClassifications, Counts,
                                                 column_counts)
from funnel.engine.workspace.column_prefetch import ColumnPrefetch
from funnel.engine.workspace.column_state import ColumnState
from funnel.engine.workspace.likely_column import LikelihoodColumn, Scored
from funnel.engine.workspace.list_context import ListContext
from funnel.engine.workspace.query import parse_query
from funnel.engine.workspace.shared import Shared
from funnel.engine.workspace.sorting import order_rows
from funnel.engine.workspace.value_tables import ValueTables

Progress = Callable[[int, int], None]  # (done, total); may raise to stop early
CLOCK_STEP = timedelta(minutes=5)  # a deadline passing is seen within this


Answer = TypeVar("Answer")


def _rebuilt_if_damaged(method: Callable[..., Answer]) -> Callable[..., Answer]:
    """A cache's values found damaged while answering (they are parsed when first
    needed, after the cache was taken): the columns are built from the store and the
    question is asked once more, as a cache found damaged on reading would be."""
    @functools.wraps(method)
    def answer(self: "ClassificationCache", *args: Any, **kwargs: Any) -> Answer:
        try:
            return method(self, *args, **kwargs)
        except StoredValuesDamaged:
            with self._shared.lock:
                self._columns.drop_damaged()
                self._values, self._orders = ValueTables(), (None, {})
            return method(self, *args, **kwargs)
    return answer


class ClassificationCache:
    def __init__(self, shared: Shared, prefetch: ColumnPrefetch | None = None) -> None:
        self._shared = shared
        self._classes: dict[int, Classification] = {}
        self._classified_at: datetime | None = None
        self._columns = ColumnState(shared, prefetch)
        self._values = ValueTables()
        self._likely = LikelihoodColumn(shared)
        # Every row in each sort order asked for, for one classification: a filter or
        # a view then takes its rows from it in one pass instead of sorting again.
        self._orders: tuple[object, dict[str, np.ndarray]] = (None, {})

    # -- one contact -------------------------------------------------------
    def classification(self, contact_id: int) -> Classification:
        """One contact's classification with its explanation (kept until it changes).
        Not under the workspace lock: a bulk pass holding it must not hold up the rows
        a screen draws (the document is the store's current one, read once)."""
        document = self._shared.document(contact_id)
        now = self._refresh_clock()
        found = self._classes.get(contact_id)
        if found is None:
            found = classify(document, self._shared.rules, now,
                             likelihood=self._percent(contact_id))
            if self._shared.document(contact_id) is document:  # unchanged meanwhile
                self._classes[contact_id] = found
        return found

    def _percent(self, contact_id: int) -> float | None:
        """The contact's learned chance in %, when the rules read it (else None)."""
        if not self._shared.rules.reads_likelihood:
            return None
        found = self.likelihood_of(contact_id)
        return None if found is None else found * 100.0

    def explained(self, contact_id: int) -> Classification:
        """The classification with its explanation, without keeping it."""
        found = self._classes.get(contact_id)
        document = self._shared.document(contact_id)
        now = self._refresh_clock()
        if found is not None:
            return found
        return classify(document, self._shared.rules, now, likelihood=self._percent(contact_id))

    # -- forgetting ----------------------------------------------------------
    def forget(self, ids: Iterable[int]) -> None:
        """Drop what was derived from these contacts' documents (they changed)."""
        with self._shared.lock:
            ids = list(ids)
            for contact_id in ids:
                self._classes.pop(contact_id, None)
            self._columns.forget(ids)

    def rules_changed(self) -> None:
        """Every classification is derived again on next use (the columns are kept:
        they do not depend on the rules)."""
        with self._shared.lock:
            self._classes.clear()

    # -- every contact -------------------------------------------------------
    @_rebuilt_if_damaged
    def classify_all(self, progress: Progress | None = None) -> ColumnClassifications:
        """Every contact's classification by id (no explanations), made when read.
        ``progress`` hears the start and the end, never while the lock is held (a front
        end's callback may wait for a thread that waits for the lock)."""
        self._report_start(progress)
        self._columns.ensure()
        with self._shared.lock:
            found = self._columns.classified(self._refresh_clock(), self._chances)
            answer = ColumnClassifications(found.table, found.result, found.rules)
        if progress is not None:
            progress(len(answer), len(answer))
        return answer

    def _report_start(self, progress: Progress | None) -> None:
        if progress is not None and not self._columns.ready:
            progress(0, len(self._shared.store))

    @_rebuilt_if_damaged
    def counts(self) -> Counts:
        self._columns.ensure()
        with self._shared.lock:
            found = self._columns.classified(self._refresh_clock(), self._chances)
            return column_counts(found.table, found.result, found.rules)

    @_rebuilt_if_damaged
    def preview_rules(self, rules: Rules, progress: Progress | None = None) -> Counts:
        """Counts under other rules, without switching."""
        self._report_start(progress)
        self._columns.ensure()
        with self._shared.lock:
            now = self._refresh_clock()
            table = self._columns.table()
            counts = column_counts(table, self._columns.preview(rules, now, self._chances),
                                   rules)
        if progress is not None:  # over columns it is one step: say it is done
            progress(counts["total"], counts["total"])
        return counts

    @_rebuilt_if_damaged
    def select(self, query: str | None, sort: str, descending: bool, me: str | None
               ) -> list[int]:
        """The ids matching ``query`` in ``sort`` order (see ``Workspace.select``)."""
        parsed = parse_query(query, me)  # a bad query fails before any work
        self._columns.ensure()
        with self._shared.lock:
            found = self._columns.classified(self._refresh_clock(), self._chances)
            context = ListContext(found.table, found.result, found.rules, found.now,
                                  self._values, self._custom_column, me,
                                  likelihood_reader=lambda: self._likely.per_row(
                                      found.table, found.now))
            mask = parsed.mask(context)
            ordered = self._sorted(found, context, sort)
            ordered = ordered[mask[ordered]]
            return found.table.id_array()[ordered[::-1] if descending else ordered].tolist()

    def _sorted(self, found: object, context: ListContext, sort: str) -> np.ndarray:
        """Every row in ``sort`` order (ties by id), kept while ``found`` is current. The
        likelihood is not kept: a model saved meanwhile changes it, not ``found``."""
        kept_for, orders = self._orders
        if kept_for is not found:
            orders = {}
            self._orders = (found, orders)
        ordered = orders.get(sort)
        if ordered is None:
            ordered = order_rows(context, np.arange(context.table.rows), sort, False)
            if sort != "likely":
                orders[sort] = ordered
        return ordered

    @_rebuilt_if_damaged
    def stage_moves(self) -> StageMoves:
        """Every live contact's stage now and recorded moves, copied from the columns."""
        self._columns.ensure()
        with self._shared.lock:
            found = self._columns.classified(self._refresh_clock(), self._chances)
            table, result = found.table, found.result
            return stage_moves(table.id_array(), table.live(), result.stage,
                               result.stage_ids, result.rotting, table.stages)

    @_rebuilt_if_damaged
    def likelihoods(self) -> tuple[np.ndarray | None, Scored | None]:
        """Every live contact's likelihood by row (NaN: no model), and the scores."""
        self._columns.ensure()
        with self._shared.lock:
            found = self._columns.classified(self._refresh_clock(), self._chances)
            return self._likely.per_row(found.table, found.now), self._likely.scored

    @_rebuilt_if_damaged
    def likelihood_of(self, contact_id: int) -> float | None:
        """One contact's learned likelihood from the column (None: no model, or none)."""
        self._columns.ensure()
        with self._shared.lock:
            table = self._columns.table()
            values = self._likely.per_row(table, self._refresh_clock())
            row = table.row(contact_id)
            if values is None or row is None or np.isnan(values[row]):
                return None
            return float(values[row])

    def _chances(self, table: ContactColumns) -> np.ndarray | None:
        """Every row's learned chance (the same array while it is valid), or None."""
        return self._likely.per_row(table, self._refresh_clock())

    @_rebuilt_if_damaged
    def scored(self, model: Model) -> Scored:
        """Every live contact scored under ``model`` over the columns."""
        self._columns.ensure()
        with self._shared.lock:
            found = self._columns.classified(self._refresh_clock(), self._chances)
            return scored_from_columns(model, found.table, found.now)

    @_rebuilt_if_damaged
    def owner_counts(self) -> list[tuple[str, int]]:
        """Each owner with how many live contacts they own, most first, then by name."""
        self._columns.ensure()
        with self._shared.lock:
            table = self._columns.table()
            owners = table.coded("owner")
            tally = np.bincount(owners.codes[table.live()], minlength=len(owners.values))
            found = [(str(owners.values[code]), int(count)) for code, count in enumerate(tally)
                     if code and count and owners.values[code]]
        return sorted(found, key=lambda item: (-item[1], item[0].lower()))

    def save(self) -> bool:
        """Write the column cache beside the database if it is behind (best effort)."""
        with self._shared.lock:
            return self._columns.save()

    # -- internals -------------------------------------------------------------
    def _custom_column(self, name: str) -> Coded:
        """Custom field ``name`` of every row (all missing if no contact has it)."""
        return self._columns.table().custom_coded(name)

    def _refresh_clock(self) -> datetime:
        """The moment classifications are made for. Decay, rotting and overdue depend
        on the day and a first-response deadline on the hour, so everything is derived
        again when the day turns or ``CLOCK_STEP`` has passed (over the columns that
        costs tens of milliseconds at 100,000 contacts)."""
        now = self._shared.clock()
        before = self._classified_at
        if before is None or now.date() != before.date() or not \
                timedelta(0) <= now - before < CLOCK_STEP:
            self._classes.clear()
            self._classified_at = before = now
        return before
