"""Benchmark: what ``funnel serve`` adds to a key press, over loopback.

    python tests/benchmarks/bench_serve.py [--contacts 2000] [--presses 60]

The same app runs twice on a pseudo-terminal this script holds: once locally
(``funnel --db D``), once through ``ssh -tt`` to a ``funnel serve`` on 127.0.0.1.
Key presses go to the two apps in turn (j and k: the cursor moves, two rows are
redrawn), so both see the same state of the machine; for each press it times, at the pty, the first byte of the answer and the end of the frame (the last
byte before the output stays quiet for 40 ms; the quiet time itself is not counted).
It prints the medians and 90th percentiles, the difference over SSH against the
30 ms budget, and the ratio ssh/local. Needs asyncssh and the OpenSSH client.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import re
import select
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from funnel.engine.demo.generate import generate_contacts  # noqa: E402
from funnel.engine.workspace.facade import Workspace  # noqa: E402

BUDGET_ADDED_MS = 30.0
QUIET_S = 0.040
SIZE = (120, 36)


class PtyClient:
    """A command on a pty of ours: write keys, time the bytes that come back."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", SIZE[1], SIZE[0], 0, 0))
        self.process = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave,
                                        env=env, cwd=ROOT, start_new_session=True)
        os.close(slave)
        self.output = bytearray()

    def read(self, timeout: float) -> tuple[float, bytes] | None:
        ready, _, _ = select.select([self.master], [], [], timeout)
        if not ready:
            return None
        try:
            data = os.read(self.master, 65536)
        except OSError:
            data = b""
        if not data:
            raise RuntimeError("the program ended:\n" + self.tail())
        self.output += data
        return time.perf_counter(), data

    def tail(self) -> str:
        return re.sub(rb"\x1b\[[0-9;?<>]*[A-Za-z]", b"", bytes(self.output[-3000:])).decode(
            errors="replace")

    def wait_ready(self, marker: bytes, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while marker not in self.output:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{marker!r} never appeared:\n{self.tail()}")
            self.read(0.2)
        self.settle(1.0)

    def settle(self, quiet: float) -> None:
        while self.read(quiet) is not None:
            pass

    def press(self, key: bytes) -> tuple[float, float]:
        """Seconds to the first byte and to the end of the frame."""
        self.settle(0.15)
        start = time.perf_counter()
        os.write(self.master, key)
        first = self.read(5)
        if first is None:
            raise RuntimeError(f"no answer to {key!r}")
        last = first[0]
        while (chunk := self.read(QUIET_S)) is not None:
            last = chunk[0]
        return first[0] - start, last - start

    def close(self) -> None:
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
        os.close(self.master)


def measure(clients: dict[str, PtyClient], presses: int) -> dict[str, tuple[list, list]]:
    """Press keys in both apps in turn, so both see the same state of the machine."""
    for client in clients.values():
        client.wait_ready(b"sort:")
    results: dict[str, tuple[list, list]] = {name: ([], []) for name in clients}
    for index in range(presses):
        for name, client in clients.items():
            first, frame = client.press(b"j" if index % 2 == 0 else b"k")
            results[name][0].append(first * 1000)
            results[name][1].append(frame * 1000)
    return results


def p90(values: list[float]) -> float:
    return statistics.quantiles(values, n=10)[-1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=2000)
    parser.add_argument("--presses", type=int, default=60)
    args = parser.parse_args()
    try:
        import asyncssh
    except ImportError:
        print("bench_serve: skipped: asyncssh is not installed")
        return 0
    if shutil.which("ssh") is None:
        print("bench_serve: skipped: the OpenSSH client (ssh) is not installed")
        return 0

    folder = Path(tempfile.mkdtemp(prefix="bench-serve-"))
    server = None
    try:
        db = folder / "leads.json"
        now = datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
        with Workspace.open(db, None, user="generator") as workspace:
            workspace.add_many(generate_contacts(args.contacts, 3, now), by="generator")
        key = asyncssh.generate_private_key("ssh-ed25519", comment="bench@laptop")
        (folder / "bench").write_bytes(key.export_private_key())
        (folder / "bench").chmod(0o600)
        (folder / "authorized_keys").write_bytes(key.export_public_key())
        env = {k: v for k, v in os.environ.items() if not k.startswith(("FUNNEL_", "TEXTUAL"))}
        env.update(TERM="xterm-256color", COLORTERM="truecolor",
                   XDG_DATA_HOME=str(folder / "data"), XDG_CONFIG_HOME=str(folder / "config"))
        log = folder / "serve.log"
        server = subprocess.Popen(
            [sys.executable, "-m", "funnel.tui.cli", "serve", "--db", str(db), "--port", "0",
             "--authorized-keys", str(folder / "authorized_keys"),
             "--host-key", str(folder / "hostkey"), "--idle-timeout", "0"],
            stdout=subprocess.DEVNULL, stderr=log.open("wb"), env=env, cwd=ROOT)
        deadline = time.monotonic() + 30
        while not (found := re.search(r"listening on 127\.0\.0\.1:(\d+)", log.read_text())):
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError("funnel serve did not start:\n" + log.read_text())
            time.sleep(0.05)
        port = found.group(1)
        print(f"bench_serve: {args.contacts} contacts, {args.presses} presses of j/k, "
              f"{SIZE[0]}x{SIZE[1]}, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, "
              f"{subprocess.run(['ssh', '-V'], capture_output=True, text=True).stderr.strip()}")

        commands = {
            "local": [sys.executable, "-m", "funnel.tui.cli", "--db", str(db), "--user", "bench"],
            "ssh": ["ssh", "-tt", "-F", "/dev/null", "-i", str(folder / "bench"), "-p", port,
                    "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                    "-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none",
                    "-o", "LogLevel=ERROR", "-o", "BatchMode=yes", "bench@127.0.0.1"],
        }
        clients = {name: PtyClient(argv, env) for name, argv in commands.items()}
        try:
            results = measure(clients, args.presses)
        finally:
            for client in clients.values():
                client.close()

        for index, label in ((0, "first byte"), (1, "frame complete")):
            local, remote = results["local"][index], results["ssh"][index]
            local_median, remote_median = statistics.median(local), statistics.median(remote)
            print(f"key press -> {label:<15} local  median {local_median:6.2f} ms  "
                  f"p90 {p90(local):6.2f} ms")
            print(f"key press -> {label:<15} ssh    median {remote_median:6.2f} ms  "
                  f"p90 {p90(remote):6.2f} ms")
            added = remote_median - local_median
            print(f"added by ssh ({label:<14})        {added:+6.2f} ms  budget "
                  f"{BUDGET_ADDED_MS:g} ms (x{max(added, 0) / BUDGET_ADDED_MS:.2f})  "
                  f"ratio ssh/local {remote_median / local_median:.2f}")
    finally:
        if server is not None and server.poll() is None:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(20)
            except subprocess.TimeoutExpired:
                server.kill()
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
