"""Matching an import's rows: rows of the file that are the same contact are merged,
and the rest are matched against the database (by normalised email, then external
id, or what the mapping's ``match_on`` says) into new, changed and unchanged."""

from __future__ import annotations

from array import array
from typing import Any, Iterable

from funnel.engine.transfer.importchanges import same_email, seen_values, to_update
from funnel.engine.transfer.importplan import PROGRESS_EVERY, Duplicate, ImportPlan, Progress
from funnel.engine.transfer.importpack import PackedRows, packed
from funnel.engine.transfer.incoming import Incoming
from funnel.engine.transfer.workspace_protocols import ImportTarget


def keys_of(item: Incoming, match_on: Iterable[str]) -> list[tuple[str, str]]:
    """The (key, value) pairs a row is matched on; emails ignore case."""
    keys = []
    for key in match_on:
        value = item.fields.get(key)
        if value:
            keys.append((key, value.strip().casefold() if key == "email" else value.strip()))
    return keys


def merge_duplicates(items: Iterable[Incoming], match_on: tuple[str, ...],
                     plan: ImportPlan) -> PackedRows:
    """Rows that share a key are one contact: later rows merge into the first."""
    groups: dict[tuple[str, str], int] = {}  # key -> the first row's place in the result
    shown: dict[int, str] = {}
    result = PackedRows()
    for item in items:
        keys = keys_of(item, match_on)
        first = next((groups[key] for key in keys if key in groups), None)
        if first is None:
            for key in keys:
                groups[key] = len(result)
            result.append(item)
            continue
        merged = result[first]
        _absorb(merged, item)
        result.replace(first, merged)
        shown.setdefault(first, next(f"{k} {v}" for k, v in keys if groups.get((k, v))
                                     == first))
        for key in keys:
            groups.setdefault(key, first)
    for index in sorted(shown):
        plan.duplicates.append(Duplicate(shown[index], tuple(result[index].rows)))
    return result


def _absorb(first: Incoming, later: Incoming) -> None:
    """Merge a later row of the same contact: its values win, tags and activities add up."""
    for name, value in later.fields.items():
        if name == "email" and same_email(first.fields.get(name), value):
            continue  # the key they share: the first spelling stays
        if name == "tags":
            tags = first.fields.setdefault("tags", [])
            tags += [tag for tag in value if tag not in tags]
        else:
            first.fields[name] = value
    first.activities += [pair for pair in later.activities if pair not in first.activities]
    first.totals.update(later.totals)
    first.custom.update(later.custom)
    if later.stage is not None:
        first.stage = later.stage
        first.stage_since = later.stage_since or first.stage_since
    first.rows += later.rows


def match(plan: ImportPlan, workspace: ImportTarget, progress: Progress | None) -> None:
    """Split the incoming contacts into new, changed and unchanged, against the database
    as it is now (``plan.version`` records which state that was)."""
    plan.version = workspace.version
    plan.top_id = -1
    match_on = plan.mapping.match_on
    index: dict[tuple[str, str], int] = {}
    shared = 0
    documents: dict[int, dict] = {}  # only the contacts the file names
    defaults = plan.defaults()
    rows = plan.incoming = packed(plan.incoming)
    wanted: set[tuple[str, str]] = set()
    # A contact read back from an export of this database, with no email or external
    # id, is known by its id and the moment it was created.
    exported: dict[int, Any] = {}
    for item in rows:
        wanted.update(keys_of(item, match_on))
        if item.funnel_id is not None and item.fields.get("created_at"):
            exported[item.funnel_id] = item.fields.get("created_at")
    by_id: dict[int, int] = {}
    contact_id: int | None
    if wanted or exported:
        for contact_id, document in workspace.documents():
            plan.top_id = max(plan.top_id, contact_id)
            if exported.get(contact_id) is not None \
                    and exported[contact_id] == document.get("created_at"):
                by_id[contact_id] = contact_id
                documents[contact_id] = document
            for key in document_keys(document, match_on):
                if key in wanted:
                    other = index.get(key)
                    if other is not None and other != contact_id:
                        shared += 1
                    if other is None or contact_id < other:
                        index[key] = contact_id
                        documents[contact_id] = document
    creates = array("q")  # the rows' places only: each is read back when it is written
    plan.creates, plan.updates, plan.unchanged, plan.seen = creates, [], [], {}
    claimed: dict[int, tuple[int, Incoming]] = {}  # contact id -> its row's place, the row
    total = len(rows)
    for done, item in enumerate(rows):
        contact_id = next((index[key] for key in keys_of(item, match_on) if key in index), None)
        if contact_id is None and item.funnel_id is not None:
            contact_id = by_id.get(item.funnel_id)
        if contact_id is None:
            creates.append(done)
        elif contact_id in claimed:
            at, first = claimed[contact_id]
            _absorb(first, item)
            rows.replace(at, first)
            plan.duplicates.append(Duplicate(f"contact #{contact_id}", tuple(first.rows)))
        else:
            claimed[contact_id] = (done, item)
        if progress is not None and done % PROGRESS_EVERY == PROGRESS_EVERY - 1:
            progress("match", done + 1, total)
    if shared:
        plan.warnings.append(f"{shared} contacts in the database share an email or external "
                             "id with another; rows match the one with the lowest id")
    for contact_id, (_, item) in sorted(claimed.items(), key=lambda pair: pair[1][0]):
        plan.seen[contact_id] = seen_values(item, documents[contact_id], defaults)
        update = to_update(item, contact_id, documents[contact_id], defaults, workspace,
                           why_of(plan, item))
        if update is None:
            plan.unchanged.append((item, contact_id))
        else:
            plan.updates.append((item, update))
    if progress is not None:
        progress("match", total, total)


def why_of(plan: ImportPlan, item: Incoming | None) -> str:
    """The history's reason for what a row does (None: its start, without the rows)."""
    start = f"imported from {plan.name} {plan.unit}"
    return start if item is None else f"{start} " + ", ".join(map(str, item.rows))


def document_keys(document: dict, match_on: Iterable[str]) -> list[tuple[str, str]]:
    keys = []
    for key in match_on:
        value = document.get(key)
        if value:
            keys.append((key, value.strip().casefold() if key == "email" else value.strip()))
    return keys
