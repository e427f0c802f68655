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

from funnel.engine.columns.activity_log import DEAD
from funnel.engine.columns.encoded import EncodedColumn
from funnel.engine.columns.table import ContactColumns

Parts = dict[str, Any]
_LOG = (("rows", np.int32), ("kinds", np.int8), ("moments", np.float64), ("amounts", np.int64))
_STAGES = (("rows", np.int32), ("kinds", np.int32), ("moments", np.float64),
           ("amounts", np.int32))


def _bytes(array: np.ndarray) -> bytes:
    return np.ascontiguousarray(array).tobytes()


def table_parts(table: ContactColumns) -> Parts:
    """``table`` as values ``marshal`` can carry (its rows must all be alive)."""
    rows, log = table.rows, table.activities
    return {
        "ids": table.ids,
        "columns": {name: (_bytes(column.codes[:rows]), column.values)
                    for name, column in table.columns.items()},
        "custom": {name: (_bytes(column.codes[:rows]), column.values)
                   for name, column in table.custom.items()},
        "log": {name: _bytes(getattr(log, name)[:log.size]) for name, _ in _LOG},
        "log.start": _bytes(log.start[:rows]),
        "log.stop": _bytes(log.stop[:rows]),
        "stages": {name: _bytes(getattr(table.stages, name)[:table.stages.size])
                   for name, _ in _STAGES},
        "stages.start": _bytes(table.stages.start[:rows]),
        "stages.stop": _bytes(table.stages.stop[:rows]),
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
    log = table.activities
    entries = {name: np.frombuffer(parts["log"][name], dtype) for name, dtype in _LOG}
    rows = entries["rows"]
    before = log.append_entries(np.where(rows == DEAD, DEAD, rows + start).astype(np.int32),
                                entries["kinds"], entries["moments"], entries["amounts"])
    log.start[start:end] = np.frombuffer(parts["log.start"], np.int64) + before
    log.stop[start:end] = np.frombuffer(parts["log.stop"], np.int64) + before
    _append_stages(table, parts, start, end)
    table.alive[start:end] = True
    table.version += 1


def _append_stages(table: ContactColumns, parts: Parts, start: int, end: int) -> None:
    stages = table.stages
    entries = {name: np.frombuffer(parts["stages"][name], dtype) for name, dtype in _STAGES}
    mapping = np.array([stages.code(name) for name in parts["stage_names"]], np.int64)
    rows = entries["rows"]
    before = stages.append_entries(
        np.where(rows == DEAD, DEAD, rows + start).astype(np.int32),
        mapping[entries["kinds"]].astype(np.int32), entries["moments"],
        mapping[entries["amounts"]])
    stages.start[start:end] = np.frombuffer(parts["stages.start"], np.int64) + before
    stages.stop[start:end] = np.frombuffer(parts["stages.stop"], np.int64) + before
