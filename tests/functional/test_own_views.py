"""Views of one's own: saved in the user's config, counted in the picker, reopened;
and New, the contacts that arrived since the person last looked."""

from __future__ import annotations

import pytest

from datetime import datetime, timedelta
from pathlib import Path

import yaml

from funnel.tui.app.app import FunnelApp, Settings
from funnel.tui.dialogs.views import ViewsDialog

from conftest import NOW
from pilot_support import idle, settle, shown_ids, wait_until


def desk_app(workspace, config: Path) -> FunnelApp:
    return FunnelApp(workspace, Settings(poll_seconds=0, config_dir=str(config),
                                         rules_path=str(config / "rules.yaml")))


def status(app: FunnelApp) -> str:
    return str(app.query_one("#contacts-status").render())


def picker_lines(app: FunnelApp) -> list[str]:
    assert isinstance(app.screen, ViewsDialog)
    choices = app.screen.query_one("#views")
    return [str(choices.get_option_at_index(index).prompt)
            for index in range(choices.option_count)]


def created(workspace, contact_id: int) -> datetime:
    return datetime.fromisoformat(workspace.get(contact_id)["created_at"].replace("Z", "+00:00"))


@pytest.mark.stress  # reopening: also test_desk_resume.py; here the count and the saved file
async def test_a_saved_view_is_counted_kept_and_reopened(workspace, tmp_path: Path):
    config = tmp_path / "config"
    app = desk_app(workspace, config)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot, app)
        await pilot.press("slash", *"temp:hot", "enter")
        pane = app.contacts_pane
        pane.sort_by("score")
        await settle(pilot, app)
        assert (pane.table.sort_key, pane.query_text) == ("score", "temp:hot")
        await pilot.press("v")
        assert isinstance(app.screen, ViewsDialog)
        await pilot.press("s", *"Hot [b]ones", "enter")
        await settle(pilot, app)
        assert pane.view == "saved:Hot [b]ones"
        assert "Hot [b]ones" in status(app)
        expected = workspace.select("temp:hot", "score")
        assert shown_ids(app) == expected
    saved = yaml.safe_load((config / "desk.yaml").read_text(encoding="utf-8"))
    assert saved["views"]["Hot [b]ones"] == {"filter": "temp:hot", "sort": "score",
                                             "descending": False}
    assert saved["last_view"] == "saved:Hot [b]ones"

    again = desk_app(workspace, config)  # the next morning: straight into it
    async with again.run_test(size=(120, 36)) as pilot:
        await settle(pilot, again)
        assert again.contacts_pane.view == "saved:Hot [b]ones"
        assert shown_ids(again) == expected
        await pilot.press("v")
        await idle(pilot)
        line = next(line for line in picker_lines(again) if line.startswith("Hot [b]ones"))
        assert f" {len(expected):,}  temp:hot" in line
        hot_line = next(line for line in picker_lines(again) if line.startswith("Hot "))
        assert "\n" not in hot_line  # the Hot filter stays on its own line
        all_line = picker_lines(again)[0]
        assert all_line.startswith("All") and f"{len(workspace):,}" in all_line
        choices = again.screen.query_one("#views")
        choices.highlighted = choices.option_count - 1
        await pilot.press("d")  # delete it
        await idle(pilot)
        assert isinstance(again.screen, ViewsDialog)  # the picker again, without it
        assert not any(line.startswith("Hot [b]ones") for line in picker_lines(again))
        await pilot.press("escape")
        await settle(pilot, again)
        assert again.contacts_pane.view == "all"
    saved = yaml.safe_load((config / "desk.yaml").read_text(encoding="utf-8"))
    assert saved["views"] == {}


async def test_built_in_views_cannot_be_deleted(workspace, tmp_path: Path):
    app = desk_app(workspace, tmp_path / "config")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press("v", "d")
        assert isinstance(app.screen, ViewsDialog)  # still asking; nothing deleted


async def test_new_shows_what_arrived_since_the_last_look_newest_first(workspace,
                                                                       tmp_path: Path):
    config = tmp_path / "config"
    config.mkdir()
    last_look = NOW - timedelta(days=3)
    (config / "desk.yaml").write_text(f"last_looked: '{last_look.isoformat()}'\n",
                                      encoding="utf-8")
    app = desk_app(workspace, config)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot, app)
        await pilot.press("v", "j", "enter")  # All, New
        await settle(pilot, app)
        assert app.contacts_pane.view == "new"
        shown = shown_ids(app)
        arrived = {i for i in workspace.ids() if created(workspace, i) >= last_look}
        assert arrived and set(shown) == arrived
        times = [created(workspace, i) for i in shown]
        assert times == sorted(times, reverse=True)  # newest first
        assert status(app).startswith("New ·")
    # This look is remembered for the next session.
    saved = yaml.safe_load((config / "desk.yaml").read_text(encoding="utf-8"))
    assert datetime.fromisoformat(saved["last_looked"]) == NOW


