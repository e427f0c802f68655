"""Two real app sessions on one database, each in its own terminal: anna saves a job
title while bob is typing in the same field. bob's edit line flags it at once, and his
Enter is refused and shown side by side instead of silently replacing anna's value."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import pytest

from funnel.engine.demo.generate import generate_contacts
from funnel.engine.model import utc_now
from funnel.engine.workspace.facade import Workspace

from tmux_support import Terminal, needs_tmux

pytestmark = needs_tmux
CONTACTS = 40


@pytest.fixture
def database(tmp_path: Path) -> Path:
    db = tmp_path / "shared.json"
    with Workspace.open(db, None, user="generator") as workspace:
        now = utc_now().replace(hour=0, minute=0, second=0, microsecond=0)
        workspace.add_many(generate_contacts(CONTACTS, 11, now), by="generator")
    return db


def session(database: Path, tmp_path: Path, user: str) -> Terminal:
    app = [sys.executable, "-m", "funnel.tui.cli", "--db", str(database), "--user", user]
    home = tmp_path / user
    env = {"TERM": "xterm-256color", "HOME": str(home), "XDG_CONFIG_HOME": str(home / "config")}
    return Terminal(["sh", "-c", shlex.join(app)], env=env, width=100, height=30)


def open_title(terminal: Terminal) -> None:
    """Open the first contact's card and start editing its job title."""
    terminal.wait_for(f"{CONTACTS} of {CONTACTS}")
    terminal.keys("Enter")
    terminal.wait_for("Why this score")
    terminal.keys("j", "j", "j", "j", "Enter")  # name, email, phone, company, job title
    terminal.wait_for("Job title: ", timeout=10)


@pytest.mark.stress  # two real app processes in tmux; the conflict itself: test_conflicts_tui
def test_anna_saves_while_bob_types_and_bob_is_told(database: Path, tmp_path: Path):
    anna = session(database, tmp_path, "anna")
    bob = session(database, tmp_path, "bob")
    try:
        open_title(bob)
        open_title(anna)
        target = int(anna.screen().split("#", 1)[1].split()[0])
        assert f"#{target} " in bob.screen()  # both on the same contact
        bob.keys("C-u")
        bob.keys("-l", "Bob-title")
        anna.keys("C-u")
        anna.keys("-l", "Anna-title")
        anna.keys("Enter")
        anna.wait_for("Saved Job title")
        # Within the refresh interval, bob's edit line says what happened.
        bob.wait_for("changed by anna while you were typing")
        bob.keys("Enter")
        screen = bob.wait_for("changed since you saw it")
        assert "Anna-title" in screen and "Bob-title" in screen and "set by anna" in screen
        bob.keys("t")  # keep theirs
        bob.wait_for("Kept anna's Job title")
        for terminal in (anna, bob):
            terminal.keys("Escape")
            terminal.wait_gone("Why this score")
            terminal.keys("q")
    finally:
        anna.close()
        bob.close()
    with Workspace.open(database, None, create=False) as workspace:
        document = workspace.get(target)
    assert document["title"] == "Anna-title"
    assert not any(entry.get("to") == "Bob-title" for entry in document["history"])
