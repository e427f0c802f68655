"""Reading the column cache while the store is being opened.

At a million contacts, opening the store (indexing its snapshot) and reading the
column cache take about a second each, and both spend most of it outside the
interpreter (reading files, checksums, numpy), so on two cores they overlap. The
cache's key is the store's position, known only once the store is open: the file is
read for whichever key it was written with, and ``take`` gives the table only if that
was the store's position. Anything else is a miss, and the caller reads the cache the
ordinary way (or builds the columns); a prefetch never makes opening fail.
"""

from __future__ import annotations

import logging
import os
import threading

from funnel.engine.columns.persist import table_from_arrays
from funnel.engine.columns.sidecar import CacheKey, CacheRead, read_any_columns
from funnel.engine.columns.table import ContactColumns

log = logging.getLogger(__name__)


class ColumnPrefetch:
    """The cache of ``database`` read in a thread of its own, from construction on."""

    def __init__(self, database: str | os.PathLike[str]) -> None:
        self._found: CacheRead | None = None
        self._table: ContactColumns | None = None
        self._thread = threading.Thread(target=self._read, args=(database,), daemon=True,
                                        name="funnel-column-cache")
        self._thread.start()

    def _read(self, database: str | os.PathLike[str]) -> None:
        try:
            found = read_any_columns(database)
            if found.arrays is not None and found.meta is not None:
                self._table = table_from_arrays(found.arrays, found.meta)
            self._found = found
        except Exception as error:  # noqa: BLE001 - a shortcut's failure is only a miss
            self._found = CacheRead(None, None, f"not read ahead: {error!r}")

    def take(self, key: CacheKey) -> tuple[ContactColumns | None, str]:
        """The table read ahead if it was written for ``key``, else None; and why."""
        self._thread.join()
        found, table = self._found, self._table
        self._found = self._table = None  # taken once; the memory is the caller's now
        if found is None:
            return None, "not read ahead"
        found = found.serves(key)
        if found.arrays is None:
            return None, found.reason
        if table is None:
            return None, "its arrays do not fit together"
        return table, "loaded"

    def wait(self) -> None:
        """Until the thread is done (before forking: a child must not inherit it)."""
        self._thread.join()
