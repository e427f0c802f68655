"""An import's plan (what it would do; nothing is written until it is applied), its
result with the rows that met someone else's change, and the errors that refuse a
plan with bad rows or (``strict``) with such conflicts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from funnel.engine.errors import FunnelError
from funnel.engine.transfer.batch import BatchUpdate
from funnel.engine.transfer.importchanges import Seen, merge_activities
from funnel.engine.transfer.incoming import Incoming, Problem
from funnel.engine.transfer.mapping import Mapping

Progress = Callable[[str, int, int], None]  # (phase, done, total): read, check, match, write
PROGRESS_EVERY = 500  # rows between progress reports
MAX_PROBLEMS = 10_000  # kept in a plan; the rest are only counted


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
class ImportConflict:
    """A field a row sets that someone changed while the file was importing: their
    value was kept. ``field`` "contact" (no values): the contact was deleted."""

    rows: tuple[int, ...]  # the file's rows of this contact
    contact_id: int
    field: str  # a field, or custom.KEY
    theirs: Any  # the value they stored, kept
    in_file: Any  # the file's value, not written
    by: str | None = None  # who changed it, as the history says
    at: str | None = None

    @property
    def row(self) -> int:
        return self.rows[0]

    def to_dict(self) -> dict[str, Any]:
        return {"row": self.row, "rows": list(self.rows), "contact": self.contact_id,
                "field": self.field, "theirs": self.theirs, "file": self.in_file,
                "by": self.by, "at": self.at}


class ImportConflicted(FunnelError):
    """``strict``: rows conflict with changes made while importing; nothing was written."""

    def __init__(self, plan: "ImportPlan", conflicts: list[ImportConflict]) -> None:
        self.plan = plan
        self.conflicts = conflicts
        rows = len({conflict.row for conflict in conflicts})
        super().__init__(f"{plan.name}: {rows} {plan.unit}{'s' if rows != 1 else ''} "
                         f"conflict{'s' if rows == 1 else ''} with changes made while "
                         "importing; nothing was imported (--strict)")


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
    # The file's contacts, packed (``importpack``); a row read from it is a fresh copy.
    incoming: Sequence[Incoming] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    problem_count: int = 0
    bad_rows: set[int] = field(default_factory=set)
    duplicates: list[Duplicate] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    fatal: bool = False
    by: str = "import"
    default_source: str | None = None
    version: int = -1
    creates: Sequence[int] = field(default_factory=list)  # rows of ``incoming`` to add
    updates: list[tuple[Incoming, BatchUpdate]] = field(default_factory=list)
    unchanged: list[tuple[Incoming, int]] = field(default_factory=list)
    seen: dict[int, Seen] = field(default_factory=dict)  # matched contacts as planned against
    top_id: int = -1  # the highest contact id when matched (-1: the database was not read)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.problems and not self.fatal

    def add_problem(self, problem: Problem) -> None:
        """Record a problem; past ``MAX_PROBLEMS`` it is only counted."""
        self.problem_count += 1
        if problem.row is not None:
            self.bad_rows.add(problem.row)
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(problem)

    def defaults(self) -> dict[str, Any]:
        """The values a new contact gets where the file gives none: the mapping's
        defaults, the source given for the whole file, and ``after_contact`` (what the
        mapping's after-contact columns feed: every contact it imports records it)."""
        defaults = dict(self.mapping.defaults)
        if self.default_source is not None:
            defaults["source"] = self.default_source
        after_contact = self.mapping.after_contact
        if after_contact:
            defaults["after_contact"] = after_contact
        return defaults

    def counts(self) -> dict[str, int]:
        """What applying would do (with --skip-bad when there are bad rows)."""
        return {"created": len(self.creates), "updated": len(self.updates),
                "unchanged": len(self.unchanged), "skipped": len(self.bad_rows)}

    def preview(self, count: int = 5) -> list[dict[str, Any]]:
        """The first contacts as they would be written, and what each would do."""
        # By the row a contact starts on (rows read back are copies, not the same objects).
        actions: dict[int, tuple[str, int | None]] = {
            item.row: ("update", update.contact_id) for item, update in self.updates}
        actions.update({item.row: ("unchanged", cid) for item, cid in self.unchanged})
        shown = []
        for item in self.incoming[:count]:
            action, contact_id = actions.get(item.row, ("create", None))
            shown.append({"row": item.row, "action": action, "contact": contact_id,
                          "fields": dict(item.fields),
                          "activities": merge_activities([], item),
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
    replanned: int = 0  # rows derived again because their contact changed meanwhile
    conflicts: list[ImportConflict] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # imported, but something after failed

    def counts(self) -> dict[str, int]:
        return {"created": len(self.created), "updated": len(self.updated),
                "unchanged": self.unchanged, "skipped": self.skipped}
