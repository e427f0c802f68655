"""A virtual table of contacts: only the rows on screen are read and drawn.

Textual's DataTable builds every row up front (16 s for 100,000 contacts); this
widget holds just the list of ids in view order and asks a row source for the
few rows it paints, so first paint and cursor moves cost the same at any size.
"""

from __future__ import annotations

from typing import Callable, Iterable

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from funnel.engine.rules.classify import Classification
from funnel.tui.widgets.table_columns import (COLUMNS, MARK_WIDTH, Column, cell_value,
                                              column_for, layout_columns)
from funnel.tui.widgets.text import fit

__all__ = ["COLUMNS", "Column", "ContactTable", "cell_value", "layout_columns"]

# A row source gives (document, classification) for an id, or None if it is gone.
RowSource = Callable[[int], tuple[dict, Classification] | None]


def _place_of_next(old_ids: list[int], old_cursor: int, ids: list[int], default: int) -> int:
    """Where the first contact after ``old_cursor`` in ``old_ids`` is in ``ids``."""
    present = set(ids)  # ~5 ms at 100,000: once per edit, not per key
    for following in old_ids[old_cursor + 1:old_cursor + 200]:
        if following in present:
            return ids.index(following)
    return default


class ContactTable(ScrollView, can_focus=True):
    """The contacts in the current view; the cursor row is the selected contact."""

    BINDINGS = [
        Binding("j,down", "cursor(1)", "Down", show=False, id="table.down"),
        Binding("k,up", "cursor(-1)", "Up", show=False, id="table.up"),
        Binding("g,home", "jump(0)", "First", show=False, id="table.first"),
        Binding("G,end", "jump(-1)", "Last", show=False, id="table.last"),
        Binding("pagedown,ctrl+f,ctrl+d", "page(1)", "Page down", show=False,
                id="table.page_down"),
        Binding("pageup,ctrl+b,ctrl+u", "page(-1)", "Page up", show=False, id="table.page_up"),
        Binding("space", "toggle_mark", "Mark", id="table.mark"),
        Binding("n", "next_marked(1)", "Next marked", show=False, id="table.next_marked"),
        Binding("N", "next_marked(-1)", "Previous marked", show=False,
                id="table.previous_marked"),
        Binding("enter", "open", "Open", id="table.open"),
    ]
    COMPONENT_CLASSES = {
        "contact-table--header", "contact-table--cursor", "contact-table--marked",
        "contact-table--hot", "contact-table--warm", "contact-table--cold",
        "contact-table--overdue", "contact-table--exit", "contact-table--empty",
    }
    DEFAULT_CSS = """
    ContactTable { height: 1fr; overflow-x: hidden; }
    """

    cursor = reactive(0, always_update=True, repaint=False)

    class Highlighted(Message):
        def __init__(self, table: "ContactTable", contact_id: int | None) -> None:
            super().__init__()
            self.table = table
            self.contact_id = contact_id

    class Opened(Message):
        def __init__(self, table: "ContactTable", contact_id: int) -> None:
            super().__init__()
            self.table = table
            self.contact_id = contact_id

    class SortRequested(Message):
        def __init__(self, table: "ContactTable", key: str) -> None:
            super().__init__()
            self.table = table
            self.key = key

    def __init__(self, source: RowSource, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._source = source
        # The learned likelihood of a contact as shown ("73%", "" without a model): the
        # pane sets it; it is not part of a row's document or classification.
        self.likelihood_text: Callable[[int], str] = lambda contact_id: ""
        self.ids: list[int] = []
        self.marked: set[int] = set()
        self.sort_key = "attention"
        self.sort_descending = False
        self.empty_message = "No contacts"
        self.columns: tuple[Column, ...] = COLUMNS  # the person's choice, in order
        # Rows shown before they are in their final order: no row is drawn selected,
        # since keys wait for the final list (the owner clears it when that arrives).
        self.provisional = False

    # -- data --------------------------------------------------------------
    def set_ids(self, ids: list[int], keep: int | None = None, *,
                moved_on: bool = False) -> None:
        """Show ``ids``; keep the cursor on contact ``keep`` if it is still there.

        ``moved_on``: ``keep`` was just changed (triaged) and the person works down the
        queue: unless it kept its row, the cursor goes to the contact that followed it,
        not after it to its new place in the list.
        """
        old_ids, old_cursor = self.ids, self.cursor
        self.ids = ids
        self.virtual_size = Size(0, len(ids) + 1)
        position = 0
        last = max(0, len(ids) - 1)
        if moved_on and keep is not None and not (old_cursor < len(ids)
                                                  and ids[old_cursor] == keep):
            position = _place_of_next(old_ids, old_cursor, ids, min(old_cursor, last))
        elif keep is not None and keep >= 0:
            try:
                position = ids.index(keep)
            except ValueError:
                position = min(self.cursor, last)
        self.cursor = position
        self._follow_cursor()
        self.refresh()
        self._announce()

    def set_columns(self, keys: Iterable[str] | None) -> None:
        """Show the columns ``keys`` name, in that order (None or none known: the default)."""
        chosen = [column for column in map(column_for, keys or ()) if column is not None]
        self.columns = tuple(dict.fromkeys(chosen)) or COLUMNS
        self.refresh()

    def refresh_rows(self, ids: Iterable[int] | None = None) -> None:
        """Redraw (rows of ``ids`` changed; only the visible ones cost anything)."""
        self.refresh()

    @property
    def current(self) -> int | None:
        if 0 <= self.cursor < len(self.ids):
            return self.ids[self.cursor]
        return None

    def targets(self) -> list[int]:
        """What an action applies to: the marked contacts in view order, else the cursor's."""
        if self.marked:
            in_view = [contact_id for contact_id in self.ids if contact_id in self.marked]
            return in_view or sorted(self.marked)
        current = self.current
        return [] if current is None else [current]

    # -- actions -----------------------------------------------------------
    def action_cursor(self, delta: int) -> None:
        self._move_to(self.cursor + delta)

    def action_jump(self, where: int) -> None:
        self._move_to(where if where >= 0 else len(self.ids) - 1)

    def action_page(self, direction: int) -> None:
        self._move_to(self.cursor + direction * max(1, self._body_height() - 1))

    def action_toggle_mark(self) -> None:
        current = self.current
        if current is None:
            return
        self.marked.symmetric_difference_update({current})
        self._move_to(self.cursor + 1)
        self.refresh()

    def action_next_marked(self, direction: int) -> None:
        positions = [index for index, contact_id in enumerate(self.ids)
                     if contact_id in self.marked]
        if not positions:
            self.notify("No marked contacts (space marks one)", severity="warning")
            return
        if direction > 0:
            after = [index for index in positions if index > self.cursor]
            self._move_to(after[0] if after else positions[0])
        else:
            before = [index for index in positions if index < self.cursor]
            self._move_to(before[-1] if before else positions[-1])

    def action_open(self) -> None:
        current = self.current
        if current is not None:
            self.post_message(self.Opened(self, current))

    def _move_to(self, position: int) -> None:
        if not self.ids:
            return
        position = max(0, min(position, len(self.ids) - 1))
        if position != self.cursor:
            old = self.cursor
            self.cursor = position
            self._refresh_row(old)
            self._refresh_row(position)
            if not self._follow_cursor():
                pass
            self._announce()

    def _announce(self) -> None:
        self.post_message(self.Highlighted(self, self.current))

    # -- geometry ------------------------------------------------------------
    def _body_height(self) -> int:
        return max(1, self.size.height - 1)

    def _follow_cursor(self) -> bool:
        """Scroll so the cursor row is visible; True if it scrolled."""
        top = int(self.scroll_y)
        height = self._body_height()
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
            return True
        if self.cursor >= top + height:
            self.scroll_to(y=self.cursor - height + 1, animate=False, immediate=True)
            return True
        return False

    def _refresh_row(self, position: int) -> None:
        y = position - int(self.scroll_y) + 1
        if 1 <= y < self.size.height:
            self.refresh_line(y)

    def on_resize(self, event: events.Resize) -> None:
        self.virtual_size = Size(0, len(self.ids) + 1)
        self._follow_cursor()

    def on_click(self, event: events.Click) -> None:
        if event.y == 0:
            x = event.x - MARK_WIDTH
            for column, width in layout_columns(self.scrollable_content_region.width,
                                                self.columns):
                if x < width + 1:
                    if column.sortable:
                        self.post_message(self.SortRequested(self, column.key))
                    return
                x -= width + 1
            return
        position = int(self.scroll_y) + event.y - 1
        if 0 <= position < len(self.ids):
            if self.provisional:  # picked by hand: that row it is, sorted or not
                self.provisional = False
                self._refresh_row(self.cursor)
            if position == self.cursor and event.chain >= 2:
                self.action_open()
            self._move_to(position)

    # -- drawing -------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        columns = layout_columns(width, self.columns)
        if y == 0:
            return self._header(columns, width)
        position = int(self.scroll_y) + y - 1
        if position >= len(self.ids):
            if position == 0:
                style = self.get_component_rich_style("contact-table--empty")
                return Strip([Segment(fit("  " + self.empty_message, width), style)], width)
            return Strip.blank(width, self.rich_style)
        contact_id = self.ids[position]
        found = self._source(contact_id)
        base = self.rich_style
        if found is None:
            return Strip([Segment(fit(f"  contact {contact_id} was removed", width), base)],
                         width)
        document, result = found
        if position == self.cursor and not self.provisional:
            base = base + self.get_component_rich_style("contact-table--cursor")
        elif result.stage in ("disqualified", "lost"):
            base = base + self.get_component_rich_style("contact-table--exit")
        marked = contact_id in self.marked
        mark_style = base + self.get_component_rich_style("contact-table--marked", partial=True) \
            if marked else base
        segments = [Segment("● " if marked else "  ", mark_style)]
        for index, (column, cell_width) in enumerate(columns):
            if index:
                segments.append(Segment(" ", base))
            value = self.likelihood_text(contact_id) if column.key == "likely" \
                else cell_value(column.key, document, result, contact_id)
            text = fit(value, cell_width, right=column.right)
            segments.append(Segment(text, self._cell_style(column.key, result, base)))
        used = sum(cell_width for _, cell_width in columns) + len(columns) - 1 + MARK_WIDTH
        if used < width:
            segments.append(Segment(" " * (width - used), base))
        return Strip(segments, width)

    def _cell_style(self, key: str, result: Classification, base: Style) -> Style:
        if key == "temperature":
            return base + self.get_component_rich_style(f"contact-table--{result.temperature}",
                                                        partial=True)
        if key in ("follow_up", "flags") and (result.overdue or result.rotting) or \
                key == "flags" and result.unanswered:
            return base + self.get_component_rich_style("contact-table--overdue", partial=True)
        return base

    def _header(self, columns: list[tuple[Column, int]], width: int) -> Strip:
        style = self.get_component_rich_style("contact-table--header")
        arrow = "↓" if not self.sort_descending else "↑"
        parts = [" " * MARK_WIDTH]
        for index, (column, cell_width) in enumerate(columns):
            title = column.title + (arrow if column.key == self.sort_key else "")
            parts.append((" " if index else "") + fit(title, cell_width, right=column.right))
        text = "".join(parts)
        return Strip([Segment(fit(text, width), style)], width)
