"""Every contact's recorded stage moves as flat arrays: what the Funnel tab counts.

A row's moves are one contiguous block of entries, in the order its history lists
them, kept like the activity log's (``ActivityLog``: replacing a row marks its old
block dead and appends a new one). An entry is a history record of kind "stage"
(not one a merged-in contact brought along, see ``workspace.merge``): the stage it
went to and came from as codes into ``names`` (any value a hand-edited file holds
gets its own code), and its moment in seconds (NaN when it cannot be read, which
still ends the stay before it, as ``reports.lifecycle`` reads it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import numpy as np

from funnel.engine.columns.activity_log import DEAD, ActivityLog
from funnel.engine.columns.encoded import value_key
from funnel.engine.columns.moments import micro_table


class StageLog(ActivityLog):
    """``kinds``: the stage gone to (a code into ``names``); ``amounts``: the stage come
    from; ``moments``: when (NaN: unreadable)."""

    def __init__(self, capacity: int) -> None:
        super().__init__(capacity)
        self.kinds = np.zeros(0, np.int32)  # (a stage code, not an activity kind)
        self.amounts = np.zeros(0, np.int32)
        self.names: list = []  # the distinct stage values the codes stand for
        self._codes: dict = {}

    def code(self, value: object) -> int:
        key = value_key(value)
        found = self._codes.get(key)
        if found is None:
            found = self._codes[key] = len(self.names)
            self.names.append(value)
        return found

    def fill(self, blocks: Iterable[tuple[int, object]]) -> None:
        """Append the stage moves of many rows at once: (row, the document's history)."""
        which: list[int] = []
        owners: list[int] = []
        went: list[int] = []
        came: list[int] = []
        texts: list[str] = []
        code = self.code
        for row, history in blocks:
            block = len(which)
            which.append(row)
            if history.__class__ is not list:
                continue
            for entry in history:
                if entry.__class__ is not dict or entry.get("kind") != "stage" \
                        or "merged_from" in entry:
                    continue
                owners.append(block)
                went.append(code(entry.get("to")))
                came.append(code(entry.get("from")))
                at = entry.get("at")
                texts.append(at if at.__class__ is str else "")
        micro, readable = micro_table(texts)
        moments = np.where(readable, micro / 1e6, np.nan)
        placed = np.array(which, np.int64)
        for row in placed[self.stop[placed] > self.start[placed]]:
            self._kill(int(row))
        block_of = np.array(owners, np.int64)
        counts = np.bincount(block_of, minlength=len(which)) if len(which) else block_of
        stop = np.cumsum(counts)
        self.start[placed] = self.size + stop - counts
        self.stop[placed] = self.size + stop
        self._append(placed[block_of].astype(np.int32), np.array(went, np.int32), moments,
                     np.array(came, np.int32))

    def ordered(self, rows: int) -> np.ndarray:
        """The positions of the entries of rows 0..``rows``-1, row by row, each row's in
        its history's order."""
        start, stop = self.start[:rows], self.stop[:rows]
        lengths = stop - start
        total = int(lengths.sum())
        if not total:
            return np.zeros(0, np.int64)
        offsets = np.repeat(start - np.concatenate(([0], np.cumsum(lengths)[:-1])), lengths)
        return np.arange(total, dtype=np.int64) + offsets


@dataclass(frozen=True)
class StageMoves:
    """What the Funnel tab counts, copied out of the columns at one moment: each live
    contact's stage now (a code into ``stage_ids``) and whether it is rotting, and its
    recorded moves in order (``owner``: the contact's place in ``ids``)."""

    ids: np.ndarray
    stage: np.ndarray
    stage_ids: tuple[str, ...]
    rotting: np.ndarray
    owner: np.ndarray
    went: np.ndarray  # codes into ``names``
    came: np.ndarray
    moments: np.ndarray  # seconds since the epoch; NaN: unreadable
    names: list


def stage_moves(ids: np.ndarray, live: np.ndarray, stage: np.ndarray,
                stage_ids: tuple[str, ...], rotting: np.ndarray, log: StageLog) -> StageMoves:
    """The ``StageMoves`` of the rows ``live`` marks (arrays by row; copies are made)."""
    rows = np.flatnonzero(live)
    lengths = (log.stop[:len(live)] - log.start[:len(live)])[rows]
    place = np.full(len(live), -1, np.int64)
    place[rows] = np.arange(len(rows))
    entries = log.ordered(len(live))
    kept = log.rows[entries] != DEAD
    entries = entries[kept]
    owner = place[log.rows[entries]]
    assert int(lengths.sum()) == len(entries), "the stage log's blocks do not fit its rows"
    return StageMoves(ids[rows].copy(), stage[rows].copy(), stage_ids, rotting[rows].copy(),
                      owner, log.kinds[entries].copy(), log.amounts[entries].copy(),
                      log.moments[entries].copy(), list(log.names))
