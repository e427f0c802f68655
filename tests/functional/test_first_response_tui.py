"""First-response deadlines in the app (issue #15): the list's flags column shows ``?``
for a contact past its deadline that no one has answered, and the card says
``UNANSWERED``, or ``ANSWER BY 10:00`` while the deadline is still ahead."""

from __future__ import annotations

from conftest import NOW
from pilot_support import move_to, settle, shown_ids

from funnel.tui.panes.contacts.card import ContactScreen


def card_badges(app) -> str:
    return str(app.screen.query_one("#card-badges").render())


def flags_cell(app) -> str:
    table = app.contacts_pane.table
    return table.render_line(1 + table.cursor).text[:4]


async def test_unanswered_shows_in_the_list_and_on_the_card(app, workspace):
    fresh = workspace.add({"name": "Fresh Chat", "source": "chat"})  # at 09:00: due 10:00
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot, app)
        ids = shown_ids(app)
        waiting = next(contact_id for contact_id in ids
                       if workspace.classification(contact_id).unanswered
                       and not workspace.classification(contact_id).overdue)
        await move_to(pilot, app, waiting)
        assert "?" in flags_cell(app)
        await pilot.press("enter")
        assert isinstance(app.screen, ContactScreen)
        assert "UNANSWERED" in card_badges(app)
        await pilot.press("escape")
        await pilot.pause()
        assert fresh in shown_ids(app)
        await move_to(pilot, app, fresh)
        assert "?" not in flags_cell(app)
        await pilot.press("enter")
        assert NOW.hour == 9
        assert "ANSWER BY 10:00" in card_badges(app)
        assert "UNANSWERED" not in card_badges(app)
