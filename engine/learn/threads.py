"""One BLAS thread while the model trains.

The matrices here are small (a few hundred columns); on a shared machine OpenBLAS's
worker threads spin against the other processes and made one 400 x 400 solve take
0.1-0.26 s instead of 2-9 ms (measured here). numpy has no API for its BLAS
threads, so this asks the OpenBLAS numpy ships with, through its exported setter,
and does nothing when that library or symbol is not there.
"""

from __future__ import annotations

import ctypes
import glob
import os
from contextlib import contextmanager
from typing import Any, Iterator

import numpy as np

_NAMES = (("scipy_openblas_set_num_threads64_", "scipy_openblas_get_num_threads64_"),
          ("openblas_set_num_threads64_", "openblas_get_num_threads64_"),
          ("openblas_set_num_threads", "openblas_get_num_threads"))
_found: list[Any] = []


def _controls() -> tuple[Any, Any] | None:
    if not _found:
        _found.append(_locate())
    return _found[0]


def _locate() -> tuple[Any, Any] | None:
    folder = os.path.join(os.path.dirname(np.__file__), os.pardir, "numpy.libs")
    for path in sorted(glob.glob(os.path.join(folder, "*openblas*"))):
        try:
            library = ctypes.CDLL(path)
        except OSError:
            continue
        for setter, getter in _NAMES:
            if hasattr(library, setter) and hasattr(library, getter):
                return getattr(library, setter), getattr(library, getter)
    return None


@contextmanager
def one_blas_thread() -> Iterator[None]:
    controls = _controls()
    if controls is None:
        yield
        return
    setter, getter = controls
    before = int(getter())
    setter(1)
    try:
        yield
    finally:
        setter(before)
