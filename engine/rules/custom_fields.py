"""Custom fields in rule conditions: ``custom.NAME`` reads ``document["custom"][NAME]``.

Custom fields are kept as text (an import's extra columns), so a condition reads each
value as a number when it is written as one ("34", "2.5", "-1e3": finite, at most
``NUMBER_TEXT_LIMIT`` characters) and as its text otherwise; a field the contact does
not have is none, like a missing field. So ``custom.age >= 30`` compares numbers and
``custom.City == Mumbai`` compares text, with the operators' usual rules for text
(``==`` exact, ``in``, ``contains`` and ``matches`` ignoring case).

A name is written as stored (case-sensitive): ``custom.City``, or quoted when it is
not a plain word (spaces, a leading digit): ``custom."Lead Quality"``.
"""

from __future__ import annotations

import re
from typing import Any

from funnel.engine.model import CUSTOM_MAX_KEY
from funnel.engine.model.values import NAME_UNSAFE
from funnel.engine.rules.condition_names import Name

CUSTOM_PREFIX = "custom"
NUMBER_TEXT_LIMIT = 40  # longer digit strings are ids or codes, not numbers to compare
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_WHOLE = re.compile(r"[+-]?\d+")
_READ: dict[str, Any] = {}  # text -> its value: custom columns repeat a few values


def custom_value(value: Any) -> Any:
    """A stored custom value as conditions compare it: a number if it is one."""
    if value.__class__ is not str:
        return value  # None, or a number a document kept as one
    found = _READ.get(value)
    if found is None:
        found = _read(value)
        if len(_READ) > 100_000:  # a bound on the memory it costs
            _READ.clear()
        _READ[value] = found
    return found


def _read(text: str) -> Any:
    stripped = text.strip()
    if len(stripped) > NUMBER_TEXT_LIMIT or not _NUMBER.fullmatch(stripped):
        return text
    if _WHOLE.fullmatch(stripped):
        return int(stripped)
    number = float(stripped)
    return number if number - number == 0 else text  # 1e999 is not finite: text


def custom_literal(value: Any) -> Any:
    """A literal compared with a custom field: quoted digits read as the number they
    are, as the field's own text does (``custom.age == "34"`` holds for "34")."""
    if isinstance(value, tuple):
        return tuple(custom_value(item) for item in value)
    return custom_value(value)


def custom_name_problem(name: str) -> str:
    """Why ``name`` cannot be a custom field's name ("" when it can)."""
    if not name:
        return "a custom field's name is empty; write custom.NAME or custom.\"A Name\""
    if len(name) > CUSTOM_MAX_KEY:
        return f"a custom field's name has at most {CUSTOM_MAX_KEY} characters"
    if NAME_UNSAFE.search(name):
        return "a custom field's name has no control characters"
    return ""


def custom_field(name: str) -> Name:
    """The condition name ``custom.NAME`` (``name`` already checked and trimmed)."""
    def get(contact: dict, facts: dict) -> Any:
        found = contact.get("custom")
        return custom_value(found.get(name)) if found else None
    return Name(get, (), (CUSTOM_PREFIX, name))
