"""Keys typed while the list is still being sorted or filtered wait for it, in order.

The Contacts list is shown at once and sorted when a worker has classified everyone;
a filter or a sort is applied by another worker. A key that acts on a row (``e``,
``enter``, ``d``, ``j``…) typed before that worker is done must not act on the list
the worker is about to replace: it waits, and the keys after it wait behind it.

Each test holds the worker on an Event, so the keys surely arrive before it is done
(on a real terminal with a large database that is the first second or so), then lets
it finish and checks where the keys landed.
"""

from __future__ import annotations

import threading
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from funnel.engine.demo.generate import generate_contacts
from funnel.engine.workspace.facade import Workspace
from funnel.tui.app.app import FunnelApp, Settings
from funnel.tui.panes.contacts.card import ContactScreen

from conftest import NOW, fixed_clock
from pilot_support import settle, wait_until
from test_typeahead import key_event

CONTACTS = 300
TARGET_AT = 150  # in the middle: neither first as stored nor first when sorted
TARGET = "ZZTARGET"


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("early") / "funnel.json"
    contacts = list(generate_contacts(CONTACTS, 7, NOW.replace(hour=0)))
    contacts[TARGET_AT]["name"] = f"{TARGET} Person"
    with Workspace.open(path, None, clock=fixed_clock, user="generator") as workspace:
        workspace.add_many(contacts, by="generator")
    return path


@pytest.fixture
def workspace(template: Path, tmp_path: Path):
    for file in template.parent.iterdir():
        if not file.name.endswith(".lock"):
            (tmp_path / file.name).write_bytes(file.read_bytes())
    with Workspace.open(tmp_path / template.name, None, clock=fixed_clock,
                        user="tester") as opened:
        yield opened


@pytest.fixture
def app(workspace: Workspace, tmp_path: Path) -> FunnelApp:
    return FunnelApp(workspace, Settings(poll_seconds=0,
                                         rules_path=str(tmp_path / "config" / "rules.yaml")))


def target_id(workspace: Workspace) -> int:
    found = [contact_id for contact_id, document in workspace.documents()
             if document.get("name") == f"{TARGET} Person"]
    assert len(found) == 1
    return found[0]


@pytest.fixture
def gates() -> list[threading.Event]:
    """The Events a test holds workers on (``hold``); ``running`` sets them all."""
    return []


@asynccontextmanager
async def running(app: FunnelApp, gates: list[threading.Event]):
    """``app.run_test`` that lets every held worker go before the app closes, so a
    failed test never leaves a worker waiting (and the app's shutdown with it)."""
    async with app.run_test(size=(100, 30)) as pilot:
        try:
            yield pilot
        finally:
            for gate in gates:
                gate.set()


def hold(monkeypatch, gates: list[threading.Event], workspace: Workspace,
         method: str) -> threading.Event:
    """Make every call of ``workspace.<method>`` wait until the returned Event is set."""
    gate = threading.Event()
    gates.append(gate)
    original = getattr(workspace, method)

    def held(*args, **kwargs):
        assert gate.wait(30), "the test never let the worker go on"
        return original(*args, **kwargs)
    monkeypatch.setattr(workspace, method, held)
    return gate


def send(app, keys: list[str]) -> None:
    """The keys as the terminal driver delivers a burst: all at once."""
    for key in keys:
        app._driver.send_message(key_event(key))


async def let_keys_through(pilot, app, typed: str) -> None:
    """Let the app handle what it can of the keys sent: the filter line shows
    ``typed`` (or, before the fix, a card opened), then a few more rounds."""
    field = app.contacts_pane.query_one("#filter")
    await wait_until(pilot, lambda: field.value == typed or isinstance(app.screen,
                                                                      ContactScreen),
                     f"{typed!r} typed into the filter line")
    for _ in range(5):
        await pilot.pause()


def card(app) -> ContactScreen | None:
    return app.screen if isinstance(app.screen, ContactScreen) else None


