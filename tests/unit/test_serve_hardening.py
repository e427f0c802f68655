"""The server's own guards, one at a time: each user's files folder, the names that
may become folders, the session's umask, terminal sizes and pre-login admission."""

from __future__ import annotations

import asyncio
import errno
import os
import stat
import sys
from pathlib import Path

import asyncssh
import pytest

from funnel.engine.errors import FunnelError
from funnel.tui.serve import admission
from funnel.tui.serve.admission import LoginGate
from funnel.tui.cli.main import main
from funnel.tui.serve.folders import prepare_files_root
from funnel.tui.serve.hub import Hub, ServeConfig
from funnel.tui.serve.keys import KeyRing, check_user_name
from funnel.tui.serve.pty import MAX_COLUMNS, MAX_ROWS, PtyProcess, clamp_size


def make_hub(tmp_path: Path, **options) -> Hub:
    keys = tmp_path / "authorized_keys"
    public = asyncssh.generate_private_key("ssh-ed25519").export_public_key().decode()
    keys.write_text(public.strip() + " anna@laptop\n")
    config = ServeConfig(db=tmp_path / "db.json", authorized_keys=keys,
                         host_key=tmp_path / "host_key", **options)
    return Hub(config, KeyRing(keys))


# -- files: DIR/USER, 0700, passed to the app -----------------------------------------
def test_each_user_gets_a_private_folder_passed_to_the_app(tmp_path) -> None:
    files = tmp_path / "files"
    hub = make_hub(tmp_path, files=prepare_files_root(files))
    assert stat.S_IMODE(files.stat().st_mode) == 0o700
    folder = hub.user_folder("anna")
    assert folder == files / "anna"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    argv = hub.app_argv("anna", folder)
    assert argv[-2:] == ["--files-folder", str(files / "anna")]
    assert "--no-files" not in argv


def test_without_files_the_app_is_told_files_are_off(tmp_path) -> None:
    hub = make_hub(tmp_path)
    assert hub.user_folder("anna") is None
    argv = hub.app_argv("anna", None)
    assert argv[-1] == "--no-files" and "--files-folder" not in argv


def test_a_files_path_that_is_a_file_is_a_clear_error(tmp_path, capsys) -> None:
    """From the command line: one line, exit 2, before anything listens."""
    files = tmp_path / "files"
    files.write_text("not a folder")
    hub = make_hub(tmp_path)
    code = main(["serve", "--db", str(tmp_path / "db.json"), "--port", "0",
                 "--authorized-keys", str(hub.config.authorized_keys),
                 "--host-key", str(tmp_path / "host_key"), "--files", str(files)])
    error = capsys.readouterr().err
    assert code == 2 and error.count("\n") == 1, error
    assert f"--files {files}: not a folder" in error


@pytest.mark.parametrize("option, value", [
    ("--max-sessions-per-user", "0"), ("--max-unauthenticated", "0"),
    ("--login-grace", "0"), ("--login-grace", "-1")])
def test_limits_must_make_sense(tmp_path, capsys, option, value) -> None:
    hub = make_hub(tmp_path)
    code = main(["serve", "--db", str(tmp_path / "db.json"), "--port", "0",
                 "--authorized-keys", str(hub.config.authorized_keys),
                 "--host-key", str(tmp_path / "host_key"), option, value])
    error = capsys.readouterr().err
    assert code == 2 and error.count("\n") == 1 and option in error, error


def test_a_user_folder_replaced_by_a_symlink_is_refused(tmp_path) -> None:
    files = tmp_path / "files"
    hub = make_hub(tmp_path, files=prepare_files_root(files))
    (files / "anna").symlink_to(tmp_path)  # would lead out of DIR
    with pytest.raises(FunnelError, match="not a folder of its own"):
        hub.user_folder("anna")


@pytest.mark.parametrize("name", ["../bob", "a/b", "a\\b", ".hidden", ".", ".."])
def test_names_that_are_not_safe_folder_names_are_refused(name) -> None:
    assert check_user_name(name) is not None


def test_a_key_for_an_unsafe_folder_name_is_refused_when_read(tmp_path) -> None:
    keys = tmp_path / "authorized_keys"
    public = asyncssh.generate_private_key("ssh-ed25519").export_public_key().decode()
    keys.write_text(f'environment="FUNNEL_USER=../etc" {public.strip()}\n')
    with pytest.raises(FunnelError, match=r"authorized_keys:1: .*folder name"):
        KeyRing(keys)


