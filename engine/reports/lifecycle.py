"""The lifecycle: how contacts flow through the funnel, from their stage history.

``compute(workspace)`` makes one pass over every contact and returns a
``Lifecycle``: for each stage of the active rules (in funnel order), then for
each exit, a ``StageFigures``. ``stage_timeline(document, now)`` gives one
contact's stays. Both are pure (no I/O besides reading the workspace, no UI).

Definitions (all per the active rules; history stage ids these rules do not
know are ignored):

- **stage entries**: history entries of kind ``"stage"``, in the order they were
  appended. Each one ends the contact's stay in its previous stage and, when its
  ``to`` is a stage id, starts a stay there.
- **count**: contacts whose stage is that stage *now* (the classification's
  stage, exactly what ``stage:ID`` filters on in the Contacts tab).
- **reached** (funnel stages only): a contact has reached funnel stage X when X is
  at or before the furthest funnel stage it is known to have been in: any stage a
  stage entry took it to, its current stage when that is a funnel stage, and, for
  a contact that is out (in an exit), the furthest funnel stage its data
  qualifies for under the rules (imported or generated contacts often went out
  without every step being recorded; a lost deal was an opportunity). Skipping a
  stage counts as passing it.
- **conversion** of funnel stage X = reached(next stage) / reached(X): of the
  contacts that ever got to X (or beyond), the share that got to the stage after
  it. ``None`` for the last stage and when nobody reached X.
- **median days**: the median length, in days, of every stay in the stage: the
  completed stays (from one stage entry to the next) and the current stays (from
  the last stage entry to ``now``, counted only when the recorded stage is still
  the contact's stage now). A contact that was in a stage twice gives two stays.
  Stays whose times are unknown (no parseable ``at``) are left out; a stay whose
  end was recorded before its start counts as 0 days. ``None`` with no stay.
- **rotting**: contacts in the stage now whose classification says rotting.
- **movement**: stage entries whose ``at`` falls in the window ``(now - N days,
  now]``: each one counts once as *entered* for its ``to`` and once as *left* for
  its ``from``. A contact that went in and out within the window counts in both.
- **reasons** (exits only): the contacts in the exit now, grouped by why they
  left: ``disqualify_reason`` for disqualified, ``outcome_reason`` for lost, else
  the ``pin_reason`` when a person pinned the contact to that exit, else "no
  reason given". Reasons that differ only in case or spacing are one reason,
  shown as most often written. The ``top_reasons`` most common are kept (ties by
  name) and the rest add up in ``other``.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, Iterable, Iterator

from funnel.engine.rules.classify import Classification
from funnel.engine.rules.facts import gather
from funnel.engine.model import parse_datetime
from funnel.engine.rules.ruleset import Rules
from funnel.engine.workspace.facade import Workspace, bulk_work

DAY = 86400.0
WINDOWS = (7, 30)  # days of movement
TOP_REASONS = 5
PROGRESS_EVERY = 2000
NO_REASON = "no reason given"
# Where an exit's reason is kept, first choice first; pin_reason comes after these.
REASON_FIELDS = {"disqualified": "disqualify_reason", "lost": "outcome_reason"}

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Reason:
    reason: str
    count: int


@dataclass(frozen=True)
class StageFigures:
    id: str
    label: str
    is_exit: bool
    count: int  # in the stage now
    reached: int  # funnel stages: ever got here or beyond (see the module); exits: count
    conversion: float | None  # share of ``reached`` that reached the next stage
    median_days: float | None
    stays: int  # how many stays the median is taken over
    rotting: int
    entered: dict[int, int]  # window in days -> stage entries into it
    left: dict[int, int]  # window in days -> stage entries out of it
    reasons: tuple[Reason, ...] = ()  # exits: the most common reasons
    other: int = 0  # exits: contacts whose reason is not among ``reasons``


@dataclass(frozen=True)
class Lifecycle:
    rules: str
    now: datetime
    total: int
    stages: tuple[StageFigures, ...]  # the funnel, in order
    exits: tuple[StageFigures, ...]
    unrecorded: int  # contacts whose stage now is not the last one their history records

    @property
    def in_funnel(self) -> int:
        return sum(stage.count for stage in self.stages)

    @property
    def out(self) -> int:
        return sum(stage.count for stage in self.exits)

    @property
    def rotting(self) -> int:
        return sum(stage.rotting for stage in self.stages + self.exits)

    def stage(self, stage_id: str) -> StageFigures:
        for figures in self.stages + self.exits:
            if figures.id == stage_id:
                return figures
        raise KeyError(stage_id)


@dataclass(frozen=True)
class Stay:
    """One stay of a contact in a stage."""

    stage: str
    entered: datetime | None
    left: datetime | None  # None: still there (``current``) or not known
    days: float | None
    by: str
    why: str
    current: bool = False  # the contact is in this stay now
    recorded: bool = True  # False: the rules place the contact here, no entry says when


# -- one contact ---------------------------------------------------------------------

def _moment(text: Any) -> float | None:
    if not isinstance(text, str):
        return None
    try:
        return parse_datetime(text).timestamp()
    except ValueError:
        return None


def _stage_entries(document: dict) -> Iterator[dict]:
    for entry in document.get("history") or ():
        # (A merged-in contact's moves are its own, not this contact's.)
        if isinstance(entry, dict) and entry.get("kind") == "stage" \
                and "merged_from" not in entry:
            yield entry


def stage_timeline(document: dict, now: datetime, current_stage: str | None = None
                   ) -> list[Stay]:
    """The contact's stays in stages, oldest first, from its history.

    ``current_stage`` is where the contact is now (its classification's stage).
    When it is not the last recorded stage (the rules moved it since, unrecorded),
    the last recorded stay ends at an unknown time and an unrecorded stay in
    ``current_stage`` follows.
    """
    stays: list[Stay] = []
    open_stage: str | None = None
    start: float | None = None
    opened: dict | None = None
    now_ts = now.timestamp()

    def close(end: float | None, current: bool) -> None:
        assert opened is not None and open_stage is not None
        days = None if start is None or end is None else max(0.0, end - start) / DAY
        stays.append(Stay(open_stage, _datetime(start), None if current else _datetime(end),
                          days, str(opened.get("by") or ""), str(opened.get("why") or ""),
                          current=current))

    for entry in _stage_entries(document):
        at = _moment(entry.get("at"))
        if open_stage is not None:
            close(at, False)
        to = entry.get("to")
        open_stage = to if isinstance(to, str) and to else None
        start, opened = at, entry
    if open_stage is not None:
        if current_stage is None or current_stage == open_stage:
            close(now_ts, True)
        else:
            stays.append(Stay(open_stage, _datetime(start), None, None,
                              str(opened.get("by") or ""),  # type: ignore[union-attr]
                              str(opened.get("why") or "")))  # type: ignore[union-attr]
    if current_stage is not None and current_stage != open_stage:
        stays.append(Stay(current_stage, None, None, None, "rules",
                          "where the rules place the contact now; no stage change recorded",
                          current=True, recorded=False))
    return stays


def _datetime(timestamp: float | None) -> datetime | None:
    if timestamp is None:
        return None
    return datetime.fromtimestamp(timestamp, tz=timezone.utc)


# -- every contact ----------------------------------------------------------------------

class Tally:
    """Running totals for one stage."""

    __slots__ = ("count", "reached", "durations", "rotting", "entered", "left", "reasons")

    def __init__(self) -> None:
        self.count = 0
        self.reached = 0  # funnel stages: contacts whose furthest stage is exactly this
        self.durations: list[float] = []
        self.rotting = 0
        self.entered = [0] * len(WINDOWS)
        self.left = [0] * len(WINDOWS)
        self.reasons: dict[str, dict[str, int]] = {}  # folded reason -> spelling -> count


def lifecycle_of(rows: Iterable[tuple[dict, Classification]], rules: Rules, now: datetime, *,
                 top_reasons: int = TOP_REASONS, total: int | None = None,
                 progress: Progress | None = None) -> Lifecycle:
    """The figures over ``rows`` of (contact document, its classification now).

    ``progress`` hears (done, total) every few thousand contacts and may raise to
    stop; ``total`` is what it is told the total is.
    """
    funnel = {stage.id: index for index, stage in enumerate(rules.stages)}
    tallies = {stage.id: Tally() for stage in rules.stages + rules.exits}
    now_ts = now.timestamp()
    cuts = [now_ts - days * DAY for days in WINDOWS]
    last_funnel = len(rules.stages) - 1
    counted = 0
    unrecorded = 0
    for document, result in rows:
        counted += 1
        if progress is not None and counted % PROGRESS_EVERY == 0:
            progress(counted, total if total is not None else counted)
        stage_id = result.stage
        tally = tallies.get(stage_id)
        furthest = funnel.get(stage_id, -1)
        if tally is not None:
            tally.count += 1
            if result.rotting:
                tally.rotting += 1
        open_stage: str | None = None
        start: float | None = None
        for entry in document.get("history") or ():
            if entry.__class__ is not dict or entry.get("kind") != "stage" \
                    or "merged_from" in entry:  # (a merged-in contact's own moves)
                continue
            at = _moment(entry.get("at"))
            to = entry.get("to")
            if open_stage is not None and start is not None and at is not None:
                tallies[open_stage].durations.append(max(0.0, at - start) / DAY)
            open_stage = to if to in tallies else None
            start = at
            if open_stage is not None:
                position = funnel.get(open_stage, -1)
                if position > furthest:
                    furthest = position
            if at is not None and at <= now_ts and entry.get("from") != to:
                source = tallies.get(entry.get("from"))  # type: ignore[arg-type]
                for window, cut in enumerate(cuts):
                    if at > cut:
                        if open_stage is not None:
                            tallies[open_stage].entered[window] += 1
                        if source is not None:
                            source.left[window] += 1
        if open_stage is not None and open_stage == stage_id:
            if start is not None:
                tally.durations.append(max(0.0, now_ts - start) / DAY)  # type: ignore[union-attr]
        elif tally is not None:
            unrecorded += 1
        if tally is not None and stage_id not in funnel:  # out of the funnel
            if furthest < last_funnel:
                furthest = max(furthest, qualifies_for(document, result, rules, now, funnel))
            reason = exit_reason(document, stage_id)
            spellings = tally.reasons.setdefault(" ".join(reason.split()).casefold(), {})
            spellings[reason] = spellings.get(reason, 0) + 1
        if furthest >= 0:
            tallies[rules.stages[furthest].id].reached += 1
    if progress is not None:
        progress(counted, total if total is not None else counted)
    return assemble(tallies, rules, now, counted, unrecorded, top_reasons)


def assemble(tallies: dict[str, Tally], rules: Rules, now: datetime, counted: int,
             unrecorded: int, top_reasons: int = TOP_REASONS) -> Lifecycle:
    """The figures from each stage's totals (``reached``: exactly that stage furthest)."""
    last_funnel = len(rules.stages) - 1
    stages = []
    reached_beyond = 0
    cumulative: dict[str, int] = {}
    for stage in reversed(rules.stages):  # reached X = exactly X or any stage after it
        reached_beyond += tallies[stage.id].reached
        cumulative[stage.id] = reached_beyond
    for index, stage in enumerate(rules.stages):
        reached = cumulative[stage.id]
        conversion = None
        if index < last_funnel and reached:
            conversion = cumulative[rules.stages[index + 1].id] / reached
        stages.append(_figures(stage.id, stage.label, False, tallies[stage.id], reached,
                               conversion, top_reasons))
    exits = [_figures(stage.id, stage.label, True, tallies[stage.id], tallies[stage.id].count,
                      None, top_reasons) for stage in rules.exits]
    return Lifecycle(rules.name, now, counted, tuple(stages), tuple(exits), unrecorded)


def _figures(stage_id: str, label: str, is_exit: bool, tally: Tally, reached: int,
             conversion: float | None, top_reasons: int) -> StageFigures:
    reasons: list[Reason] = []
    for spellings in tally.reasons.values():
        # The spelling written most often names the group (ties: the first in order).
        shown = sorted(spellings.items(), key=lambda item: (-item[1], item[0]))[0][0]
        reasons.append(Reason(shown, sum(spellings.values())))
    reasons.sort(key=lambda item: (-item.count, item.reason.casefold(), item.reason))
    kept = reasons[:max(0, top_reasons)]
    return StageFigures(
        id=stage_id, label=label, is_exit=is_exit, count=tally.count, reached=reached,
        conversion=conversion,
        median_days=statistics.median(tally.durations) if tally.durations else None,
        stays=len(tally.durations), rotting=tally.rotting,
        entered=dict(zip(WINDOWS, tally.entered)), left=dict(zip(WINDOWS, tally.left)),
        reasons=tuple(kept), other=sum(item.count for item in reasons[len(kept):]))


def exit_reason(document: dict, exit_id: str) -> str:
    for name in (REASON_FIELDS.get(exit_id), "pin_reason"):
        if name is None or name == "pin_reason" and document.get("stage_pin") != exit_id:
            continue
        value = document.get(name)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return NO_REASON


def qualifies_for(document: dict, result: Classification, rules: Rules, now: datetime,
                   funnel: dict[str, int]) -> int:
    """The position of the furthest funnel stage the contact's data meets (exits aside)."""
    facts = gather(document, now, rules.half_life_days)
    facts.update(fit=result.fit, engagement=result.engagement, score=result.score,
                 stage=result.stage, grade=result.grade)
    for stage, test in rules.stage_plan:  # furthest first
        if test(document, facts):
            return funnel[stage.id]
    return 0  # the first stage holds for everyone


# -- over a workspace ---------------------------------------------------------------------

def compute(workspace: Workspace, *, now: datetime | None = None, progress: Progress | None = None,
            top_reasons: int = TOP_REASONS) -> Lifecycle:
    """The lifecycle of every contact in ``workspace`` under its active rules.

    Classifies what is not classified yet (the workspace caches it), then makes one
    pass over the documents. ``progress`` hears (done, total) over both steps (the
    total is twice the number of contacts) and may raise to stop early. ``now``
    defaults to the workspace's clock; the classifications are the workspace's own
    (taken at its clock's day).
    """
    rules = workspace.rules
    when = now if now is not None else workspace.now()
    total = len(workspace)

    def first(done: int, _: int) -> None:
        if progress is not None:
            progress(done, 2 * total)

    def second(done: int, _: int) -> None:
        if progress is not None:
            progress(total + done, 2 * total)

    classes = workspace.classify_all(first if progress is not None else None)

    def rows() -> Iterator[tuple[dict, Classification]]:
        for contact_id, document in workspace.documents():
            result = classes.get(contact_id)
            if result is None:  # edited meanwhile: classified again on demand
                result = workspace.classification(contact_id)
            yield document, result

    with bulk_work():
        return lifecycle_of(rows(), rules, when, top_reasons=top_reasons, total=total,
                            progress=second if progress is not None else None)
