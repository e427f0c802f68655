"""The workspace's columns: every contact's fields as arrays, and their classification.

``ColumnState`` keeps one ``ContactColumns`` for the store, built on first use from the
sidecar cache (``PATH.columns``) when it was written for exactly the store's current
position, else from the documents (and the cache written for next time). Every change
reaches it through ``forget(ids)`` (this session's commits and other processes' alike):
those rows are read again on next use. The classification of every row under the
active rules is kept until the rows, the rules or the day change; after a few edits
only the changed rows are classified again, one by one, by the per-contact classifier
(which the property tests prove equal to the column one).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Callable, Iterable

import numpy as np

from funnel.engine.columns.classify import ColumnClassification, classify_columns
from funnel.engine.columns.fact_columns import FactColumns
from funnel.engine.columns.narrow import fits, widened
from funnel.engine.columns.persist import SCHEMA, table_arrays, table_from_arrays
from funnel.engine.columns.sidecar import cache_key, read_columns, save_columns
from funnel.engine.columns.table import ContactColumns
from funnel.engine.rules.classify import Classification, classify
from funnel.engine.rules.ruleset import Rules
from funnel.engine.workspace.bulk import bulk_work
from funnel.engine.workspace.column_build import build_columns
from funnel.engine.workspace.column_prefetch import ColumnPrefetch
from funnel.engine.workspace.shared import Shared

log = logging.getLogger(__name__)

Likelihoods = Callable[[ContactColumns], "np.ndarray | None"]  # each row's chance, 0-1
PATCH_AT_MOST = 256  # changed rows classified one by one; more: the whole table again
_RULES_FREE = "-"  # the cached columns do not depend on the rules


@dataclass
class Classified:
    """The classification of every row at one moment, and what it was made from."""

    table: ContactColumns
    result: ColumnClassification
    rules: Rules
    now: datetime
    version: int  # the table's version it covers
    likelihood: np.ndarray | None = None  # the learned chances (0-1) rules read, if any


class ColumnState:
    """See the module docstring. Callers hold ``shared.lock`` around every method."""

    def __init__(self, shared: Shared, prefetch: ColumnPrefetch | None = None) -> None:
        self._shared = shared
        self._prefetch = prefetch  # the cache, being read since before the store opened
        self._cache_refused = False  # its values were damaged: this session builds
        self._table: ContactColumns | None = None
        self._dirty: set[int] = set()
        self._classified: Classified | None = None
        self._saved_at: tuple[int, str] | None = None  # store position the cache holds
        self._kept_facts: tuple[tuple, FactColumns] | None = None
        self._building = False  # ``ensure`` is reading the documents: keep what changes
        self._build_lock = threading.Lock()  # one build at a time

    # -- keeping current ----------------------------------------------------
    def forget(self, ids: Iterable[int]) -> None:
        if self._table is not None or self._building:
            self._dirty.update(ids)

    def ensure(self) -> None:
        """Load or build the columns if there are none yet. Called WITHOUT the workspace
        lock: a build takes it one chunk of documents at a time, so edits and the
        screen's reads go on meanwhile (their contacts are read again afterwards)."""
        with self._build_lock:
            shared = self._shared
            with shared.lock:
                if self._table is not None:
                    return
                loaded = self._load()
                if loaded is not None:
                    self._table = loaded
                    self._dirty.clear()
                    return
                self._building = True
                self._dirty.clear()
                ids = shared.store.ids()
            try:
                table = self._build_in_chunks(ids)
                with shared.lock:
                    self._table = table
            finally:
                with shared.lock:
                    self._building = False

    def _build_in_chunks(self, ids: list[int]) -> ContactColumns:
        """The columns of ``ids``, the lock taken only to read each chunk's documents."""
        return build_columns(self._shared, ids)

    @property
    def ready(self) -> bool:
        """The columns are built (asking for them costs no more than the changes)."""
        return self._table is not None

    def table(self) -> ContactColumns:
        """The columns of every contact as the store holds them now."""
        if self._table is None:
            # (callers ``ensure`` first; this is the fallback, under the lock throughout)
            self._table = self._load() or self._build_in_chunks(self._shared.store.ids())
            self._dirty.clear()
        elif self._dirty:
            self._take_in_changes()
        return self._table

    def _take_in_changes(self) -> None:
        table, store = self._table, self._shared.store
        assert table is not None
        changed = sorted(self._dirty)
        self._dirty.clear()
        before = table.version
        with bulk_work():
            for contact_id in changed:
                document = store.peek(contact_id)
                if document is None:
                    table.remove(contact_id)
                else:
                    table.put(contact_id, document)
        found = self._classified
        # (Rules reading the likelihood: every chance may move with an edit; all again.)
        if found is not None and found.version == before and len(changed) <= PATCH_AT_MOST \
                and found.likelihood is None:
            self._classified = self._patched(found, changed)

    def drop_damaged(self) -> None:
        """Forget columns read from a cache whose values turned out damaged: built from
        the store on next use (and the cache written again at close)."""
        log.info("column cache of %s has damaged values; rebuilding the columns",
                 self._shared.store.path)
        self._table, self._classified, self._kept_facts = None, None, None
        self._saved_at, self._prefetch, self._cache_refused = None, None, True

    def _load(self) -> ContactColumns | None:
        store = self._shared.store
        key = None if self._cache_refused else cache_key(store, _RULES_FREE, SCHEMA)
        early, self._prefetch = self._prefetch, None
        table = None
        if early is not None:  # taken (or waited for) before any build: it may fork
            if key is None:
                early.wait()
            else:
                table, reason = early.take(key)
                if table is None:
                    log.info("column cache of %s read ahead, not used: %s", store.path, reason)
        if key is None:
            return None
        if table is None:  # (read again: it may have been written meanwhile)
            found = read_columns(store.path, key)
            if found.arrays is None or found.meta is None:
                log.info("column cache of %s not used: %s", store.path, found.reason)
                return None
            table = table_from_arrays(found.arrays, found.meta)
        if table is None or len(table) != len(store):
            log.info("column cache of %s does not fit the store; rebuilding", store.path)
            return None
        self._saved_at = store.position
        return table

    def save(self) -> bool:
        """Write the cache if the columns are current and the file does not hold them
        yet (best effort: a folder that cannot be written just means no cache)."""
        store = self._shared.store
        if self._table is None or self._dirty or self._saved_at == store.position:
            return False
        key = cache_key(store, _RULES_FREE, SCHEMA)
        if key is None:
            return False
        try:
            arrays, meta = table_arrays(self._table)
            saved = save_columns(store.path, key, arrays, meta)
        except (TypeError, ValueError) as error:  # a value JSON cannot hold: no cache
            log.warning("column cache of %s not written: %s", store.path, error)
            return False
        if saved:
            self._saved_at = (key.seq, key.chain)
        return saved

    # -- classification -------------------------------------------------------
    def classified(self, now: datetime, likelihood: Likelihoods | None = None) -> Classified:
        """Every row classified under the active rules at ``now`` (kept while valid).
        ``likelihood`` gives every row's learned chance for rules that read it."""
        table = self.table()
        rules = self._shared.rules
        chances = likelihood(table) if likelihood is not None and rules.reads_likelihood \
            else None
        found = self._classified
        if found is None or found.rules is not rules or found.version != table.version \
                or found.now != now or found.likelihood is not chances:
            found = self._classified = Classified(
                table, self._classify(table, rules, now, chances), rules, now, table.version,
                chances)
        return found

    def preview(self, rules: Rules, now: datetime,
                likelihood: Likelihoods | None = None) -> ColumnClassification:
        """Every row under other ``rules``, leaving the kept classification alone."""
        table = self.table()
        chances = likelihood(table) if likelihood is not None and rules.reads_likelihood \
            else None
        return self._classify(table, rules, now, chances)

    def _classify(self, table: ContactColumns, rules: Rules, now: datetime,
                  chances: np.ndarray | None) -> ColumnClassification:
        return classify_columns(table, rules, now, self._facts(table, rules, now),
                                None if chances is None else chances * 100.0)

    def _facts(self, table: ContactColumns, rules: Rules, now: datetime) -> FactColumns:
        """The facts of every row at ``now``: they depend on the rules only through the
        half-life, so a what-if per keystroke reuses them (each is computed on first use)."""
        key = (table.version, now, rules.half_life_days)
        if self._kept_facts is None or self._kept_facts[0] != key:
            self._kept_facts = (key, FactColumns(table, now, rules.half_life_days))
        return self._kept_facts[1]

    def _patched(self, found: Classified, ids: list[int]) -> Classified:
        """``found`` with the rows of ``ids`` classified again one by one."""
        table, rules = found.table, found.rules
        result = found.result
        arrays: dict[str, Any] = {name: getattr(result, name).copy() for name in _ROW_ARRAYS}
        if table.rows > len(result.score):  # rows were added: grow every array
            extra = table.rows - len(result.score)
            arrays = {name: np.concatenate([values, np.zeros(extra, values.dtype)])
                      for name, values in arrays.items()}
        stage_code = {stage_id: code for code, stage_id in enumerate(result.stage_ids)}
        for contact_id in ids:
            row = table.row_of.get(contact_id)
            document = self._shared.store.peek(contact_id)
            if row is None or document is None:
                continue
            one = classify(document, rules, found.now, explain=False)
            _set_row(arrays, row, one, stage_code, result)
        return replace(found, result=replace(result, **arrays), version=table.version)


_ROW_ARRAYS = ("fit", "engagement", "raw_score", "score", "grade", "rules_stage", "stage",
               "manual", "temperature", "lead_type", "rotting", "overdue", "unanswered")


def _set_row(arrays: dict[str, np.ndarray], row: int, one: Classification,
             stage_code: dict[str, int], result: ColumnClassification) -> None:
    for name in ("fit", "engagement", "raw_score", "score", "grade", "manual", "rotting",
                 "overdue", "unanswered"):
        _put(arrays, name, row, getattr(one, name))
    _put(arrays, "stage", row, stage_code[one.stage])
    _put(arrays, "rules_stage", row, stage_code[one.rules_stage])
    _put(arrays, "temperature", row, result.temperatures.index(one.temperature))
    _put(arrays, "lead_type", row, result.lead_types.index(one.lead_type))


def _put(arrays: dict[str, np.ndarray], name: str, row: int, value: int | bool) -> None:
    """One row's value, the array widened first if the value does not fit its (narrow,
    ``narrowed``) type."""
    column = arrays[name]
    if column.dtype.kind in "iu" and not fits(value, column.dtype):
        column = arrays[name] = widened(column)
    column[row] = value
