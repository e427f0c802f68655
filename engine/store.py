"""Contact storage on TinyDB: one JSON document per contact.

This is the simple store the engine started with: TinyDB's stock JSON storage,
which rewrites the file on every write. The workspace only uses the small
interface below, so a faster, crash-safe storage can replace it underneath.
"""

from __future__ import annotations

import json
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable

from tinydb import TinyDB
from tinydb.storages import JSONStorage

from .errors import StorageError
from .model import FIELDS, STATE_KEYS

SCHEMA_VERSION = 1
_CONTACTS = "contacts"
_META = "meta"
REQUIRED_KEYS = frozenset(FIELDS) | frozenset(STATE_KEYS)
FILE_MODE = 0o640  # owner reads and writes, group reads, nobody else


class ContactStore:
    def __init__(self, path: str | os.PathLike, *, create: bool = True) -> None:
        self.path = Path(path)
        self._check_file(create)
        try:
            self._db = TinyDB(self.path, storage=JSONStorage, ensure_ascii=False)
        except OSError as error:
            raise StorageError(f"{self.path}: cannot open the database: "
                               f"{error.strerror}") from None
        self._contacts = self._db.table(_CONTACTS, cache_size=0)
        self._meta = self._db.table(_META, cache_size=0)
        with self._readable():
            self._check_schema()

    @contextmanager
    def _readable(self):
        """Turn TinyDB's reactions to a damaged or foreign file into one clear error."""
        try:
            yield
        except json.JSONDecodeError as error:
            self._db.close()
            raise StorageError(f"{self.path}: not a Funnel database (invalid JSON at line "
                               f"{error.lineno}, column {error.colno})") from None
        except (ValueError, TypeError, AttributeError, KeyError) as error:
            self._db.close()
            raise StorageError(f"{self.path}: not a Funnel database ({error})") from None

    def _check_file(self, create: bool) -> None:
        if self.path.is_dir():
            raise StorageError(f"{self.path}: is a directory, not a database file")
        if self.path.exists():
            # Only a brand-new, empty file may be made into a Funnel database.
            self._fresh = self.path.stat().st_size == 0
            if self._fresh and not create:
                raise StorageError(f"{self.path}: is an empty file, not a Funnel database")
            return
        self._fresh = True
        if not create:
            raise StorageError(f"{self.path}: no such database; create one with "
                               "'funnel generate' or 'funnel --demo'")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, FILE_MODE)
            os.close(descriptor)
        except OSError as error:
            raise StorageError(f"{self.path}: cannot create the database: "
                               f"{error.strerror}") from None

    def _check_schema(self) -> None:
        if self._fresh:
            self._meta.insert({"app": "funnel", "schema": SCHEMA_VERSION})
            return
        meta = self._meta.get(doc_id=1)
        if meta is None:
            raise StorageError(f"{self.path}: not a Funnel database (no Funnel header); "
                               "nothing was changed")
        if meta.get("app") != "funnel":
            raise StorageError(f"{self.path}: not a Funnel database")
        if meta.get("schema") != SCHEMA_VERSION:
            raise StorageError(f"{self.path}: database schema {meta.get('schema')!r} is not "
                               f"supported (this Funnel reads schema {SCHEMA_VERSION})")

    def load_all(self) -> dict[int, dict]:
        with self._readable():
            documents = {document.doc_id: dict(document) for document in self._contacts.all()}
        for contact_id, document in documents.items():
            if not REQUIRED_KEYS <= document.keys():
                missing = sorted(REQUIRED_KEYS - document.keys())
                raise StorageError(f"{self.path}: contact {contact_id} is damaged: it lacks "
                                   + ", ".join(missing[:5])
                                   + (" and more" if len(missing) > 5 else ""))
        return documents

    def insert(self, document: dict) -> int:
        return self._contacts.insert(document)

    def insert_many(self, documents: Iterable[dict]) -> list[int]:
        return self._contacts.insert_multiple(documents)

    def replace(self, contact_id: int, document: dict) -> None:
        # Documents always carry every key, so TinyDB's merge-update replaces them whole.
        self._contacts.update(document, doc_ids=[contact_id])

    def close(self) -> None:
        self._db.close()
