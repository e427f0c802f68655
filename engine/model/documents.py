"""The contact document: a fresh one, its activities and custom fields, compacting.

A contact is one JSON document (a plain dict) holding the fields and the state the
engine keeps (activities, custom fields, history, revision).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from funnel.engine.errors import FieldError
from funnel.engine.model.after_contact import validate_after_contact
from funnel.engine.model.dates import format_datetime, parse_datetime
from funnel.engine.model.fields import ACTIVITY_KINDS, WORK_OUTCOMES
from funnel.engine.model.values import CONTROL, NAME_UNSAFE, validate_value


def validate_activity(activity: Any) -> dict[str, Any]:
    """An engagement activity: ``{"kind", "at", "count"?, "note"?, "outcome"?}``."""
    if not isinstance(activity, dict):
        raise FieldError("activities", "each activity must be an object with kind and at")
    kind = activity.get("kind")
    if kind not in ACTIVITY_KINDS:
        raise FieldError("activities", f"{kind!r} is not an activity; use one of "
                         + ", ".join(ACTIVITY_KINDS))
    written: Any = activity.get("at")  # parse_datetime refuses anything but text
    try:
        at = format_datetime(parse_datetime(written))
    except (ValueError, TypeError, AttributeError):
        raise FieldError("activities", f"{activity.get('at')!r} is not a date and time "
                         "as YYYY-MM-DDTHH:MM:SSZ") from None
    clean: dict[str, Any] = {"kind": kind, "at": at}
    count = activity.get("count", 1)
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise FieldError("activities", f"count {count!r} must be a whole number of 1 or more")
    if count != 1:
        clean["count"] = count
    note = activity.get("note")
    if note is not None:
        if not isinstance(note, str):
            raise FieldError("activities", "a note must be text")
        clean["note"] = note
    outcome = activity.get("outcome")
    if outcome is not None:  # what came of logged work (a call reached them, ...)
        if outcome not in WORK_OUTCOMES:
            raise FieldError("activities", f"{outcome!r} is not an outcome; use one of "
                             + ", ".join(WORK_OUTCOMES))
        clean["outcome"] = outcome
    extra = set(activity) - {"kind", "at", "count", "note", "outcome"}
    if extra:
        raise FieldError("activities", "unknown activity keys: " + ", ".join(sorted(extra)))
    return clean


# Custom fields: what an imported file holds beyond the contact fields (a web form's
# "How did you hear about us", a scanner's badge id), kept as text under its column name.
CUSTOM_MAX_FIELDS = 200
CUSTOM_MAX_KEY = 100
CUSTOM_MAX_VALUE = 10_000


def validate_custom(custom: Any) -> dict[str, str]:
    """Custom fields: ``{name: text}``; empty values are dropped, names and values trimmed."""
    if custom is None:
        return {}
    if not isinstance(custom, dict):
        raise FieldError("custom", "custom fields must be an object of names to text")
    clean: dict[str, str] = {}
    search = CONTROL.search
    for key, value in custom.items():
        if key.__class__ is not str or not key.strip():
            raise FieldError("custom", f"{key!r} is not a custom field name; names are "
                             "non-empty text")
        name = key.strip()
        if len(name) > CUSTOM_MAX_KEY or NAME_UNSAFE.search(name):
            raise FieldError("custom", f"{name[:40]!r} is not a custom field name; names are "
                             f"up to {CUSTOM_MAX_KEY} characters without control characters")
        if value is None:
            continue
        if value.__class__ is str:
            text = value.strip()
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            text = _number_text(value)
        else:
            raise FieldError("custom", f"{name}: expected text, got {type(value).__name__}")
        if search(text):
            raise FieldError("custom", f"{name}: control characters are not allowed in text")
        if len(text) > CUSTOM_MAX_VALUE:
            raise FieldError("custom", f"{name}: text longer than {CUSTOM_MAX_VALUE:,} "
                             "characters")
        if text:
            if name in clean:
                raise FieldError("custom", f"{name!r} appears twice")
            clean[name] = text
    if len(clean) > CUSTOM_MAX_FIELDS:
        raise FieldError("custom", f"{len(clean)} custom fields; at most "
                         f"{CUSTOM_MAX_FIELDS} are kept per contact")
    return clean


def _number_text(value: int | float) -> str:
    if value != value or value in (float("inf"), float("-inf")):
        raise FieldError("custom", f"{value!r} is not a finite number")
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def new_contact(fields: dict[str, Any], now: datetime) -> dict[str, Any]:
    """A fresh document with every field present (``None`` when unknown).

    Besides the fields, ``fields`` may hold ``activities`` (a list), ``custom``
    (``{name: text}``) and ``after_contact`` (``model.after_contact``).
    """
    fields = dict(fields)
    created = fields.pop("created_at", None)
    custom = validate_custom(fields.pop("custom", None))
    after_contact = validate_after_contact(fields.pop("after_contact", None))
    document: dict[str, Any] = {"budget": "unknown", "authority": "unknown",
                                "need": "unknown", "timing": "unknown"}
    for name, value in fields.items():
        if name == "activities":
            continue
        document[name] = validate_value(name, value)
    document["created_at"] = validate_value("created_at", created) or format_datetime(now)
    document["activities"] = sorted(
        (validate_activity(activity) for activity in fields.get("activities") or []),
        key=lambda activity: activity["at"])
    document["custom"] = custom
    document["after_contact"] = after_contact
    document["history"] = []
    document["stage_since"] = document["created_at"]
    document["rev"] = 0
    document["updated_at"] = format_datetime(now)
    return compact_document(document)


# Keys every stored document has; everything else is present only when it has a value.
ALWAYS_PRESENT = ("created_at", "history", "rev")


def compact_document(document: dict) -> dict:
    """Drop empty values: at 100,000 contacts a third of the file would be nulls.

    Readers use ``.get``, so an absent field and an empty one mean the same.
    """
    return {key: value for key, value in document.items()
            if key in ALWAYS_PRESENT or value not in (None, [], {}, "")}
