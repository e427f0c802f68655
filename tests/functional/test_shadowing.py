"""Nothing in the working directory can stand in for Funnel's own modules.

A folder holds hostile ``engine/``, ``tui/`` and ``funnel_config/`` packages (the
names the source folders had before everything moved under ``funnel``) and a hostile
``funnel/`` (what ``python -m`` without ``-I`` would import from the working
directory), each of which writes a marker file when imported. From that folder as the working directory:

(a) ``funnel stats --db X --json``, the console script beside ``sys.executable``;
(b) ``funnel --demo`` in a real terminal (tmux), until its screen shows, then ``q``;
(c) a served session: ``python -I -m funnel.tui.serve.session --db X --user u`` (what
    ``funnel serve`` runs per session) on a terminal, and ``funnel serve`` itself with
    an OpenSSH client connected, the server started in the hostile folder.

Each must work, and no marker may appear. A control run first shows that the hostile
packages do write their markers when something imports them from that folder.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

from funnel.engine.demo.generate import generate_contacts
from funnel.engine.workspace.facade import Workspace

from serve_support import Server, asyncssh, ssh_command, write_key
from tmux_support import Terminal, needs_tmux, poll

HOSTILE = ("engine", "tui", "funnel_config", "funnel")
SCRIPT = Path(sys.executable).with_name("funnel")
CONTACTS = 40


@pytest.fixture
def hostile(tmp_path: Path) -> Path:
    """The hostile working directory; its markers go to ``tmp_path / "markers"``."""
    folder, markers = tmp_path / "hostile", tmp_path / "markers"
    markers.mkdir()
    for name in HOSTILE:
        package = folder / name
        package.mkdir(parents=True)
        (package / "__init__.py").write_text(
            "import pathlib\n"
            f"pathlib.Path({str(markers / name)!r}).write_text('imported from the cwd')\n")
    # The control: imported from that folder, each one does write its marker.
    control = subprocess.run([sys.executable, "-c", "import " + ", ".join(HOSTILE)],
                             cwd=folder, capture_output=True, text=True, timeout=60)
    assert control.returncode == 0, control.stderr
    assert sorted(path.name for path in markers.iterdir()) == sorted(HOSTILE)
    for path in markers.iterdir():
        path.unlink()
    return folder


def markers_of(hostile: Path) -> list[str]:
    return sorted(path.name for path in (hostile.parent / "markers").iterdir())


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "data" / "leads.json"
    path.parent.mkdir()
    now = datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    with Workspace.open(path, None, user="generator") as workspace:
        workspace.add_many(generate_contacts(CONTACTS, 3, now), by="generator")
    return path


def clean_env(tmp_path: Path) -> dict[str, str]:
    """Added to the environment: nothing of the user's is read, temp files stay here."""
    return {"TERM": "xterm-256color", "HOME": str(tmp_path), "TMPDIR": str(tmp_path),
            "XDG_DATA_HOME": str(tmp_path / "xdg-data"),
            "XDG_CONFIG_HOME": str(tmp_path / "xdg-config")}


def test_the_console_script_ignores_the_working_directory(hostile: Path, db: Path,
                                                           tmp_path: Path) -> None:
    assert SCRIPT.is_file(), f"no console script at {SCRIPT}: pip install -e '.[test]'"
    env = {key: value for key, value in os.environ.items() if not key.startswith("FUNNEL_")}
    env.pop("PYTHONPATH", None)
    env.update(clean_env(tmp_path))
    result = subprocess.run([str(SCRIPT), "stats", "--db", str(db), "--json"], cwd=hostile,
                            env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["total"] == CONTACTS
    assert markers_of(hostile) == []


@needs_tmux
def test_the_demo_in_a_terminal_ignores_the_working_directory(hostile: Path,
                                                              tmp_path: Path) -> None:
    exit_file = tmp_path / "exit"
    terminal = Terminal(["sh", "-c", '"$0" --demo; echo $? > "$1"', str(SCRIPT),
                         str(exit_file)], env=clean_env(tmp_path), cwd=hostile)
    try:
        terminal.wait_for("2,000 of 2,000", timeout=120)
        terminal.keys("q")
        poll(lambda: exit_file.is_file() and exit_file.read_text().strip(),
             "the demo to exit after q", last=terminal.screen)
    finally:
        terminal.close()
    assert exit_file.read_text().strip() == "0"
    assert markers_of(hostile) == []


@needs_tmux
def test_a_session_process_ignores_the_working_directory(hostile: Path, db: Path,
                                                         tmp_path: Path) -> None:
    """What ``funnel serve`` starts for each session, on a terminal of its own."""
    exit_file = tmp_path / "exit"
    session = [sys.executable, "-I", "-m", "funnel.tui.serve.session", "--db", str(db),
               "--user", "u"]
    terminal = Terminal(["sh", "-c", '"$@"; echo $? > "$0"', str(exit_file), *session],
                        env=clean_env(tmp_path), cwd=hostile)
    try:
        terminal.wait_for(f"{CONTACTS} of {CONTACTS}", timeout=60)
        terminal.keys("q")
        poll(lambda: exit_file.is_file() and exit_file.read_text().strip(),
             "the session to exit after q", last=terminal.screen)
    finally:
        terminal.close()
    assert exit_file.read_text().strip() == "0"
    assert markers_of(hostile) == []


@needs_tmux
@pytest.mark.skipif(asyncssh is None, reason="funnel serve needs asyncssh")
@pytest.mark.skipif(shutil.which("ssh") is None, reason="the OpenSSH client is not "
                    "installed (apt-get install openssh-client; .ci/run does)")
def test_a_served_session_ignores_the_servers_working_directory(hostile: Path, db: Path,
                                                                tmp_path: Path) -> None:
    keys_folder = tmp_path / "keys"
    keys_folder.mkdir()
    key, public = write_key(keys_folder, "anna")
    authorized = keys_folder / "authorized_keys"
    authorized.write_text(public + "\n")
    server = Server(keys_folder, db, authorized, "--idle-timeout", "0", cwd=hostile,
                    command=[str(SCRIPT)])
    try:
        terminal = Terminal(ssh_command(key, server.port, "anna", "-tt"),
                            env={"TERM": "xterm-256color"}, width=100, height=30)
        try:
            terminal.wait_for(f"{CONTACTS} of {CONTACTS}", timeout=60)
            terminal.keys("q")
            server.wait_log(r"session ended for anna .*exit status 0")
        finally:
            terminal.close()
    finally:
        assert server.stop() == 0, server.text()
    assert markers_of(hostile) == []
