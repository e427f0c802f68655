"""A contact disqualified from the list leaves the Overdue view (issue #15, item 5)."""

from __future__ import annotations

from textual.widgets import OptionList

from pilot_support import move_to, settle, shown_ids


async def test_disqualifying_an_overdue_contact_takes_it_out_of_the_overdue_view(app,
                                                                                workspace):
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot, app)
        app.contacts_pane.set_view("overdue")
        await settle(pilot, app)
        overdue = shown_ids(app)
        assert overdue, "the fixture has overdue contacts"
        target = overdue[0]
        await move_to(pilot, app, target)
        await pilot.press("d")
        app.screen.query_one(OptionList).highlighted = 5  # "spam or fake details"
        await pilot.press("enter")
        assert workspace.classification(target).stage == "disqualified"
        assert workspace.get(target)["follow_up"]  # the date stays; it asks for nothing
        await settle(pilot, app)
        assert target not in shown_ids(app)
        assert workspace.classification(target).overdue is False
