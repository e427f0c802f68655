"""First-response deadlines for every row at once (``engine.rules.first_response``).

The same decision as the per-contact ``is_unanswered``, as arrays: the deadline is
the hours of the first ``first_response`` entry whose condition holds (scoring-phase
facts); a row is unanswered when it has a creation time, ``age_days * 24`` exceeds
its deadline, it has no activity of a kind a person makes, and it is open.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from funnel.engine.columns.fact_columns import FactColumns
from funnel.engine.columns.table import ContactColumns
from funnel.engine.rules.first_response import HOURS_PER_DAY, PERSON_KINDS
from funnel.engine.rules.ruleset import Rules


def unanswered_columns(table: ContactColumns, rules: Rules, facts: FactColumns,
                       holds: Callable[[object], np.ndarray], open_: np.ndarray) -> np.ndarray:
    """Per row, whether it waits past its deadline; ``holds(test)`` evaluates a plan's
    condition in the scoring phase, ``open_`` marks rows not in an exit."""
    rows = table.rows
    if not rules.response_plan:
        return np.zeros(rows, bool)
    hours = np.full(rows, np.nan)
    decided = np.zeros(rows, bool)
    for within_hours, test in rules.response_plan:
        hit = holds(test) & ~decided
        hours[hit] = within_hours
        decided |= hit
    worked = np.zeros(rows, bool)
    for kind in PERSON_KINDS:
        worked |= facts.count(kind).values != 0
    age = facts.age_days()
    no_outcome = ~table.coded("outcome").gather(bool)
    with np.errstate(invalid="ignore"):
        late = age.present & decided & (age.values * HOURS_PER_DAY > hours)
    return late & ~worked & open_ & no_outcome
