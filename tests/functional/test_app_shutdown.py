"""A change committed by another session can arrive while the app is closing.

Found by CI: the 60 s shared-desk stress run crashed on exit when a poll's
ContactsChanged was handled after the list's status line had been taken down but
before the list itself (Textual prunes children first). The app must let such late
news go: there is nothing left to redraw.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import funnel.tui.app.app as app_module
from funnel.tui.app.app import FunnelApp, Settings
from funnel.tui.app.messages import ContactsChanged


class NewsDuringShutdown(FunnelApp):
    """Posts one change exactly when the status line is gone and the list is not."""

    CSS_PATH = str(Path(app_module.__file__).parent / "app.tcss")
    posted = False

    async def _close_all(self) -> None:
        async def post_when_half_pruned() -> None:
            pane = self.contacts_pane
            while pane.query("#contacts-status"):
                await asyncio.sleep(0)
            self.post_message(ContactsChanged("remote", (1, 2, 3), "bob"))
            self.posted = True

        poster = asyncio.create_task(post_when_half_pruned())
        try:
            await super()._close_all()
        finally:
            poster.cancel()


async def test_a_change_arriving_while_the_app_closes_is_let_go(workspace, tmp_path):
    app = NewsDuringShutdown(workspace, Settings(poll_seconds=0,
                                                 rules_path=str(tmp_path / "rules.yaml")))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert app.contacts_pane.query("#contacts-status")
    assert app.posted  # the change really arrived mid-shutdown (and raised nothing)
