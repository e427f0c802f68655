"""``funnel import`` and ``funnel export``: the command line over engine.importer/exporter.

Import prints what it did (or, with ``--dry-run``, would do); a file with bad rows
is refused whole, with one line per error on stderr and exit status 2. Fields that
someone changed while the file was importing keep their value and are listed as
conflicts (``--strict``: nothing is imported, exit 2); a warning (compaction failed
after the commit) goes to stderr and leaves the exit status 0. Export
writes the data to standard output (or ``--output``) and nothing else there; a file
that exists is replaced only with ``--force``, and never a database or a dotfile.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

from funnel.engine.errors import ConfigError, FunnelError

from funnel.tui.cli.output import dumps, safe

SHOWN_ERRORS = 20  # error lines on stderr; --json lists them all


def run(args: argparse.Namespace, db: Path, rules: Any) -> int:
    if args.command == "import":
        return import_file(args, db, rules)
    return export(args, db, rules)


def app_files(args: argparse.Namespace) -> dict[str, Any]:
    """The app's Settings for a served session's files: ``--files-folder DIR`` (import
    and export by file name in DIR only) or ``--no-files`` (neither)."""
    if args.no_files and args.files_folder is not None:
        raise FunnelError("--files-folder and --no-files: give one or the other")
    if args.no_files:
        return {"files_off": True}
    if args.files_folder is None:
        return {}
    if not args.files_folder.is_dir():
        raise FunnelError(f"--files-folder {safe(str(args.files_folder))}: no such folder")
    return {"files_folder": str(args.files_folder.resolve())}


def _progress(label: str) -> Callable[[str, int, int], None] | None:
    """A line on stderr that updates itself, when stderr is a terminal."""
    if not sys.stderr.isatty():
        return None
    last = [0.0]
    words = {"read": "reading", "check": "checking rows", "match": "matching contacts",
             "write": "writing", "export": "exporting"}

    def report(phase: str, done: int, total: int) -> None:
        now = time.monotonic()
        if now - last[0] < 0.1 and done < total:
            return
        last[0] = now
        sys.stderr.write(f"\r\x1b[K{label}: {words.get(phase, phase)} {done:,}/{total:,}")
        sys.stderr.flush()
    return report


def _clear_progress(progress: Any) -> None:
    if progress is not None:
        sys.stderr.write("\r\x1b[K")
        sys.stderr.flush()


# -- import ------------------------------------------------------------------------
def import_file(args: argparse.Namespace, db: Path, rules: Any) -> int:
    from funnel.engine.transfer.importer import (ImportConflicted, ImportRefused, apply_import,
                                                 plan_import)
    from funnel.engine.workspace.facade import Workspace

    label = f"import {args.file}"
    progress = None if args.json else _progress(label)
    scratch = None
    if args.dry_run and not Path(db).exists():
        # A dry run writes nothing, not even a new database: plan against an empty one.
        scratch = Path(tempfile.mkdtemp(prefix="funnel-dry-run-"))
        db = scratch / "empty.json"
    try:
        with Workspace.open(db, rules, user=args.by) as workspace:
            for warning in workspace.warnings:
                print(f"funnel: warning: {safe(warning)}", file=sys.stderr)
            try:
                plan = plan_import(args.file, args.map, workspace, progress=progress,
                                   default_source=args.source, by=args.by)
            except ConfigError:
                _clear_progress(progress)
                raise  # names the mapping file and line
            except FunnelError as error:
                _clear_progress(progress)
                raise FunnelError(f"import {error}") from None
            refused = plan.fatal or bool(plan.problems and not args.skip_bad)
            result = None
            conflicted: ImportConflicted | None = None
            if not args.dry_run and not refused:
                try:
                    result = apply_import(workspace, plan, skip_bad=args.skip_bad,
                                          progress=progress, strict=args.strict)
                except ImportRefused:  # pragma: no cover - refused above already
                    refused = True
                except ImportConflicted as error:
                    refused, conflicted = True, error
            _clear_progress(progress)
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
    conflicts = conflicted.conflicts if conflicted else result.conflicts if result else []
    if args.json:
        summary = _import_json(plan, result, dry_run=args.dry_run, refused=refused)
        summary["conflicts"] = [conflict.to_dict() for conflict in conflicts]
        print(dumps(summary))
    else:
        text = _import_text(plan, result, dry_run=args.dry_run, refused=refused)
        print(text + ("" if conflicted else _conflicts_text(plan, conflicts)))
    for warning in result.warnings if result else []:
        print(f"funnel: warning: {safe(warning)}", file=sys.stderr)
    if plan.problems:
        _print_problems(plan, refused=refused)
    if conflicted is not None:
        _print_conflicts(plan, conflicted)
    return 2 if refused else 0


def _import_json(plan: Any, result: Any, *, dry_run: bool, refused: bool) -> dict[str, Any]:
    summary = plan.summary()
    if result is not None:
        summary.update(result.counts())
    elif not dry_run:
        summary.update({"created": 0, "updated": 0, "unchanged": 0, "skipped": 0})
    if not dry_run:
        summary.pop("preview", None)
    summary["dry_run"] = dry_run
    summary["refused"] = refused
    summary["seconds"] = round(result.seconds if result else plan.seconds, 3)
    summary["lock_seconds"] = round(result.lock_seconds, 3) if result else 0.0
    summary["replanned"] = result.replanned if result else 0
    if result is not None:
        summary["warnings"] = summary["warnings"] + result.warnings
    return summary


def _shown(value: Any) -> str:
    return "(empty)" if value in (None, "", [], {}) else safe(repr(value))


def _where(plan: Any, conflict: Any) -> str:
    return (f"{plan.unit} {conflict.row}, contact #{conflict.contact_id}"
            + ("" if conflict.field == "contact" else f", {safe(conflict.field)}"))


def _conflicts_text(plan: Any, conflicts: list[Any]) -> str:
    """The rows that kept someone else's change (the import went on without them)."""
    if not conflicts:
        return ""
    count = len(conflicts)
    lines = ["", f"{count} conflict{'s' if count != 1 else ''}: kept a value changed by "
             "someone else while importing"]
    for conflict in conflicts[:SHOWN_ERRORS]:
        if conflict.field == "contact":
            lines.append(f"  {_where(plan, conflict)}: deleted while importing; not imported")
            continue
        who = f" ({safe(conflict.by)})" if conflict.by else ""
        lines.append(f"  {_where(plan, conflict)}: kept {_shown(conflict.theirs)}{who}, the "
                     f"file has {_shown(conflict.in_file)}")
    if count > SHOWN_ERRORS:
        lines.append(f"  ... and {count - SHOWN_ERRORS:,} more (--json lists them)")
    return "\n" + "\n".join(lines)


