"""Import a file (pick, preview the mapping and the first rows, see problems,
confirm) and export the current view, from the TUI. The engine does the work
(``engine.importer``, ``engine.exporter``) in workers, with progress shown; each
screen dismisses with what it did (None: cancelled)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import DirectoryTree, Input, Label, ProgressBar, Static

from funnel.engine.errors import FunnelError
from funnel.engine.transfer.exporter import export_contacts
from funnel.engine.transfer.importer import ImportPlan, ImportResult, plan_import
from funnel.tui.app.services import services
from funnel.tui.widgets.text import literal

PHASES = {"read": "reading", "check": "checking", "match": "matching", "write": "writing",
          "export": "writing"}


@dataclass(frozen=True)
class Exported:
    path: Path
    count: int


class ImportScreen(ModalScreen[ImportResult]):
    """Pick a file and a mapping, preview what would happen, then confirm."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="import.cancel"),
        Binding("ctrl+l", "preview", "Preview", id="import.preview"),
        Binding("ctrl+s", "confirm", "Import", id="import.confirm"),
        Binding("ctrl+b", "skip_bad", "Import, skipping bad rows", show=False,
                id="import.skip_bad"),
    ]
    DEFAULT_CSS = """
    ImportScreen { align: center middle; }
    ImportScreen > Vertical { width: 100%; max-width: 120; height: 100%; max-height: 40;
        border: round $accent; background: $surface; padding: 0 1; }
    ImportScreen .title { text-style: bold; }
    ImportScreen Input { height: 1; border: none; padding: 0; background: $boost; }
    ImportScreen DirectoryTree { height: 8; }
    ImportScreen #import-preview { height: 1fr; }
    ImportScreen ProgressBar { height: 1; }
    ImportScreen .hint { color: $text-muted; }
    """

    def __init__(self, start: Path | None = None) -> None:
        super().__init__()
        self._start = start or Path.cwd()
        self._plan: ImportPlan | None = None

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Import contacts from a CSV or JSON file", classes="title")
            with Horizontal(classes="row"):
                yield Label("File:    ")
                yield Input(placeholder="path to a .csv or .json file", id="import-file")
            with Horizontal(classes="row"):
                yield Label("Mapping: ")
                yield Input(placeholder="empty: a best guess from the header; or a preset "
                                        "(x-education) or a mapping file", id="import-map")
            yield DirectoryTree(str(self._start), id="import-tree")
            yield ProgressBar(total=100, show_eta=False, id="import-progress")
            with VerticalScroll(id="import-preview"):
                yield Static("", id="import-report")
            yield Static("Enter on a file picks it · ctrl+l previews · ctrl+s imports "
                         "(ctrl+b skips bad rows) · Esc cancels", classes="hint")

    def on_mount(self) -> None:
        self.query_one("#import-progress").display = False
        self.set_focus(self.query_one("#import-file", Input))

    @on(DirectoryTree.FileSelected)
    def _picked(self, event: DirectoryTree.FileSelected) -> None:
        self.query_one("#import-file", Input).value = str(event.path)
        self.action_preview()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        self.action_preview()

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_preview(self) -> None:
        path = self.query_one("#import-file", Input).value.strip()
        if not path:
            self._report(Content.styled("Name a file first", "$error"))
            return
        mapping = self.query_one("#import-map", Input).value.strip() or None
        self._plan = None
        self._plan_in_worker(path, mapping)

    def _progress(self, phase: str, done: int, total: int) -> None:
        bar = self.query_one("#import-progress", ProgressBar)
        bar.display = True
        bar.update(total=max(total, 1), progress=done)
        self._report(Content.styled(f"{PHASES.get(phase, phase)} {done:,} of {total:,}…",
                                    "italic"))

    @work(thread=True, exclusive=True, group="import")
    def _plan_in_worker(self, path: str, mapping: str | None) -> None:
        def progress(phase: str, done: int, total: int) -> None:
            self.app.call_from_thread(self._progress, phase, done, total)
        try:
            plan = plan_import(Path(path).expanduser(), mapping, services(self).workspace,
                               progress=progress, by=f"import:{Path(path).name}")
        except FunnelError as error:
            self.app.call_from_thread(self._report, Content.styled(literal(error), "$error"))
            return
        self.app.call_from_thread(self._planned, plan)

    def _planned(self, plan: ImportPlan) -> None:
        self._plan = plan
        self.query_one("#import-progress").display = False
        counts = plan.counts()
        lines = [Content.styled(f"{literal(plan.name)}: {plan.rows:,} {plan.unit}s, "
                                f"{literal(plan.dialect)}", "bold"),
                 Content(f"would create {counts['created']:,}, update {counts['updated']:,},"
                         f" leave {counts['unchanged']:,} unchanged"
                         + (f", skip {counts['skipped']:,} bad" if counts["skipped"] else "")),
                 Content(""), Content.styled("Columns", "bold underline")]
        for column, feeds, note in plan.columns:
            lines.append(Content(f"  {literal(column)[:28]:<28} → {literal(feeds)}")
                         + (Content.styled(f"  {literal(note)}", "dim") if note else Content()))
        if plan.problems:
            lines += [Content(""), Content.styled(
                f"Problems ({plan.problem_count:,}): nothing is imported unless you skip "
                "the bad rows (ctrl+b)", "bold $error")]
            lines += [Content("  " + literal(problem)) for problem in plan.problems[:30]]
        if plan.duplicates:
            lines += [Content(""), Content.styled("The same contact twice in the file",
                                                  "bold $warning")]
            lines += [Content("  " + literal(duplicate.to_dict()))
                      for duplicate in plan.duplicates[:10]]
        for warning in plan.warnings:
            lines.append(Content.styled(literal(warning), "$warning"))
        lines += [Content(""), Content.styled("First rows", "bold underline")]
        for row in plan.preview(5):
            fields = ", ".join(f"{key}={literal(value)}" for key, value in row["fields"].items())
            lines.append(Content(f"  row {row['row']} {row['action']}: {fields[:200]}"))
        self._report(Content("\n").join(lines))

    def _report(self, content: Content) -> None:
        self.query_one("#import-report", Static).update(content)

    def action_confirm(self) -> None:
        self._apply(skip_bad=False)

    def action_skip_bad(self) -> None:
        self._apply(skip_bad=True)

    def _apply(self, skip_bad: bool) -> None:
        if self._plan is None:
            self._report(Content.styled("Preview first (ctrl+l)", "$error"))
            return
        if self._plan.problems and not skip_bad:
            self.app.bell()
            self._report(Content.styled("The file has bad rows: fix it, or ctrl+b to import "
                                        "the good rows only", "bold $error"))
            return
        self._apply_in_worker(self._plan, skip_bad)

    @work(thread=True, exclusive=True, group="import")
    def _apply_in_worker(self, plan: ImportPlan, skip_bad: bool) -> None:
        def progress(phase: str, done: int, total: int) -> None:
            self.app.call_from_thread(self._progress, phase, done, total)
        try:
            result = services(self).workspace.apply_import(plan, skip_bad=skip_bad,
                                                           progress=progress)
        except FunnelError as error:
            self.app.call_from_thread(self._report, Content.styled(literal(error), "$error"))
            return
        self.app.call_from_thread(self._finish, result)

    def _finish(self, result: ImportResult) -> None:
        self.dismiss(result)  # not awaited: the worker's thread must not wait on the pop


