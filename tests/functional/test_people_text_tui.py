"""A name someone else stored reaches this person's screen shown, never acted on and
never read as markup: in the conflict dialog, the notification after it, the card's
timeline, and any notification a widget sends.

The hostile names are planted in the history the way an old version (before names
were checked on the way in) would have stored them: straight through the store.
Before: a ``by`` of ``[/nope]`` made the notification vanish, and an OSC 52 clipboard
write in a ``by`` went to the terminal as it was."""

from __future__ import annotations

import re

from funnel.engine.history import entry
from funnel.engine.store.contacts import ContactStore
from funnel.tui.dialogs.conflict import ConflictDialog
from funnel.tui.panes.contacts.card import ContactScreen, FieldList

from conftest import NOW
from pilot_support import settle, wait_until

RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
OSC52 = "ev\x1b]52;c;cm0gLXJmIH4=\x1b\\il\x1b[2J\u202e\x9b"
# A closing tag that matches nothing (as markup: the notification failed to show),
# then a clipboard write, a clear-screen, a right-to-left override and a C1 CSI.
HOSTILE_BY = "[/nope] " + OSC52
SHOWN_BY = "[/nope] ev␛]52;c;cm0gLXJmIH4=␛\\il␛[2J"  # how the screen shows it


def plant_title(db_path, contact_id: int, title: str, by: str) -> None:
    """Another session's change of the title, by a name no check saw."""
    store = ContactStore(db_path)
    try:
        with store.transaction():
            document = dict(store.get(contact_id) or {})
            document["history"] = list(document["history"]) + [
                entry(NOW, by, "field", field="title", before=document.get("title"),
                      after=title)]
            document["title"] = title
            document["rev"] = document.get("rev", 0) + 1
            store.put(contact_id, document, by=by)
    finally:
        store.close()


def shown_toasts(app) -> str:
    """What the notifications on screen show (Textual's Toast widgets, as rendered)."""
    return "\n".join(str(toast.render()) for toast in app.screen.query("Toast"))


def assert_shown_not_run(text: str) -> None:
    found = RAW.search(text)
    assert found is None, f"raw {found.group()!r} in {text!r}"


async def open_title_editor(pilot, app) -> int:
    await settle(pilot, app)
    target = app.contacts_pane.table.current
    await pilot.press("enter")
    assert isinstance(app.screen, ContactScreen)
    fields = app.screen.query_one(FieldList)
    fields.highlighted = fields.get_option_index("title")
    await pilot.pause()
    await pilot.press("enter")
    assert app.screen.editing == "title"
    return target


async def test_the_conflict_its_notification_and_the_timeline_show_the_name(app, db_path):
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        target = await open_title_editor(pilot, app)
        plant_title(db_path, target, "their-title", HOSTILE_BY)
        app._poll()
        await wait_until(pilot, lambda: "changed by" in str(
            app.screen.query_one("#edit-remote").render()), "the edit line flags the change")
        assert_shown_not_run(str(app.screen.query_one("#edit-remote").render()))
        await pilot.press("ctrl+u", *"CTO", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ConflictDialog), "the dialog")
        clashes = str(app.screen.query_one("#clashes").render())
        assert_shown_not_run(clashes)
        assert "set by [/nope] ev␛]52" in clashes
        await pilot.press("t")  # keep theirs: a notification says whose was kept
        await wait_until(pilot, lambda: isinstance(app.screen, ContactScreen)
                         and "yours was discarded" in shown_toasts(app), "the notification")
        toasts = shown_toasts(app)
        assert_shown_not_run(toasts)
        assert f"Kept {SHOWN_BY}" in toasts
        assert all(not RAW.search(n.message) for n in app._notifications)
        # The card's timeline lists their change, by whom: shown, not run.
        timeline = str(app.screen.query_one("#card-timeline").render())
        assert_shown_not_run(timeline)
        assert f"by {SHOWN_BY}" in timeline


async def test_any_notification_is_plain_and_visible(app):
    """Widgets' ``notify`` asks for markup by default (Textual's own default); the app
    shows every notification as plain text with controls visible, whoever sends it."""
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await settle(pilot, app)
        for sender in (app, app.contacts_pane):
            sender.notify(f"{type(sender).__name__} refused by {HOSTILE_BY}",
                          title="by [b]x\x1b[2J")
        await wait_until(pilot, lambda: shown_toasts(app).count("refused by") == 2,
                         "both notifications")
        toasts = shown_toasts(app)
        assert_shown_not_run(toasts)
        for sender in (app, app.contacts_pane):
            assert f"{type(sender).__name__} refused by {SHOWN_BY}" in toasts
        assert "by [b]x␛[2J" in toasts
