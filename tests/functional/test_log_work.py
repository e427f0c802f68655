"""Logging work with ``l`` (issue #15), with real key presses on a real database file:
from the list and the card, a note of several lines holding markup and a pasted ESC
(both shown literally), a bad date that keeps the dialog open, marked contacts all
logged at once, and a rotting contact made fresh."""

from __future__ import annotations

import pytest

from datetime import timedelta

from textual import events

from funnel.tui.dialogs.log_work import LogWorkDialog
from funnel.tui.panes.contacts.card import ContactScreen

from conftest import NOW
from pilot_support import idle, move_to, settle


def first_without_activity_today(workspace) -> int:
    return next(cid for cid in workspace.select("", "attention")
                if not workspace.classification(cid).stage.startswith(("dis", "lost")))


async def test_log_an_email_with_a_note_from_the_card(app, workspace):
    contact_id = first_without_activity_today(workspace)
    activities = len(workspace.get(contact_id).get("activities") or [])
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await move_to(pilot, app, contact_id)
        await pilot.press("enter")  # the card
        await idle(pilot)
        assert isinstance(app.screen, ContactScreen)
        await pilot.press("l")
        await idle(pilot)
        assert isinstance(app.screen, LogWorkDialog)
        await pilot.press("enter", "down", "enter")  # Kind: Call -> Email sent
        await pilot.press("tab", "enter", "down", "enter")  # Outcome: reached
        await pilot.press("tab", *"[bold]hi[/]", "enter", *"two ")
        app.post_message(events.Paste("x\x1b[2Jy"))  # a pasted ESC sequence
        await pilot.pause()
        await pilot.press("tab", *"yesterday", "tab", *"31/02", "enter")
        await idle(pilot)
        # The bad date keeps the dialog, everything as typed, and says what to write.
        assert isinstance(app.screen, LogWorkDialog)
        error = str(app.screen.query_one("#log-error").render())
        assert "Follow-up: '31/02' is not a date" in error
        assert app.screen.query_one("#log-note").text == "[bold]hi[/]\ntwo x\\x1b[2Jy"
        assert app.screen.focused is app.screen.query_one("#log-follow-up")
        assert len(workspace.get(contact_id).get("activities") or []) == activities
        await pilot.press(*["backspace"] * 5, *"in 3 days", "enter")
        await idle(pilot)
        assert isinstance(app.screen, ContactScreen)
        stored = workspace.get(contact_id)
        # Kept in time order: yesterday's email goes before today's page visits.
        assert [a for a in stored["activities"] if a["kind"] == "email_sent"] == [{
            "kind": "email_sent", "outcome": "reached",
            "at": (NOW - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "note": "[bold]hi[/]\ntwo x\\x1b[2Jy"}]
        assert stored["follow_up"] == (NOW + timedelta(days=3)).date().isoformat()
        # The card's timeline shows the note's text as typed: no markup, no escape.
        timeline = app.screen.query_one("#card-timeline").render()
        plain = getattr(timeline, "plain", str(timeline))
        assert "email sent · reached" in plain
        assert "   [bold]hi[/]\n   two x\\x1b[2Jy" in plain
        assert "\x1b" not in plain


async def test_marked_contacts_are_all_logged_and_escape_cancels(app, workspace):
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot, app)
        ids = list(app.contacts_pane.table.ids[:3])
        await pilot.press("space", "space", "space")  # mark three, moving down
        assert set(app.contacts_pane.table.targets()) == set(ids)
        revs = {cid: workspace.get(cid)["rev"] for cid in ids}
        await pilot.press("l", "tab", "tab", *"a note", "escape")  # Esc: nothing written
        await idle(pilot)
        assert not isinstance(app.screen, LogWorkDialog)
        assert {cid: workspace.get(cid)["rev"] for cid in ids} == revs
        await pilot.press("l", "ctrl+s")  # a call, now, no note
        await idle(pilot)
        for cid in ids:
            stored = workspace.get(cid)
            assert stored["rev"] == revs[cid] + 1
            assert stored["activities"][-1] == {"kind": "call", "at": "2026-11-20T09:00:00Z"}
        assert any("Logged call on 3 contacts" in str(note.message)
                   for note in app._notifications)
        await pilot.press("u")  # one step undoes the whole bulk log
        await idle(pilot)
        assert {cid: workspace.get(cid)["rev"] for cid in ids} == \
            {cid: rev + 2 for cid, rev in revs.items()}
        assert all({"kind": "call", "at": "2026-11-20T09:00:00Z"}
                   not in (workspace.get(cid).get("activities") or []) for cid in ids)


@pytest.mark.stress  # the rule: tests/unit/test_work_log.py; here the whole walk in the app
async def test_a_logged_note_makes_a_rotting_contact_fresh(app, workspace):
    rotting = [cid for cid in workspace.ids() if workspace.classification(cid).rotting]
    assert rotting, "the generated database has rotting contacts"
    contact_id = rotting[0]
    engagement = workspace.classification(contact_id).engagement
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot, app)
        await pilot.press("slash", *"rotting", "enter")
        await settle(pilot, app)
        await move_to(pilot, app, contact_id)
        await pilot.press("l", "enter", "down", "down", "down", "enter")  # Kind: Note
        await pilot.press("tab", "tab", *"left a voicemail", "ctrl+s")
        await idle(pilot)
        after = workspace.classification(contact_id)
        assert not after.rotting
        assert after.engagement == engagement  # a note is work, not their engagement
        assert workspace.get(contact_id)["activities"][-1]["note"] == "left a voicemail"
        await settle(pilot, app)
        assert contact_id not in app.contacts_pane.table.ids  # gone from the rotting view
