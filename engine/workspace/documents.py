"""Building the documents a commit writes: values checked against the rules, history
entries for every change, and the stage transitions the rules or a person call for.

Pure functions of a document, the rules and a moment: nothing here reads or writes
the store.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Mapping

from funnel.engine.errors import FieldError
from funnel.engine.history import entry as history_entry
from funnel.engine.model import compact_document, format_datetime, parse_datetime, validate_changes
from funnel.engine.rules.classify import Classification
from funnel.engine.rules.ruleset import Rules

Changed = dict[str, tuple[Any, Any]]  # field -> (old, new)


def not_a_stage(rules: Rules, field: str, stage_id: str | None) -> FieldError:
    return FieldError(field, f"{stage_id!r} is not a stage; use one of "
                      + ", ".join(rules.stage_ids))


def check_pin(rules: Rules, stage_id: str | None) -> None:
    if stage_id is not None and stage_id not in rules.by_id:
        raise not_a_stage(rules, "stage_pin", stage_id)


def validated(rules: Rules, changes: dict[str, Any]) -> dict[str, Any]:
    """The changes as stored values; FieldError names the first that cannot be stored."""
    clean = validate_changes(changes)
    if "stage_pin" in clean:
        check_pin(rules, clean["stage_pin"])
    return clean


def empty_as_none(value: Any) -> Any:
    return None if value in ("", [], {}) else value


def draft(current: dict) -> dict:
    """A copy of a contact to change: its own dict and history list (the values are
    shared with ``current``; replace them, never mutate them)."""
    new = dict(current)
    new["history"] = list(current["history"])
    return new


def set_fields(new: dict, current: dict, clean: dict[str, Any], now: datetime, by: str,
               why: str | None, overrides: Mapping[str, str] | None = None) -> Changed:
    """Set on ``new`` (a ``draft``) the values that differ from ``current``, each with a
    history entry; returns what changed. ``overrides``: field -> the note recorded for a
    value written knowingly over someone else's change (the entry is marked too)."""
    changed: Changed = {}
    for name, value in clean.items():
        was = current.get(name)
        if empty_as_none(was) != empty_as_none(value):
            changed[name] = (was, value)
            new[name] = value
            note = (overrides or {}).get(name)
            record = history_entry(now, by, "field", field=name, before=was, after=value,
                                   why=f"{note}; {why}" if note and why else note or why)
            if note:
                record["override"] = True
            new["history"].append(record)
    return changed


def stamp_created(document: dict, rules: Rules, now: datetime, by: str, why: str) -> None:
    """Check a new contact's pin and record its creation (at its own ``created_at``,
    which an import may date in the past)."""
    check_pin(rules, document.get("stage_pin"))
    created = min(parse_datetime(document["created_at"]), now)
    document["history"].append(history_entry(created, by, "created", why=why))


def enter_stage(document: dict, stage_id: str, rules: Rules, at: datetime, by: str,
                before: str | None, why: str | None) -> None:
    """Put the contact in a stage as of ``at``, with its history entry."""
    document["history"] = list(document["history"]) + [
        history_entry(at, by, "stage", field="stage", before=before, after=stage_id, why=why)]
    document["stage"] = stage_id
    document["stage_since"] = format_datetime(at)
    document["stage_rules"] = rules.name


def record_stage(document: dict, result: Classification, rules: Rules, now: datetime,
                 by: str, cause: str | None = None) -> None:
    """Record an automatic stage transition the classification calls for."""
    current = document.get("stage") if document.get("stage_rules") == rules.name else None
    if result.stage == current:
        return
    why = result.stage_reason
    if cause:
        why += f" (after {by} changed {cause})"
    actor = by if result.manual else f"rule:stage.{result.stage}"
    enter_stage(document, result.stage, rules, now, actor, current, why)


def evidence_time(document: dict, now: datetime) -> datetime:
    """When a new contact reached its stage: when its latest evidence arrived, not now
    (imported and generated contacts carry months of past activity)."""
    moments = [document["created_at"]] + [a["at"] for a in (document.get("activities") or [])[-1:]]
    latest = parse_datetime(max(moments))
    return min(latest, now)


def stamped(new: dict, current: dict, now: datetime) -> dict:
    """The document as stored: empty values dropped, the next revision, the time."""
    new = compact_document(new)
    new["rev"] = int(current.get("rev") or 0) + 1
    new["updated_at"] = format_datetime(now)
    return new
