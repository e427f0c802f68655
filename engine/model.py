"""The contact document: its fields, their allowed values, and validation.

A contact is one JSON document (a plain dict). This module knows every field a
person may edit, how to parse one from text (the CLI's ``FIELD=VALUE``), and how
to check a value before anything is stored. Derived values (stage, score, ...)
are not fields here: the classifier computes them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any, Callable

from funnel.engine.errors import FieldError

TRISTATE = ("yes", "no", "unknown")
OUTCOMES = ("won", "lost")

SOURCES = (
    "web_form",
    "trade_show",
    "newsletter",
    "purchased_list",
    "referral",
    "organic_search",
    "paid_search",
    "social",
    "email_campaign",
    "webinar",
    "partner",
    "inbound_call",
    "chat",
    "other",
)

ACTIVITY_KINDS = (
    "page_visit",
    "newsletter_signup",
    "webinar",
    "content_download",
    "product_info_request",
    "email_open",
    "email_click",
    "demo_request",
    "quote_request",
    "call",
    "meeting",
    "purchase",
    "referral_made",
)

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+?[0-9 ().\-/]{5,32}$")
# Control characters other than tab/newline have no business in contact text.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


@dataclass(frozen=True)
class FieldSpec:
    name: str
    group: str
    kind: str  # text, email, phone, enum, int, number, date, datetime, tags, stage
    label: str
    choices: tuple[str, ...] = ()
    editable: bool = True
    multiline: bool = False
    minimum: float | None = None
    maximum: float | None = None

    def describe_allowed(self) -> str:
        if self.choices:
            return "one of " + ", ".join(self.choices)
        return _KIND_HELP[self.kind]


_KIND_HELP = {
    "text": "text",
    "email": "an email address like name@example.com (or empty)",
    "phone": "a phone number of digits, spaces, + - ( ) . / (or empty)",
    "enum": "",
    "int": "a whole number",
    "number": "a number",
    "date": "a date as YYYY-MM-DD (or empty)",
    "datetime": "a date and time as YYYY-MM-DDTHH:MM:SSZ",
    "tags": "a comma-separated list of words",
    "stage": "a stage id of the active rules (or empty)",
}

FIELDS: dict[str, FieldSpec] = {
    spec.name: spec
    for spec in (
        # identity
        FieldSpec("name", "identity", "text", "Name"),
        FieldSpec("email", "identity", "email", "Email"),
        FieldSpec("phone", "identity", "phone", "Phone"),
        FieldSpec("company", "identity", "text", "Company"),
        FieldSpec("title", "identity", "text", "Job title"),
        FieldSpec("country", "identity", "text", "Country"),
        FieldSpec("industry", "identity", "text", "Industry"),
        FieldSpec("company_size", "identity", "int", "Company size (employees)", minimum=0),
        # acquisition
        FieldSpec("source", "acquisition", "enum", "Source", choices=SOURCES),
        FieldSpec("created_at", "acquisition", "datetime", "Created", editable=False),
        FieldSpec("referred_by", "acquisition", "text", "Referred by"),
        FieldSpec("external_id", "acquisition", "text", "External id"),
        # qualification (BANT)
        FieldSpec("budget", "qualification", "enum", "Budget", choices=TRISTATE),
        FieldSpec("authority", "qualification", "enum", "Authority", choices=TRISTATE),
        FieldSpec("need", "qualification", "enum", "Need", choices=TRISTATE),
        FieldSpec("timing", "qualification", "enum", "Timing", choices=TRISTATE),
        FieldSpec("budget_amount", "qualification", "number", "Budget amount", minimum=0),
        # handling
        FieldSpec("owner", "handling", "text", "Owner"),
        FieldSpec("tags", "handling", "tags", "Tags"),
        FieldSpec("notes", "handling", "text", "Notes", multiline=True),
        FieldSpec("next_action", "handling", "text", "Next action"),
        FieldSpec("follow_up", "handling", "date", "Follow-up"),
        FieldSpec("outcome", "handling", "enum", "Outcome", choices=OUTCOMES),
        FieldSpec("outcome_reason", "handling", "text", "Outcome reason"),
        FieldSpec("stage_pin", "handling", "stage", "Pinned stage"),
        FieldSpec("pin_reason", "handling", "text", "Pin reason"),
        FieldSpec("score_adjustment", "handling", "int", "Score adjustment",
                  minimum=-100, maximum=100),
        FieldSpec("score_adjustment_reason", "handling", "text", "Adjustment reason"),
        FieldSpec("disqualify_reason", "handling", "text", "Disqualified because"),
    )
}

# Fields that name a contact's identity for display and search.
TEXT_SEARCH_FIELDS = ("name", "company", "email", "title")

# Engine-managed keys of the document, never set through ``edit``.
STATE_KEYS = ("stage", "stage_since", "stage_rules", "activities", "history", "custom", "rev",
              "updated_at")  # present only when set, like the fields


def utc_now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


def format_datetime(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_datetime(text: str) -> datetime:
    """ISO 8601 with or without zone (naive means UTC); raises ValueError."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment


