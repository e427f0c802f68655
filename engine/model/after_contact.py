"""``after_contact``: which of a contact's values were recorded after the sales contact.

An engine-managed key of the document (``STATE_KEYS``), set by an import whose mapping
marks columns ``after_contact: true``: a sorted list of the feature sources those
columns fed: a field name (``need``), ``custom.NAME`` or ``activity.KIND``. Rules may
read those values; a learner leaves them out (they were written knowing how the
conversation went). Absent when empty, like every optional key.
"""

from __future__ import annotations

from typing import Any

from funnel.engine.errors import FieldError
from funnel.engine.model.values import NAME_UNSAFE

AFTER_CONTACT = "after_contact"
MAX_SOURCES = 1_000  # a mapping's columns times their targets, with room to spare
MAX_SOURCE_LENGTH = 120  # "custom." and a custom field's name of at most 100 characters


def validate_after_contact(value: Any) -> list[str]:
    """The sources as stored: text, each once, sorted; FieldError for anything else."""
    if value is None:
        return []
    if not isinstance(value, (list, tuple)):
        raise FieldError(AFTER_CONTACT, "a list of sources (need, custom.NAME, "
                         "activity.KIND) recorded after the sales contact")
    if len(value) > MAX_SOURCES:
        raise FieldError(AFTER_CONTACT, f"{len(value)} sources; at most {MAX_SOURCES:,}")
    for source in value:
        if source.__class__ is not str or not source.strip():
            raise FieldError(AFTER_CONTACT, f"{source!r} is not a source name (text such as "
                             "need, custom.City or activity.call)")
        if len(source) > MAX_SOURCE_LENGTH or NAME_UNSAFE.search(source):
            raise FieldError(AFTER_CONTACT, f"{source[:40]!r} is not a source name: at most "
                             f"{MAX_SOURCE_LENGTH} characters, no control characters")
    return sorted(set(value))


def merged_after_contact(old: Any, new: Any) -> list[str]:
    """Sources once recorded after contact stay so: the union, sorted."""
    return sorted(set(validate_after_contact(old)) | set(validate_after_contact(new)))
