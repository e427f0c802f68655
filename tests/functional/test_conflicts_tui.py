"""Two people on one database, through the app: a save based on a value someone changed
since is refused and settled by the person, never a silent overwrite.

bob is a second real workspace on the same files; the app hears his commits when it
polls (``app._poll``, what its half-second timer does)."""

from __future__ import annotations

import pytest

from funnel.engine.workspace.facade import Workspace
from funnel.tui.dialogs.conflict import ConflictDialog
from funnel.tui.panes.contacts.card import ContactScreen, FieldList

from conftest import fixed_clock
from pilot_support import settle, wait_until


@pytest.fixture
def bob(db_path):
    with Workspace.open(db_path, None, clock=fixed_clock, user="bob") as other:
        yield other


async def open_title_editor(pilot, app) -> int:
    """Open the cursor's card and start editing its job title (with a real Enter)."""
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


def text_of(app, selector: str) -> str:
    return str(app.screen.query_one(selector).render())


async def bob_sets_title_while_anna_types(pilot, app, bob, target) -> None:
    bob.edit(target, {"title": "bob-cli"})
    app._poll()
    await wait_until(pilot, lambda: "changed by bob" in text_of(app, "#edit-remote"),
                     "the edit line flags bob's change")
    await pilot.press("ctrl+u", *"CTO", "enter")
    await wait_until(pilot, lambda: isinstance(app.screen, ConflictDialog), "the conflict dialog")


async def test_the_issue_reproduction_is_refused_and_shown_side_by_side(app, workspace, bob):
    """Before: the app said "Saved" and bob's title was gone from everything but the
    history (the check compared with the document as of the last refresh)."""
    async with app.run_test(size=(100, 30)) as pilot:
        target = await open_title_editor(pilot, app)
        seen = workspace.get(target).get("title")
        await bob_sets_title_while_anna_types(pilot, app, bob, target)
        table = text_of(app, "#clashes")
        assert "Job title" in table and "bob-cli" in table and "CTO" in table
        assert "set by bob" in table
        if seen:
            assert seen[:12] in table
        assert workspace.get(target)["title"] == "bob-cli"  # nothing of anna's written yet
        await pilot.press("t")  # keep theirs
        await wait_until(pilot, lambda: isinstance(app.screen, ContactScreen), "back on the card")
        assert app.screen.editing is None
        bob.refresh()
        assert bob.get(target)["title"] == "bob-cli"
        assert not any(entry.get("to") == "CTO" for entry in bob.get(target)["history"])


async def test_overwrite_with_mine_is_recorded_as_an_override(app, workspace, bob):
    async with app.run_test(size=(100, 30)) as pilot:
        target = await open_title_editor(pilot, app)
        await bob_sets_title_while_anna_types(pilot, app, bob, target)
        await pilot.press("m")
        await wait_until(pilot, lambda: isinstance(app.screen, ContactScreen)
                         and app.screen.editing is None, "saved")
        last = workspace.get(target)["history"]
        override = next(entry for entry in reversed(last) if entry.get("field") == "title")
        assert (override["from"], override["to"], override["by"], override["override"]) == \
            ("bob-cli", "CTO", "tester", True)
        assert "bob" in override["why"]


async def test_edit_again_keeps_the_draft_and_the_next_enter_saves_over_theirs(app, workspace,
                                                                                bob):
    async with app.run_test(size=(100, 30)) as pilot:
        target = await open_title_editor(pilot, app)
        await bob_sets_title_while_anna_types(pilot, app, bob, target)
        await pilot.press("escape")  # Esc loses nothing: back to the draft
        await wait_until(pilot, lambda: isinstance(app.screen, ContactScreen), "the card")
        assert app.screen.editing == "title"
        assert app.screen.query_one("#edit-input").value == "CTO"
        assert "bob set it to bob-cli" in text_of(app, "#edit-remote")
        await pilot.press(*" (acting)", "enter")
        await wait_until(pilot, lambda: app.screen.editing is None, "saved")
        document = workspace.get(target)
        assert document["title"] == "CTO (acting)"
        assert document["history"][-1].get("override") is True \
            or document["history"][-2].get("override") is True


