"""Reading the column classification back: one row as a ``Classification``, every row
as a mapping by contact id, and the counts ``Workspace.stats`` answers.

A row's ``Classification`` is the per-contact classifier's without the explanation:
the stage's reason and the next action are made from the same inputs with the same
words (``engine.rules.classify``), which the property tests check.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

from funnel.engine.columns.classify import ColumnClassification
from funnel.engine.columns.table import ContactColumns
from funnel.engine.rules.classify import Classification
from funnel.engine.rules.ruleset import Rules

Counts = dict[str, Any]


def classification_of(table: ContactColumns, result: ColumnClassification, rules: Rules,
                      row: int) -> Classification:
    """Row ``row`` as the per-contact classifier gives it with ``explain=False``."""
    stage = rules.by_id[result.stage_ids[result.stage[row]]]
    by_rules = rules.by_id[result.stage_ids[result.rules_stage[row]]]
    manual = bool(result.manual[row])
    if manual:
        note = "" if stage is by_rules else f"; the rules alone would give {by_rules.id}"
        why = _value(table, "pin_reason", row) or "no reason given"
        reason = f"set by hand to {stage.id} ({why}){note}"
    elif by_rules.is_exit:
        reason = f"{by_rules.id}: {by_rules.when.text}"  # type: ignore[union-attr]
    elif stage is not by_rules and stage.is_exit:
        reason = f"{stage.id} until a person moves it; the rules alone would give {by_rules.id}"
    elif stage is not by_rules:
        reason = (f"kept at {stage.id}: automatic moves only go forward"
                  f"; the rules alone would give {by_rules.id}")
    else:
        reason = rules.reached_reason[by_rules.id]
    return Classification(
        stage=stage.id, rules_stage=by_rules.id, stage_reason=reason, manual=manual,
        score=int(result.score[row]), raw_score=int(result.raw_score[row]),
        fit=int(result.fit[row]), engagement=int(result.engagement[row]),
        grade=int(result.grade[row]), temperature=result.temperatures[result.temperature[row]],
        lead_type=result.lead_types[result.lead_type[row]],
        next_action=_value(table, "next_action", row) or stage.next_action,
        rotting=bool(result.rotting[row]), overdue=bool(result.overdue[row]), explanation=None,
        unanswered=bool(result.unanswered[row]))


def _value(table: ContactColumns, name: str, row: int) -> Any:
    column = table.columns[name]
    return column.value_of(column.codes[row])


class ColumnClassifications(Mapping[int, Classification]):
    """Every contact's classification by id, made from its row when asked."""

    def __init__(self, table: ContactColumns, result: ColumnClassification,
                 rules: Rules) -> None:
        self._table, self._result, self._rules = table, result, rules
        self._rows = len(table)

    def __getitem__(self, contact_id: int) -> Classification:
        row = self._table.row(contact_id)
        if row is None:
            raise KeyError(contact_id)
        return classification_of(self._table, self._result, self._rules, row)

    def __iter__(self) -> Iterator[int]:
        table = self._table
        return iter(table.id_array()[table.live()].tolist())

    def __len__(self) -> int:
        return self._rows


def column_counts(table: ContactColumns, result: ColumnClassification, rules: Rules) -> Counts:
    """Counts by stage, temperature, grade and lead type over the live rows."""
    live = table.live()

    def by_name(codes: np.ndarray, names: tuple[Any, ...], start: dict[str, int]
                ) -> dict[str, int]:
        tally = np.bincount(codes[live], minlength=len(names))
        for code, name in enumerate(names):
            key = "none" if name is None else str(name)
            if tally[code]:
                start[key] = start.get(key, 0) + int(tally[code])
        return start

    lead_types = {choice.value: 0 for choice in rules.lead_types}
    lead_types.setdefault(rules.lead_type_default or "none", 0)
    grades = np.bincount(np.clip(result.grade[live], 0, 4), minlength=5)
    return {
        "total": int(live.sum()), "rules": rules.name,
        "stages": by_name(result.stage, result.stage_ids,
                          {stage_id: 0 for stage_id in rules.stage_ids}),
        "temperatures": by_name(result.temperature, result.temperatures,
                                {"hot": 0, "warm": 0, "cold": 0}),
        "grades": {str(grade): int(grades[grade]) for grade in range(1, 5)},
        "lead_types": by_name(result.lead_type, result.lead_types, lead_types),
        "rotting": int(result.rotting[live].sum()), "overdue": int(result.overdue[live].sum()),
        "unanswered": int(result.unanswered[live].sum()),
    }
