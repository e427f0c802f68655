"""Keys typed the moment the list appears, in a real terminal.

The list is painted before it is sorted (a worker classifies everyone first). Keys
sent as soon as rows show, ``/ZZTARGET`` Enter ``e``, must filter and then open the
ZZTARGET contact for editing: not open whichever row happened to be first while the
filter was still waiting for the sort.

How long the sort takes decides whether the keys arrive before it is done: with
25,000 contacts they always did (the stress test, the database as reported). The
default test gets there with a few hundred: the app is started through a wrapper that
holds classification until the test creates a file, so the keys surely come first.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from funnel.engine.demo.generate import generate_contacts
from funnel.engine.model import utc_now
from funnel.engine.workspace.facade import Workspace

from tmux_support import Terminal, needs_tmux

pytestmark = needs_tmux
TARGET = "ZZTARGET Person"
KEYS = ("/", *"ZZTARGET", "Enter", "e")  # one tmux command: a burst, like a fast typist

# Runs the app with every classification waiting until the file named first exists.
HELD_APP = """
import os, sys, time
from funnel.engine.workspace.facade import Workspace
from funnel.tui.cli.main import main
gate = sys.argv.pop(1)
classify_all = Workspace.classify_all
def held(self, *args, **kwargs):
    while not os.path.exists(gate):
        time.sleep(0.02)
    return classify_all(self, *args, **kwargs)
Workspace.classify_all = held
raise SystemExit(main(sys.argv[1:]))
"""


def make_database(path: Path, count: int) -> Path:
    now = utc_now().replace(hour=0, minute=0, second=0, microsecond=0)
    contacts = list(generate_contacts(count, 1, now))
    # In the middle: neither the first row as stored nor the first when sorted.
    contacts[count // 2]["name"] = TARGET
    with Workspace.open(path, None, user="generator") as workspace:
        workspace.add_many(contacts, by="generator")
    return path


def start(command: list[str], database: Path, home: Path) -> Terminal:
    return Terminal([*command, "--db", str(database), "--user", "early"],
                    env={"TERM": "xterm-256color", "HOME": str(home),
                         "XDG_CONFIG_HOME": str(home / "config")},
                    width=100, height=30)


def wait_for_rows(terminal: Terminal, count: int) -> None:
    terminal.wait_until(lambda screen: f"of {count:,}" in screen and "Name" in screen,
                        "the list to appear", timeout=60)


def check_edits_the_target(screen: str) -> None:
    title = screen.splitlines()[0]
    assert TARGET in title, screen
    assert re.search(r"\b1 of 1\b", title), screen  # the card walks the filtered list
    assert f"Name: {TARGET}" in screen, screen


def test_filter_and_edit_typed_before_the_list_is_sorted(tmp_path: Path):
    database = make_database(tmp_path / "funnel.json", 300)
    gate = tmp_path / "sort-now"
    terminal = start([sys.executable, "-c", HELD_APP, str(gate)], database, tmp_path)
    try:
        wait_for_rows(terminal, 300)
        terminal.keys(*KEYS)
        # The filter line took the text at once; the e waits for the sorted list.
        screen = terminal.wait_until(
            lambda screen: "filter: ZZTARGET" in screen or "Enter saves" in screen,
            "the filter to be typed")
        assert "Enter saves" not in screen, screen  # no card on whatever row was first
        assert "sorting" in screen, screen
        gate.touch()
        check_edits_the_target(terminal.wait_for("Enter saves"))
    finally:
        terminal.close()


def test_filter_and_edit_typed_before_the_app_starts(tmp_path: Path):
    """Typed while Python is still starting: the terminal is in line mode then and
    turns Enter into a newline, which must still end the filter line."""
    database = make_database(tmp_path / "funnel.json", 300)
    gate = tmp_path / "sort-now"
    terminal = start([sys.executable, "-c", HELD_APP, str(gate)], database, tmp_path)
    try:
        terminal.keys(*KEYS)  # at once: the app is not even imported yet
        terminal.wait_until(lambda screen: "filter: ZZTARGET" in screen and "sorting" in screen,
                            "the filter typed before the start to show")
        gate.touch()
        screen = terminal.wait_until(
            lambda screen: "Enter saves" in screen or "ZZTARGETe" in screen,
            "the card, or the e typed into the filter line")
        check_edits_the_target(screen)
    finally:
        terminal.close()


@pytest.mark.stress
def test_filter_and_edit_typed_as_a_large_list_appears(tmp_path: Path):
    count = 25_000  # about the size the problem was reported at
    database = make_database(tmp_path / "large.json", count)
    terminal = start([sys.executable, "-m", "funnel.tui.cli"], database, tmp_path)
    try:
        wait_for_rows(terminal, count)
        terminal.keys(*KEYS)
        check_edits_the_target(terminal.wait_for("Enter saves", timeout=60))
    finally:
        terminal.close()
