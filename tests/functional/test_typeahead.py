"""Keys typed right after the key that opens a dialog, the filter line or the card
reach it, in order.

``pilot.press`` waits for the app to go idle after every key, which hides the problem;
a terminal delivers a burst (a paste, a script, keys that arrive in one SSH packet)
with no pause at all. ``burst`` sends keys the way the terminal driver does, all at
once, and then waits until ``done`` holds. A one-character item is typed text;
longer ones are key names ("enter", "ctrl+u").
"""

from __future__ import annotations

from typing import Callable

from textual import events
from textual.keys import key_to_character

from funnel.engine.workspace.query import VIEWS
from funnel.tui.panes.contacts.card import ContactScreen

from pilot_support import settle, shown_ids


KEY_NAMES = {":": "colon", " ": "space", "-": "minus", ">": "greater_than_sign"}


def key_event(item: str) -> events.Key:
    if len(item) == 1:
        return events.Key(KEY_NAMES.get(item, item), item)
    return events.Key(item, key_to_character(item))


async def burst(pilot, app, keys: list[str], done: Callable[[], bool]) -> None:
    for key in keys:
        app._driver.send_message(key_event(key))
    for _ in range(250):
        await pilot.pause(0.02)
        if done():
            break
    await settle(pilot, app)


async def test_the_filter_gets_what_is_typed_right_after_slash(app, workspace):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        pane = app.contacts_pane
        await burst(pilot, app, ["slash", *"temp:hot"],
                    lambda: pane.query_text == "temp:hot")
        assert pane.query_text == "temp:hot"
        assert shown_ids(app) == workspace.select("temp:hot", "attention")


async def test_a_reason_picked_right_after_d(app, workspace):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        target = app.contacts_pane.table.current
        await burst(pilot, app, ["d", "j", "enter"],
                    lambda: workspace.classification(target).stage == "disqualified")
        assert workspace.get(target)["disqualify_reason"] == "no need the product solves"
        assert not isinstance(app.screen, ContactScreen)


async def test_a_reason_typed_right_after_d(app, workspace):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        target = app.contacts_pane.table.current
        # end: the last choice, "another reason…", which opens a line to type it in
        await burst(pilot, app, ["d", "end", "enter", *"moved abroad", "enter"],
                    lambda: workspace.classification(target).stage == "disqualified")
        assert workspace.get(target)["disqualify_reason"] == "moved abroad"


async def test_a_follow_up_picked_right_after_z(app, workspace):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        target = app.contacts_pane.table.current
        await burst(pilot, app, ["z", "j", "enter"],
                    lambda: workspace.get(target).get("follow_up") == "2026-11-23")
        assert workspace.get(target)["follow_up"] == "2026-11-23"  # in 3 days


async def test_a_follow_up_date_typed_right_after_z(app, workspace):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        target = app.contacts_pane.table.current
        await burst(pilot, app, ["z", "end", "enter", *"2026-12-24", "enter"],
                    lambda: workspace.get(target).get("follow_up") == "2026-12-24")
        assert workspace.get(target)["follow_up"] == "2026-12-24"


async def test_an_owner_typed_right_after_o(app, workspace):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        target = app.contacts_pane.table.current
        await burst(pilot, app, ["o", "ctrl+u", *"zofia", "enter"],
                    lambda: workspace.get(target).get("owner") == "zofia")
        assert workspace.get(target)["owner"] == "zofia"


async def test_the_card_gets_the_keys_typed_right_after_opening_it(app, workspace):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        app.contacts_pane.set_view("inbox")
        await settle(pilot, app)
        target = app.contacts_pane.table.ids[1]
        assert target in workspace.select(VIEWS["inbox"], "attention")
        await burst(pilot, app, ["j", "e", "ctrl+u", *"Ana Nowak", "enter"],
                    lambda: workspace.get(target).get("name") == "Ana Nowak")
        assert workspace.get(target)["name"] == "Ana Nowak"
        assert isinstance(app.screen, ContactScreen) and app.screen.editing is None


async def test_a_newline_ends_the_filter_line_like_enter(app, workspace):
    # Enter typed before the app starts arrives as a newline (ctrl+j): the terminal
    # was still in line mode. It must end the line, not vanish (test_tmux_early_keys).
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        hot = workspace.select("temp:hot", "attention")
        await burst(pilot, app, ["slash", *"temp:hot", "ctrl+j", "e"],
                    lambda: isinstance(app.screen, ContactScreen))
        assert app.contacts_pane.query_text == "temp:hot"
        assert isinstance(app.screen, ContactScreen) and app.screen.contact_id == hot[0]
