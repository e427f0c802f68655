"""The Contacts tab: the triage desk. A view bar, a filter line and the virtual table."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.timer import Timer
from textual.widgets import Input, Static
from textual.worker import get_current_worker

from funnel.engine.errors import FunnelError
from funnel.engine.workspace.facade import Workspace
from funnel.engine.workspace.query import SORTS, parse_query
from funnel.tui.app.services import services
from funnel.tui.app.typeahead import KeyHold
from funnel.tui.dialogs.prompts import AddContactDialog, NewContactDetails
from funnel.tui.panes.contacts.marking import MarkingActions, marking_bindings
from funnel.tui.panes.contacts.triage import TriageActions, triage_bindings
from funnel.tui.panes.contacts.views import PaneViews, ViewActions, view_bindings
from funnel.tui.panes.contacts.desk_actions import DeskActions, desk_bindings
from funnel.tui.widgets.contact_table import COLUMNS, ContactTable
from funnel.tui.widgets.text import literal

if TYPE_CHECKING:  # the import and export code loads when first used
    from funnel.engine.transfer.importer import ImportResult
    from funnel.tui.dialogs.export_screen import Exported

# Quiet typing awaited before a list of over DELAY_FROM contacts is filtered again (a
# filter costs ~10 ms at 100,000, ~130 ms at 1,000,000: below, waiting costs more).
FILTER_DELAY, DELAY_FROM = 0.03, 300_000
SORT_CYCLE = ("attention",) + tuple(column.key for column in COLUMNS if column.key != "flags")
# They change what is asked for, not act on a row shown: no need to wait for the list.
KEYS_THAT_NEVER_WAIT = ("filter", "views", "sort_next", "sort_reverse", "clear")


class ContactsPane(DeskActions, TriageActions, MarkingActions, ViewActions, Vertical):
    BINDINGS = [
        Binding("slash", "filter", "Filter", id="contacts.filter"),
        *view_bindings(),  # v views, C columns
        Binding("s", "sort_next", "Sort", show=False, id="contacts.sort"),
        Binding("S", "sort_reverse", "Reverse sort", show=False, id="contacts.reverse"),
        Binding("e", "edit", "Edit", show=False, id="contacts.edit"),
        Binding("a", "add", "Add", show=False, id="contacts.add"),
        *desk_bindings(),  # l logs work, D merges a duplicate (issue #15)
        *triage_bindings("contacts", back="Back", owner_and_tag_shown=True),
        *marking_bindings(),  # * marks all shown, - unmarks, E edits the marked
        Binding("i", "import_file", "Import…", show=False, id="contacts.import"),
        Binding("x", "export_view", "Export view…", show=False, id="contacts.export"),
        Binding("escape", "clear", "Clear marks/filter", show=False, id="contacts.clear"),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.view = "all"
        self.views = PaneViews(self)  # built-in, New and the person's own (desk.yaml)
        self.query_text = ""
        self.ready = False  # every contact classified (sorting needs it)
        # Keys wait while the list shown is about to be replaced (typeahead.KeyHold):
        # until it is first sorted, and while a filter, sort or view is being applied.
        self.key_hold = KeyHold(passes=KEYS_THAT_NEVER_WAIT)
        self.key_hold.set(True)
        self._asked = 0  # the latest selection asked for (numbers them)
        self._shown = 0  # the selection on screen; earlier answers arriving late are dropped
        self._filter_timer: Timer | None = None
        self._progress = ""
        self._problem = ""
        self._stale = False
        self._moved_on = False  # the contact under the cursor was changed: move on

    def compose(self) -> ComposeResult:
        yield Static("", id="contacts-status")
        yield Input(placeholder="filter: stage:lead temp:hot score>60 owner:me overdue "
                                "acme   (Enter keeps, Esc clears)", id="filter")
        table = ContactTable(services(self).table_row, id="contacts-table")
        table.likelihood_text = self._likelihood_text
        yield table

    @property
    def table(self) -> ContactTable:
        return self.query_one(ContactTable)

    @property
    def workspace(self) -> Workspace:
        return services(self).workspace

    def triage_targets(self) -> list[int]:
        return self.table.targets()

    def on_mount(self) -> None:
        self.query_one("#filter", Input).display = False
        self.table.set_ids(self.workspace.ids())  # shown at once; sorted when classified
        self.table.sort_key = "attention"
        self.views.restore()  # where the person left off: view, filter, sort; columns
        self.table.provisional = True  # no row is selected until the list is sorted
        self.table.focus()
        self._progress = "sorting…"
        self._classify_everything()
        self._show_status()

    # -- loading and selecting -------------------------------------------------
    @work(thread=True, exclusive=True, group="classify")
    def _classify_everything(self) -> None:
        worker = get_current_worker()

        def progress(done: int, total: int) -> None:
            if not worker.is_cancelled:
                self.app.call_from_thread(self._set_progress,
                                          f"classifying {done * 100 // max(total, 1)}%")
        self.workspace.classify_all(progress)
        self.app.call_from_thread(self._classified)

    def _set_progress(self, text: str) -> None:
        self._progress = text
        self._show_status()

    def _classified(self) -> None:
        self.ready = True
        self._progress = "sorting…"
        # No row picked yet (keys waited; a click picks one): the contact the person
        # left off on (desk_place), else the top, not whichever happened to come first.
        self.reselect(keep=self.views.first_cursor() if self.table.provisional else None)

    def _likelihood_text(self, contact_id: int) -> str:
        try:
            found = self.workspace.likelihood_of(contact_id)
        except FunnelError:  # an unreadable model file: the card says why
            return "?"
        return "" if found is None else f"{found * 100:.0f}%"

    def full_query(self) -> str:
        return " ".join(part for part in (self.views.query(), self.query_text) if part)

    def reselect(self, keep: int | None = None) -> None:
        """Run the view + filter + sort again, in a worker; the cursor stays on ``keep``."""
        if not self.ready:
            return
        table = self.table
        self._asked += 1
        self._update_key_hold()
        self._select(self.full_query(), table.sort_key, table.sort_descending,
                     keep if keep is not None else table.current,  # -1: go to the top
                     self._asked)

    def _update_key_hold(self) -> None:
        settling = self._asked != self._shown or self._filter_timer is not None
        self.key_hold.set(not self.ready or settling)

    @work(thread=True, exclusive=True, group="select")
    def _select(self, query: str, sort: str, descending: bool, keep: int | None,
                asked: int) -> None:
        worker = get_current_worker()
        try:  # over the columns: a rules change or a new day costs tens of milliseconds
            ids = self.workspace.select(query, sort, descending)
        except FunnelError as error:
            self.app.call_from_thread(self._select_failed, str(error), asked)
            return
        if not worker.is_cancelled:
            self.app.call_from_thread(self._selected, ids, keep, asked)

    def _selected(self, ids: list[int], keep: int | None, asked: int) -> None:
        if asked != self._asked:
            return  # a later selection is on its way: this one is already out of date
        self._shown = asked
        self._problem = ""
        self._progress = ""
        table = self.table
        table.empty_message = ("No contacts match" if self.full_query()
                               else "No contacts yet: a adds one")
        table.provisional = False
        table.set_ids(ids, keep, moved_on=self._moved_on and keep == table.current)
        self._moved_on = False
        self._show_status()
        # After the new rows are in place, so a waiting key acts on them.
        self._update_key_hold()

    def _select_failed(self, text: str, asked: int) -> None:
        if asked == self._asked:
            self._shown = asked  # the list stays as it was, and says why
            self._set_problem(text)
            self.table.provisional = False
            self._update_key_hold()

    def _set_problem(self, text: str) -> None:
        self._problem = text
        self._show_status()

    def _show_status(self) -> None:
        table = self.table
        total = len(self.workspace)
        parts = [Content.styled(literal(self.views.label()), "bold"),
                 Content(f"{len(table.ids):,} of {total:,}")]
        order = table.sort_key + (" ↑" if table.sort_descending else "")
        parts.append(Content(f"sort: {order}"))
        if table.marked:
            parts.append(Content.styled(f"{len(table.marked):,} marked", "bold"))
        if self.query_text:
            parts.append(Content("filter: ") + Content(self.query_text))
        if self._progress:
            parts.append(Content.styled(self._progress, "italic"))
        if self._problem:
            parts.append(Content.styled(self._problem, "$error"))
        status = self.query_one("#contacts-status", Static)  # one line: no layout pass
        status.update(Content(" · ").join(parts), layout=False)

    # -- filter ----------------------------------------------------------------
    def action_filter(self) -> None:
        field = self.query_one("#filter", Input)
        field.display = True
        field.value = self.query_text
        # Focus now, not after the next refresh: keys typed right after "/" (a paste,
        # a fast typist over SSH) must land in the filter, not on the table.
        self.screen.set_focus(field)

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        text = event.value.strip()
        try:
            parse_query(text, self.workspace.user)
        except FunnelError as error:
            self._set_problem(str(error))
            return
        self._problem = ""
        self.query_text = text
        self._show_status()
        if self._filter_timer is not None:
            self._filter_timer.stop()
        if len(self.workspace) > DELAY_FROM:  # let quick typing settle before a long pass
            self._filter_timer = self.set_timer(FILTER_DELAY, self._filter_due)
            self._update_key_hold()
        else:
            self._filter_timer = None
            self.reselect()

    def _filter_due(self) -> None:
        self._filter_timer = None
        self.reselect()
        self._update_key_hold()  # (reselect does it too, unless not ready yet)

    @on(Input.Submitted, "#filter")
    def _filter_done(self, event: Input.Submitted) -> None:
        field = self.query_one("#filter", Input)
        field.display = bool(self.query_text)
        self.table.focus()

    def _close_filter(self) -> None:
        field = self.query_one("#filter", Input)
        field.value = ""
        field.display = False
        self.table.focus()

    def action_clear(self) -> None:
        if self.query_one("#filter", Input).has_focus or self.query_text:
            self._close_filter()
            self.query_text = ""
            self._problem = ""
            self.reselect()
        elif self.table.marked:
            self.table.marked.clear()
            self.table.refresh()
        self._show_status()

    def on_key(self, event: events.Key) -> None:
        if event.key == "escape" and self.query_one("#filter", Input).has_focus:
            event.stop()
            self.action_clear()

    # -- views and sorting -----------------------------------------------------
    def set_view(self, view: str, query: str | None = None) -> None:
        self.view = view
        self.views.chosen(view)  # remembered; a saved view (or New) brings its sort
        if query is not None:
            self.query_text = query
            field = self.query_one("#filter", Input)
            with field.prevent(Input.Changed):
                field.value = query
            field.display = bool(query)
        self._show_status()
        self.reselect(keep=-1)  # another list: start at its top (New: the newest first)

    def action_sort_next(self) -> None:
        table = self.table
        index = SORT_CYCLE.index(table.sort_key) if table.sort_key in SORT_CYCLE else -1
        self.sort_by(SORT_CYCLE[(index + 1) % len(SORT_CYCLE)])

    def action_sort_reverse(self) -> None:
        self.table.sort_descending = not self.table.sort_descending
        self._show_status()
        self.reselect()

    def sort_by(self, key: str) -> None:
        assert key in SORTS, key
        table = self.table
        if table.sort_key == key:
            table.sort_descending = not table.sort_descending
        else:
            table.sort_key, table.sort_descending = key, False
        table.refresh()
        self._show_status()
        self.reselect()

    @on(ContactTable.SortRequested)
    def _header_clicked(self, event: ContactTable.SortRequested) -> None:
        self.sort_by("attention" if event.key == "flags" else event.key)

    @on(ContactTable.Highlighted)
    def _highlighted(self, event: ContactTable.Highlighted) -> None:
        self._show_status()

    # -- opening, adding, triage -----------------------------------------------
    @on(ContactTable.Opened)
    def _opened(self, event: ContactTable.Opened) -> None:
        services(self).open_contact(event.contact_id, list(self.table.ids))

    def action_edit(self) -> None:
        current = self.table.current
        if current is not None:
            services(self).open_contact(current, list(self.table.ids), edit=True)

    def action_add(self) -> None:
        def added(details: NewContactDetails | None) -> None:
            if details is None:
                return
            try:
                contact_id = self.workspace.add(details.fields())
            except FunnelError as error:
                self.app.notify(str(error), severity="error")
                return
            self.table.set_ids(self.table.ids + [contact_id], contact_id)
            services(self).open_contact(contact_id, list(self.table.ids))
        self.app.push_screen(AddContactDialog(), added)

    def action_import_file(self) -> None:
        from funnel.tui.dialogs.transfer import ImportScreen, files_are_off

        if files_are_off(self):
            return

        def imported(result: ImportResult | None) -> None:
            self.catch_up()  # the list was covered while it imported: show what it added
            if result is None:
                return
            self.app.notify("Imported: " + ", ".join(
                f"{value:,} {key}" for key, value in result.counts().items()))
            if result.conflicts:  # fields others changed while it imported: theirs kept
                lines = []
                for conflict in result.conflicts[:5]:
                    who = f"{conflict.by}'s" if conflict.by else "their"
                    lines.append(f"row {conflict.row}, #{conflict.contact_id} {conflict.field}: "
                                 f"kept {who} {literal(conflict.theirs)!r}, not the file's "
                                 f"{literal(conflict.in_file)!r}")
                more = len(result.conflicts) - len(lines)
                self.app.notify("Changed by others while importing, so left as they are:\n"
                                + "\n".join(lines) + (f"\n(and {more} more)" if more else ""),
                                severity="warning", timeout=15)
            for warning in result.warnings:
                self.app.notify(warning, severity="warning", timeout=15)
        self.app.push_screen(ImportScreen(), imported)

    def action_export_view(self) -> None:
        from funnel.tui.dialogs.export_screen import ExportScreen
        from funnel.tui.dialogs.transfer import files_are_off

        if files_are_off(self):
            return

        def exported(done: Exported | None) -> None:
            if done is not None:
                self.app.notify(f"Exported {done.count:,} contacts to {literal(done.path)}",
                                markup=False)
        what = self.views.label() + (f", filter {self.query_text}" if self.query_text else "")
        day = services(self).today().isoformat()
        self.app.push_screen(ExportScreen(list(self.table.ids), what,
                                          Path.cwd() / f"funnel-export-{day}.csv"), exported)

    def contacts_changed(self, ids: tuple[int, ...]) -> None:
        """Something changed (here or in another session): redraw now, re-sort soon.

        While another screen (the contact card) covers the list, re-sorting waits
        until the list is seen again, so it never competes with the card's redraw.
        """
        self._stale = True
        self._moved_on = self._moved_on or self.table.current in ids
        if self.app.screen is self.screen:
            self.catch_up()

    def catch_up(self) -> None:
        if not self._stale:
            return
        self._stale = False
        self.table.refresh()
        self._show_status()
        self._asked += 1  # keys wait from now: a key typed before the worker starts
        self._update_key_hold()  # would act on a row about to go or move
        self.call_after_refresh(self.reselect)  # the redraw first, then the worker
