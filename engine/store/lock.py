"""The writer lock: an exclusive ``flock`` on ``PATH.lock``, held for the few
milliseconds of a commit (and by ``funnel check`` for its whole run).

A lock on a file alone does not survive the file being removed while held: the
next writer would create a new file, lock that, and write beside the holder. So a
holder also takes a *shared* ``flock`` on the database's folder (which cannot be
removed while the database is in it), and the lock file is only ever created under
an *exclusive* ``flock`` of the folder: that waits until no writer in the folder
holds its lock, so nobody is still holding a removed file. After locking, a writer
checks that the file it locked is still the one at ``PATH.lock``, and starts again
if not. Writers of other databases in the same folder share the folder's lock, so
they do not wait for each other.
"""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path

from funnel.engine.errors import StorageError
from funnel.engine.store.layout import FILE_MODE, write_error

LOCK_TIMEOUT = 10.0  # seconds a writer waits for another before giving up


class FileLock:
    """An exclusive ``flock`` on ``path`` (guarded by its folder), re-entrant within
    this object."""

    def __init__(self, path: Path, timeout: float = LOCK_TIMEOUT) -> None:
        self.path = path
        self.timeout = timeout
        self._descriptor: int | None = None
        self._folder: int | None = None
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
        deadline = time.monotonic() + wait
        while True:
            descriptor = self._open(deadline, wait)
            folder = None
            try:
                self._wait(descriptor, fcntl.LOCK_EX, deadline, wait)
                folder = self._open_folder()
                self._wait(folder, fcntl.LOCK_SH, deadline, wait)
                if self._still_there(descriptor):
                    break
            except BaseException:
                _close(descriptor, folder)
                raise
            _close(descriptor, folder)  # removed or replaced while we waited: again
        self._descriptor, self._folder = descriptor, folder
        self._depth = 1

    def _open(self, deadline: float, wait: float) -> int:
        """The lock file, opened; created (under the folder's exclusive lock) if missing."""
        while True:
            try:
                return os.open(self.path, os.O_RDWR)
            except FileNotFoundError:
                pass
            except OSError as error:
                raise write_error(self.path, error) from None
            folder = self._open_folder()
            try:
                self._wait(folder, fcntl.LOCK_EX, deadline, wait)
                try:
                    return os.open(self.path, os.O_RDWR | os.O_CREAT, FILE_MODE)
                except OSError as error:
                    raise write_error(self.path, error) from None
            finally:
                _close(None, folder)

    def _open_folder(self) -> int:
        try:
            return os.open(self.path.parent, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        except OSError as error:
            raise write_error(self.path, error) from None

    def _wait(self, descriptor: int, operation: int, deadline: float, wait: float) -> None:
        while True:
            try:
                fcntl.flock(descriptor, operation | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise StorageError(f"{self.path.with_suffix('')}: locked by another "
                                       f"process for more than {wait:g} s; try again"
                                       ) from None
                time.sleep(0.002)

    def _still_there(self, descriptor: int) -> bool:
        try:
            current = os.stat(self.path)
        except FileNotFoundError:
            return False
        mine = os.fstat(descriptor)
        return (current.st_dev, current.st_ino) == (mine.st_dev, mine.st_ino)

    def held_elsewhere(self) -> bool:
        """True while another process holds the lock (this one does not)."""
        if self._depth:
            return False
        try:
            descriptor = os.open(self.path, os.O_RDONLY)
        except FileNotFoundError:
            return self._folder_busy()  # a holder may hold the removed file
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

    def _folder_busy(self) -> bool:
        try:
            folder = self._open_folder()
        except StorageError:
            return False
        try:
            fcntl.flock(folder, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        except OSError:
            return False
        finally:
            os.close(folder)
        return False

    def release(self) -> None:
        self._depth -= 1
        if self._depth == 0:
            _close(self._descriptor, self._folder)
            self._descriptor = self._folder = None


def _close(descriptor: int | None, folder: int | None) -> None:
    """Unlock and close (closing alone would release an flock too; this says so)."""
    for handle in (descriptor, folder):
        if handle is not None:
            try:
                fcntl.flock(handle, fcntl.LOCK_UN)
            finally:
                os.close(handle)
