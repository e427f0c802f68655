"""``PATH.quarantine``: what ``funnel check`` could not read, kept byte for byte.

Each run appends (never replaces) one entry per item: a line starting with ``#`` that
says when, where from, what it was meant to be and how many bytes follow, then those
bytes exactly as they were found, then a newline. The count makes the bytes
recoverable even when they hold newlines or are not text.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from funnel.engine.files import fsync_directory
from funnel.engine.store.damage import Quarantined
from funnel.engine.store.layout import FILE_MODE


def append_quarantine(path: Path, items: list[Quarantined]) -> None:
    """Append ``items`` to the quarantine file at ``path`` and make them durable."""
    when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    chunks: list[bytes] = []
    for item in items:
        chunks.append(f"# funnel check {when}: {item.source}: {item.what}; the "
                      f"{len(item.data)} bytes found follow\n".encode("utf-8", "replace"))
        chunks += [item.data, b"\n"]
    created = not path.exists()
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, FILE_MODE)
    try:
        data = b"".join(chunks)
        written = 0
        while written < len(data):
            written += os.write(descriptor, data[written:])
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
    if created:
        fsync_directory(path.parent)
