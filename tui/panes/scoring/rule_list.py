"""The Scoring tab's list of rules: its rows, the cursor on them, and the line a number
is edited in, in place of its row; the detail line under the list holds the focus.

The list knows its rows and where the cursor is; the pane paints each row (it knows
the draft) and decides what a key does.
"""

from __future__ import annotations

from collections.abc import Callable

from textual import events, on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Input, Static

from funnel.tui.panes.scoring.rows import RowSpec
from funnel.tui.widgets.text import literal


class RuleRow(Static):
    """One row of the list: a gutter, the number cells, the label and the condition."""

    class Clicked(Message):
        def __init__(self, row: "RuleRow") -> None:
            super().__init__()
            self.row = row

    def __init__(self, spec: RowSpec, index: int,
                 painter: Callable[["RuleRow"], None]) -> None:
        super().__init__("", classes=f"rule-row -{spec.kind}")
        self.spec = spec
        self.index = index
        self._painter = painter

    def on_mount(self) -> None:
        self._painter(self)

    def show(self, line: Content) -> None:
        # One line of fixed size: repaint it without a layout pass of the whole screen.
        self.update(line, layout=False)

    def on_click(self, event: events.Click) -> None:
        self.post_message(self.Clicked(self))


class EditLine(Vertical):
    """A number being edited, in place of its row: the row's text either side of the
    field, and under it what is wrong with the value typed (``check`` raises ValueError
    saying what)."""

    def __init__(self, row: RuleRow, parts: list[Content], column: int, value: str,
                 check: Callable[[str], object]) -> None:
        """``parts``: the row's line in pieces (``row_parts``); the field stands in for
        number cell ``column``, holding ``value``."""
        super().__init__(id="scoring-editing", classes="rule-row -cursor")
        self.row = row
        self.field = Input(value, classes="rule-edit", id="scoring-edit")
        self._before = Content("").join(parts[:column + 1])
        self._after = Content("").join(parts[column + 2:])
        self._check = check
        self._error_shown: str | None = None  # the message on show (None: none yet)

    def compose(self) -> ComposeResult:
        with Horizontal(classes="rule-edit-line"):
            head = Static(self._before, classes="rule-edit-before")
            head.styles.width = self._before.cell_length
            yield head
            yield self.field
            yield Static(self._after, classes="rule-edit-after")
        yield Static("", id="scoring-error", classes="rule-error")

    @on(Input.Changed)
    def _typed(self, event: Input.Changed) -> None:
        try:
            self._check(event.value)
        except ValueError as error:
            self.show_error(str(error))
            return
        self.show_error("")

    def show_error(self, message: str) -> None:
        if message == self._error_shown:
            return  # as shown: no layout pass of the screen for every keystroke
        self._error_shown = message
        error = self.query_one("#scoring-error", Static)
        error.update(Content.styled("✗ " + literal(message), "$error") if message else "")
        error.display = bool(message)
        if message:  # once laid out (shown, then wrapped), scroll it all into view
            self.call_after_refresh(self._reveal, error)

    def _reveal(self, widget: Static) -> None:
        if widget.is_attached and widget.display:
            self.screen.scroll_to_widget(widget, animate=False)


class RulesView(VerticalScroll, can_focus=False):
    """The scrolling list of rules: its rows, with the sections' titles between them,
    and the cursor: a row, and which of its number cells (``column``)."""

    def __init__(self, painter: Callable[[RuleRow], None], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.rows: list[RuleRow] = []
        self.cursor = 0
        self.column = 0
        self._painter = painter

    def build(self, sections: list[tuple[str, list[RowSpec]]]) -> None:
        """Show these sections. Rows of the same kinds as now (after a save or a revert)
        only take their new meaning (the pane repaints them); others are mounted anew."""
        specs = [spec for _, section in sections for spec in section]
        if [row.spec.kind for row in self.rows] == [spec.kind for spec in specs]:
            for row, spec in zip(self.rows, specs):
                row.spec = spec
            return
        self.remove_children()
        widgets: list[Widget] = []
        self.rows = []
        for number, (title, section) in enumerate(sections):
            widgets.append(Static(title, classes="rule-section" + (" -first" if not number
                                                                   else "")))
            for spec in section:
                row = RuleRow(spec, len(self.rows), self._painter)
                self.rows.append(row)
                widgets.append(row)
        self.mount_all(widgets)
        self.cursor = min(self.cursor, len(self.rows) - 1)

    @property
    def selected_key(self) -> str | None:
        """The number under the cursor (the row's first when its cell has none)."""
        if not self.rows:
            return None
        keys = self.rows[self.cursor].spec.keys
        return keys[self.column] if keys[self.column] is not None else keys[0]

    def row_of(self, key: str) -> RuleRow:
        return next(row for row in self.rows if key in row.spec.keys)

    def move(self, index: int) -> None:
        """Put the cursor on row ``index`` (or the nearest there is) and scroll to it."""
        index = max(0, min(index, len(self.rows) - 1))
        old, self.cursor = self.cursor, index
        if self.rows[index].spec.keys[self.column] is None:
            self.column = 0
        self._painter(self.rows[old])
        self._painter(self.rows[index])
        self.rows[index].scroll_visible(animate=False)

    def move_to_column(self, column: int) -> bool:
        """Put the cursor on number cell ``column`` of its row, if the row has one there."""
        if self.rows[self.cursor].spec.keys[column] is None:
            return False
        self.column = column
        self._painter(self.rows[self.cursor])
        return True

    async def open_editor(self, line: EditLine) -> None:
        """Show ``line`` in place of its row (awaited: it is ready for keys after)."""
        line.row.display = False
        await self.mount(line, after=line.row)

    def close_editor(self, row: RuleRow) -> None:
        for line in self.query(EditLine):
            line.remove()
        row.display = True


class RuleDetail(Static, can_focus=True):
    """What the cursor is on, in full. It holds the keyboard focus for the list (the
    keys are the pane's): a focus change then restyles this one widget, not every row,
    as it would if the list itself took focus."""

