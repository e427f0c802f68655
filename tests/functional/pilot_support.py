"""Helpers shared by the Pilot tests."""

from __future__ import annotations

from funnel.tui.app.app import FunnelApp


async def settle(pilot, app: FunnelApp) -> None:
    """Wait until the contacts are classified and the table shows the sorted view."""
    pane = app.contacts_pane
    for _ in range(200):
        await pilot.pause(0.02)
        if pane.ready and not any(worker.is_running for worker in app.workers):
            break
    await pilot.pause()


def shown_ids(app: FunnelApp) -> list[int]:
    return list(app.contacts_pane.table.ids)
