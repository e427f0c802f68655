"""Helpers shared by the Pilot tests.

Waiting: ``wait_until`` lets the app run until a condition holds, awaiting the app's
running workers (an event, not a guess) and otherwise Textual's idle wait between
looks; it fails saying what it waited for. Nothing here sleeps a fixed time.

Moving: ``move_to`` puts the Contacts table's cursor on a contact through the table's
API, for tests where getting there is not what is tested (``test_cursor_keys`` tests
the keys themselves).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from textual.worker import WorkerError

from funnel.tui.app.app import FunnelApp

TIMEOUT = 60.0
LOOK_EVERY = 0.25  # seconds: the longest a wait goes without looking at the condition


def working(app) -> list:
    """The app's workers still to finish (Textual's own long-lived ones, such as the
    DirectoryTree's loader in group ``_loader``, never do: they are left out)."""
    return [worker for worker in app.workers
            if not worker.is_finished and not worker.group.startswith("_")]


async def _finished(worker) -> None:
    try:
        await worker.wait()
    except WorkerError:  # not started yet (the caller looks again), superseded, or
        pass  # failed: a failure shows in the app, and so in the test


async def wait_until(pilot, condition: Callable[[], object], what: str,
                     timeout: float = TIMEOUT) -> None:
    """Let the app run until ``condition()`` is true (checked after each step)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        remaining = deadline - loop.time()
        if remaining <= 0:
            raise AssertionError(f"waited {timeout:.0f} s for {what}")
        busy = working(pilot.app)
        if busy:  # the usual wait: a worker computing what the condition needs
            # Never cancelled: cancelling a wait would cancel the worker's own task.
            waits = [asyncio.ensure_future(_finished(worker)) for worker in busy]
            await asyncio.wait(waits, timeout=min(remaining, LOOK_EVERY),
                               return_when=asyncio.FIRST_COMPLETED)
        await pilot.pause()  # its result is posted to the UI: let that be handled


async def idle(pilot) -> None:
    """Wait until no worker of the app is left running and the app has caught up."""
    await pilot.pause()
    await wait_until(pilot, lambda: not working(pilot.app), "the app's workers to finish")
    await pilot.pause()


async def settle(pilot, app: FunnelApp) -> None:
    """Wait until the contacts are classified and the table shows the sorted view."""
    pane = app.contacts_pane
    await pilot.pause()  # what the last key press starts, started
    await wait_until(pilot, lambda: pane.ready and not working(app),
                     "the contacts to be classified and listed")
    await pilot.pause()


async def move_to(pilot, app: FunnelApp, contact_id: int) -> None:
    """Put the Contacts table's cursor on ``contact_id`` (it must be in the view)."""
    table = app.contacts_pane.table
    table.action_jump(table.ids.index(contact_id))
    await pilot.pause()
    assert table.current == contact_id


def shown_ids(app: FunnelApp) -> list[int]:
    return list(app.contacts_pane.table.ids)
