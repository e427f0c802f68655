"""Import and export from the TUI, with real key presses."""

from __future__ import annotations

import csv

from pilot_support import settle

from funnel.tui.dialogs.transfer import ExportScreen, ImportScreen

GOOD = """Name;E-mail;Company;Budget
Ana Nowak;ana@nowak.example;Nowak Sp. z o.o.;Yes
Piet de Vries;piet@vries.example;Vries B.V.;No
"""
BAD = GOOD + "Broken Row;not-an-email;X;Maybe\n"


async def _wait_for_report(pilot, app, text: str) -> str:
    for _ in range(200):
        await pilot.pause(0.02)
        report = str(app.screen.query_one("#import-report").render())
        if text in report:
            return report
    raise AssertionError(f"{text!r} not in the import report: {report}")


async def test_import_previews_then_writes(app, workspace, tmp_path):
    source = tmp_path / "fair.csv"
    source.write_text(GOOD, encoding="utf-8")
    count = len(workspace)
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(pilot, app)
        await pilot.press("i")
        assert isinstance(app.screen, ImportScreen)
        await pilot.press(*str(source), "enter")
        report = await _wait_for_report(pilot, app, "would create 2")
        assert "E-mail" in report and "email" in report
        assert len(workspace) == count  # a preview writes nothing
        await pilot.press("ctrl+s")
        for _ in range(200):
            await pilot.pause(0.02)
            if not isinstance(app.screen, ImportScreen):
                break
        assert len(workspace) == count + 2
        emails = {workspace.get(i).get("email") for i in workspace.ids()}
        assert {"ana@nowak.example", "piet@vries.example"} <= emails


async def test_import_with_a_bad_row_is_refused_whole(app, workspace, tmp_path):
    source = tmp_path / "bad.csv"
    source.write_text(BAD, encoding="utf-8")
    count = len(workspace)
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(pilot, app)
        await pilot.press("i", *str(source), "enter")
        report = await _wait_for_report(pilot, app, "Problems")
        assert "row 3" in report and "E-mail" in report
        await pilot.press("ctrl+s")
        await pilot.pause(0.2)
        assert isinstance(app.screen, ImportScreen)
        assert len(workspace) == count
        await pilot.press("escape")
        assert not isinstance(app.screen, ImportScreen)


async def test_export_writes_the_current_view(app, workspace, tmp_path):
    target = tmp_path / "hot.csv"
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(pilot, app)
        app.contacts_pane.set_view("hot")
        await settle(pilot, app)
        shown = set(app.contacts_pane.table.ids)
        await pilot.press("x")
        assert isinstance(app.screen, ExportScreen)
        await pilot.press("ctrl+u", *str(target), "enter")
        for _ in range(200):
            await pilot.pause(0.02)
            if target.exists() and not isinstance(app.screen, ExportScreen):
                break
    with target.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert {int(row["id"]) for row in rows} == shown
    assert all(row["temperature"] == "hot" for row in rows)