def _print_conflicts(plan: Any, refused: Any) -> None:
    """--strict refused the file: each conflict, then why nothing was imported."""
    prefix = f"funnel: import {safe(plan.path)}: "
    for conflict in refused.conflicts[:SHOWN_ERRORS]:
        if conflict.field == "contact":
            print(f"{prefix}{_where(plan, conflict)}: deleted while importing", file=sys.stderr)
            continue
        print(f"{prefix}{_where(plan, conflict)}: changed by {safe(conflict.by or 'someone')} "
              f"to {_shown(conflict.theirs)} while importing; the file has "
              f"{_shown(conflict.in_file)}", file=sys.stderr)
    if len(refused.conflicts) > SHOWN_ERRORS:
        print(f"{prefix}... and {len(refused.conflicts) - SHOWN_ERRORS:,} more conflicts "
              "(--json lists them)", file=sys.stderr)
    print(f"funnel: import {safe(str(refused))}", file=sys.stderr)


def _import_text(plan: Any, result: Any, *, dry_run: bool, refused: bool) -> str:
    mapping = plan.mapping
    lines = [f"{safe(plan.path)}: {plan.rows:,} {plan.unit}{'s' if plan.rows != 1 else ''}"
             + (f", {plan.dialect}" if plan.dialect else ""),
             f"mapping: {safe(mapping.name)} ({safe(mapping.source)}); contacts matched on "
             + " or ".join(mapping.match_on)]
    if dry_run or mapping.guessed and not refused:
        lines += ["", "columns"]
        grouped: dict[str, list[str]] = {}
        for column, feeds, note in plan.columns:
            grouped.setdefault(column, []).append(feeds + (f" ({note})" if note else ""))
        width = min(40, max((len(column) for column in grouped), default=0))
        for column, feeds in grouped.items():
            lines.append(f"  {safe(column):<{width}}  -> {safe('; '.join(feeds))}")
    if dry_run and plan.incoming:
        lines += ["", "first contacts"]
        for item in plan.preview():
            lines.append(f"  {plan.unit} {item['row']}: {_preview_line(item)}")
    if plan.duplicates:
        lines += [""] + [f"{plan.unit}s {', '.join(map(str, d.rows))} are one contact "
                         f"({safe(d.key)}): merged" for d in plan.duplicates[:SHOWN_ERRORS]]
        if len(plan.duplicates) > SHOWN_ERRORS:
            lines.append(f"... and {len(plan.duplicates) - SHOWN_ERRORS} more repeated contacts")
    if plan.warnings:
        lines += [""] + [f"note: {safe(warning)}" for warning in plan.warnings]
    counts = result.counts() if result is not None else plan.counts()
    figures = (f"created {counts['created']:,}, updated {counts['updated']:,}, unchanged "
               f"{counts['unchanged']:,}, skipped {counts['skipped']:,}")
    lines.append("")
    if result is not None:
        lines.append(f"{figures} in {result.seconds:.2f} s (the database was locked for "
                     f"{result.lock_seconds:.2f} s)")
    elif dry_run:
        lines.append(f"would have: {figures}" + (" (with --skip-bad)" if plan.problems
                                                 and not plan.fatal else ""))
        lines.append("dry run: nothing was written")
    else:
        lines.append("nothing was imported")
    return "\n".join(lines)


