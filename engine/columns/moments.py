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
