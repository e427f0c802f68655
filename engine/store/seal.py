"""Checksums that make damage visible: one per journal record, one per snapshot.

A journal record is *sealed*: its JSON ends with ``"sum"``, the CRC-32 of the record
as it was written without that field. Each record also names the sum of the record
before it (``"prev"``), so the records form a chain: a line deleted, moved, pasted
twice or changed breaks the chain or its own sum. Checking a record costs one CRC
of its own bytes, whatever the size of the database.

A snapshot ends with the CRC-32 of everything before its last line (see ``snapshot``).

CRC-32 is not a defence against someone forging a file on purpose; it finds the
accidents: a bad disk block, an editor, a copy cut short.
"""

from __future__ import annotations

import zlib

ZERO = "00000000"  # the chain's start when there is no record before
_SUFFIX_HEAD = b',"sum":"'
_SUFFIX_LENGTH = len(_SUFFIX_HEAD) + 8 + 2  # ,"sum":"xxxxxxxx"}


def checksum(data: bytes | memoryview) -> str:
    """The CRC-32 of ``data``, as 8 hex digits."""
    return f"{zlib.crc32(data):08x}"


def seal(body: bytes) -> tuple[bytes, str]:
    """A JSON object ``{...}`` with its own checksum added as the last field: (line, sum)."""
    value = checksum(body)
    return body[:-1] + _SUFFIX_HEAD + value.encode("ascii") + b'"}', value


def claimed_sum(line: bytes) -> str | None:
    """The sum a sealed line says it has, or None when the line carries none."""
    if len(line) <= _SUFFIX_LENGTH or line[-_SUFFIX_LENGTH:-10] != _SUFFIX_HEAD \
            or line[-2:] != b'"}':
        return None
    try:
        value = line[-10:-2].decode("ascii")
        int(value, 16)
    except ValueError:
        return None
    return value


def verify(line: bytes) -> tuple[str | None, bool]:
    """(the sum a line claims, whether its bytes match it). Without a seal the sum is
    that of the whole line (records written before sealing: see ``records``)."""
    claimed = claimed_sum(line)
    if claimed is None:
        return None, False
    # The body as it was sealed: the line without its sum field (no copy of the line).
    crc = zlib.crc32(b"}", zlib.crc32(memoryview(line)[:-_SUFFIX_LENGTH]))
    return claimed, f"{crc:08x}" == claimed


def line_sum(line: bytes) -> str:
    """The chain value of a line: its own sum if sealed, else the CRC of all of it."""
    return claimed_sum(line) or checksum(line)
