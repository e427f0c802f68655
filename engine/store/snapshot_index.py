"""Opening a snapshot in Funnel's layout: where each document lies, without keeping the file.

The file (layout in ``snapshot``) is read once, in pieces of whole lines: each piece
goes into the checksum, and numpy finds its line breaks and reads the id at the
start of each line, so that no Python code runs per document. Only the few lines
that are not documents (the header, table names, closing braces, the sum) are
looked at one by one, to check that the file is laid out as Funnel writes it;
anything else gives None and the caller reads the file the general way.
"""

from __future__ import annotations

import json
import os
import zlib
from dataclasses import dataclass

import numpy as np

from funnel.engine.store.documents import Documents
from funnel.engine.store.snapshot import SUM_LINE
from funnel.engine.store.snapshot_rows import KeyIndex, SnapshotFile, SnapshotRows

PIECE = 16 << 20  # bytes read at a time
HEAD = 24  # an id ends within a line's first bytes (ids are short)
MOST_OTHER_LINES = 10_000  # header, sum and two per table: Funnel writes a handful
_QUOTE, _COLON, _BRACE, _CLOSE, _COMMA, _BACKSLASH = 34, 58, 123, 125, 44, 92


@dataclass
class IndexedSnapshot:
    header: dict
    tables: dict[str, Documents]
    intact: bool | None  # the sum matched; None: the file has none (schema 2)


@dataclass
class _Lines:
    """Every line's place, and what numpy found at its start and end."""
    starts: list[np.ndarray]
    ends: list[np.ndarray]  # where a document's JSON ends (before a trailing comma)
    split: list[np.ndarray]  # where the id's closing quote is (0: not a document line)
    numbers: list[np.ndarray]  # the id as a number, or -1
    special: list[tuple[int, bytes]]  # (line number, bytes) of the lines not documents
    count: int = 0


def index_snapshot(file: SnapshotFile) -> IndexedSnapshot | None:
    """Index the snapshot ``file`` (whose documents the result reads); None when it is
    not in Funnel's layout, or an id is not plain (the general reader takes it then)."""
    fd = file.fd
    size = os.fstat(fd).st_size
    tail = os.pread(fd, 64, max(0, size - 64))
    body_end = len(tail) - 1 if tail.endswith(b"\n") else len(tail)
    sum_at = tail.rfind(b"\n", 0, body_end) + 1
    claimed = SUM_LINE.fullmatch(tail, sum_at, body_end)
    crc_end = size - len(tail) + sum_at if claimed else size
    lines = _Lines([], [], [], [], [])
    buffer = bytearray(PIECE)
    crc, at, kept = 0, 0, 0  # kept: bytes of a line begun in the last piece, moved to the front
    while at < size or kept:
        if kept == len(buffer):  # one line longer than a piece: read on
            buffer = buffer + bytes(len(buffer))  # a new one: views of the old may live on
        room = memoryview(buffer)[kept:]
        got = os.preadv(fd, [room], at) if at < size else 0
        if at < size and not got:
            return None  # cut short while reading
        crc = zlib.crc32(room[:max(0, min(got, crc_end - at))], crc)
        first, at, filled = at - kept, at + got, kept + got
        cut = buffer.rfind(b"\n", 0, filled) + 1 if at < size else filled
        if cut == 0:
            kept = filled
            continue
        if not _scan(memoryview(buffer)[:cut], first, lines):
            return None
        buffer[:filled - cut] = buffer[cut:filled]
        kept = filled - cut
    intact = None if claimed is None else crc == int(claimed.group(1), 16)
    return _lay_out(lines, file, intact)


