"""Opening a file someone named: regular files only, never more than a limit.

Every file Funnel reads on a person's say-so (an import, a rules file, a mapping, a
key map, an authorized-keys file) goes through here, so a device (``/dev/zero``), a
FIFO (which would block the open for ever), a socket or a directory gets one clear
refusal, and a file too big to be what it claims is refused before it is read.

The file is opened with ``O_NONBLOCK`` (a FIFO then opens at once instead of
waiting for a writer) and checked with ``fstat`` on the opened descriptor, so a
file swapped between a check and the open cannot slip through.
"""

from __future__ import annotations

import os
import stat
from typing import BinaryIO

from funnel.engine.errors import FunnelError

MiB = 1 << 20

# Limits by kind of file: generous for real use, small enough that a hostile file is
# refused before it costs memory.
RULES_LIMIT = 1 * MiB       # a rules file, a key map, a mapping
KEYS_LIMIT = 1 * MiB        # an authorized-keys file
IMPORT_LIMIT = 2048 * MiB   # an import (read streaming, so its size bounds time, not memory)


class InputFileError(FunnelError):
    """A file named as input cannot be read: what it is, and why not."""

    def __init__(self, path: str | os.PathLike[str], message: str) -> None:
        super().__init__(f"{os.fspath(path)}: {message}")
        self.path = os.fspath(path)
        self.reason = message


def file_kind(mode: int) -> str:
    """What a file that is not a regular one is, in words for a message."""
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def size_text(size: int) -> str:
    if size >= MiB:
        return f"{size / MiB:,.1f} MiB"
    if size >= 1024:
        return f"{size / 1024:,.1f} KiB"
    return f"{size:,} bytes"


def open_input(path: str | os.PathLike[str], limit: int, what: str = "file") -> BinaryIO:
    """``path`` opened for binary reading, once it is known to be a regular file of at
    most ``limit`` bytes; otherwise ``InputFileError`` saying which rule it broke."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise InputFileError(path, f"no such {what}") from None
    except IsADirectoryError:
        raise InputFileError(path, f"is a folder, not a {what}") from None
    except PermissionError:
        raise InputFileError(path, f"cannot read this {what}: permission denied") from None
    except OSError as error:
        try:  # a socket cannot be opened at all (ENXIO): say what it is instead
            mode = os.stat(path).st_mode
        except OSError:
            mode = stat.S_IFREG
        if not stat.S_ISREG(mode):
            raise InputFileError(path, f"is {file_kind(mode)}; only regular files can be read "
                                       f"as a {what}") from None
        raise InputFileError(path, f"cannot open this {what}: {error.strerror}") from None
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            raise InputFileError(path, f"is {file_kind(info.st_mode)}; only regular files "
                                       f"can be read as a {what}")
        if info.st_size > limit:
            raise InputFileError(path, f"is {size_text(info.st_size)}; a {what} may be at "
                                       f"most {size_text(limit)}")
        # Blocking reads from here on (O_NONBLOCK only mattered for the open).
        os.set_blocking(descriptor, True)
        return os.fdopen(descriptor, "rb")
    except BaseException:
        os.close(descriptor)
        raise


def read_input(path: str | os.PathLike[str], limit: int, what: str = "file") -> bytes:
    """The whole of a small input file (see ``open_input``). Reads at most ``limit``
    bytes plus one, so a file that grows after the check is refused too."""
    with open_input(path, limit, what) as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise InputFileError(path, f"grew past {size_text(limit)} while being read; a "
                                   f"{what} may be at most {size_text(limit)}")
    return data


def is_input_file(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` names an existing regular file (for optional files)."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False


__all__ = ["IMPORT_LIMIT", "KEYS_LIMIT", "RULES_LIMIT", "InputFileError", "file_kind",
           "is_input_file", "open_input", "read_input", "size_text"]
