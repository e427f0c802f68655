"""Every contact's activities as flat arrays: row, kind, moment, count per entry.

A row's activities are one contiguous block of entries; replacing a row marks its old
block dead (row -1) and appends a new one, and the dead are squeezed out once they are
half the log. ``by_kind()`` gives, per activity kind, the entries in compressed form
(rows, moments, counts, in the order the documents list them), from which counts,
decayed sums for any half-life and days since the latest are array operations.
"""

from __future__ import annotations

from typing import Iterable

import numpy as np

from funnel.engine.columns.moments import micro_table
from funnel.engine.model import ACTIVITY_KINDS

KIND_INDEX = {kind: index for index, kind in enumerate(ACTIVITY_KINDS)}
DEAD = -1

def _entries(block: int, activities: object, blocks: list, kinds: list, moments: list,
             amounts: list) -> None:
    """Append the activities of one row, in the document's order, their moments as
    given (read all at once by ``fill``). Documents are validated before they are
    stored; an activity that is not is skipped here (or there, if its moment is not)."""
    if activities.__class__ is not list:
        return
    kind_of = KIND_INDEX.get
    for activity in activities:
        try:
            kind = kind_of(activity["kind"])
            at = activity["at"]
            amount = activity.get("count", 1)
        except (TypeError, KeyError, AttributeError):
            continue
        if kind is None or at.__class__ is not str or amount.__class__ is not int:
            continue
        blocks.append(block)
        kinds.append(kind)
        moments.append(at)
        amounts.append(amount)


class ActivityLog:
    """The entries of every row, appended in blocks; see the module docstring."""

    squeeze_after = 1024  # dead entries tolerated before squeezing is worth its time

    def __init__(self, capacity: int) -> None:
        self.rows = np.zeros(0, np.int32)
        self.kinds = np.zeros(0, np.int8)
        self.moments = np.zeros(0, np.float64)
        self.amounts = np.zeros(0, np.int64)
        self.size = 0  # entries in use (alive or dead)
        self.dead = 0
        self.start = np.zeros(capacity, np.int64)
        self.stop = np.zeros(capacity, np.int64)
        self._by_kind: list[tuple[np.ndarray, np.ndarray, np.ndarray]] | None = None

    def resize(self, capacity: int) -> None:
        for name in ("start", "stop"):
            grown = np.zeros(capacity, np.int64)
            old = getattr(self, name)
            grown[:len(old)] = old[:capacity]
            setattr(self, name, grown)

    def fill(self, blocks: Iterable[tuple[int, object]]) -> None:
        """Append the activities of many rows at once: (row, the document's list)."""
        blocks_of: list[int] = []  # per entry, its row's place in ``which``
        kinds: list[int] = []
        texts: list[str] = []
        amounts: list[int] = []
        which: list[int] = []
        for row, activities in blocks:
            _entries(len(which), activities, blocks_of, kinds, texts, amounts)
            which.append(row)
        # Seconds since the epoch, as ``facts`` computes them; an unreadable one is dropped.
        micro, readable = micro_table(texts)
        block = np.array(blocks_of, np.int64)[readable]
        placed = np.array(which, np.int64)
        for row in placed[self.stop[placed] > self.start[placed]]:
            self._kill(int(row))
        counts = np.bincount(block, minlength=len(which)) if len(which) else block
        stop = np.cumsum(counts)
        self.start[placed] = self.size + stop - counts
        self.stop[placed] = self.size + stop
        self._append(placed[block].astype(np.int32), np.array(kinds, np.int8)[readable],
                     micro[readable] / 1e6, np.array(amounts, np.int64)[readable])

    def put(self, row: int, activities: object) -> None:
        self.fill([(row, activities)])

    def remove(self, row: int) -> None:
        self._kill(row)
        self.start[row] = self.stop[row] = 0
        self._by_kind = None

    def append_entries(self, rows: np.ndarray, kinds: np.ndarray, moments: np.ndarray,
                       amounts: np.ndarray) -> int:
        """Entries appended as they are (their rows' bounds set by the caller): where
        they begin."""
        if self.dead:
            self._squeeze()  # not while appending: the caller's bounds would shift
        begin = self.size
        self._append(rows, kinds, moments, amounts)
        return begin

    def _kill(self, row: int) -> None:
        start, stop = int(self.start[row]), int(self.stop[row])
        if stop > start:
            self.rows[start:stop] = DEAD
            self.dead += stop - start

    def _append(self, rows: np.ndarray, kinds: np.ndarray, moments: np.ndarray,
                amounts: np.ndarray) -> None:
        needed = self.size + len(rows)
        if needed > len(self.rows):
            capacity = max(needed, 2 * len(self.rows), 1024)
            for name in ("rows", "kinds", "moments", "amounts"):
                grown = np.zeros(capacity, getattr(self, name).dtype)
                grown[:self.size] = getattr(self, name)[:self.size]
                setattr(self, name, grown)
        end = self.size + len(rows)
        self.rows[self.size:end] = rows
        self.kinds[self.size:end] = kinds
        self.moments[self.size:end] = moments
        self.amounts[self.size:end] = amounts
        self.size = end
        self._by_kind = None
        if self.dead > self.squeeze_after and self.dead * 2 > self.size:
            self._squeeze()

    def _squeeze(self) -> None:
        """Drop the dead entries, keeping each row's block contiguous and in order."""
        alive = self.rows[:self.size] != DEAD
        moved = np.cumsum(~alive)  # dead entries before (and at) each position
        for name in ("start", "stop"):
            ends = getattr(self, name)
            used = ends > 0
            ends[used] -= moved[ends[used] - 1] if name == "stop" else _before(moved, ends[used])
        for name in ("rows", "kinds", "moments", "amounts"):
            kept = getattr(self, name)[:self.size][alive]
            getattr(self, name)[:len(kept)] = kept
        self.size = int(alive.sum())
        self.dead = 0

    def by_kind(self) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """Per kind (in ACTIVITY_KINDS order): rows, moments and counts of its entries."""
        if self._by_kind is None:
            rows, kinds = self.rows[:self.size], self.kinds[:self.size]
            moments, amounts = self.moments[:self.size], self.amounts[:self.size]
            alive = rows != DEAD
            if not alive.all():
                rows, kinds, moments, amounts = (rows[alive], kinds[alive], moments[alive],
                                                 amounts[alive])
            order = np.argsort(kinds, kind="stable")  # keeps the documents' order
            bounds = np.searchsorted(kinds[order], np.arange(len(ACTIVITY_KINDS) + 1))
            # (``take`` into one array per kind: a million rows' temporaries cost page
            # faults, which are dear on a virtual machine)
            self._by_kind = [(rows.take(order[a:b]), moments.take(order[a:b]),
                              amounts.take(order[a:b]))
                             for a, b in zip(bounds[:-1], bounds[1:])]
        return self._by_kind


def _before(moved: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Dead entries strictly before each start position."""
    result = np.zeros(len(starts), np.int64)
    inside = starts > 0
    result[inside] = moved[starts[inside] - 1]
    return result