def _scan(piece: memoryview, offset: int, lines: _Lines) -> bool:
    """Note the lines of ``piece``; False when too many are not documents (a file not
    laid out by Funnel: it has a few per table, not millions of blank lines)."""
    data = np.frombuffer(piece, dtype=np.uint8)
    breaks = np.flatnonzero(data == 10)
    ends = breaks
    if len(data) and data[-1] != 10:  # the file's last line, without a line break
        ends = np.append(breaks, len(data))
    starts = np.concatenate(([0], ends[:-1] + 1)) if len(ends) else ends
    padded = np.concatenate((data, np.zeros(HEAD + 2, np.uint8)))
    head = padded[starts[:, None] + np.arange(HEAD)]
    length = ends - starts
    last = padded[np.maximum(ends - 1, 0)]
    before_last = padded[np.maximum(ends - 2, 0)]
    # A document line: "id":{...} or "id":{...}, with the id's quote closed within HEAD.
    closes = (head[:, 1:HEAD - 2] == _QUOTE) & (head[:, 2:HEAD - 1] == _COLON)
    split = np.where(closes.any(axis=1), closes.argmax(axis=1) + 1, 0)
    rows = np.arange(len(starts))
    opens_body = head[rows, np.minimum(split + 2, HEAD - 1)] == _BRACE
    ends_body = (last == _CLOSE) | ((last == _COMMA) & (before_last == _CLOSE))
    document = (head[:, 0] == _QUOTE) & (split > 0) & opens_body & ends_body & (length >= 6)
    document &= ~np.any((head == _BACKSLASH) & (np.arange(HEAD) < split[:, None]), axis=1)
    numbers = _numbers(head, split)
    split = np.where(document, split, 0)
    base = lines.count
    others = np.flatnonzero(~document)
    if len(lines.special) + len(others) > MOST_OTHER_LINES:
        return False
    for row in others.tolist():
        lines.special.append((base + row, bytes(piece[starts[row]:ends[row]])))
    lines.starts.append(starts + offset)
    lines.ends.append(ends - ((last == _COMMA) & document) + offset)  # a body's end
    lines.split.append(split)
    lines.numbers.append(numbers)
    lines.count += len(starts)
    return True


def _numbers(head: np.ndarray, split: np.ndarray) -> np.ndarray:
    """Each line's id as a number when it is plain digits (no leading zero), else -1."""
    number = np.zeros(len(head), np.int64)
    plain = (split > 1) & (split <= 19) & ~((head[:, 1] == 48) & (split > 2))
    for column in range(1, 19):
        inside = column < split
        digit = head[:, column].astype(np.int64) - 48
        plain &= ~inside | ((digit >= 0) & (digit <= 9))
        number = np.where(inside, number * 10 + digit, number)
    return np.where(plain, number, -1)


def _lay_out(lines: _Lines, file: SnapshotFile, intact: bool | None) -> IndexedSnapshot | None:
    special = lines.special
    if len(special) < 3 or special[0][0] != 0 or special[1][0] != 1:
        return None
    first = special[0][1]
    if not first.startswith(b'{"funnel":') or not first.endswith(b","):
        return None
    try:
        header = json.loads(first[len(b'{"funnel":'):-1])
    except ValueError:
        return None
    if not isinstance(header, dict) or special[1][1] != b'"tables":{':
        return None
    starts, ends = np.concatenate(lines.starts), np.concatenate(lines.ends)
    split, numbers = np.concatenate(lines.split), np.concatenate(lines.numbers)
    tables: dict[str, Documents] = {}
    index = 2
    while index < len(special):
        number, line = special[index]
        if line == b"}}":  # schema 2: no sum; nothing but blank lines after
            rest = special[index + 1:]
            if number + 1 + len(rest) != lines.count or any(text.strip() for _, text in rest):
                return None
            return IndexedSnapshot(header, tables, None)
        if line == b"},":  # the tables end; the sum is the next line and the last
            tail = special[index + 1:]
            if intact is None or len(tail) != 1 or number + 2 != lines.count:
                return None
            return IndexedSnapshot(header, tables, intact)
        if not line.endswith(b":{") or index + 1 >= len(special):
            return None
        try:
            name = json.loads(line[:-2])
        except ValueError:
            return None
        closer_number, closer = special[index + 1]
        if not isinstance(name, str) or closer not in (b"}", b"},"):
            return None
        rows = slice(number + 1, closer_number)
        keys = _keys(file, starts[rows], split[rows], numbers[rows])
        if keys is None:
            return None
        tables[name] = Documents(SnapshotRows(file, keys, starts[rows] + split[rows] + 2,
                                              ends[rows]), file.where)
        index += 2
    return None


def _keys(file: SnapshotFile, starts: np.ndarray, split: np.ndarray,
          numbers: np.ndarray) -> KeyIndex | None:
    if not len(starts):
        return KeyIndex(np.zeros(0, np.int64), None)
    if bool(np.all(numbers >= 0)):
        ordered = bool(np.all(np.diff(numbers) > 0))
        if ordered or len(np.unique(numbers)) == len(numbers):
            return KeyIndex(numbers, None)
        return None  # an id twice: the general reader keeps the last, as JSON does
    names = []
    for start, end in zip(starts.tolist(), (starts + split).tolist()):
        raw = file.read(start + 1, end)
        try:
            names.append(raw.decode("utf-8"))
        except UnicodeDecodeError:
            return None
    return KeyIndex(None, names) if len(set(names)) == len(names) else None
