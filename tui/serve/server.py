"""``funnel serve``: every authorized SSH user gets a live Funnel session.

One host keeps the database; each salesperson connects with an ordinary SSH client.
Each session is its own process (``python -I -m funnel.tui.serve.session --db D --user NAME``:
``-I`` so nothing in the working directory or the environment can shadow Funnel's modules)
on its own pseudo-terminal; the server authenticates, moves bytes between the SSH
channel and the pty, forwards window changes, and cleans up. Other sessions' commits
reach every app through the store (the app polls it), not through the server.

Only public keys listed in the authorized-keys file get in (see ``serve_keys``); no
passwords, no shell, no commands, no forwarding of any kind, no SFTP, no X11. Before
login, connections are limited in number (``admission``) and in time (the login
grace); running out of file descriptors is one log line, not a traceback per accept().
"""

from __future__ import annotations

import asyncio
import errno
import logging
import resource
import signal
import sys
import time

import asyncssh

from funnel.engine.errors import FunnelError

from funnel.tui.serve.channel import FunnelSession
from funnel.tui.serve.folders import prepare_files_root
from funnel.tui.serve.hostkey import load_or_create_host_key
from funnel.tui.serve.hub import LOG, Hub, ServeConfig, duration
from funnel.tui.serve.keys import AuthorizedKey, KeyRing

__all__ = ["ServeConfig", "run"]


def _address(peer) -> str:
    if not peer:
        return "?"
    host, port = peer[0], peer[1]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


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
        self._shed = False

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self.connection = conn
        self.address = _address(conn.get_extra_info("peername"))
        self.hub.connections.add(self)
        if not self.hub.gate.admit(self):
            self.shed()

    @property
    def silent(self) -> bool:
        """Not even an SSH version line from the client so far (an idle socket)."""
        return self.connection is None or self.connection.get_extra_info(
            "client_version") is None

    def shed(self) -> None:
        self._shed = True  # the gate logs the burst; no line per connection
        if self.connection is not None:
            self.connection.abort()

    def connection_lost(self, exc: Exception | None) -> None:
        self.hub.connections.discard(self)
        self.hub.gate.left(self)
        why = f" ({exc})" if exc and str(exc) else ""
        if self._shed or (self.user is None and self.silent):
            return  # idle sockets and port scans: counted by the gate, not logged
        if self.user:
            LOG.info("disconnected %s from %s after %s%s", self.user, self.address,
                     duration(time.monotonic() - self._since), why)
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
        self.hub.gate.left(self)
        LOG.info("connected %s from %s (key %s, line %d; login name %r)", self.user,
                 self.address, self.key.fingerprint, self.key.line, self.login)

    # -- channels: sessions only (forwarding requests keep asyncssh's refusals) ---
    def session_requested(self) -> FunnelSession | bool:
        if self.user is None or self.hub.closing:
            return False
        return FunnelSession(self.hub, self.user, self.address)



async def serve(config: ServeConfig, keyring: KeyRing, host_key, *, created: bool = False,
                ready: asyncio.Future | None = None) -> int:
    hub = Hub(config, keyring)
    loop = asyncio.get_running_loop()
    loop.set_exception_handler(_exception_handler(hub))
    try:
        acceptor = await asyncssh.listen(
            config.host, config.port, config=None, server_factory=lambda: FunnelSSHServer(hub),
            server_host_keys=[host_key], encoding=None, line_editor=False,
            public_key_auth=True, password_auth=False, kbdint_auth=False,
            host_based_auth=False, gss_auth=False, gss_kex=False,
            agent_forwarding=False, x11_forwarding=False, allow_scp=False,
            login_timeout=config.login_grace, keepalive_interval=30, keepalive_count_max=3)
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
             "%d key%s for %s · at most %d session%s (%d per user) · idle timeout %s · "
             "files %s",
             config.host, port, host_key.get_fingerprint("sha256"),
             host_key.get_algorithm(), _database(config), len(keyring.keys),
             "" if len(keyring.keys) == 1 else "s", ", ".join(keyring.users()),
             config.max_sessions, "" if config.max_sessions == 1 else "s",
             config.max_sessions_per_user,
             duration(config.idle_timeout) if config.idle_timeout else "off",
             f"in {config.files}/USER" if config.files else "off")
    stop = asyncio.Event()
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


def _exception_handler(hub: Hub):
    """asyncio's handler, except for accept() failing for want of descriptors: the
    loop retries by itself a second later; the gate sheds idle connections and says
    so once, instead of a traceback per retry."""
    def handle(loop: asyncio.AbstractEventLoop, context: dict) -> None:
        error = context.get("exception")
        if isinstance(error, OSError) and error.errno in (errno.EMFILE, errno.ENFILE) \
                and "accept" in str(context.get("message", "")):
            hub.gate.out_of_descriptors(error)
            return
        loop.default_exception_handler(context)
    return handle


def raise_descriptor_limit() -> None:
    """Every connection and session takes descriptors: use all the system allows."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 1 << 20), hard))
        except (ValueError, OSError):
            pass


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
    for option, value in (("--max-sessions", config.max_sessions),
                          ("--max-sessions-per-user", config.max_sessions_per_user),
                          ("--max-unauthenticated", config.max_unauthenticated)):
        if value < 1:
            raise FunnelError(f"serve: {option} must be 1 or more")
    if not 0 < config.login_grace <= 3600:
        raise FunnelError("serve: --login-grace must be a number of seconds, more than 0 "
                          "and at most 3600")
    if config.idle_timeout < 0:
        raise FunnelError("serve: --idle-timeout must be 0 (never) or a number of seconds")
    keyring = KeyRing(config.authorized_keys)
    if config.files is not None:  # created (0700) now, so a mistake shows at once
        config.files = prepare_files_root(config.files)
    host_key, created = load_or_create_host_key(config.host_key)
    setup_logging()
    raise_descriptor_limit()
    return asyncio.run(serve(config, keyring, host_key, created=created))