async def test_a_change_to_another_field_merges_without_asking(app, workspace, bob):
    async with app.run_test(size=(100, 30)) as pilot:
        target = await open_title_editor(pilot, app)
        bob.edit(target, {"owner": "bob"})
        app._poll()
        await settle(pilot, app)
        assert not app.screen.query_one("#edit-remote").display
        await pilot.press("ctrl+u", *"CTO", "enter")
        await wait_until(pilot, lambda: app.screen.editing is None, "saved")
        document = workspace.get(target)
        assert (document["title"], document["owner"]) == ("CTO", "bob")


async def test_an_open_card_redraws_a_remote_change(app, workspace, bob):
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)
        target = app.contacts_pane.table.current
        await pilot.press("enter")
        assert isinstance(app.screen, ContactScreen)
        bob.edit(target, {"company": "Elsewhere Ltd", "need": "yes", "authority": "yes",
                          "budget": "yes", "timing": "yes"})
        app._poll()
        await wait_until(pilot, lambda: "Elsewhere Ltd" in text_of(app, "#card-title"),
                         "the card shows bob's company")
        expected = bob.classification(target)
        assert expected.temperature in text_of(app, "#card-badges")
        fields = app.screen.query_one(FieldList)
        assert any("Elsewhere Ltd" in str(fields.get_option_at_index(i).prompt)
                   for i in range(fields.option_count))


async def test_marked_contacts_refused_one_by_one_and_reported(app, workspace, bob):
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)
        table = app.contacts_pane.table
        await pilot.press("space", "space", "space")  # marks and moves down
        marked = table.ids[:3]
        assert table.marked == set(marked)
        await pilot.press("o")  # the owner dialog: the owners seen now are the base
        bob.edit(marked[1], {"owner": "bob"})
        app._poll()
        await pilot.press("ctrl+u", *"zofia", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ConflictDialog),
                         "the refused contact is asked about")
        assert app.screen.conflict.contact_id == marked[1]
        await pilot.press("t")
        await settle(pilot, app)
        owners = [workspace.get(cid).get("owner") for cid in marked]
        assert owners == ["zofia", "bob", "zofia"]
        messages = " ".join(str(n.message) for n in app._notifications)
        assert f"#{marked[1]}" in messages and "left as they are" in messages


async def test_a_vanished_database_folder_is_told_once(app, workspace, db_path):
    import shutil

    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)
        moved = db_path.parent.with_name(db_path.parent.name + "-away")
        shutil.move(db_path.parent, moved)
        try:
            for _ in range(5):
                app._poll()
                await pilot.pause()
            errors = [n for n in app._notifications if n.severity == "error"]
            assert len(errors) == 1, [n.message for n in errors]
            assert str(db_path) in errors[0].message or db_path.name in errors[0].message
        finally:
            shutil.move(moved, db_path.parent)
        app._poll()
        await pilot.pause()
        assert any("reachable again" in n.message for n in app._notifications)


async def test_a_refusal_naming_a_contact_shows_its_name_literally(app, workspace, bob):
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)
        table = app.contacts_pane.table
        target = table.current
        await pilot.press("space", "space")  # two marked: a bulk action
        assert target in table.marked
        workspace.edit(target, {"name": "[bold red]Mallory[/]"})
        await settle(pilot, app)
        await pilot.press("o")
        bob.edit(target, {"owner": "bob"})
        app._poll()
        await pilot.press("ctrl+u", *"zofia", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ConflictDialog), "the dialog")
        assert "[bold red]Mallory[/]" in str(app.screen.query_one(".title").render())
        await pilot.press("t")
        await settle(pilot, app)
        assert any(f"#{target}" in n.message for n in app._notifications)
        assert all(n.markup is False for n in app._notifications)