async def test_on_a_first_run_new_is_the_last_day(workspace, tmp_path: Path):
    app = desk_app(workspace, tmp_path / "config")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot, app)
        app.contacts_pane.set_view("new")
        await settle(pilot, app)
        day = {i for i in workspace.ids() if created(workspace, i) >= NOW - timedelta(hours=24)}
        assert set(shown_ids(app)) == day


async def test_a_broken_desk_file_is_reported_and_left_alone(workspace, tmp_path: Path):
    config = tmp_path / "config"
    config.mkdir()
    broken = "views: [not, a, mapping]\n"
    (config / "desk.yaml").write_text(broken, encoding="utf-8")
    app = desk_app(workspace, config)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot, app)
        await wait_until(pilot, lambda: app._notifications, "a notification")
        texts = [note.message for note in app._notifications]
        assert any("desk.yaml:1: views:" in text for text in texts), texts
        app.contacts_pane.set_view("hot")
        await settle(pilot, app)
    assert (config / "desk.yaml").read_text(encoding="utf-8") == broken


async def test_columns_of_ones_own_with_custom_fields_are_kept(workspace, tmp_path: Path):
    from funnel.tui.dialogs.columns import ColumnsDialog

    lead = workspace.add({"external_id": "7927b2df", "source": "web_form",
                          "custom": {"City": "Pune", "Occupation": "[b]Student"}})
    config = tmp_path / "config"
    app = desk_app(workspace, config)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot, app)
        table = app.contacts_pane.table
        table.set_ids([lead] + table.ids)  # the imported lead in view (custom fields seen)
        await pilot.press("C")
        assert isinstance(app.screen, ColumnsDialog)
        choices = app.screen.query_one("#columns")
        keys = [choices.get_option_at_index(i).id for i in range(choices.option_count)]
        assert {"custom.City", "custom.Occupation", "external_id"} <= set(keys)

        async def go_to(key: str) -> None:  # (j and k are OptionList's own)
            choices.highlighted = next(index for index in range(choices.option_count)
                                       if choices.get_option_at_index(index).id == key)
            await pilot.pause()
        await go_to("company")
        await pilot.press("space")  # hide it
        await go_to("custom.Occupation")
        await pilot.press("space", *["K"] * (keys.index("custom.Occupation") - 2))
        await go_to("external_id")
        await pilot.press("space", "enter")
        await pilot.pause()
        chosen = [column.key for column in table.columns]
        assert chosen[:3] == ["flags", "name", "custom.Occupation"]
        assert "company" not in chosen and chosen[-1] == "external_id"
        header = table.render_line(0).text
        assert "Occupation" in header and "External id" in header and "Company" not in header
        row = table.render_line(1).text
        assert "[b]Student" in row and "7927b2df" in row
    saved = yaml.safe_load((config / "desk.yaml").read_text(encoding="utf-8"))
    assert saved["columns"] == chosen

    again = desk_app(workspace, config)
    async with again.run_test(size=(120, 36)) as pilot:
        await settle(pilot, again)
        assert [column.key for column in again.contacts_pane.table.columns] == chosen


async def test_people_of_a_served_app_each_have_their_own_desk(db_path, tmp_path: Path):
    from conftest import fixed_clock
    from funnel.engine.workspace.facade import Workspace

    config = tmp_path / "server-config"
    for person in ("anna", "bob"):
        with Workspace.open(db_path, None, clock=fixed_clock, user=person) as workspace:
            app = FunnelApp(workspace, Settings(poll_seconds=0, config_dir=str(config),
                                                files_off=True))
            async with app.run_test(size=(120, 36)) as pilot:
                await settle(pilot, app)
                app.contacts_pane.set_view("hot" if person == "anna" else "rotting")
                await settle(pilot, app)
    views = {person: yaml.safe_load((config / "desks" / f"{person}.yaml").read_text())
             ["last_view"] for person in ("anna", "bob")}
    assert views == {"anna": "hot", "bob": "rotting"}
    assert not (config / "desk.yaml").exists()
