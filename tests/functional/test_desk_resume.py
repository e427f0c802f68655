"""The desk is reopened where it was left (issue #15): the view, the filter typed on
top of it, the sort and its direction, and the cursor on the same contact, per
database; a desk that no longer fits (a view deleted, a filter that no longer parses)
falls back to the default with one notice, never a crash."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from funnel.engine.workspace.facade import Workspace
from funnel.tui.app.app import FunnelApp, Settings

from conftest import fixed_clock
from pilot_support import move_to, settle

QUERY = "source:web"  # (web_form)


def desk_app(workspace: Workspace, config: Path) -> FunnelApp:
    return FunnelApp(workspace, Settings(poll_seconds=0, config_dir=str(config),
                                         rules_path=str(config / "rules.yaml")))


def status(app: FunnelApp) -> str:
    return str(app.query_one("#contacts-status").render())


def notes(app: FunnelApp) -> list[str]:
    return [str(note.message) for note in app._notifications]


async def test_view_filter_sort_and_cursor_come_back_after_q(db_path: Path, tmp_path: Path):
    config = tmp_path / "config"
    with Workspace.open(db_path, None, clock=fixed_clock, user="tester") as workspace:
        expected = workspace.select("temp:hot -stage:customer,ambassador,disqualified,lost "
                                    + QUERY, "score", True)
        assert len(expected) >= 3, "the test needs a few hot trade-show leads"
        app = desk_app(workspace, config)
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot, app)
            await pilot.press("v", "j", "j", "j", "enter")  # All, New, Inbox, Hot
            await settle(pilot, app)
            assert app.contacts_pane.view == "hot"
            await pilot.press("slash", *QUERY, "enter")
            await settle(pilot, app)
            await pilot.press("s", "s", "s", "s", "S")  # name, company, stage, score; reversed
            await settle(pilot, app)
            pane = app.contacts_pane
            assert (pane.table.sort_key, pane.table.sort_descending) == ("score", True)
            assert list(pane.table.ids) == expected
            await move_to(pilot, app, expected[2])
            await pilot.press("q")

        again = desk_app(workspace, config)  # the next morning
        async with again.run_test(size=(120, 36)) as pilot:
            await settle(pilot, again)
            pane = again.contacts_pane
            assert pane.view == "hot"
            assert pane.query_text == QUERY
            assert (pane.table.sort_key, pane.table.sort_descending) == ("score", True)
            assert list(pane.table.ids) == expected
            assert pane.table.current == expected[2]
            text = status(again)
            assert text.startswith("Hot ·") and f"filter: {QUERY}" in text
            assert "sort: score ↑" in text
            assert not notes(again)  # nothing to apologise for
        saved = yaml.safe_load((config / "desk.yaml").read_text(encoding="utf-8"))
        assert list(saved["places"]) == [str(db_path.resolve())]  # one per database


async def test_two_databases_each_keep_their_own_place(db_path: Path, tmp_path: Path):
    config = tmp_path / "config"
    other_path = tmp_path / "other" / db_path.name
    other_path.parent.mkdir()
    for file in db_path.parent.iterdir():
        if file.name.startswith(db_path.name) and not file.name.endswith(".lock"):
            shutil.copy(file, other_path.parent / file.name)
    for path, view in ((db_path, "rotting"), (other_path, "overdue")):
        with Workspace.open(path, None, clock=fixed_clock, user="tester") as workspace:
            app = desk_app(workspace, config)
            async with app.run_test(size=(120, 36)) as pilot:
                await settle(pilot, app)
                app.contacts_pane.set_view(view)
                await settle(pilot, app)
                saved = yaml.safe_load((config / "desk.yaml").read_text(encoding="utf-8"))
                assert saved["places"][str(path.resolve())]["view"] == view  # kept at once
                await pilot.press("q")
    saved = yaml.safe_load((config / "desk.yaml").read_text(encoding="utf-8"))
    assert {path: place["view"] for path, place in saved["places"].items()} == {
        str(db_path.resolve()): "rotting", str(other_path.resolve()): "overdue"}
    with Workspace.open(db_path, None, clock=fixed_clock, user="tester") as workspace:
        app = desk_app(workspace, config)  # not the last view used anywhere: its own
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot, app)
            assert app.contacts_pane.view == "rotting"


async def test_a_stale_place_falls_back_with_one_notice(workspace: Workspace, tmp_path: Path):
    config = tmp_path / "config"
    config.mkdir()
    place = {"view": "saved:Gone", "filter": "foo:bar", "sort": "nonsense",
             "descending": "yes", "contact": 10**9}
    key = str(Path(workspace.path).resolve())
    (config / "desk.yaml").write_text(yaml.safe_dump({"places": {key: place}}),
                                      encoding="utf-8")
    app = desk_app(workspace, config)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot, app)
        pane = app.contacts_pane
        assert (pane.view, pane.query_text, pane.table.sort_key) == ("all", "", "attention")
        assert list(pane.table.ids) == workspace.select("", "attention")
        assert pane.table.current == pane.table.ids[0]
        found = [text for text in notes(app) if "left off" in text]
        assert len(found) == 1, notes(app)
        assert "Gone" in found[0] and "foo:bar" in found[0] and "nonsense" in found[0]
        await pilot.press("q")
    saved = yaml.safe_load((config / "desk.yaml").read_text(encoding="utf-8"))
    assert saved["places"][key]["view"] == "all"  # the damaged place is replaced on quit


async def test_a_damaged_places_section_does_not_lose_the_saved_views(workspace: Workspace,
                                                                     tmp_path: Path):
    config = tmp_path / "config"
    config.mkdir()
    (config / "desk.yaml").write_text(
        "views:\n  Warm: {filter: 'temp:warm', sort: score, descending: false}\n"
        "last_view: saved:Warm\nplaces: [broken]\n", encoding="utf-8")
    app = desk_app(workspace, config)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot, app)
        assert app.contacts_pane.view == "saved:Warm"  # the views still load
        assert any("places" in text for text in notes(app)), notes(app)