def _check_text(spec: FieldSpec, value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise FieldError(spec.name, f"expected text, got {type(value).__name__}")
    value = value.strip() if not spec.multiline else value.rstrip()
    if _CONTROL.search(value.replace("\n", "").replace("\t", "") if spec.multiline else value):
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


def _check_enum(spec: FieldSpec, value: Any) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or value not in spec.choices:
        raise FieldError(spec.name, f"{value!r} is not allowed; use {spec.describe_allowed()}")
    return value


def _check_number(spec: FieldSpec, value: Any) -> int | float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise FieldError(spec.name, f"{value!r} is not {spec.describe_allowed()}")
    if spec.kind == "int" and not float(value).is_integer():
        raise FieldError(spec.name, f"{value!r} is not {spec.describe_allowed()}")
    if value != value or value in (float("inf"), float("-inf")):
        raise FieldError(spec.name, f"{value!r} is not a finite number")
    if spec.minimum is not None and value < spec.minimum:
        raise FieldError(spec.name, f"{value!r} is below the minimum {spec.minimum:g}")
    if spec.maximum is not None and value > spec.maximum:
        raise FieldError(spec.name, f"{value!r} is above the maximum {spec.maximum:g}")
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
        if not re.fullmatch(r"[^\s,]{1,64}", tag) or _CONTROL.search(tag):
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


def field_spec(name: str) -> FieldSpec:
    spec = FIELDS.get(name)
    if spec is None:
        raise FieldError(name, "no such field; fields are " + ", ".join(FIELDS))
    return spec


def validate_value(name: str, value: Any) -> Any:
    """Return the normalised value or raise FieldError naming the field."""
    spec = field_spec(name)
    return _CHECKS[spec.kind](spec, value)


def parse_value(name: str, text: str) -> Any:
    """Turn the text a person typed into a validated field value."""
    spec = field_spec(name)
    text = text.strip() if not spec.multiline else text
    if spec.kind in ("int", "number"):
        if text == "":
            return None
        try:
            number = int(text) if spec.kind == "int" else float(text)
        except ValueError:
            raise FieldError(name, f"{text!r} is not {spec.describe_allowed()}") from None
        if spec.kind == "number" and number.is_integer():
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


def validate_activity(activity: Any) -> dict[str, Any]:
    """An engagement activity: ``{"kind", "at", "count"?, "note"?}``."""
    if not isinstance(activity, dict):
        raise FieldError("activities", "each activity must be an object with kind and at")
    kind = activity.get("kind")
    if kind not in ACTIVITY_KINDS:
        raise FieldError("activities", f"{kind!r} is not an activity; use one of "
                         + ", ".join(ACTIVITY_KINDS))
    try:
        at = format_datetime(parse_datetime(activity.get("at")))
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
    extra = set(activity) - {"kind", "at", "count", "note"}
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
    search = _CONTROL.search
    for key, value in custom.items():
        if key.__class__ is not str or not key.strip():
            raise FieldError("custom", f"{key!r} is not a custom field name; names are "
                             "non-empty text")
        name = key.strip()
        if len(name) > CUSTOM_MAX_KEY or search(name):
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

    Besides the fields, ``fields`` may hold ``activities`` (a list) and ``custom``
    (``{name: text}``).
    """
    fields = dict(fields)
    created = fields.pop("created_at", None)
    custom = validate_custom(fields.pop("custom", None))
    document: dict[str, Any] = {"budget": "unknown", "authority": "unknown",
                                "need": "unknown", "timing": "unknown"}
    for name, value in fields.items():
        if name == "activities":
            continue
        spec = field_spec(name)
        document[name] = _CHECKS[spec.kind](spec, value)
    document["created_at"] = (_check_datetime(FIELDS["created_at"], created)
                              or format_datetime(now))
    document["activities"] = sorted(
        (validate_activity(activity) for activity in fields.get("activities") or []),
        key=lambda activity: activity["at"])
    document["custom"] = custom
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
