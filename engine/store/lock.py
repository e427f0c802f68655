"""The writer lock: an exclusive ``flock`` on ``PATH.lock``, held for the few
milliseconds of a commit (and by ``funnel check`` for its whole run)."""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path

from funnel.engine.errors import StorageError
from funnel.engine.store.layout import FILE_MODE, write_error

LOCK_TIMEOUT = 10.0  # seconds a writer waits for another before giving up


class FileLock:
    """An exclusive ``flock`` on ``path``, re-entrant within this process."""

    def __init__(self, path: Path, timeout: float = LOCK_TIMEOUT) -> None:
        self.path = path
        self.timeout = timeout
        self._descriptor: int | None = None
        self._depth = 0

    @property
    def held(self) -> bool:
        """Whether this process holds the lock."""
        return self._depth > 0

    def acquire(self, timeout: float | None = None) -> None:
        """Take the lock, waiting up to ``timeout`` (default: the lock's own) seconds."""
        if self._depth:
            self._depth += 1
            return
        wait = self.timeout if timeout is None else timeout
        try:
            descriptor = os.open(self.path, os.O_RDWR | os.O_CREAT, FILE_MODE)
        except OSError as error:
            raise write_error(self.path, error) from None
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    os.close(descriptor)
                    raise StorageError(f"{self.path.with_suffix('')}: locked by another "
                                       f"process for more than {wait:g} s; try again"
                                       ) from None
                time.sleep(0.002)
        self._descriptor = descriptor
        self._depth = 1

    def held_elsewhere(self) -> bool:
        """True while another process holds the lock (this one does not)."""
        if self._depth:
            return False
        try:
            descriptor = os.open(self.path, os.O_RDONLY)
        except OSError:
            return False
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        except OSError:
            return False
        finally:
            os.close(descriptor)  # closing also releases a lock taken just now
        return False

    def release(self) -> None:
        self._depth -= 1
        if self._depth == 0 and self._descriptor is not None:
            fcntl.flock(self._descriptor, fcntl.LOCK_UN)
            os.close(self._descriptor)
            self._descriptor = None
