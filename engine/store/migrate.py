"""Reading a snapshot file: its schema version, and migrations from older schemas.

Schema history:
1. TinyDB's stock JSON layout, ``{"meta": {"1": {"app": "funnel", "schema": 1}},
   "contacts": {...}}``: the engine's first store.
2. ``{"funnel": {"format": "funnel-store", "schema": 2, "seq": N}, "tables": {...}}``
   plus a journal beside it; documents keep only the fields that have a value.
3. The same, with checksums: the snapshot's last line holds its CRC-32, and journal
   records are sealed and chained (see ``seal`` and ``records``).

A migration writes the new snapshot atomically and keeps the old file as
``PATH.schema-N.bak``; nothing is changed unless the whole migration succeeds.
Schema 2 files are not migrated on opening but read as they are (so that reading
never rewrites a file): the next compaction writes them as schema 3.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from funnel.engine.errors import StorageError
from funnel.engine.model import compact_document
from funnel.engine.store.documents import Documents
from funnel.engine.store.layout import FILE_MODE, check_hint
from funnel.engine.store.snapshot_index import index_snapshot
from funnel.engine.store.snapshot_rows import SnapshotFile
from funnel.engine.store.snapshot import (FORMAT, SCHEMA, checksum_matches, read_lines,
                                          write_snapshot)

READ_IN_PLACE = frozenset({2})  # older schemas read as they are, not migrated on opening


@dataclass
class Snapshot:
    tables: dict[str, Documents]
    seq: int
    sealed: bool  # its sum was there and matched: every byte is as Funnel wrote it
    warning: str | None = None  # the sum does not match (every document may still read)


def sum_warning(path: Path) -> str:
    return (f"{path}: the snapshot's checksum does not match its contents: it was changed "
            f"outside Funnel (every document still reads); {check_hint(path)}")


def read_snapshot(path: Path) -> Snapshot:
    """Read a snapshot (migrating a schema 1 file). Unless it is ``sealed``, the caller
    checks every document (a hand edit reads; damage is refused on opening)."""
    try:
        file = SnapshotFile(os.open(path, os.O_RDONLY), str(path))
    except FileNotFoundError:
        raise StorageError(f"{path}: no such database") from None
    except OSError as error:
        raise StorageError(f"{path}: cannot read: {error.strerror}") from None
    try:
        indexed = index_snapshot(file)
    except OSError as error:
        file.close()
        raise StorageError(f"{path}: cannot read: {error.strerror}") from None
    if indexed is not None:  # the file stays open: documents are read from it
        snapshot = _checked(path, indexed.header, indexed.tables, indexed.intact)
        if snapshot is not None:
            return snapshot
    file.close()
    try:
        data = path.read_bytes()
    except OSError as error:
        raise StorageError(f"{path}: cannot read: {error.strerror}") from None
    fast = read_lines(data, str(path))
    if fast is not None:
        snapshot = _checked(path, fast.header, fast.tables, fast.intact)
        if snapshot is not None:
            return snapshot
    try:
        document = json.loads(data)
    except UnicodeDecodeError:
        raise StorageError(f"{path}: not a Funnel database, or damaged (not UTF-8 text); "
                           f"{check_hint(path)}") from None
    except json.JSONDecodeError as error:
        raise StorageError(f"{path}: not a Funnel database, or damaged (invalid JSON at line "
                           f"{error.lineno}, column {error.colno}); {check_hint(path)}"
                           ) from None
    schema = schema_of(document)
    if schema is None:
        raise StorageError(f"{path}: not a Funnel database; nothing was changed")
    if schema > SCHEMA:
        raise StorageError(f"{path}: written by a newer Funnel (schema {schema}); this one "
                           f"reads schema {SCHEMA} and older")
    warning = sum_warning(path) if schema == SCHEMA and checksum_matches(data) is not True \
        else None
    if schema < SCHEMA and schema not in READ_IN_PLACE:
        document = _migrate(path, document, schema)
    tables = document["tables"]
    if not isinstance(tables, dict) or not all(
            isinstance(docs, dict) and all(isinstance(doc, dict) for doc in docs.values())
            for docs in tables.values()):
        raise StorageError(f"{path}: damaged: the tables are not objects of documents")
    # Laid out by hand or by another tool: parsed whole, held parsed.
    loaded = {}
    for name, docs in tables.items():
        loaded[name] = Documents(where=str(path))
        loaded[name].update(docs)
    return Snapshot(loaded, int(document["funnel"]["seq"]),
                    sealed=schema == SCHEMA and warning is None, warning=warning)


def _checked(path: Path, header: dict, tables: dict[str, Documents],
             intact: bool | None) -> Snapshot | None:
    """A snapshot read the fast way, when its header is one this version reads as is."""
    schema = header.get("schema")
    if header.get("format") != FORMAT or not isinstance(header.get("seq"), int) or not (
            schema == SCHEMA or schema in READ_IN_PLACE):
        return None
    failed = intact is False or (schema == SCHEMA and intact is None)
    return Snapshot(tables, header["seq"], sealed=intact is True,
                    warning=sum_warning(path) if failed else None)


def schema_of(document: Any) -> int | None:
    """The schema of a parsed snapshot, or None when it is not a Funnel database."""
    if not isinstance(document, dict):
        return None
    header = document.get("funnel")
    if isinstance(header, dict) and header.get("format") == FORMAT:
        schema = header.get("schema")
        seq = header.get("seq")
        if isinstance(schema, int) and isinstance(seq, int) and "tables" in document:
            return schema
        return None
    meta = document.get("meta")
    if isinstance(meta, dict) and isinstance(meta.get("1"), dict) \
            and meta["1"].get("app") == "funnel" and meta["1"].get("schema") == 1:
        return 1
    return None


def _from_1(document: dict) -> dict:
    contacts = document.get("contacts") or {}
    if not isinstance(contacts, dict):
        raise ValueError("contacts is not an object")
    for key, contact in contacts.items():
        if not isinstance(contact, dict) or not {"created_at", "history"} <= contact.keys():
            raise ValueError(f"contact {key} is damaged (it lacks created_at or history)")
    return {"funnel": {"format": FORMAT, "schema": 2, "seq": 0},
            "tables": {"contacts": {key: compact_document(doc)
                                    for key, doc in contacts.items()}}}


def _from_2(document: dict) -> dict:
    # The same documents; the checksums are written with the file.
    return {"funnel": dict(document["funnel"], schema=3), "tables": document["tables"]}


MIGRATIONS: dict[int, Callable[[dict], dict]] = {1: _from_1, 2: _from_2}


def _migrate(path: Path, document: dict, schema: int) -> dict:
    original = schema
    try:
        while schema < SCHEMA:
            document = MIGRATIONS[schema](document)
            schema = document["funnel"]["schema"]
    except (ValueError, TypeError, AttributeError, KeyError) as error:
        raise StorageError(f"{path}: cannot migrate from schema {original}: {error}; "
                           "nothing was changed") from None
    backup = path.with_name(f"{path.name}.schema-{original}.bak")
    try:
        shutil.copy2(path, backup)
        os.chmod(backup, FILE_MODE)
        write_snapshot(path, document["tables"], document["funnel"]["seq"])
    except OSError as error:
        raise StorageError(f"{path}: cannot migrate (schema {original} to {SCHEMA}): "
                           f"{error.strerror}; nothing was changed") from None
    return document
