"""Where an export may write: never over a Funnel database, its journal or lock, a
dotfile or anything that is not a regular file; over an existing file only when
asked (``--force``), atomically and readable by the owner only; and, in a served
session, only a plain file name inside the session's folder.

Real files on disk; the command line is ``main()`` called in-process
(``cli_support.run_cli``).
"""

from __future__ import annotations

import os
import stat
from datetime import datetime, timezone
from pathlib import Path

import pytest

from cli_support import run_cli

from funnel.engine.errors import FunnelError
from funnel.engine.files import AtomicFile
from funnel.engine.store.layout import StorePaths
from funnel.engine.transfer.destinations import (check_export_target, install_new,
                                                 resolve_in_folder)
from funnel.engine.transfer.exporter import export_contacts
from funnel.engine.workspace.facade import Workspace

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=timezone.utc)
KEY_LINE = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl eve@laptop"


def clock() -> datetime:
    return NOW


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """A small database with a contact whose note would be a key line in a CSV."""
    path = tmp_path / "leads.json"
    with Workspace.open(path, "default", clock=clock, user="tester") as workspace:
        workspace.add({"email": "eve@example.org", "name": "Eve",
                       "notes": f"\n{KEY_LINE}\n"})
        workspace.add({"email": "ann@example.org", "name": "Ann"})
    return path


def funnel(cwd: Path, *args):
    return run_cli(cwd, *args)


def _one_line_refusal(result, *words: str) -> str:
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1 and "Traceback" not in result.stderr
    for word in words:
        assert word in result.stderr, (word, result.stderr)
    return result.stderr


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


# -- the database, its journal and lock ---------------------------------------------
@pytest.mark.parametrize("part", ["snapshot", "journal", "lock"])
def test_export_never_replaces_the_database_or_its_files(tmp_path, db, part) -> None:
    with Workspace.open(db, "default", clock=clock, user="tester") as workspace:
        workspace.edit(workspace.ids()[0], {"owner": "anna"})  # a journal and a lock
        target = getattr(StorePaths.of(db), part)
        assert target.exists()
        before = target.read_bytes()
        with pytest.raises(FunnelError, match="Funnel database"):
            export_contacts(workspace, target, force=True)
    assert target.read_bytes() == before
    refused = funnel(tmp_path, "export", "--db", db.name, "-o", target.name, "--force")
    _one_line_refusal(refused, target.name, "Funnel database", "another name")
    assert target.read_bytes() == before
    assert _leftovers(tmp_path) == []


def test_a_copy_of_a_database_under_another_name_is_known_by_its_content(tmp_path, db) -> None:
    copy = tmp_path / "backup.csv"
    copy.write_bytes(db.read_bytes())
    refused = funnel(tmp_path, "export", "--db", db.name, "-o", copy.name, "--force")
    _one_line_refusal(refused, "backup.csv", "Funnel database")
    assert copy.read_bytes() == db.read_bytes()


# -- dotfiles, existing files, things that are not regular files --------------------
def test_a_dotfile_is_never_written_even_with_force(tmp_path, db) -> None:
    profile = tmp_path / ".profile"
    profile.write_text("export PATH=/usr/bin\n")
    for name in (".profile", ".new-dotfile"):
        refused = funnel(tmp_path, "export", "--db", db.name, "-o", name, "--force")
        _one_line_refusal(refused, name, "dotfile")
    assert profile.read_text() == "export PATH=/usr/bin\n"
    assert not (tmp_path / ".new-dotfile").exists()


def test_an_existing_file_is_kept_unless_force_is_given(tmp_path, db) -> None:
    """The authorized_keys case: a note holding a key line, exported over a file that
    exists, is refused; nothing of the export reaches the file."""
    ssh = tmp_path / "ssh"
    ssh.mkdir()
    keys = ssh / "authorized_keys"
    keys.write_text("ssh-ed25519 AAAAgood admin@host\n")
    refused = funnel(tmp_path, "export", "--db", db.name, "-o", keys)
    _one_line_refusal(refused, "authorized_keys", "exists", "--force")
    assert keys.read_text() == "ssh-ed25519 AAAAgood admin@host\n"
    assert _leftovers(ssh) == []


def test_force_replaces_atomically_with_owner_only_mode(tmp_path, db) -> None:
    target = tmp_path / "all.csv"
    target.write_text("old contents\n")
    target.chmod(0o644)
    old_reader = tmp_path / "old-link.csv"
    os.link(target, old_reader)  # someone holding the old file still sees it whole
    done = funnel(tmp_path, "export", "--db", db.name, "-o", target.name, "--force")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "exported 2 contacts to all.csv\n"
    assert target.read_text(encoding="utf-8").startswith("id,name,")
    assert old_reader.read_text() == "old contents\n"  # renamed over, not rewritten
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert _leftovers(tmp_path) == []


