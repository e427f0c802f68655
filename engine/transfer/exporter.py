"""Export contacts: a CSV that is safe to open in a spreadsheet, or JSON documents.

``export_contacts(workspace, destination, format=..., query=..., stage=..., ids=...)``
writes the contacts a filter selects (the query language of ``engine.query``, or
the ids a front end shows), in id order. Both formats read back with
``funnel import`` into the same contacts and classifications:

- CSV: ``id``, every contact field, ``stage`` (where the contact is) and
  ``stage_since``, ``activities`` as a JSON list, one ``custom.NAME`` column per
  custom field, then what the rules derive (score, fit, engagement, grade,
  temperature, lead_type, rotting, overdue), which an import skips. Tags are
  comma-separated. A cell that a spreadsheet would run as a formula (starting with
  ``= + - @``, a tab or a carriage return) is written with a leading single quote
  (``'=HYPERLINK(...)``); plain numbers such as ``-5`` are left alone. An import takes
  that quote off again.
- JSON: a list of contact documents, each as ``funnel show --json`` prints one
  (``id``, ``fields``, ``activities``, ``custom``, ``stage_since``, ``rev``,
  ``classification``, ``history``).

A file is written beside its target and renamed into place, readable by its owner
only. It never replaces a Funnel database, a dotfile or anything but a regular file,
and replaces an existing file only with ``force`` (``engine.transfer.destinations``).
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path
from typing import Any, Callable, Iterable, TextIO

from funnel.engine.rules.classify import Classification
from funnel.engine.transfer.csvread import neutralise
from funnel.engine.errors import FunnelError
from funnel.engine.files import AtomicFile
from funnel.engine.transfer.destinations import check_export_target, install_new
from funnel.engine.transfer.mapping import CUSTOM_PREFIX, DERIVED_COLUMNS
from funnel.engine.transfer.workspace_protocols import ExportSource
from funnel.engine.model import FIELDS

FORMATS = ("csv", "json")
FILE_MODE = 0o600  # contacts are personal data, and a served user's files are theirs
Progress = Callable[[str, int, int], None]
Selected = tuple[int, dict, Classification]


def select(workspace: ExportSource, query: str | None = None, stage: str | None = None,
           ids: Iterable[int] | None = None) -> list[Selected]:
    """The contacts to export: ``ids`` (in that order) or those matching the query (by
    id), optionally only in one stage."""
    if stage is not None and stage not in workspace.rules.by_id:
        raise FunnelError(f"--stage: {stage!r} is not a stage; use one of "
                          + ", ".join(workspace.rules.stage_ids))
    if ids is not None:
        rows = []
        for contact_id in ids:
            document, result = workspace.row(contact_id)
            rows.append((contact_id, document, result))
    else:
        rows = sorted(((row.id, row.contact, row.classification)
                       for row in workspace.contacts(query)), key=lambda row: row[0])
    if stage is not None:
        rows = [row for row in rows if row[2].stage == stage]
    # Bulk classifications leave the explanation out; an export carries it.
    return [(contact_id, document, result if result.explanation is not None
             else workspace.explained(contact_id)) for contact_id, document, result in rows]


def contact_document(contact_id: int, document: dict, result: Classification
                     ) -> dict[str, Any]:
    """One contact as JSON: the shape of ``funnel show --json`` and of a JSON export."""
    return {
        "id": contact_id,
        "fields": {name: document.get(name) for name in FIELDS},
        "activities": document.get("activities") or [],
        "custom": document.get("custom") or {},
        "after_contact": document.get("after_contact") or [],
        "stage_since": document.get("stage_since"),
        "rev": document.get("rev"),
        "classification": result.to_dict(),
        "history": document.get("history", []),
    }


def csv_header(rows: list[Selected]) -> list[str]:
    custom = sorted({key for _, document, _ in rows for key in document.get("custom") or {}})
    # Only when some contact has it, so exports of other contacts keep their columns.
    after = ["after_contact"] if any(document.get("after_contact")
                                     for _, document, _ in rows) else []
    return (["id"] + list(FIELDS) + ["stage", "stage_since", "activities"] + after
            + [CUSTOM_PREFIX + key for key in custom] + list(DERIVED_COLUMNS[1:]))


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ",".join(map(str, value))
    return str(value)


def csv_row(header: list[str], contact_id: int, document: dict, result: Classification
            ) -> list[str]:
    custom = document.get("custom") or {}
    activities = document.get("activities") or []
    derived = {"score": result.score, "fit": result.fit, "engagement": result.engagement,
               "grade": result.grade, "temperature": result.temperature,
               "lead_type": result.lead_type, "rotting": result.rotting,
               "overdue": result.overdue, "stage": result.stage,
               "stage_since": document.get("stage_since"), "id": contact_id,
               "activities": json.dumps(activities, ensure_ascii=False,
                                        separators=(",", ":")) if activities else ""}
    cells = []
    for column in header:
        if column in derived:
            value = derived[column]
        elif column.startswith(CUSTOM_PREFIX):
            value = custom.get(column[len(CUSTOM_PREFIX):])
        else:
            value = document.get(column)
        cells.append(neutralise(_text(value)))
    return cells


def write_csv(rows: list[Selected], out: TextIO, progress: Progress | None = None) -> None:
    header = csv_header(rows)
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([neutralise(column) for column in header])
    for done, (contact_id, document, result) in enumerate(rows, 1):
        writer.writerow(csv_row(header, contact_id, document, result))
        if progress is not None and done % 1000 == 0:
            progress("export", done, len(rows))


def write_json(rows: list[Selected], out: TextIO, progress: Progress | None = None) -> None:
    out.write("[")
    for done, (contact_id, document, result) in enumerate(rows, 1):
        out.write("\n" if done == 1 else ",\n")
        out.write(json.dumps(contact_document(contact_id, document, result),
                             ensure_ascii=False))
        if progress is not None and done % 1000 == 0:
            progress("export", done, len(rows))
    out.write("\n]\n")


def export_contacts(workspace: ExportSource, destination: str | os.PathLike | TextIO, *,
                    file_format: str = "csv", query: str | None = None,
                    stage: str | None = None, ids: Iterable[int] | None = None,
                    bom: bool = False, progress: Progress | None = None,
                    force: bool = False) -> int:
    """Write the selected contacts to a path (atomically) or an open text stream.

    Returns how many were written. ``bom`` starts a CSV with a UTF-8 byte-order mark,
    which Excel needs to read non-English letters right. ``force`` lets a path that
    names an existing regular file be replaced (never a database or a dotfile).
    """
    if file_format not in FORMATS:
        raise FunnelError(f"--format: {file_format!r} is not a format; use csv or json")
    if isinstance(destination, (str, os.PathLike)):
        check_export_target(destination, force=force)  # refused before any work
    rows = select(workspace, query, stage, ids)
    write = write_csv if file_format == "csv" else write_json
    if not isinstance(destination, (str, os.PathLike)):
        if bom and file_format == "csv":
            destination.write("\ufeff")
        write(rows, destination, progress)
    else:
        _write_file(Path(destination), lambda out: (
            out.write("\ufeff") if bom and file_format == "csv" else None,
            write(rows, out, progress)), force=force)
    if progress is not None:
        progress("export", len(rows), len(rows))
    return len(rows)


def _write_file(path: Path, fill: Callable[[TextIO], Any], *, force: bool) -> None:
    """Write next to ``path`` and rename it into place: a reader never sees half a file.
    Without ``force`` the rename cannot replace a file that appeared meanwhile."""
    try:
        with AtomicFile(path, FILE_MODE, exact_mode=True) as temp:
            fill(temp.text(encoding="utf-8", newline=""))
            if force:
                check_export_target(path, force=True)  # still no database, say, by now
                temp.install()
            else:
                install_new(temp, path)
    except OSError as error:
        raise FunnelError(f"{path}: cannot write: {error.strerror}") from None
