"""The Contacts tab driven with real key presses through Textual's Pilot."""

from __future__ import annotations

from funnel.engine.workspace.query import VIEWS
from funnel.tui.panes.contacts.card import ContactScreen, FieldList
from funnel.tui.dialogs.prompts import ChoiceDialog, TextDialog
from funnel.tui.dialogs.views import ViewsDialog
from funnel.tui.app.help_screen import HelpScreen

from pilot_support import move_to, settle, shown_ids


async def test_opens_on_contacts_sorted_by_attention(app, workspace):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        assert app.query_one("TabbedContent").active == "contacts"
        assert shown_ids(app) == workspace.select("", "attention")
        assert app.contacts_pane.table.cursor == 0
        status = str(app.query_one("#contacts-status").render())
        assert "300 of 300" in status


async def test_cursor_keys(app):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        table = app.contacts_pane.table
        await pilot.press("j", "j", "down")
        assert table.cursor == 3
        await pilot.press("k")
        assert table.cursor == 2
        await pilot.press("G")
        assert table.cursor == len(table.ids) - 1
        await pilot.press("g")
        assert table.cursor == 0
        await pilot.press("pagedown")
        assert table.cursor > 10
        # The cursor row is drawn inside the visible window.
        assert table.scroll_y <= table.cursor < table.scroll_y + table.size.height


async def test_filter_updates_as_you_type_and_escape_clears(app, workspace):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        everyone = shown_ids(app)
        await pilot.press("slash", *"temp:hot")
        await settle(pilot, app)
        hot = workspace.select("temp:hot", "attention")
        assert 0 < len(hot) < len(everyone)
        assert shown_ids(app) == hot
        assert all(workspace.classification(i).temperature == "hot" for i in shown_ids(app))
        await pilot.press("space", *"score>40")
        await settle(pilot, app)
        assert shown_ids(app) == workspace.select("temp:hot score>40", "attention")
        await pilot.press("escape")
        await settle(pilot, app)
        assert shown_ids(app) == everyone
        assert app.contacts_pane.table.has_focus


async def test_bad_filter_is_reported_and_keeps_the_last_good_list(app, workspace):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press("slash", *"temp:hot", "space", *"colour:red")
        await settle(pilot, app)
        # "temp:hot colour" was the last filter that made sense (free text "colour")
        assert shown_ids(app) == workspace.select("temp:hot colour", "attention")
        assert "unknown term 'colour'" in str(app.query_one("#contacts-status").render())


async def test_views_picker(app, workspace):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press("v")
        assert isinstance(app.screen, ViewsDialog)
        await pilot.press("j", "j", "j", "enter")  # all, new, inbox, hot
        await settle(pilot, app)
        assert app.contacts_pane.view == "hot"
        assert shown_ids(app) == workspace.select(VIEWS["hot"], "attention")


async def test_sort_keys_and_reverse(app, workspace):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press("s")  # attention -> name
        await settle(pilot, app)
        assert app.contacts_pane.table.sort_key == "name"
        assert shown_ids(app) == workspace.select("", "name")
        await pilot.press("S")
        await settle(pilot, app)
        assert shown_ids(app) == workspace.select("", "name", descending=True)


def _inbox_lead_one_step_from_prospect(workspace) -> int:
    for contact_id in workspace.select(VIEWS["inbox"], "attention"):
        document, result = workspace.row(contact_id)
        if result.stage == "lead" and result.fit >= 30 and document.get("need") != "yes":
            return contact_id
    raise AssertionError("the generated data has no such lead")


async def _open_field(pilot, app, name: str) -> None:
    """Highlight field ``name`` through the list's API (getting there is not what these
    tests test), then open it with a real Enter."""
    fields = app.screen.query_one(FieldList)
    fields.highlighted = fields.get_option_index(name)
    await pilot.pause()
    assert fields.get_option_at_index(fields.highlighted).id == name
    await pilot.press("enter")


async def test_triage_a_lead_from_the_inbox_to_prospect(app, workspace):
    target = _inbox_lead_one_step_from_prospect(workspace)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        app.contacts_pane.set_view("inbox")
        await settle(pilot, app)
        await move_to(pilot, app, target)
        await pilot.press("enter")
        assert isinstance(app.screen, ContactScreen)
        await _open_field(pilot, app, "need")
        await pilot.press("ctrl+u", *"yes")
        badges = str(app.screen.query_one("#card-badges").render())
        assert "lead → prospect" in badges  # the draft, classified live
        assert workspace.classification(target).stage == "lead"  # nothing written yet
        await pilot.press("enter")
        assert workspace.classification(target).stage == "prospect"
        history = workspace.get(target)["history"]
        assert {"kind": "field", "field": "need", "by": "tester", "to": "yes"}.items() \
            <= history[-2].items()
        assert history[-1]["kind"] == "stage" and history[-1]["to"] == "prospect"
        await pilot.press("escape")
        await settle(pilot, app)
        assert not isinstance(app.screen, ContactScreen)


async def test_escape_discards_the_draft(app, workspace):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        target = app.contacts_pane.table.current
        before = workspace.get(target)
        await pilot.press("e")  # opens the card editing the first field (name)
        await pilot.pause()
        assert app.screen.editing == "name"
        await pilot.press(*"Changed")
        await pilot.press("escape")
        assert app.screen.editing is None
        assert workspace.get(target) == before


async def test_invalid_value_is_shown_inline_and_cannot_be_committed(app, workspace):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        target = app.contacts_pane.table.current
        before = workspace.get(target)
        await pilot.press("enter")
        await _open_field(pilot, app, "authority")
        await pilot.press("ctrl+u", *"maybe")
        error = str(app.screen.query_one("#edit-error").render())
        assert "one of yes, no, unknown" in error
        await pilot.press("enter")
        assert app.screen.editing == "authority"  # still open: nothing committed
        assert workspace.get(target) == before


