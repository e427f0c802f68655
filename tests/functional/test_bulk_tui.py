"""Many at once, undo that says what it undoes, feedback that does not mislead
(issue #15): real key presses through Pilot on a real database file."""

from __future__ import annotations

import pytest

from funnel.tui.dialogs.bulk_edit import BulkEditDialog, editable_fields
from funnel.tui.dialogs.owners import OwnerDialog
from funnel.tui.dialogs.prompts import ChoiceDialog

from pilot_support import move_to, settle, wait_until


def messages(app) -> str:
    return "\n".join(str(notification.message) for notification in app._notifications)


def owners(workspace, ids):
    return [workspace.get(contact_id).get("owner") for contact_id in ids]


async def mark(pilot, app, ids) -> None:
    for contact_id in ids:
        await move_to(pilot, app, contact_id)
        await pilot.press("space")
    assert app.contacts_pane.table.marked == set(ids)


async def test_u_undoes_a_bulk_assign_in_one_press_and_says_what(app, workspace):
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot, app)
        table = app.contacts_pane.table
        await pilot.press("space", "space", "space")  # marks and moves down
        marked = table.ids[:3]
        before = owners(workspace, marked)
        await pilot.press("o", "ctrl+u", *"ola", "enter")
        assert owners(workspace, marked) == ["ola"] * 3
        await settle(pilot, app)
        await pilot.press("u")
        assert owners(workspace, marked) == before  # one press undid all three
        assert "Undo: assign 3 contacts to ola" in messages(app)
        await pilot.press("ctrl+r")
        assert owners(workspace, marked) == ["ola"] * 3
        assert "Redo: assign 3 contacts to ola" in messages(app)


async def test_u_in_the_scoring_tab_says_what_it_undoes(app, workspace):
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot, app)
        target = app.contacts_pane.table.current
        stage = workspace.classification(target).stage
        name = workspace.get(target).get("name")
        await pilot.press("d", "enter")
        assert workspace.classification(target).stage == "disqualified"
        await pilot.press("3")
        await pilot.press("u")
        assert workspace.classification(target).stage == stage
        assert f"Undo: disqualify {name}" in messages(app)


async def test_bulk_advance_names_the_contacts_it_skipped_and_why(app, workspace):
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot, app)
        ids = app.contacts_pane.table.ids
        leads = [i for i in ids if workspace.classification(i).stage == "lead"][:2]
        closed = next(i for i in ids if workspace.classification(i).stage == "lost")
        last = next(i for i in ids if workspace.classification(i).stage == "ambassador")
        await mark(pilot, app, leads + [closed, last])
        await pilot.press("greater_than_sign")
        assert [workspace.classification(i).stage for i in leads] == ["prospect"] * 2
        text = messages(app)
        assert "Advanced: 2 contacts" in text
        assert f"#{closed}" in text and "lost" in text
        assert f"#{last}" in text and "last stage" in text


async def test_advancing_an_opportunity_to_customer_asks_first(app, workspace):
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot, app)
        target = next(i for i in app.contacts_pane.table.ids
                      if workspace.classification(i).stage == "opportunity")
        await move_to(pilot, app, target)
        await pilot.press("greater_than_sign")
        assert isinstance(app.screen, ChoiceDialog)  # a won deal: confirm first
        assert workspace.classification(target).stage == "opportunity"
        await pilot.press("escape")
        assert workspace.classification(target).stage == "opportunity"
        await pilot.press("greater_than_sign", "j", "enter")  # "yes" is the second choice
        assert workspace.classification(target).stage == "customer"
        assert not workspace.classification(target).manual


async def test_star_marks_every_contact_the_filter_shows_and_minus_unmarks(app, workspace):
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot, app)
        await pilot.press("slash", *"stage:lead", "enter")
        await settle(pilot, app)
        table = app.contacts_pane.table
        leads = [i for i in workspace.ids() if workspace.classification(i).stage == "lead"]
        assert sorted(table.ids) == sorted(leads)
        await pilot.press("asterisk")
        assert table.marked == set(leads)
        assert f"Marked {len(leads):,}" in messages(app)
        assert f"{len(leads):,} marked" in str(app.contacts_pane.query_one("#contacts-status")
                                             .render())
        await pilot.press("minus")
        assert not table.marked
        assert f"Unmarked {len(leads):,}" in messages(app)


