"""Which values an editable number of the rules may take, and how numbers are written.

These checks name the rule and the number at once, before the edited text is loaded;
loading it with ``parse_rules`` stays the final word.
"""

from __future__ import annotations

from typing import Callable, Mapping

from funnel.engine.errors import ConfigError
from funnel.engine.rules.number_slots import GRADES, HALF_LIFE, NUMBER, Slot

POINTS_LIMIT = 100  # the score runs 0-100: one rule moving it further means nothing
HALF_LIFE_LIMIT = 3650  # ten years; more is surely a typo
DECIMALS = 2


class EditError(ConfigError):
    """A value that cannot go into the rules: names the file, the line, the rule and key."""

    def __init__(self, path: str, line: int | None, message: str, key: str | None) -> None:
        super().__init__(path, line, message)
        self.key = key


def format_number(value: float) -> str:
    """A number as plain YAML: ``20``, ``-5``, ``2.5`` (never an exponent)."""
    text = f"{value:.{DECIMALS}f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def parse_number(text: str) -> float:
    """What a person typed, as a number; ValueError with a message if it is not one."""
    cleaned = text.strip()
    if not NUMBER.fullmatch(cleaned):
        raise ValueError(f"{cleaned!r} is not a number" if cleaned else "a number is needed")
    if "." in cleaned and len(cleaned.split(".")[1]) > DECIMALS:
        raise ValueError(f"at most {DECIMALS} decimals")
    return float(cleaned)


def check_number(slots: Mapping[str, Slot], source: str, key: str, value: float | None,
                 draft: Mapping[str, float | None] | None = None) -> None:
    """Refuse a value that cannot go into the slot ``key``; EditError names the rule.

    With ``draft`` (the other numbers being edited), also what depends on them: a
    cap has the sign of its points, grade bars rise from grade 2 to 4.
    """
    slot = slots.get(key)
    if slot is None:
        raise EditError(source, None, f"{key}: there is no such number to edit", key)

    def refuse(message: str) -> EditError:
        return EditError(source, slot.line, f"{slot.what}: {slot.title} {message}", key)

    if slot.locked:
        raise refuse(f"cannot be edited here: {slot.locked}")
    if value is None:
        if not slot.optional:
            raise refuse("needs a number")
        if slot.value is not None and slot.whole_line is None:
            raise refuse("cannot be removed here (it shares its line); edit it by hand")
        return
    if value != value or value in (float("inf"), float("-inf")):
        raise refuse("must be a number")
    if slot.whole and value != int(value):
        raise refuse("must be a whole number")
    if round(value, DECIMALS) != value:
        raise refuse(f"takes at most {DECIMALS} decimals")
    if key == HALF_LIFE:
        if not 0 < value <= HALF_LIFE_LIMIT:
            raise refuse(f"must be more than 0 and at most {HALF_LIFE_LIMIT} days")
    elif key in GRADES:
        if not 0 <= value <= 100:
            raise refuse("must be between 0 and 100 (the score runs 0-100)")
    elif not -POINTS_LIMIT <= value <= POINTS_LIMIT:
        raise refuse(f"must be between -{POINTS_LIMIT} and {POINTS_LIMIT} "
                     "(the score runs 0-100)")
    if draft is not None:
        _check_with_others(slots, slot, value, draft, refuse)


def _check_with_others(slots: Mapping[str, Slot], slot: Slot, value: float,
                       draft: Mapping[str, float | None],
                       refuse: Callable[[str], EditError]) -> None:
    def now(key: str) -> float | None:
        if key in draft:
            return draft[key]
        found = slots.get(key)
        return found.value if found is not None else None

    if slot.activity and slot.name in ("points", "max"):
        base = slot.key.rsplit(".", 1)[0]
        other = now(f"{base}.max" if slot.name == "points" else f"{base}.points")
        if other is not None and other * value < 0:
            raise refuse("must have the sign of points" if slot.name == "max" else
                         f"must have the sign of its max ({format_number(other)})")
    if slot.key in GRADES:
        grade = int(slot.name)
        higher, lower = now(f"grades.{grade + 1}"), now(f"grades.{grade - 1}")
        if grade < 4 and higher is not None and value >= higher:
            raise refuse(f"must be below grade {grade + 1}'s {format_number(higher)}")
        if grade > 2 and lower is not None and value <= lower:
            raise refuse(f"must be above grade {grade - 1}'s {format_number(lower)}")
