"""A table's documents left in the snapshot file, read by offset when asked for.

Holding a snapshot's bytes costs its size in memory (950 MB at 1,000,000 contacts),
although most commands read a few documents, or none when the column cache answers.
So opening notes where each document lies (``snapshot_index``) and keeps the file
open: a document is read from it with one positional read when it is first wanted.
A compaction replaces the file by renaming a new one over it, so the handle kept
still reads the bytes that were indexed.

Ids are usually numbers counting up: the index then holds them as one integer array
(and, when they have no gaps, finds a position by arithmetic), not as a million
strings. Documents written after opening are held apart (``_over``), as are ids
deleted since (``_gone``); the file is never written.
"""

from __future__ import annotations

import os
import weakref
from collections.abc import MutableMapping
from typing import Iterator

import numpy as np

from funnel.engine.errors import StorageError
from funnel.engine.store.layout import check_hint

Raw = bytes | memoryview
WINDOW = 64 << 10  # one read serves the documents that follow (a walk over all of them)


class SnapshotFile:
    """The snapshot file indexed at opening, kept open for reading documents from it."""

    __slots__ = ("fd", "where", "_window", "close", "__weakref__")

    def __init__(self, fd: int, where: str) -> None:
        self.fd = fd
        self.where = where
        self._window: tuple[int, bytes] = (0, b"")  # (offset, bytes) last read
        self.close = weakref.finalize(self, os.close, fd)  # at the latest when unused

    def read(self, start: int, end: int) -> bytes:
        offset, window = self._window  # one tuple: a thread reading meanwhile sees either
        if offset <= start and end <= offset + len(window):
            return window[start - offset:end - offset]
        size = end - start
        try:
            data = os.pread(self.fd, max(size, WINDOW), start)
        except OSError as error:
            raise StorageError(f"{self.where}: cannot read: {error.strerror}") from None
        if len(data) < size:
            raise StorageError(f"{self.where}: the file was cut short while open (changed "
                               f"outside Funnel); {check_hint(self.where)}")
        self._window = (start, data)
        return data[:size]


class KeyIndex:
    """Ids to row numbers: numeric ids as an integer array, any others as strings."""

    __slots__ = ("numbers", "names", "_first", "_positions")

    def __init__(self, numbers: np.ndarray | None, names: list[str] | None) -> None:
        self.numbers = numbers  # int64 per row, when every id is a plain number
        self.names = names  # otherwise the ids as they are
        self._first: int | None = None  # the ids run first, first+1, ... : no lookup table
        self._positions: dict | None = None
        if numbers is not None and len(numbers) and \
                int(numbers[-1]) - int(numbers[0]) == len(numbers) - 1 and \
                bool(np.all(np.diff(numbers) == 1)):
            self._first = int(numbers[0])

    def __len__(self) -> int:
        return len(self.numbers) if self.numbers is not None else len(self.names or ())

    def position(self, key: object) -> int | None:
        if self.names is not None:
            if self._positions is None:
                self._positions = {name: row for row, name in enumerate(self.names)}
            return self._positions.get(key)
        if not isinstance(key, str) or not key.isdigit() or len(key) > 18 or (
                key[0] == "0" and key != "0") or not key.isascii():
            return None
        number = int(key)
        if self._first is not None:
            row = number - self._first
            return row if 0 <= row < len(self) else None
        if self._positions is None:
            assert self.numbers is not None
            self._positions = dict(zip(self.numbers.tolist(), range(len(self.numbers))))
        return self._positions.get(number)

    def keys(self) -> Iterator[str]:
        if self.names is not None:
            return iter(self.names)
        assert self.numbers is not None
        return map(str, self.numbers.tolist())


class SnapshotRows(MutableMapping):
    """id -> a document's JSON bytes: the snapshot's rows, and what was written since."""

    __slots__ = ("_file", "_keys", "_starts", "_ends", "_over", "_gone", "_added")

    def __init__(self, file: SnapshotFile, keys: KeyIndex, starts: np.ndarray,
                 ends: np.ndarray) -> None:
        self._file, self._keys = file, keys
        self._starts, self._ends = starts, ends  # each document's bytes in the file
        self._over: dict[str, Raw] = {}  # written since opening (new ids, or replacing)
        self._gone: set[str] = set()  # the file's ids deleted since
        self._added = 0  # ids in _over that the file does not have

    def _row(self, key: object) -> int | None:
        return self._keys.position(key)

    def __getitem__(self, key: str) -> Raw:
        raw = self._over.get(key)
        if raw is not None:
            return raw
        row = self._row(key)
        if row is None or key in self._gone:
            raise KeyError(key)
        return self._file.read(int(self._starts[row]), int(self._ends[row]))

    def __contains__(self, key: object) -> bool:
        if key in self._over:
            return True
        return self._row(key) is not None and key not in self._gone

    def __setitem__(self, key: str, raw: Raw) -> None:
        if self._row(key) is not None:
            self._gone.discard(key)
        elif key not in self._over:
            self._added += 1
        self._over[key] = raw

    def __delitem__(self, key: str) -> None:
        if key not in self:
            raise KeyError(key)
        if self._row(key) is not None:
            self._gone.add(key)
            self._over.pop(key, None)
        else:
            del self._over[key]
            self._added -= 1

    def __len__(self) -> int:
        return len(self._keys) - len(self._gone) + self._added

    def __iter__(self) -> Iterator[str]:
        gone = self._gone
        for key in self._keys.keys():
            if not gone or key not in gone:
                yield key
        if self._added:
            for key in list(self._over):
                if self._row(key) is None:
                    yield key

    def get_many(self, keys: list[str]) -> list[Raw | None]:
        """The JSON of each of ``keys`` (None: not here). Documents lying near each other
        in the file (a build walks them in order) are read with one read."""
        found: list[Raw | None] = [None] * len(keys)
        wanted: list[tuple[int, int]] = []  # (place in keys, row in the file)
        for place, key in enumerate(keys):
            raw = self._over.get(key)
            if raw is not None:
                found[place] = raw
            elif key not in self._gone and (row := self._row(key)) is not None:
                wanted.append((place, row))
        if not wanted:
            return found
        rows = np.array([row for _, row in wanted], np.int64)
        starts, ends = self._starts[rows], self._ends[rows]
        first, last = int(starts.min()), int(ends.max())
        if last - first > 2 * int((ends - starts).sum()) + WINDOW:  # scattered: one by one
            for place, row in wanted:
                found[place] = self._file.read(int(self._starts[row]), int(self._ends[row]))
            return found
        span = self._file.read(first, last)
        for (place, _), start, end in zip(wanted, (starts - first).tolist(),
                                          (ends - first).tolist()):
            found[place] = span[start:end]
        return found

    def copy(self) -> "SnapshotRows":
        """The same rows, changed apart from now on (the file and its index are shared)."""
        copied = SnapshotRows(self._file, self._keys, self._starts, self._ends)
        copied._over, copied._gone, copied._added = dict(self._over), set(self._gone), \
            self._added
        return copied
