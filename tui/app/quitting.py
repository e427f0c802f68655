"""What the app's quit asks about: the unsaved work each part of the app holds.

The Scoring tab's draft (rule numbers changed, or one being typed) and a field being
edited on a contact card (ctrl+q reaches the quit while the edit line has the keys);
``q`` and ctrl+q then ask save / discard / keep working instead of dropping them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from textual.app import App
from textual.widgets import Input

from funnel.engine.errors import FieldError, FunnelError
from funnel.engine.model import FIELDS, parse_value
from funnel.tui.dialogs.unsaved import UnsavedWork
from funnel.tui.panes.contacts.card import ContactScreen
from funnel.tui.panes.scoring.pane import ScoringPane


def scoring_work(pane: ScoringPane) -> UnsavedWork:
    """The Scoring tab's draft; saving it is the tab's own Save (ctrl+s)."""

    def describe() -> str | None:
        if not pane.is_attached:
            return None
        count = len(pane.drafts)
        if count:
            return f"{count} unsaved change{'s' if count > 1 else ''} to the scoring rules"
        if pane.editing is not None:
            return "a scoring number being typed"
        return None

    def save() -> bool:
        before = pane.workspace.rules
        pane.action_save()  # says what went wrong when it cannot save
        # Saved: the workspace took the new rules (the tab drops its draft a moment later).
        return pane.workspace.rules is not before or (not pane.drafts and pane.editing is None)
    return UnsavedWork(describe, save)


def card_work(app: App, today_of: Callable[[], date]) -> UnsavedWork:
    """A field typed on a contact card and not saved (Enter saves it there)."""

    def editing() -> tuple[ContactScreen, str, object] | None:
        for screen in app.screen_stack:
            if isinstance(screen, ContactScreen) and screen.editing is not None:
                name = screen.editing
                text = screen.query_one("#edit-input", Input).value
                try:
                    value = parse_value(name, text, today_of())
                except FieldError:
                    return screen, name, text  # a bad value typed is unsaved work too
                if value != screen.seen.get(name):
                    return screen, name, value
        return None

    def describe() -> str | None:
        found = editing()
        if found is None:
            return None
        screen, name, _ = found
        return f"{FIELDS[name].label} of contact #{screen.contact_id}, being edited"

    def save() -> bool:
        found = editing()
        if found is None:
            return True
        screen, name, value = found
        try:  # the card's own path: the same engine edit, based on what it showed
            screen.workspace.edit(screen.contact_id, {name: value}, expect=screen.seen)
        except FunnelError as error:
            app.notify(f"Not saved: {error}", severity="error", timeout=10)
            return False
        return True
    return UnsavedWork(describe, save)
