"""SVG snapshots of each tab (and the card mid-edit, the help) at 80x24 and 120x36.

Update after a deliberate change of the look with ``pytest tests/snapshots
--snapshot-update`` and review the SVGs in the diff.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest
from textual.widgets import Input

from funnel.engine.demo.generate import generate_contacts
from funnel.engine.workspace.facade import Workspace
from funnel.tui.app.app import FunnelApp, Settings

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)
SIZES = [(80, 24), (120, 36)]


def _clock() -> datetime:
    return NOW


@pytest.fixture
def app(tmp_path: Path):
    path = tmp_path / "funnel.json"
    workspace = Workspace.open(path, None, clock=_clock, user="anna")
    workspace.add_many(generate_contacts(120, 3, NOW.replace(hour=0)), by="generator")
    yield FunnelApp(workspace, Settings(poll_seconds=0,
                                        rules_path=str(tmp_path / "cfg" / "rules.yaml")))
    workspace.close()


async def _settled(pilot) -> None:
    app = pilot.app
    for _ in range(300):
        await pilot.pause(0.02)
        if app.contacts_pane.ready and not any(w.is_running for w in app.workers):
            break
    await pilot.pause(0.1)
    # A text cursor blinks every 0.5 s: on a busy machine the picture would catch it
    # on or off by chance. Stop the blink (the cursor stays shown, as just after typing).
    for field in app.screen.query(Input):
        field.cursor_blink = False
    await pilot.pause()


def _after(*keys: str):
    async def run_before(pilot) -> None:
        await _settled(pilot)
        if keys:
            await pilot.press(*keys)
            await _settled(pilot)
    return run_before


@pytest.mark.parametrize("size", SIZES, ids=lambda size: f"{size[0]}x{size[1]}")
def test_contacts_tab(snap_compare, app, size):
    assert snap_compare(app, terminal_size=size, run_before=_after("j", "j", "space"))


@pytest.mark.parametrize("size", SIZES, ids=lambda size: f"{size[0]}x{size[1]}")
def test_funnel_tab(snap_compare, app, size):
    assert snap_compare(app, terminal_size=size, run_before=_after("2"))


@pytest.mark.parametrize("size", SIZES, ids=lambda size: f"{size[0]}x{size[1]}")
def test_scoring_tab(snap_compare, app, size):
    assert snap_compare(app, terminal_size=size, run_before=_after("3"))


@pytest.mark.parametrize("size", SIZES, ids=lambda size: f"{size[0]}x{size[1]}")
def test_card_mid_edit(snap_compare, app, size):
    keys = ("enter", "j", "j", "j", "j", "j", "j", "j", "j", "j", "j", "j", "j", "j", "j",
            "enter", "ctrl+u", "y", "e", "s")  # timing := yes, not yet committed
    assert snap_compare(app, terminal_size=size, run_before=_after(*keys))


def test_help_screen(snap_compare, app):
    assert snap_compare(app, terminal_size=(80, 24), run_before=_after("question_mark"))


@pytest.mark.parametrize("size", SIZES, ids=lambda size: f"{size[0]}x{size[1]}")
def test_conflict_dialog(snap_compare, app, size, tmp_path):
    """A save refused because bob changed the job title while anna was typing."""
    async def run_before(pilot) -> None:
        await _after("enter", "j", "j", "j", "j", "enter")(pilot)
        with Workspace.open(tmp_path / "funnel.json", None, clock=_clock, user="bob") as bob:
            bob.edit(pilot.app.screen.contact_id, {"title": "Head of Sales"})
        pilot.app._poll()
        await _after("ctrl+u", *"CRO", "enter")(pilot)  # (each key costs a frame)
    assert snap_compare(app, terminal_size=size, run_before=run_before)
