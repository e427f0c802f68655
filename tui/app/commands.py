"""The command palette's own commands (ctrl+p): views, sorts, tabs and every action
of the place the palette was opened from (triage, marking, import, export, log…).

Actions are listed from the bindings really declared (with their keys, as remapped
by the user's key map), so a new key binding shows up here without a line of its
own. The framework's provider adds the theme, the screenshot and quit.
"""

from __future__ import annotations

from functools import partial
from typing import Any, Callable, Iterator

from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.app import App
from textual.widget import Widget
from textual.widgets import TabbedContent

from funnel.engine.workspace.query import SORTS
from funnel.tui.app.help_screen import describe_key
from funnel.tui.app.keymap import class_bindings, keymap_keys
from funnel.tui.app.services import services
from funnel.tui.panes.contacts.card import ContactScreen
from funnel.tui.panes.contacts.pane import ContactsPane
from funnel.tui.widgets.text import literal

# Moving the cursor is what keys are for: these ids stay out of the palette.
NOT_COMMANDS = {"table.down", "table.up", "table.page_down", "table.page_up",
                "funnel.down", "funnel.up", "scoring.down", "scoring.up", "scoring.left",
                "scoring.right", "scoring.page_down", "scoring.page_up", "scoring.cancel",
                "app.quit", "app.help"}
TABS = {"contacts": "Contacts", "funnel": "Funnel", "scoring": "Scoring"}

Command = tuple[str, str, Callable[[], Any]]  # name, help, what it does


class FunnelCommands(Provider):
    """Funnel's commands, for the screen the palette was opened over."""

    def commands(self) -> Iterator[Command]:
        screen = self.screen
        keymap = services(screen).settings.keymap
        if isinstance(screen, ContactScreen):
            yield from self._actions("Contact", screen, class_bindings(type(screen)), keymap)
            return
        tabs = screen.query(TabbedContent)
        if not tabs:
            return
        active = tabs.first().active
        panes = {pane.id: pane for pane in screen.query("#contacts-pane, #funnel-pane, "
                                                        "#scoring-pane")}
        contacts = panes.get("contacts-pane")
        if isinstance(contacts, ContactsPane):
            yield from self._contacts(contacts, active == "contacts", keymap)
        for tab, title in TABS.items():
            if tab != active:
                yield (f"Go to {title}", f"the {title} tab",
                       partial(self.app.run_action, f"tab('{tab}')"))
        other = panes.get(f"{active}-pane")
        if active != "contacts" and other is not None:
            yield from self._actions(TABS[active], other, class_bindings(type(other)), keymap)
        yield from self._actions("App", self.app, class_bindings(type(self.app)), keymap)

    def _contacts(self, pane: ContactsPane, shown: bool,
                  keymap: dict[str, str] | None) -> Iterator[Command]:
        catalog = pane.views.catalog

        def show(view: str) -> None:
            services(pane).show_contacts(view)

        def sort(order: str) -> None:
            services(pane).show_contacts(pane.view)
            pane.sort_by(order)
        for view in catalog.ids():
            yield (f"View: {literal(catalog.label(view))}",
                   literal(catalog.query(view)) or "every contact", partial(show, view))
        for order in SORTS:
            yield (f"Sort by {order.replace('_', ' ')}", "the Contacts list; again reverses",
                   partial(sort, order))
        if shown:
            table = pane.table
            yield from self._actions("Contacts", table, class_bindings(type(table)), keymap)
            yield from self._actions("Contacts", pane, class_bindings(type(pane)), keymap)

    def _actions(self, scope: str, node: Widget | App[Any], bindings: list[Binding],
                 keymap: dict[str, str] | None) -> Iterator[Command]:
        for binding in bindings:
            if binding.description and binding.id not in NOT_COMMANDS:
                keys = describe_key(keymap_keys(binding, keymap))
                yield (f"{scope}: {binding.description}", f"key {keys}",
                       partial(node.run_action, binding.action))

    async def discover(self) -> Hits:
        for name, help_text, command in self.commands():
            yield DiscoveryHit(name, command, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, command in self.commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), command, help=help_text)
