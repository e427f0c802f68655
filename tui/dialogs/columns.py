"""Choose and order the contact table's columns: every column there is (custom fields
included), the shown ones first in their order; space shows or hides one, K and J move
it up or down, Enter keeps the choice. Answers with the keys of the shown columns."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList, Static
from textual.widgets.option_list import Option

from funnel.tui.widgets.table_columns import Column


class ColumnsDialog(ModalScreen[list[str]]):
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="columns.cancel"),
        Binding("space,x", "show_or_hide", "Show or hide the column", id="columns.toggle"),
        Binding("K,shift+up", "move(-1)", "Move the column up (left)", id="columns.up"),
        Binding("J,shift+down", "move(1)", "Move the column down (right)", id="columns.down"),
        Binding("r", "reset", "The default columns", id="columns.reset"),
        Binding("j", "cursor(1)", show=False),
        Binding("k", "cursor(-1)", show=False),
    ]
    DEFAULT_CSS = """
    ColumnsDialog { align: center middle; }
    ColumnsDialog > Vertical { width: 52; max-width: 100%; height: auto; max-height: 90%;
        border: round $accent; padding: 0 1; background: $surface; }
    ColumnsDialog .title { text-style: bold; margin-bottom: 1; }
    ColumnsDialog .hint { color: $text-muted; }
    ColumnsDialog OptionList { height: auto; max-height: 20; border: none; padding: 0; }
    """

    def __init__(self, shown: list[Column], others: list[Column],
                 default: list[Column]) -> None:
        super().__init__()
        self._order = list(dict.fromkeys(shown + others))
        self._shown = {column.key for column in shown}
        self._default = default

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Columns", classes="title")
            yield OptionList(id="columns")
            yield Static("space shows/hides · K/J move up/down · r default · Enter keeps · "
                         "Esc", classes="hint")

    def on_mount(self) -> None:
        self._fill(0)
        self.set_focus(self.query_one("#columns", OptionList))

    def _fill(self, highlighted: int) -> None:
        choices = self.query_one("#columns", OptionList)
        choices.clear_options()
        for column in self._order:
            mark = "[x]" if column.key in self._shown else "[ ]"
            choices.add_option(Option(Content(f"{mark} ") + Content(column.title)
                                      + Content.styled(f"  {column.key}", "dim"),
                                      id=column.key))
        choices.highlighted = highlighted

    def _current(self) -> int:
        highlighted = self.query_one("#columns", OptionList).highlighted
        return highlighted if highlighted is not None else 0

    def action_show_or_hide(self) -> None:
        index = self._current()
        self._shown ^= {self._order[index].key}
        self._fill(index)

    def action_move(self, delta: int) -> None:
        index = self._current()
        target = index + delta
        if 0 <= target < len(self._order):
            self._order[index], self._order[target] = self._order[target], self._order[index]
            self._fill(target)

    def action_reset(self) -> None:
        others = [column for column in self._order if column not in self._default]
        self._order = list(self._default) + others
        self._shown = {column.key for column in self._default}
        self._fill(0)

    def action_cursor(self, delta: int) -> None:
        choices = self.query_one("#columns", OptionList)
        if delta > 0:
            choices.action_cursor_down()
        else:
            choices.action_cursor_up()

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(OptionList.OptionSelected, "#columns")
    def _done(self, event: OptionList.OptionSelected) -> None:
        keys = [column.key for column in self._order if column.key in self._shown]
        if not keys:
            self.notify("Show at least one column (space)", severity="warning")
            return
        self.dismiss(keys)
