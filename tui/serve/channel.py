"""One SSH session channel: a terminal running the app for one user.

Bytes go from the channel to the app's pseudo-terminal and back; window changes,
end of input and the app's exit are forwarded; an idle or closing session is ended
with a one-line reason. Window sizes are clamped (see ``pty.clamp_size``); the app
runs in the user's files folder with umask 077; a client that leaves takes its app
with it within ``HANGUP_GRACE`` seconds.
"""

from __future__ import annotations

import asyncio
import time

import asyncssh

from funnel.engine.errors import FunnelError

from funnel.tui.serve.folders import SESSION_UMASK
from funnel.tui.serve.hub import LOG, Hub
from funnel.tui.serve.pty import MAX_PIXELS, PtyProcess, clamp_size

# Nobody sees the app of a client that has left: SIGTERM (it finishes a commit and
# exits, typically in well under a second), SIGKILL after this (the store survives it).
HANGUP_GRACE = 1.5


def window(width: int, height: int, pixwidth: int, pixheight: int) -> tuple[int, int, int, int]:
    columns, rows = clamp_size(width, height)
    return columns, rows, min(pixwidth, MAX_PIXELS), min(pixheight, MAX_PIXELS)


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
            self.size = window(*term_size)
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
        mine = self.hub.config.max_sessions_per_user
        if self.hub.sessions_of(self.user) >= mine:
            LOG.warning("refused a session for %s at %s: %d of theirs open "
                        "(--max-sessions-per-user)", self.user, self.address, mine)
            self._refuse(f"you have {mine} sessions open already (at most {mine} per "
                         "person); close one and try again.")
            return
        try:
            folder = self.hub.user_folder(self.user)
        except FunnelError as error:
            LOG.error("refused a session for %s at %s: %s", self.user, self.address, error)
            self._refuse("your files folder is not usable; tell whoever runs the server.")
            return
        env = self.hub.app_env(self.user, self.term, dict(self._channel().get_environment()))
        columns, rows, xpixels, ypixels = self.size
        self.process = PtyProcess(self.hub.app_argv(self.user, folder), env, columns=columns,
                                  rows=rows, on_output=self._output, on_exit=self._exited,
                                  cwd=None if folder is None else str(folder),
                                  umask=SESSION_UMASK)
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

    def _channel(self) -> asyncssh.SSHServerChannel:
        assert self.channel is not None, "asyncssh opens the channel before any request"
        return self.channel

    def _refuse(self, message: str) -> None:
        self._send(f"funnel: {message}\r\n".encode(), stderr=True)
        self._exit(1)
        self.finished.set()

    def _exit(self, status: int) -> None:
        if not self._closed:
            try:
                self._channel().exit(status)
            except (BrokenPipeError, ConnectionError):
                pass

    # -- bytes both ways ---------------------------------------------------------
    def data_received(self, data: bytes, datatype) -> None:
        self.last_input = time.monotonic()
        if self.process is not None and not self.process.write(data):
            self._channel().pause_reading()

    def _input_drained(self) -> None:
        if not self._closed:
            self._channel().resume_reading()

    def _output(self, data: bytes) -> None:
        self._send(data)

    def _send(self, data: bytes, *, stderr: bool = False) -> None:
        if self._closed:
            return
        try:
            channel = self._channel()
            (channel.write_stderr if stderr else channel.write)(data)
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
        if not (width and height):
            return  # "size unknown": keep the last one
        self.size = window(width, height, pixwidth, pixheight)
        if self.process is not None:
            self.process.resize(*self.size)

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
                asyncio.ensure_future(self.process.terminate(
                    min(HANGUP_GRACE, self.hub.config.shutdown_grace)))
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
