"""The view picker: every view on one line each (name, how many contacts, its filter),
and the person's own views saved or deleted from it.

Counts are worked out in a thread after the picker shows (each is a selection over
every contact), one view at a time, and filled in as they arrive.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import get_current_worker

from funnel.engine.errors import FunnelError
from funnel.tui.app.services import services
from funnel.tui.widgets.text import fit, literal

LABEL_WIDTH = 20
COUNT_WIDTH = 7
LINE_WIDTH = 56  # inside the dialog's border, padding and the list's scroll bar


@dataclass(frozen=True)
class ViewRow:
    view: str  # its id: a built-in's name, "new", or "saved:NAME"
    label: str
    query: str
    saved: bool  # the person's own: may be deleted


@dataclass(frozen=True)
class ViewAnswer:
    action: str  # "pick" (name: a view id), "save" (a new view's name), "delete" (a saved name)
    name: str


def view_line(row: ViewRow, count: int | None) -> Content:
    """One line, never wrapped: the label, the count, as much of the filter as fits."""
    number = "…" if count is None else f"{count:,}"
    rest = LINE_WIDTH - LABEL_WIDTH - COUNT_WIDTH - 2
    return (Content.styled(fit(literal(row.label), LABEL_WIDTH), "bold")
            + Content(f"{number:>{COUNT_WIDTH}}  ")
            + Content.styled(fit(literal(row.query or "(everything)"), rest), "dim"))


class ViewsDialog(ModalScreen[ViewAnswer]):
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="views.cancel"),
        Binding("s", "save", "Save the current filter and sort as a view", id="views.save"),
        Binding("d,delete", "delete", "Delete a view of one's own", id="views.delete"),
        Binding("j", "down", show=False),
        Binding("k", "up", show=False),
    ]
    DEFAULT_CSS = """
    ViewsDialog { align: center middle; }
    ViewsDialog > Vertical { width: 64; max-width: 100%; height: auto; max-height: 90%;
        border: round $accent; padding: 0 1; background: $surface; }
    ViewsDialog .title { text-style: bold; margin-bottom: 1; }
    ViewsDialog .hint { color: $text-muted; }
    ViewsDialog OptionList { height: auto; max-height: 16; border: none; padding: 0; }
    """

    def __init__(self, rows: list[ViewRow], current: str) -> None:
        super().__init__()
        self._rows = rows
        self._current = current

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Views", classes="title")
            yield OptionList(*(Option(view_line(row, None), id=row.view) for row in self._rows),
                             id="views")
            yield Input(placeholder="name of the new view, then Enter", id="view-name",
                        max_length=40)
            yield Static("Enter shows · s saves the current filter and sort · d deletes "
                         "one of your own · Esc", classes="hint")

    def on_mount(self) -> None:
        self.query_one("#view-name", Input).display = False
        choices = self.query_one("#views", OptionList)
        ids = [row.view for row in self._rows]
        if self._current in ids:
            choices.highlighted = ids.index(self._current)
        self.set_focus(choices)
        self._count()

    @work(thread=True, exclusive=True, group="view-counts")
    def _count(self) -> None:
        worker = get_current_worker()
        workspace = services(self).workspace
        for row in self._rows:
            if worker.is_cancelled:
                return
            try:
                count: int | None = len(workspace.select(row.query))
            except FunnelError:
                count = None
            self.app.call_from_thread(self._counted, row, count)

    def _counted(self, row: ViewRow, count: int | None) -> None:
        # A count can arrive after Enter or Esc dismissed the picker, while it is taken
        # down (its list already gone, its counting not yet cancelled): dropped.
        if self in self.app.screen_stack and self.is_attached:
            self.query_one("#views", OptionList).replace_option_prompt(
                row.view, view_line(row, count))

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_down(self) -> None:
        self.query_one("#views", OptionList).action_cursor_down()

    def action_up(self) -> None:
        self.query_one("#views", OptionList).action_cursor_up()

    def action_save(self) -> None:
        field = self.query_one("#view-name", Input)
        field.display = True
        self.set_focus(field)

    def action_delete(self) -> None:
        choices = self.query_one("#views", OptionList)
        index = choices.highlighted
        row = self._rows[index] if index is not None else None
        if row is None or not row.saved:
            self.notify("Only views of one's own can be deleted", severity="warning")
            return
        self.dismiss(ViewAnswer("delete", row.label))

    @on(OptionList.OptionSelected, "#views")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        if event.option.id is not None:
            self.dismiss(ViewAnswer("pick", event.option.id))

    @on(Input.Submitted, "#view-name")
    def _named(self, event: Input.Submitted) -> None:
        name = " ".join(event.value.split())
        if name:
            self.dismiss(ViewAnswer("save", name))
