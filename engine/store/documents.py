"""A table's documents, parsed only when read; and the snapshot's line format.

Opening 100,000 contacts by parsing every document costs seconds and most of a
gigabyte. The snapshot therefore keeps one document per line, and loading keeps
each line's bytes as they are: a document is parsed the first time it is read.
Documents written since are held parsed. A small cache keeps recently read
documents parsed, so a long walk over everything does not keep it all.

Snapshot layout (valid JSON; anything else is read by the slow, general path)::

    {"funnel":{"format":"funnel-store","schema":2,"seq":N},
    "tables":{
    "contacts":{
    "1":{...},
    "2":{...}
    }
    }}
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import MutableMapping
from typing import Any, Iterator

import orjson  # parses a document 2.4x faster than json (measured): reads are the hot path

from funnel.engine.errors import StorageError

PARSED_CACHE = 1024  # read documents kept parsed (the rest stay as their JSON bytes)


def dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


class Documents(MutableMapping):
    """id -> document, backed by raw JSON bytes until a document is read."""

    __slots__ = ("_raw", "_written", "_cache", "_where")

    def __init__(self, raw: dict[str, bytes] | None = None, where: str = "") -> None:
        # From the snapshot, unparsed: bytes, or views into the snapshot's one buffer.
        self._raw: dict[str, bytes | memoryview] = raw or {}
        self._written: dict[str, dict] = {}  # put since loading: authoritative
        self._cache: OrderedDict[str, dict] = OrderedDict()  # parsed copies of raw ones
        self._where = where

    def __getitem__(self, key: str) -> dict:
        document = self._written.get(key)
        if document is not None:
            return document
        document = self._cache.get(key)
        if document is not None:
            self._cache.move_to_end(key)
            return document
        raw = self._raw[key]  # KeyError: not here
        try:
            document = orjson.loads(raw)
        except orjson.JSONDecodeError:
            document = None
        if not isinstance(document, dict):
            raise StorageError(f"{self._where}: document {key} is damaged; run 'funnel check'")
        self._cache[key] = document
        if len(self._cache) > PARSED_CACHE:
            self._cache.popitem(last=False)
        return document

    def peek(self, key: str) -> dict | None:
        """The document, parsed if need be but not kept: for one-off passes."""
        document = self._written.get(key) or self._cache.get(key)
        if document is not None:
            return document
        raw = self._raw.get(key)
        if raw is None:
            return None
        try:
            document = orjson.loads(raw)
        except orjson.JSONDecodeError:
            document = None
        if not isinstance(document, dict):
            raise StorageError(f"{self._where}: document {key} is damaged; run 'funnel check'")
        return document

    def __setitem__(self, key: str, document: dict) -> None:
        self._raw.pop(key, None)
        self._cache.pop(key, None)
        self._written[key] = document

    def __delitem__(self, key: str) -> None:
        found = key in self._written or key in self._raw
        self._written.pop(key, None)
        self._raw.pop(key, None)
        self._cache.pop(key, None)
        if not found:
            raise KeyError(key)

    def __contains__(self, key: object) -> bool:
        return key in self._written or key in self._raw

    def __iter__(self) -> Iterator[str]:
        # A list, so parsing (which moves nothing between dicts) or edits made while
        # iterating cannot upset the loop.
        return iter(list(self._written) + list(self._raw))

    def __len__(self) -> int:
        return len(self._written) + len(self._raw)

    def walk(self) -> Iterator[tuple[str, dict]]:
        """Every (id, document) for a one-off pass over all of them: raw documents are
        parsed without entering the cache (which a full pass would only churn)."""
        for key, document in list(self._written.items()):
            yield key, document
        cache = self._cache
        for key, raw in list(self._raw.items()):
            document = cache.get(key)
            if document is None:
                try:
                    document = orjson.loads(raw)
                except orjson.JSONDecodeError:
                    document = None
                if not isinstance(document, dict):
                    raise StorageError(f"{self._where}: document {key} is damaged; run "
                                       "'funnel check'")
            yield key, document

    def copy(self) -> "Documents":
        clone = Documents(dict(self._raw), self._where)
        clone._written = dict(self._written)
        return clone

    def encoded(self, key: str) -> bytes:
        """The document's JSON as stored, without parsing a raw one."""
        raw = self._raw.get(key)
        if raw is not None:
            return raw
        return dump(self._written[key]).encode("utf-8")

    def encoded_items(self) -> Iterator[tuple[str, bytes]]:
        """Every (id, JSON bytes), numeric ids in order, so snapshots diff cleanly."""
        keys = sorted(self, key=lambda key: (not key.isdigit(), len(key), key))
        for key in keys:
            yield key, self.encoded(key)


# -- the snapshot's line format ------------------------------------------------------

def snapshot_chunks(tables: dict[str, MutableMapping], seq: int, schema: int,
                    form: str) -> Iterator[bytes]:
    header = {"format": form, "schema": schema, "seq": seq}
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
        raw: dict[str, bytes] = {}
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
