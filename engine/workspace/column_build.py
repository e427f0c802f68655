"""Building the columns from the documents, on two cores when the process allows it.

Without the column cache every document is parsed and encoded: at 100,000 contacts
that is seconds of one core, most of what ``funnel stats`` then costs. A command-line
process has one thread, so it can fork (``forked.split_pass``): the child builds the
second half of the rows, this process the first, and the child's table is appended
(``columns.merge``). A process with other threads (the app, whose build runs beside
the screen) builds here alone, chunk by chunk, taking the lock for each chunk only:
a forked child could inherit a lock another thread held, and wait for ever.
"""

from __future__ import annotations

import threading
from typing import Sequence

from funnel.engine.columns.merge import Parts, append_parts, table_parts
from funnel.engine.columns.table import BUILD_CHUNK, ContactColumns
from funnel.engine.workspace.bulk import bulk_work
from funnel.engine.workspace.forked import MIN_ITEMS, can_fork, split_pass
from funnel.engine.workspace.shared import Shared


def build_columns(shared: Shared, ids: list[int]) -> ContactColumns:
    """The columns of ``ids`` as the store holds them."""
    if len(ids) >= MIN_ITEMS and can_fork() and threading.active_count() == 1:
        return _build_split(shared, ids)
    table = ContactColumns(len(ids))
    _fill(shared, table, ids)
    return table


def _fill(shared: Shared, table: ContactColumns, ids: Sequence[int]) -> None:
    for start in range(0, len(ids), BUILD_CHUNK):
        # The collector paused while parsing too: each pass would scan the documents
        # made so far (a fifth of the build's time, measured).
        with bulk_work():
            with shared.lock:
                pairs = shared.store.peek_many(list(ids[start:start + BUILD_CHUNK]))
            table.extend(pairs)  # parsed copies: encoded outside the lock


def _build_split(shared: Shared, ids: list[int]) -> ContactColumns:
    table = ContactColumns(len(ids))

    def child_half(half: Sequence[int]) -> Parts:
        own = ContactColumns(len(half))
        _fill(shared, own, half)
        return table_parts(own)

    parts = split_pass(ids, lambda half: _fill(shared, table, half), child_half)
    with bulk_work():
        append_parts(table, parts)
    return table
