"""Forms keep what was typed: a bad value leaves the form open, every field as typed,
the error beside the field it is about, and nothing written.

Also: the Add form takes the spellings an import takes (``Trade Show``), and a
follow-up date is read by one parser wherever it is typed (``z``'s own date line and
the card's Follow-up field both take ``tomorrow``).
"""

from __future__ import annotations

from textual.widgets import Input, Static

from funnel.tui.dialogs.prompts import AddContactDialog, ScoreAdjustDialog, SnoozeDialog
from funnel.tui.panes.contacts.card import ContactScreen, FieldList

from pilot_support import settle

TOMORROW = "2026-11-21"  # the day after the fixtures' fixed clock


def _typed(app, selector: str) -> str:
    return app.screen.query_one(selector, Input).value


def _said(app, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


def _notes(app) -> list[str]:
    return [str(notification.message) for notification in app._notifications]


async def test_add_with_bad_values_keeps_every_field_and_says_which(app, workspace):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        count = len(workspace)
        await pilot.press("a", *"Ana Nowak", "tab", *"ana.nowak.pl", "tab", *"+48 601 234 567",
                          "tab", *"Nowak Sp", "tab", *"CEO", "tab", *"billboard", "enter")
        assert isinstance(app.screen, AddContactDialog)
        assert len(workspace) == count  # nothing written
        typed = {name: _typed(app, f"#new-{name}") for name, _ in AddContactDialog.FIELDS}
        assert typed == {"name": "Ana Nowak", "email": "ana.nowak.pl",
                         "phone": "+48 601 234 567", "company": "Nowak Sp", "title": "CEO",
                         "source": "billboard"}
        assert "not an email address" in _said(app, "#new-email-error")
        source_error = _said(app, "#new-source-error")
        assert "'billboard'" in source_error and "trade_show" in source_error
        assert _said(app, "#new-name-error") == ""
        assert app.screen.focused is app.screen.query_one("#new-email")  # the first to fix
        # Fixed: the email, and the source spelled as an import takes it.
        await pilot.press("ctrl+u", *"ana@nowak.pl", "enter")
        assert isinstance(app.screen, AddContactDialog)  # Enter moves on until the last
        await pilot.press("tab", "tab", "tab", "ctrl+u", *"Trade Show", "enter")
        assert isinstance(app.screen, ContactScreen)
        document = workspace.get(app.screen.contact_id)
        assert (document["name"], document["email"], document["source"]) == \
            ("Ana Nowak", "ana@nowak.pl", "trade_show")


async def test_follow_up_dates_typed_anywhere_are_read_alike(app, workspace):
    """``z``'s own date line and the card's Follow-up field: ``31/02`` is refused in
    place (still open, as typed, the error under it); ``tomorrow`` is taken in both."""
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        target = app.contacts_pane.table.current
        before = workspace.get(target)
        await pilot.press("z", "end", "enter", *"31/02", "enter")
        assert isinstance(app.screen, SnoozeDialog)
        assert _typed(app, "#other") == "31/02"
        assert "'31/02' is not a date" in _said(app, "#other-error")
        assert workspace.get(target) == before
        await pilot.press("ctrl+u", *"in 2 weeks", "enter")
        assert not isinstance(app.screen, SnoozeDialog)
        assert workspace.get(target)["follow_up"] == "2026-12-04"
        await pilot.press("enter")  # a card (the list may have moved on: its contact)
        target = app.screen.contact_id
        await _open_follow_up(pilot, app)
        await pilot.press("ctrl+u", *"tomorrow")
        assert _said(app, "#edit-error") == ""
        await pilot.press("enter")
        assert app.screen.editing is None
        assert workspace.get(target)["follow_up"] == TOMORROW
        await _open_follow_up(pilot, app)
        await pilot.press("ctrl+u", *"31/02")
        assert "'31/02' is not a date" in _said(app, "#edit-error")
        await pilot.press("enter")
        assert app.screen.editing == "follow_up"  # refused, still open
        assert workspace.get(target)["follow_up"] == TOMORROW


async def _open_follow_up(pilot, app) -> None:
    fields = app.screen.query_one(FieldList)
    fields.highlighted = fields.get_option_index("follow_up")
    await pilot.press("enter")


async def test_adjusting_the_score_with_nothing_typed_changes_nothing_and_says_so(app,
                                                                                  workspace):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        target = next(i for i in app.contacts_pane.table.ids
                      if not workspace.get(i).get("score_adjustment"))
        app.contacts_pane.table.set_ids(app.contacts_pane.table.ids, target)
        await pilot.pause()
        before = workspace.get(target)
        await pilot.press("enter", "plus", "enter", "enter")  # on the card: empty, Enter
        assert isinstance(app.screen, ScoreAdjustDialog)
        assert "points" in _said(app, "#points-error").lower()
        assert not any("Score adjusted" in note for note in _notes(app))
        assert workspace.get(target) == before
        assert app.screen.focused is app.screen.query_one("#points")  # where to fix it
        await pilot.press(*"12", "enter", *"met at the fair", "enter")
        assert workspace.get(target)["score_adjustment"] == 12


def test_every_day_the_snooze_offers_is_read_back_as_that_day():
    """One vocabulary: what ``z`` lists, typed into a follow-up field, is the same day."""
    from datetime import date, timedelta

    from funnel.engine.model import parse_value
    from funnel.tui.dialogs.prompts import NO_DATE, snooze_choices

    for offset in range(7):  # every weekday, so "next Monday" is checked from each
        today = date(2026, 11, 16) + timedelta(days=offset)
        for value, label in snooze_choices(today):
            if value != NO_DATE:
                words = label.split("  ")[0].strip()
                assert parse_value("follow_up", words, today) == value, (today, label)