# -- the session process --------------------------------------------------------------
def test_the_session_process_writes_private_files(tmp_path) -> None:
    script = f"open({str(tmp_path / 'made')!r}, 'w').close()"

    async def run() -> int | None:
        done = asyncio.get_running_loop().create_future()
        process = PtyProcess([sys.executable, "-c", script], dict(os.environ), columns=80,
                             rows=24, on_output=lambda data: None,
                             on_exit=lambda status: done.set_result(status), umask=0o077)
        process.start()
        return await asyncio.wait_for(done, 30)

    assert asyncio.run(run()) == 0
    assert stat.S_IMODE((tmp_path / "made").stat().st_mode) == 0o600


@pytest.mark.parametrize("size, expected", [
    ((80, 24), (80, 24)), ((65535, 65535), (MAX_COLUMNS, MAX_ROWS)),
    ((70000, 2**32 - 1), (MAX_COLUMNS, MAX_ROWS)), ((0, 0), (1, 1))])
def test_terminal_sizes_are_clamped(size, expected) -> None:
    assert clamp_size(*size) == expected
    assert MAX_COLUMNS <= 1000 and MAX_ROWS <= 500


# -- before login ----------------------------------------------------------------------
class FakeConnection:
    def __init__(self, silent: bool) -> None:
        self.silent = silent
        self.closed = False

    def shed(self) -> None:
        self.closed = True


def test_beyond_the_pre_login_limit_new_connections_are_refused_with_one_line(caplog) -> None:
    gate = LoginGate(2)
    busy = [FakeConnection(silent=False), FakeConnection(silent=False)]
    assert all(gate.admit(item) for item in busy)
    with caplog.at_level("INFO", logger="funnel.serve"):
        assert not any(gate.admit(FakeConnection(silent=False)) for _ in range(50))
        assert len(caplog.records) == 1 and "waiting to log in" in caplog.text
        gate.left(busy[0])  # it logged in: the burst is over
        assert len(caplog.records) == 2 and "50 closed" in caplog.records[1].getMessage()
        assert gate.admit(FakeConnection(silent=False))
    assert not any(item.closed for item in busy)


def test_idle_sockets_make_room_for_people(caplog) -> None:
    gate = LoginGate(3)
    idle = [FakeConnection(silent=True) for _ in range(200)]
    with caplog.at_level("INFO", logger="funnel.serve"):
        assert all(gate.admit(item) for item in idle)
        person = FakeConnection(silent=False)
        assert gate.admit(person)
    assert sum(not item.closed for item in idle) == 2  # the newest idle ones still wait
    assert len(gate.waiting) == 3 and person in gate.waiting
    assert len(caplog.records) == 1


def test_out_of_descriptors_sheds_idle_connections_and_says_so_once(caplog,
                                                                    monkeypatch) -> None:
    gate = LoginGate(100)
    idle = [FakeConnection(silent=True) for _ in range(40)]
    busy = FakeConnection(silent=False)
    for item in [busy, *idle]:
        gate.admit(item)
    error = OSError(errno.EMFILE, "Too many open files")
    with caplog.at_level("INFO", logger="funnel.serve"):
        for _ in range(5):
            gate.out_of_descriptors(error)
        assert len(caplog.records) == 1 and "out of file descriptors" in caplog.text
        assert not busy.closed and sum(item.closed for item in idle) >= 20
        gate.admit(FakeConnection(silent=False))  # accepted between two shortages
        assert len(caplog.records) == 1
        monkeypatch.setattr(admission, "DESCRIPTOR_QUIET", 0.0)
        gate.admit(FakeConnection(silent=False))  # accept() works again for a while
        assert len(caplog.records) == 2 and "accepting connections again" in caplog.text


def test_per_user_session_count(tmp_path) -> None:
    hub = make_hub(tmp_path, max_sessions_per_user=3)

    class Session:
        def __init__(self, user: str) -> None:
            self.user = user

    hub.sessions.update({Session("anna"), Session("anna"), Session("bob")})  # type: ignore[arg-type]
    assert hub.sessions_of("anna") == 2 and hub.sessions_of("carl") == 0
