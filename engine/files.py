"""Replacing a file atomically: the one writer every saved file goes through.

A new version is written to a temp file in the target's folder, fsynced, renamed
over the target with ``os.replace`` and then the folder is fsynced, so a crash
leaves either the old file or the new one, never a mix, and the rename itself
survives a power cut. The database, the rules files and exports all use it.

Temp files are named ``.NAME.PID.RANDOM.KIND`` (the store's clean-up of files left
by a killed process relies on that shape).
"""

from __future__ import annotations

import io
import os
import uuid
from pathlib import Path
from typing import BinaryIO, Iterable, TextIO

Chunk = bytes | memoryview | str  # text is written as UTF-8


def fsync_directory(path: str | os.PathLike[str]) -> None:
    """Make a rename or a new file in ``path`` durable."""
    descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


class AtomicFile:
    """A temp file beside ``target`` that ``install`` renames over it.

    Used as a context manager: leaving it without ``install`` (an error, or a caller
    that decides not to swap after all) deletes the temp file. ``mode`` is the new
    file's permission; with ``exact_mode`` it is set as given, otherwise the umask
    may narrow it (as ``os.open`` does).
    """

    def __init__(self, target: str | os.PathLike[str], mode: int, *,
                 exact_mode: bool = False, kind: str = "tmp") -> None:
        self.target = Path(target)
        self.temp = self.target.with_name(
            f".{self.target.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.{kind}")
        descriptor = os.open(self.temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        try:
            if exact_mode:
                os.fchmod(descriptor, mode)
            # A big buffer: snapshots are written in many small chunks.
            self.handle: BinaryIO = os.fdopen(descriptor, "wb", buffering=1 << 20)
        except BaseException:
            os.close(descriptor)
            self.temp.unlink(missing_ok=True)
            raise
        self._text: io.TextIOWrapper | None = None
        self._synced = False
        self._installed = False

    def write(self, chunk: Chunk) -> None:
        self.handle.write(chunk.encode("utf-8") if isinstance(chunk, str) else chunk)

    def write_all(self, chunks: Iterable[Chunk]) -> None:
        for chunk in chunks:
            self.write(chunk)

    def text(self, encoding: str = "utf-8", newline: str = "") -> TextIO:
        """A text layer over the file, for writers that want one (csv, json)."""
        self._text = io.TextIOWrapper(self.handle, encoding=encoding, newline=newline)
        return self._text

    def sync(self) -> None:
        """Flush and fsync the contents (``install`` does it if not done already)."""
        if self._text is not None:
            self._text.flush()
        self.handle.flush()
        os.fsync(self.handle.fileno())
        self._synced = True

    def install(self) -> None:
        """Rename the temp file over the target and fsync the folder."""
        if not self._synced:
            self.sync()
        self._close()
        os.replace(self.temp, self.target)
        self._installed = True
        fsync_directory(self.target.parent)

    def discard(self) -> None:
        try:
            self._close()
        except OSError:
            pass  # flushing failed (a full disk, say): the temp file goes all the same
        finally:
            self.temp.unlink(missing_ok=True)

    def _close(self) -> None:
        if self._text is not None:
            self._text.detach()  # the handle is closed below, once
            self._text = None
        self.handle.close()

    def __enter__(self) -> "AtomicFile":
        return self

    def __exit__(self, *_exc: object) -> None:
        if not self._installed:
            self.discard()


def write_atomically(target: str | os.PathLike[str], chunks: Iterable[Chunk],
                     mode: int, *, exact_mode: bool = False) -> None:
    """Replace ``target`` with ``chunks`` atomically and durably (see the module doc)."""
    with AtomicFile(target, mode, exact_mode=exact_mode) as temp:
        temp.write_all(chunks)
        temp.install()
