"""What widgets may ask of the app, typed.

Widgets write ``services(self).workspace`` rather than ``self.app.workspace``: the type
checker then knows what they get. This module imports no pane, widget or dialog, so
any of them can use it without an import cycle; ``FunnelApp`` provides it.
"""

from __future__ import annotations

from datetime import date
from typing import Protocol, cast, runtime_checkable

from textual.dom import DOMNode

from funnel.engine.rules.classify import Classification
from funnel.engine.workspace.facade import Workspace
from funnel.tui.app.settings import Settings

# One contact as the table draws it: its document and its classification.
ContactRow = tuple[dict, Classification]


@runtime_checkable
class AppServices(Protocol):
    @property
    def workspace(self) -> Workspace: ...

    @property
    def settings(self) -> Settings: ...

    def today(self) -> date:
        """The workspace clock's date (tests fix the clock)."""
        ...

    def table_row(self, contact_id: int) -> ContactRow | None:
        """A contact and its classification, or None if it was removed."""
        ...

    def open_contact(self, contact_id: int, ids: list[int] | None = None, *,
                     edit: bool = False) -> None:
        """Show the contact card; ``ids`` are the contacts n/N step through."""
        ...

    def show_contacts(self, view: str = "all", query: str = "") -> None:
        """Switch to the Contacts tab showing ``view`` narrowed by ``query`` (drill-down)."""
        ...

    def after_triage(self, ids: list[int]) -> None:
        """A triage action on ``ids`` is done (a bulk one clears the marks)."""
        ...

    def contacts_ready(self) -> bool:
        """Every contact is classified (True when there is no Contacts tab)."""
        ...

    def selected_contact(self) -> int | None:
        """The contact under the Contacts tab's cursor, if any."""
        ...


# App classes already checked: a runtime Protocol check costs ~100 µs, and widgets ask
# for services while drawing.
_PROVIDERS: set[type] = set()


def services(node: DOMNode) -> AppServices:
    """The running app's services, seen from any widget or screen of it."""
    app = node.app
    if type(app) not in _PROVIDERS:
        if not isinstance(app, AppServices):
            raise TypeError(f"{type(app).__name__} does not provide Funnel's app services")
        _PROVIDERS.add(type(app))
    return cast(AppServices, app)
