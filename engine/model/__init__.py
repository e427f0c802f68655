"""The contact model: its fields, their allowed values, dates and the stored document.

A contact is one JSON document (a plain dict). ``fields`` knows every field a person
may edit, ``values`` checks a value (or parses it from the CLI's ``FIELD=VALUE``),
``dates`` writes and reads moments, ``documents`` builds and compacts a contact.
Everything is re-exported here, so ``from funnel.engine.model import FIELDS`` works.
"""

from __future__ import annotations

from funnel.engine.model.dates import format_datetime, parse_datetime, utc_now
from funnel.engine.model.documents import (ALWAYS_PRESENT, CUSTOM_MAX_FIELDS, CUSTOM_MAX_KEY,
                                           CUSTOM_MAX_VALUE, compact_document, new_contact,
                                           validate_activity, validate_custom)
from funnel.engine.model.fields import (ACTIVITY_KINDS, FIELDS, OUTCOMES, SOURCES, STATE_KEYS,
                                        TEXT_SEARCH_FIELDS, TRISTATE, FieldSpec, field_spec)
from funnel.engine.model.values import (choice_spelled, parse_value, validate_changes,
                                        validate_value)

__all__ = [
    "ACTIVITY_KINDS", "ALWAYS_PRESENT", "CUSTOM_MAX_FIELDS", "CUSTOM_MAX_KEY",
    "CUSTOM_MAX_VALUE", "FIELDS", "OUTCOMES", "SOURCES", "STATE_KEYS", "TEXT_SEARCH_FIELDS",
    "TRISTATE", "FieldSpec", "choice_spelled", "compact_document", "field_spec", "format_datetime",
    "new_contact", "parse_datetime", "parse_value", "utc_now", "validate_activity",
    "validate_changes", "validate_custom", "validate_value",
]
