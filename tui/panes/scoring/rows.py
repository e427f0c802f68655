"""The rows of the Scoring tab's list: what each stands for, and its line of text.

The rules become sections of rows in the order of the rules file (``build_rows``);
a row's line is a plain function of the row, the cursor and the draft (``row_parts``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from textual.content import Content

from funnel.engine.rules.editing import HALF_LIFE, RulesText, format_number
from funnel.engine.rules.ruleset import Rules

from funnel.tui.widgets.text import fit, literal

CELL_WIDTH = 7


@dataclass(frozen=True)
class RowSpec:
    """What one row of the list stands for."""

    kind: str  # fit, engagement, half_life, grade, temperature, lead_type
    keys: tuple[str | None, str | None]  # the numbers in its two cells (None: none)
    label: str
    condition: str = ""  # shown literally
    value: str = ""  # the first cell of a row without numbers (hot, SRL, ...)
    line: int = 0
    note: str = ""  # said in the detail line


def build_rows(rules: Rules, text: RulesText | None) -> list[tuple[str, list[RowSpec]]]:
    """The sections of the list and their rows, in the order of the rules file."""
    slots = text.slots if text is not None else {}

    def key(name: str) -> str | None:
        return name if name in slots else None

    fit_rows = [RowSpec("fit", (key(f"{rule.id}.points"), None), rule.label,
                        rule.when.text if rule.when else "", line=rule.line)
                for rule in rules.fit]
    engagement = []
    for rule in rules.engagement:
        if rule.activity:
            engagement.append(RowSpec(
                "engagement", (key(f"{rule.id}.points"), key(f"{rule.id}.max")), rule.label,
                f"each {rule.activity}", line=rule.line,
                note=f"points per {rule.activity}, halving every half-life; max caps the total"))
        else:
            engagement.append(RowSpec("engagement", (key(f"{rule.id}.points"), None),
                                      rule.label, rule.when.text if rule.when else "",
                                      line=rule.line, note="flat points; they do not fade"))
    engagement.insert(0, RowSpec("half_life", (key(HALF_LIFE), None),
                                 "Half-life of engagement points, in days",
                                 note="an activity's points halve every this many days"))
    grades = [RowSpec("grade", (key(f"grades.{grade}"), None), f"Grade {grade}",
                      note=f"grade {grade}: a score of at least this")
              for grade, _ in rules.grades]
    grades.append(RowSpec("grade", (None, None), "Grade 1", "below grade 2",
                          note="grade 1: everything below grade 2"))
    temperatures = [RowSpec("temperature", (None, None), choice.label
                            if choice.label != choice.value else "", choice.when.text,
                            value=choice.value, line=choice.line) for choice in rules.temperatures]
    temperatures.append(RowSpec("temperature", (None, None), "otherwise", "",
                                value=rules.temperature_default))
    lead_types = [RowSpec("lead_type", (None, None), choice.label
                          if choice.label != choice.value else "", choice.when.text,
                          value=choice.value, line=choice.line) for choice in rules.lead_types]
    lead_types.append(RowSpec("lead_type", (None, None), "otherwise", "",
                              value=rules.lead_type_default or "none"))
    return [
        ("Fit: who they are (flat points when the condition holds)", fit_rows),
        ("Engagement: what they do (fades with the half-life)", engagement),
        ("Grades: the lowest score of each", grades),
        ("Temperature (first match wins)", temperatures),
        ("Lead types (first match wins)", lead_types),
    ]


def number_text(key: str, value: float | None) -> str:
    if value is None:
        return "no cap" if key.endswith(".max") else ""
    if key.startswith("grades."):
        return f"≥{format_number(value)}"
    if key == HALF_LIFE:
        return f"{format_number(value)}d"
    if key.endswith(".max"):
        return f"≤{format_number(value)}"
    return f"+{format_number(value)}" if value > 0 else format_number(value)


def short_path(path: str) -> str:
    home = str(Path.home())
    return "~" + path[len(home):] if home != "/" and path.startswith(home + "/") else path



def value_of(key: str, drafts: Mapping[str, float | None], text: RulesText | None
             ) -> float | None:
    """A number as the draft has it (as the file does when the draft leaves it alone)."""
    if key in drafts:
        return drafts[key]
    assert text is not None
    return text.slots[key].value


def row_parts(spec: RowSpec, here: bool, column: int, drafts: Mapping[str, float | None],
              text: RulesText | None) -> list[Content]:
    """The pieces of a row's line: gutter, its number cells, label and condition.

    ``here``: the cursor is on the row, on its number cell ``column``.
    """
    changed = any(key in drafts for key in spec.keys if key)
    parts = [Content(("▶" if here else " ") + ("*" if changed else " "))]
    columns = 2 if spec.kind in ("engagement", "half_life") else 1
    for number, key in enumerate(spec.keys[:columns]):
        if key is None:
            if number == 0 and spec.value:
                parts.append(Content.styled(fit(literal(spec.value), CELL_WIDTH - 1),
                                            "bold") + Content(" "))
            else:
                parts.append(Content(" " * CELL_WIDTH))
            continue
        style = "bold underline" if key in drafts else ""
        if text is not None and text.slots[key].locked:
            style = "dim"
        shown = number_text(key, value_of(key, drafts, text))[:CELL_WIDTH - 1]
        cell = Content(" " * (CELL_WIDTH - 1 - len(shown))) + Content.styled(shown, style)
        if here and number == column:
            cell = cell.stylize("reverse")
        parts.append(cell + Content(" "))
    desc = [Content(literal(spec.label))] if spec.label else []
    if spec.condition:
        desc.append(Content.styled(literal(" ".join(spec.condition.split())), "dim"))
    parts.append(Content("  ").join(desc))
    return parts
