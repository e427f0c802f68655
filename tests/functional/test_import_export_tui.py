"""Import and export from the TUI, with real key presses.

The file's path is put in the dialog's field through the field's API (typing a long
temporary path one key at a time is not what is tested); Enter, ctrl+s and Escape are
real key presses.
"""

from __future__ import annotations

import csv

from textual.widgets import Input

from pilot_support import idle, settle, wait_until

from funnel.tui.dialogs.transfer import ExportScreen, ImportScreen

GOOD = """Name;E-mail;Company;Budget
Ana Nowak;ana@nowak.example;Nowak Sp. z o.o.;Yes
Piet de Vries;piet@vries.example;Vries B.V.;No
"""
BAD = GOOD + "Broken Row;not-an-email;X;Maybe\n"


def _report(app) -> str:
    return str(app.screen.query_one("#import-report").render())


async def _wait_for_report(pilot, app, text: str) -> str:
    await wait_until(pilot, lambda: text in _report(app),
                     f"{text!r} in the import report")
    return _report(app)


async def _fill(pilot, app, selector: str, value: str) -> None:
    """Put ``value`` in the focused field ``selector`` of the dialog."""
    field = app.screen.query_one(selector, Input)
    assert field.has_focus
    field.value = value
    await pilot.pause()


async def test_import_previews_then_writes(app, workspace, tmp_path):
    source = tmp_path / "fair.csv"
    source.write_text(GOOD, encoding="utf-8")
    count = len(workspace)
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(pilot, app)
        await pilot.press("i")
        assert isinstance(app.screen, ImportScreen)
        await _fill(pilot, app, "#import-file", str(source))
        await pilot.press("enter")
        report = await _wait_for_report(pilot, app, "would create 2")
        assert "E-mail" in report and "email" in report
        assert len(workspace) == count  # a preview writes nothing
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: not isinstance(app.screen, ImportScreen),
                         "the import dialog to close")
        assert len(workspace) == count + 2
        emails = {workspace.get(i).get("email") for i in workspace.ids()}
        assert {"ana@nowak.example", "piet@vries.example"} <= emails


async def test_import_with_a_bad_row_is_refused_whole(app, workspace, tmp_path):
    source = tmp_path / "bad.csv"
    source.write_text(BAD, encoding="utf-8")
    count = len(workspace)
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(pilot, app)
        await pilot.press("i")
        await _fill(pilot, app, "#import-file", str(source))
        await pilot.press("enter")
        report = await _wait_for_report(pilot, app, "Problems")
        assert "row 3" in report and "E-mail" in report
        await pilot.press("ctrl+s")
        await idle(pilot)  # whatever ctrl+s started has finished
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
        await _fill(pilot, app, "#export-path", str(target))
        await pilot.press("enter")
        await wait_until(pilot, lambda: target.exists()
                         and not isinstance(app.screen, ExportScreen),
                         "the export to be written and its dialog to close")
    with target.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert {int(row["id"]) for row in rows} == shown
    assert all(row["temperature"] == "hot" for row in rows)


async def test_a_field_changed_while_importing_is_kept_and_shown(app, workspace, tmp_path,
                                                                 db_path):
    """The file updates a contact whose company bob changes between the preview and
    the import: bob's value stays, the rest of the row applies, and the app says so."""
    from funnel.engine.workspace.facade import Workspace
    from conftest import fixed_clock

    target = workspace.ids()[0]
    email = workspace.get(target)["email"]
    source = tmp_path / "update.csv"
    source.write_text(f"E-mail;Company;Budget\n{email};From The File Ltd;Yes\n", encoding="utf-8")
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(pilot, app)
        await pilot.press("i")
        await _fill(pilot, app, "#import-file", str(source))
        await pilot.press("enter")
        await _wait_for_report(pilot, app, "update 1")
        with Workspace.open(db_path, None, clock=fixed_clock, user="bob") as bob:
            bob.edit(target, {"company": "Bob's Company"})
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: not isinstance(app.screen, ImportScreen),
                         "the import dialog to close")
        await idle(pilot)
        document = workspace.get(target)
        assert (document["company"], document["budget"]) == ("Bob's Company", "yes")
        told = "\n".join(str(n.message) for n in app._notifications)
        assert "left as they are" in told and f"#{target} company" in told
        assert "kept bob's" in told and "Bob's Company" in told and "From The File Ltd" in told
