"""Many at once on the Contacts list: mark every contact the view and filter show
(``*``), unmark all (``-``), and edit a field on the marked contacts (``E``), one
commit and one undo step for the lot (``Workspace.bulk_edit``)."""

from __future__ import annotations

from typing import Any

from textual.binding import Binding
from textual.dom import DOMNode

from funnel.engine.model import FIELDS, parse_value
from funnel.tui.app.services import services
from funnel.tui.dialogs.bulk_edit import BulkEdit, BulkEditDialog
from funnel.tui.panes.contacts.triage import Triage
from funnel.tui.panes.contacts.triage_words import plural
from funnel.tui.widgets.contact_table import ContactTable


def marking_bindings() -> list[Binding]:
    return [
        Binding("asterisk", "mark_all", "Mark all shown", show=False, id="contacts.mark_all"),
        Binding("minus", "unmark_all", "Unmark all", show=False, id="contacts.unmark_all"),
        Binding("E", "bulk_edit", "Edit a field of the marked…", show=False,
                id="contacts.bulk_edit"),
    ]


class MarkingActions:
    """The actions behind ``marking_bindings``, mixed into the Contacts pane."""

    @property
    def table(self) -> ContactTable:
        raise NotImplementedError  # the pane's

    def triage_targets(self) -> list[int]:
        raise NotImplementedError

    def _show_status(self) -> None:
        raise NotImplementedError  # the pane's status line

    def action_mark_all(self) -> None:
        """Mark every contact the list shows now (the view and filter's matches)."""
        table = self.table
        table.marked.update(table.ids)
        table.refresh()
        self._show_status()
        self._notify(f"Marked {len(table.marked):,} · - unmarks all")

    def action_unmark_all(self) -> None:
        table = self.table
        count = len(table.marked)
        table.marked.clear()
        table.refresh()
        self._show_status()
        if count:
            self._notify(f"Unmarked {count:,}")

    def action_bulk_edit(self) -> None:
        assert isinstance(self, DOMNode), "mixed into a widget"
        ids = self.triage_targets()
        if not ids:
            return
        workspace = services(self).workspace
        today = services(self).today()
        host = self

        def check(name: str, text: str) -> Any:
            value = parse_value(name, text, today)
            workspace.preview(ids[0], {name: value})  # checked against the rules too
            return value

        def answered(edit: BulkEdit | None) -> None:
            if edit is None:
                return
            triage = Triage(host)
            seen = triage.seen(ids, edit.field)
            label = FIELDS[edit.field].label
            triage.run_bulk(ids, lambda: workspace.bulk_edit(ids, {edit.field: edit.value},
                                                             expect=seen),
                            f"{label} set", f"{label} not set")
        title = f"Edit {plural(len(ids), 'contact')}" + (" (marked)" if self.table.marked
                                                         else "")
        self.app.push_screen(BulkEditDialog(title, check), answered)

    def _notify(self, text: str) -> None:
        assert isinstance(self, DOMNode)
        self.app.notify(text)