class ExportScreen(ModalScreen[Exported]):
    """Write the contacts of the current view to a CSV or JSON file."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="export.cancel")]
    DEFAULT_CSS = """
    ExportScreen { align: center middle; }
    ExportScreen > Vertical { width: 72; max-width: 100%; height: auto;
        border: round $accent; background: $surface; padding: 0 1; }
    ExportScreen .title { text-style: bold; margin-bottom: 1; }
    ExportScreen .hint { color: $text-muted; }
    ExportScreen #export-error { color: $error; }
    """

    def __init__(self, ids: list[int], description: str, default_path: Path) -> None:
        super().__init__()
        self._ids = ids
        self._description = description
        self._default = default_path

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(Content(f"Export {len(self._ids):,} contacts ({self._description})"),
                        classes="title")
            yield Label("File (.csv, or .json for JSON documents)")
            yield Input(value=str(self._default), id="export-path")
            yield ProgressBar(total=max(len(self._ids), 1), show_eta=False, id="export-progress")
            yield Static("", id="export-error")
            yield Static("CSV cells that would run as spreadsheet formulas get a leading ' . "
                         "Enter exports · Esc cancels", classes="hint")

    def on_mount(self) -> None:
        self.query_one("#export-progress").display = False
        self.set_focus(self.query_one("#export-path", Input))

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Input.Submitted, "#export-path")
    def _submitted(self, event: Input.Submitted) -> None:
        path = Path(event.value.strip()).expanduser()
        file_format = "json" if path.suffix.lower() == ".json" else "csv"
        self.query_one("#export-progress").display = True
        self._export(path, file_format)

    @work(thread=True, exclusive=True, group="export")
    def _export(self, path: Path, file_format: str) -> None:
        def progress(phase: str, done: int, total: int) -> None:
            self.app.call_from_thread(self.query_one("#export-progress", ProgressBar).update,
                                      progress=done)
        try:
            count = export_contacts(services(self).workspace, path, file_format=file_format,
                                    ids=self._ids, progress=progress)
        except FunnelError as error:
            self.app.call_from_thread(self.query_one("#export-error", Static).update,
                                      Content(literal(error)))
            return
        self.app.call_from_thread(self._finish, Exported(path, count))

    def _finish(self, exported: Exported) -> None:
        self.dismiss(exported)  # not awaited: the worker's thread must not wait on the pop
