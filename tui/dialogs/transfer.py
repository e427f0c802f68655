"""Import a file (pick, preview the mapping and the first rows, see problems,
confirm) from the TUI, and what the export dialog (``export_screen``) shares with it.
The engine does the work (``engine.importer``) in workers, with progress shown; the
screen dismisses with what it did (None: cancelled). Escape while a preview runs stops
it; an import being written cannot be stopped half way, so Escape then only says so.
Workers touch the screen only through calls on the UI thread, and not once it is
closed.

In a served session (``Settings.files_folder``) both dialogs take a plain file name
inside the session's folder (``engine.transfer.destinations.resolve_in_folder``);
with ``Settings.files_off`` neither opens (``files_are_off`` says why in one line).
Replacing an existing file takes a second Enter; a database or a dotfile never."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Iterable

from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import DirectoryTree, Input, Label, ProgressBar, Static

from textual.dom import DOMNode

from funnel.engine.errors import FunnelError
from funnel.engine.rules.loading import presets_dir
from funnel.engine.transfer.destinations import resolve_in_folder
from funnel.engine.transfer.importer import ImportPlan, ImportResult, plan_import
from funnel.engine.transfer.mapping_file import mapping_presets
from funnel.tui.app.services import services
from funnel.tui.widgets.text import literal

FILES_OFF = ("Import and export are off in this served session (the server was started "
             "without --files)")
PHASES = {"read": "reading", "check": "checking", "match": "matching", "write": "writing",
          "export": "writing"}


class Stopped(Exception):
    """Raised from a progress report once the dialog was closed: the work stops there
    (an export's temporary file is discarded)."""


def is_open(screen: ModalScreen, app: App | None = None) -> bool:
    """The screen is still shown (a closed one may have no app to ask)."""
    try:
        return screen in (app or screen.app).screen_stack
    except RuntimeError:  # Textual's "no active app"
        return False


def files_are_off(node: DOMNode) -> bool:
    """True (and the person told why, in one line) when this session has no files."""
    if not services(node).settings.files_off:
        return False
    node.app.notify(FILES_OFF, severity="warning")
    return True


def session_folder(node: DOMNode) -> Path | None:
    """The served session's folder, or None when files may be named anywhere."""
    folder = services(node).settings.files_folder
    return Path(folder) if folder else None


def typed_path(folder: Path | None, typed: str) -> Path:
    """The file a person typed: a name in the session's folder, or any path locally."""
    return resolve_in_folder(folder, typed) if folder else Path(typed).expanduser()


def _mapping_spec(folder: Path | None, typed: str) -> str:
    """A mapping preset, or a mapping file (in a served session: a name in its folder)."""
    if folder is None:
        return typed
    if typed in mapping_presets():  # the shipped file, never one named so in the cwd
        return str(presets_dir() / f"{typed}.yaml")
    return str(resolve_in_folder(folder, typed))


class FolderFiles(DirectoryTree):
    """A served session's folder: its regular files only (no dotfiles, links, folders)."""

    def filter_paths(self, paths: Iterable[Path]) -> Iterable[Path]:
        return [path for path in paths if not path.name.startswith(".")
                and not path.is_symlink() and path.is_file()]


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
    ImportScreen .title { text-style: bold; margin-bottom: 1; }
    /* One line per field, the box a filled band (a border would take two more lines
       each, and a focused Input's default border left no room for its text). */
    ImportScreen .row { height: 1; margin-bottom: 1; }
    ImportScreen .row Label { width: 9; }
    ImportScreen Input, ImportScreen Input:focus { width: 1fr; height: 1; border: none;
        padding: 0 1; background: $panel-lighten-2; }
    ImportScreen Input:focus { background: $primary 40%; }
    ImportScreen DirectoryTree { height: 8; }
    ImportScreen #import-preview { height: 1fr; }
    ImportScreen ProgressBar { height: 1; }
    ImportScreen .hint { color: $text-muted; }
    """

    def __init__(self, start: Path | None = None) -> None:
        super().__init__()
        self._start = start or Path.cwd()
        self._plan: ImportPlan | None = None
        self._stopping = threading.Event()  # Escape: a preview under way stops
        self._writing = False  # an import is being written: it cannot be stopped

    def compose(self) -> ComposeResult:
        folder = session_folder(self)
        with Vertical():
            yield Label("Import contacts from a CSV or JSON file", classes="title")
            if folder is not None:
                yield Label(Content(f"Your files: {literal(folder)} (give a file name)"))
            with Horizontal(classes="row"):
                yield Label("File")
                yield Input(placeholder="a .csv or .json file" + (
                    "'s name" if folder is not None else ""), id="import-file")
            with Horizontal(classes="row"):
                yield Label("Mapping")
                yield Input(placeholder="empty: a best guess from the header; or a preset "
                                        "(x-education) or a mapping file", id="import-map")
            if folder is not None:
                yield FolderFiles(str(folder), id="import-tree")
            else:
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
        shown = event.path.name if session_folder(self) is not None else str(event.path)
        self.query_one("#import-file", Input).value = shown
        self.action_preview()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        self.action_preview()

    def action_cancel(self) -> None:
        if self._writing:
            self.app.notify("An import cannot be stopped half way: it is being written, "
                            "and this closes when it is done", severity="warning")
            return
        self._stopping.set()
        self.dismiss(None)

    def action_preview(self) -> None:
        path = self.query_one("#import-file", Input).value.strip()
        if not path:
            self._report(Content.styled("Name a file first", "$error"))
            return
        mapping = self.query_one("#import-map", Input).value.strip() or None
        self._plan = None
        folder = session_folder(self)
        try:
            source = typed_path(folder, path)
            mapping = _mapping_spec(folder, mapping) if mapping else None
        except FunnelError as error:
            self._report(Content.styled(literal(error), "$error"))
            return
        self._plan_in_worker(source, mapping)

    def _progress(self, phase: str, done: int, total: int) -> None:
        if not is_open(self):
            return
        bar = self.query_one("#import-progress", ProgressBar)
        bar.display = True
        bar.update(total=max(total, 1), progress=done)
        self._report(Content.styled(f"{PHASES.get(phase, phase)} {done:,} of {total:,}…",
                                    "italic"))

    @work(thread=True, exclusive=True, group="import")
    def _plan_in_worker(self, path: Path, mapping: str | None) -> None:
        app = self.app  # (taken now: a closed screen has no app to look up)

        def progress(phase: str, done: int, total: int) -> None:
            if self._stopping.is_set():
                raise Stopped
            app.call_from_thread(self._progress, phase, done, total)
        try:
            plan = plan_import(path, mapping, services(self).workspace,
                               progress=progress, by=f"import:{path.name}")
        except Stopped:
            return
        except FunnelError as error:
            app.call_from_thread(self._report, Content.styled(literal(error), "$error"))
            return
        app.call_from_thread(self._planned, plan)

    def _planned(self, plan: ImportPlan) -> None:
        if not is_open(self):
            return
        self._plan = plan
        self.query_one("#import-progress").display = False
        counts = plan.counts()
        lines = [Content.styled(f"{literal(plan.name)}: {plan.rows:,} {plan.unit}"
                                f"{'' if plan.rows == 1 else 's'}, "
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
        if is_open(self):
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
        self._writing = True
        self._apply_in_worker(self._plan, skip_bad)

    @work(thread=True, exclusive=True, group="import")
    def _apply_in_worker(self, plan: ImportPlan, skip_bad: bool) -> None:
        def progress(phase: str, done: int, total: int) -> None:
            self.app.call_from_thread(self._progress, phase, done, total)
        try:
            result = services(self).workspace.apply_import(plan, skip_bad=skip_bad,
                                                           progress=progress)
        except FunnelError as error:
            self.app.call_from_thread(self._written, None)
            self.app.call_from_thread(self._report, Content.styled(literal(error), "$error"))
            return
        self.app.call_from_thread(self._written, result)

    def _written(self, result: ImportResult | None) -> None:
        self._writing = False
        if result is not None:
            self.dismiss(result)  # not awaited: the worker's thread must not wait on it
