"""Contacts committed in another thread (an import's worker, a script sharing the
workspace) while the Funnel or the Scoring tab is on screen.

The workspace tells its subscribers on the committing thread; the app only posts a
message there and the panes hear it on the UI thread. Before that, the Scoring pane
started its timer in the committing thread (``RuntimeError: no running event
loop``, raised into the commit) and the Funnel pane had to hop threads by itself.
"""

from __future__ import annotations

import asyncio
import threading

from funnel.engine.reports import lifecycle
from funnel.tui.panes.funnel.pane import FunnelPane
from funnel.tui.panes.scoring.pane import ScoringPane

from pilot_support import settle


async def wait_for(pilot, test, what: str, tries: int = 500) -> None:
    for _ in range(tries):
        if test():
            return
        await pilot.pause(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def threads_heard_on(*panes) -> set[int]:
    """The threads each pane's ``contacts_changed`` is called on, from now on."""
    threads: set[int] = set()
    for pane in panes:
        def heard(ids, told=pane.contacts_changed) -> None:
            threads.add(threading.get_ident())
            told(ids)
        pane.contacts_changed = heard
    return threads


async def edit_in_another_thread(app) -> list[BaseException]:
    """Warm up a cold contact from a thread of its own; what the commit raised, if any."""
    workspace = app.workspace
    contact = next(cid for cid in workspace.ids()
                   if workspace.classification(cid).temperature == "cold")
    raised: list[BaseException] = []

    def edit() -> None:
        try:
            workspace.edit(contact, {"budget": "yes", "authority": "yes", "need": "yes"},
                           by="a script")
        except BaseException as error:  # noqa: BLE001 - the test reports it
            raised.append(error)

    thread = threading.Thread(target=edit)
    thread.start()
    # Joined off the event loop, so nothing the thread waits for can hang the test.
    await asyncio.to_thread(thread.join, 10)
    assert not thread.is_alive(), "the commit never finished"
    return raised


async def test_an_edit_from_another_thread_with_the_scoring_tab_shown(app):
    workspace = app.workspace
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)
        await pilot.press("3")
        pane = app.query_one(ScoringPane)
        await wait_for(pilot, lambda: pane.settled and pane.current_stats is not None,
                       "the first count")
        before = pane.current_stats
        heard = threads_heard_on(pane, app.query_one(FunnelPane))

        assert await edit_in_another_thread(app) == []

        await wait_for(pilot, lambda: pane.current_stats is not before and pane.settled,
                       "the count after the edit")
        assert pane.current_stats != before
        assert pane.current_stats == workspace.stats()
        assert heard == {threading.get_ident()}  # the UI thread only
        assert app.is_running
        cursor = pane.cursor
        await pilot.press("j")  # the tab still answers keys
        assert pane.cursor == cursor + 1


async def test_an_edit_from_another_thread_with_the_funnel_tab_shown(app):
    workspace = app.workspace
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)
        await pilot.press("2")
        pane = app.query_one(FunnelPane)
        await wait_for(pilot, lambda: pane.settled and pane.figures is not None,
                       "the first figures")
        before = pane.figures
        heard = threads_heard_on(pane, app.query_one(ScoringPane))

        assert await edit_in_another_thread(app) == []

        await wait_for(pilot, lambda: pane.figures is not before and pane.settled,
                       "the figures after the edit")
        assert pane.figures == lifecycle.compute(workspace, top_reasons=8)
        assert heard == {threading.get_ident()}  # the UI thread only
        assert app.is_running
        await pilot.press("j")
        assert pane.cursor == 1
