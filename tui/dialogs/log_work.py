"""The Log work dialog (``l`` on the list or the card): what was done (call, email sent,
meeting, note), what came of it, a note of several lines, when it happened and,
optionally, the next follow-up date.

Every value is read by the engine's own parsers (``engine.model.date_words``,
``engine.workspace.work_log``) before the dialog closes: a bad one keeps the dialog
open with everything as typed, the error under the form and the focus on the field
to fix. It answers with a ``WorkEntry`` (None: cancelled); the caller writes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Input, Label, Select, Static, TextArea
from textual.widgets.text_area import EditResult, Location

from funnel.engine.errors import FieldError
from funnel.engine.model.date_words import parse_day, parse_moment
from funnel.engine.model.dates import format_datetime
from funnel.engine.text import visible
from funnel.engine.workspace.work_log import LOGGED_KINDS, OUTCOME_LABELS, check_note
from funnel.tui.widgets.text import content

CLEAR_WORDS = ("none", "clear")  # typed as the follow-up: clear the date


@dataclass(frozen=True)
class WorkEntry:
    """What the dialog asks for, checked; as ``Workspace.log_activity`` takes it."""

    kind: str
    at: str  # when it happened, YYYY-MM-DDTHH:MM:SSZ
    note: str | None = None
    outcome: str | None = None
    follow_up: str | None = None  # YYYY-MM-DD; "" clears it; None leaves it as it is


class NoteArea(TextArea):
    """A TextArea that shows what is typed or pasted literally: a control character
    (an ESC in pasted text) becomes its escape, ``\\x1b``, in the text itself, so it
    neither drives the terminal nor is stored as a control character."""

    def _replace_via_keyboard(self, insert: str, start: Location, end: Location
                              ) -> EditResult | None:
        insert = insert.replace("\r\n", "\n").replace("\r", "\n")
        return super()._replace_via_keyboard(visible(insert, keep="\t\n"), start, end)


class LogWorkDialog(ModalScreen[WorkEntry]):
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="log_work.cancel"),
        Binding("ctrl+s", "save", "Save", id="log_work.save"),
    ]
    DEFAULT_CSS = """
    LogWorkDialog { align: center middle; }
    LogWorkDialog > Vertical {
        width: 72; max-width: 100%; height: auto; max-height: 100%;
        border: round $accent; padding: 0 1; background: $surface;
    }
    LogWorkDialog .title { text-style: bold; margin-bottom: 1; }
    LogWorkDialog .row { height: auto; }
    LogWorkDialog .row Label { width: 9; }
    LogWorkDialog .row Label.second { width: auto; padding: 0 1; }
    LogWorkDialog .row Select { width: 1fr; }
    LogWorkDialog .row Input { width: 1fr; }
    LogWorkDialog #log-note { height: 6; }
    LogWorkDialog #log-error { color: $error; height: auto; }
    LogWorkDialog .hint { color: $text-muted; }
    """

    def __init__(self, title: str, now: datetime) -> None:
        super().__init__()
        self._title = title
        self._now = now

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(content(self._title), classes="title")
            with Horizontal(classes="row"):
                yield Label("Kind")
                yield Select([(label, kind) for kind, label in LOGGED_KINDS], value="call",
                             allow_blank=False, compact=True, id="log-kind")
                yield Label("Outcome", classes="second")
                yield Select([(label, value) for value, label in OUTCOME_LABELS.items()],
                             prompt="(none)", compact=True, id="log-outcome")
            yield Label("Note")
            yield NoteArea(id="log-note", soft_wrap=True, show_line_numbers=False)
            with Horizontal(classes="row"):
                yield Label("When")
                yield Input(placeholder="now", compact=True, id="log-at")
                yield Label("Follow-up", classes="second")
                yield Input(placeholder="unchanged", compact=True, id="log-follow-up")
            yield Static("", id="log-error")
            yield Static("Tab moves · ctrl+s saves · Esc cancels · when: now, yesterday, "
                         "2 hours ago · follow-up: tomorrow, in 3 days, YYYY-MM-DD, none",
                         classes="hint")

    def on_mount(self) -> None:
        self.set_focus(self.query_one("#log-kind", Select))

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_save()

    def action_save(self) -> None:
        try:
            entry = self._entry()
        except _Refused as refused:
            self.query_one("#log-error", Static).update(content(refused.message))
            self.set_focus(refused.widget)
            return
        self.dismiss(entry)

    def _entry(self) -> WorkEntry:
        kind = self.query_one("#log-kind", Select).value
        outcome = self.query_one("#log-outcome", Select).value
        note_area = self.query_one("#log-note", TextArea)
        at_field = self.query_one("#log-at", Input)
        follow_field = self.query_one("#log-follow-up", Input)
        try:
            note = check_note(note_area.text)
        except FieldError as error:
            raise _Refused(f"Note: {error.reason}", note_area) from None
        try:
            at = format_datetime(parse_moment(at_field.value, self._now, "when"))
        except FieldError as error:
            raise _Refused(f"When: {error.reason}", at_field) from None
        follow_up = None
        typed = follow_field.value.strip()
        if typed.casefold() in CLEAR_WORDS:
            follow_up = ""
        elif typed:
            try:
                follow_up = parse_day(typed, self._now.date(), "follow-up").isoformat()
            except FieldError as error:
                raise _Refused(f"Follow-up: {error.reason}", follow_field) from None
        return WorkEntry(str(kind), at, note,
                         outcome if isinstance(outcome, str) else None, follow_up)


class _Refused(Exception):
    """A value the dialog cannot take: what to say, and the widget to fix."""

    def __init__(self, message: str, widget: Widget) -> None:
        super().__init__(message)
        self.message = message
        self.widget = widget
