"""``funnel serve``: every authorized SSH user gets a live Funnel session.

One host keeps the database; each salesperson connects with an ordinary SSH client.
Each session is its own process (``python -I -m funnel.tui.serve.session --db D --user NAME``:
``-I`` so nothing in the working directory or the environment can shadow Funnel's modules)
on its own pseudo-terminal; the server authenticates, moves bytes between the SSH
channel and the pty, forwards window changes, and cleans up. Other sessions' commits
reach every app through the store (the app polls it), not through the server.

Only public keys listed in the authorized-keys file get in (see ``serve_keys``); no
passwords, no shell, no commands, no forwarding of any kind, no SFTP, no X11.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import asyncssh

from funnel.engine.errors import FunnelError

from funnel.tui.serve.hostkey import load_or_create_host_key
from funnel.tui.serve.keys import AuthorizedKey, KeyRing
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
    shutdown_grace: float = 10.0  # seconds each app gets to exit on shutdown
    app_args: list[str] = field(default_factory=list)  # e.g. --rules FILE for every app
    contacts: int | None = None  # for the startup line
    python: str = sys.executable


def _from_client(name: str) -> bool:
    return name in CLIENT_ENV or (name.startswith("LC_") and name[3:].isalpha())


def _address(peer) -> str:
    if not peer:
        return "?"
    host, port = peer[0], peer[1]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class Hub:
    """What the whole server shares: configuration, keys, the live sessions."""

    def __init__(self, config: ServeConfig, keyring: KeyRing) -> None:
        self.config = config
        self.keyring = keyring
        self.sessions: set[FunnelSession] = set()
        self.connections: set[FunnelSSHServer] = set()
        self.closing = False

    def app_argv(self, user: str) -> list[str]:
        return [self.config.python, "-I", "-m", "funnel.tui.serve.session", "--db", str(self.config.db),
                f"--user={user}", *self.config.app_args]

    def app_env(self, user: str, term: str, client_env: dict[str, str]) -> dict[str, str]:
        env = {name: value for name, value in os.environ.items()
               if not _from_client(name)}
        env.update({name: value for name, value in client_env.items()
                    if _from_client(name) and value.isprintable() and len(value) < 256})
        env["TERM"] = term if term and term.isprintable() else "xterm-256color"
        env["FUNNEL_USER"] = user
        env["TEXTUAL_DRIVER"] = DRIVER
        env.pop("TEXTUAL", None)  # no devtools console for served sessions
        return env

    def check_idle(self) -> None:
        limit = self.config.idle_timeout
        now = time.monotonic()
        for session in list(self.sessions):
            if limit and now - session.last_input >= limit:
                session.end(f"disconnected after {_duration(limit)} without a key press",
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


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"


class FunnelSSHServer(asyncssh.SSHServer):
    """One SSH connection: public-key authentication, then sessions."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.connection: asyncssh.SSHServerConnection | None = None
        self.address = "?"
        self.login = ""
        self.key: AuthorizedKey | None = None
        self.user: str | None = None
        self._refused: set[str] = set()
        self._since = time.monotonic()

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self.connection = conn
        self.address = _address(conn.get_extra_info("peername"))
        self.hub.connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.hub.connections.discard(self)
        why = f" ({exc})" if exc and str(exc) else ""
        if self.user:
            LOG.info("disconnected %s from %s after %s%s", self.user, self.address,
                     _duration(time.monotonic() - self._since), why)
        else:
            offered = f", offered {', '.join(sorted(self._refused))}" if self._refused else ""
            LOG.info("refused %s (login name %r): not authenticated%s%s", self.address,
                     self.login, offered, why)

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()

    # -- authentication: public keys from the authorized-keys file only ---------
    def begin_auth(self, username: str) -> bool:
        self.login = username
        problem = self.hub.keyring.reload_if_changed()
        if problem:
            LOG.warning("authorized keys: %s", problem)
        return True  # authentication is always required

    def public_key_auth_supported(self) -> bool:
        return True

    def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
        entry = self.hub.keyring.find(key.public_data)
        if entry is None:
            self._refused.add(key.get_fingerprint("sha256"))
            return False
        self.key = entry  # asyncssh checks the signature; auth_completed confirms it
        return True

    def password_auth_supported(self) -> bool:
        return False

    def kbdint_auth_supported(self) -> bool:
        return False

    def host_based_auth_supported(self) -> bool:
        return False

    def auth_completed(self) -> None:
        assert self.key is not None
        self.user = self.key.user
        self._since = time.monotonic()
        LOG.info("connected %s from %s (key %s, line %d; login name %r)", self.user,
                 self.address, self.key.fingerprint, self.key.line, self.login)

    # -- channels: sessions only (forwarding requests keep asyncssh's refusals) ---
    def session_requested(self) -> FunnelSession | bool:
        if self.user is None or self.hub.closing:
            return False
        return FunnelSession(self.hub, self.user, self.address)


