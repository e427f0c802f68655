"""A crash-safe, multi-process storage for TinyDB: a JSON snapshot plus a JSON-lines journal.

Files, for a database at ``PATH``:

- ``PATH``          the snapshot: one JSON object; a header line, then one document
                    per line (greppable, diffable);
- ``PATH.journal``  one JSON object per line: a header, then one line per commit
                    (``{"seq", "at", "by", "table", "put": {id: doc}, "del": [id]}``);
- ``PATH.lock``     held (``flock``) by a writer for the few milliseconds of a commit.

A commit takes the lock, reads whatever other processes appended since (so this
process never writes over them), appends one line and fsyncs: its cost does not
depend on the size of the database. Compaction folds the journal into a new
snapshot (temp file, fsync, ``os.replace``, fsync of the directory) while holding
the lock only to capture and to swap. Loading ignores a torn last line (a writer
killed mid-append never acknowledged it) and refuses a damaged line elsewhere.
"""

from __future__ import annotations

import errno
import fcntl
import json
import math
import os
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from tinydb.storages import Storage

from funnel.engine.store.documents import Documents, dump, snapshot_chunks
from funnel.engine.errors import FieldError, StorageError
from funnel.engine.store.migrate import FORMAT, SCHEMA, read_snapshot

FILE_MODE = 0o640  # owner reads and writes, group reads, nobody else
COMPACT_BYTES = 32 * 2**20  # fold the journal into the snapshot past this size
LOCK_TIMEOUT = 10.0


@dataclass
class StorePaths:
    snapshot: Path
    journal: Path
    lock: Path

    @classmethod
    def of(cls, path: str | os.PathLike) -> "StorePaths":
        snapshot = Path(path)
        return cls(snapshot, snapshot.with_name(snapshot.name + ".journal"),
                   snapshot.with_name(snapshot.name + ".lock"))


@dataclass
class LoadReport:
    """What loading found: used by ``funnel check`` and shown as warnings."""

    snapshot_seq: int = 0
    records: int = 0
    torn_tail: bytes = b""
    warnings: list[str] = field(default_factory=list)


# -- values ---------------------------------------------------------------------

def check_json_native(value: Any, where: str) -> None:
    """Refuse anything JSON cannot hold exactly, before it can reach the disk."""
    kind = type(value)
    if kind is str:
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise FieldError(where, "text with an unpaired surrogate cannot be stored") from None
        return
    if value is None or kind is bool or kind is int:
        return
    if kind is float:
        if not math.isfinite(value):
            raise FieldError(where, f"{value!r} cannot be stored (not a finite number)")
        return
    if kind is list:
        for index, item in enumerate(value):
            check_json_native(item, f"{where}[{index}]")
        return
    if kind is dict:
        for key, item in value.items():
            if type(key) is not str:
                raise FieldError(where, f"key {key!r} cannot be stored (keys must be text)")
            check_json_native(item, f"{where}.{key}" if where else key)
        return
    raise FieldError(where, f"a {kind.__name__} cannot be stored (only JSON values)")


def encode_document(document: Any, where: str) -> str:
    """Check a document as ``commit`` does and encode it, without holding any lock."""
    if type(document) is not dict:
        raise FieldError(where, "a stored document must be a JSON object")
    check_json_native(document, where)
    return dump(document)


# -- files ------------------------------------------------------------------------

