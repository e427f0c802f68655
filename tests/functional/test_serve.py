"""``funnel serve`` end to end: the real OpenSSH client, in tmux, over loopback.

A server runs on a free port with a small database and an authorized-keys file for
anna (named by her key's comment) and bob (named by ``environment="FUNNEL_USER=bob"``).
Each client is ``ssh -tt`` in its own tmux window, so what is checked is what a
salesperson would see. Skipped, saying why, without asyncssh, ssh or tmux.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

import pytest

from funnel.engine.demo.generate import generate_contacts
from funnel.engine.workspace.facade import Workspace

from serve_support import ROOT, Server, Terminal, asyncssh, ssh_command, write_key

pytestmark = [
    pytest.mark.skipif(asyncssh is None, reason="funnel serve needs asyncssh "
                       "(pip install -e '.[test]' installs it)"),
    pytest.mark.skipif(shutil.which("ssh") is None, reason="the OpenSSH client is not "
                       "installed (apt-get install openssh-client; .ci/run does)"),
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed "
                       "(apt-get install tmux; .ci/run does)"),
]

CONTACTS = 300
STATUS = f"All · {CONTACTS} of {CONTACTS}"


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    folder = tmp_path_factory.mktemp("serve")
    db = folder / "leads.json"
    now = datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    with Workspace.open(db, None, user="generator") as workspace:
        workspace.add_many(generate_contacts(CONTACTS, 11, now), by="generator")
    anna_key, anna_public = write_key(folder, "anna")
    bob_key, bob_public = write_key(folder, "bob")
    stranger_key, _ = write_key(folder, "stranger")
    keys = folder / "authorized_keys"
    keys.write_text(f"# the sales team\n{anna_public}\n"
                    f'restrict,environment="FUNNEL_USER=bob" {bob_public}\n')
    socket = f"funnel-serve-test-{uuid.uuid4().hex[:12]}"  # this module's tmux server
    yield {"folder": folder, "db": db, "keys": keys, "anna": anna_key, "bob": bob_key,
           "stranger": stranger_key, "socket": socket}
    subprocess.run(["tmux", "-L", socket, "kill-server"], capture_output=True)


@pytest.fixture(scope="module")
def server(world):
    server = Server(world["folder"], world["db"], world["keys"], "--idle-timeout", "0")
    yield server
    assert server.stop() == 0, server.text()
    assert "funnel serve: stopped" in server.text()


def owner_edits(db: Path, owner: str) -> list[tuple[int, dict]]:
    """(id, history entry) of every change of ``owner`` to the given value."""
    found = []
    with Workspace.open(db, None, create=False) as workspace:
        for contact_id, document in workspace.documents():
            for entry in document.get("history", []):
                if entry.get("field") == "owner" and entry.get("to") == owner:
                    found.append((contact_id, entry))
    return found


def cursor_moves(terminal: Terminal) -> None:
    before = terminal.screen(colours=True)  # the cursor is a highlight: compare colours too
    terminal.keys("j")
    deadline = time.monotonic() + 30
    while terminal.screen(colours=True) == before:
        assert time.monotonic() < deadline, "the cursor never moved"
        time.sleep(0.05)


# -- the tests ---------------------------------------------------------------------------
def test_two_salespeople_share_one_database_over_ssh(world, server):
    anna = Terminal(world["socket"], ssh_command(world["anna"], server.port, "anna", "-tt"))
    bob = Terminal(world["socket"], ssh_command(world["bob"], server.port, "whoever", "-tt"))
    anna.wait_text(STATUS)
    bob.wait_text(STATUS)
    server.wait_log(r"connected anna from 127\.0\.0\.1:\d+ \(key SHA256:\S+, line 2; "
                    r"login name 'anna'\)")
    server.wait_log(r"connected bob from .*login name 'whoever'")
    server.wait_log(r"session started for anna .*100x30")

    # The window grows: the app lays itself out again for the new size.
    anna.tmux("resize-window", "-t", anna.name, "-x", "132", "-y", "40")
    anna.wait_for(lambda screen: any(len(line) == 132 and "━" in line
                                     for line in screen.splitlines())
                  and len(screen.splitlines()) == 40, "the app at 132x40")

    # Anna assigns the first contact to a new owner; Bob's screen follows.
    owner = f"s{uuid.uuid4().hex[:6]}"  # fits the Owner column at 100 wide (8 cells)
    anna.keys("o")
    anna.wait_text("Enter confirms")
    # Typed as soon as the dialog shows: what was typed must show in it (no key lost).
    anna.keys("C-u")
    anna.keys("-l", owner)
    anna.wait_for(lambda screen: "Enter confirms" in screen and owner in screen,
                  f"{owner!r} typed in anna's dialog")
    anna.keys("Enter")
    anna.wait_for(lambda screen: owner in screen and "Enter confirms" not in screen,
                  "the owner in anna's table")
    started = time.monotonic()
    bob.wait_text(owner)  # live, without reconnecting; how fast is the benchmark's to say
    seen_after = time.monotonic() - started
    print(f"bob saw anna's edit {seen_after * 1000:.0f} ms after it showed on her screen")

    # Anna's app hangs: Bob does not notice.
    app_pid = int(re.search(r"session started for anna .*\(pid (\d+)",
                            server.text()).group(1))
    os.kill(app_pid, signal.SIGSTOP)
    try:
        cursor_moves(bob)
    finally:
        os.kill(app_pid, signal.SIGCONT)

    # Anna's client dies; the server and Bob carry on, and Anna can come back.
    os.kill(anna.client_pid(), signal.SIGKILL)
    server.wait_log(r"disconnected anna from")
    server.wait_log(r"session ended for anna .*exit status 0")  # the app exited cleanly
    assert server.process.poll() is None
    cursor_moves(bob)
    again = Terminal(world["socket"], ssh_command(world["anna"], server.port, "anna", "-tt"))
    again.wait_text(owner)

    # The edit is in the database, by anna.
    edits = owner_edits(world["db"], owner)
    assert len(edits) == 1, edits
    contact_id, entry = edits[0]
    assert entry["by"] == "anna"
    shown = subprocess.run([sys.executable, "-m", "funnel.tui.cli", "show", str(contact_id),
                            "--db", str(world["db"]), "--json"], capture_output=True,
                           text=True, cwd=ROOT, timeout=60)
    assert shown.returncode == 0, shown.stderr
    contact = json.loads(shown.stdout)
    assert contact["fields"]["owner"] == owner
    assert any(item["by"] == "anna" and item.get("field") == "owner" and item["to"] == owner
               for item in contact["history"])
    again.keys("q")
    server.wait_log(r"disconnected anna from .*after")


def test_an_unknown_key_is_refused(world, server):
    result = subprocess.run(ssh_command(world["stranger"], server.port, "anna", "-T"),
                            stdin=subprocess.DEVNULL, capture_output=True, text=True,
                            timeout=30)
    assert result.returncode == 255
    assert "Permission denied (publickey)" in result.stderr
    server.wait_log(r"refused 127\.0\.0\.1:\d+ \(login name 'anna'\): not authenticated, "
                    r"offered SHA256:")


def test_passwords_are_refused(world, server):
    result = subprocess.run(
        ssh_command(world["anna"], server.port, "anna", "-T", "-o",
                    "PreferredAuthentications=password,keyboard-interactive",
                    "-o", "PubkeyAuthentication=no"),
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30)
    assert result.returncode == 255
    assert "Permission denied (publickey)" in result.stderr


def test_no_commands_no_sftp_no_forwarding(world, server):
    command = subprocess.run(ssh_command(world["anna"], server.port, "anna", "-T", remote=("ls", "/")),
                             stdin=subprocess.DEVNULL, capture_output=True, text=True,
                             timeout=30)
    assert command.returncode != 0 and "bin" not in command.stdout
    assert "exec request failed" in command.stderr
    sftp = subprocess.run(ssh_command(world["anna"], server.port, "anna", "-T", "-s", remote=("sftp",)),
                          stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=30)
    assert sftp.returncode != 0 and "subsystem request failed" in sftp.stderr
    no_pty = subprocess.run(ssh_command(world["anna"], server.port, "anna", "-T"),
                            stdin=subprocess.DEVNULL, capture_output=True, text=True,
                            timeout=30)
    assert no_pty.returncode == 1 and "needs a terminal" in no_pty.stderr
    remote = subprocess.run(
        ssh_command(world["anna"], server.port, "anna", "-N", "-o", "ExitOnForwardFailure=yes",
                    "-R", "127.0.0.1:0:127.0.0.1:9"),
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30)
    assert remote.returncode == 255 and "forwarding failed" in remote.stderr
    with socket.socket() as probe:  # a free local port for -L
        probe.bind(("127.0.0.1", 0))
        local_port = probe.getsockname()[1]
    local = subprocess.Popen(
        ssh_command(world["anna"], server.port, "anna", "-N", "-L",
                    f"127.0.0.1:{local_port}:127.0.0.1:{server.port}"),
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        text=True)
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                tunnel = socket.create_connection(("127.0.0.1", local_port), timeout=5)
                break
            except ConnectionRefusedError:
                assert time.monotonic() < deadline, "ssh -L never listened"
                time.sleep(0.05)
        with tunnel:  # forwarded, it would carry the server's "SSH-2.0-…" banner
            assert tunnel.recv(100) == b""
    finally:
        local.kill()
        local.communicate(timeout=10)


@pytest.mark.stress  # 13 s of waiting for timeouts: CI's stress run keeps it
def test_session_limit_and_idle_timeout(world):
    # The idle clock starts at the connection, so the timeout must outlast the app's
    # start on a busy machine (3 s once did not): 10 s, most of it waited, not worked.
    server = Server(world["folder"], world["db"], world["keys"], "--max-sessions", "1",
                    "--idle-timeout", "10")
    try:
        server.wait_log(r"at most 1 session \(3 per user\) · idle timeout 10 s · files off")
        anna = Terminal(world["socket"],
                        ssh_command(world["anna"], server.port, "anna", "-tt"),
                        width=90, height=25)
        anna.wait_text(STATUS)
        full = subprocess.run(ssh_command(world["bob"], server.port, "bob", "-tt"),
                              stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=30)
        assert full.returncode == 1
        assert "all sessions are in use (at most 1)" in full.stdout + full.stderr
        server.wait_log(r"ending the session of anna .*: idle")
        server.wait_log(r"session ended for anna .*exit status 0")
    finally:
        assert server.stop() == 0, server.text()
