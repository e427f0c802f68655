"""Keys typed ahead are never lost (issue #15): not when the view picker or the owner
picker goes while what it asked a thread for is still coming (the app died there),
not when a key follows a view switch, a sort, a filter or an edit before the list is
back, not when Down and space reach the owner picker in one read.

The list's selections, the picker's counts and the owners come from threads; a gate
(a ``threading.Event`` the test opens) holds them, so the slow moment a loaded
machine gives by chance is given here every time, with no sleeping.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.worker import WorkerError

from funnel.tui.app.app import FunnelApp, Settings
from funnel.tui.dialogs.owners import OwnerDialog
from funnel.tui.dialogs.views import ViewsDialog
from funnel.tui.panes.contacts.card import ContactScreen

from pilot_support import settle, shown_ids, wait_until
from test_typeahead import burst, key_event


def desk_app(workspace, config: Path) -> FunnelApp:
    return FunnelApp(workspace, Settings(poll_seconds=0, config_dir=str(config),
                                         rules_path=str(config / "rules.yaml")))


class Gate:
    """While closed, ``workspace.<method>`` called from a thread (the list's selection,
    the picker's counts, the owners) waits until the test opens it."""

    def __init__(self, workspace, monkeypatch, method: str = "select") -> None:
        self.real = getattr(workspace, method)  # for the test's own answers
        self.open_now = threading.Event()
        self.open_now.set()
        self.waiting = 0

        def gated(*args, **kwargs):
            if threading.current_thread() is not threading.main_thread():
                self.waiting += 1
                assert self.open_now.wait(20), "the test never opened the gate"
            return self.real(*args, **kwargs)
        monkeypatch.setattr(workspace, method, gated)

    def close(self) -> None:
        self.open_now.clear()
        self.waiting = 0

    def open(self) -> None:
        self.open_now.set()


def open_when_unmounting(monkeypatch, dialog_class, gate: Gate) -> None:
    """Open ``gate`` when a ``dialog_class`` dialog unmounts (after its widgets, before
    its workers are cancelled) and let its workers finish then: what they hand back
    meets a dialog that is going."""
    async def unmounting(dialog) -> None:
        gate.open()
        working = [worker for worker in dialog.workers if worker.node is dialog]
        if working:
            await asyncio.wait([asyncio.ensure_future(finished(w)) for w in working],
                               timeout=10)

    monkeypatch.setattr(dialog_class, "on_unmount", unmounting, raising=False)


async def finished(worker) -> None:
    try:
        await worker.wait()
    except WorkerError:  # failed or cancelled: the app says so, and the test sees it
        pass


@pytest.fixture
def gated(workspace, monkeypatch):
    gate = Gate(workspace, monkeypatch)
    yield gate
    gate.open()  # a failed test leaves no thread waiting


async def test_the_picker_can_go_while_its_counts_are_still_coming(workspace, gated,
                                                                     tmp_path: Path,
                                                                     monkeypatch):
    # The morning test's app died here under load: a count arrived after Enter had
    # dismissed the picker, while the picker was being taken down (its list already
    # gone: NoMatches), before its counting was cancelled.
    open_when_unmounting(monkeypatch, ViewsDialog, gated)
    app = desk_app(workspace, tmp_path / "config")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        gated.close()
        await pilot.press("v")
        assert isinstance(app.screen, ViewsDialog)
        await wait_until(pilot, lambda: gated.waiting, "the picker to count its first view")
        await pilot.press("j", "enter")  # New, while the counts are held
        await wait_until(pilot, gated.open_now.is_set, "the picker to go")
        await settle(pilot, app)
        pane = app.contacts_pane
        assert app.is_running and pane.view == "new"
        assert shown_ids(app) == gated.real(pane.full_query(), "created")


async def test_an_owner_given_before_the_list_of_owners_came(app, workspace, monkeypatch):
    gate = Gate(workspace, monkeypatch, "owners")
    open_when_unmounting(monkeypatch, OwnerDialog, gate)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        target = app.contacts_pane.table.current
        gate.close()
        await pilot.press("o")
        assert isinstance(app.screen, OwnerDialog)
        await wait_until(pilot, lambda: gate.waiting, "the picker to ask for the owners")
        await pilot.press("ctrl+u", *"zofia", "enter")
        await wait_until(pilot, gate.open_now.is_set, "the picker to go")
        await settle(pilot, app)
        assert app.is_running and workspace.get(target)["owner"] == "zofia"


async def send(pilot, app, keys: list[str], done: Callable[[], object]) -> None:
    """The keys all at once, as the terminal driver sends them (``burst`` without its
    settling: the gate holds the list's worker)."""
    for key in keys:
        app._driver.send_message(key_event(key))
    await wait_until(pilot, done, "the keys to be taken in")


async def case_view(pilot, app: FunnelApp) -> tuple[list[str], int | None]:
    return ["v", "j", "enter"], None  # All, New: a view starts at its top


async def case_sort(pilot, app: FunnelApp) -> tuple[list[str], int | None]:
    app.contacts_pane.sort_by("score")
    await settle(pilot, app)
    table = app.contacts_pane.table
    table.action_jump(len(table.ids) // 3)
    await pilot.pause()
    return ["S"], table.current  # reversed: the cursor stays on its contact


async def case_filter(pilot, app: FunnelApp) -> tuple[list[str], int | None]:
    current = app.contacts_pane.table.current
    assert current in app.contacts_pane.workspace.select("temp:hot")
    return ["slash", *"temp:cold", "enter"], None  # it is not among them: the top


@pytest.mark.parametrize("case", [case_view, case_sort, case_filter],
                         ids=["view", "sort", "filter"])
async def test_keys_after_a_reload_act_on_the_new_rows(workspace, gated, tmp_path: Path,
                                                       case):
    app = desk_app(workspace, tmp_path / "config")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        pane = app.contacts_pane
        keys, kept = await case(pilot, app)
        before, cursor = shown_ids(app), pane.table.cursor
        gated.close()  # the new list is held back until every key has been sent
        await send(pilot, app, [*keys, "j", "j", "e"], lambda: gated.waiting)
        await pilot.pause()
        assert not isinstance(app.screen, ContactScreen)  # e waits for the new rows
        gated.open()
        await wait_until(pilot, lambda: isinstance(app.screen, ContactScreen), "the card")
        rows = gated.real(pane.full_query(), pane.table.sort_key, pane.table.sort_descending)
        assert shown_ids(app) == rows != before
        wanted = rows[(0 if kept is None else rows.index(kept)) + 2]
        assert wanted != before[cursor + 2]  # the old rows would give another contact
        assert app.screen.contact_id == wanted


async def test_down_and_space_in_one_read_add_the_first_owner(app, workspace):
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot, app)
        await pilot.press("space", "space")  # two marked: the line starts with a name
        await pilot.press("o")
        picker = app.screen
        assert isinstance(picker, OwnerDialog)
        listed = picker.query_one("#owner-list")
        await wait_until(pilot, lambda: listed.option_count > 0, "the owners to be listed")
        line = picker.query_one("#owner-name")
        first = workspace.owners()[0][0]
        assert line.value != first
        await burst(pilot, app, ["down", "space"], lambda: line.value == first)
        assert line.value == first  # not a space typed after the suggested name
        assert listed.has_focus and listed.highlighted == 0


async def test_a_key_after_an_edit_waits_for_the_list_to_move_on(workspace, tmp_path: Path):
    # Disqualified, the contact leaves the Inbox and the cursor moves on to the next
    # one: e typed right after the reason opens that next one, not the one just done.
    app = desk_app(workspace, tmp_path / "config")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        pane = app.contacts_pane
        pane.set_view("inbox")
        await settle(pilot, app)
        done, following = pane.table.ids[0], pane.table.ids[1]
        await burst(pilot, app, ["d", "enter", "e"],
                    lambda: isinstance(app.screen, ContactScreen))
        assert workspace.classification(done).stage == "disqualified"
        assert done not in shown_ids(app)
        assert isinstance(app.screen, ContactScreen)
        assert app.screen.contact_id == following
