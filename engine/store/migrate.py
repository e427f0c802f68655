"""Reading a snapshot file: its schema version, and migrations from older schemas.

Schema history:
1. TinyDB's stock JSON layout, ``{"meta": {"1": {"app": "funnel", "schema": 1}},
   "contacts": {...}}``: the engine's first store.
2. ``{"funnel": {"format": "funnel-store", "schema": 2, "seq": N}, "tables": {...}}``
   plus a journal beside it; documents keep only the fields that have a value.

A migration writes the new snapshot atomically and keeps the old file as
``PATH.schema-N.bak``; nothing is changed unless the whole migration succeeds.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any, Callable

from funnel.engine.errors import StorageError
from funnel.engine.model import compact_document
from funnel.engine.store.documents import Documents
from funnel.engine.store.layout import FILE_MODE
from funnel.engine.store.snapshot import FORMAT, SCHEMA, read_lines, write_snapshot


def read_snapshot(path: Path) -> tuple[dict[str, Documents], int]:
    """Return (tables, seq) of a snapshot at the current schema, migrating if needed."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise StorageError(f"{path}: no such database") from None
    except OSError as error:
        raise StorageError(f"{path}: cannot read: {error.strerror}") from None
    fast = read_lines(data, str(path))
    if fast is not None:
        header, tables = fast
        if header.get("format") == FORMAT and header.get("schema") == SCHEMA \
                and isinstance(header.get("seq"), int):
            return tables, header["seq"]
    try:
        document = json.loads(data)
    except UnicodeDecodeError:
        raise StorageError(f"{path}: not a Funnel database (not UTF-8 text)") from None
    except json.JSONDecodeError as error:
        raise StorageError(f"{path}: not a Funnel database, or damaged (invalid JSON at line "
                           f"{error.lineno}, column {error.colno}); run 'funnel check'"
                           ) from None
    schema = schema_of(document)
    if schema is None:
        raise StorageError(f"{path}: not a Funnel database; nothing was changed")
    if schema > SCHEMA:
        raise StorageError(f"{path}: written by a newer Funnel (schema {schema}); this one "
                           f"reads schema {SCHEMA} and older")
    if schema < SCHEMA:
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
    return loaded, int(document["funnel"]["seq"])


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


MIGRATIONS: dict[int, Callable[[dict], dict]] = {1: _from_1}


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
