"""What an edit was based on, and the refusal when someone changed it since.

Every edit can carry ``expect``: the values of fields as the person (or script) saw
them when they decided. Under the lock, the contact as it is now is compared with
them; any difference is a ``Conflict`` naming the field, what was seen, what is
stored now, who stored it and when. An edit without ``expect`` is based on what this
session last showed of the fields it changes. Fields the edit neither changes nor
expects merge silently.

Besides stored fields, an expectation may name what the rules derive (``stage``,
``score``, ``temperature``…): ``--expect stage=lead`` refuses a move when the contact
is no longer a lead.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Iterable, Mapping

from funnel.engine.errors import Clash, Conflict, FieldError
from funnel.engine.model import FIELDS
from funnel.engine.rules.classify import classify
from funnel.engine.rules.ruleset import Rules
from funnel.engine.workspace.documents import empty_as_none

DERIVED = ("stage", "score", "fit", "engagement", "grade", "temperature", "lead_type")


def check_expectation_names(expect: Mapping[str, Any]) -> None:
    """Refuse an expectation on a name that is neither a field nor derived."""
    for name in expect:
        if name not in FIELDS and name not in DERIVED:
            raise FieldError(name, "cannot be expected: not a field, nor one of "
                             + ", ".join(DERIVED))


def clashes(current: dict, expect: Mapping[str, Any], changes: Mapping[str, Any],
            rules: Rules, now: datetime) -> tuple[Clash, ...]:
    """The expected fields whose value in ``current`` differs from the expectation."""
    derived = None
    found = []
    for name, seen in expect.items():
        if name in DERIVED and name not in changes:
            if derived is None:
                derived = classify(current, rules, now)
            theirs = getattr(derived, name)
        else:
            theirs = current.get(name)
        if same_value(theirs, seen) or (name in changes and same_value(theirs, changes[name])):
            continue  # unchanged, or already what this edit writes: nothing is lost
        by, at = last_change(current, name)
        found.append(Clash(name, seen, theirs, changes.get(name), by, at))
    return tuple(found)


def same_value(stored: Any, seen: Any) -> bool:
    stored, seen = empty_as_none(stored), empty_as_none(seen)
    if isinstance(stored, (int, float)) and isinstance(seen, (int, float)) \
            and not isinstance(stored, bool) and not isinstance(seen, bool):
        return float(stored) == float(seen)
    return bool(stored == seen)


def last_change(document: dict, name: str) -> tuple[str | None, str | None]:
    """Who last changed ``name`` and when, from the contact's history."""
    for entry in reversed(document.get("history") or []):
        if entry.get("field") == name:
            return entry.get("by"), entry.get("at")
    return None, None


def refusal(contact_id: int, current: dict, found: Iterable[Clash],
            changes: Mapping[str, Any], expect: Mapping[str, Any]) -> Conflict:
    found = tuple(found)
    name = current.get("name") or current.get("email") or "no name"
    parts = []
    for clash in found:
        who = f" by {clash.by}" if clash.by else ""
        when = f" at {clash.at}" if clash.at else ""
        parts.append(f"{clash.field} changed{who}{when} from {_shown(clash.seen)} "
                     f"to {_shown(clash.theirs)}")
    message = (f"conflict on contact {contact_id} ({name}): " + "; ".join(parts)
               + " since you saw it; your edit was not saved")
    return Conflict(message, contact_id=contact_id, clashes=found, changes=dict(changes),
                    expect=dict(expect))


def _shown(value: Any) -> str:
    value = empty_as_none(value)
    return "(empty)" if value is None else repr(value)


def override_reasons(conflict: Conflict) -> dict[str, str]:
    """The history note for each field an override writes over someone's change."""
    reasons = {}
    for clash in conflict.clashes:
        if clash.field in conflict.changes:
            who = clash.by or "someone"
            reasons[clash.field] = (f"override: replaced {who}'s {_shown(clash.theirs)}"
                                    f" (seen before: {_shown(clash.seen)})")
    return reasons
