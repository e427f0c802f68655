"""Merging a duplicate from the Contacts tab (``D``), with real key presses on a real
database file: the current contact's likely duplicates are offered, the one picked is
merged into it after a confirmation and leaves the list, and ``u`` puts it back."""

from __future__ import annotations

from funnel.tui.dialogs.prompts import ChoiceDialog

from pilot_support import idle, move_to, settle, wait_until


async def test_d_offers_the_duplicates_and_merges_the_one_picked(app, workspace):
    keep_id = next(cid for cid in workspace.ids() if workspace.get(cid).get("email"))
    kept = workspace.get(keep_id)
    other_id = workspace.add({"name": "[b]Dup[/b]", "email": kept["email"].upper(),
                              "title": "Buyer"})
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot, app)
        await move_to(pilot, app, keep_id)
        await pilot.press("D")
        await wait_until(pilot, lambda: isinstance(app.screen, ChoiceDialog),
                         "the duplicates to be offered")
        offered = str(app.screen.query_one("#choices").get_option_at_index(0).prompt)
        assert offered.startswith(f"#{other_id}") and "[b]Dup[/b]" in offered
        await pilot.press("enter")  # the duplicate
        await idle(pilot)
        assert isinstance(app.screen, ChoiceDialog)  # are you sure?
        await pilot.press("enter")  # merge
        await idle(pilot)
        assert other_id not in workspace.ids()
        merged = workspace.get(keep_id)
        assert merged["email"] == kept["email"]  # the kept contact's value wins
        assert merged.get("title") == (kept.get("title") or "Buyer")  # or filled from it
        assert [entry["to"]["id"] for entry in merged["history"]
                if entry["kind"] == "merged"] == [other_id]
        await settle(pilot, app)
        assert other_id not in app.contacts_pane.table.ids
        await pilot.press("u")
        await idle(pilot)
        assert other_id in workspace.ids()
        assert workspace.get(other_id)["name"] == "[b]Dup[/b]"
        await settle(pilot, app)
        assert other_id in app.contacts_pane.table.ids


async def test_d_says_when_there_is_no_duplicate(app, workspace):
    groups = workspace.duplicates()
    alone = next(cid for cid in workspace.ids() if not any(cid in g.ids for g in groups))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await move_to(pilot, app, alone)
        await pilot.press("D")
        await idle(pilot)
        assert not isinstance(app.screen, ChoiceDialog)
        assert any(f"No likely duplicates of #{alone}" in str(note.message)
                   for note in app._notifications)
