"""A demo keeps its rules to itself, and quitting never drops unsaved rules silently.

``funnel --demo`` gives the app a temporary config directory: a rules edit saved
there says it is the demo's copy, is gone when the demo closes, and never reaches
the user's ``rules.yaml`` (which every database opened later would use). ``q`` with
unsaved rule changes (or ctrl+q with a card field half edited) asks: save and quit,
quit without saving, or keep working.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from funnel.engine.rules.loading import load_rules
from funnel.tui.app import app as app_module
from funnel.tui.cli import main as cli
from funnel.tui.dialogs.unsaved import UnsavedDialog

from pilot_support import wait_until

from test_scoring_tab import app as app  # noqa: F401  (the Scoring tests' fixture)
from test_scoring_tab import notifications, open_tab, settled, type_number


def test_a_demo_saves_rules_in_its_own_config_and_removes_it(tmp_path: Path, monkeypatch):
    config_home = tmp_path / "home-config"
    user_rules = config_home / "funnel" / "rules.yaml"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config_home))
    monkeypatch.delenv("FUNNEL_RULES", raising=False)
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr(tempfile, "tempdir", None)
    monkeypatch.setattr(cli, "DEMO_CONTACTS", 150)  # what is tested is where Save writes
    seen: dict = {}

    async def drive(app) -> None:
        said = notifications(app)
        async with app.run_test(size=(120, 36)) as pilot:
            pane = await open_tab(pilot, app)
            await type_number(pilot, pane, "fit.need.points", "40")
            await settled(pilot, pane)
            await pilot.press("ctrl+s")
            await pilot.pause()
            seen["saved_to"] = Path(app.settings.rules_path)
            seen["saved_file"] = seen["saved_to"].is_file()
            seen["said"] = said
            seen["rules_source"] = app.workspace.rules.source

    def run(self) -> None:
        asyncio.run(drive(self))
    monkeypatch.setattr(app_module.FunnelApp, "run", run)
    assert cli.main(["--demo"]) == 0
    saved_to = seen["saved_to"]
    assert seen["saved_file"] and seen["rules_source"] == str(saved_to)
    assert saved_to.is_relative_to(tmp_path) and saved_to.parent.name == "config"
    assert saved_to.parent.parent.name.startswith("funnel-demo-")
    assert any("demo's copy" in message for message in seen["said"]), seen["said"]
    assert not user_rules.exists(), "the user's rules are never written by a demo"
    assert not config_home.exists() or not any(config_home.rglob("*"))
    assert not saved_to.exists(), "the demo's rules go with the demo"


def test_a_demo_does_not_score_with_the_users_saved_rules(tmp_path: Path, monkeypatch):
    config_home = tmp_path / "home-config"
    user_rules = config_home / "funnel" / "rules.yaml"
    user_rules.parent.mkdir(parents=True)
    user_rules.write_bytes(Path(load_rules("fit-first").source).read_bytes())
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config_home))
    monkeypatch.delenv("FUNNEL_RULES", raising=False)
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr(tempfile, "tempdir", None)
    monkeypatch.setattr(cli, "DEMO_CONTACTS", 20)
    seen: dict = {}

    def run(self) -> None:
        seen["rules"] = self.workspace.rules.name
        seen["config_dir"] = self.settings.config_dir
    monkeypatch.setattr(app_module.FunnelApp, "run", run)
    assert cli.main(["--demo"]) == 0
    assert seen["rules"] == "default"
    assert Path(seen["config_dir"]).is_relative_to(tmp_path)
    assert not Path(seen["config_dir"]).is_relative_to(config_home)


async def _with_a_rules_draft(pilot, app):  # noqa: F811
    pane = await open_tab(pilot, app)
    await type_number(pilot, pane, "fit.need.points", "40")
    await settled(pilot, pane)
    assert len(pane.drafts) == 1
    return pane


async def test_quit_with_unsaved_rules_asks_then_saves(app):  # noqa: F811
    target = Path(app.settings.rules_path)
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await _with_a_rules_draft(pilot, app)
        for key in ("q", "ctrl+q"):
            await pilot.press(key)
            assert isinstance(app.screen, UnsavedDialog)
            assert "1 unsaved change to the scoring rules" in str(
                app.screen.query_one(".what").render())
            await pilot.press("escape")  # keep working: the draft is still there
            assert app.return_code is None and not isinstance(app.screen, UnsavedDialog)
            assert len(pane.drafts) == 1 and not target.exists()
        await pilot.press("q", "s")
        await pilot.pause()
        assert app.return_code == 0
    assert "points: 40" in target.read_text(encoding="utf-8")


async def test_quit_without_saving_drops_the_draft(app):  # noqa: F811
    target = Path(app.settings.rules_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await _with_a_rules_draft(pilot, app)
        await pilot.press("q", "d")
        await pilot.pause()
        assert app.return_code == 0
    assert not target.exists()


async def test_ctrl_q_while_editing_a_card_field_asks_and_can_save_it(app):  # noqa: F811
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("1")
        await wait_until(pilot, lambda: app.contacts_pane.ready, "the list")
        target = app.contacts_pane.table.current
        await pilot.press("e", "ctrl+u", *"Renamed Person")  # the card, editing the name
        assert app.screen.editing == "name"
        await pilot.press("ctrl+q")
        assert isinstance(app.screen, UnsavedDialog)
        assert f"Name of contact #{target}" in str(app.screen.query_one(".what").render())
        await pilot.press("escape")
        assert app.screen.editing == "name" and app.return_code is None
        await pilot.press("ctrl+q", "s")
        await pilot.pause()
        assert app.return_code == 0
    assert app.workspace.get(target)["name"] == "Renamed Person"
