"""Contact storage: TinyDB on the journal storage, with a table that writes in O(1).

TinyDB's own ``Table`` rewrites the whole table for every insert, update or
remove (read all, change, write all). ``FunnelTable`` keeps TinyDB's reading
API and turns each write into one journal record of just the changed documents.
The workspace uses the small ``ContactStore`` interface on top.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from typing import Any, Callable, Iterable, Iterator, Mapping, MutableMapping, Sequence

from tinydb import TinyDB
from tinydb.table import Document, Table

from funnel.engine.errors import StorageError
from funnel.engine.store.documents import Documents
from funnel.engine.store.journal import JournalStorage
from funnel.engine.store.layout import check_hint
from funnel.engine.store.records import Encoded, LoadReport
from funnel.engine.store.values import encode_document

_CONTACTS = "contacts"
Fields = Mapping | Callable[[MutableMapping], None]  # what TinyDB's update takes
REQUIRED_KEYS = frozenset({"created_at", "history", "rev"})


class FunnelTable(Table):
    """A TinyDB table whose writes cost one journal record, whatever the table size."""

    _storage: JournalStorage

    writer: str | None = None  # who the journal records as making the change

    def _commit(self, puts: dict[str, dict], gone: Iterable[str] = ()) -> None:
        with self._storage.transaction():
            self._storage.commit(self.name, puts, list(gone), by=self.writer)
        self.clear_cache()

    def _get_next_id(self) -> int:
        # Other processes insert too: always derive from the caught-up table, under the lock.
        table = self._read_table()
        return max((int(key) for key in table), default=0) + 1

    def insert(self, document: Mapping) -> int:
        return self.insert_multiple([document])[0]

    def insert_multiple(self, documents: Iterable[Mapping]) -> list[int]:
        with self._storage.transaction():
            next_id = self._get_next_id()
            puts: dict[str, dict] = {}
            for document in documents:
                if isinstance(document, Document):
                    doc_id = document.doc_id
                    if str(doc_id) in self._read_table() or str(doc_id) in puts:
                        raise ValueError(f"document with ID {doc_id} already exists")
                else:
                    doc_id, next_id = next_id, next_id + 1
                puts[str(doc_id)] = dict(document)
            if puts:
                self._commit(puts)
        return [int(key) for key in puts]

    @staticmethod
    def _select(table: Mapping[str, Mapping], cond, doc_ids: Iterable[int] | None) -> list[str]:
        if doc_ids is not None:
            return [str(doc_id) for doc_id in doc_ids if str(doc_id) in table]
        return [key for key, doc in table.items() if cond(doc)]

    def update(self, fields: Fields, cond=None,
               doc_ids: Iterable[int] | None = None) -> list[int]:
        with self._storage.transaction():
            table = self._read_table()
            keys = self._select(table, cond, doc_ids) if (cond, doc_ids) != (None, None) \
                else list(table)
            puts = {}
            for key in keys:
                document = dict(table[key])
                if callable(fields):
                    fields(document)
                else:
                    document.update(fields)
                puts[key] = document
            if puts:
                self._commit(puts)
        return [int(key) for key in puts]

    def remove(self, cond=None, doc_ids: Iterable[int] | None = None) -> list[int]:
        with self._storage.transaction():
            if cond is None and doc_ids is None:
                raise RuntimeError("Use truncate() to remove all documents")
            keys = self._select(self._read_table(), cond, doc_ids)
            if keys:
                self._commit({}, keys)
        return [int(key) for key in keys]

    def truncate(self) -> None:
        with self._storage.transaction():
            keys = list(self._read_table())
            if keys:
                self._commit({}, keys)

    def update_multiple(self, updates: Iterable[tuple[Fields, Any]]) -> list[int]:
        with self._storage.transaction():
            table = self._read_table()
            puts: dict[str, dict] = {}
            for fields, cond in updates:
                for key, document in table.items():
                    if cond(document):
                        merged = puts.get(key) or dict(document)
                        if callable(fields):
                            fields(merged)
                        else:
                            merged.update(fields)
                        puts[key] = merged
            if puts:
                self._commit(puts)
        return [int(key) for key in puts]

    def search(self, cond):
        # TinyDB caches query results per table; other processes' commits (seen through
        # refresh) must invalidate them too.
        seq = self._storage.seq
        if getattr(self, "_cached_at_seq", None) != seq:
            self.clear_cache()
            self._cached_at_seq = seq
        return super().search(cond)

    def _update_table(self, updater):  # pragma: no cover - every writer above avoids it
        raise NotImplementedError("FunnelTable writes through the journal")


class FunnelDB(TinyDB):
    """TinyDB on the journal storage, with ``FunnelTable`` tables."""

    table_class = FunnelTable

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("storage", JournalStorage)
        super().__init__(*args, **kwargs)

    @property
    def journal(self) -> JournalStorage:
        storage = self.storage
        assert isinstance(storage, JournalStorage)
        return storage

    def table(self, name: str, **kwargs: Any) -> FunnelTable:
        table = super().table(name, **kwargs)
        assert isinstance(table, FunnelTable)
        return table


class ContactStore:
    def __init__(self, path: str | os.PathLike, *, create: bool = True,
                 **storage_options: Any) -> None:
        self.path = path
        storage_options.setdefault("required", {_CONTACTS: REQUIRED_KEYS})
        self._db = FunnelDB(path, create=create, **storage_options)
        self._storage = self._db.journal
        self._contacts = self._db.table(_CONTACTS, cache_size=0)

    @property
    def warnings(self) -> list[str]:
        return self._storage.report.warnings

    @property
    def report(self) -> LoadReport:
        return self._storage.report

    def _documents(self) -> Mapping[str, dict]:
        return self._storage.read().get(_CONTACTS) or {}

    def _checked(self, key: str, document: dict) -> dict:
        # Checked when read (documents are parsed lazily), not all at open.
        if not REQUIRED_KEYS <= document.keys():
            missing = sorted(REQUIRED_KEYS - document.keys())
            raise StorageError(f"{self.path}: contact {key} is damaged: it lacks "
                               + ", ".join(missing) + f"; {check_hint(self.path)}")
        return document

    def __len__(self) -> int:
        return len(self._documents())

    def ids(self) -> list[int]:
        return [int(key) for key in self._documents()]

    def items(self) -> Iterator[tuple[int, dict]]:
        """Every (id, contact). The dicts are shared with the store: never mutate them."""
        documents = self._documents()
        walk = documents.walk() if isinstance(documents, Documents) else documents.items()
        for key, document in walk:
            yield int(key), self._checked(key, document)

    def peek(self, contact_id: int) -> dict | None:
        """Like ``get`` for a one-off pass: a stored document is parsed but not cached."""
        key = str(contact_id)
        documents = self._documents()
        if isinstance(documents, Documents):
            document = documents.peek(key)
        else:
            document = documents.get(key)
        return None if document is None else self._checked(key, document)

    def peek_many(self, contact_ids: list[int]) -> list[tuple[int, dict]]:
        """``peek`` of each of ``contact_ids`` still stored, in that order."""
        keys = [str(contact_id) for contact_id in contact_ids]
        documents = self._documents()
        found = documents.peek_many(keys) if isinstance(documents, Documents) else \
            [documents.get(key) for key in keys]
        return [(contact_id, self._checked(key, document))
                for contact_id, key, document in zip(contact_ids, keys, found)
                if document is not None]

    def get(self, contact_id: int) -> dict | None:
        key = str(contact_id)
        document = self._documents().get(key)
        return None if document is None else self._checked(key, document)

    @contextmanager
    def transaction(self) -> Iterator[set[int]]:
        """Lock, catch up with other processes; yields the ids they changed meanwhile."""
        with self._storage.transaction() as changed:
            yield {int(key) for table, key in changed if table == _CONTACTS}

    def insert_many(self, documents: Iterable[dict], by: str | None = None) -> list[int]:
        self._contacts.writer = by
        return self._contacts.insert_multiple(documents)

    @property
    def version(self) -> int:
        """The journal sequence number this view has caught up with. Any commit, by this
        process or another (once seen), changes it: a plan made at one version is still
        valid when the version is the same."""
        return self._storage.seq

    @property
    def position(self) -> tuple[int, str] | None:
        """``version`` and the journal chain's sum there: what a cache of this data keys
        on (None: it may not be cached; see ``JournalStorage.position``)."""
        return self._storage.position

    @staticmethod
    def encode(document: dict, where: str = "contact") -> Encoded:
        """Check and encode a document for ``write_many``, outside the lock: its JSON,
        which the store then keeps as it is (no dict per document)."""
        return encode_document(document, where)

    def write_many(self, new: Sequence[Encoded], puts: Mapping[int, Encoded],
                   by: str | None = None) -> list[int]:
        """Insert ``new`` and replace the ``puts`` (both from ``encode``) in one journal
        record: all or nothing. Call inside ``transaction``; returns the ids of ``new``."""
        with self._storage.transaction():
            documents = self._documents()
            next_id = max((int(key) for key in documents), default=0) + 1
            ids = list(range(next_id, next_id + len(new)))
            records = {str(contact_id): encoded for contact_id, encoded in puts.items()}
            for contact_id, encoded in zip(ids, new):
                records[str(contact_id)] = encoded
            if records:
                self._storage.commit_encoded(_CONTACTS, records, by=by)
                self._contacts.clear_cache()
        return ids

    def put(self, contact_id: int, document: dict, by: str | None = None) -> None:
        """Replace one contact's document (inside ``transaction``)."""
        with self._storage.transaction():
            self._storage.commit(_CONTACTS, {str(contact_id): document}, by=by)

    def put_and_remove(self, puts: Mapping[int, dict], gone: Iterable[int],
                       by: str | None = None) -> None:
        """Replace (or put back) some contacts and delete others in one journal record
        (its ``del`` list): a merge, or its undo (inside ``transaction``)."""
        with self._storage.transaction():
            self._storage.commit(_CONTACTS, {str(key): doc for key, doc in puts.items()},
                                 [str(key) for key in gone], by=by)
            self._contacts.clear_cache()

    def refresh(self) -> set[int]:
        changed = self._storage.refresh()
        return {int(key) for table, key in changed if table == _CONTACTS}

    def compact(self) -> None:
        self._storage.compact()

    def close(self) -> None:
        self._db.close()


__all__ = ["ContactStore", "FunnelDB", "FunnelTable"]
