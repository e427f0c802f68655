"""The snapshot file's layout: writing one, and reading it back quickly.

Layout (valid JSON; a file laid out otherwise is read by ``migrate.read_snapshot``'s
slower, general path)::

    {"funnel":{"format":"funnel-store","schema":2,"seq":N},
    "tables":{
    "contacts":{
    "1":{...},
    "2":{...}
    }
    }}

One document per line keeps the file greppable and diffable, and lets loading keep
each document's bytes unparsed (see ``documents``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Iterator

from funnel.engine.files import write_atomically
from funnel.engine.store.documents import Documents, Raw, dump
from funnel.engine.store.layout import FILE_MODE

FORMAT = "funnel-store"
SCHEMA = 2  # the schema this version writes; migrate reads older ones


def snapshot_chunks(tables: Mapping[str, Mapping[str, Any]], seq: int) -> Iterator[Raw]:
    """The snapshot of ``tables`` at journal sequence ``seq``, in pieces to write."""
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
    yield b"\n}}\n"


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


def read_lines(data: bytes, where: str) -> tuple[dict, dict[str, Documents]] | None:
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
        if line == b"}}":
            rest = b"".join(bytes(part) for part in lines[index + 1:])
            return (header, tables) if not rest.strip() else None
        if line[-2:] != b":{":
            return None
        name = json.loads(bytes(line[:-2]))
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
            key = head[1:split].decode("utf-8")
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
