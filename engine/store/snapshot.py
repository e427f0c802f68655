"""The snapshot file's layout: writing one, and reading it back quickly.

Layout (valid JSON; a file laid out otherwise is read by ``migrate.read_snapshot``'s
slower, general path)::

    {"funnel":{"format":"funnel-store","schema":3,"seq":N},
    "tables":{
    "contacts":{
    "1":{...},
    "2":{...}
    }
    },
    "sum":"xxxxxxxx"}

One document per line keeps the file greppable and diffable, and lets loading keep
each document's bytes unparsed (see ``documents``). The last line holds the CRC-32
of every byte before it (``seal``): checking it costs one pass over the bytes, far
less than parsing every document, so opening notices any changed byte. Schema 2
snapshots end with ``}}`` and have no sum.
"""

from __future__ import annotations

import json
import re
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from funnel.engine.files import write_atomically
from funnel.engine.store.documents import Documents, Raw, dump
from funnel.engine.store.layout import FILE_MODE

FORMAT = "funnel-store"
SCHEMA = 3  # the schema this version writes; migrate reads older ones
SUM_LINE = re.compile(rb'"sum":"([0-9a-f]{8})"}')


def _pieces(tables: Mapping[str, Mapping[str, Any]], seq: int) -> Iterator[Raw]:
    header = {"format": FORMAT, "schema": SCHEMA, "seq": seq}
    yield b'{"funnel":' + dump(header).encode() + b',\n"tables":{\n'
    for index, (name, documents) in enumerate(tables.items()):
        yield (b",\n" if index else b"") + dump(name).encode() + b":{\n"
        items = documents.encoded_items() if isinstance(documents, Documents) else (
            (key, dump(document).encode()) for key, document in documents.items())
        first = True
        for key, raw in items:
            yield (b"" if first else b",\n") + dump(key).encode() + b":"
            yield raw
            first = False
        yield b"\n}" if not first else b"}"
    yield b"\n},\n" if tables else b"},\n"


def snapshot_chunks(tables: Mapping[str, Mapping[str, Any]], seq: int) -> Iterator[Raw]:
    """The snapshot of ``tables`` at journal sequence ``seq``, in pieces to write; the
    last is the sum of all the others."""
    crc = 0
    for piece in _pieces(tables, seq):
        crc = zlib.crc32(piece, crc)
        yield piece
    yield b'"sum":"%08x"}\n' % crc


def checksum_matches(data: bytes) -> bool | None:
    """Whether a snapshot's last line holds the sum of the bytes before it; None when the
    file has no such line (schema 2, or laid out by hand)."""
    end = len(data) - 1 if data.endswith(b"\n") else len(data)
    start = data.rfind(b"\n", 0, end) + 1
    found = SUM_LINE.fullmatch(data, start, end)
    if found is None:
        return None
    return zlib.crc32(memoryview(data)[:start]) == int(found.group(1), 16)


def read_stamp(path: Path) -> tuple[int, str] | None:
    """(the sequence, the sum) a sealed snapshot's first and last lines claim, read from
    one open file without reading the rest; None when it has no such lines."""
    try:
        with open(path, "rb") as handle:
            first = handle.readline(256)
            size = handle.seek(0, 2)
            handle.seek(max(0, size - 64))
            tail = handle.read(64)
    except OSError:
        return None
    header = re.match(rb'\{"funnel":\{"format":"%s","schema":%d,"seq":(\d{1,18})\},'
                      % (FORMAT.encode(), SCHEMA), first)
    found = SUM_LINE.search(tail.removesuffix(b"\n").rsplit(b"\n", 1)[-1])
    if header is None or found is None:
        return None
    return int(header.group(1)), found.group(1).decode("ascii")


def write_snapshot(path: Path, tables: Mapping[str, Mapping[str, Any]], seq: int) -> None:
    """Replace the snapshot at ``path`` atomically (temp file, fsync, rename)."""
    write_atomically(path, snapshot_chunks(tables, seq), FILE_MODE)


def _lines(data: bytes) -> list[memoryview]:
    # Views into the one buffer: no second copy of a 100 MB file while it is split.
    view = memoryview(data)
    lines, start = [], 0
    find = data.find
    while True:
        end = find(b"\n", start)
        if end < 0:
            lines.append(view[start:])
            return lines
        lines.append(view[start:end])
        start = end + 1


@dataclass
class Layout:
    """A snapshot split by ``read_lines``: its header, its tables (documents unparsed),
    and whether its sum matched (None: it has none)."""

    header: dict
    tables: dict[str, Documents]
    intact: bool | None


def read_lines(data: bytes, where: str) -> Layout | None:
    """Fast path: split a snapshot in our own layout; None when it is laid out otherwise."""
    lines = _lines(data)
    first = bytes(lines[0]) if lines else b""
    if len(lines) < 3 or not first.startswith(b'{"funnel":') or not first.endswith(b","):
        return None
    try:
        header = json.loads(first[len(b'{"funnel":'):-1])
    except ValueError:
        return None
    if lines[1] != b'"tables":{':
        return None
    tables: dict[str, Documents] = {}
    index = 2
    end = len(lines)
    while index < end:
        line = lines[index]
        if line == b"}}":  # schema 2: no sum
            rest = b"".join(bytes(part) for part in lines[index + 1:])
            return Layout(header, tables, None) if not rest.strip() else None
        if line == b"},":  # the tables end; the sum follows on the last line
            if index + 2 != end - 1 or lines[end - 1] != b"":
                return None
            intact = checksum_matches(data)
            return None if intact is None else Layout(header, tables, intact)
        if line[-2:] != b":{":
            return None
        try:
            name = json.loads(bytes(line[:-2]))
        except ValueError:
            return None
        if not isinstance(name, str):
            return None
        raw: dict[str, Raw] = {}
        index += 1
        while index < end:
            line = lines[index]
            if line in (b"}", b"},"):
                break
            head = bytes(line[:24])  # ids are short; the key ends within these bytes
            split = head.find(b'":')
            if head[:1] != b'"' or split < 0:
                return None
            try:
                key = head[1:split].decode("utf-8")
            except UnicodeDecodeError:
                return None
            body = line[split + 2:]
            if body[-1:] == b",":
                body = body[:-1]
            if body[:1] != b"{" or body[-1:] != b"}" or "\\" in key:
                return None
            raw[key] = body
            index += 1
        else:
            return None
        tables[name] = Documents(raw, where)
        index += 1
    return None
