"""Quitting with unsaved work: ``UnsavedDialog`` says what would be lost and answers
save, discard or (Esc) None to keep working; ``quit_or_ask`` is the app's quit."""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum

from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList, Static
from textual.widgets.option_list import Option

from funnel.tui.widgets.text import content


class QuitAnswer(Enum):
    SAVE = "save"  # save what is unsaved, then quit (only if the save went through)
    DISCARD = "discard"  # quit, dropping it


class UnsavedDialog(ModalScreen[QuitAnswer | None]):
    """``what``: one line per unsaved thing ("2 unsaved changes to the scoring rules")."""

    BINDINGS = [
        Binding("escape", "cancel", "Keep working", id="dialog.cancel"),
        Binding("s", "answer('save')", "Save and quit", show=False, id="quit.save"),
        Binding("d", "answer('discard')", "Quit without saving", show=False,
                id="quit.discard"),
    ]
    DEFAULT_CSS = """
    UnsavedDialog { align: center middle; }
    UnsavedDialog > Vertical {
        width: 64; max-width: 100%; height: auto; max-height: 90%;
        border: round $warning; padding: 0 1; background: $surface;
    }
    UnsavedDialog .title { text-style: bold; }
    UnsavedDialog .what { margin-bottom: 1; }
    UnsavedDialog OptionList { height: auto; border: none; padding: 0; }
    UnsavedDialog .hint { color: $text-muted; }
    """

    def __init__(self, what: list[str]) -> None:
        super().__init__()
        self._what = what

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Quit with unsaved work?", classes="title")
            yield Static(content("\n".join(f"• {line}" for line in self._what)),
                         classes="what")
            yield OptionList(Option("s  Save, then quit", id=QuitAnswer.SAVE.value),
                             Option("d  Quit without saving (it is lost)",
                                    id=QuitAnswer.DISCARD.value),
                             Option("Esc  Keep working", id="cancel"), id="quit-choices")
            yield Static("Enter picks · s saves · d discards · Esc keeps working",
                         classes="hint")

    def on_mount(self) -> None:
        self.set_focus(self.query_one(OptionList))

    @on(OptionList.OptionSelected, "#quit-choices")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self.action_answer(event.option.id or "cancel")

    def action_answer(self, answer: str) -> None:
        self.dismiss(None if answer == "cancel" else QuitAnswer(answer))

    def action_cancel(self) -> None:
        self.dismiss(None)


class UnsavedWork:
    """Something holding edits not saved yet: what they are, and how to save them."""

    def __init__(self, describe: Callable[[], str | None], save: Callable[[], bool]) -> None:
        self.describe = describe  # None: nothing unsaved
        self.save = save  # True when saved; False leaves the app open (it said why)


def quit_or_ask(app: App, holders: list[UnsavedWork]) -> None:
    """Quit at once when nothing is unsaved; else ask, and save or drop as answered."""
    pending = [(holder, line) for holder in holders if (line := holder.describe())]
    if not pending:
        app.exit()
        return

    def answered(answer: QuitAnswer | None) -> None:
        if answer is QuitAnswer.DISCARD:
            app.exit()
        elif answer is QuitAnswer.SAVE and all(holder.save() for holder, _ in pending):
            app.exit()
    app.push_screen(UnsavedDialog([line for _, line in pending]), answered)