class FunnelSession(asyncssh.SSHServerSession):
    """One session channel: a terminal running the app for one user."""

    def __init__(self, hub: Hub, user: str, address: str) -> None:
        self.hub = hub
        self.user = user
        self.address = address
        self.channel: asyncssh.SSHServerChannel | None = None
        self.term: str | None = None
        self.size = (80, 24, 0, 0)
        self.process: PtyProcess | None = None
        self.last_input = time.monotonic()
        self.finished = asyncio.Event()
        self._closed = False  # the channel is gone
        self._terminating = False
        self._ending = ""  # what to tell the user when the server ends the session

    def connection_made(self, chan: asyncssh.SSHServerChannel) -> None:
        self.channel = chan

    def pty_requested(self, term_type: str, term_size, term_modes) -> bool:
        self.term = term_type
        if term_size and term_size[0] and term_size[1]:
            self.size = tuple(term_size)
        return True

    def shell_requested(self) -> bool:
        return True  # "a shell" here is the app; nothing else is ever run

    def exec_requested(self, command: str) -> bool:
        LOG.info("refused a command from %s at %s: %r (only the app runs here)",
                 self.user, self.address, command[:80])
        return False

    def subsystem_requested(self, subsystem: str) -> bool:
        LOG.info("refused subsystem %r for %s at %s", subsystem[:40], self.user, self.address)
        return False

    def break_received(self, msec: int) -> bool:
        return False

    def session_started(self) -> None:
        if self.term is None:
            self._refuse("Funnel needs a terminal: connect with ssh -t (or without a "
                         "command).")
            return
        if self.hub.closing:
            self._refuse("the server is shutting down.")
            return
        limit = self.hub.config.max_sessions
        if len(self.hub.sessions) >= limit:
            LOG.warning("refused a session for %s at %s: %d sessions open (--max-sessions)",
                        self.user, self.address, limit)
            self._refuse(f"all sessions are in use (at most {limit}); try again later.")
            return
        env = self.hub.app_env(self.user, self.term, dict(self.channel.get_environment()))
        columns, rows, xpixels, ypixels = self.size
        self.process = PtyProcess(self.hub.app_argv(self.user), env, columns=columns,
                                  rows=rows, on_output=self._output, on_exit=self._exited)
        self.process.on_input_drained(self._input_drained)
        try:
            self.process.start()
        except OSError as error:
            LOG.error("cannot start the app for %s: %s", self.user, error)
            self._refuse(f"the app could not be started ({error.strerror}).")
            return
        self.hub.sessions.add(self)
        LOG.info("session started for %s at %s: %dx%d %s (pid %d, %d open)", self.user,
                 self.address, columns, rows, env["TERM"], self.process.pid,
                 len(self.hub.sessions))

    def _refuse(self, message: str) -> None:
        self._send(f"funnel: {message}\r\n".encode(), stderr=True)
        self._exit(1)
        self.finished.set()

    def _exit(self, status: int) -> None:
        if not self._closed:
            try:
                self.channel.exit(status)
            except (BrokenPipeError, ConnectionError):
                pass

    # -- bytes both ways ---------------------------------------------------------
    def data_received(self, data: bytes, datatype) -> None:
        self.last_input = time.monotonic()
        if self.process is not None and not self.process.write(data):
            self.channel.pause_reading()

    def _input_drained(self) -> None:
        if not self._closed:
            self.channel.resume_reading()

    def _output(self, data: bytes) -> None:
        self._send(data)

    def _send(self, data: bytes, *, stderr: bool = False) -> None:
        if self._closed:
            return
        try:
            (self.channel.write_stderr if stderr else self.channel.write)(data)
        except (BrokenPipeError, ConnectionError):  # the client is closing the channel
            pass

    def pause_writing(self) -> None:
        if self.process is not None:
            self.process.pause_output()

    def resume_writing(self) -> None:
        if self.process is not None:
            self.process.resume_output()

    def terminal_size_changed(self, width: int, height: int, pixwidth: int,
                              pixheight: int) -> None:
        self.size = (width, height, pixwidth, pixheight)
        if self.process is not None and width and height:
            self.process.resize(width, height, pixwidth, pixheight)

    def eof_received(self) -> bool:
        self.end(None, reason="end of input")
        return True  # keep the channel until the app has exited

    # -- ending ------------------------------------------------------------------
    def end(self, message: str | None, *, reason: str) -> None:
        """Ask the app to exit (SIGTERM: it finishes what it commits), SIGKILL after
        the grace period; ``message`` is shown to the user once the app is gone."""
        if self.process is None or not self.process.running or self._terminating:
            return
        self._terminating = True
        self._ending = message or ""
        LOG.info("ending the session of %s at %s: %s", self.user, self.address, reason)
        asyncio.ensure_future(self.process.terminate(self.hub.config.shutdown_grace))

    def connection_lost(self, exc: Exception | None) -> None:
        self._closed = True
        if self.process is not None and self.process.running:
            self.process.discard_output()  # never block the app on a dead channel
            if not self._terminating:
                self._terminating = True
                asyncio.ensure_future(
                    self.process.terminate(self.hub.config.shutdown_grace))
        elif self.process is None:
            self.finished.set()

    def _exited(self, status: int) -> None:
        self.hub.sessions.discard(self)
        LOG.info("session ended for %s at %s (%s)", self.user, self.address,
                 f"exit status {status}" if status >= 0 else f"signal {-status}")
        self.finished.set()
        if self._closed:
            return
        if self._ending:
            self._send(f"\r\nfunnel: {self._ending}\r\n".encode(), stderr=True)
        self._exit(status if status >= 0 else 128 - status)


