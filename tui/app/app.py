"""The Funnel app: three tabs (Contacts, Funnel, Scoring) over one workspace.

It provides the services widgets ask for (``funnel.tui.app.services``) and hands key
presses over in order (``funnel.tui.app.typeahead``).
"""

from __future__ import annotations

from datetime import date
from typing import Callable

from textual import events, on
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.notifications import SeverityLevel
from textual.widgets import TabbedContent, TabPane

from funnel.engine.errors import FunnelError
from funnel.engine.workspace.facade import ChangeEvent, Workspace
from funnel.tui.app.commands import FunnelCommands
from funnel.tui.app.help_screen import HelpScreen, help_section
from funnel.tui.app.messages import ContactsChanged
from funnel.tui.app.quitting import card_work, scoring_work
from funnel.tui.app.services import ContactRow
from funnel.tui.app.settings import Settings
from funnel.tui.app.typeahead import Typeahead
from funnel.tui.dialogs.unsaved import quit_or_ask
from funnel.tui.panes.contacts.card import ContactScreen
from funnel.tui.panes.contacts.pane import ContactsPane
from funnel.tui.panes.funnel.pane import FunnelPane
from funnel.tui.panes.scoring.pane import ScoringPane
from funnel.tui.widgets.contact_table import ContactTable
from funnel.tui.widgets.footer import TidyFooter
from funnel.tui.widgets.text import literal, multiline

__all__ = ["FunnelApp", "Settings"]  # Settings lives in settings.py; importable here too


