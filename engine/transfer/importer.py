"""Import contacts from a CSV or JSON file: plan first (nothing written), then apply.

    plan = plan_import("leads.csv", "x-education", workspace, progress=callback)
    plan.columns, plan.preview(), plan.problems, plan.counts()   # show this first
    result = workspace.apply_import(plan)                         # all or nothing

Planning reads the file (``csvread`` or ``jsonread``), applies the mapping
(``mapping_file``: a file, a preset or a best guess from the header), checks every
cell of every row (``importrows``), merges rows of the file that are the same
contact, and matches the rest against the database (``importmatch``; what a row
does to a contact is ``importchanges``). Nothing is locked while it works.

Applying refuses a plan with bad rows (unless ``skip_bad``), then hands the
workspace one batch of new and changed contacts (``importlive``), written in one
transaction. Rows of contacts that others changed after the plan are derived again
from the contact as it is then (before the lock, and under it for commits that landed
meanwhile), so an import never has to give up while people keep editing. A field a
row sets that someone changed after the plan keeps their value and is listed in
``result.conflicts``; with ``strict`` any conflict refuses the whole file.

``ImportPlan``, ``ImportResult``, ``ImportRefused``, ``ImportConflict`` and
``ImportConflicted`` (defined in ``importplan``) are part of this module's interface,
as ``plan_import`` and ``apply_import`` return or raise them.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from funnel.engine.errors import FieldError, FunnelError
from funnel.engine.transfer.batch import BatchConflicts
from funnel.engine.transfer.cells import to_field
from funnel.engine.transfer.csvread import ImportFileError, read_table
from funnel.engine.transfer.importlive import LiveImport
from funnel.engine.transfer.importmatch import match, merge_duplicates
from funnel.engine.transfer.importplan import (PROGRESS_EVERY, ImportConflict,
                                               ImportConflicted, ImportPlan, ImportRefused,
                                               ImportResult, Progress)
from funnel.engine.transfer.importrows import RowReader
from funnel.engine.transfer.incoming import Problem
from funnel.engine.transfer.jsonread import read_json
from funnel.engine.transfer.mapping import Mapping
from funnel.engine.transfer.mapping_file import mapping_from
from funnel.engine.transfer.workspace_protocols import ImportTarget

__all__ = ["ImportConflict", "ImportConflicted", "ImportPlan", "ImportRefused",
           "ImportResult", "apply_import", "plan_import"]


def plan_import(source: str | os.PathLike | bytes, mapping: Mapping | str | os.PathLike | None,
                workspace: ImportTarget, *, progress: Progress | None = None,
                name: str | None = None,
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
    reader = RowReader(table, mapping, workspace.rules, plan, workspace.now())
    if plan.fatal:
        return plan
    total = len(table.records)
    incoming = []
    for index, record in enumerate(table.records):
        item = reader.read(record)
        if item is not None:
            incoming.append(item)
        if progress is not None and index % PROGRESS_EVERY == PROGRESS_EVERY - 1:
            progress("check", index + 1, total)
    if progress is not None:
        progress("check", total, total)
    for column, count in reader.kept.items():
        plan.warnings.append(f"column {column!r}: {count} value{'s' if count != 1 else ''} "
                             "that the field it was guessed for cannot take "
                             f"{'were' if count != 1 else 'was'} kept as custom field "
                             f"{column!r}; a mapping file with 'values:' can translate them")
    plan.incoming = merge_duplicates(incoming, mapping.match_on, plan)
    if mapping.match_on == ("external_id",) and not plan.fatal:
        for item in plan.incoming:
            if not item.fields.get("external_id"):
                plan.add_problem(Problem(item.row, reader.column_of("external_id"), None,
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
    match(plan, workspace, progress)
    plan.seconds = time.perf_counter() - started
    return plan


def apply_import(workspace: ImportTarget, plan: ImportPlan, *, skip_bad: bool = False,
                 by: str | None = None, progress: Progress | None = None,
                 strict: bool = False) -> ImportResult:
    """Write a plan in one transaction; a plan with errors is refused unless ``skip_bad``.

    A field a row sets that someone changed after the plan keeps their value and is in
    ``result.conflicts``; with ``strict`` any such conflict raises ImportConflicted
    and nothing is written.
    """
    if plan.fatal or (plan.problems and not skip_bad):
        raise ImportRefused(plan)
    started = time.perf_counter()
    batch = LiveImport(plan, workspace)
    try:
        written = workspace.commit_live_batch(batch, by or plan.by, strict=strict,
                                              progress=progress)
    except BatchConflicts as refused:
        raise ImportConflicted(plan, batch.described(refused.conflicts)) from None
    return ImportResult(written.created, written.updated, batch.unchanged, len(plan.bad_rows),
                        plan, plan.seconds + time.perf_counter() - started,
                        written.lock_seconds, len(batch.rederived),
                        batch.described(written.conflicts), list(written.warnings))
