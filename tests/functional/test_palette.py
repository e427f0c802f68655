"""The command palette (ctrl+p) holds Funnel's own commands, run on the right contacts."""

from __future__ import annotations

from textual.command import CommandInput, CommandList, CommandPalette

from funnel.tui.app.commands import FunnelCommands
from funnel.tui.dialogs.prompts import ChoiceDialog
from funnel.tui.panes.contacts.card import ContactScreen

from pilot_support import move_to, settle, shown_ids, wait_until


async def run_command(pilot, app, words: str, name: str) -> None:
    """ctrl+p, type ``words``, wait for ``name`` to be the first hit, Enter."""
    await pilot.press("ctrl+p")
    await wait_until(pilot, lambda: isinstance(app.screen, CommandPalette), "the palette")
    palette = app.screen
    palette.query_one(CommandInput).value = words  # (typing is Textual's to test)

    def first_hit() -> str:
        hits = palette.query_one(CommandList)
        return str(hits.get_option_at_index(0).prompt) if hits.option_count else ""
    await wait_until(pilot, lambda: first_hit().startswith(name), f"{name!r} first")
    await pilot.press("down", "enter")  # (down highlights the first hit)
    await wait_until(pilot, lambda: not isinstance(app.screen, CommandPalette),
                     "the palette to close")


def command_names(app) -> list[str]:
    provider = FunnelCommands(app.screen)
    return [name for name, _, _ in provider.commands()]


async def test_the_palette_lists_views_sorts_and_every_action(app):
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot, app)
        names = command_names(app)
        for name in ("View: New", "View: Hot", "Sort by created", "Sort by last activity",
                     "Contacts: Disqualify", "Contacts: Advance", "Contacts: Import…",
                     "Contacts: Export view…", "Contacts: Mark", "Go to Scoring",
                     "App: Undo"):
            assert name in names, (name, names)
        assert not any(name.endswith(": Down") for name in names)


async def test_a_triage_action_from_the_palette_acts_on_the_current_contact(app, workspace):
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot, app)
        target = shown_ids(app)[4]
        await move_to(pilot, app, target)
        await run_command(pilot, app, "disqualify", "Contacts: Disqualify")
        await wait_until(pilot, lambda: isinstance(app.screen, ChoiceDialog), "the reasons")
        await pilot.press("enter")
        assert workspace.classification(target).stage == "disqualified"


async def test_views_and_sorts_from_the_palette(app, workspace):
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot, app)
        await pilot.press("2")  # from another tab: the palette brings the list back
        await run_command(pilot, app, "view hot", "View: Hot")
        await settle(pilot, app)
        assert app.query_one("TabbedContent").active == "contacts"
        assert app.contacts_pane.view == "hot"
        await run_command(pilot, app, "sort by score", "Sort by score")
        await settle(pilot, app)
        assert app.contacts_pane.table.sort_key == "score"
        assert shown_ids(app) == workspace.select(app.contacts_pane.full_query(), "score")


async def test_on_the_card_the_palette_offers_the_cards_actions(app, workspace):
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot, app)
        await pilot.press("enter")
        assert isinstance(app.screen, ContactScreen)
        names = command_names(app)
        assert "Contact: Adjust score" in names and "Contact: Next contact" in names
        assert not any(name.startswith("View:") for name in names)
