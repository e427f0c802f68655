"""The contact card redraws once per change it has not shown yet.

Changes reach the panes as a ContactsChanged message handled after the save that made
them; the card has already shown its own save by then, and drawing it again (title,
badges, explanation, timeline, every field) came before the first frame after Enter.
A change it has not shown (another session's, a rules change) must still be drawn.
"""

from __future__ import annotations

import pytest

from funnel.engine.rules.classify import classify
from funnel.engine.rules.loading import load_rules
from funnel.engine.workspace.facade import Workspace
from funnel.tui.panes.contacts.card import ContactScreen, FieldList
from funnel.tui.panes.contacts.pane import ContactsPane

from conftest import fixed_clock
from pilot_support import settle, wait_until


@pytest.fixture
def bob(db_path):
    with Workspace.open(db_path, None, clock=fixed_clock, user="bob") as other:
        yield other


class Calls:
    """Counts calls of a method, passing them on."""

    def __init__(self, monkeypatch, owner: type, name: str) -> None:
        self.count = 0
        original = getattr(owner, name)

        def counted(*args, **kwargs):
            self.count += 1
            return original(*args, **kwargs)
        monkeypatch.setattr(owner, name, counted)


def text_of(app, selector: str) -> str:
    return str(app.screen.query_one(selector).render())


async def edit_title(pilot, app, value: str) -> None:
    fields = app.screen.query_one(FieldList)
    fields.highlighted = fields.get_option_index("title")
    await pilot.pause()
    await pilot.press("enter", "ctrl+u", *value)
    assert app.screen.editing == "title"


async def test_a_saved_edit_draws_the_card_once(app, workspace, monkeypatch):
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)
        target = app.contacts_pane.table.current
        await pilot.press("enter")
        assert isinstance(app.screen, ContactScreen)
        await edit_title(pilot, app, "Chief Tester")
        drawn = Calls(monkeypatch, ContactScreen, "show_contact")
        heard = Calls(monkeypatch, ContactsPane, "contacts_changed")
        await pilot.press("enter")
        await wait_until(pilot, lambda: heard.count >= 1, "the save's ContactsChanged")
        await pilot.pause()
        assert workspace.get(target)["title"] == "Chief Tester"
        assert app.screen.editing is None
        fields = app.screen.query_one(FieldList)
        assert "Chief Tester" in str(fields.get_option("title").prompt)
        assert heard.count == 1
        assert drawn.count == 1, "the card drew its own save again when the change was heard"


async def test_changes_heard_after_a_save_are_still_drawn(app, workspace, bob):
    fit_first = load_rules("fit-first")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)
        # A contact on the first screen whose score, once retitled below, the other
        # preset changes (the rules change below must show on the card).
        table = app.contacts_pane.table

        def retitled_score(contact_id, rules):
            document = dict(workspace.get(contact_id), title="Chief Tester")
            return classify(document, rules, fixed_clock()).score
        row = next(row for row, contact_id in enumerate(table.ids[:20])
                   if retitled_score(contact_id, workspace.rules)
                   != retitled_score(contact_id, fit_first))
        table.action_jump(row)
        await pilot.pause()
        target = table.current
        await pilot.press("enter")
        await edit_title(pilot, app, "Chief Tester")
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.screen.editing is None, "saved")
        bob.edit(target, {"company": "Elsewhere Ltd"})
        app._poll()
        await wait_until(pilot, lambda: "Elsewhere Ltd" in text_of(app, "#card-title"),
                         "the card shows bob's company")
        # A rules change names no contact; what the card shows is derived again.
        before = app.workspace.classification(target).score
        app.workspace.set_rules(load_rules("fit-first"))
        after = app.workspace.classification(target).score
        assert after != before  # (else this would not show the card redrawn)
        await wait_until(pilot, lambda: f"Score {after}" in text_of(app, "#card-badges"),
                         "the card shows the score under the new rules")
        assert app.workspace.get(target)["title"] == "Chief Tester"


async def test_next_and_previous_keep_the_place_in_the_list(app):
    """The card's place ("k of n") is looked up once per contact, then followed by n/N."""
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)
        ids = list(app.contacts_pane.table.ids)
        await pilot.press("enter")
        assert isinstance(app.screen, ContactScreen)
        assert f"1 of {len(ids)}" in text_of(app, "#card-title")
        await pilot.press("n", "n", "N")
        assert app.screen.contact_id == ids[1]
        assert f"#{ids[1]} " in text_of(app, "#card-title")
        assert f"2 of {len(ids)}" in text_of(app, "#card-title")
        await pilot.press("N", "N")  # the first has no previous
        assert app.screen.contact_id == ids[0]
        assert f"1 of {len(ids)}" in text_of(app, "#card-title")
