"""Import contacts from a CSV or JSON file: plan first (nothing written), then apply.

    plan = plan_import("leads.csv", "x-education", workspace, progress=callback)
    plan.columns, plan.preview(), plan.problems, plan.counts()   # show this first
    result = workspace.apply_import(plan)                         # all or nothing

Planning reads the file (``engine.csvread``), applies the mapping
(``engine.mapping``: a file, a preset or a best guess from the header), checks
every cell of every row (``engine.importrows``), merges rows of the file that are
the same contact, and matches the rest against the database (by normalised email,
then external id, or what the mapping's ``match_on`` says). Nothing is locked while
it works.

Applying refuses a plan with bad rows (unless ``skip_bad``), then hands the
workspace one batch of new and changed contacts, written in one transaction. If
someone committed in the meantime, the matching is redone and the batch tried again.

How a row meets an existing contact (an update): values in the file replace the
contact's (with a history entry ``by`` the import); empty cells change nothing; tags
are added; activities already there are not added twice, and a count column (total
visits) is a running total, so only its growth is added; custom fields are merged;
a stage reached elsewhere moves the contact forward only.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from funnel.engine.transfer.batch import BatchUpdate, NewContact, StaleBatch
from funnel.engine.transfer.cells import to_field
from funnel.engine.transfer.csvread import ImportFileError, read_table
from funnel.engine.errors import FieldError, FunnelError
from funnel.engine.transfer.importrows import Incoming, Problem, RowReader, add_problem, read_json
from funnel.engine.transfer.mapping import Mapping, mapping_from

Progress = Callable[[str, int, int], None]  # (phase, done, total): read, check, match, write
RETRIES = 5  # times an import re-matches after someone else committed meanwhile
_EVERY = 500  # rows between progress reports


class ImportRefused(FunnelError):
    """The file has errors; nothing was written. ``problems`` lists them."""

    def __init__(self, plan: "ImportPlan") -> None:
        self.plan = plan
        self.problems = plan.problems
        if plan.fatal:
            message = str(plan.problems[0]) if plan.problems else "cannot be imported"
        else:
            rows = len(plan.bad_rows)
            message = (f"{rows} {plan.unit}{'s' if rows != 1 else ''} "
                       f"{'have' if rows != 1 else 'has'} errors; nothing was imported (fix "
                       f"{'them' if rows != 1 else 'it'}, or pass --skip-bad to import the "
                       "others)")
        super().__init__(f"{plan.name}: {message}")


@dataclass(frozen=True)
class Duplicate:
    """Rows of one file that are the same contact (merged in file order)."""

    key: str  # "email anna@example.com", "external_id 660737" or "contact #12"
    rows: tuple[int, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "rows": list(self.rows)}


@dataclass
class ImportPlan:
    """What an import would do. Nothing is written until it is applied."""

    path: str
    name: str  # the file's name, used in the history and in messages
    file_format: str  # csv or json
    dialect: str  # "comma-separated, UTF-8", "JSON, UTF-8"
    mapping: Mapping
    unit: str = "row"
    columns: list[tuple[str, str, str]] = field(default_factory=list)  # column, feeds, note
    rows: int = 0
    incoming: list[Incoming] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    problem_count: int = 0
    bad_rows: set[int] = field(default_factory=set)
    duplicates: list[Duplicate] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    fatal: bool = False
    by: str = "import"
    default_source: str | None = None
    version: int = -1
    creates: list[tuple[Incoming, NewContact]] = field(default_factory=list)
    updates: list[tuple[Incoming, BatchUpdate]] = field(default_factory=list)
    unchanged: list[tuple[Incoming, int]] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.problems and not self.fatal

    def counts(self) -> dict[str, int]:
        """What applying would do (with --skip-bad when there are bad rows)."""
        return {"created": len(self.creates), "updated": len(self.updates),
                "unchanged": len(self.unchanged), "skipped": len(self.bad_rows)}

    def preview(self, count: int = 5) -> list[dict[str, Any]]:
        """The first contacts as they would be written, and what each would do."""
        actions = {id(item): ("create", None) for item, _ in self.creates}
        actions.update({id(item): ("update", update.contact_id)
                        for item, update in self.updates})
        actions.update({id(item): ("unchanged", cid) for item, cid in self.unchanged})
        shown = []
        for item in self.incoming[:count]:
            action, contact_id = actions.get(id(item), ("create", None))
            shown.append({"row": item.row, "action": action, "contact": contact_id,
                          "fields": dict(item.fields),
                          "activities": _merge_activities([], item),
                          "custom": dict(item.custom), "stage": item.stage})
        return shown

    def summary(self) -> dict[str, Any]:
        return {**self.counts(), "errors": [problem.to_dict() for problem in self.problems],
                "error_count": self.problem_count,
                "duplicates_in_file": [duplicate.to_dict() for duplicate in self.duplicates],
                "warnings": list(self.warnings), "file": self.path, "format": self.dialect,
                "rows": self.rows, "mapping": self.mapping.to_dict(),
                "columns": [{"column": column, "feeds": feeds, "note": note}
                            for column, feeds, note in self.columns],
                "preview": self.preview()}


@dataclass
class ImportResult:
    created: list[int]
    updated: list[int]
    unchanged: int
    skipped: int
    plan: ImportPlan
    seconds: float = 0.0  # planning and writing
    lock_seconds: float = 0.0  # how long the database was locked
    replanned: int = 0  # times the matching was redone because someone committed

    def counts(self) -> dict[str, int]:
        return {"created": len(self.created), "updated": len(self.updated),
                "unchanged": self.unchanged, "skipped": self.skipped}


# -- planning ----------------------------------------------------------------------
def plan_import(source: str | os.PathLike | bytes, mapping: Mapping | str | os.PathLike | None,
                workspace: Any, *, progress: Progress | None = None, name: str | None = None,
                default_source: str | None = None, by: str | None = None) -> ImportPlan:
    """Read, map, check and match a file against ``workspace``; write nothing.

    ``source`` is a path or the file's bytes (then give ``name``). ``mapping`` is a
    Mapping, a preset name or a mapping file; None guesses from the header. Raises
    FunnelError for an unreadable file or a bad mapping file; problems in the file's
    content are in ``plan.problems``.
    """
    started = time.perf_counter()
    if isinstance(source, bytes):
        data, path = source, name or "<data>"
    else:
        path = str(source)
        try:
            data = Path(path).read_bytes()
        except FileNotFoundError:
            raise FunnelError(f"{path}: no such file") from None
        except IsADirectoryError:
            raise FunnelError(f"{path}: is a directory, not a file") from None
        except OSError as error:
            raise FunnelError(f"{path}: cannot read: {error.strerror}") from None
    name = name or os.path.basename(path)
    start = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
    as_json = path.lower().endswith(".json") or start.lstrip()[:1] in (b"[", b"{")
    try:
        table = read_json(data, path) if as_json else read_table(data, path, progress)
    except ImportFileError as error:
        plan = ImportPlan(path, name, "json" if as_json else "csv", "", mapping_from(mapping, []))
        plan.problems.append(Problem(error.row, None, None, error.reason, "file", error.line))
        plan.problem_count, plan.fatal = 1, True
        return plan
    mapping = mapping_from(mapping, table.header)
    unit = "item" if as_json else "row"
    plan = ImportPlan(path, name, "json" if as_json else "csv",
                      "JSON, " + table.encoding if as_json else table.dialect, mapping, unit,
                      rows=len(table.records), by=by or f"import:{name}",
                      default_source=default_source)
    if default_source is not None:
        try:
            plan.default_source = to_field("source", default_source)
        except FieldError as error:
            raise FunnelError(f"--source: {error.reason}") from None
    reader = RowReader(table, mapping, workspace.rules, plan,
                        workspace.now())
    if plan.fatal:
        return plan
    total = len(table.records)
    incoming = []
    for index, record in enumerate(table.records):
        item = reader.read(record)
        if item is not None:
            incoming.append(item)
        if progress is not None and index % _EVERY == _EVERY - 1:
            progress("check", index + 1, total)
    if progress is not None:
        progress("check", total, total)
    for column, count in reader.kept.items():
        plan.warnings.append(f"column {column!r}: {count} value{'s' if count != 1 else ''} "
                             "that the field it was guessed for cannot take "
                             f"{'were' if count != 1 else 'was'} kept as custom field "
                             f"{column!r}; a mapping file with 'values:' can translate them")
    plan.incoming = _merge_duplicates(incoming, mapping.match_on, plan)
    if mapping.match_on == ("external_id",) and not plan.fatal:
        for item in plan.incoming:
            if not item.fields.get("external_id"):
                add_problem(plan, Problem(item.row, reader.column_of("external_id"), None,
                                       "no external id: the mapping matches contacts on "
                                       "external_id, so every row needs one", "missing",
                                       item.line, "external_id", unit))
        plan.incoming = [item for item in plan.incoming if item.row not in plan.bad_rows]
    elif "email" in mapping.match_on:
        keyless = sum(1 for item in plan.incoming if item.funnel_id is None
                      and not any(item.fields.get(key) for key in mapping.match_on))
        if keyless:
            plan.warnings.append(
                f"{keyless} {unit}{'s' if keyless != 1 else ''} with no "
                + " and no ".join(k.replace("_", " ") for k in mapping.match_on)
                + ": always added as new contacts (importing the file again would add "
                "them again)")
    _match(plan, workspace, progress)
    plan.seconds = time.perf_counter() - started
    return plan


def apply_import(workspace: Any, plan: ImportPlan, *, skip_bad: bool = False,
                 by: str | None = None, progress: Progress | None = None) -> ImportResult:
    """Write a plan in one transaction; a plan with errors is refused unless ``skip_bad``."""
    if plan.fatal or (plan.problems and not skip_bad):
        raise ImportRefused(plan)
    started = time.perf_counter()
    by = by or plan.by
    replanned = 0
    while True:
        try:
            batch = workspace.commit_batch([new for _, new in plan.creates],
                                           [update for _, update in plan.updates], by,
                                           version=plan.version, progress=progress)
            break
        except StaleBatch:
            replanned += 1
            if replanned > RETRIES:
                raise FunnelError(f"{plan.name}: the database kept changing while importing; "
                                  "nothing was imported; try again") from None
            _match(plan, workspace, progress)
    return ImportResult(batch.created, batch.updated, len(plan.unchanged), len(plan.bad_rows),
                        plan, plan.seconds + time.perf_counter() - started, batch.lock_seconds,
                        replanned)


# -- duplicates and matching ------------------------------------------------------------
def _keys(item: Incoming, match_on: Iterable[str]) -> list[tuple[str, str]]:
    keys = []
    for key in match_on:
        value = item.fields.get(key)
        if value:
            keys.append((key, value.strip().casefold() if key == "email" else value.strip()))
    return keys


def _merge_duplicates(items: list[Incoming], match_on: tuple[str, ...],
                      plan: ImportPlan) -> list[Incoming]:
    """Rows that share a key are one contact: later rows merge into the first."""
    groups: dict[tuple[str, str], Incoming] = {}
    shown: dict[int, str] = {}
    result = []
    for item in items:
        keys = _keys(item, match_on)
        first = next((groups[key] for key in keys if key in groups), None)
        if first is None:
            result.append(item)
            for key in keys:
                groups[key] = item
            continue
        _absorb(first, item)
        shown.setdefault(first.row, next(f"{k} {v}" for k, v in keys if groups.get((k, v))
                                         is first))
        for key in keys:
            groups.setdefault(key, first)
    for item in result:
        if len(item.rows) > 1:
            plan.duplicates.append(Duplicate(shown.get(item.row, "the same contact"),
                                             tuple(item.rows)))
    return result


def _absorb(first: Incoming, later: Incoming) -> None:
    """Merge a later row of the same contact: its values win, tags and activities add up."""
    for name, value in later.fields.items():
        if name == "email" and _same_email(first.fields.get(name), value):
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


def _match(plan: ImportPlan, workspace: Any, progress: Progress | None) -> None:
    """Split the incoming contacts into new, changed and unchanged, against the database
    as it is now (``plan.version`` records which state that was)."""
    plan.version = workspace.version
    match_on = plan.mapping.match_on
    index: dict[tuple[str, str], int] = {}
    shared = 0
    documents: dict[int, dict] = {}  # only the contacts the file names
    wanted = {key for item in plan.incoming for key in _keys(item, match_on)}
    # A contact read back from an export of this database, with no email or external
    # id, is known by its id and the moment it was created.
    exported = {item.funnel_id: item.fields.get("created_at") for item in plan.incoming
                if item.funnel_id is not None and item.fields.get("created_at")}
    by_id: dict[int, int] = {}
    if wanted or exported:
        for contact_id, document in workspace.documents():
            if exported.get(contact_id) is not None \
                    and exported[contact_id] == document.get("created_at"):
                by_id[contact_id] = contact_id
                documents[contact_id] = document
            for key in _keys_of_document(document, match_on):
                if key in wanted:
                    other = index.get(key)
                    if other is not None and other != contact_id:
                        shared += 1
                    if other is None or contact_id < other:
                        index[key] = contact_id
                        documents[contact_id] = document
    plan.creates, plan.updates, plan.unchanged = [], [], []
    claimed: dict[int, Incoming] = {}
    order: list[tuple[Incoming, int | None]] = []
    for item in plan.incoming:
        contact_id = next((index[key] for key in _keys(item, match_on) if key in index), None)
        if contact_id is None and item.funnel_id is not None:
            contact_id = by_id.get(item.funnel_id)
        if contact_id is not None and contact_id in claimed:
            first = claimed[contact_id]
            _absorb(first, item)
            plan.duplicates.append(Duplicate(f"contact #{contact_id}", tuple(first.rows)))
            continue
        if contact_id is not None:
            claimed[contact_id] = item
        order.append((item, contact_id))
    if shared:
        plan.warnings.append(f"{shared} contacts in the database share an email or external "
                             "id with another; rows match the one with the lowest id")
    total = len(order)
    for done, (item, contact_id) in enumerate(order, 1):
        why = f"imported from {plan.name} {plan.unit} " + ", ".join(map(str, item.rows))
        if contact_id is None:
            plan.creates.append((item, _new_contact(item, plan, why)))
        else:
            update = _update(item, contact_id, documents[contact_id], plan, workspace, why)
            if update is None:
                plan.unchanged.append((item, contact_id))
            else:
                plan.updates.append((item, update))
        if progress is not None and done % _EVERY == 0:
            progress("match", done, total)
    if progress is not None:
        progress("match", total, total)


def _keys_of_document(document: dict, match_on: Iterable[str]) -> list[tuple[str, str]]:
    keys = []
    for key in match_on:
        value = document.get(key)
        if value:
            keys.append((key, value.strip().casefold() if key == "email" else value.strip()))
    return keys


def _defaults(plan: ImportPlan) -> dict[str, Any]:
    defaults = dict(plan.mapping.defaults)
    if plan.default_source is not None:
        defaults["source"] = plan.default_source
    return defaults


def _new_contact(item: Incoming, plan: ImportPlan, why: str) -> NewContact:
    fields = dict(item.fields)
    for name, value in _defaults(plan).items():
        if name == "tags":
            tags = fields.setdefault("tags", [])
            fields["tags"] = tags + [tag for tag in value if tag not in tags]
        elif fields.get(name) in (None, ""):
            fields[name] = value
    fields["activities"] = _merge_activities([], item)
    fields["custom"] = dict(item.custom)
    return NewContact(fields, why, item.stage, item.stage_since)


def _same_email(old: Any, new: Any) -> bool:
    return isinstance(old, str) and isinstance(new, str) \
        and old.strip().casefold() == new.strip().casefold()


def _same(old: Any, new: Any) -> bool:
    return (None if old in ("", [], {}) else old) == (None if new in ("", [], {}) else new)


def _update(item: Incoming, contact_id: int, document: dict, plan: ImportPlan,
            workspace: Any, why: str) -> BatchUpdate | None:
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
        elif not _same(old, value) and not (name == "email" and _same_email(old, value)):
            changes[name] = value
    for name, value in _defaults(plan).items():
        if name == "tags":
            current = changes.get("tags", list(document.get("tags") or []))
            merged = current + [tag for tag in value if tag not in current]
            if merged != list(document.get("tags") or []):
                changes["tags"] = merged
        elif not fields.get(name) and not document.get(name):
            changes[name] = value
    old_activities = list(document.get("activities") or [])
    activities = _merge_activities(old_activities, item)
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


def _forward(stage_id: str, contact_id: int, document: dict, workspace: Any) -> bool:
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


def _activity(kind: str, at: str, count: int, note: str) -> dict:
    activity: dict[str, Any] = {"kind": kind, "at": at}
    if count != 1:
        activity["count"] = count
    activity["note"] = note
    return activity


def _merge_activities(old: list[dict], item: Incoming) -> list[dict]:
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
