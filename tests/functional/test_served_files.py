"""Files in a served session: import and export by file name inside the session's
folder only, nothing outside it; with files off, ``i`` and ``x`` say so. Also the
app's confirmation before an export replaces a file, and its refusal to replace a
database even when confirmed.

Real key presses (``i``, ``x``, Enter, ctrl+s, Escape); the file name is put in the
dialog's field through the field's API, as in ``test_import_export_tui``.
"""

from __future__ import annotations

import stat

import pytest
from textual.widgets import Input

from pilot_support import idle, settle, wait_until

from funnel.tui.app.app import FunnelApp, Settings
from funnel.tui.dialogs.export_screen import ExportScreen
from funnel.tui.dialogs.transfer import FILES_OFF, ImportScreen

GOOD = """Name;E-mail;Company;Budget
Ana Nowak;ana@nowak.example;Nowak Sp. z o.o.;Yes
Piet de Vries;piet@vries.example;Vries B.V.;No
"""
KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n"


@pytest.fixture
def folder(tmp_path):
    path = tmp_path / "files" / "anna"
    path.mkdir(parents=True, mode=0o700)
    return path


def served(workspace, tmp_path, **files) -> FunnelApp:
    return FunnelApp(workspace, Settings(poll_seconds=0, rules_path=str(
        tmp_path / "config" / "rules.yaml"), **files))


def _text(app, selector: str) -> str:
    return str(app.screen.query_one(selector).render())


async def _type_and_enter(pilot, app, selector: str, value: str) -> None:
    field = app.screen.query_one(selector, Input)
    field.value = value
    await pilot.pause()
    field.focus()
    await pilot.press("enter")
    await idle(pilot)


async def test_import_takes_a_name_in_the_folder_and_nothing_outside(workspace, tmp_path,
                                                                     folder, db_path):
    """The host key next to the folder, /etc/passwd, the database: none is read; a
    plain name in the folder imports."""
    (folder.parent / "host_key").write_text(KEY)
    (folder.parent / "outside.csv").write_text(GOOD, encoding="utf-8")
    (folder / "keylink.csv").symlink_to(folder.parent / "host_key")
    (folder / "fair.csv").write_text(GOOD, encoding="utf-8")
    app = served(workspace, tmp_path, files_folder=str(folder))
    count = len(workspace)
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(pilot, app)
        await pilot.press("i")
        assert isinstance(app.screen, ImportScreen)
        assert str(folder) in " ".join(str(label.render()) for label in app.screen.query("Label"))
        for typed, said in (("../outside.csv", "file name only"),
                            ("../host_key", "file name only"),
                            ("/etc/passwd", "file name only"),
                            (str(db_path), "file name only"),
                            (str(folder.parent / "outside.csv"), "file name only"),
                            ("..", "starting with '.'"),
                            ("keylink.csv", "symbolic link")):
            await _type_and_enter(pilot, app, "#import-file", typed)
            report = _text(app, "#import-report")
            assert said in report, (typed, report)
            assert "BEGIN OPENSSH" not in report and "would create" not in report
        await pilot.press("ctrl+s")
        await idle(pilot)
        assert isinstance(app.screen, ImportScreen) and len(workspace) == count
        # A mapping file is a file too: only a preset or a name in the folder.
        app.screen.query_one("#import-map", Input).value = "../host_key"
        await _type_and_enter(pilot, app, "#import-file", "fair.csv")
        report = _text(app, "#import-report")
        assert "file name only" in report and "BEGIN OPENSSH" not in report, report
        app.screen.query_one("#import-map", Input).value = ""
        await _type_and_enter(pilot, app, "#import-file", "fair.csv")
        await wait_until(pilot, lambda: "would create 2" in _text(app, "#import-report"),
                         "the preview of fair.csv")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: not isinstance(app.screen, ImportScreen),
                         "the import dialog to close")
    assert len(workspace) == count + 2


async def test_export_takes_a_name_in_the_folder_never_the_database(workspace, tmp_path,
                                                                    db_path):
    """The issue's cases: the server's database (here in the session's folder, so it
    can be named), and ~/.ssh/authorized_keys (a contact's note holding a key line
    would be read as one). A plain new name is written, for its owner only."""
    workspace.edit(workspace.ids()[0], {"notes": "\nssh-ed25519 AAAAC3Nz eve@laptop\n"})
    before = db_path.read_bytes()
    folder = db_path.parent
    app = served(workspace, tmp_path, files_folder=str(folder))
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(pilot, app)
        await pilot.press("x")
        assert isinstance(app.screen, ExportScreen)
        field = app.screen.query_one("#export-path", Input)
        assert "/" not in field.value and field.value.endswith(".csv")  # a name, not a path
        for typed, said in ((str(db_path), "file name only"),
                            ("../" + db_path.name, "file name only"),
                            ("~/.ssh/authorized_keys", "file name only"),
                            ("../../.ssh/authorized_keys", "file name only"),
                            (".bashrc", "starting with '.'"),
                            (db_path.name, "Funnel database"),
                            (db_path.name + ".journal", "Funnel database")):
            for _ in range(2):  # a second Enter confirms nothing here
                await _type_and_enter(pilot, app, "#export-path", typed)
                assert said in _text(app, "#export-error"), typed
                assert isinstance(app.screen, ExportScreen)
        assert db_path.read_bytes() == before
        await _type_and_enter(pilot, app, "#export-path", "hot.csv")
        await wait_until(pilot, lambda: not isinstance(app.screen, ExportScreen),
                         "the export dialog to close")
    assert db_path.read_bytes() == before
    written = folder / "hot.csv"
    assert written.read_text(encoding="utf-8").startswith("id,name,")
    assert stat.S_IMODE(written.stat().st_mode) == 0o600
    assert not list(folder.glob(".*.tmp"))


async def test_replacing_a_file_needs_a_second_enter_and_never_a_dotfile(app, tmp_path):
    """In the local app: the first Enter asks, Esc goes back to the name, a second
    Enter replaces; a dotfile is refused however often Enter is pressed."""
    target = tmp_path / "old.csv"
    target.write_text("keep me\n")
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(pilot, app)
        await pilot.press("x")
        for _ in range(2):
            await _type_and_enter(pilot, app, "#export-path", str(tmp_path / ".profile"))
            assert "dotfile" in _text(app, "#export-error")
        await _type_and_enter(pilot, app, "#export-path", str(target))
        asked = _text(app, "#export-error")
        assert "old.csv exists: press Enter again to replace it" in asked
        assert target.read_text() == "keep me\n"
        await pilot.press("escape")  # back to the name, not out of the dialog
        assert isinstance(app.screen, ExportScreen) and _text(app, "#export-error") == ""
        await _type_and_enter(pilot, app, "#export-path", str(target))
        assert target.read_text() == "keep me\n"
        await pilot.press("enter")
        await wait_until(pilot, lambda: not isinstance(app.screen, ExportScreen),
                         "the export dialog to close")
    assert not (tmp_path / ".profile").exists()
    assert target.read_text(encoding="utf-8").startswith("id,name,")
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


async def test_with_files_off_import_and_export_say_so(workspace, tmp_path):
    app = served(workspace, tmp_path, files_off=True)
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(pilot, app)
        for key in ("i", "x"):
            await pilot.press(key)
            await pilot.pause()
            assert not isinstance(app.screen, (ImportScreen, ExportScreen))
        told = [str(n.message) for n in app._notifications]
        assert told == [FILES_OFF, FILES_OFF]
        assert "\n" not in FILES_OFF and "--files" in FILES_OFF