async def test_bulk_edit_form_keeps_a_bad_value_and_sets_a_good_one_in_one_step(app, workspace):
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot, app)
        marked = [i for i in app.contacts_pane.table.ids
                  if workspace.get(i).get("budget") != "yes"][:3]
        await mark(pilot, app, marked)
        before = [workspace.get(i).get("budget") for i in marked]
        version = workspace.version
        await pilot.press("E")
        dialog = app.screen
        assert isinstance(dialog, BulkEditDialog)
        budget = [name for name, _ in editable_fields()].index("budget")
        await pilot.press(*"j" * budget)  # down the list of fields to Budget
        assert dialog.query_one("#bulk-fields").highlighted_option.id == "budget"
        await pilot.press("enter", *"maybe", "enter")
        assert app.screen is dialog  # refused: the form stays open, the value kept
        assert dialog.query_one("#bulk-value").value == "maybe"
        assert "one of yes, no, unknown" in str(dialog.query_one("#bulk-value-error").render())
        assert workspace.version == version
        await pilot.press("ctrl+u", *"Yes", "enter")
        assert app.screen is not dialog
        assert [workspace.get(i).get("budget") for i in marked] == ["yes"] * 3
        assert workspace.version == version + 1  # one commit for the three
        await settle(pilot, app)
        await pilot.press("u")
        assert [workspace.get(i).get("budget") for i in marked] == before
        assert "Undo: edit budget of 3 contacts" in messages(app)


async def test_owner_picker_lists_owners_and_assigns_in_turn(app, workspace):
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot, app)
        marked = [i for i in app.contacts_pane.table.ids if not workspace.get(i).get("owner")][:5]
        await mark(pilot, app, marked)
        before = owners(workspace, marked)
        await pilot.press("o")
        dialog = app.screen
        assert isinstance(dialog, OwnerDialog)
        listed = dialog.query_one("#owner-list")
        await wait_until(pilot, lambda: listed.option_count > 0, "the owners to be listed")
        counted = workspace.owners()
        first, second = counted[0][0], counted[1][0]
        assert f"{counted[0][1]:>7,}" in str(listed.get_option_at_index(0).prompt)
        await pilot.press("down", "down", "space", "up", "space")  # second, then first
        assert dialog.query_one("#owner-name").value == f"{first}, {second}"  # list order
        await pilot.press("enter")
        assert owners(workspace, marked) == [first, second, first, second, first]
        assert f"Assigned in turn to {first}, {second}: 5 contacts" in messages(app)
        await settle(pilot, app)
        await pilot.press("u")
        assert owners(workspace, marked) == before
        assert f"Undo: assign 5 contacts in turn to {first}, {second}" in messages(app)


async def test_a_big_bulk_action_runs_in_a_worker_and_is_one_undo_step(app, workspace,
                                                                        monkeypatch):
    from funnel.tui.panes.contacts import triage

    monkeypatch.setattr(triage, "BACKGROUND_FROM", 50)  # the fixture has 300 contacts
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot, app)
        await pilot.press("asterisk")
        every = list(app.contacts_pane.table.ids)
        assert len(every) >= 50
        await pilot.press("o", "ctrl+u", *"ola", "enter")
        await wait_until(pilot, lambda: "Assigned to ola" in messages(app), "the worker")
        assert "Working on" in messages(app)
        assert set(owners(workspace, every)) == {"ola"}
        assert f"Assigned to ola: {len(every)} contacts" in messages(app)
        assert not app.contacts_pane.table.marked  # done: the marks are cleared
        await settle(pilot, app)
        await pilot.press("u")
        assert "ola" not in owners(workspace, every)
        assert f"Undo: assign {len(every)} contacts to ola" in messages(app)


@pytest.mark.stress  # the rule: tests/unit/test_people_text.py; here the picker staying open
async def test_owner_picker_refuses_a_name_no_one_can_go_by_and_stays_open(app, workspace):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        target = app.contacts_pane.table.current
        before = workspace.get(target).get("owner")
        await pilot.press("o", "ctrl+u", *("x" * 65), "enter")
        dialog = app.screen
        assert isinstance(dialog, OwnerDialog)  # still open, what was typed kept
        assert dialog.query_one("#owner-name").value == "x" * 65
        assert "64" in str(dialog.query_one("#owner-error").render())
        assert workspace.get(target).get("owner") == before
        await pilot.press("escape")
        assert not isinstance(app.screen, OwnerDialog)
