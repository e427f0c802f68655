"""Rule conditions over columns: one bool per row, for all rows at once.

``evaluate(condition, inputs)`` walks the tree the parser built (``condition.tree``):
``and``, ``or`` and ``not`` combine arrays; a comparison of a number column with a
number is one array comparison; everything else (text, choices, tags, ``in``,
``contains``, ``matches``, odd mixtures of types) is decided by the node's own
per-contact closure once per distinct value of the columns it reads, then gathered
by code. So a regex runs once per distinct title, not once per contact, and the
answer is the per-contact answer by construction.

``ConditionInputs`` says where each name's column comes from: contact fields and
custom fields (``custom.NAME``: its text column, decided per distinct text as the
per-contact path reads it) from the ``ContactColumns``, facts from ``FactColumns``,
and the later phases' facts (fit, engagement, score, stage, grade) from arrays the
caller passes in ``extra``.
"""

from __future__ import annotations

import operator
from datetime import datetime
from typing import Any, Callable

import numpy as np

from funnel.engine.columns.encoded import OTHER, Coded, Numbers
from funnel.engine.columns.fact_columns import FactColumns
from funnel.engine.columns.table import NUMBER_FIELDS, ContactColumns
from funnel.engine.errors import FunnelError
from funnel.engine.rules.condition_names import Node
from funnel.engine.rules.conditions import Condition

Column = Coded | Numbers
Access = tuple

_ORDER: dict[str, Callable[[Any, Any], Any]] = {
    "==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le,
    ">": operator.gt, ">=": operator.ge,
}


class ColumnsError(FunnelError):
    """A condition names something the columns do not hold."""


class ConditionInputs:
    """The columns conditions read at one moment (see the module docstring)."""

    def __init__(self, table: ContactColumns, now: datetime, half_life_days: float,
                 extra: dict[str, Column] | None = None, *,
                 facts: FactColumns | None = None) -> None:
        self.table = table
        self.rows = table.rows
        self.facts = facts if facts is not None else FactColumns(table, now, half_life_days)
        self.extra = dict(extra or {})
        self._coded: dict[Access, Coded] = {}

    def column(self, access: Access) -> Column:
        where, key = access[0], access[1]
        if where == "custom":
            return self.table.custom_coded(key)
        if where == "contact":
            if key in NUMBER_FIELDS:
                return self.table.numbers(key)
            return self.table.coded(key)
        if key in self.extra:
            return self.extra[key]
        if len(access) > 2:  # ("facts", "counts" or "days_since", kind, default)
            name = ("count" if key == "counts" else key) + "." + access[2]
        else:
            name = key
        found = self.facts.named(name)
        if found is None:
            raise ColumnsError(f"no column for {name!r}; pass it in `extra`")
        return found

    def coded(self, access: Access) -> Coded:
        """The column as codes (numbers are encoded by distinct value, once)."""
        found = self._coded.get(access)
        if found is None:
            if access[0] == "contact":
                found = self.table.coded(access[1])
            elif access[0] == "custom":
                found = self.table.custom_coded(access[1])
            else:
                column = self.column(access)
                found = column if isinstance(column, Coded) else column.coded()
            self._coded[access] = found
        return found


def evaluate(condition: Condition | Node, inputs: ConditionInputs) -> np.ndarray:
    """The condition's answer for every row (dead rows included, meaninglessly)."""
    tree = condition.tree if isinstance(condition, Condition) else condition
    if tree is None:
        raise ColumnsError(f"condition {condition.text!r} has no tree")  # type: ignore[union-attr]
    return _evaluate(tree, inputs)


def _evaluate(node: Node, inputs: ConditionInputs) -> np.ndarray:
    kind = node.kind
    if kind == "and" or kind == "or":
        result = _evaluate(node.parts[0], inputs).copy()
        combine = np.logical_and if kind == "and" else np.logical_or
        for part in node.parts[1:]:
            combine(result, _evaluate(part, inputs), out=result)
        return result
    if kind == "not":
        return ~_evaluate(node.parts[0], inputs)
    if kind == "truth" and node.parts[0].kind in ("and", "or", "not", "compare", "truth"):
        return _evaluate(node.parts[0], inputs)
    if kind == "compare":
        fast = _number_comparison(node, inputs)
        if fast is not None:
            return fast
    return by_distinct_values(node, inputs)


def _number_comparison(node: Node, inputs: ConditionInputs) -> np.ndarray | None:
    """``number_name OP number`` or ``number_name OP number_name`` as one array
    comparison, where that means the same as the per-contact comparison."""
    left, right = node.parts
    if left.kind != "name" or node.op not in _ORDER:
        return None
    column = _numbers(inputs, left)
    if column is None:
        return None
    compare = _ORDER[node.op]
    if right.kind == "name":
        other = _numbers(inputs, right)
        if other is None:
            return None
        both = column.present & other.present
        # As in Python: none == none, and none orders before nothing.
        neither = ~column.present & ~other.present
        if node.op == "==":
            return (compare(column.values, other.values) & both) | neither
        if node.op == "!=":
            return ~((column.values == other.values) & both | neither)
        return compare(column.values, other.values) & both
    value = right.value
    if right.kind != "const" or value.__class__ not in (int, float) or abs(value) > 2**53:
        return None
    answer = compare(column.values, value)
    present = column.present
    # A missing value equals nothing, differs from everything and orders before nothing.
    return answer & present if node.op != "!=" else answer | ~present


def _numbers(inputs: ConditionInputs, operand: Node) -> Numbers | None:
    """The operand's column as numbers, if every value in it is a plain number."""
    column = inputs.column(operand.name.access)  # type: ignore[union-attr]
    if not isinstance(column, Numbers) or (column.kinds == OTHER).any():
        return None
    return column


def by_distinct_values(node: Node, inputs: ConditionInputs) -> np.ndarray:
    """Run the node's per-contact closure once per distinct combination of the values
    it reads, and give each row the answer for its combination."""
    accesses = sorted(node.reads, key=repr)
    if not accesses:
        return np.full(inputs.rows, bool(node.test({}, {})))
    columns = [inputs.coded(access) for access in accesses]
    if len(columns) == 1:
        only = columns[0]
        return only.gather(lambda value: bool(node.test(*_one_contact(accesses, (value,)))))
    combined = columns[0].codes.astype(np.int64)
    for column in columns[1:]:
        key = combined * len(column.values) + column.codes
        _, combined = np.unique(key, return_inverse=True)
        combined = combined.reshape(-1)
    _, first = np.unique(combined, return_index=True)
    answers = np.fromiter(
        (bool(node.test(*_one_contact(accesses, [column.values[column.codes[row]]
                                                 for column in columns])))
         for row in first), bool, len(first))
    return answers[combined]


def _one_contact(accesses: list[Access], values: Any) -> tuple[dict, dict]:
    """A contact and facts holding just these values, where the closures look."""
    contact: dict = {}
    facts: dict = {}
    for access, value in zip(accesses, values):
        if access[0] == "contact":
            if value is not None:
                contact[access[1]] = value
        elif access[0] == "custom":
            if value is not None:
                contact.setdefault("custom", {})[access[1]] = value
        elif len(access) == 2:
            facts[access[1]] = value
        else:
            inner = facts.setdefault(access[1], {})
            if value is not None:
                inner[access[2]] = value
    return contact, facts
