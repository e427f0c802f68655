"""Smoke test in a real terminal: the app in tmux at 80x24, driven by key presses.

Every step waits for what the screen shows (``tmux_support``), never for a fixed time:
a key sent before the app is ready for it is a bug this test is there to catch.
"""

from __future__ import annotations

import re
import shlex
import sys
from pathlib import Path

import pytest

from funnel.engine.demo.generate import generate_contacts
from funnel.engine.model import utc_now
from funnel.engine.workspace.facade import Workspace

from tmux_support import Terminal, needs_tmux, poll

pytestmark = needs_tmux
CONTACTS = 300


@pytest.fixture
def database(tmp_path: Path) -> Path:
    db = tmp_path / "smoke.json"
    with Workspace.open(db, None, user="generator") as workspace:
        now = utc_now().replace(hour=0, minute=0, second=0, microsecond=0)
        workspace.add_many(generate_contacts(CONTACTS, 5, now), by="generator")
    return db


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {"TERM": "xterm-256color", "HOME": str(tmp_path),
           "XDG_CONFIG_HOME": str(tmp_path / "config")}
    env.update(extra)
    return env


def _shown(screen: str) -> int:
    found = re.search(rf"([\d,]+) of {CONTACTS}", screen)
    return int(found.group(1).replace(",", "")) if found else CONTACTS


def test_triage_in_a_real_terminal(database: Path, tmp_path: Path):
    exit_file = tmp_path / "exit"
    app = shlex.join([sys.executable, "-m", "funnel.tui.cli", "--db", str(database),
                      "--user", "smoke"])
    terminal = Terminal(["sh", "-c", f"{app}; echo $? > {shlex.quote(str(exit_file))}"],
                        env=_env(tmp_path))
    try:
        screen = terminal.wait_for(f"{CONTACTS} of {CONTACTS}")
        assert "1 Contacts" in screen and "Name" in screen
        terminal.keys("j", "j", "Enter")
        terminal.wait_for("Why this score")
        terminal.keys("Escape")
        # The card is gone from the screen: the Escape was read on its own, so the "/"
        # that follows cannot be read with it as alt+/.
        terminal.wait_gone("Why this score")
        terminal.wait_for(f"{CONTACTS} of {CONTACTS}")
        terminal.keys("/")
        terminal.wait_for("(Enter keeps, Esc")  # the filter line is open and focused
        terminal.keys("-l", "temp:hot")
        terminal.wait_for("temp:hot")
        terminal.keys("Enter")
        terminal.wait_for("filter: temp:hot")
        # The filtered list follows the typing.
        screen = terminal.wait_until(lambda screen: _shown(screen) < CONTACTS,
                                     "the list to shrink to the hot contacts")
        assert 0 < _shown(screen) < CONTACTS
        terminal.keys("o")
        terminal.wait_for("Owner (empty: nobody)")
        terminal.keys("C-u")
        terminal.keys("-l", "smoke")
        # What was typed shows in the dialog: no key was lost while it opened.
        terminal.wait_until(lambda screen: "Owner (empty: nobody)" in screen
                            and re.search(r"\bsmoke\b", screen), "'smoke' typed in the dialog")
        terminal.keys("Enter")
        terminal.wait_for("Assigned to smoke")
        terminal.keys("?")
        terminal.wait_for("Funnel: keys")
        terminal.keys("Escape")
        terminal.wait_gone("Funnel: keys")
        terminal.keys("q")
        poll(exit_file.exists, "the app to exit after q", last=terminal.screen)
        poll(lambda: exit_file.read_text().strip(), "the exit status to be written")
        assert exit_file.read_text().strip() == "0"
    finally:
        terminal.close()
    with Workspace.open(database, None, create=False) as workspace:
        owned = [contact_id for contact_id, document in workspace.documents()
                 if document.get("owner") == "smoke"]
    assert len(owned) == 1, owned  # the one hot contact under the cursor


def test_no_color_means_no_colour(database: Path, tmp_path: Path):
    terminal = Terminal([sys.executable, "-m", "funnel.tui.cli", "--db", str(database)],
                        env=_env(tmp_path, NO_COLOR="1"))
    try:
        terminal.wait_for(f"{CONTACTS} of {CONTACTS}")
        # The first paint can come in parts: take the screen once it stops changing.
        previous = {"screen": ""}

        def settled() -> str | None:
            screen = terminal.screen(escapes=True)
            same, previous["screen"] = screen == previous["screen"], screen
            return screen if same and f"{CONTACTS} of {CONTACTS}" in screen else None
        coloured = poll(settled, "the screen to stop changing", interval=0.2,
                        last=lambda: previous["screen"])
        # Textual goes monochrome under NO_COLOR: every colour left is a grey.
        cube_greys = {16 + 36 * level + 6 * level + level for level in range(6)}
        greys = set(range(232, 256)) | {0, 7, 8, 15} | cube_greys
        palette = [int(n) for n in re.findall(r"(?:38|48);5;(\d+)", coloured)]
        truecolour = re.findall(r"(?:38|48);2;(\d+);(\d+);(\d+)", coloured)
        assert palette or truecolour, "expected some styling"
        assert all(n in greys for n in palette), sorted(set(palette) - greys)
        assert all(r == g == b for r, g, b in truecolour), truecolour[:5]
        terminal.keys("q")
        poll(lambda: not terminal.alive(), "the app to exit after q", last=terminal.screen)
    finally:
        terminal.close()
