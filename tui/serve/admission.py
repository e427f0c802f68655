"""Who may wait at the door: the server's limit on connections not yet logged in.

Every connection costs a file descriptor and some memory before it has proved
anything, so at most ``--max-unauthenticated`` of them wait at once. When the limit
is reached, a new connection takes the place of the oldest one that has not even
said which SSH version it speaks (an idle socket: real clients send that at once), so
a flood of idle sockets cannot lock a real person out; when every waiting connection
is busy logging in, the new one is closed at once. The server running out of file
descriptors sheds idle waiting connections the same way. Each of these bursts is
logged once when it starts and once when it is over, never per connection.
"""

from __future__ import annotations

import logging
import time
from typing import Protocol

LOG = logging.getLogger("funnel.serve")
# asyncio retries accept() a second after it failed; this long without a failure and
# the shortage is over.
DESCRIPTOR_QUIET = 5.0


class Waiting(Protocol):
    """A connection that has not logged in yet."""

    @property
    def silent(self) -> bool:
        """It has sent nothing (not even its SSH version) so far."""
        ...

    def shed(self) -> None:
        """Close it at once, without a log line of its own."""
        ...


class LoginGate:
    """The connections that have not logged in yet, oldest first, and their limit."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.waiting: dict[Waiting, float] = {}  # insertion order: oldest first
        self._closed_in_burst = 0
        self._burst_since: float | None = None
        self._descriptors_short_since: float | None = None
        self._descriptors_short_last = 0.0

    def admit(self, connection: Waiting) -> bool:
        """True when ``connection`` may wait for its login; False: close it now."""
        self._descriptors_recovered()
        if len(self.waiting) >= self.limit:
            idle = self._oldest_silent()
            self._burst_started()
            self._closed_in_burst += 1
            if idle is None:
                return False
            self._shed(idle)
        self.waiting[connection] = time.monotonic()
        return True

    def left(self, connection: Waiting) -> None:
        """``connection`` logged in, or went away."""
        self.waiting.pop(connection, None)
        if self._burst_since is not None and len(self.waiting) < self.limit:
            LOG.warning("connections waiting to log in are below the limit again: %d "
                        "closed in %.0f s while it was reached", self._closed_in_burst,
                        time.monotonic() - self._burst_since)
            self._burst_since = None
            self._closed_in_burst = 0

    def out_of_descriptors(self, error: OSError) -> None:
        """accept() failed for want of file descriptors: close idle waiting connections
        (half of them, the oldest) so that people can get in once the kernel lets us."""
        silent = [connection for connection in self.waiting if connection.silent]
        idle = silent[:max(1, len(silent) // 2)]
        for connection in idle:
            self._shed(connection)
        self._descriptors_short_last = time.monotonic()
        if self._descriptors_short_since is None:
            self._descriptors_short_since = time.monotonic()
            LOG.error("out of file descriptors (%s): closed %d of the %d connections "
                      "waiting to log in (idle ones); new connections wait until "
                      "descriptors are free (raise ulimit -n, or lower "
                      "--max-unauthenticated)", error.strerror or error, len(idle),
                      len(self.waiting) + len(idle))

    def _descriptors_recovered(self) -> None:
        if self._descriptors_short_since is not None and \
                time.monotonic() - self._descriptors_short_last >= DESCRIPTOR_QUIET:
            LOG.warning("accepting connections again after %.1f s without file "
                        "descriptors", time.monotonic() - self._descriptors_short_since)
            self._descriptors_short_since = None

    def _oldest_silent(self) -> Waiting | None:
        return next((connection for connection in self.waiting if connection.silent), None)

    def _shed(self, connection: Waiting) -> None:
        self.waiting.pop(connection, None)
        connection.shed()

    def _burst_started(self) -> None:
        if self._burst_since is None:
            self._burst_since = time.monotonic()
            LOG.warning("%d connections are waiting to log in (--max-unauthenticated): "
                        "closing idle ones, refusing new ones until fewer wait",
                        len(self.waiting))