class FunnelApp(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "Funnel"
    COMMANDS = App.COMMANDS | {FunnelCommands}  # ctrl+p: views, sorts, every action
    BINDINGS = [
        Binding("q", "quit", "Quit", id="app.quit"),
        Binding("question_mark", "help", "Help", id="app.help"),
        Binding("1", "tab('contacts')", "Contacts", show=False, id="app.tab_contacts"),
        Binding("2", "tab('funnel')", "Funnel", show=False, id="app.tab_funnel"),
        Binding("3", "tab('scoring')", "Scoring", show=False, id="app.tab_scoring"),
        Binding("u", "undo", "Undo", id="app.undo"),
        Binding("ctrl+r", "redo", "Redo", show=False, id="app.redo"),
    ]

    def __init__(self, workspace: Workspace, settings: Settings | None = None) -> None:
        super().__init__()
        self.workspace = workspace
        self.settings = settings or Settings()
        self.title = self.settings.title
        self._unsubscribe: Callable[[], None] | None = None
        self._typeahead = Typeahead(self, self._route_key)
        self._poll_trouble: str | None = None  # what the last refresh failed with, if it did
        # Kept, not queried: finding them walks every widget of every tab, and every
        # change (a save in the card included) reaches them before the next frame.
        self._contacts = ContactsPane(id="contacts-pane")
        self._funnel = FunnelPane(id="funnel-pane")
        self._scoring = ScoringPane(id="scoring-pane")

    def compose(self) -> ComposeResult:
        with TabbedContent(initial="contacts", id="tabs"):
            with TabPane("1 Contacts", id="contacts"):
                yield self._contacts
            with TabPane("2 Funnel", id="funnel"):
                yield self._funnel
            with TabPane("3 Scoring", id="scoring"):
                yield self._scoring
        yield TidyFooter()  # keys that do not fit are left out, never cut

    def on_mount(self) -> None:
        if self.settings.keymap:
            self.set_keymap(self.settings.keymap)
        self._unsubscribe = self.workspace.subscribe(self._workspace_changed)
        if self.settings.poll_seconds > 0:
            self.set_interval(self.settings.poll_seconds, self._poll)
        for warning in self.workspace.warnings:
            self.notify(warning, severity="warning", timeout=10)

    def on_unmount(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
        self._contacts.views.keep_place()  # reopened where the person left off (#15)

    # -- keys --------------------------------------------------------------------
    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key) and not event.is_forwarded:
            await self._typeahead.receive(event)  # from the terminal: one at a time
        else:
            await super().on_event(event)

    async def _route_key(self, key: events.Key) -> None:
        await super().on_event(key)

    # -- the services widgets ask for (AppServices) -------------------------------
    def table_row(self, contact_id: int) -> ContactRow | None:
        try:
            return self.workspace.row(contact_id)
        except FunnelError:
            return None

    def notify(self, message: str, *, title: str = "", severity: SeverityLevel = "information",
               timeout: float | None = None, markup: bool = False) -> None:
        """Notifications carry contact data (names, owners, reasons, refusals): always
        plain text with control and bidi characters shown, never run. ``markup`` is
        ignored: Textual's ``Widget.notify`` asks for it by default, and a name like
        ``[/nope]`` would make the notification fail to show."""
        super().notify(multiline(message), title=literal(title), severity=severity,
                       timeout=timeout, markup=False)

    def today(self) -> date:
        return self.workspace.now().date()

    @property
    def contacts_pane(self) -> ContactsPane:
        if self._contacts.is_attached:
            return self._contacts
        return self.query_one(ContactsPane)  # gone (the app is closing): NoMatches

    def contacts_ready(self) -> bool:
        return not self._contacts.is_attached or self._contacts.ready

    def selected_contact(self) -> int | None:
        return self._contacts.table.current if self._contacts.is_attached else None

    def open_contact(self, contact_id: int, ids: list[int] | None = None, *,
                     edit: bool = False) -> None:
        self.push_screen(ContactScreen(contact_id, ids, edit=edit),
                         lambda _: self.contacts_pane.catch_up())

    def show_contacts(self, view: str = "all", query: str = "") -> None:
        self.query_one(TabbedContent).active = "contacts"
        self.contacts_pane.set_view(view, query)
        self.contacts_pane.table.focus()

    def after_triage(self, ids: list[int]) -> None:
        table = self.contacts_pane.table
        if len(ids) > 1 and table.marked:
            table.marked.clear()  # a bulk action is done with its marks

    # -- changes ---------------------------------------------------------------
    def _poll(self) -> None:
        try:
            self.workspace.refresh()  # subscribers hear "remote" for what others changed
        except FunnelError as error:
            # Told once, not every half second: the same trouble (a folder that vanished)
            # would otherwise bury the screen in notifications.
            if str(error) != self._poll_trouble:
                self._poll_trouble = str(error)
                self.notify(f"{error} (changes from other sessions are not shown until "
                            "this is fixed)", severity="error", timeout=30)
            return
        if self._poll_trouble is not None:
            self._poll_trouble = None
            self.notify("The database is reachable again")

    def _workspace_changed(self, event: ChangeEvent) -> None:
        # Called on whichever thread committed: only post, so the panes hear it on
        # the UI thread (post_message is thread-safe).
        self.post_message(ContactsChanged(event.kind, event.ids, event.by))

    @on(ContactsChanged)
    def _contacts_changed(self, event: ContactsChanged) -> None:
        if not self.is_running:
            # Shutting down: Textual takes widgets down children first, so a pane may
            # already have lost its parts. Nothing is left to redraw.
            return
        for pane in (self._contacts, self._funnel, self._scoring):
            if pane.is_attached:
                pane.contacts_changed(event.ids)
        for screen in self.screen_stack:
            if isinstance(screen, ContactScreen):
                screen.contacts_changed(event.ids)

    # -- actions ---------------------------------------------------------------
    async def action_quit(self) -> None:
        """q / ctrl+q: quits, but asks first when there is unsaved work (issue #15)."""
        quit_or_ask(self, [scoring_work(self._scoring), card_work(self, self.today)])

    def action_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab
        if tab == "contacts":
            self.contacts_pane.table.focus()

    def action_help(self) -> None:
        sections = []
        if isinstance(self.screen, ContactScreen):
            sections.append(help_section("Contact card", ContactScreen.BINDINGS))
        else:
            active = self.query_one(TabbedContent).active
            if active == "contacts":
                sections.append(help_section("Contacts: moving", ContactTable.BINDINGS))
                sections.append(help_section("Contacts: triage (on marked contacts when any)",
                                             ContactsPane.BINDINGS))
            for pane_class in (FunnelPane, ScoringPane):
                if active in pane_class.__name__.lower():
                    sections.append(help_section(pane_class.__name__.replace("Pane", ""),
                                                 pane_class.BINDINGS))
        sections.append(help_section("Everywhere", [
            *self.BINDINGS, Binding("ctrl+p", "command_palette",
                                   "Command palette (views, sorts, actions, themes)")]))
        self.push_screen(HelpScreen(sections))

    def action_undo(self) -> None:
        self._undo_redo("undo")

    def action_redo(self) -> None:
        self._undo_redo("redo")

    def _undo_redo(self, which: str) -> None:
        try:
            done = self.workspace.undo() if which == "undo" else self.workspace.redo()
        except FunnelError as error:
            self.notify(str(error), severity="warning")
            return
        # Says what it undid, whichever tab it was done in ("Undo: assign 3 contacts…").
        self.notify(done.message, severity="warning" if done.left else "information")
