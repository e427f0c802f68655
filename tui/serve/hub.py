"""What the whole SSH server shares: its configuration, the key ring, the live
connections and sessions, the login gate, and how each session's app process is
started (its argv, environment and files folder).

Sessions and connections are seen through small protocols, so this module does not
import the asyncssh classes that use it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from funnel.tui.serve.admission import LoginGate
from funnel.tui.serve.folders import user_folder
from funnel.tui.serve.keys import KeyRing
from funnel.tui.serve.pty import PtyProcess

LOG = logging.getLogger("funnel.serve")
# Variables a client may pass (OpenSSH: SendEnv, or SetEnv in ~/.ssh/config). Anything
# else a client sends is ignored: it must not be able to steer the child's Python.
CLIENT_ENV = ("COLORTERM", "LANG", "NO_COLOR")  # and LC_*
DRIVER = "funnel.tui.serve.driver:ServeDriver"


@dataclass
class ServeConfig:
    db: Path
    authorized_keys: Path
    host_key: Path
    host: str = "127.0.0.1"
    port: int = 2222
    idle_timeout: float = 3600.0  # seconds without a key press; 0: never
    max_sessions: int = 16
    max_sessions_per_user: int = 3
    max_unauthenticated: int = 32  # connections not logged in yet, at once
    login_grace: float = 10.0  # seconds a connection has to log in
    files: Path | None = None  # DIR: each user's files in DIR/USER; None: files are off
    shutdown_grace: float = 10.0  # seconds each app gets to exit on shutdown
    app_args: list[str] = field(default_factory=list)  # e.g. --rules FILE for every app
    contacts: int | None = None  # for the startup line
    python: str = sys.executable



class LiveSession(Protocol):
    user: str
    last_input: float
    process: PtyProcess | None
    finished: asyncio.Event

    def end(self, message: str | None, *, reason: str) -> None: ...


class LiveConnection(Protocol):
    def close(self) -> None: ...


def from_client(name: str) -> bool:
    return name in CLIENT_ENV or (name.startswith("LC_") and name[3:].isalpha())


class Hub:
    """What the whole server shares: configuration, keys, the live sessions."""

    def __init__(self, config: ServeConfig, keyring: KeyRing) -> None:
        self.config = config
        self.keyring = keyring
        self.sessions: set[LiveSession] = set()
        self.connections: set[LiveConnection] = set()
        self.gate = LoginGate(config.max_unauthenticated)
        self.closing = False

    def user_folder(self, user: str) -> Path | None:
        """The user's own folder (created on first use), or None when files are off."""
        if self.config.files is None:
            return None
        return user_folder(self.config.files, user)

    def sessions_of(self, user: str) -> int:
        return sum(1 for session in self.sessions if session.user == user)

    def app_argv(self, user: str, folder: Path | None) -> list[str]:
        files = ["--files-folder", str(folder)] if folder is not None else ["--no-files"]
        return [self.config.python, "-I", "-m", "funnel.tui.serve.session", "--db", str(self.config.db),
                f"--user={user}", *self.config.app_args, *files]

    def app_env(self, user: str, term: str, client_env: dict[str, str]) -> dict[str, str]:
        env = {name: value for name, value in os.environ.items()
               if not from_client(name)}
        env.update({name: value for name, value in client_env.items()
                    if from_client(name) and value.isprintable() and len(value) < 256})
        env["TERM"] = term if term and term.isprintable() else "xterm-256color"
        env["FUNNEL_USER"] = user
        env["TEXTUAL_DRIVER"] = DRIVER
        env.pop("TEXTUAL", None)  # no devtools console for served sessions
        # The session's size is its pty's: the server's own COLUMNS/LINES would pin
        # every app to that size and make it ignore the client's window changes.
        env.pop("COLUMNS", None)
        env.pop("LINES", None)
        return env

    def check_idle(self) -> None:
        limit = self.config.idle_timeout
        now = time.monotonic()
        for session in list(self.sessions):
            if limit and now - session.last_input >= limit:
                session.end(f"disconnected after {duration(limit)} without a key press",
                            reason="idle")

    async def shutdown(self) -> None:
        self.closing = True
        sessions = list(self.sessions)
        LOG.info("shutting down: %d session%s open", len(sessions),
                 "" if len(sessions) == 1 else "s")
        for session in sessions:
            session.end("the server is shutting down", reason="shutdown")
        waits = [session.finished.wait() for session in sessions]
        if waits:
            await asyncio.wait([asyncio.ensure_future(wait) for wait in waits],
                               timeout=self.config.shutdown_grace + 6)
        for connection in list(self.connections):
            connection.close()


def duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"
