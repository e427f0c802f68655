"""This process's copy of a database: the tables, and how far into the journal it has read.

Opening reads the snapshot, then applies the journal's records. Catching up
(``refresh``) reads only what other processes appended since. When another process
compacts, the journal file is swapped for a new one: the replica notices (it keeps
the file it follows open, so the inode cannot be reused) and either carries on from
the new journal or, if that one skips records it has not seen, reloads.

Every record read is checked against the one before (``records.Chain``): anything
out of place stops the open or the catch-up with one line naming the damage, the
same words ``funnel check`` uses (``journal_scan`` says what it is).

The caller serialises access (``JournalStorage`` holds a mutex around every call).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Mapping
from typing import BinaryIO, Callable

from funnel.engine.errors import StorageError
from funnel.engine.store.documents import Documents
from funnel.engine.store.journal_scan import journal_damage, missing_commits
from funnel.engine.store.layout import StorePaths
from funnel.engine.store.lock import FileLock
from funnel.engine.store.migrate import read_snapshot
from funnel.engine.store.records import Chain, ChainBroken, LoadReport, read_header, read_records
from funnel.engine.store.seal import ZERO

Changed = set[tuple[str, str]]  # (table, document id) pairs


class Replica:
    def __init__(self, paths: StorePaths, lock: FileLock,
                 required: Mapping[str, frozenset[str]] | None = None) -> None:
        self.paths = paths
        self._lock = lock  # only asked whether another process is writing
        self._required = dict(required or {})  # keys every document of a table holds
        self.sealed = True  # the snapshot read had a checksum that matched
        self.tables: dict[str, Documents] = {}
        self.seq = 0  # the last commit applied
        self.offset = 0  # end of the last good journal line applied
        self.chain = Chain(0, ZERO)  # the journal's last record read, at ``offset``
        self.generation = 0  # bumped whenever we start following another journal file
        self.report = LoadReport()
        self._handle: BinaryIO | None = None  # the journal we follow, held open
        self._inode: int | None = None

    @property
    def following(self) -> bool:
        """Whether there is a journal (a database just written whole has none yet)."""
        return self._inode is not None

    # -- opening ----------------------------------------------------------------------
    def open(self) -> None:
        paths = self.paths
        if paths.snapshot.is_dir():
            raise StorageError(f"{paths.snapshot}: is a directory, not a database file")
        if not paths.snapshot.exists() or paths.snapshot.stat().st_size == 0:
            what = "an empty file" if paths.snapshot.exists() else "no such database"
            raise StorageError(f"{paths.snapshot}: {what}; create one with "
                               "'funnel generate' or 'funnel --demo'")
        behind: tuple[int, int] | None = None
        for _attempt in range(20):
            behind = self._load()
            if behind is None:
                return
            time.sleep(0.01)  # a compaction swapped the files under us: read again
        if behind is not None and not self._lock.held_elsewhere():
            raise missing_commits(paths, *behind)  # no race: the files disagree
        raise StorageError(f"{paths.snapshot}: the snapshot and journal keep changing; "
                           "try again")

    def _load(self) -> tuple[int, int] | None:
        """Read snapshot then journal; (snapshot seq, journal base) when the journal
        continues from a later snapshot than the one read (a compaction raced us)."""
        snapshot = read_snapshot(self.paths.snapshot)
        tables, seq = snapshot.tables, snapshot.seq
        if not snapshot.sealed:  # no sum, or a failed one: find a damaged document
            for name, documents in tables.items():  # now, not half-way through a command
                documents.verify(self._required.get(name, frozenset()))
        self.sealed = snapshot.sealed
        report = LoadReport(snapshot_seq=seq)
        if snapshot.warning:
            report.warnings.append(snapshot.warning)
        try:
            handle = open(self.paths.journal, "rb")
        except FileNotFoundError:
            self.tables, self.seq, self.report = tables, seq, report
            self.track(None)
            self.offset = 0
            self.chain = Chain(seq, ZERO)
            return None
        except OSError as error:
            raise StorageError(f"{self.paths.journal}: cannot read the journal: "
                               f"{error.strerror}") from None
        data = handle.read()
        try:
            chain, offset = read_header(data, self.paths.journal)
        except StorageError:
            handle.close()
            raise
        if chain.seq > seq:
            handle.close()
            return seq, chain.seq
        self.tables, self.seq = tables, seq
        self.track(handle)
        self.offset, self.chain = offset, chain
        self._apply_journal(data, offset, report)
        if report.torn_tail and (self._lock.held_elsewhere()
                                 or os.fstat(handle.fileno()).st_size > len(data)):
            # Not interrupted: another process is writing that record right now (it
            # holds the lock), or finished it since it was read (the journal grew: asked
            # after the lock, so a writer done in between is seen). The next catch-up
            # reads it whole; nothing to warn about.
            report.warnings = [warning for warning in report.warnings
                               if "incomplete last record" not in warning]
            report.torn_tail = b""
        self.report = report
        return None

    def _apply_journal(self, data: bytes, start: int, report: LoadReport,
                       base: int = 0) -> Changed:
        """Apply complete lines of ``data`` (which sits at file offset ``base``) from
        ``start``; stop before a torn last line."""
        journal = self.paths.journal
        where: Callable[[int, int], str] = (
            (lambda line, _position: f"{journal}:{line}") if base == 0 else
            (lambda _line, position: f"{journal} (byte {base + position})"))
        changed: Changed = set()
        try:
            for record, end in read_records(data, start, self.chain, report, where, journal):
                if record.seq > self.seq:
                    self.apply(record.table, record.puts, record.gone, record.seq)
                    changed.update((record.table, key) for key in record.puts)
                    changed.update((record.table, key) for key in record.gone)
                    report.records += 1
                self.offset = base + end
        except ChainBroken:
            raise journal_damage(self.paths) from None
        return changed

    # -- changing the tables ------------------------------------------------------------
    def table(self, name: str) -> Documents:
        documents = self.tables.get(name)
        if documents is None:
            documents = self.tables[name] = Documents(where=str(self.paths.snapshot))
        return documents

    def apply(self, table: str, puts: Mapping[str, dict], gone: Iterable[str],
              seq: int) -> None:
        """Apply one commit (read from the journal, or just appended by us)."""
        documents = self.table(table)
        documents.update(puts)
        for key in gone:
            documents.pop(key, None)
        self.seq = seq

    def apply_encoded(self, table: str, puts: Mapping[str, bytes], gone: Iterable[str],
                      seq: int, parsed: Mapping[str, dict] | None = None) -> None:
        """Apply one commit of ours, keeping each document as the JSON just written
        (``parsed``: the same documents as dicts, kept in the parsed cache)."""
        documents = self.table(table)
        for key, raw in puts.items():
            documents.put(key, raw, parsed.get(key) if parsed is not None else None)
        for key in gone:
            documents.pop(key, None)
        self.seq = seq

    # -- seeing other processes' commits -------------------------------------------------
    def refresh(self) -> Changed:
        """Apply what other processes committed since; returns the (table, id) changed."""
        try:
            stat = os.stat(self.paths.journal)
        except FileNotFoundError:
            stat = None
        inode = stat.st_ino if stat else None
        if inode != self._inode:
            return self._follow_new_journal(inode)
        if stat is None or stat.st_size == self.offset or self._handle is None:
            return set()
        self._handle.seek(self.offset)
        tail = self._handle.read()
        # A torn tail here is most likely a commit still being written: not a warning.
        return self._apply_journal(tail, 0, LoadReport(), base=self.offset)

    def _follow_new_journal(self, inode: int | None) -> Changed:
        """Another process compacted. If we had seen everything it folded in, the new
        journal holds all we lack: no need to read the snapshot again."""
        if inode is not None:
            try:
                handle = open(self.paths.journal, "rb")
            except OSError:
                return self._reload()
            try:
                data = handle.read()
                chain, start = read_header(data, self.paths.journal)
            except (OSError, StorageError):
                handle.close()
                return self._reload()
            if os.fstat(handle.fileno()).st_ino == inode and chain.seq <= self.seq:
                self.track(handle)
                self.offset, self.chain = start, chain
                self.report.snapshot_seq = chain.seq
                return self._apply_journal(data, start, LoadReport())
            handle.close()
        return self._reload()

    def _reload(self) -> Changed:
        """The journal was swapped by a compaction: reload, and say which documents differ."""
        before = self.tables
        self.open()
        changed: Changed = set()
        for name in set(before) | set(self.tables):
            old, new = before.get(name, Documents()), self.tables.get(name, Documents())
            for key in set(old) | set(new):
                if key not in old or key not in new or old.encoded(key) != new.encoded(key):
                    changed.add((name, key))
        return changed

    # -- the journal file followed -------------------------------------------------------
    def track(self, handle: BinaryIO | None) -> int:
        """Follow the journal open as ``handle`` (None: there is none); returns its size."""
        if self._handle is not None:
            self._handle.close()
        self._handle = handle
        self.generation += 1
        if handle is None:
            self._inode = None
            return 0
        stat = os.fstat(handle.fileno())
        self._inode = stat.st_ino
        return stat.st_size

    def track_journal(self, chain: Chain | None = None) -> None:
        """Follow the journal file just written by this process, from its end (``chain``:
        where its chain ends, if it is not where ours does)."""
        self.offset = self.track(open(self.paths.journal, "rb"))
        if chain is not None:
            self.chain = chain

    def read_journal(self, start: int) -> bytes:
        """The journal's bytes from ``start`` up to the last line applied."""
        if self._handle is None:
            return b""
        self._handle.seek(start)
        return self._handle.read(self.offset - start)
