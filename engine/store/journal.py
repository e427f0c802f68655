"""A crash-safe, multi-process storage for TinyDB: a JSON snapshot plus a JSON-lines journal.

Files, for a database at ``PATH`` (see ``layout``): ``PATH``, the snapshot (``snapshot``
has its layout); ``PATH.journal``, one line per commit (``records``); ``PATH.lock``,
held by a writer for the few milliseconds of a commit (``lock``).

A commit takes the lock, reads whatever other processes appended since (so this
process never writes over them), appends one sealed line chained to the one before
(``records``) and fsyncs: its cost does not depend on the size of the database.
``compaction`` folds the journal into a new snapshot now and then (only a session
that wrote does so on closing: reading never rewrites a file); ``replica`` keeps
this process's tables and catches up with other processes' commits.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Iterator

from tinydb.storages import Storage

from funnel.engine.errors import FieldError, StorageError
from funnel.engine.store.compaction import COMPACT_BYTES, Compactor
from funnel.engine.store.documents import Documents
from funnel.engine.store.layout import StorePaths, write_error
from funnel.engine.store.lock import LOCK_TIMEOUT, FileLock
from funnel.engine.store.records import (Chain, Encoded, LoadReport, SealedRecord,
                                         write_journal)
from funnel.engine.store.replica import Changed, Replica
from funnel.engine.store.seal import ZERO
from funnel.engine.store.snapshot import read_stamp, write_snapshot
from funnel.engine.store.values import check_json_native, encode_document

WRITE_CHUNK = 1 << 20  # a big record is written a MiB at a time, never built whole


class JournalStorage(Storage):
    """TinyDB storage: ``read`` serves the in-memory tables; writes go through ``commit``."""

    def __init__(self, path: str | os.PathLike[str], *, create: bool = True,
                 lock_timeout: float = LOCK_TIMEOUT, compact_bytes: int = COMPACT_BYTES,
                 required: Mapping[str, frozenset[str]] | None = None,
                 **_ignored: Any) -> None:
        self.paths = StorePaths.of(path)
        self._lock = FileLock(self.paths.lock, lock_timeout)
        self._mutex = threading.RLock()  # the journal position and tables, within a process
        # ``required``: keys each document of a table must hold, checked on opening a
        # snapshot that has no checksum (one with a sum was written by Funnel).
        self._replica = Replica(self.paths, self._lock, required)
        self._compactor = Compactor(self.paths, self._lock, self._mutex, self._replica,
                                    compact_bytes)
        self._wrote = False  # whether this storage committed anything (see ``close``)
        snapshot = self.paths.snapshot
        if create and not snapshot.is_dir() and (
                not snapshot.exists() or snapshot.stat().st_size == 0):
            self._create()
        self._replica.open()

    @property
    def report(self) -> LoadReport:
        return self._replica.report

    @property
    def seq(self) -> int:
        """The last commit this process has seen (its own or, once caught up, others')."""
        return self._replica.seq

    @property
    def position(self) -> tuple[int, str] | None:
        """What identifies the data this process has seen: (the last commit, the journal
        chain's sum there, or the snapshot's own sum when nothing was journalled since it
        was written whole). Another history reaching the same sequence (a backup, another
        file) differs in the second. None when the snapshot's sum did not match (edited
        by hand) or cannot be read back: then nothing may be cached against this state."""
        with self._mutex:
            replica = self._replica
            seq, chain = replica.seq, replica.chain
            if not replica.sealed:
                return None
            if chain.seq == seq and chain.head != ZERO:
                return seq, chain.head
        stamp = read_stamp(self.paths.snapshot)
        return (seq, f"snapshot-{stamp[1]}") if stamp is not None and stamp[0] == seq else None

    @property
    def compacting(self) -> bool:
        """Whether a background compaction is running."""
        return self._compactor.running

    # -- TinyDB's Storage interface ---------------------------------------------------
    # TinyDB's Table only uses the mapping API of what ``read`` returns, so lazily
    # parsed Documents stand in for its dicts.
    def read(self) -> dict[str, Documents]:  # type: ignore[override]
        return self._replica.tables

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        """A whole-database write (TinyDB's drop_tables and the like): a new snapshot.

        FunnelTable never calls this for ordinary edits; they go through ``commit``.
        """
        for name, documents in data.items():
            if not isinstance(documents, Documents):
                check_json_native(documents, name)
        replica = self._replica
        with self._mutex:
            self._lock.acquire()
            try:
                replica.refresh()
                replica.tables = {name: _as_documents(documents, str(self.paths.snapshot))
                                  for name, documents in data.items()}
                replica.seq += 1
                self._wrote = True
                write_snapshot(self.paths.snapshot, replica.tables, replica.seq)
                write_journal(self.paths.journal, replica.seq)
                replica.track_journal(Chain(replica.seq, ZERO))
                replica.report.snapshot_seq = replica.seq
                replica.sealed = True
            except OSError as error:
                raise write_error(self.paths.snapshot, error) from None
            finally:
                self._lock.release()

    def close(self) -> None:
        # One-off commands leave small journals alone; a session that wrote a lot folds
        # it, and so does one that wrote to a file without checksums (an older schema),
        # which then opens without parsing every document. A session that only read
        # never rewrites a file, however large the journal.
        try:
            if self._wrote and self._compactor.pending() and (
                    self._replica.offset > self._compactor.threshold // 8
                    or not self._replica.sealed):
                self.compact(wait=False)
        except StorageError:
            pass  # another writer holds the lock; it or a later close will compact
        finally:
            self._replica.track(None)

    def _create(self) -> None:
        paths = self.paths
        try:
            paths.snapshot.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise write_error(paths.snapshot, error) from None
        self._lock.acquire()
        try:
            if paths.snapshot.exists() and paths.snapshot.stat().st_size > 0:
                return  # another process created it first
            try:
                write_snapshot(paths.snapshot, {}, 0)
            except OSError as error:
                raise write_error(paths.snapshot, error) from None
        finally:
            self._lock.release()

    # -- reading ---------------------------------------------------------------------
    def refresh(self) -> Changed:
        """Apply what other processes committed since; returns the (table, id) changed."""
        with self._mutex:
            return self._replica.refresh()

    # -- writing ---------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[Changed]:
        """Hold the writer lock, caught up with every other process's commits.

        Yields the set of documents other processes changed since we last looked.
        """
        with self._mutex:
            self._lock.acquire()
            try:
                changed = self._replica.refresh()
                self._drop_torn_tail()
                yield changed
            finally:
                self._lock.release()
        self._compactor.start_if_due()

    def _drop_torn_tail(self) -> None:
        """Cut an interrupted record left by a killed writer, so ours starts on a clean line."""
        try:
            size = os.stat(self.paths.journal).st_size
        except FileNotFoundError:
            return
        if size > self._replica.offset:
            with open(self.paths.journal, "r+b") as handle:
                handle.truncate(self._replica.offset)
                os.fsync(handle.fileno())

    def commit(self, table: str, puts: dict[str, dict], gone: Sequence[str] = (),
               by: str | None = None) -> int:
        """Append one record and fsync; the caller holds ``transaction()``."""
        with self._mutex:
            if not self._lock.held:
                raise RuntimeError("commit() outside transaction()")
            encoded: dict[str, Encoded] = {}
            for key, document in puts.items():
                if type(key) is not str or type(document) is not dict:
                    raise FieldError(f"{table} {key}", "a stored document must be a JSON "
                                     "object under a text id")
                encoded[key] = encode_document(document, f"{table} {key}")
            seq = self._replica.seq + 1
            self._start_journal()
            self._append(SealedRecord(seq, self._replica.chain.head, table, encoded.items(),
                                      gone, by), seq)
            self._replica.apply_encoded(table, encoded, gone, seq, parsed=puts)
            return seq

    def commit_encoded(self, table: str, puts: Mapping[str, Encoded],
                       by: str | None = None) -> int:
        """``commit`` for documents already checked and encoded by ``encode_document``
        (before the lock was taken): under the lock a big batch only appends, a piece
        at a time, and the store keeps the very bytes it was given."""
        with self._mutex:
            if not self._lock.held:
                raise RuntimeError("commit_encoded() outside transaction()")
            seq = self._replica.seq + 1
            self._start_journal()
            self._append(SealedRecord(seq, self._replica.chain.head, table, puts.items(), (),
                                      by), seq)
            self._replica.apply_encoded(table, puts, (), seq)
            return seq

    def _start_journal(self) -> None:
        """Make sure the next record can follow on: start a journal if there is none, or if
        the one there ends before the snapshot (a repair or whole write interrupted
        between its two files: those records are all in the snapshot)."""
        replica = self._replica
        if replica.following and replica.chain.seq == replica.seq:
            return
        try:
            write_journal(self.paths.journal, replica.seq)
            replica.track_journal(Chain(replica.seq, ZERO))
        except OSError as error:
            raise write_error(self.paths.journal, error) from None

    def _append(self, record: SealedRecord, seq: int) -> None:
        """Write one record at the journal's end, in chunks, and fsync. A failure part
        way leaves a line without its newline: a torn tail, which reading ignores and
        the next transaction cuts (``_drop_torn_tail``), as for a killed writer."""
        journal = self.paths.journal
        replica = self._replica
        self._wrote = True
        try:
            descriptor = os.open(journal, os.O_WRONLY | os.O_APPEND)
        except OSError as error:
            raise write_error(journal, error) from None
        size = 0
        try:
            pending: list[bytes] = []
            buffered = 0
            for piece in record:
                pending.append(piece)
                buffered += len(piece)
                if buffered >= WRITE_CHUNK:
                    size += _write_all(descriptor, b"".join(pending), journal)
                    pending, buffered = [], 0
            size += _write_all(descriptor, b"".join(pending), journal)
            os.fsync(descriptor)
        except OSError as error:
            raise StorageError(f"{journal}: cannot write: {error.strerror}") from None
        finally:
            os.close(descriptor)
        replica.offset += size
        replica.chain.seq, replica.chain.head = seq, record.sum

    # -- compaction ------------------------------------------------------------------
    def compact(self, wait: bool = True) -> None:
        """Fold the journal into a new snapshot (see ``compaction``)."""
        self._compactor.compact(wait)


def _write_all(descriptor: int, data: bytes, journal: os.PathLike[str]) -> int:
    written = os.write(descriptor, data)
    if written != len(data):
        raise StorageError(f"{journal}: short write ({written} of {len(data)} bytes); "
                           "is the disk full?")
    return written


def _as_documents(documents: Any, where: str) -> Documents:
    if isinstance(documents, Documents):
        return documents
    converted = Documents(where=where)
    converted.update(documents)
    return converted
