"""A ``ContactColumns`` as plain arrays and JSON meta, and back: what the sidecar holds.

Each encoded column becomes its codes (int32, one per row) and its distinct values as
``StoredValues`` arrays (JSON: the documents' own values, so JSON keeps their types;
read back unparsed until something needs them, with which are truthy); the activity
log becomes its entry arrays and each row's block bounds. The dictionaries' lookups
are made again on first use, so the table can take edits again.
``SCHEMA`` names this layout and what the codes mean (the activity kinds' order): a
cache written under another schema is not used.
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np

from funnel.engine.columns.activity_log import ActivityLog
from funnel.engine.columns.encoded import EncodedColumn
from funnel.engine.columns.stored_values import StoredValues
from funnel.engine.columns.stage_log import StageLog
from funnel.engine.columns.table import COLUMN_NAMES, ContactColumns
from funnel.engine.model import ACTIVITY_KINDS

_LAYOUT = "contact-columns/4"  # 3: with the stage log; 4: values as StoredValues
SCHEMA = _LAYOUT + "/" + hashlib.sha256(
    "\n".join(COLUMN_NAMES + ("|",) + tuple(ACTIVITY_KINDS)).encode()).hexdigest()[:16]
_LOG_ARRAYS = ("rows", "kinds", "moments", "amounts")
# Columns whose moments every classification reads (ages, days in stage, the
# attention sort): their parsed moments travel with the cache.
MOMENT_COLUMNS = ("created_at", "stage_since")

Arrays = dict[str, np.ndarray]


def table_arrays(table: ContactColumns) -> tuple[Arrays, dict[str, Any]]:
    """The arrays and meta that ``table_from_arrays`` turns back into ``table``."""
    rows = table.rows
    arrays: Arrays = {
        "ids": table.id_array().copy(),
        "alive": table.alive[:rows].copy(),
        "log.start": table.activities.start[:rows].copy(),
        "log.stop": table.activities.stop[:rows].copy(),
    }
    log = table.activities
    for name in _LOG_ARRAYS:
        arrays["log." + name] = getattr(log, name)[:log.size].copy()
    counts: dict[str, int] = {}
    for name, column in table.columns.items():
        arrays["codes." + name] = column.codes[:rows].copy()
        for part, array in zip(("values.", "starts.", "truthy."), column.stored_arrays()):
            arrays[part + name] = array
        counts[name] = column.size
    meta = {"rows": rows, "dead_entries": log.dead, "values": counts}
    custom = table.custom_state()  # by position: a custom field's name is any text
    for number, (_, codes, _) in enumerate(custom):
        arrays[f"custom.{number}"] = codes
    meta["custom"] = [[name, known] for name, _, known in custom]
    for name in MOMENT_COLUMNS:  # parsed once here, not by every process that reads
        micro, present = table.columns[name].moments()
        arrays["micro." + name], arrays["known." + name] = micro, present
    stages = table.stages
    arrays["stages.start"] = stages.start[:rows].copy()
    arrays["stages.stop"] = stages.stop[:rows].copy()
    for name in _LOG_ARRAYS:
        arrays["stages." + name] = getattr(stages, name)[:stages.size].copy()
    meta["stage_names"] = stages.names
    meta["stage_dead"] = stages.dead
    return arrays, meta


def table_from_arrays(arrays: Arrays, meta: dict[str, Any]) -> ContactColumns | None:
    """The table ``table_arrays`` described, or None if the pieces do not fit together
    (the cache is then rebuilt; nothing here trusts the file beyond its checksums)."""
    try:
        rows = int(meta["rows"])
        values = meta["values"]
        ids = arrays["ids"]
        if len(ids) != rows or set(values) != set(COLUMN_NAMES):
            return None
        if ids.dtype != np.int64 or len(arrays["alive"]) != rows:
            return None
        table = ContactColumns.adopting(ids, arrays["alive"])
        for name in COLUMN_NAMES:
            codes = arrays["codes." + name]
            stored = StoredValues(arrays["values." + name], arrays["starts." + name],
                                  arrays["truthy." + name], name)
            if len(codes) != rows or len(stored) != values[name]:
                return None
            table.columns[name] = EncodedColumn.restored(codes, stored, len(table.alive))
        table.restore_custom([(name, arrays[f"custom.{number}"], known)
                              for number, (name, known) in enumerate(meta["custom"])])
        table.activities = _log_from(arrays, rows, int(meta["dead_entries"]))
        table.stages = _stages_from(arrays, rows, meta)
        for name in MOMENT_COLUMNS:
            table.columns[name].prime_moments(arrays["micro." + name],
                                              arrays["known." + name])
    except (KeyError, TypeError, ValueError):
        return None
    return table


def _stages_from(arrays: Arrays, rows: int, meta: dict[str, Any]) -> StageLog:
    names = meta["stage_names"]
    if not isinstance(names, list):
        raise ValueError("the stage names are not a list")
    stages = _log_from(arrays, rows, int(meta["stage_dead"]), StageLog(max(rows, 16)),
                       "stages.")
    for value in names:
        stages.code(value)
    codes = stages.kinds[:stages.size], stages.amounts[:stages.size]
    if stages.size and any(part.min() < 0 or part.max() >= len(names) for part in codes):
        raise ValueError("stage codes do not fit the stage names")
    return stages


def _log_from(arrays: Arrays, rows: int, dead: int, log: ActivityLog | None = None,
              prefix: str = "log.") -> Any:
    log = log if log is not None else ActivityLog(max(rows, 16))
    size = len(arrays[prefix + "rows"])
    for name in _LOG_ARRAYS:
        if len(arrays[prefix + name]) != size:
            raise ValueError(f"log array {prefix}{name} has the wrong length")
        # The cache's own buffer, read for this table alone: used as it is, not copied.
        setattr(log, name, np.require(arrays[prefix + name], getattr(log, name).dtype,
                                      ["C", "W"]))
    start, stop = arrays[prefix + "start"], arrays[prefix + "stop"]
    if len(start) != rows or len(stop) != rows or (rows and (
            start.min() < 0 or stop.max() > size or (stop < start).any())):
        raise ValueError("activity log bounds do not fit")
    log.start[:rows], log.stop[:rows] = start, stop
    log.size, log.dead = size, dead
    return log
