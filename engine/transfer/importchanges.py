"""What a row of an import does to a contact: the new contact it creates, or the
changes it makes to one already in the database.

How a row meets an existing contact (an update): values in the file replace the
contact's (with a history entry ``by`` the import); empty cells change nothing; tags
are added; activities already there are not added twice, and a count column (total
visits) is a running total, so only its growth is added; custom fields are merged;
a stage reached elsewhere moves the contact forward only.

When the contact changed after the plan (``rebase``), the row is derived again from
the contact as it is now, and a field the row would set that someone changed since
the plan is a clash: their value stays, the rest of the row applies.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Sequence

from funnel.engine.transfer.batch import BatchUpdate, NewContact
from funnel.engine.transfer.incoming import Incoming
from funnel.engine.transfer.workspace_protocols import ImportTarget


class PlannedCreate:
    """A row that creates a contact (a ``batch.Creation``). The contact is derived from
    the row, read back from the plan's packed rows, when the batch is written: a big
    import never holds every row's contact at once."""

    __slots__ = ("rows", "index", "defaults", "source")

    def __init__(self, rows: Sequence[Incoming], index: int, defaults: dict[str, Any],
                 source: str) -> None:
        self.rows = rows  # the plan's rows (``importpack.PackedRows``)
        self.index = index  # this row's place among them
        self.defaults = defaults  # shared by every row of the plan: never mutated
        self.source = source  # "imported from leads.csv row"

    def contact(self) -> NewContact:
        item = self.rows[self.index]
        return NewContact(created_fields(item, self.defaults),
                          f"{self.source} " + ", ".join(map(str, item.rows)), item.stage,
                          item.stage_since)


def created_fields(item: Incoming, defaults: dict[str, Any]) -> dict[str, Any]:
    """The fields of the contact a row creates, with the mapping's defaults filled in."""
    fields = dict(item.fields)
    for name, value in defaults.items():
        if name == "tags":
            tags = fields.setdefault("tags", [])
            fields["tags"] = tags + [tag for tag in value if tag not in tags]
        elif fields.get(name) in (None, ""):
            fields[name] = value
    fields["activities"] = merge_activities([], item)
    fields["custom"] = dict(item.custom)
    return fields


def same_email(old: Any, new: Any) -> bool:
    return isinstance(old, str) and isinstance(new, str) \
        and old.strip().casefold() == new.strip().casefold()


def _same(old: Any, new: Any) -> bool:
    return (None if old in ("", [], {}) else old) == (None if new in ("", [], {}) else new)


def to_update(item: Incoming, contact_id: int, document: dict, defaults: dict[str, Any],
              workspace: ImportTarget, why: str) -> BatchUpdate | None:
    """What a row changes in an existing contact; None when it changes nothing."""
    changes: dict[str, Any] = {}
    fields = item.fields
    for name, value in fields.items():
        if name == "created_at":
            continue  # set when the contact was created; an import never moves it
        old = document.get(name)
        if name == "tags":
            merged = list(old or []) + [tag for tag in value if tag not in (old or [])]
            if merged != (old or []):
                changes["tags"] = merged
        elif not _same(old, value) and not (name == "email" and same_email(old, value)):
            changes[name] = value
    for name, value in defaults.items():
        if name == "tags":
            current = changes.get("tags", list(document.get("tags") or []))
            merged = current + [tag for tag in value if tag not in current]
            if merged != list(document.get("tags") or []):
                changes["tags"] = merged
        elif name == "after_contact":  # what was recorded after contact stays so
            merged = sorted(set(document.get(name) or ()) | set(value))
            if merged != list(document.get(name) or ()):
                changes[name] = merged
        elif not fields.get(name) and not document.get(name):
            changes[name] = value
    old_activities = list(document.get("activities") or [])
    activities = merge_activities(old_activities, item)
    if activities != sorted(old_activities, key=lambda a: a["at"]):
        changes["activities"] = activities
    if item.custom:
        old_custom = document.get("custom") or {}
        custom = {**old_custom, **item.custom}
        if custom != old_custom:
            changes["custom"] = custom
    stage = None
    if item.stage is not None and not document.get("stage_pin") \
            and _forward(item.stage, contact_id, document, workspace):
        stage = item.stage
    if not changes and stage is None:
        return None
    return BatchUpdate(contact_id, int(document.get("rev") or 0), changes, why, stage)


