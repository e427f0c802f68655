"""Export the current view to a CSV or JSON file, from the TUI: the engine writes it
(``engine.exporter``) in a worker, with progress shown, and the screen dismisses with
what it wrote (None: cancelled). Escape while it writes stops it: nothing is written.
In a served session the file is a plain name in the session's folder; replacing an
existing file takes a second Enter; a database or a dotfile never."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Label, ProgressBar, Static

from funnel.engine.errors import FunnelError
from funnel.engine.transfer.destinations import ExportTargetExists, check_export_target
from funnel.engine.transfer.exporter import export_contacts
from funnel.tui.app.services import services
from funnel.tui.dialogs.transfer import Stopped, is_open, session_folder, typed_path
from funnel.tui.widgets.text import literal


@dataclass(frozen=True)
class Exported:
    path: Path
    count: int


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
        self._confirmed: Path | None = None  # the existing file a second Enter replaces
        self._stopping = threading.Event()  # Escape: an export under way stops

    def compose(self) -> ComposeResult:
        folder = session_folder(self)
        with Vertical():
            yield Label(Content(f"Export {len(self._ids):,} contacts ({self._description})"),
                        classes="title")
            if folder is None:
                yield Label("File (.csv, or .json for JSON documents)")
            else:
                yield Label(Content(f"File name in {literal(folder)} (.csv, or .json for "
                                    "JSON documents)"))
            default = self._default.name if folder is not None else str(self._default)
            yield Input(value=default, id="export-path")
            yield ProgressBar(total=max(len(self._ids), 1), show_eta=False, id="export-progress")
            yield Static("", id="export-error")
            yield Static("CSV cells that would run as spreadsheet formulas get a leading ' . "
                         "Enter exports · Esc cancels", classes="hint")

    def on_mount(self) -> None:
        self.query_one("#export-progress").display = False
        self.set_focus(self.query_one("#export-path", Input))

    def action_cancel(self) -> None:
        if self._confirmed is not None:  # "Esc to change the name": back to the field
            self._say("")
            return
        self._stopping.set()
        self.dismiss(None)

    def _say(self, text: str) -> None:
        self._confirmed = None
        if is_open(self):
            self.query_one("#export-error", Static).update(Content(text))

    @on(Input.Changed, "#export-path")
    def _edited(self, event: Input.Changed) -> None:
        if self._confirmed is not None:
            self._say("")

    @on(Input.Submitted, "#export-path")
    def _submitted(self, event: Input.Submitted) -> None:
        typed = event.value.strip()
        confirmed, self._confirmed = self._confirmed, None
        try:
            path = typed_path(session_folder(self), typed)
            force = confirmed == path
            check_export_target(path, force=force)
        except ExportTargetExists:
            self._say("")
            self._confirmed = path
            self.query_one("#export-error", Static).update(Content(
                f"{literal(typed)} exists: press Enter again to replace it, Esc to change "
                "the name"))
            return
        except FunnelError as error:
            self._say(literal(error))
            return
        self._say("")
        file_format = "json" if path.suffix.lower() == ".json" else "csv"
        self.query_one("#export-progress").display = True
        self._export(path, file_format, force)

    @work(thread=True, exclusive=True, group="export")
    def _export(self, path: Path, file_format: str, force: bool) -> None:
        app = self.app  # (taken now: a closed screen has no app to look up)

        def progress(phase: str, done: int, total: int) -> None:
            if self._stopping.is_set() and done < total:  # (at done == total it is written)
                raise Stopped
            app.call_from_thread(self._progress, done)
        try:
            count = export_contacts(services(self).workspace, path, file_format=file_format,
                                    ids=self._ids, progress=progress, force=force)
        except Stopped:
            app.call_from_thread(app.notify, f"Export stopped: nothing was written to "
                                 f"{literal(path)}", markup=False)
            return
        except FunnelError as error:
            app.call_from_thread(self._say, literal(error))
            return
        app.call_from_thread(self._finish, app, Exported(path, count))

    def _progress(self, done: int) -> None:
        if is_open(self):
            self.query_one("#export-progress", ProgressBar).update(progress=done)

    def _finish(self, app: App, exported: Exported) -> None:
        if is_open(self, app):
            self.dismiss(exported)  # not awaited: the worker's thread must not wait on it
        else:  # closed when it was already written: say so all the same
            app.notify(f"Exported {exported.count:,} contacts to {literal(exported.path)}",
                       markup=False)
