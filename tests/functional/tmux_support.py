"""Real terminals for the smoke tests: a program in tmux, its screen read back.

Every ``Terminal`` runs its own tmux server (a socket of its own, no user config), so
tests in parallel never meet and ``close()`` ends exactly what the test started.
Nothing sleeps a fixed time: ``poll`` re-reads a condition (the screen, a file) until it
holds or the time is up, and says what it waited for and what it last saw.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TypeVar

import pytest

T = TypeVar("T")

needs_tmux = pytest.mark.skipif(shutil.which("tmux") is None,
                                reason="tmux is not installed (.ci/run installs it)")


def poll(condition: Callable[[], T], what: str, timeout: float = 30.0,
         interval: float = 0.05, last: Callable[[], str] | None = None) -> T:
    """The first true value of ``condition()``, asked every ``interval`` seconds; an
    AssertionError naming ``what`` (and ``last()``, e.g. the screen) after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            seen = f"; last seen:\n{last()}" if last is not None else ""
            raise AssertionError(f"waited {timeout:.0f} s for {what}{seen}")
        time.sleep(interval)


class Terminal:
    """``command`` in a tmux window of ``width`` x ``height``, with ``env`` added to
    the environment, started in ``cwd``."""

    def __init__(self, command: Sequence[str], *, env: Mapping[str, str] | None = None,
                 cwd: Path | str | None = None, width: int = 80, height: int = 24) -> None:
        self.socket = f"funnel-test-{uuid.uuid4().hex[:12]}"
        self.name = "main"
        assignments = [f"{key}={value}" for key, value in (env or {}).items()]
        # COLUMNS and LINES (pytest-xdist's workers set them) would fix the app's size.
        line = " ".join(shlex.quote(part) for part in
                        ["env", "-u", "COLUMNS", "-u", "LINES", *assignments, *command])
        self.tmux("new-session", "-d", "-s", self.name, "-x", str(width), "-y", str(height),
                  *(["-c", str(cwd)] if cwd is not None else []), line)

    def tmux(self, *args: str) -> str:
        return subprocess.run(["tmux", "-L", self.socket, "-f", "/dev/null", *args],
                              capture_output=True, text=True, check=True,
                              timeout=30).stdout

    def keys(self, *keys: str) -> None:
        """tmux key names (``Enter``, ``Escape``, ``C-u``) or, after ``-l``, literal text."""
        self.tmux("send-keys", "-t", self.name, *keys)

    def screen(self, escapes: bool = False) -> str:
        """The visible screen (with its colour escapes if asked); "" once it is gone."""
        try:
            return self.tmux("capture-pane", "-p", *(["-e"] if escapes else []),
                             "-t", self.name)
        except subprocess.CalledProcessError:
            return ""

    def wait_until(self, test: Callable[[str], object], what: str,
                   timeout: float = 30.0) -> str:
        """The first screen that passes ``test``."""
        state = {"screen": ""}

        def check() -> str | None:
            state["screen"] = self.screen()
            return state["screen"] if test(state["screen"]) else None
        return poll(check, what, timeout, last=lambda: state["screen"])

    def wait_for(self, text: str, timeout: float = 30.0) -> str:
        """The first screen showing ``text``."""
        return self.wait_until(lambda screen: text in screen, repr(text), timeout)

    def wait_gone(self, text: str, timeout: float = 30.0) -> str:
        """The first screen no longer showing ``text``."""
        return self.wait_until(lambda screen: text not in screen, f"{text!r} to go",
                               timeout)

    def alive(self) -> bool:
        return subprocess.run(["tmux", "-L", self.socket, "has-session", "-t", self.name],
                              capture_output=True).returncode == 0

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True)
