"""A table's documents, parsed only when read.

Opening 100,000 contacts by parsing every document costs seconds and most of a
gigabyte. The snapshot therefore keeps one document per line (its layout is in
``snapshot``), and loading only notes where each line lies and leaves it in the file
(``snapshot_rows``): a document is read and parsed the first time it is wanted.
(A snapshot laid out otherwise is held as its lines' bytes.) Documents written since
are held as the JSON bytes the journal record was given (an import of 500,000
contacts would otherwise keep 500,000 dicts, ~3 KB each). A small cache keeps recently read or
written documents parsed, so a long walk over everything does not keep it all.
"""

from __future__ import annotations

import itertools
import json
from collections import OrderedDict
from collections.abc import MutableMapping
from typing import Any, Iterator

import orjson  # parses a document 2.4x faster than json (measured): reads are the hot path

from funnel.engine.errors import StorageError
from funnel.engine.store.layout import check_hint
from funnel.engine.store.snapshot_rows import SnapshotRows

PARSED_CACHE = 1024  # read documents kept parsed (the rest stay as their JSON bytes)
WALK_CHUNK = 1000  # documents read together (lying together in the file) by ``walk``
# A stored document's JSON: bytes, or a view into the one buffer a snapshot was read into.
Raw = bytes | memoryview  # (snapshot_rows says the same)


def dump(value: Any) -> str:
    """Compact JSON, the one encoding of every stored value."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def parse_document(raw: Raw) -> dict | None:
    """A stored document's JSON as a dict, or None when it cannot be read. The one
    parser of stored documents: opening and ``funnel check`` agree on what is damaged."""
    try:
        document = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    return document if isinstance(document, dict) else None


def damaged(where: str, key: str) -> StorageError:
    return StorageError(f"{where}: document {key} cannot be read (damaged); "
                        f"{check_hint(where)}")


class Documents(MutableMapping):
    """id -> document, backed by raw JSON bytes until a document is read."""

    __slots__ = ("_raw", "_cache", "_where")

    def __init__(self, raw: MutableMapping[str, Raw] | None = None, where: str = "") -> None:
        # Every document's JSON: from the snapshot, or as committed since (authoritative).
        self._raw: MutableMapping[str, Raw] = raw if raw is not None else {}
        self._cache: OrderedDict[str, dict] = OrderedDict()  # parsed copies of some of them
        self._where = where

    def __getitem__(self, key: str) -> dict:
        document = self._cache.get(key)
        if document is not None:
            self._cache.move_to_end(key)
            return document
        raw = self._raw[key]  # KeyError: not here
        document = parse_document(raw)
        if document is None:
            raise damaged(self._where, key)
        self._cache[key] = document
        if len(self._cache) > PARSED_CACHE:
            self._cache.popitem(last=False)
        return document

    def peek(self, key: str) -> dict | None:
        """The document, parsed if need be but not kept: for one-off passes."""
        document = self._cache.get(key)
        if document is not None:
            return document
        raw = self._raw.get(key)
        if raw is None:
            return None
        document = parse_document(raw)
        if document is None:
            raise damaged(self._where, key)
        return document

    def peek_many(self, keys: list[str]) -> list[dict | None]:
        """``peek`` for many documents at once (read together when they lie together)."""
        found = self._encoded_many(keys)
        cache = self._cache
        documents: list[dict | None] = []
        for key, raw in zip(keys, found):
            document = cache.get(key)
            if document is None and raw is not None:
                document = parse_document(raw)
                if document is None:
                    raise damaged(self._where, key)
            documents.append(document)
        return documents

    def _encoded_many(self, keys: list[str]) -> list[Raw | None]:
        """The JSON of each of ``keys`` (None: not here), read together from the file."""
        raws = self._raw
        if isinstance(raws, SnapshotRows):
            return raws.get_many(keys)
        return [raws.get(key) for key in keys]

    def __setitem__(self, key: str, document: dict) -> None:
        self.put(key, dump(document).encode("utf-8"), document)

    def put(self, key: str, raw: bytes, parsed: dict | None = None) -> None:
        """Hold a document as its JSON ``raw`` (as committed); ``parsed``, the same
        document as a dict, is kept in the cache for the reads that usually follow."""
        self._raw[key] = raw
        if parsed is None:
            self._cache.pop(key, None)
            return
        self._cache[key] = parsed
        self._cache.move_to_end(key)
        if len(self._cache) > PARSED_CACHE:
            self._cache.popitem(last=False)

    def __delitem__(self, key: str) -> None:
        self._cache.pop(key, None)
        del self._raw[key]  # KeyError: not here

    def __contains__(self, key: object) -> bool:
        return key in self._raw

    def __iter__(self) -> Iterator[str]:
        # A list, so edits made while iterating cannot upset the loop.
        return iter(list(self._raw))

    def __len__(self) -> int:
        return len(self._raw)

    def walk(self) -> Iterator[tuple[str, dict]]:
        """Every (id, document) for a one-off pass over all of them: raw documents are
        parsed without entering the cache (which a full pass would only churn)."""
        cache, raws = self._cache, self._raw
        keys = list(raws)  # the ids, not every document's bytes at once
        for start in range(0, len(keys), WALK_CHUNK):
            chunk = keys[start:start + WALK_CHUNK]
            # Read together; parsed one at a time (each freed before the next is made).
            for key, raw in zip(chunk, self._encoded_many(chunk)):
                document: dict | None = cache.get(key)
                if document is None:
                    if raw is None:
                        continue  # deleted meanwhile
                    document = parse_document(raw)
                    if document is None:
                        raise damaged(self._where, key)
                yield key, document

    def verify(self, required: frozenset[str] = frozenset()) -> None:
        """Parse every stored document once (keeping none), each holding ``required``:
        for files without a checksum, so that damage is found on opening, not half-way
        through a command. A table with ``required`` keys holds the store's own
        documents, whose ids it gave out: plain numbers (``funnel check`` says so too)."""
        for key, raw in self._raw.items():
            if required and not (key.isdigit() and key.isascii()):
                raise StorageError(f"{self._where}: document id {ascii(key)} is not a number "
                                   f"(damaged); {check_hint(self._where)}")
            document = parse_document(raw)
            if document is None:
                raise damaged(self._where, key)
            if not required <= document.keys():
                raise StorageError(f"{self._where}: document {key} is damaged: it lacks "
                                   f"{', '.join(sorted(required - document.keys()))}; "
                                   f"{check_hint(self._where)}")

    def copy(self) -> "Documents":
        raws = self._raw
        return Documents(raws.copy() if isinstance(raws, SnapshotRows) else dict(raws),
                         self._where)

    def encoded(self, key: str) -> Raw:
        """The document's JSON as stored, without parsing it."""
        return self._raw[key]

    def encoded_items(self) -> Iterator[tuple[str, Raw]]:
        """Every (id, JSON bytes), numeric ids in order, so snapshots diff cleanly."""
        keys = list(self._raw)
        # Usually in order already (ids are given out counting up): then no sort, which
        # would hold a sort key per document (500,000 of them after a big import).
        if any(_order(first) > _order(second)
               for first, second in zip(keys, itertools.islice(keys, 1, None))):
            keys.sort(key=_order)
        raw = self._raw
        for key in keys:
            yield key, raw[key]


def _order(key: str) -> tuple[bool, int, str]:
    """Numeric ids first, in numeric order; any other keys after them."""
    return not key.isdigit(), len(key), key