async def test_undo_and_redo(app, workspace):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        target = app.contacts_pane.table.current
        owner = workspace.get(target).get("owner")
        await pilot.press("o", "ctrl+u", *"zofia", "enter")
        assert workspace.get(target)["owner"] == "zofia"
        await pilot.press("u")
        assert workspace.get(target).get("owner") == owner
        await pilot.press("ctrl+r")
        assert workspace.get(target)["owner"] == "zofia"


async def test_bulk_action_on_marked_rows(app, workspace):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        table = app.contacts_pane.table
        first_three = table.ids[:3]
        await pilot.press("space", "space", "space")
        assert table.marked == set(first_three)
        await pilot.press("d")
        assert isinstance(app.screen, ChoiceDialog)
        await pilot.press("j", "enter")  # the second reason
        for contact_id in first_three:
            document = workspace.get(contact_id)
            assert workspace.classification(contact_id).stage == "disqualified"
            assert document["disqualify_reason"] == "no need the product solves"
        assert not table.marked
        # The list re-sorts by attention: disqualified, the three no longer lead it.
        await settle(pilot, app)
        assert shown_ids(app) == workspace.select("", "attention")
        assert not set(table.ids[:3]) & set(first_three), (table.ids[:6], first_three)
        untouched = [i for i in workspace.ids() if i not in first_three][:20]
        assert all(workspace.classification(i).stage != "disqualified"
                   or workspace.get(i).get("disqualify_reason") != "no need the product solves"
                   for i in untouched)


async def test_move_back_asks_for_a_reason(app, workspace):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        table = app.contacts_pane.table
        target = next(i for i in table.ids if workspace.classification(i).stage == "prospect")
        await move_to(pilot, app, target)
        await pilot.press("less_than_sign")
        assert isinstance(app.screen, TextDialog)
        await pilot.press("enter")  # empty: refused, the dialog stays
        assert isinstance(app.screen, TextDialog)
        await pilot.press(*"needs more research", "enter")
        assert workspace.classification(target).stage == "lead"
        assert workspace.get(target)["history"][-1]["why"] == "needs more research"


async def test_advance_and_snooze(app, workspace):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        table = app.contacts_pane.table
        target = next(i for i in table.ids if workspace.classification(i).stage == "lead")
        await move_to(pilot, app, target)
        await pilot.press("greater_than_sign")
        assert workspace.classification(target).stage == "prospect"
        await settle(pilot, app)
        table.set_ids(table.ids, target)
        await pilot.press("z", "enter")  # tomorrow
        assert workspace.get(target)["follow_up"] == "2026-11-21"


async def test_add_a_contact(app, workspace):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        count = len(workspace)
        await pilot.press("a", *"Ana Nowak", "tab", *"ana@nowak.pl", "tab", "tab",
                          *"Nowak Sp", "tab", "tab", *"trade_show", "enter")
        assert len(workspace) == count + 1
        assert isinstance(app.screen, ContactScreen)
        document = workspace.get(app.screen.contact_id)
        assert (document["name"], document["email"], document["source"]) == \
            ("Ana Nowak", "ana@nowak.pl", "trade_show")


async def test_help_lists_the_real_bindings(app):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        text = str(app.screen.query_one("#help-text").render())
        for description in ("Disqualify", "Filter", "Undo", "Mark", "Command palette"):
            assert description in text
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_tab_keys_and_quit(app):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press("2")
        assert app.query_one("TabbedContent").active == "funnel"
        await pilot.press("3")
        assert app.query_one("TabbedContent").active == "scoring"
        await pilot.press("1")
        assert app.query_one("TabbedContent").active == "contacts"
        await pilot.press("q")
        assert app.return_code == 0  # q quit the app (before it, the code is None)
    assert app.return_code == 0


async def test_contact_text_is_shown_literally(app, workspace):
    markup = workspace.add({"name": "[bold red]ACME[/]", "email": "x@example.com"})
    # The model refuses control characters, so this one arrives as a hand-edited file would.
    from funnel.engine.model import new_contact
    from conftest import NOW
    document = new_contact({"name": "placeholder", "email": "y@example.com"}, NOW)
    document["name"] = "Evil\x1b[2J\x1b]0;owned\x07Corp"
    with workspace._store.transaction():
        [escape] = workspace._store.insert_many([document])
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        app.contacts_pane.set_view("all", "example.com")
        await settle(pilot, app)
        table = app.contacts_pane.table
        lines = [table.render_line(y).text for y in range(1, 3)]
        assert any("[bold red]ACME[/]" in line for line in lines)
        assert not any("\x1b" in line for line in lines)
        assert any("Evil␛[2J␛]0;owned�" in line for line in lines)
        table.set_ids(table.ids, markup)
        await pilot.press("enter")
        title = str(app.screen.query_one("#card-title").render())
        assert "[bold red]ACME[/]" in title
        await pilot.press("escape")
        table.set_ids(table.ids, escape)
        await pilot.press("enter")
        assert "\x1b" not in str(app.screen.query_one("#card-title").render())


async def test_another_sessions_commit_appears(app, workspace, db_path):
    from funnel.engine.workspace.facade import Workspace
    from conftest import fixed_clock
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        target = app.contacts_pane.table.current
        with Workspace.open(db_path, None, clock=fixed_clock, user="other") as other:
            other.edit(target, {"name": "Renamed Elsewhere"})
        app._poll()
        await settle(pilot, app)
        row = app.contacts_pane.table.render_line(1 + app.contacts_pane.table.cursor).text
        assert "Renamed Elsewhere" in row
