"""The Contacts tab's views: the built-in ones, New (arrived since one last looked),
Duplicates (grouped, to merge) and the person's own, saved with their filter and sort
in the desk (``user_config``).

``ViewCatalog`` answers what a view stands for; ``PaneViews`` is the pane's part
that picks, saves and deletes views (the picker is ``funnel.tui.dialogs.views``) and
chooses the table's columns (``funnel.tui.dialogs.columns``), both kept in the desk.
A view is named by an id: a built-in's name (``hot``), ``new``, or ``saved:NAME``.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Protocol, cast

from textual.binding import Binding
from textual.dom import DOMNode

from funnel.engine.errors import FunnelError
from funnel.engine.workspace.query import VIEWS
from funnel.tui.app.services import services
from funnel.tui.app.user_config import Desk, Place, SavedView
from funnel.tui.dialogs.columns import ColumnsDialog
from funnel.tui.dialogs.views import ViewAnswer, ViewRow, ViewsDialog
from funnel.tui.panes.contacts.desk_place import database_key, resume
from funnel.tui.widgets.contact_table import ContactTable
from funnel.tui.widgets.table_columns import CATALOGUE, COLUMNS, CUSTOM, column_for

BUILT_IN = {"all": "All", "new": "New", "inbox": "Inbox", "hot": "Hot",
            "overdue": "Overdue follow-ups", "rotting": "Rotting", "mine": "Mine",
            "duplicates": "Duplicates"}
SAVED = "saved:"
# New: newest first (the engine's created order, ascending, is newest first).
NEW_SORT = ("created", False)
# Duplicates: every contact with a likely duplicate, each group together (D merges).
DUPLICATES = ("duplicate", ("duplicates", False))


def since_text(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class ViewCatalog:
    def __init__(self, desk: Desk, since: datetime) -> None:
        self.desk = desk
        self.since = since  # the person's previous look: New starts there

    def ids(self) -> list[str]:
        return list(BUILT_IN) + [SAVED + name for name in self.desk.views]

    def exists(self, view: str) -> bool:
        return view in BUILT_IN or (view.startswith(SAVED)
                                    and view.removeprefix(SAVED) in self.desk.views)

    def label(self, view: str) -> str:
        return BUILT_IN.get(view) or view.removeprefix(SAVED)

    def query(self, view: str) -> str:
        if view == "new":
            return f"created>={since_text(self.since)}"
        if view == "duplicates":
            return DUPLICATES[0]
        if view.startswith(SAVED):
            saved = self.desk.views.get(view.removeprefix(SAVED))
            return saved.filter if saved else ""
        return VIEWS.get(view, "")

    def sort(self, view: str) -> tuple[str, bool] | None:
        """The sort a view comes with (built-ins but New and Duplicates keep the one
        chosen)."""
        if view == "new":
            return NEW_SORT
        if view == "duplicates":
            return DUPLICATES[1]
        saved = self.desk.views.get(view.removeprefix(SAVED)) if view.startswith(SAVED) \
            else None
        return (saved.sort, saved.descending) if saved else None


def view_bindings() -> list[Binding]:
    """The pane's keys for views and columns (``ViewActions``)."""
    return [Binding("v", "views", "Views", id="contacts.views"),
            Binding("C", "columns", "Columns…", show=False, id="contacts.columns")]


class ViewActions:
    """The actions behind ``view_bindings``, mixed into the Contacts pane."""

    views: PaneViews

    def action_views(self) -> None:
        self.views.pick()

    def action_columns(self) -> None:
        self.views.choose_columns()


class ViewHost(Protocol):
    """What ``PaneViews`` needs of the Contacts pane."""

    view: str
    query_text: str

    @property
    def table(self) -> ContactTable: ...

    def set_view(self, view: str, query: str | None = None) -> None: ...


