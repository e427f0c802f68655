"""``funnel serve`` for the end-to-end tests: client keys, a server on a free port, the
OpenSSH client's command line, a tmux window running it. Used by test_serve.py,
test_serve_limits.py and test_shadowing.py."""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

try:
    import asyncssh
except ImportError:  # pragma: no cover - the tests that need it skip, saying why
    asyncssh = None

ROOT = Path(__file__).resolve().parents[2]


def write_key(folder: Path, name: str):
    key = asyncssh.generate_private_key("ssh-ed25519", comment=f"{name}@laptop")
    path = folder / name
    path.write_bytes(key.export_private_key())
    path.chmod(0o600)
    return path, key.export_public_key().decode().strip()


class Server:
    """``funnel serve`` on a free port of 127.0.0.1, started in ``cwd``; its log in
    ``folder``."""

    def __init__(self, folder: Path, db: Path, keys: Path, *extra: str,
                 cwd: Path = ROOT, command: list[str] | None = None,
                 fd_limit: int | None = None) -> None:
        self.log = folder / f"serve-{uuid.uuid4().hex[:6]}.log"
        # Not COLUMNS and LINES either (pytest-xdist's workers set them): a served app
        # would take them over its terminal's size and never follow a resize.
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("FUNNEL_", "TEXTUAL")) and k not in ("COLUMNS", "LINES")}
        env["XDG_DATA_HOME"] = str(folder / "data")
        env["XDG_CONFIG_HOME"] = str(folder / "config")
        self.process = subprocess.Popen(
            [*(command or [sys.executable, "-m", "funnel.tui.cli"]), "serve", "--db", str(db),
             "--port", "0",
             "--authorized-keys", str(keys), "--host-key", str(folder / "hostkey"), *extra],
            stdout=subprocess.DEVNULL, stderr=self.log.open("wb"), env=env, cwd=cwd,
            preexec_fn=None if fd_limit is None else lambda: _limit_descriptors(fd_limit))
        line = self.wait_log(r"listening on 127\.0\.0\.1:(\d+)")
        self.port = int(re.search(r"listening on 127\.0\.0\.1:(\d+)", line).group(1))

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_log(self, pattern: str, timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.text().splitlines():
                if re.search(pattern, line):
                    return line
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(f"{pattern!r} never logged; the log:\n{self.text()}")

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise


def _limit_descriptors(limit: int) -> None:
    """In the server's process before it starts: at most ``limit`` open files (soft and
    hard, so the server cannot raise it)."""
    import resource

    resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))


def ssh_command(key: Path, port: int, login: str, *options: str,
                remote: tuple[str, ...] = ()) -> list[str]:
    return ["ssh", "-F", "/dev/null", "-i", str(key), "-p", str(port),
            "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
            "-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none", "-o", "LogLevel=ERROR",
            "-o", "BatchMode=yes", "-o", "ConnectTimeout=10", *options, f"{login}@127.0.0.1",
            *remote]


class Terminal:
    """One tmux window running one ssh client."""

    def __init__(self, socket: str, command: list[str], width: int = 100,
                 height: int = 30) -> None:
        self.socket = socket
        self.name = f"ssh-{uuid.uuid4().hex[:6]}"
        line = "exec " + " ".join(shlex.quote(part) for part in command)
        self.tmux("new-session", "-d", "-s", self.name, "-x", str(width), "-y", str(height),
                  line)

    def tmux(self, *args: str) -> str:
        return subprocess.run(["tmux", "-L", self.socket, "-f", "/dev/null", *args],
                              capture_output=True, text=True, check=True).stdout

    def keys(self, *keys: str) -> None:
        self.tmux("send-keys", "-t", self.name, *keys)

    def screen(self, colours: bool = False) -> str:
        return self.tmux("capture-pane", "-p", *(["-e"] if colours else []), "-t", self.name)

    def wait_for(self, test, what: str, timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            try:
                screen = self.screen()
            except subprocess.CalledProcessError:
                break  # the window is gone: ssh exited
            if test(screen):
                return screen
            time.sleep(0.05)
        try:
            size = self.tmux("display-message", "-p", "-t", self.name,
                             "#{window_width}x#{window_height}").strip()
        except subprocess.CalledProcessError:
            size = "gone"
        raise AssertionError(f"never saw {what}; the window ({size}) showed:\n{screen}")

    def wait_text(self, text: str, timeout: float = 60) -> str:
        return self.wait_for(lambda screen: text in screen, repr(text), timeout)

    def client_pid(self) -> int:
        return int(self.tmux("display-message", "-p", "-t", self.name, "#{pane_pid}"))
