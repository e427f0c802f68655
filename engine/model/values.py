"""Field values: check one before anything is stored, or parse it from typed text.

``validate_value`` normalises what an edit, an import or the API hands in;
``parse_value`` turns the text a person typed (the CLI's ``FIELD=VALUE``, a form) into
one; ``choice_spelled`` reads a choice the forgiving way imports and forms share.
"""

from __future__ import annotations

import math
import re
from datetime import date
from typing import Any, Callable

from funnel.engine.errors import FieldError
from funnel.engine.model.dates import format_datetime, parse_datetime
from funnel.engine.model.date_words import parse_day
from funnel.engine.model.fields import TRISTATE, FieldSpec, field_spec
from funnel.engine.text import unsafe_pattern

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_NUMBER = re.compile(r"[+-]?(\d[\d_]*(\.\d*)?|\.\d+)([eE][+-]?\d+)?")  # digits, not inf/nan
_PHONE = re.compile(r"^\+?[0-9 ().\-/]{5,32}$")
# Terminal controls have no business in contact text (tab and newline may stay); bidi
# marks do occur in real data, so values keep them (shown visibly), but names do not.
CONTROL = unsafe_pattern(keep="\t\n", bidi=False)
NAME_UNSAFE = unsafe_pattern()


def _check_text(spec: FieldSpec, value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise FieldError(spec.name, f"expected text, got {type(value).__name__}")
    value = value.strip() if not spec.multiline else value.rstrip()
    if CONTROL.search(value):
        raise FieldError(spec.name, "control characters are not allowed in text")
    if len(value) > 10_000:
        raise FieldError(spec.name, "text longer than 10,000 characters")
    return value or None


def _check_email(spec: FieldSpec, value: Any) -> str | None:
    value = _check_text(spec, value)
    if value is None:
        return None
    if not _EMAIL.match(value):
        raise FieldError(spec.name, f"{value!r} is not an email address; use name@example.com")
    return value


def _check_phone(spec: FieldSpec, value: Any) -> str | None:
    value = _check_text(spec, value)
    if value is None:
        return None
    if not _PHONE.match(value) or sum(ch.isdigit() for ch in value) < 5:
        raise FieldError(spec.name, f"{value!r} is not a phone number; {spec.describe_allowed()}")
    return value


# How people and files spell the three answers of a yes/no/unknown field.
_YES = {"yes", "y", "true", "t", "1", "x", "ja", "oui", "si", "sí", "tak", "да"}
_NO = {"no", "n", "false", "f", "0", "nein", "non", "nie", "нет"}
_UNKNOWN = {"unknown", "?", "not sure", "dont know", "don't know", "unsure"}


def choice_spelled(name: str, value: Any) -> Any:
    """The choice of enum field ``name`` that ``value`` spells, forgivingly: case and
    spaces ignored (``Trade Show`` is trade_show), ``Yes``/``TRUE``/``y`` for yes.
    Anything else comes back as given, for ``validate_value`` to refuse. Imports and
    forms both read choices through this, so they take the same spellings."""
    spec = field_spec(name)
    if isinstance(value, bool) and spec.choices == TRISTATE:
        return "yes" if value else "no"
    if not isinstance(value, str) or value in spec.choices:
        return value
    key = " ".join(value.split()).casefold()
    if spec.choices == TRISTATE:
        for answer, spellings in (("yes", _YES), ("no", _NO), ("unknown", _UNKNOWN)):
            if key in spellings:
                return answer
    key = re.sub(r"[\s\-]+", "_", key)
    return key if key in spec.choices else value.strip()


def _check_enum(spec: FieldSpec, value: Any) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or value not in spec.choices:
        raise FieldError(spec.name, f"{value!r} is not allowed; use {spec.describe_allowed()}")
    return value


def _shown(value: Any) -> str:
    # repr() of an int of more than 4,300 digits is a ValueError; long ones say little.
    if isinstance(value, int) and abs(value) >= 10**30:
        return "a number of more than 30 digits"
    return repr(value)


def _plain(number: float) -> str:
    return f"{int(number):,}" if float(number).is_integer() else f"{number:,}"


def out_of_range(spec: FieldSpec, shown: str) -> FieldError:
    low, high = spec.bounds
    return FieldError(spec.name, f"{shown} is out of range; {spec.name} is "
                      f"{spec.describe_allowed()} from {_plain(low)} to {_plain(high)}")


def _check_number(spec: FieldSpec, value: Any) -> int | float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise FieldError(spec.name, f"{_shown(value)} is not {spec.describe_allowed()}")
    if value != value or value in (float("inf"), float("-inf")):
        raise FieldError(spec.name, f"{value!r} is not a finite number")
    low, high = spec.bounds
    if not low <= value <= high:
        raise out_of_range(spec, _shown(value))
    if spec.kind == "int" and not float(value).is_integer():
        raise FieldError(spec.name, f"{value!r} is not {spec.describe_allowed()}")
    return int(value) if spec.kind == "int" else value


def _check_date(spec: FieldSpec, value: Any) -> str | None:
    if value is None or value == "":
        return None
    try:
        return date.fromisoformat(value).isoformat() if isinstance(value, str) else _bad()
    except (ValueError, TypeError):
        raise FieldError(spec.name, f"{value!r} is not {spec.describe_allowed()}") from None


def _check_datetime(spec: FieldSpec, value: Any) -> str | None:
    if value is None:
        return None
    try:
        return format_datetime(parse_datetime(value)) if isinstance(value, str) else _bad()
    except (ValueError, TypeError):
        raise FieldError(spec.name, f"{value!r} is not {spec.describe_allowed()}") from None


def _check_tags(spec: FieldSpec, value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(tag, str) for tag in value):
        raise FieldError(spec.name, f"expected {spec.describe_allowed()}")
    tags: list[str] = []
    for tag in value:
        tag = tag.strip().lower()
        if not tag:
            continue
        if not re.fullmatch(r"[^\s,]{1,64}", tag) or NAME_UNSAFE.search(tag):
            raise FieldError(spec.name, f"{tag!r} is not a tag; tags are single words")
        if tag not in tags:
            tags.append(tag)
    return tags


def _bad() -> Any:
    raise TypeError


_CHECKS: dict[str, Callable[[FieldSpec, Any], Any]] = {
    "text": _check_text,
    "email": _check_email,
    "phone": _check_phone,
    "enum": _check_enum,
    "int": _check_number,
    "number": _check_number,
    "date": _check_date,
    "datetime": _check_datetime,
    "tags": _check_tags,
    "stage": _check_text,  # stage ids are checked against the rules by the workspace
}


def validate_value(name: str, value: Any) -> Any:
    """Return the normalised value or raise FieldError naming the field."""
    spec = field_spec(name)
    return _CHECKS[spec.kind](spec, value)


def parse_value(name: str, text: str, today: date | None = None) -> Any:
    """Turn the text a person typed into a validated field value. Choices are read
    as an import reads them (``Trade Show``); given ``today``, a date may also be a
    day in words (``tomorrow``, ``in 2 weeks``: ``engine.model.date_words``)."""
    spec = field_spec(name)
    text = text.strip() if not spec.multiline else text
    if spec.kind == "enum":
        return validate_value(name, choice_spelled(name, text))
    if spec.kind == "date" and today is not None and text:
        return parse_day(text, today, name).isoformat()
    if spec.kind in ("int", "number"):
        if text == "":
            return None
        shown = repr(text) if len(text) <= 30 else repr(text[:24]) + "…"
        try:
            number: int | float = int(text) if spec.kind == "int" else float(text)
        except ValueError:  # also an int of more than 4,300 digits
            if _NUMBER.fullmatch(text):
                raise out_of_range(spec, shown) from None
            raise FieldError(name, f"{shown} is not {spec.describe_allowed()}") from None
        if not math.isfinite(number) and _NUMBER.fullmatch(text):  # digits past a float's
            raise out_of_range(spec, shown)
        if isinstance(number, float) and number.is_integer():
            number = int(number)
        return validate_value(name, number)
    if spec.kind == "tags":
        return validate_value(name, [part for part in text.split(",")])
    return validate_value(name, text)


def validate_changes(changes: dict[str, Any]) -> dict[str, Any]:
    """Validate a set of field changes; the first bad field raises FieldError."""
    clean: dict[str, Any] = {}
    for name, value in changes.items():
        spec = field_spec(name)
        if not spec.editable:
            raise FieldError(name, "is set by Funnel and cannot be edited")
        clean[name] = validate_value(name, value)
    return clean
