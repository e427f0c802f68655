"""What one cell of an imported file means for a contact field.

Files say ``Yes``, ``TRUE``, ``Trade Show``, ``1,250``, ``05/03/2024`` or
``"[{""kind"": ...}]"``; the model wants ``yes``, ``trade_show``, ``1250``,
``2024-03-05`` and a list of activities. ``to_field`` makes that step for any
field, forgivingly where the meaning is clear (case, spaces, thousands separators,
a time on a date) and with a ``FieldError`` naming the field where it is not.
Cells may also be JSON values (numbers, lists) when the file is JSON.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from typing import Any

from funnel.engine.errors import FieldError
from funnel.engine.model import (FIELDS, choice_spelled, format_datetime, parse_datetime,
                                 validate_activity, validate_value)

_THOUSANDS = re.compile(r"^[+-]?\d{1,3}([, ']\d{3})+(\.\d+)?$")
_DECIMAL_COMMA = re.compile(r"^[+-]?\d+,\d+$")
_CURRENCY = re.compile(r"^[\s$€£¥₹]+|[\s$€£¥₹]+$|^(?:USD|EUR|GBP|PLN|INR)\s*|\s*(?:USD|EUR|GBP|PLN|INR)$",
                       re.IGNORECASE)
_TAG_SPLIT = re.compile(r"[,;|]")


def value_key(text: str) -> str:
    """How a cell is compared with a mapping's ``values``: case and runs of spaces ignored."""
    return " ".join(str(text).split()).casefold()


def parse_number(value: Any) -> int | float:
    """``12``, ``-3.5``, ``1,250``, ``1 250``, ``2,5`` (a decimal comma), ``$5,000``."""
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, (int, float)):
        return value
    text = _CURRENCY.sub("", str(value).strip())
    if _THOUSANDS.match(text):
        text = re.sub(r"[, ']", "", text)
    elif _DECIMAL_COMMA.match(text):
        text = text.replace(",", ".")
    number = float(text) if any(ch in text for ch in ".eE") or text.lower() in (
        "nan", "inf", "-inf", "infinity") else int(text)
    if isinstance(number, float) and number.is_integer() and abs(number) < 2 ** 53:
        return int(number)
    return number


def parse_moment(value: Any, date_format: str | None = None) -> datetime:
    """A date or date and time: ISO 8601, or ``date_format`` (strptime codes)."""
    text = str(value).strip()
    if date_format:
        try:
            moment = datetime.strptime(text, date_format)
        except ValueError:
            moment = None
        if moment is not None:
            return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    return parse_datetime(text.replace(" ", "T", 1) if len(text) > 10 and text[10] == " "
                          else text)


# Imports and forms read a choice the same forgiving way (``Trade Show``, ``TRUE``).
enum_choice = choice_spelled


def tag_words(value: Any) -> list[str]:
    """Tags from a cell: split at commas, semicolons or bars; spaces inside become '-'."""
    parts = value if isinstance(value, list) else _TAG_SPLIT.split(str(value))
    words = []
    for part in parts:
        word = "-".join(str(part).split()).lower()
        if word:
            words.append(word)
    return words


def activities_from(value: Any) -> list[dict]:
    """A JSON list of activities (the ``activities`` column of an export)."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise FieldError("activities", "is not a JSON list of activities like "
                             '[{"kind": "webinar", "at": "2025-01-31T10:00:00Z"}]') from None
    if not isinstance(value, list):
        raise FieldError("activities", "must be a list of activities")
    return [validate_activity(activity) for activity in value]


def to_field(name: str, value: Any, date_format: str | None = None) -> Any:
    """Turn a cell into a validated value of field ``name`` (None when empty)."""
    spec = FIELDS[name]
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    kind = spec.kind
    if kind in ("int", "number"):
        try:
            number = parse_number(value)
        except (ValueError, OverflowError):
            raise FieldError(name, f"{value!r} is not {spec.describe_allowed()}") from None
        if kind == "int" and isinstance(number, float) and number.is_integer():
            number = int(number)
        return validate_value(name, number)
    if kind == "enum":
        return validate_value(name, enum_choice(name, value))
    if kind == "tags":
        return validate_value(name, tag_words(value))
    if kind in ("date", "datetime"):
        try:
            moment = parse_moment(value, date_format)
        except (ValueError, TypeError):
            hint = "" if date_format else "; for another form set date_format in the mapping " \
                                          "(e.g. %d/%m/%Y)"
            raise FieldError(name, f"{value!r} is not {spec.describe_allowed()}{hint}") from None
        if kind == "date":
            return moment.date().isoformat()
        return format_datetime(moment)
    if not isinstance(value, str):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)
        else:
            raise FieldError(name, f"expected text, got {type(value).__name__}")
    return validate_value(name, value)
