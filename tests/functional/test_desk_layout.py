"""A tidy desk (issue #15 item 9): the help, the card, the cursor after an edit."""

from __future__ import annotations

import re

import pytest

from funnel.tui.app.app import FunnelApp, Settings
from funnel.tui.app.help_screen import HelpScreen
from funnel.tui.dialogs.prompts import ChoiceDialog
from funnel.tui.panes.contacts.card import ContactScreen

from pilot_support import move_to, settle, shown_ids, wait_until


def help_text(app: FunnelApp) -> str:
    assert isinstance(app.screen, HelpScreen)
    return str(app.screen.query_one("#help-text").render())


async def test_help_keeps_every_key_apart_from_what_it_does(app):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press("question_mark")
        text = help_text(app)
        # The longest keys ran into their description: `pagedown,ctrl+f,ctrl+dPage down`.
        assert re.search(r"ctrl\+d {2,}Page down", text), text
        for line in text.splitlines():
            assert not re.search(r"[a-z0-9+,]+[A-Z][a-z]", line.strip().split(" ")[0]), line


async def test_the_cards_help_gives_each_key_one_meaning(app, workspace):
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot, app)
        await pilot.press("enter")
        assert isinstance(app.screen, ContactScreen)
        await pilot.press("question_mark")
        text = help_text(app)
        assert re.search(r"esc,q +Back", text)
        assert "Quit" not in text  # q goes back on the card: it does not quit there
        await pilot.press("escape", "q")
        assert not isinstance(app.screen, ContactScreen)
        assert app.is_running


async def test_the_help_shows_the_keys_as_remapped(workspace, tmp_path):
    app = FunnelApp(workspace, Settings(poll_seconds=0, keymap={"contacts.disqualify": "D"},
                                        rules_path=str(tmp_path / "rules.yaml")))
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot, app)
        await pilot.press("question_mark")
        text = help_text(app)
        assert re.search(r"\n  D +Disqualify", text), text
        assert not re.search(r"\n  d +Disqualify", text)


async def test_the_card_counts_with_thousands_separators(app, workspace):
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot, app)
        first = workspace.ids()[0]
        many = list(range(10_000, 11_233)) + [first] + list(range(20_000, 120_000))
        app.open_contact(first, many)
        await pilot.pause()
        header = str(app.screen.query_one("#card-title").render())
        assert "1,234 of 101,234" in header, header


async def test_after_an_edit_the_cursor_stays_on_its_row(app, workspace):
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot, app)
        table = app.contacts_pane.table
        before = shown_ids(app)
        await move_to(pilot, app, before[2])
        await pilot.press("d")
        assert isinstance(app.screen, ChoiceDialog)
        await pilot.press("enter")
        assert workspace.classification(before[2]).stage == "disqualified"
        await settle(pilot, app)
        assert before[2] not in shown_ids(app)[:3]  # it went down the list
        # The person's place in the queue: the same row, now the next contact.
        assert table.cursor == 2
        assert table.current == before[3]


def table_lines(app: FunnelApp) -> list[str]:
    table = app.contacts_pane.table
    return [table.render_line(y).text for y in range(table.size.height)]


async def test_at_80_columns_the_table_keeps_what_triage_needs(app):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        header = table_lines(app)[0]
        for title in ("Name", "Stage", "Score", "Temp", "Source", "Owner", "Follow-up"):
            assert re.search(rf"\b{title}\b", header), header
        name = header.index("Name")
        assert header.index("Stage") - name >= 19  # room for a name like "Renamed Elsewhere"


async def test_at_120_columns_no_title_is_cut(app):
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot, app)
        header = table_lines(app)[0]
        assert "…" not in header
        for title in ("Name", "Company", "Stage", "Score", "Temp", "Type", "Source",
                      "Owner", "Follow-up"):
            assert re.search(rf"\b{title}\b", header), header


async def test_contacts_without_a_name_show_their_external_id_or_number(app, workspace):
    lead = workspace.add({"external_id": "7927b2df-8bba-4d29", "source": "web_form"})
    nameless = workspace.add({"source": "web_form", "phone": "+48 600 100 200"})
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot, app)
        app.contacts_pane.set_view("all", "web_form")
        await settle(pilot, app)
        text = "\n".join(table_lines(app))
        assert "(no name)" not in text
        for contact_id, shown in ((lead, "7927b2df-8bba-4d29"), (nameless, f"#{nameless}")):
            app.contacts_pane.table.set_ids([contact_id])
            await pilot.pause()
            assert table_lines(app)[1].lstrip(" !~").startswith(shown), table_lines(app)[1]
        app.open_contact(lead)
        await pilot.pause()
        assert "7927b2df-8bba-4d29" in str(app.screen.query_one("#card-title").render())


def footer_line(app: FunnelApp) -> str:
    strips = app.screen._compositor.render_strips()
    return strips[-1].text


@pytest.mark.parametrize("size", [(80, 24), (120, 36)])
async def test_the_footer_cuts_no_key_and_always_shows_help(app, size):
    async with app.run_test(size=size) as pilot:
        await settle(pilot, app)
        for place in ("list", "card"):
            if place == "card":
                await pilot.press("enter")
                assert isinstance(app.screen, ContactScreen)
            await pilot.pause()
            line = footer_line(app)
            assert "…" not in line, (place, line)
            assert "? Help" in line, (place, line)
            # Every key shown is whole: no description runs into the palette's key.
            assert not re.search(r"\w▏", line), (place, line)


def screen_text(app: FunnelApp) -> str:
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


async def test_at_80_columns_the_view_picker_keeps_each_view_on_one_line(app):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press("v")
        await pilot.pause()
        lines = screen_text(app).splitlines()
        hot = next(line for line in lines if "▊Hot " in line)
        assert "temp:hot" in hot
        below = lines[lines.index(hot) + 1]
        assert "▊Overdue follow-ups" in below, below  # not the rest of Hot's filter


async def test_at_80_columns_the_add_dialog_shows_its_hint(app):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press("a")
        await pilot.pause()
        assert "Esc cancels" in screen_text(app)


async def test_a_one_row_import_preview_says_row_not_rows(app, tmp_path):
    from textual.widgets import Input

    from funnel.tui.dialogs.transfer import ImportScreen

    source = tmp_path / "one.csv"
    source.write_text("Name;E-mail\nAna Nowak;ana@nowak.example\n", encoding="utf-8")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot, app)
        await pilot.press("i")
        assert isinstance(app.screen, ImportScreen)
        app.screen.query_one("#import-file", Input).value = str(source)
        await pilot.press("enter")
        report = lambda: str(app.screen.query_one("#import-report").render())  # noqa: E731
        await wait_until(pilot, lambda: "would create 1" in report(), "the preview")
        assert "1 row," in report() and "1 rows" not in report(), report()