@dataclass(frozen=True)
class Seen:
    """A matched contact as the plan saw it: its revision, and the values of the fields
    the row may set (the values are the stored ones, shared: never mutate them)."""

    rev: int
    values: dict[str, Any]


def seen_values(item: Incoming, document: dict, defaults: dict[str, Any]) -> Seen:
    names = (set(item.fields) | set(defaults) | {"tags"}) - {"created_at"}
    values = {name: document.get(name) for name in names}
    if item.custom:
        values["custom"] = document.get("custom") or {}
    return Seen(int(document.get("rev") or 0), values)


Clashes = list[tuple[str, Any, Any]]  # (field, their value, the file's value)


def rebase(item: Incoming, contact_id: int, seen: Seen, current: dict,
           defaults: dict[str, Any], workspace: ImportTarget, why: str
           ) -> tuple[BatchUpdate | None, Clashes]:
    """What the row changes in the contact as it is now, which changed after ``seen``.

    A field the row would set that someone changed since is a clash and keeps their
    value; so does a tag they removed, or a custom field they changed. Activities
    are a log (merged); fields the row does not set merge on their own.
    """
    fresh = to_update(item, contact_id, current, defaults, workspace, why)
    if fresh is None:
        return None, []
    changes = dict(fresh.changes)
    clashes: Clashes = []
    for name, value in fresh.changes.items():
        if name in ("activities", "after_contact") or name not in seen.values:
            continue  # logs and unions: merged, never a clash
        was, now = seen.values[name], current.get(name)
        if name == "tags":
            removed = [tag for tag in was or [] if tag not in (now or [])]
            if any(tag in removed for tag in value):
                clashes.append((name, list(now or []), value))
                _keep(changes, name, [tag for tag in value if tag not in removed], now or [])
        elif name == "custom":
            now = now or {}
            merged = dict(value)
            for key, mine in item.custom.items():
                if not _same(was.get(key), now.get(key)) and not _same(now.get(key), mine):
                    clashes.append((f"custom.{key}", now.get(key), mine))
                    if key in now:
                        merged[key] = now[key]
                    else:
                        merged.pop(key, None)
            _keep(changes, name, merged, now)
        elif not _same(was, now) and not (name == "email" and same_email(was, now)):
            clashes.append((name, now, value))
            del changes[name]
    if not changes and fresh.stage is None:
        return None, clashes
    return replace(fresh, changes=changes), clashes


def _keep(changes: dict[str, Any], name: str, value: Any, now: Any) -> None:
    """Write ``value`` unless it is what is stored already."""
    if value == now:
        del changes[name]
    else:
        changes[name] = value


def _forward(stage_id: str, contact_id: int, document: dict,
             workspace: ImportTarget) -> bool:
    """Would this stage move the contact forward? (The workspace checks again.)"""
    rules = workspace.rules
    target = rules.by_id.get(stage_id)
    if target is None or target.is_exit:
        return False
    if document.get("stage_rules") == rules.name:
        stored = rules.by_id.get(document.get("stage") or "")
        if stored is not None and (stored.is_exit or stored.order >= target.order):
            return False  # the stored stage is where the contact is (forward-only)
    current = rules.by_id.get(workspace.classification(contact_id).stage)
    return current is not None and not current.is_exit and target.order > current.order


def _activity(kind: str, at: str | None, count: int, note: str) -> dict:
    # ``at`` is always set by then (RowReader.finish); the type allows None before.
    activity: dict[str, Any] = {"kind": kind, "at": at}
    if count != 1:
        activity["count"] = count
    activity["note"] = note
    return activity


def merge_activities(old: list[dict], item: Incoming) -> list[dict]:
    """The contact's activities with the file's added: an activity already there is not
    added again; a count column is a running total, so only its growth is added (and a
    smaller total replaces the earlier ones)."""
    result = list(old)
    for activity, how in item.activities:
        if how == "exact":
            if activity not in result:
                result.append(activity)
        elif not any(a["kind"] == activity["kind"] and a.get("note") == activity["note"]
                     for a in result):
            result.append(activity)
    for note, (kind, count, at) in item.totals.items():
        same = [a for a in result if a.get("note") == note]
        had = sum(a.get("count", 1) for a in same)
        if count == had:
            continue
        if count > had:
            result.append(_activity(kind, at, count - had, note))
        else:
            result = [a for a in result if a.get("note") != note]
            if count:
                result.append(_activity(kind, min(a["at"] for a in same), count, note))
    return sorted(result, key=lambda a: a["at"])
