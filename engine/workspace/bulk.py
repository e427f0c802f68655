"""What passes over every contact share: the garbage-collector pause they run under."""

from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Iterator

PROGRESS_EVERY = 2000  # contacts between progress reports of a pass over documents


@contextmanager
def bulk_work() -> Iterator[None]:
    """Pause the cyclic garbage collector while building or walking 100,000 documents.

    Each collection would scan every live dict; our documents hold no cycles, and
    pausing measured 1.5x faster for a full reclassification.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
