"""Many stored moments parsed at once, as the per-contact path parses each.

Stored moments are written one way (``2026-12-01T09:00:00Z``); those numpy reads in
one call, exactly (whole seconds, UTC). Anything else (a date, an offset, a typo) is
parsed one by one by ``parse_datetime``, so every value gets the answer the
per-contact path gives it: microseconds since the epoch, or none.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any

import numpy as np

from funnel.engine.model import parse_datetime

_STORED = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z\Z")
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
    micro = np.zeros(len(values), np.int64)
    present = np.zeros(len(values), bool)
    stored = [index for index, value in enumerate(values)
              if value.__class__ is str and _STORED.match(value)]
    if stored:
        try:
            parsed = np.array([values[index][:-1] for index in stored], "datetime64[us]")
            micro[stored] = parsed.astype(np.int64)
            present[stored] = True
        except (ValueError, OverflowError):  # numpy disagrees: one by one below
            stored = []
    done = set(stored)
    for index, value in enumerate(values):
        if index not in done:
            found = microseconds(value)
            if found is not None:
                micro[index], present[index] = found, True
    return micro, present
