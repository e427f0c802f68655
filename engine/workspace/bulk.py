"""What passes over every contact share: the garbage-collector pause they run under,
the counts they add up to, and the plain form a forked child sends results back in."""

from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Any, Iterable, Iterator

from funnel.engine.rules.classify import Classification
from funnel.engine.rules.ruleset import Rules

PROGRESS_EVERY = 2000  # contacts classified between progress reports

Counts = dict[str, Any]  # what Workspace.stats and preview_rules answer
# A Classification's fields but the explanation, in order (see ``plain_values``).
Plain = tuple[str, str, str, bool, int, int, int, int, int, str, str | None, str, bool, bool]


@contextmanager
def bulk_work() -> Iterator[None]:
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


def plain_values(result: Classification) -> Plain:
    """A classification without its explanation, as plain values (marshal-able)."""
    return (result.stage, result.rules_stage, result.stage_reason, result.manual, result.score,
            result.raw_score, result.fit, result.engagement, result.grade, result.temperature,
            result.lead_type, result.next_action, result.rotting, result.overdue)


def from_plain_values(values: Plain) -> Classification:
    """The classification ``plain_values`` made plain, without an explanation."""
    return Classification(*values, explanation=None)


def count(results: Iterable[Classification], rules: Rules) -> Counts:
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


def merge_counts(first: Counts, second: Counts) -> Counts:
    """Two halves' counts (from ``count``) as one."""
    merged = dict(first)
    for key, value in second.items():
        if isinstance(value, dict):
            group = dict(first.get(key) or {})
            for name, number in value.items():
                group[name] = group.get(name, 0) + number
            merged[key] = group
        elif isinstance(value, int) and not isinstance(value, bool):
            merged[key] = first.get(key, 0) + value
    return merged