def _preview_line(item: dict[str, Any]) -> str:
    action = item["action"] if item["contact"] is None else f"{item['action']} #{item['contact']}"
    parts = []
    for name, value in item["fields"].items():
        shown = ",".join(value) if isinstance(value, list) else value
        parts.append(f"{name} {safe(shown)}"[:60])
    if item["stage"]:
        parts.append(f"stage {item['stage']}")
    if item["activities"]:
        parts.append(", ".join(f"{a['kind']} x{a.get('count', 1)}" for a in item["activities"]))
    if item["custom"]:
        parts.append(f"{len(item['custom'])} custom field{'s' if len(item['custom']) != 1 else ''}")
    return f"{action}: " + "; ".join(parts)


def _print_problems(plan: Any, *, refused: bool) -> None:
    prefix = f"funnel: import {safe(plan.path)}: "
    verb = "" if refused else "skipped "
    problems = plan.problems
    if refused and len(problems) == 1 and not plan.fatal:
        print(f"{prefix}{safe(problems[0])}; nothing was imported (fix it, or pass "
              "--skip-bad to import the other rows)", file=sys.stderr)
        return
    if refused and plan.fatal:
        print(prefix + safe(problems[0]), file=sys.stderr)
        return
    for problem in problems[:SHOWN_ERRORS]:
        print(f"{prefix}{verb}{safe(problem)}", file=sys.stderr)
    if plan.problem_count > SHOWN_ERRORS:
        print(f"{prefix}... and {plan.problem_count - SHOWN_ERRORS:,} more errors "
              "(--json lists them)", file=sys.stderr)
    if refused:
        rows = len(plan.bad_rows)
        print(f"{prefix}{rows:,} {plan.unit}{'s' if rows != 1 else ''} with errors; nothing "
              "was imported (fix them, or pass --skip-bad to import the other rows)",
              file=sys.stderr)


# -- export ------------------------------------------------------------------------
def export(args: argparse.Namespace, db: Path, rules: Any) -> int:
    from funnel.engine.transfer.exporter import export_contacts
    from funnel.engine.workspace.facade import Workspace

    query = " ".join(args.filter) or None
    with Workspace.open(db, rules, create=False, early_columns=True) as workspace:
        for warning in workspace.warnings:
            print(f"funnel: warning: {safe(warning)}", file=sys.stderr)
        if args.output is None:
            export_contacts(workspace, sys.stdout, file_format=args.format, query=query,
                            stage=args.stage, bom=args.bom)
            return 0
        progress = _progress(f"export {args.output}")
        count = export_contacts(workspace, args.output, file_format=args.format, query=query,
                                stage=args.stage, bom=args.bom, progress=progress,
                                force=args.force)
        _clear_progress(progress)
    print(f"exported {count:,} contact{'s' if count != 1 else ''} to {safe(args.output)}")
    return 0
