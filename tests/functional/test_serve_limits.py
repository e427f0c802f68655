"""``funnel serve`` under attack, end to end: what a stranger or a greedy user can do
before and after logging in, against a real server on loopback.

- idle TCP connections (sockets that never send a banner) cannot lock people out, are
  closed after the login grace, and running out of file descriptors is one log line;
- a 65535x65535 window is served at a bounded size, the app stays small, the
  connection survives sizes above 65535, and the app ends soon after its client;
- one user cannot hold more than ``--max-sessions-per-user`` sessions;
- each session runs with its own files folder (DIR/USER, 0700) and umask 077.

Logins are timed with the OpenSSH client (``ssh -T``: authenticated, then refused for
want of a terminal, so no app is started); sizes are sent with asyncssh's client.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import socket
import stat
import statistics
import subprocess
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from funnel.engine.demo.generate import generate_contacts
from funnel.engine.workspace.facade import Workspace

from serve_support import Server, Terminal, asyncssh, ssh_command, write_key

pytestmark = [
    pytest.mark.skipif(asyncssh is None, reason="funnel serve needs asyncssh "
                       "(pip install -e '.[test]' installs it)"),
    pytest.mark.skipif(shutil.which("ssh") is None, reason="the OpenSSH client is not "
                       "installed (apt-get install openssh-client; .ci/run does)"),
    pytest.mark.xdist_group("serve-limits"),  # one server for the module
]

CONTACTS = 20
GRACE = 3  # --login-grace of the module's server, seconds
MB = 1024 * 1024


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    folder = tmp_path_factory.mktemp("serve-limits")
    db = folder / "leads.json"
    now = datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    with Workspace.open(db, None, user="generator") as workspace:
        workspace.add_many(generate_contacts(CONTACTS, 5, now), by="generator")
    anna_key, anna_public = write_key(folder, "anna")
    bob_key, bob_public = write_key(folder, "bob")
    keys = folder / "authorized_keys"
    keys.write_text(f"{anna_public}\n{bob_public}\n")
    return {"folder": folder, "db": db, "keys": keys, "anna": anna_key, "bob": bob_key,
            "files": folder / "files"}


@pytest.fixture(scope="module")
def server(world):
    server = Server(world["folder"], world["db"], world["keys"], "--idle-timeout", "0",
                    "--files", str(world["files"]), "--login-grace", str(GRACE))
    yield server
    assert server.stop() == 0, server.text()
    assert "Traceback" not in server.text(), server.text()


# -- helpers ------------------------------------------------------------------------------
def login_seconds(key: Path, port: int, login: str, timeout: float = 30) -> float:
    """One complete OpenSSH login (key exchange, public key), refused a shell for want
    of a terminal: no app is started."""
    started = time.monotonic()
    result = subprocess.run(ssh_command(key, port, login, "-T", "-o",
                                        f"ConnectTimeout={int(timeout)}"),
                            stdin=subprocess.DEVNULL, capture_output=True, text=True,
                            timeout=timeout + 10)
    elapsed = time.monotonic() - started
    assert result.returncode == 1 and "needs a terminal" in result.stderr, result
    return elapsed


def typical_login(key: Path, port: int) -> float:
    return statistics.median(login_seconds(key, port, "anna") for _ in range(3))


def closed_by_server(sockets: list[socket.socket]) -> int:
    """How many of ``sockets`` the server has closed (banner bytes are read and dropped)."""
    count = 0
    for sock in sockets:
        sock.setblocking(False)
        while True:
            try:
                if not sock.recv(4096):
                    count += 1
                    break
            except BlockingIOError:
                break
            except OSError:  # reset
                count += 1
                break
    return count


def wait_closed(sockets: list[socket.socket], expected: int, timeout: float) -> float:
    started = time.monotonic()
    while closed_by_server(sockets) < expected:
        assert time.monotonic() - started < timeout, \
            f"{closed_by_server(sockets)} of {len(sockets)} closed after {timeout} s"
        time.sleep(0.05)
    return time.monotonic() - started


def sessions_started(server: Server, user: str) -> list[tuple[int, int, int]]:
    """(columns, rows, pid) of each session of ``user`` the server started, in order."""
    return [(int(columns), int(rows), int(pid)) for columns, rows, pid in re.findall(
        rf"session started for {user} at \S+: (\d+)x(\d+) \S+ \(pid (\d+)", server.text())]


async def until(test, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not test():
        assert time.monotonic() < deadline, f"never saw {what}"
        await asyncio.sleep(0.05)


def proc_status(pid: int) -> dict[str, str]:
    lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    return {name: value.strip() for name, _, value in (line.partition(":") for line in lines)}


class Screen(asyncssh.SSHClientSession if asyncssh else object):  # type: ignore[misc]
    """What an asyncssh client session receives."""

    def __init__(self) -> None:
        self.output = bytearray()
        self.closed = False

    def data_received(self, data, datatype) -> None:
        self.output += data

    def connection_lost(self, exc) -> None:
        self.closed = True


async def connect(port: int, key: Path, user: str):
    return await asyncssh.connect("127.0.0.1", port, username=user, client_keys=[str(key)],
                                  known_hosts=None, agent_path=None, config=None)


# -- the tests ------------------------------------------------------------------------------
def test_a_huge_window_is_clamped_and_the_session_is_private(world, server):
    """65535x65535 once grew an app to 2.3 GB; above 65535 it dropped the connection."""
    async def scenario() -> float:
        connection = await connect(server.port, world["anna"], "anna")
        before = len(sessions_started(server, "anna"))
        channel, screen = await connection.create_session(
            Screen, term_type="xterm-256color", term_size=(65535, 65535), encoding=None)
        await until(lambda: len(sessions_started(server, "anna")) > before, "the session")
        columns, rows, pid = sessions_started(server, "anna")[-1]
        assert (columns, rows) == (1000, 500)
        await until(lambda: b"of 20" in screen.output, "the app's status line")
        channel.change_terminal_size(70000, 70000, 2**32 - 1, 2**32 - 1)
        channel.change_terminal_size(65535, 65535)
        screen.output.clear()
        channel.write(b"j")
        await until(lambda: len(screen.output) > 0, "the app answering after the resizes")
        assert not screen.closed
        peak = int(proc_status(pid)["VmHWM"].split()[0]) * 1024
        print(f"app at 1000x500 (asked 65535x65535, then 70000x70000): peak RSS "
              f"{peak / MB:.0f} MB")
        assert peak < 500 * MB

        # Its own folder, 0700, and files it writes are its own (0600).
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        folder = world["files"] / "anna"
        assert argv[-3:] == [b"--files-folder", str(folder).encode(), b""]
        assert proc_status(pid)["Umask"] == "0077"
        assert stat.S_IMODE(world["files"].stat().st_mode) == 0o700
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700

        # The client leaves: its app goes soon after.
        ended = server.text().count("session ended for anna")
        connection.abort()
        left = time.monotonic()
        await until(lambda: server.text().count("session ended for anna") > ended,
                    "the app ending", timeout=30)
        return time.monotonic() - left

    gone_after = asyncio.run(scenario())
    print(f"the app ended {gone_after:.2f} s after its client left")
    assert gone_after <= 2.0
    assert "internal error" not in server.text().lower() and server.process.poll() is None


def test_one_user_cannot_take_every_session(world, server):
    async def scenario() -> None:
        connection = await connect(server.port, world["bob"], "bob")
        before = len(sessions_started(server, "bob"))
        channels = []
        for _ in range(3):
            channel, _screen = await connection.create_session(
                Screen, term_type="xterm-256color", term_size=(80, 24), encoding=None)
            channels.append(channel)
        await until(lambda: len(sessions_started(server, "bob")) == before + 3,
                    "bob's three sessions")
        fourth = await asyncio.to_thread(
            subprocess.run, ssh_command(world["bob"], server.port, "bob", "-tt"),
            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
        assert fourth.returncode == 1
        assert "at most 3 per person" in fourth.stdout + fourth.stderr
        assert (fourth.stdout + fourth.stderr).count("\n") <= 2  # one line
        assert "(--max-sessions-per-user)" in server.text()
        connection.close()
        await connection.wait_closed()

    asyncio.run(scenario())


@pytest.mark.stress  # hundreds of connections held open: seconds of both cores
def test_idle_connections_before_login_do_not_delay_a_login(world, server):
    alone = typical_login(world["anna"], server.port)
    sockets = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(200)]
    try:
        crowded = typical_login(world["anna"], server.port)
        # At most 32 (the default) wait; the rest were closed at once...
        wait_closed(sockets, 200 - 32, timeout=10)
        # ...and the login grace closes the others.
        wait_closed(sockets, 200, timeout=GRACE + 10)
    finally:
        for sock in sockets:
            sock.close()
    print(f"login alone {alone:.2f} s, with 200 idle connections {crowded:.2f} s")
    assert crowded - alone < 1.0
    assert len(re.findall(r"connections are waiting to log in", server.text())) == 1
    assert "closed in" in server.text()  # the end of the burst, once


@pytest.mark.stress  # (as above: the descriptors run out on purpose)
def test_running_out_of_file_descriptors_is_survived(world, tmp_path):
    """At 48 descriptors the server cannot accept 80 idle sockets: one log line,
    idle ones shed, and a real login still gets in while they are held."""
    server = Server(tmp_path, world["db"], world["keys"], "--max-unauthenticated", "1000",
                    "--login-grace", "60", fd_limit=48)
    sockets = []
    try:
        for _ in range(80):
            sockets.append(socket.create_connection(("127.0.0.1", server.port)))
        server.wait_log("out of file descriptors", timeout=30)
        held = login_seconds(world["anna"], server.port, "anna", timeout=30)
        print(f"a login while 80 idle connections hold the descriptors: {held:.2f} s")
        for sock in sockets:
            sock.close()
        sockets.clear()
        freed = login_seconds(world["anna"], server.port, "anna")
        print(f"a login once they are gone: {freed:.2f} s")
        assert freed < 3
    finally:
        for sock in sockets:
            sock.close()
        assert server.stop() == 0, server.text()
    log = server.text()
    assert "Traceback" not in log and "out of system resource" not in log, log
    assert log.count("out of file descriptors") == 1, log


def plain(screen: str) -> str:
    """The screen as one line of words: dialog borders and line breaks folded away."""
    return re.sub(r"[\s│┃║▎▊▌▐]+", " ", screen)


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed "
                    "(apt-get install tmux; .ci/run does)")
def test_a_served_user_reads_and_writes_only_their_own_folder(world, server):
    bob_folder = world["files"] / "bob"
    bob_folder.mkdir(mode=0o700, exist_ok=True)
    (bob_folder / "x.csv").write_text("name,email\nSecret Person,secret@example.com\n")
    tmux_socket = f"funnel-serve-limits-{os.getpid()}"
    try:
        anna = Terminal(tmux_socket, ssh_command(world["anna"], server.port, "anna", "-tt"),
                        width=110, height=34)
        anna.wait_text(f"{CONTACTS} of {CONTACTS}")
        anna.keys("i")
        anna.wait_text("Import contacts")
        for typed in ("../bob/x.csv", "/etc/passwd"):
            anna.keys("C-u")
            anna.keys("-l", typed)
            anna.keys("Enter")
            anna.wait_for(lambda screen: f"{typed}: give a file name only" in plain(screen),
                          f"{typed!r} refused")
        assert "Secret" not in anna.screen() and "root:" not in anna.screen()
        anna.keys("Escape")
        anna.wait_for(lambda screen: "Import contacts" not in screen, "the dialog closed")

        anna.keys("x")
        anna.wait_text("Export")
        anna.keys("C-u")
        anna.keys("-l", "../bob/x.csv")
        anna.keys("Enter")
        anna.wait_for(lambda screen: "give a file name only" in plain(screen),
                      "the export into bob's folder refused")
        anna.keys("C-u")
        anna.keys("-l", "mine.csv")
        anna.keys("Enter")
        mine = world["files"] / "anna" / "mine.csv"
        deadline = time.monotonic() + 60
        while not mine.exists():
            assert time.monotonic() < deadline, f"never written; the screen:\n{anna.screen()}"
            time.sleep(0.05)
        anna.wait_text("Exported")
        assert stat.S_IMODE(mine.stat().st_mode) == 0o600
        assert mine.read_text().count("\n") >= CONTACTS
        assert sorted(path.name for path in bob_folder.iterdir()) == ["x.csv"]
        assert "Secret" in (bob_folder / "x.csv").read_text()
        anna.keys("q")
    finally:
        subprocess.run(["tmux", "-L", tmux_socket, "kill-server"], capture_output=True)