async def serve(config: ServeConfig, keyring: KeyRing, host_key, *, created: bool = False,
                ready: asyncio.Future | None = None) -> int:
    hub = Hub(config, keyring)
    try:
        acceptor = await asyncssh.listen(
            config.host, config.port, config=None, server_factory=lambda: FunnelSSHServer(hub),
            server_host_keys=[host_key], encoding=None, line_editor=False,
            public_key_auth=True, password_auth=False, kbdint_auth=False,
            host_based_auth=False, gss_auth=False, gss_kex=False,
            agent_forwarding=False, x11_forwarding=False, allow_scp=False,
            login_timeout=30, keepalive_interval=30, keepalive_count_max=3)
    except OSError as error:
        where = f"{config.host}:{config.port}"
        if error.errno == 98 or "address already in use" in str(error).lower():
            raise FunnelError(f"{where}: the port is already in use (another funnel serve "
                              "or sshd?); choose another with --port") from None
        if error.errno == 13:
            raise FunnelError(f"{where}: not allowed to listen there (ports below 1024 "
                              "need root); choose another with --port") from None
        raise FunnelError(f"{where}: cannot listen ({error.strerror or error}); check "
                          "--host and --port") from None
    port = acceptor.get_port()
    if created:
        LOG.info("created host key %s", config.host_key)
    LOG.info("funnel serve: listening on %s:%d · host key %s (%s) · database %s · "
             "%d key%s for %s · at most %d session%s · idle timeout %s",
             config.host, port, host_key.get_fingerprint("sha256"),
             host_key.get_algorithm(), _database(config), len(keyring.keys),
             "" if len(keyring.keys) == 1 else "s", ", ".join(keyring.users()),
             config.max_sessions, "" if config.max_sessions == 1 else "s",
             _duration(config.idle_timeout) if config.idle_timeout else "off")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        loop.add_signal_handler(signum, stop.set)
    if ready is not None:
        ready.set_result(port)
    idle = None
    if config.idle_timeout:
        idle = asyncio.ensure_future(_idle_checks(hub, min(config.idle_timeout / 4, 15)))
    try:
        await stop.wait()
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            loop.remove_signal_handler(signum)
        if idle is not None:
            idle.cancel()
        acceptor.close()
        await hub.shutdown()
        for session in list(hub.sessions):  # still there after the grace period
            if session.process is not None:
                session.process.close()
        await acceptor.wait_closed()
        LOG.info("funnel serve: stopped")
    return 0


def _database(config: ServeConfig) -> str:
    if config.contacts is None:
        return str(config.db)
    return f"{config.db} ({config.contacts:,} contacts)"


async def _idle_checks(hub: Hub, every: float) -> None:
    while True:
        await asyncio.sleep(every)
        hub.check_idle()


def setup_logging() -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%Y-%m-%d %H:%M:%S"))
    LOG.addHandler(handler)
    LOG.setLevel(logging.INFO)
    LOG.propagate = False
    logging.getLogger("asyncssh").setLevel(logging.CRITICAL)  # we log what matters


def run(config: ServeConfig) -> int:
    """Check everything a user can get wrong, then serve until SIGTERM or Ctrl+C."""
    if not 0 <= config.port <= 65535:
        raise FunnelError(f"serve: --port {config.port}: use a port from 1 to 65535")
    if config.max_sessions < 1:
        raise FunnelError("serve: --max-sessions must be 1 or more")
    if config.idle_timeout < 0:
        raise FunnelError("serve: --idle-timeout must be 0 (never) or a number of seconds")
    keyring = KeyRing(config.authorized_keys)
    host_key, created = load_or_create_host_key(config.host_key)
    setup_logging()
    return asyncio.run(serve(config, keyring, host_key, created=created))
