"""Smoke test in a real terminal: the app in tmux at 80x24, driven by key presses."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(shutil.which("tmux") is None,
                                reason="tmux is not installed (.ci/run installs it)")


class Terminal:
    def __init__(self, command: str, env: dict[str, str], width: int = 80,
                 height: int = 24) -> None:
        self.name = f"funnel-{uuid.uuid4().hex[:8]}"
        self.socket = f"funnel-test-{os.getpid()}"
        environment = " ".join(f"{key}={value}" for key, value in env.items())
        subprocess.run(["tmux", "-L", self.socket, "new-session", "-d", "-s", self.name,
                        "-x", str(width), "-y", str(height),
                        f"env {environment} {command}"], check=True)

    def keys(self, *keys: str) -> None:
        subprocess.run(["tmux", "-L", self.socket, "send-keys", "-t", self.name, *keys],
                       check=True)

    def screen(self, escapes: bool = False) -> str:
        command = ["tmux", "-L", self.socket, "capture-pane", "-p", "-t", self.name]
        if escapes:
            command.insert(4, "-e")
        result = subprocess.run(command, capture_output=True, text=True)
        return result.stdout

    def wait_for(self, text: str, timeout: float = 20.0) -> str:
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if text in screen:
                return screen
            time.sleep(0.1)
        raise AssertionError(f"{text!r} never appeared; the screen was:\n{screen}")

    def wait_until(self, test, what: str, timeout: float = 20.0) -> str:
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if test(screen):
                return screen
            time.sleep(0.1)
        raise AssertionError(f"never saw {what}; the screen was:\n{screen}")

    def alive(self) -> bool:
        return subprocess.run(["tmux", "-L", self.socket, "has-session", "-t", self.name],
                              capture_output=True).returncode == 0

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True)


@pytest.fixture
def database(tmp_path: Path) -> Path:
    db = tmp_path / "smoke.json"
    subprocess.run([sys.executable, "-m", "funnel.tui.cli", "generate", "--db", str(db),
                    "--contacts", "300", "--seed", "5"], check=True, cwd=ROOT,
                   capture_output=True)
    return db


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {"TERM": "xterm-256color", "HOME": str(tmp_path), "PYTHONPATH": str(ROOT),
           "XDG_CONFIG_HOME": str(tmp_path / "config")}
    env.update(extra)
    return env


def test_triage_in_a_real_terminal(database: Path, tmp_path: Path):
    exit_file = tmp_path / "exit"
    command = (f"sh -c '{sys.executable} -m funnel.tui.cli --db {database} --user smoke; "
               f"echo $? > {exit_file}'")
    terminal = Terminal(command, _env(tmp_path))
    try:
        screen = terminal.wait_for("300 of 300")
        assert "1 Contacts" in screen and "Name" in screen
        terminal.keys("j", "j", "Enter")
        screen = terminal.wait_for("Why this score")
        terminal.keys("Escape")
        terminal.wait_for("300 of 300")
        terminal.wait_until(lambda screen: "Why this score" not in screen, "the card closed")
        time.sleep(0.3)  # ESC then "/" at once would read as alt+/ in any terminal
        terminal.keys("/")
        terminal.wait_for("(Enter keeps, Esc")  # the filter line is open and focused
        terminal.keys("-l", "temp:hot")
        terminal.keys("Enter")
        terminal.wait_for("filter: temp:hot")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # the filtered list follows the typing
            shown = int(re.search(r"([\d,]+) of 300", terminal.screen()).group(1))
            if shown < 300:
                break
            time.sleep(0.1)
        assert 0 < shown < 300
        terminal.keys("o")
        terminal.wait_for("Owner (empty: nobody)")
        time.sleep(0.3)
        terminal.keys("C-u")
        terminal.keys("-l", "smoke")
        terminal.keys("Enter")
        terminal.wait_for("Assigned to smoke")
        terminal.keys("?")
        terminal.wait_for("Funnel: keys")
        terminal.keys("Escape")
        time.sleep(0.3)
        terminal.keys("q")
        deadline = time.monotonic() + 10
        while not exit_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert exit_file.read_text().strip() == "0"
    finally:
        terminal.close()
    shown = subprocess.run([sys.executable, "-m", "funnel.tui.cli", "stats", "--db", str(database),
                            "--json"], capture_output=True, text=True, cwd=ROOT)
    assert shown.returncode == 0


def test_no_color_means_no_colour(database: Path, tmp_path: Path):
    command = f"{sys.executable} -m funnel.tui.cli --db {database}"
    terminal = Terminal(command, _env(tmp_path, NO_COLOR="1"))
    try:
        terminal.wait_for("300 of 300")
        time.sleep(0.5)
        coloured = terminal.screen(escapes=True)
        # Textual goes monochrome under NO_COLOR: every colour left is a grey.
        cube_greys = {16 + 36 * level + 6 * level + level for level in range(6)}
        greys = set(range(232, 256)) | {0, 7, 8, 15} | cube_greys
        palette = [int(n) for n in re.findall(r"(?:38|48);5;(\d+)", coloured)]
        truecolour = re.findall(r"(?:38|48);2;(\d+);(\d+);(\d+)", coloured)
        assert palette or truecolour, "expected some styling"
        assert all(n in greys for n in palette), sorted(set(palette) - greys)
        assert all(r == g == b for r, g, b in truecolour), truecolour[:5]
        terminal.keys("q")
    finally:
        terminal.close()
