"""Which contacts teach the model, and what was known of each before its outcome.

A label: outcome ``won`` is positive; outcome ``lost`` or stage ``disqualified`` is
negative; anyone else is scored, never trained on. What was known: the history lists
every field change with its moment, so a field changed after the change that set the
outcome is read as it was before (the first later change's ``from``); activities
dated after that moment are dropped. An outcome set when the contact was created
(an import) has no change of its own: the creation is the moment.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from funnel.engine.model import format_datetime, parse_datetime

POSITIVE, NEGATIVE = 1, 0
DISQUALIFIED = "disqualified"


def label(document: dict) -> int | None:
    """1 for won, 0 for lost or disqualified, None for a contact still open."""
    outcome = document.get("outcome")
    if outcome == "won":
        return POSITIVE
    if outcome == "lost" or document.get("stage") == DISQUALIFIED \
            or document.get("stage_pin") == DISQUALIFIED:
        return NEGATIVE
    return None


def _moment(text: Any) -> datetime | None:
    try:
        return parse_datetime(text)
    except (ValueError, TypeError, AttributeError):
        return None


def _deciding_entry(history: list, outcome: Any) -> int | None:
    """The index of the history entry that set the label (None: set at creation)."""
    found = None
    for index, record in enumerate(history):
        if not isinstance(record, dict) or "merged_from" in record:
            continue  # (a merged-in contact's labels were its own)
        kind, to = record.get("kind"), record.get("to")
        if outcome in ("won", "lost"):
            if kind == "field" and record.get("field") == "outcome" and to == outcome:
                found = index
        elif (kind == "stage" and to == DISQUALIFIED) or (
                kind == "field" and record.get("field") == "stage_pin" and to == DISQUALIFIED):
            found = index
    return found


def known_before_outcome(document: dict) -> tuple[dict, datetime | None]:
    """The contact as it was when its outcome was set, and that moment.

    Returns a shallow copy: fields changed later hold their earlier value, activities
    dated later are gone. For a contact with no label, the document itself and None.
    """
    if label(document) is None:
        return document, None
    history = document.get("history") or []
    index = _deciding_entry(history, document.get("outcome"))
    if index is None:
        # Set at creation: every change recorded since came after it.
        when = document.get("created_at")
        later = [record for record in history if isinstance(record, dict)
                 and record.get("kind") == "field"]
    else:
        when = history[index].get("at")
        later = [record for record in history[index + 1:] if isinstance(record, dict)
                 and record.get("kind") == "field"]
    view = dict(document)
    restored: set[str] = set()
    for record in later:
        name = record.get("field")
        if not isinstance(name, str) or name in restored or name == "outcome":
            continue
        restored.add(name)  # the first change after the outcome holds the value before it
        view[name] = record.get("from")
    moment = _moment(when)
    if moment is not None and document.get("activities"):
        # Stored moments are all written one way (YYYY-MM-DDTHH:MM:SSZ): text compares.
        limit = when if isinstance(when, str) and len(when) == 20 else format_datetime(moment)
        view["activities"] = [activity for activity in document["activities"]
                              if str(activity.get("at", "")) <= limit]
    return view, moment