def test_a_new_export_is_readable_by_its_owner_only(tmp_path, db) -> None:
    done = funnel(tmp_path, "export", "--db", db.name, "--format", "json", "-o", "new.json")
    assert done.returncode == 0, done.stderr
    assert stat.S_IMODE((tmp_path / "new.json").stat().st_mode) == 0o600


def test_a_fifo_or_a_folder_is_refused_without_waiting(tmp_path, db) -> None:
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    (tmp_path / "folder.csv").mkdir()
    for name, kind in (("pipe.csv", "pipe"), ("folder.csv", "folder")):
        for extra in ([], ["--force"]):
            refused = funnel(tmp_path, "export", "--db", db.name, "-o", name, *extra)
            _one_line_refusal(refused, name, kind)
    assert stat.S_ISFIFO(fifo.stat().st_mode)


def test_a_symlink_is_refused_as_an_export_target(tmp_path, db) -> None:
    outside = tmp_path / "elsewhere.txt"
    outside.write_text("keep\n")
    (tmp_path / "link.csv").symlink_to(outside)
    refused = funnel(tmp_path, "export", "--db", db.name, "-o", "link.csv", "--force")
    _one_line_refusal(refused, "link.csv", "symbolic link")
    assert outside.read_text() == "keep\n"


def test_a_file_that_appears_after_the_check_is_not_replaced(tmp_path) -> None:
    """Without force, the new file is put in place with a rename that cannot replace."""
    target = tmp_path / "out.csv"
    check_export_target(target, force=False)  # nothing there yet
    with AtomicFile(target, 0o600, exact_mode=True) as temp:
        temp.write("ours\n")
        target.write_text("theirs, written meanwhile\n")
        with pytest.raises(FunnelError, match="exists"):
            install_new(temp, target)
    assert target.read_text() == "theirs, written meanwhile\n"
    assert _leftovers(tmp_path) == []
    with AtomicFile(tmp_path / "fresh.csv", 0o600, exact_mode=True) as temp:
        temp.write("ours\n")
        install_new(temp, tmp_path / "fresh.csv")
    assert (tmp_path / "fresh.csv").read_text() == "ours\n"
    assert _leftovers(tmp_path) == []


# -- a served session's folder: plain file names only -------------------------------
@pytest.mark.parametrize("name", [
    "../x.csv", "/etc/passwd", "sub/x.csv", "..", ".", "", "   ", ".hidden.csv",
    "a\\b.csv", "nul\x00.csv", "line\nbreak.csv", "esc\x1b[2J.csv", "rtl\u202egnp.csv",
    "~/.ssh/authorized_keys", "x" * 300])
def test_a_folder_takes_plain_file_names_only(tmp_path, name) -> None:
    folder = tmp_path / "files" / "anna"
    folder.mkdir(parents=True)
    with pytest.raises(FunnelError) as refused:
        resolve_in_folder(folder, name)
    message = str(refused.value)
    assert "\n" not in message and "\x1b" not in message and "\x00" not in message


def test_a_plain_name_resolves_inside_the_folder(tmp_path) -> None:
    folder = tmp_path / "files" / "anna"
    folder.mkdir(parents=True)
    assert resolve_in_folder(folder, "leads.csv") == folder.resolve() / "leads.csv"
    assert resolve_in_folder(folder, " leads 2024.csv ") == folder.resolve() / "leads 2024.csv"
    with pytest.raises(FunnelError, match="does not exist"):
        resolve_in_folder(tmp_path / "nobody", "leads.csv")


def test_a_symlink_in_the_folder_is_not_followed(tmp_path) -> None:
    folder = tmp_path / "files" / "anna"
    folder.mkdir(parents=True)
    secret = tmp_path / "host_key"
    secret.write_text("-----BEGIN OPENSSH PRIVATE KEY-----\n")
    (folder / "key.csv").symlink_to(secret)
    (folder / "inside.csv").write_text("a,b\n")
    (folder / "alias.csv").symlink_to(folder / "inside.csv")
    for name in ("key.csv", "alias.csv"):
        with pytest.raises(FunnelError, match="symbolic link"):
            resolve_in_folder(folder, name)


# -- how the server starts a session's app -----------------------------------------
def test_the_app_options_for_a_served_sessions_files(tmp_path) -> None:
    from funnel.tui.cli.main import build_parser
    from funnel.tui.cli.transfer import app_files

    folder = tmp_path / "files" / "anna"
    folder.mkdir(parents=True)
    parse = build_parser().parse_args
    assert app_files(parse([])) == {}
    assert app_files(parse(["--no-files"])) == {"files_off": True}
    assert app_files(parse(["--files-folder", str(folder)])) == {
        "files_folder": str(folder.resolve())}
    for args, said in ((["--files-folder", "nowhere"], "no such folder"),
                       (["--files-folder", str(folder), "--no-files"], "one or the other")):
        refused = funnel(tmp_path, *args, "--db", "app.json")
        _one_line_refusal(refused, said)
    assert not (tmp_path / "app.json").exists()
    assert "--files-folder" not in funnel(tmp_path, "--help").stdout
