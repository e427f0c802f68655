"""Compaction: folding the journal into a new snapshot, so it does not grow for ever.

The writer lock is held only to capture the tables and, later, to swap the files:
writing the snapshot (the slow part) happens while other processes keep committing.
Their commits made meanwhile are carried over, unchanged, into the new journal. If
another process compacted in between, this snapshot is stale and is thrown away.

Order of the swap, each step atomic: the snapshot is renamed over the old one, then
a new journal (header + the carried-over lines) replaces the old journal. A crash
between the two leaves a new snapshot and the old journal, whose records up to the
snapshot's sequence are skipped on load.
"""

from __future__ import annotations

import threading

from funnel.engine.errors import StorageError
from funnel.engine.files import AtomicFile
from funnel.engine.store.layout import FILE_MODE, StorePaths, remove_stale_temps, write_error
from funnel.engine.store.lock import FileLock
from funnel.engine.store.records import Chain, write_journal
from funnel.engine.store.replica import Replica
from funnel.engine.store.seal import ZERO
from funnel.engine.store.snapshot import snapshot_chunks

COMPACT_BYTES = 32 * 2**20  # fold the journal into the snapshot past this size


class Compactor:
    """Compacts the database that ``replica`` follows; shares its storage's lock and mutex."""

    def __init__(self, paths: StorePaths, lock: FileLock, mutex: threading.RLock,
                 replica: Replica, threshold: int = COMPACT_BYTES) -> None:
        self.paths = paths
        self.threshold = threshold
        self._lock = lock
        self._mutex = mutex
        self._replica = replica
        self.running = False  # a background compaction is under way

    def pending(self) -> bool:
        """Whether the journal holds records the snapshot lacks."""
        replica = self._replica
        return replica.following and replica.offset > 0 and \
            replica.seq > replica.report.snapshot_seq

    def start_if_due(self) -> None:
        """Past the size threshold, compact in a background thread (off the edit path)."""
        if self._replica.offset < self.threshold or self.running:
            return
        self.running = True
        thread = threading.Thread(target=self._compact_quietly, name="funnel-compact",
                                  daemon=True)
        thread.start()

    def _compact_quietly(self) -> None:
        try:
            self.compact()
        except StorageError:
            pass  # the next commit past the threshold tries again
        finally:
            self.running = False

    def compact(self, wait: bool = True) -> None:
        """Fold the journal into a new snapshot. Without ``wait``, give up at once if
        another process holds the lock."""
        replica = self._replica
        with self._mutex:
            self._lock.acquire(timeout=None if wait else 0.0)
            try:
                replica.refresh()
                if not replica.following:
                    return  # no journal: the snapshot already holds everything
                seq, generation, offset = replica.seq, replica.generation, replica.offset
                # The chain the carried-over records continue (none can follow a journal
                # that ends before the snapshot: a writer starts a new one first).
                head = replica.chain.head if replica.chain.seq == seq else ZERO
                captured = {name: docs.copy() for name, docs in replica.tables.items()}
            finally:
                self._lock.release()
        remove_stale_temps(self.paths)
        try:
            with AtomicFile(self.paths.snapshot, FILE_MODE, kind="compact") as temp:
                # Looked up here, at call time: tests replace it to commit mid-compaction.
                temp.write_all(snapshot_chunks(captured, seq))
                temp.sync()
                with self._mutex:
                    self._lock.acquire()
                    try:
                        replica.refresh()
                        if replica.generation != generation:
                            return  # another process compacted meanwhile; ours is stale
                        later = replica.read_journal(offset)  # committed after the capture
                        temp.install()
                        write_journal(self.paths.journal, seq, head, later)
                        replica.track_journal(Chain(replica.chain.seq, replica.chain.head))
                        replica.report.snapshot_seq = seq
                        replica.sealed = True
                    finally:
                        self._lock.release()
        except OSError as error:
            raise write_error(self.paths.snapshot, error) from None
