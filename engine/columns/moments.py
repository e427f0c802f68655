"""Many stored moments parsed at once, as the per-contact path parses each.

Stored moments are written one way (``2026-12-01T09:00:00Z``); those are read as
arrays in one pass, exactly (whole seconds, UTC; see ``iso_moments``). Anything else (a date, an offset, a typo) is
parsed one by one by ``parse_datetime``, so every value gets the answer the
per-contact path gives it: microseconds since the epoch, or none.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import numpy as np

from funnel.engine.columns.iso_moments import stored_microseconds
from funnel.engine.model import parse_datetime

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MICROSECOND = timedelta(microseconds=1)


def microseconds(text: Any) -> int | None:
    """``text`` as microseconds since the epoch, None where ``facts`` would have none."""
    if not text or not isinstance(text, str):
        return None
    try:
        return (parse_datetime(text) - _EPOCH) // _MICROSECOND
    except (ValueError, TypeError, OverflowError):
        return None


def micro_table(values: list) -> tuple[np.ndarray, np.ndarray]:
    """Each value's microseconds since the epoch (0 where none) and which have one."""
    micro, present = stored_microseconds(values)
    for index in np.flatnonzero(~present).tolist():  # any other form: as facts reads it
        found = microseconds(values[index])
        if found is not None:
            micro[index], present[index] = found, True
    return micro, present


# Each dictionary's moments, parsed once: a dictionary only grows, so its table is
# extended, and every classification (each makes new FactColumns) reuses it. A column
# cache read from disk primes it, so a fresh process parses no moment at all.
_TABLES: dict[int, tuple[list, np.ndarray, np.ndarray]] = {}
_KEEP_TABLES = 16


def moment_table(values: list) -> tuple[np.ndarray, np.ndarray]:
    """``micro_table`` of a column's dictionary, kept and extended as it grows."""
    found = _TABLES.get(id(values))
    if found is None or found[0] is not values:
        found = (values, np.zeros(0, np.int64), np.zeros(0, bool))
    done = len(found[1])
    if done < len(values):
        micro, known = micro_table(values[done:])
        found = (values, np.concatenate([found[1], micro]), np.concatenate([found[2], known]))
        remember(values, found[1], found[2])
    return found[1], found[2]


def remember(values: list, micro: np.ndarray, present: np.ndarray) -> None:
    """Keep ``micro``/``present`` as the moments of the dictionary ``values``."""
    if len(_TABLES) >= _KEEP_TABLES:
        _TABLES.clear()
    _TABLES[id(values)] = (values, micro, present)