async def test_a_filter_then_e_typed_while_sorting_edits_the_filtered_row(
        app, workspace, monkeypatch, gates):
    gate = hold(monkeypatch, gates, workspace, "classify_all")
    target = target_id(workspace)
    async with running(app, gates) as pilot:
        pane = app.contacts_pane
        await pilot.pause()
        assert pane.table.ids and not pane.ready  # the list shows; still unsorted
        send(app, ["slash", *TARGET, "enter", "e"])
        await let_keys_through(pilot, app, TARGET)
        # The e waits for the filter: no card yet, on whichever row was first.
        assert card(app) is None
        assert "sorting" in str(pane.query_one("#contacts-status").render())
        gate.set()
        await wait_until(pilot, lambda: card(app) is not None, "the card to open")
        await pilot.pause()
        opened = card(app)
        assert opened is not None and opened.contact_id == target
        assert opened.editing == "name"  # e: straight into editing
        assert opened.ids == [target]  # it walks the filtered list
        assert pane.query_text == TARGET and pane.table.ids == [target]


def backgrounds(table, row: int) -> set:
    """The background colours drawn on the table's ``row`` (1: the first below the header)."""
    return {segment.style.bgcolor for segment in table.render_line(row)
            if segment.style is not None}


async def test_moves_typed_while_sorting_move_in_the_sorted_list(
        app, workspace, monkeypatch, gates):
    gate = hold(monkeypatch, gates, workspace, "classify_all")
    async with running(app, gates) as pilot:
        pane = app.contacts_pane
        table = pane.table
        await pilot.pause()
        assert not pane.ready
        # No row looks selected while keys would wait: the person sees no target yet.
        cursor = table.get_component_rich_style("contact-table--cursor").bgcolor
        assert cursor is not None and cursor not in backgrounds(table, 1)
        send(app, ["j", "j", "enter"])
        for _ in range(10):
            await pilot.pause()
        assert card(app) is None and table.cursor == 0  # held, not lost
        gate.set()
        await wait_until(pilot, lambda: card(app) is not None, "the card to open")
        await settle(pilot, app)
        sorted_ids = workspace.select(None, "attention")
        assert table.ids == sorted_ids
        opened = card(app)
        assert opened is not None and opened.contact_id == sorted_ids[2]
        assert cursor in backgrounds(table, 3)  # the row opened is the one drawn selected


async def test_a_filter_then_e_typed_while_it_is_applied_edits_the_filtered_row(
        app, workspace, monkeypatch, gates):
    target = target_id(workspace)
    async with running(app, gates) as pilot:
        pane = app.contacts_pane
        await settle(pilot, app)
        assert pane.table.current != target
        gate = hold(monkeypatch, gates, workspace, "select")
        send(app, ["slash", *TARGET, "enter", "e"])
        await let_keys_through(pilot, app, TARGET)
        assert card(app) is None
        gate.set()
        await wait_until(pilot, lambda: card(app) is not None, "the card to open")
        await pilot.pause()
        opened = card(app)
        assert opened is not None and opened.contact_id == target
        assert opened.ids == [target]


async def test_keys_typed_after_a_sort_key_act_on_the_new_order(
        app, workspace, monkeypatch, gates):
    async with running(app, gates) as pilot:
        pane = app.contacts_pane
        await settle(pilot, app)
        before = pane.table.current
        gate = hold(monkeypatch, gates, workspace, "select")
        send(app, ["s", "j", "e"])  # s: sort by the next column (name)
        for _ in range(10):
            await pilot.pause()
        assert card(app) is None
        gate.set()
        await wait_until(pilot, lambda: card(app) is not None, "the card to open")
        await pilot.pause()
        by_name = workspace.select(None, "name")
        assert pane.table.ids == by_name
        # The cursor stayed on its contact through the sort; j went one down from it
        # in the new order.
        opened = card(app)
        assert opened is not None and opened.contact_id == by_name[by_name.index(before) + 1]
        assert opened.ids == by_name