def _fsync_directory(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _write_atomically(target: Path, chunks: Iterator[bytes | str]) -> None:
    """Temp file beside the target, fsync, rename over it, fsync the directory."""
    temp = target.with_name(f".{target.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    descriptor = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    try:
        with os.fdopen(descriptor, "wb", buffering=1 << 20) as handle:
            for chunk in chunks:
                handle.write(chunk.encode("utf-8") if isinstance(chunk, str) else chunk)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    _fsync_directory(target.parent)


def _snapshot_chunks(tables: dict, seq: int) -> Iterator[bytes]:
    return snapshot_chunks(tables, seq, SCHEMA, FORMAT)


def remove_stale_temps(paths: StorePaths) -> list[Path]:
    """Delete temp files left by a process killed mid-write (its pid is gone)."""
    removed = []
    for target in (paths.snapshot, paths.journal):
        prefix = f".{target.name}."
        for candidate in target.parent.glob(prefix + "*"):
            rest = candidate.name[len(prefix):].split(".")
            if len(rest) != 3 or rest[2] not in ("tmp", "compact") or not rest[0].isdigit():
                continue
            if _alive(int(rest[0])):
                continue
            try:
                candidate.unlink()
                removed.append(candidate)
            except OSError:
                pass
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _journal_header(base_seq: int) -> str:
    return dump({"journal": FORMAT, "schema": SCHEMA, "base": base_seq}) + "\n"


class _FileLock:
    """An exclusive ``flock`` on PATH.lock, re-entrant within this process."""

    def __init__(self, path: Path, timeout: float) -> None:
        self.path = path
        self.timeout = timeout
        self._descriptor: int | None = None
        self._depth = 0

    def acquire(self) -> None:
        if self._depth:
            self._depth += 1
            return
        try:
            descriptor = os.open(self.path, os.O_RDWR | os.O_CREAT, FILE_MODE)
        except OSError as error:
            raise _readonly_error(self.path, error) from None
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    os.close(descriptor)
                    raise StorageError(f"{self.path.with_suffix('')}: locked by another "
                                       f"process for more than {self.timeout:g} s; try again"
                                       ) from None
                time.sleep(0.002)
        self._descriptor = descriptor
        self._depth = 1

    def held_elsewhere(self) -> bool:
        """True while another process holds the lock (this one does not)."""
        if self._depth:
            return False
        try:
            descriptor = os.open(self.path, os.O_RDONLY)
        except OSError:
            return False
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        except OSError:
            return False
        finally:
            os.close(descriptor)  # closing also releases a lock taken just now
        return False

    def release(self) -> None:
        self._depth -= 1
        if self._depth == 0 and self._descriptor is not None:
            fcntl.flock(self._descriptor, fcntl.LOCK_UN)
            os.close(self._descriptor)
            self._descriptor = None


def _readonly_error(path: Path, error: OSError) -> StorageError:
    if error.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return StorageError(f"{path.parent}: cannot write here ({error.strerror}); the "
                            "database can only be read")
    return StorageError(f"{path}: {error.strerror}")


# -- the storage ------------------------------------------------------------------

class JournalStorage(Storage):
    """TinyDB storage: ``read`` serves the in-memory tables; writes go through ``commit``."""

    def __init__(self, path: str | os.PathLike, *, create: bool = True,
                 lock_timeout: float = LOCK_TIMEOUT, compact_bytes: int = COMPACT_BYTES,
                 **_ignored: Any) -> None:
        self.paths = StorePaths.of(path)
        self.compact_bytes = compact_bytes
        self._lock = _FileLock(self.paths.lock, lock_timeout)
        self._mutex = threading.RLock()  # the journal position and tables, within a process
        self._tables: dict[str, Documents] = {}
        self._seq = 0
        # The journal we follow, held open: while we hold it its inode cannot be reused,
        # so a journal swapped by another process's compaction is always noticed.
        self._journal_handle: Any = None
        self._journal_inode: int | None = None
        self._generation = 0  # bumped whenever we start following another journal file
        self._offset = 0  # end of the last good journal line we applied
        self._compacting = False
        self.report = LoadReport()
        self._open(create)

    # -- TinyDB's Storage interface -------------------------------------------
    def read(self) -> dict[str, Documents]:
        return self._tables

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        """A whole-database write (TinyDB's drop_tables and the like): a new snapshot.

        FunnelTable never calls this for ordinary edits; they go through ``commit``.
        """
        for name, documents in data.items():
            if not isinstance(documents, Documents):
                check_json_native(documents, name)
        with self._mutex:
            self._lock.acquire()
            try:
                self.refresh()
                self._tables = {name: _as_documents(documents, str(self.paths.snapshot))
                                for name, documents in data.items()}
                self._seq += 1
                _write_atomically(self.paths.snapshot, _snapshot_chunks(self._tables, self._seq))
                _write_atomically(self.paths.journal, iter([_journal_header(self._seq)]))
                self._offset = self._track()
                self.report.snapshot_seq = self._seq
            except OSError as error:
                raise _readonly_error(self.paths.snapshot, error) from None
            finally:
                self._lock.release()

    def close(self) -> None:
        # One-off commands leave small journals alone; a session that wrote a lot folds it.
        try:
            if self._journal_records_pending() and self._offset > self.compact_bytes // 8:
                self.compact(wait=False)
        except StorageError:
            pass  # another writer holds the lock; it or a later close will compact
        finally:
            self._track(None)

    # -- opening -----------------------------------------------------------------
    def _open(self, create: bool) -> None:
        paths = self.paths
        if paths.snapshot.is_dir():
            raise StorageError(f"{paths.snapshot}: is a directory, not a database file")
        if not paths.snapshot.exists() or paths.snapshot.stat().st_size == 0:
            if not create:
                what = "an empty file" if paths.snapshot.exists() else "no such database"
                raise StorageError(f"{paths.snapshot}: {what}; create one with "
                                   "'funnel generate' or 'funnel --demo'")
            self._create()
        for _attempt in range(20):
            if self._load():
                return
            time.sleep(0.01)  # a compaction swapped the files under us: read again
        raise StorageError(f"{paths.snapshot}: the snapshot and journal keep changing; "
                           "try again")

    def _create(self) -> None:
        paths = self.paths
        try:
            paths.snapshot.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise _readonly_error(paths.snapshot, error) from None
        self._lock.acquire()
        try:
            if paths.snapshot.exists() and paths.snapshot.stat().st_size > 0:
                return  # another process created it first
            try:
                _write_atomically(paths.snapshot, _snapshot_chunks({}, 0))
            except OSError as error:
                raise _readonly_error(paths.snapshot, error) from None
        finally:
            self._lock.release()

    def _load(self) -> bool:
        """Read snapshot then journal; False when a compaction raced us."""
        tables, seq = read_snapshot(self.paths.snapshot)
        report = LoadReport(snapshot_seq=seq)
        try:
            handle = open(self.paths.journal, "rb")
        except FileNotFoundError:
            self._tables, self._seq, self.report = tables, seq, report
            self._track(None)
            self._offset = 0
            return True
        except OSError as error:
            raise StorageError(f"{self.paths.journal}: cannot read the journal: "
                               f"{error.strerror}") from None
        data = handle.read()
        try:
            base, offset = self._journal_base(data)
        except StorageError:
            handle.close()
            raise
        if base > seq:
            handle.close()
            return False
        self._tables, self._seq = tables, seq
        self._track(handle)
        self._offset = offset
        self._apply_journal(data, offset, report)
        if report.torn_tail and self._lock.held_elsewhere():
            # Not interrupted: another process is writing that record right now (it
            # holds the lock). The next catch-up reads it whole; nothing to warn about.
            report.warnings = [warning for warning in report.warnings
                               if "incomplete last record" not in warning]
            report.torn_tail = b""
        self.report = report
        return True

    def _journal_base(self, data: bytes) -> tuple[int, int]:
        end = data.find(b"\n")
        if end < 0:
            raise StorageError(f"{self.paths.journal}: the journal header is damaged; "
                               "run 'funnel check' to repair")
        try:
            header = json.loads(data[:end])
            if header.get("journal") != FORMAT:
                raise ValueError
            return int(header["base"]), end + 1
        except (ValueError, KeyError, TypeError, AttributeError):
            raise StorageError(f"{self.paths.journal}: not a Funnel journal (bad header); "
                               "run 'funnel check' to repair") from None

    def _apply_journal(self, data: bytes, start: int, report: LoadReport,
                       base: int = 0) -> set[tuple[str, str]]:
        """Apply complete lines of ``data`` (which sits at file offset ``base``) from
        ``start``; stop before a torn last line."""
        changed: set[tuple[str, str]] = set()
        position = start
        line_number = data.count(b"\n", 0, start) + 1
        where = (lambda: f"{self.paths.journal}:{line_number}") if base == 0 else \
            (lambda: f"{self.paths.journal} (byte {base + position})")
        while position < len(data):
            end = data.find(b"\n", position)
            if end < 0:
                report.torn_tail = data[position:]
                report.warnings.append(
                    f"{where()}: ignored an incomplete last record (a write that was "
                    "interrupted and never acknowledged)")
                break
            line = data[position:end]
            try:
                record = json.loads(line)
                table, puts, gone, seq = (record["table"], record.get("put", {}),
                                          record.get("del", []), record["seq"])
                if type(table) is not str or type(seq) is not int or type(puts) is not dict \
                        or type(gone) is not list \
                        or not all(type(doc) is dict for doc in puts.values()) \
                        or not all(type(key) is str for key in gone):
                    raise ValueError("a record of the wrong shape")
            except (ValueError, KeyError, TypeError, AttributeError):
                if data.find(b"\n", end + 1) < 0 and not data[end + 1:].strip():
                    report.torn_tail = data[position:]
                    report.warnings.append(
                        f"{where()}: ignored a damaged last record (an interrupted write)")
                    break
                raise StorageError(f"{where()}: damaged record in the middle of the journal; "
                                   "run 'funnel check' to repair") from None
            if seq > self._seq:
                documents = self._table(table)
                documents.update(puts)
                for key in gone:
                    documents.pop(key, None)
                changed.update((table, key) for key in puts)
                changed.update((table, key) for key in gone)
                self._seq = seq
                report.records += 1
            position = end + 1
            line_number += 1
            self._offset = base + position
        return changed

    # -- seeing other processes' commits -----------------------------------------
    def refresh(self) -> set[tuple[str, str]]:
        """Apply what other processes committed since; returns the (table, id) changed."""
        with self._mutex:
            try:
                stat = os.stat(self.paths.journal)
            except FileNotFoundError:
                stat = None
            inode = stat.st_ino if stat else None
            if inode != self._journal_inode:
                return self._follow_new_journal(inode)
            if stat is None or stat.st_size == self._offset:
                return set()
            self._journal_handle.seek(self._offset)
            tail = self._journal_handle.read()
            # A torn tail here is most likely a commit still being written: not a warning.
            return self._apply_journal(tail, 0, LoadReport(), base=self._offset)

    def _follow_new_journal(self, inode: int | None) -> set[tuple[str, str]]:
        """Another process compacted. If we had seen everything it folded in, the new
        journal holds all we lack: no need to read the snapshot again."""
        if inode is not None:
            try:
                handle = open(self.paths.journal, "rb")
            except OSError:
                return self._reload()
            try:
                data = handle.read()
                base, start = self._journal_base(data)
            except (OSError, StorageError):
                handle.close()
                return self._reload()
            if os.fstat(handle.fileno()).st_ino == inode and base <= self._seq:
                self._track(handle)
                self._offset = start
                self.report.snapshot_seq = base
                return self._apply_journal(data, start, LoadReport())
            handle.close()
        return self._reload()

    def _track(self, handle: Any = ...) -> int:
        """Follow ``handle`` (default: open the journal now); returns its size."""
        if self._journal_handle is not None:
            self._journal_handle.close()
        if handle is ...:
            handle = open(self.paths.journal, "rb")
        self._journal_handle = handle
        self._generation += 1
        if handle is None:
            self._journal_inode = None
            return 0
        stat = os.fstat(handle.fileno())
        self._journal_inode = stat.st_ino
        return stat.st_size

    def _reload(self) -> set[tuple[str, str]]:
        """The journal was swapped by a compaction: reload, and say which documents differ."""
        before = self._tables
        self._open(create=False)
        changed = set()
        for name in set(before) | set(self._tables):
            old, new = before.get(name, Documents()), self._tables.get(name, Documents())
            for key in set(old) | set(new):
                if key not in old or key not in new or old.encoded(key) != new.encoded(key):
                    changed.add((name, key))
        return changed

    def _table(self, name: str) -> Documents:
        documents = self._tables.get(name)
        if documents is None:
            documents = self._tables[name] = Documents(where=str(self.paths.snapshot))
        return documents

    # -- writing -------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[set[tuple[str, str]]]:
        """Hold the writer lock, caught up with every other process's commits.

        Yields the set of documents other processes changed since we last looked.
        """
        with self._mutex:
            self._lock.acquire()
            try:
                changed = self.refresh()
                self._drop_torn_tail()
                yield changed
            finally:
                self._lock.release()
        self._maybe_compact()

    def _drop_torn_tail(self) -> None:
        """Cut an interrupted record left by a killed writer, so ours starts on a clean line."""
        try:
            size = os.stat(self.paths.journal).st_size
        except FileNotFoundError:
            return
        if size > self._offset:
            with open(self.paths.journal, "r+b") as handle:
                handle.truncate(self._offset)
                os.fsync(handle.fileno())

    def commit(self, table: str, puts: dict[str, dict], gone: list[str] = (),
               by: str | None = None) -> int:
        """Append one record and fsync; the caller holds ``transaction()``."""
        with self._mutex:
            if not self._lock._depth:
                raise RuntimeError("commit() outside transaction()")
            for key, document in puts.items():
                if type(key) is not str or type(document) is not dict:
                    raise FieldError(f"{table} {key}", "a stored document must be a JSON "
                                     "object under a text id")
                check_json_native(document, f"{table} {key}")
            seq = self._seq + 1
            record = {"seq": seq, "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                      "by": by, "table": table}
            if puts:
                record["put"] = puts
            if gone:
                record["del"] = list(gone)
            line = (dump(record) + "\n").encode("utf-8")
            self._append(line)
            documents = self._table(table)
            documents.update(puts)
            for key in gone:
                documents.pop(key, None)
            self._seq = seq
            return seq

    def commit_encoded(self, table: str, puts: dict[str, tuple[dict, str]],
                       by: str | None = None) -> int:
        """``commit`` for documents already checked and encoded by ``encode_document``
        (before the lock was taken): under the lock a big batch only appends."""
        with self._mutex:
            if not self._lock._depth:
                raise RuntimeError("commit_encoded() outside transaction()")
            seq = self._seq + 1
            head = dump({"seq": seq, "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                         "by": by, "table": table})
            body = ",".join(f"{dump(key)}:{encoded}" for key, (_, encoded) in puts.items())
            self._append(f'{head[:-1]},"put":{{{body}}}}}\n'.encode("utf-8"))
            self._table(table).update({key: document for key, (document, _) in puts.items()})
            self._seq = seq
            return seq

    def _append(self, line: bytes) -> None:
        journal = self.paths.journal
        try:
            if self._journal_inode is None:
                _write_atomically(journal, iter([_journal_header(self._seq)]))
                self._offset = self._track()
            descriptor = os.open(journal, os.O_WRONLY | os.O_APPEND)
        except OSError as error:
            raise _readonly_error(journal, error) from None
        try:
            written = os.write(descriptor, line)
            if written != len(line):
                raise StorageError(f"{journal}: short write ({written} of {len(line)} bytes); "
                                   "is the disk full?")
            os.fsync(descriptor)
        except OSError as error:
            raise StorageError(f"{journal}: cannot write: {error.strerror}") from None
        finally:
            os.close(descriptor)
        self._offset += len(line)

    # -- compaction ------------------------------------------------------------------
    def _journal_records_pending(self) -> bool:
        return self._journal_inode is not None and self._offset > 0 and \
            self._seq > self.report.snapshot_seq

    def _maybe_compact(self) -> None:
        if self._offset < self.compact_bytes or self._compacting:
            return
        self._compacting = True
        thread = threading.Thread(target=self._compact_quietly, name="funnel-compact",
                                  daemon=True)
        thread.start()

    def _compact_quietly(self) -> None:
        try:
            self.compact()
        except StorageError:
            pass  # the next commit past the threshold tries again
        finally:
            self._compacting = False

    def compact(self, wait: bool = True) -> None:
        """Fold the journal into a new snapshot, holding the lock only to capture and swap."""
        saved = self._lock.timeout
        if not wait:
            self._lock.timeout = 0.0
        try:
            with self._mutex:
                self._lock.acquire()
                try:
                    self.refresh()
                    if self._journal_inode is None:
                        return  # no journal: the snapshot already holds everything
                    seq, generation, offset = self._seq, self._generation, self._offset
                    captured = {name: docs.copy() for name, docs in self._tables.items()}
                finally:
                    self._lock.release()
        finally:
            self._lock.timeout = saved
        remove_stale_temps(self.paths)
        temp = self.paths.snapshot.with_name(
            f".{self.paths.snapshot.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.compact")
        try:
            descriptor = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
            with os.fdopen(descriptor, "wb", buffering=1 << 20) as handle:
                for chunk in _snapshot_chunks(captured, seq):
                    handle.write(chunk)
                handle.flush()
                os.fsync(handle.fileno())
            with self._mutex:
                self._lock.acquire()
                try:
                    self.refresh()
                    if self._generation != generation:
                        return  # another process compacted meanwhile; ours is stale
                    # Lines committed after the capture move to the new journal unchanged.
                    self._journal_handle.seek(offset)
                    later = self._journal_handle.read(self._offset - offset)
                    os.replace(temp, self.paths.snapshot)
                    _fsync_directory(self.paths.snapshot.parent)
                    _write_atomically(self.paths.journal,
                                      iter([_journal_header(seq), later.decode("utf-8")]))
                    self._offset = self._track()
                    self.report.snapshot_seq = seq
                finally:
                    self._lock.release()
        except OSError as error:
            raise _readonly_error(self.paths.snapshot, error) from None
        finally:
            temp.unlink(missing_ok=True)


def _as_documents(documents: Any, where: str) -> Documents:
    if isinstance(documents, Documents):
        return documents
    converted = Documents(where=where)
    converted.update(documents)
    return converted
