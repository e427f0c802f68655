"""``funnel serve`` for the end-to-end tests: client keys, a server on a free port, the
OpenSSH client's command line. Used by test_serve.py and test_shadowing.py."""

from __future__ import annotations

import os
import re
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
                 cwd: Path = ROOT, command: list[str] | None = None) -> None:
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
            stdout=subprocess.DEVNULL, stderr=self.log.open("wb"), env=env, cwd=cwd)
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


def ssh_command(key: Path, port: int, login: str, *options: str,
                remote: tuple[str, ...] = ()) -> list[str]:
    return ["ssh", "-F", "/dev/null", "-i", str(key), "-p", str(port),
            "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
            "-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none", "-o", "LogLevel=ERROR",
            "-o", "BatchMode=yes", "-o", "ConnectTimeout=10", *options, f"{login}@127.0.0.1",
            *remote]
