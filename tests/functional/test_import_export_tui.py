"""Import and export from the TUI, with real key presses.

The file's path is put in the dialog's field through the field's API (typing a long
temporary path one key at a time is not what is tested); Enter, ctrl+s and Escape are
real key presses.
"""

from __future__ import annotations

import csv
import threading
from datetime import datetime, timezone

from textual.widgets import Input

from pilot_support import idle, settle, wait_until

from funnel.engine.demo.generate import generate_contacts
from funnel.tui.dialogs import export_screen, transfer
from funnel.tui.dialogs.export_screen import ExportScreen
from funnel.tui.dialogs.transfer import ImportScreen

GOOD = """Name;E-mail;Company;Budget
Ana Nowak;ana@nowak.example;Nowak Sp. z o.o.;Yes
Piet de Vries;piet@vries.example;Vries B.V.;No
"""
BAD = GOOD + "Broken Row;not-an-email;X;Maybe\n"
NOW = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)  # the functional tests' clock


def _report(app) -> str:
    return str(app.screen.query_one("#import-report").render())


async def _wait_for_report(pilot, app, text: str) -> str:
    await wait_until(pilot, lambda: text in _report(app),
                     f"{text!r} in the import report")
    return _report(app)


async def _preview(pilot, app, source) -> None:
    """Open the import dialog on ``source`` and ask for its preview (Enter)."""
    await settle(pilot, app)
    await pilot.press("i")
    assert isinstance(app.screen, ImportScreen)
    await _fill(pilot, app, "#import-file", str(source))
    await pilot.press("enter")


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
        await _preview(pilot, app, source)
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
        await _preview(pilot, app, source)
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
        await _preview(pilot, app, source)
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


def _held(real, reached: threading.Event, go_on: threading.Event):
    """``real`` (the exporter or the importer's planner) whose first progress report
    waits until the test has pressed its key: the slow moment, every time."""
    def held(*args, progress, **kwargs):
        def waiting(phase, done, total):
            if not reached.is_set():
                reached.set()
                go_on.wait(30)
            progress(phase, done, total)
        return real(*args, progress=waiting, **kwargs)
    return held


async def test_escape_while_exporting_stops_it_and_writes_nothing(app, workspace, tmp_path,
                                                                   monkeypatch):
    workspace.add_many(generate_contacts(900, 4, NOW))  # progress is reported per 1,000
    folder = tmp_path / "out"
    folder.mkdir()
    reached, go_on = threading.Event(), threading.Event()
    monkeypatch.setattr(export_screen, "export_contacts",
                        _held(export_screen.export_contacts, reached, go_on))
    said = []
    monkeypatch.setattr(app, "notify", lambda message, **_: said.append(str(message)))
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(pilot, app)
        assert len(app.contacts_pane.table.ids) > 1000  # progress is reported mid-way
        await pilot.press("x")
        await _fill(pilot, app, "#export-path", str(folder / "all.csv"))
        await pilot.press("enter")
        await wait_until(pilot, reached.is_set, "the export to be under way")
        await pilot.press("escape")
        assert not isinstance(app.screen, ExportScreen)
        go_on.set()
        await wait_until(pilot, lambda: said, "a word on the stopped export")
        await idle(pilot)
        assert app.is_running
    assert list(folder.iterdir()) == []  # not the file, nor a temporary one
    assert said == [f"Export stopped: nothing was written to {folder / 'all.csv'}"]


async def test_escape_while_previewing_an_import_closes_it_quietly(app, workspace,
                                                                    tmp_path, monkeypatch):
    source = tmp_path / "fair.csv"
    source.write_text(GOOD + "".join(
        f"Person {n};p{n}@x.example;X;Yes\n" for n in range(1200)), encoding="utf-8")
    reached, go_on = threading.Event(), threading.Event()
    monkeypatch.setattr(transfer, "plan_import", _held(transfer.plan_import, reached, go_on))
    count = len(workspace)
    async with app.run_test(size=(100, 32)) as pilot:
        await _preview(pilot, app, source)
        await wait_until(pilot, reached.is_set, "the preview to be under way")
        await pilot.press("escape")
        assert not isinstance(app.screen, ImportScreen)
        go_on.set()
        await idle(pilot)
        assert app.is_running
    assert len(workspace) == count


async def test_escape_while_an_import_is_written_waits_for_it(app, workspace, tmp_path,
                                                                monkeypatch):
    source = tmp_path / "fair.csv"
    source.write_text(GOOD, encoding="utf-8")
    reached, go_on = threading.Event(), threading.Event()
    said = []
    count = len(workspace)
    async with app.run_test(size=(100, 32)) as pilot:
        await _preview(pilot, app, source)
        await _wait_for_report(pilot, app, "would create 2")
        real = workspace.apply_import
        monkeypatch.setattr(workspace, "apply_import", _held(real, reached, go_on))
        monkeypatch.setattr(app, "notify", lambda message, **_: said.append(str(message)))
        await pilot.press("ctrl+s")
        await wait_until(pilot, reached.is_set, "the import to be under way")
        await pilot.press("escape")  # half an import cannot be taken back: it goes on
        assert isinstance(app.screen, ImportScreen)
        go_on.set()
        await wait_until(pilot, lambda: not isinstance(app.screen, ImportScreen),
                         "the import to finish and its dialog to close")
        await idle(pilot)
    assert len(workspace) == count + 2
    assert said[0].startswith("An import cannot be stopped half way")
    assert any(message.startswith("Imported: 2 created") for message in said)