class PaneViews:
    """The Contacts pane's views: picking, saving and deleting them, and the desk
    (read once per session, when it is first asked for)."""

    def __init__(self, pane: ViewHost) -> None:
        self._pane = pane
        self._node = cast(DOMNode, pane)
        self._catalog: ViewCatalog | None = None
        self._table: ContactTable | None = None  # kept: the place is saved as the app closes
        self._cursor: int | None = None  # the contact to put the cursor back on, first
        self._restoring = False
        self._database = ""  # the key of this database's place in the desk

    @property
    def catalog(self) -> ViewCatalog:
        if self._catalog is None:
            app = services(self._node)
            served = app.settings.files_folder is not None or app.settings.files_off
            desk = Desk.load(app.settings.config_dir,
                             app.workspace.user if served else None)
            self._catalog = ViewCatalog(desk, desk.look(app.workspace.now()))
            if desk.problem:
                self._node.app.notify(desk.problem, severity="warning", timeout=15)
        return self._catalog

    @property
    def desk(self) -> Desk:
        return self.catalog.desk

    def restore(self) -> None:
        """The person's columns put back, and where they left off in this database:
        the view, the filter on top, the sort (``desk_place``); the cursor follows once
        the list is sorted (``first_cursor``)."""
        pane, catalog = self._pane, self.catalog
        self._table = table = pane.table
        if self.desk.columns:
            table.set_columns(self.desk.columns)
        workspace = services(self._node).workspace
        self._database = database_key(workspace.path)
        found = resume(self.desk, self._database, catalog.exists, catalog.label,
                       workspace.user)
        self._restoring = True  # nothing is saved until it is all back
        try:
            pane.set_view(found.view, found.filter)
        finally:
            self._restoring = False
        if found.sort is not None:
            table.sort_key, table.sort_descending = found.sort
        self._cursor = found.contact
        if found.notice:
            self._node.app.notify(found.notice, severity="warning", timeout=15)

    def first_cursor(self) -> int:
        """The contact the cursor was on when the person left (-1: the top)."""
        return -1 if self._cursor is None else self._cursor

    def keep_place(self) -> None:
        """Save where the person is (the app closing, or another view chosen)."""
        table, pane = self._table, self._pane
        if table is None:
            return  # never shown: nothing to remember
        contact = self._cursor if table.provisional else table.current
        self.desk.keep_place(self._database, Place(
            pane.view, pane.query_text, table.sort_key, table.sort_descending, contact))

    def query(self) -> str:
        return self.catalog.query(self._pane.view)

    def label(self) -> str:
        return self.catalog.label(self._pane.view)

    def pick(self) -> None:
        catalog = self.catalog
        rows = [ViewRow(view, catalog.label(view), catalog.query(view),
                        view.startswith(SAVED)) for view in catalog.ids()]
        self._node.app.push_screen(ViewsDialog(rows, self._pane.view), self._answered)

    def _answered(self, answer: ViewAnswer | None) -> None:
        if answer is None:
            return
        pane, app = self._pane, self._node.app
        if answer.action == "pick":
            pane.set_view(answer.name)
        elif answer.action == "save":
            name = " ".join(answer.name.split())
            query = " ".join(part for part in (self.query(), pane.query_text) if part)
            try:
                self.desk.save_view(SavedView(name, query, pane.table.sort_key,
                                              pane.table.sort_descending))
            except FunnelError as error:
                app.notify(str(error), severity="error")
                return
            pane.set_view(SAVED + name, "")
            app.notify(f"Saved the view {name}")
        elif answer.action == "delete":
            self.desk.delete_view(answer.name)
            if pane.view == SAVED + answer.name:
                pane.set_view("all")
            app.notify(f"Deleted the view {answer.name}")
            self.pick()  # the picker again, without it

    def choose_columns(self) -> None:
        table = self._pane.table
        shown = list(table.columns)
        others = [column for column in CATALOGUE if column not in shown]
        others += [column for column in map(column_for, self._custom_keys())
                   if column is not None and column not in shown]

        def chosen(keys: list[str] | None) -> None:
            if keys:
                table.set_columns(keys)
                self.desk.remember(columns=[column.key for column in table.columns])
        self._node.app.push_screen(ColumnsDialog(shown, others, list(COLUMNS)), chosen)

    def _custom_keys(self, sample: int = 500) -> list[str]:
        """The custom fields of the contacts in view (the first ``sample`` of them)."""
        names: dict[str, None] = {}
        table, source = self._pane.table, services(self._node).table_row
        for contact_id in table.ids[:sample]:
            row = source(contact_id)
            if row is not None:
                names.update(dict.fromkeys(row[0].get("custom") or {}))
        return [CUSTOM + name for name in sorted(names)]

    def chosen(self, view: str) -> None:
        """``view`` is now shown: remembered (the app reopens into it), and the sort it
        comes with applied."""
        sort = self.catalog.sort(view)
        if sort is not None:
            self._pane.table.sort_key, self._pane.table.sort_descending = sort
        if not self._restoring:  # once the switch is done (its filter set too)
            self._node.call_after_refresh(self.keep_place)
