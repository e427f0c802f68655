"""Integer arrays in the smallest type that holds their values.

A million rows of int64 is 8 MB an array; scores, grades and codes fit in one or two
bytes. Kept narrow, the classifications held at once (the current one, a what-if's)
take a quarter of the memory, and numpy sorts one- and two-byte keys by radix, about
twice as fast. Values and order are unchanged; arithmetic that could leave the range
casts back to int64 first (as every consumer of these arrays does).
"""

from __future__ import annotations

import numpy as np

_TYPES = (np.int8, np.int16, np.int32)


def narrowed(values: np.ndarray) -> np.ndarray:
    """``values`` (any array) with an integer type as small as its values allow."""
    if values.dtype.kind not in "iu" or not len(values):
        return values
    low, high = int(values.min()), int(values.max())
    for small in _TYPES:
        limits = np.iinfo(small)
        if limits.min <= low and high <= limits.max:
            return values if values.dtype == small else values.astype(small)
    return values


def fits(value: int, dtype: np.dtype) -> bool:
    """Whether the integer ``value`` can be stored in an array of ``dtype``."""
    limits = np.iinfo(dtype)
    return bool(limits.min <= value <= limits.max)


def widened(values: np.ndarray) -> np.ndarray:
    """A copy that any int64 can be written into (integers), else a plain copy."""
    return values.astype(np.int64) if values.dtype.kind in "iu" else values.copy()
