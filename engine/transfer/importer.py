"""Import contacts from a CSV or JSON file: plan first (nothing written), then apply.

    plan = plan_import("leads.csv", "x-education", workspace, progress=callback)
    plan.columns, plan.preview(), plan.problems, plan.counts()   # show this first
    result = workspace.apply_import(plan)                         # all or nothing

Planning opens the file through ``engine.inputs`` (regular files only, up to a size
limit: no device, FIFO or folder), reads it (``csvread``, a row at a time, or
``jsonread``, bounded in size and depth), applies the mapping (``mapping_file``: a
file, a preset or a best guess from the header; a guess that maps no column to a
contact field refuses the file), checks every cell of every row as it is read
(``importrows``), merges rows of the file that are the same contact, and matches the
rest against the database (``importmatch``; what a row does to a contact is
``importchanges``). Nothing is locked while it works.

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

import io
import os
import time
from typing import BinaryIO

from funnel.engine.errors import FieldError, FunnelError
from funnel.engine.inputs import IMPORT_LIMIT, open_input, size_text
from funnel.engine.transfer.batch import BatchConflicts
from funnel.engine.transfer.cells import to_field
from funnel.engine.transfer.csvread import ImportFileError, Table, open_table, sniff_encoding
from funnel.engine.transfer.importlive import LiveImport
from funnel.engine.transfer.importmatch import match, merge_duplicates
from funnel.engine.transfer.importpack import PackedRows
from funnel.engine.transfer.importplan import (PROGRESS_EVERY, ImportConflict,
                                               ImportConflicted, ImportPlan, ImportRefused,
                                               ImportResult, Progress)
from funnel.engine.transfer.importrows import RowReader
from funnel.engine.transfer.incoming import Problem
from funnel.engine.transfer.jsonread import JSON_LIMIT, read_json
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
    FunnelError for an unreadable file (not a regular file, too big: ``engine.inputs``)
    or a bad mapping file; problems in the file's content are in ``plan.problems``.
    A CSV file is read a row at a time (``csvread.open_table``).
    """
    started = time.perf_counter()
    if isinstance(source, bytes):
        path = name or "<data>"
        handle: BinaryIO = io.BytesIO(source)
    else:
        path = str(source)
        handle = open_input(path, IMPORT_LIMIT, "file")
    name = name or os.path.basename(path)
    with handle:
        size = handle.seek(0, io.SEEK_END)
        handle.seek(0)
        as_json = False
        plan: ImportPlan | None = None
        try:
            as_json = _looks_like_json(handle, path)
            table = _read_json(handle, path, size) if as_json else open_table(handle, path)
            plan = _plan(path, name, as_json, table, mapping, by, default_source)
            reader = RowReader(table, mapping=plan.mapping, rules=workspace.rules, plan=plan,
                               now=workspace.now())
            if plan.fatal:
                return plan
            incoming = _check_rows(reader, table, plan, handle, size, progress)
        except ImportFileError as error:
            if plan is None:
                plan = ImportPlan(path, name, "json" if as_json else "csv", "",
                                  mapping_from(mapping, []), "item" if as_json else "row")
            plan.problems.append(Problem(error.row, None, None, error.reason, "file",
                                         error.line, unit=plan.unit))
            plan.problem_count, plan.fatal = 1, True
            plan.incoming = []
            return plan
    for column, count in reader.kept.items():
        plan.warnings.append(f"column {column!r}: {count} value{'s' if count != 1 else ''} "
                             "that the field it was guessed for cannot take "
                             f"{'were' if count != 1 else 'was'} kept as custom field "
                             f"{column!r}; a mapping file with 'values:' can translate them")
    plan.incoming = merge_duplicates(incoming, plan.mapping.match_on, plan)
    del incoming
    _check_keys(plan, reader)
    match(plan, workspace, progress)
    plan.seconds = time.perf_counter() - started
    return plan


def _looks_like_json(handle: BinaryIO, path: str) -> bool:
    """A ``.json`` name, or text that starts with ``[`` or ``{``."""
    head = handle.read(4096)
    handle.seek(0)
    if path.lower().endswith(".json"):
        return True
    codec = (sniff_encoding(head, path) or ("utf-8", ""))[0]
    start = head.decode(codec, errors="ignore").lstrip("\ufeff \t\r\n")
    return start[:1] in ("[", "{")


def _read_json(handle: BinaryIO, path: str, size: int) -> Table:
    if size > JSON_LIMIT:
        raise ImportFileError(path, f"is {size_text(size)}; a JSON import may be at most "
                              f"{size_text(JSON_LIMIT)} (a CSV file, read a row at a time, "
                              "may be bigger)")
    return read_json(handle.read(JSON_LIMIT + 1), path)


def _plan(path: str, name: str, as_json: bool, table: Table,
          mapping: Mapping | str | os.PathLike | None, by: str | None,
          default_source: str | None) -> ImportPlan:
    plan = ImportPlan(path, name, "json" if as_json else "csv",
                      "JSON, " + table.encoding if as_json else table.dialect,
                      mapping_from(mapping, table.header), "item" if as_json else "row",
                      by=by or f"import:{name}", default_source=default_source)
    if default_source is not None:
        try:
            plan.default_source = to_field("source", default_source)
        except FieldError as error:
            raise FunnelError(f"--source: {error.reason}") from None
    return plan


def _check_rows(reader: RowReader, table: Table, plan: ImportPlan, handle: BinaryIO,
                size: int, progress: Progress | None) -> PackedRows:
    """Every record checked as it is read; only the contacts it gives are kept (packed:
    ``importpack``)."""
    incoming = PackedRows()
    rows = 0
    for rows, record in enumerate(table.records, 1):
        item = reader.read(record)
        if item is not None:
            incoming.append(item)
        if progress is not None and rows % PROGRESS_EVERY == 0:
            # The number of rows is known at the end; until then it is estimated from
            # how far into the file the reading is.
            position = max(1, handle.tell())
            progress("check", rows, max(rows + 1, round(rows * size / position)))
    plan.rows = rows
    if progress is not None:
        progress("read", rows, rows)
        progress("check", rows, rows)
    return incoming


def _check_keys(plan: ImportPlan, reader: RowReader) -> None:
    """Rows without the key the mapping matches on: errors (external_id) or a warning."""
    mapping, unit = plan.mapping, plan.unit
    if mapping.match_on == ("external_id",) and not plan.fatal:
        kept = PackedRows()
        for item in plan.incoming:
            if not item.fields.get("external_id"):
                plan.add_problem(Problem(item.row, reader.column_of("external_id"), None,
                                         "no external id: the mapping matches contacts on "
                                         "external_id, so every row needs one", "missing",
                                         item.line, "external_id", unit))
            elif item.row not in plan.bad_rows:
                kept.append(item)
        plan.incoming = kept
    elif "email" in mapping.match_on:
        keyless = sum(1 for item in plan.incoming if item.funnel_id is None
                      and not any(item.fields.get(key) for key in mapping.match_on))
        if keyless:
            plan.warnings.append(
                f"{keyless} {unit}{'s' if keyless != 1 else ''} with no "
                + " and no ".join(k.replace("_", " ") for k in mapping.match_on)
                + ": always added as new contacts (importing the file again would add "
                "them again)")


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
