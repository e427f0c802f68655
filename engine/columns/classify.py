"""``classify_columns(table, rules, now)``: ``engine.rules.classify`` for every row at once.

The same steps as the per-contact classifier, as array operations: fit is the sum of
the points of the fit rules whose condition holds; engagement adds each activity rule's
decayed count times its points, capped and rounded half to even as ``round`` does, and
the flat points of condition rules; then the hand adjustment, the clamp to 0-100, the
grade, the stage by the rules (exits first, then the furthest stage that holds), the
stage after pins, forward-only moves and stages kept under other rules, temperature and
lead type (first match wins), rotting, overdue and unanswered (never for a contact in
an exit).
Stages, temperatures and lead types are codes into the lists ``ColumnClassification``
carries. Explanations stay with the per-contact path.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from funnel.engine.columns.encoded import Coded, Numbers
from funnel.engine.columns.evaluate import ConditionInputs, evaluate
from funnel.engine.columns.fact_columns import FactColumns
from funnel.engine.columns.narrow import narrowed
from funnel.engine.columns.first_response import unanswered_columns
from funnel.engine.columns.table import ContactColumns
from funnel.engine.rules.ruleset import Rules


@dataclass(frozen=True)
class ColumnClassification:
    """Every row's classification (rows as in the table; dead rows mean nothing)."""

    fit: np.ndarray
    engagement: np.ndarray
    raw_score: np.ndarray
    score: np.ndarray
    grade: np.ndarray
    rules_stage: np.ndarray  # codes into stage_ids
    stage: np.ndarray  # codes into stage_ids
    manual: np.ndarray
    temperature: np.ndarray  # codes into temperatures
    lead_type: np.ndarray  # codes into lead_types
    rotting: np.ndarray
    overdue: np.ndarray
    stage_ids: tuple[str, ...]
    temperatures: tuple[str, ...]
    lead_types: tuple[str | None, ...]
    unanswered: np.ndarray  # past the first-response deadline, no one has answered

    def row(self, row: int) -> dict[str, Any]:
        """One row as the per-contact ``Classification`` names its fields."""
        return {
            "fit": int(self.fit[row]), "engagement": int(self.engagement[row]),
            "raw_score": int(self.raw_score[row]), "score": int(self.score[row]),
            "grade": int(self.grade[row]), "rules_stage": self.stage_ids[self.rules_stage[row]],
            "stage": self.stage_ids[self.stage[row]], "manual": bool(self.manual[row]),
            "temperature": self.temperatures[self.temperature[row]],
            "lead_type": self.lead_types[self.lead_type[row]],
            "rotting": bool(self.rotting[row]), "overdue": bool(self.overdue[row]),
            "unanswered": bool(self.unanswered[row]),
        }


