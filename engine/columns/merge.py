"""Rows built elsewhere (another process) appended to a ``ContactColumns``.

A build without the cache parses and encodes every document, one core's work; half
of it can be done by a forked child (``workspace.column_build``). The child sends
its table as ``table_parts``: plain bytes, lists and numbers, which ``marshal``
carries. Its codes mean its own dictionaries, so ``append_parts`` translates each
column's values into this table's dictionary (once per distinct value) and the codes
through that translation (one array operation per column).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from funnel.engine.columns.activity_log import DEAD, ActivityLog
from funnel.engine.columns.encoded import EncodedColumn
from funnel.engine.columns.table import ContactColumns

Parts = dict[str, Any]
_ENTRIES = ("rows", "kinds", "moments", "amounts")  # an ActivityLog's (and StageLog's)


def _bytes(array: np.ndarray) -> bytes:
    return np.ascontiguousarray(array).tobytes()


def _log_parts(log: ActivityLog, rows: int) -> Parts:
    return {"entries": {name: (getattr(log, name).dtype.str,
                               _bytes(getattr(log, name)[:log.size])) for name in _ENTRIES},
            "start": _bytes(log.start[:rows]), "stop": _bytes(log.stop[:rows])}


def table_parts(table: ContactColumns) -> Parts:
    """``table`` as values ``marshal`` can carry (its rows must all be alive)."""
    rows = table.rows
    return {
        "ids": table.ids,
        "columns": {name: (_bytes(column.codes[:rows]), column.values)
                    for name, column in table.columns.items()},
        "custom": {name: (_bytes(column.codes[:rows]), column.values)
                   for name, column in table.custom.items()},
        "activities": _log_parts(table.activities, rows),
        "stages": _log_parts(table.stages, rows),
        "stage_names": table.stages.names,
    }


def _translated(column: EncodedColumn, codes: bytes, values: list) -> np.ndarray:
    """The other table's ``codes`` as codes of ``column`` (which learns new values)."""
    mapping = np.fromiter((column.code(value) for value in values), np.int32, len(values))
    return mapping[np.frombuffer(codes, np.int32)]


def append_parts(table: ContactColumns, parts: Parts) -> None:
    """Append the rows ``table_parts`` gave, after ``table``'s own (ids must be new)."""
    start, end = table.append_ids(parts["ids"])
    for name, (codes, values) in parts["columns"].items():
        column = table.columns[name]
        column.codes[start:end] = _translated(column, codes, values)
    for name, (codes, values) in parts["custom"].items():
        if name not in table.custom:
            table.custom[name] = EncodedColumn(len(table.alive))
        custom = table.custom[name]
        custom.codes[start:end] = _translated(custom, codes, values)
    _append_log(table.activities, parts["activities"], start, end)
    stages = table.stages  # its stage codes mean the other table's names: translated
    names = np.array([stages.code(name) for name in parts["stage_names"]], np.int64)
    _append_log(stages, parts["stages"], start, end, names)
    table.alive[start:end] = True
    table.version += 1


def _append_log(log: ActivityLog, part: Parts, start: int, end: int,
                codes: np.ndarray | None = None) -> None:
    """The other table's entries after ``log``'s, their rows moved to ``start``..;
    ``codes``: what its kinds and amounts become (a stage log's names)."""
    entries = {name: np.frombuffer(data, np.dtype(dtype))
               for name, (dtype, data) in part["entries"].items()}
    kinds, amounts = entries["kinds"], entries["amounts"]
    if codes is not None:
        kinds, amounts = codes[kinds], codes[amounts]
    rows = entries["rows"]
    before = log.append_entries(np.where(rows == DEAD, DEAD, rows + start).astype(np.int32),
                                kinds, entries["moments"], amounts)
    log.start[start:end] = np.frombuffer(part["start"], np.int64) + before
    log.stop[start:end] = np.frombuffer(part["stop"], np.int64) + before
