"""The Funnel tab's figures counted over arrays: the columns' stage log, not the documents.

``lifecycle.lifecycle_of`` walks every contact's history in Python (1.3 s at 100,000
contacts, and again after every change). Here the same figures come from
``Workspace.stage_moves()``: each stay's length is the next move's moment minus this
one's, the moves in the last 7 and 30 days are counted per stage with ``bincount``,
and the furthest stage each contact reached is a ``maximum.at`` over its moves. Only
the contacts out of the funnel (lost, disqualified: a few in a hundred) are read one
by one, for their reason and for the furthest stage their data meets. A test holds
the two ways equal on every figure.
"""

from __future__ import annotations

from datetime import datetime
from typing import Callable

import numpy as np

from funnel.engine.columns.stage_log import StageMoves
from funnel.engine.errors import NotFound
from funnel.engine.reports.lifecycle import (DAY, TOP_REASONS, WINDOWS, Lifecycle, Progress,
                                             Tally, assemble, exit_reason, qualifies_for)
from funnel.engine.rules.classify import Classification
from funnel.engine.rules.ruleset import Rules
from funnel.engine.workspace.facade import Workspace

RowReader = Callable[[int], "tuple[dict, Classification] | None"]  # contact id -> row


def lifecycle_of_moves(moves: StageMoves, rules: Rules, now: datetime, read: RowReader,
                       top_reasons: int = TOP_REASONS) -> Lifecycle:
    """The figures of ``lifecycle_of`` from ``moves``; ``read`` gives the document and
    classification of a contact out of the funnel (None: it is gone meanwhile)."""
    order = [stage.id for stage in rules.stages + rules.exits]
    tallies = {stage_id: Tally() for stage_id in order}
    place = {stage_id: index for index, stage_id in enumerate(order)}
    funnel_at = np.array([index if index < len(rules.stages) else -1
                          for index in range(len(order))] + [-1], np.int64)  # [-1]: none
    now_ts = now.timestamp()
    size = len(order)

    current = np.array([place.get(stage_id, -1) for stage_id in moves.stage_ids],
                       np.int64)[moves.stage] if len(moves.stage) else np.zeros(0, np.int64)
    known = current >= 0
    for index, count in _counts(current[known], size):
        tallies[order[index]].count = count
    for index, count in _counts(current[known & moves.rotting.astype(bool)], size):
        tallies[order[index]].rotting = count

    names = np.array([place.get(name, -1) if isinstance(name, str) else -1
                      for name in moves.names] + [-1], np.int64)
    went, came = names[moves.went], names[moves.came]  # a rules stage's place, or -1
    at, owner = moves.moments, moves.owner
    first = np.ones(len(owner), bool)
    first[1:] = owner[1:] != owner[:-1]
    last = np.ones(len(owner), bool)
    last[:-1] = owner[1:] != owner[:-1]
    before_went = np.where(first, -1, np.roll(went, 1))
    before_at = np.where(first, np.nan, np.roll(at, 1))

    # A stay ends at the next recorded move (both moments readable).
    ended = (before_went >= 0) & ~np.isnan(before_at) & ~np.isnan(at)
    _add_durations(tallies, order, before_went[ended],
                   np.maximum(0.0, at[ended] - before_at[ended]) / DAY)

    # Moves in the last 7 and 30 days, into a stage and out of the one left.
    moved = ~np.isnan(at) & (at <= now_ts) & (moves.went != moves.came)
    for window, days in enumerate(WINDOWS):
        recent = moved & (at > now_ts - days * DAY)
        for index, count in _counts(went[recent & (went >= 0)], size):
            tallies[order[index]].entered[window] = count
        for index, count in _counts(came[recent & (came >= 0)], size):
            tallies[order[index]].left[window] = count

    # The stay going on now: the last move's stage, if it is the contact's stage now.
    open_now = np.full(len(current), -1, np.int64)
    start_now = np.full(len(current), np.nan)
    open_now[owner[last]], start_now[owner[last]] = went[last], at[last]
    ongoing = (open_now >= 0) & (open_now == current)
    timed = ongoing & ~np.isnan(start_now)
    _add_durations(tallies, order, current[timed],
                   np.maximum(0.0, now_ts - start_now[timed]) / DAY)
    unrecorded = int((~ongoing & known).sum())

    furthest = funnel_at[current]
    reached_on_the_way = funnel_at[went]
    np.maximum.at(furthest, owner, reached_on_the_way)
    out = np.flatnonzero(known & (funnel_at[current] < 0))
    _count_exits(tallies, order, rules, now, moves, current, furthest, out, read)
    for index, count in _counts(furthest[furthest >= 0], size):
        tallies[order[index]].reached = count
    return assemble(tallies, rules, now, len(current), unrecorded, top_reasons)


def _counts(indexes: np.ndarray, size: int) -> list[tuple[int, int]]:
    counted = np.bincount(indexes, minlength=size) if len(indexes) else np.zeros(size, int)
    return [(index, int(count)) for index, count in enumerate(counted.tolist()) if count]


def _add_durations(tallies: dict[str, Tally], order: list[str], which: np.ndarray,
                   days: np.ndarray) -> None:
    for index in np.unique(which).tolist():
        tallies[order[index]].durations.extend(days[which == index].tolist())


def _count_exits(tallies: dict[str, Tally], order: list[str], rules: Rules, now: datetime,
                 moves: StageMoves, current: np.ndarray, furthest: np.ndarray,
                 out: np.ndarray, read: RowReader) -> None:
    """Reasons of the contacts out of the funnel, and how far their data goes."""
    funnel = {stage.id: index for index, stage in enumerate(rules.stages)}
    last_funnel = len(rules.stages) - 1
    for position in out.tolist():
        found = read(int(moves.ids[position]))
        if found is None:
            continue
        document, result = found
        stage_id = order[int(current[position])]
        if furthest[position] < last_funnel:
            furthest[position] = max(int(furthest[position]),
                                     qualifies_for(document, result, rules, now, funnel))
        reason = exit_reason(document, stage_id)
        spellings = tallies[stage_id].reasons.setdefault(
            " ".join(reason.split()).casefold(), {})
        spellings[reason] = spellings.get(reason, 0) + 1


def compute(workspace: Workspace, *, now: datetime | None = None,
            progress: Progress | None = None, top_reasons: int = TOP_REASONS) -> Lifecycle:
    """``lifecycle.compute``'s figures, counted over the columns (the Funnel tab's way).
    ``progress`` hears (done, total) when the columns are ready and when it is done."""
    when = now if now is not None else workspace.now()
    moves = workspace.stage_moves()
    total = len(moves.ids)
    if progress is not None:
        progress(total, 2 * total)

    def read(contact_id: int) -> tuple[dict, Classification] | None:
        try:
            return workspace.row(contact_id)
        except NotFound:  # deleted (merged) since the moves were copied
            return None
    figures = lifecycle_of_moves(moves, workspace.rules, when, read, top_reasons)
    if progress is not None:
        progress(2 * total, 2 * total)
    return figures