def classify_columns(table: ContactColumns, rules: Rules, now: datetime,
                     facts: FactColumns | None = None,
                     likelihood: np.ndarray | None = None) -> ColumnClassification:
    """Classify every row of ``table`` under ``rules`` at ``now`` (see the module);
    ``likelihood``: every row's learned chance in % (NaN: none), for rules reading it."""
    if facts is None:
        facts = FactColumns(table, now, rules.half_life_days)
    rows = table.rows
    chances = likelihood if likelihood is not None else np.full(rows, np.nan)
    chance: dict[str, Coded | Numbers] = {"likelihood": Numbers.of(
        np.nan_to_num(chances), ~np.isnan(chances), integral=False)}
    scoring = ConditionInputs(table, now, rules.half_life_days, chance, facts=facts)
    # The plans hold closures; their conditions (and trees) are found by identity.
    conditions = {id(condition.test): condition for condition in rules.conditions()}

    def holds(test: Any, inputs: ConditionInputs) -> np.ndarray:
        return evaluate(conditions[id(test)], inputs)

    fit = np.zeros(rows, np.int64)
    for _, _, points, test in rules.fit_plan:
        if points:
            fit += points * holds(test, scoring)
    engagement = np.zeros(rows, np.int64)
    for _, _, per, test, activity, maximum in rules.engagement_plan:
        if activity is not None:
            amount = facts.decayed(activity)
            value = amount * per
            if maximum is not None:
                value = np.minimum(value, maximum) if per > 0 else np.maximum(value, maximum)
            engagement += np.where(amount != 0, np.rint(value), 0).astype(np.int64)
        else:
            engagement += round(per) * holds(test, scoring)
    adjustment = table.numbers("score_adjustment")
    raw = fit + engagement + np.where(adjustment.present, adjustment.values, 0).astype(np.int64)
    score = np.clip(raw, 0, 100)
    grade = _first_match([(value, score >= lowest) for value, lowest in rules.grades], 1, rows)

    stage_ids = rules.stage_ids
    index = {stage_id: number for number, stage_id in enumerate(stage_ids)}
    staging = ConditionInputs(table, now, rules.half_life_days, dict(chance, **{
        "fit": _integers(fit), "engagement": _integers(engagement), "score": _integers(score)}),
        facts=facts)
    by_rules = _first_match(
        [(index[stage.id], holds(test, staging))
         for stage, test in rules.exit_plan + rules.stage_plan], index[rules.stages[0].id], rows)
    stage, manual = _effective_stage(table, rules, index, by_rules)

    outcome = ConditionInputs(table, now, rules.half_life_days, dict(staging.extra, **{
        "stage": Coded(stage.astype(np.int32), list(stage_ids)), "grade": _integers(grade)}),
        facts=facts)
    temperatures = (rules.temperature_default,) + tuple(value for value, _ in
                                                        rules.temperature_plan)
    temperature = _first_match([(number, holds(test, outcome)) for number, (_, test)
                                in enumerate(rules.temperature_plan, 1)], 0, rows)
    lead_types = (rules.lead_type_default,) + tuple(value for value, _ in rules.lead_type_plan)
    lead_type = _first_match([(number, holds(test, outcome)) for number, (_, test)
                              in enumerate(rules.lead_type_plan, 1)], 0, rows)
    # A closed contact (in an exit: disqualified, lost) is neither overdue nor rotting.
    open_ = ~np.array([rules.by_id[stage_id].is_exit for stage_id in stage_ids], bool)[stage]
    overdue = facts.overdue().codes.astype(bool) & open_
    return ColumnClassification(  # integers kept narrow (``narrow``: memory, sorting)
        fit=narrowed(fit), engagement=narrowed(engagement), raw_score=narrowed(raw),
        score=narrowed(score), grade=narrowed(grade), rules_stage=narrowed(by_rules),
        stage=narrowed(stage), manual=manual, temperature=narrowed(temperature),
        lead_type=narrowed(lead_type), rotting=_rotting(table, rules, facts, stage) & open_,
        overdue=overdue, stage_ids=stage_ids, temperatures=temperatures,
        lead_types=lead_types, unanswered=unanswered_columns(
            table, rules, facts, lambda test: holds(test, scoring), open_))


def _integers(values: np.ndarray) -> Numbers:
    return Numbers.of(values.astype(np.float64), integral=True)


def _first_match(choices: list[tuple[int, np.ndarray]], default: int, rows: int) -> np.ndarray:
    """Per row, the value of the first choice whose mask holds, else ``default``."""
    result = np.full(rows, default, np.int64)
    decided = np.zeros(rows, bool)
    for value, holds in choices:
        hit = holds & ~decided
        result[hit] = value
        decided |= hit
    return result


def _effective_stage(table: ContactColumns, rules: Rules, index: dict[str, int],
                     by_rules: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pins, stages only a person sets, forward-only moves (as ``classify`` decides)."""
    stages = [rules.by_id[stage_id] for stage_id in rules.stage_ids]
    is_exit = np.array([stage.is_exit for stage in stages], bool)
    by_hand = np.array([stage.is_exit and stage.when is None for stage in stages], bool)
    order = np.array([stage.order for stage in stages], np.int64)

    def stage_code(value: Any) -> int:
        try:
            found = rules.by_id.get(value or "")
        except TypeError:  # not text at all: no stage
            return -1
        return index[found.id] if found is not None else -1
    pin = table.coded("stage_pin").gather(stage_code, np.int64)
    same_rules = table.coded("stage_rules").gather(lambda value: value in (None, rules.name))
    current = np.where(same_rules, table.coded("stage").gather(stage_code, np.int64), -1)
    known = current >= 0
    safe = np.where(known, current, 0)
    keep = known & ~is_exit[by_rules] & (by_hand[safe] | (~is_exit[safe] &
                                                          (order[safe] > order[by_rules])))
    stage = np.where(keep, current, by_rules)
    manual = pin >= 0
    return np.where(manual, pin, stage), manual


def _rotting(table: ContactColumns, rules: Rules, facts: FactColumns,
             stage: np.ndarray) -> np.ndarray:
    limits = np.array([rules.by_id[stage_id].rotting_days for stage_id in rules.stage_ids],
                      np.float64)  # None becomes NaN: never rotting
    ids = list(rules.stage_ids)
    # Only a contact still in the stage it is stored in can be rotting there.
    stored_code = table.coded("stage").gather(
        lambda value: ids.index(value) if value in ids else -1, np.int64)
    idle = facts.days_in_stage()
    last = facts.last_activity_days()
    use_last = last.present & (~idle.present | (last.values < idle.values))
    idle_days = np.where(use_last, last.values, idle.values)
    known = idle.present | last.present
    return (stored_code == stage) & known & (idle_days > limits[stage])
