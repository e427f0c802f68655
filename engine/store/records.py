"""The journal file's lines: its header, one commit record per line, and reading them back.

``PATH.journal`` holds one JSON object per line: a header
``{"journal": "funnel-store", "schema": 2, "base": N}`` (the snapshot sequence it
continues from), then one line per commit,
``{"seq", "at", "by", "table", "put": {id: document}, "del": [id]}``.

A line without its newline, or a damaged last line, is a write that was interrupted
and never acknowledged: reading stops there and says so. Damage before the last line
is refused (``funnel check`` repairs it).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from funnel.engine.errors import StorageError
from funnel.engine.files import write_atomically
from funnel.engine.store.documents import dump
from funnel.engine.store.layout import FILE_MODE
from funnel.engine.store.snapshot import FORMAT, SCHEMA

Encoded = tuple[dict, str]  # a document and its checked JSON (values.encode_document)


@dataclass
class LoadReport:
    """What loading found: used by ``funnel check`` and shown as warnings."""

    snapshot_seq: int = 0
    records: int = 0
    torn_tail: bytes = b""
    warnings: list[str] = field(default_factory=list)


@dataclass
class Record:
    """One commit: documents put into and ids deleted from one table."""

    seq: int
    table: str
    puts: dict[str, dict]
    gone: list[str]


# -- the header ---------------------------------------------------------------------

def journal_header(base_seq: int) -> str:
    return dump({"journal": FORMAT, "schema": SCHEMA, "base": base_seq}) + "\n"


def write_journal(path: Path, base_seq: int, later: bytes = b"") -> None:
    """Replace the journal atomically: a header, then ``later`` (records carried over)."""
    write_atomically(path, [journal_header(base_seq), later], FILE_MODE)


def read_header(data: bytes, path: Path) -> tuple[int, int]:
    """The snapshot sequence a journal continues from, and where its first record starts."""
    end = data.find(b"\n")
    if end < 0:
        raise StorageError(f"{path}: the journal header is damaged; "
                           "run 'funnel check' to repair")
    try:
        header = json.loads(data[:end])
        if header.get("journal") != FORMAT:
            raise ValueError
        return int(header["base"]), end + 1
    except (ValueError, KeyError, TypeError, AttributeError):
        raise StorageError(f"{path}: not a Funnel journal (bad header); "
                           "run 'funnel check' to repair") from None


# -- writing records ------------------------------------------------------------------

def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def record_line(seq: int, table: str, puts: Mapping[str, dict], gone: Sequence[str],
                by: str | None) -> bytes:
    record: dict[str, object] = {"seq": seq, "at": _now(), "by": by, "table": table}
    if puts:
        record["put"] = puts
    if gone:
        record["del"] = list(gone)
    return (dump(record) + "\n").encode("utf-8")


def encoded_record_line(seq: int, table: str, puts: Mapping[str, Encoded],
                        by: str | None) -> bytes:
    """``record_line`` for documents encoded beforehand: their JSON is spliced in as is."""
    head = dump({"seq": seq, "at": _now(), "by": by, "table": table})
    body = ",".join(f"{dump(key)}:{encoded}" for key, (_, encoded) in puts.items())
    return f'{head[:-1]},"put":{{{body}}}}}\n'.encode("utf-8")


# -- reading records ------------------------------------------------------------------

def _parse(line: bytes) -> Record:
    record = json.loads(line)
    table, puts, gone, seq = (record["table"], record.get("put", {}), record.get("del", []),
                              record["seq"])
    if type(table) is not str or type(seq) is not int or type(puts) is not dict \
            or type(gone) is not list \
            or not all(type(doc) is dict for doc in puts.values()) \
            or not all(type(key) is str for key in gone):
        raise ValueError("a record of the wrong shape")
    return Record(seq, table, puts, gone)


def read_records(data: bytes, start: int, report: LoadReport,
                 where: Callable[[int, int], str]) -> Iterator[tuple[Record, int]]:
    """Each complete record in ``data`` from offset ``start``, with the offset just past
    its line. A torn or damaged last line ends the walk and is noted in ``report``; a
    damaged line before it raises. ``where(line number, offset)`` names a line."""
    position = start
    line_number = data.count(b"\n", 0, start) + 1
    while position < len(data):
        end = data.find(b"\n", position)
        if end < 0:
            report.torn_tail = data[position:]
            report.warnings.append(
                f"{where(line_number, position)}: ignored an incomplete last record (a "
                "write that was interrupted and never acknowledged)")
            return
        try:
            record = _parse(data[position:end])
        except (ValueError, KeyError, TypeError, AttributeError):
            if data.find(b"\n", end + 1) < 0 and not data[end + 1:].strip():
                report.torn_tail = data[position:]
                report.warnings.append(f"{where(line_number, position)}: ignored a damaged "
                                       "last record (an interrupted write)")
                return
            raise StorageError(f"{where(line_number, position)}: damaged record in the "
                               "middle of the journal; run 'funnel check' to repair") from None
        position = end + 1
        line_number += 1
        yield record, position
