"""The journal file's lines: its header, one sealed commit record per line, reading them back.

``PATH.journal`` holds one JSON object per line: a header
``{"journal": "funnel-store", "schema": 3, "base": N, "head": S}`` (the snapshot
sequence it continues from, and the sum of record N: the chain's start), then one
line per commit,
``{"seq", "prev", "at", "by", "table", "put": {id: document}, "del": [id], "sum"}``.
``seq`` counts up by one, ``prev`` is the ``sum`` of the record before, and ``sum``
seals the record itself (see ``seal``). Schema 2 journals (written before records
were sealed) are read as they are: their records carry no sums, but their sequence
numbers must still follow on; the next compaction writes them as schema 3.

A line without its newline, or an unreadable last line, is a write that was
interrupted and never acknowledged: reading stops there and says so. Anything else
out of place (a record that is unreadable, fails its sum, or does not follow the one
before) raises ``ChainBroken``; ``journal_scan`` says what it is and ``funnel check``
repairs it.
"""

from __future__ import annotations

import json
import time
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from funnel.engine.errors import StorageError
from funnel.engine.files import write_atomically
from funnel.engine.store.documents import dump
from funnel.engine.store.layout import FILE_MODE, check_hint
from funnel.engine.store.seal import ZERO, checksum, seal, verify
from funnel.engine.store.snapshot import FORMAT, SCHEMA

Encoded = bytes  # a document's checked JSON, as stored (values.encode_document)
SEALED_SINCE = 3  # the first journal schema whose records are all sealed


@dataclass
class LoadReport:
    """What loading found: shown as warnings."""

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
    prev: str | None = None  # the sum of the record before (None: an unsealed record)
    sum: str = ""  # this record's sum (unsealed: the CRC of its whole line)


@dataclass
class Chain:
    """Where a reader stands in a journal: the last record read (or the header's base)."""

    seq: int
    head: str
    sealed: bool = True  # every record must carry its sum (schema 3 journals)

    def follows(self, record: Record) -> bool:
        if record.seq != self.seq + 1:
            return False
        if record.prev is None:
            return not self.sealed
        return record.prev == self.head

    def advance(self, record: Record) -> None:
        self.seq, self.head = record.seq, record.sum


class BadRecord(ValueError):
    """A record line that cannot be trusted: ``kind`` is "damaged-record" (unreadable)
    or "bad-checksum" (readable, but its bytes are not those that were sealed)."""

    def __init__(self, kind: str, record: Record | None = None) -> None:
        super().__init__(kind)
        self.kind = kind
        self.record = record


class ChainBroken(StorageError):
    """A journal line out of place; ``line`` is its 1-based line number."""

    def __init__(self, path: Path, line: int) -> None:
        super().__init__(f"{path}:{line}: the journal is damaged; {check_hint(path)}")
        self.line = line


# -- the header ---------------------------------------------------------------------

def journal_header(base_seq: int, head: str = ZERO) -> str:
    return dump({"journal": FORMAT, "schema": SCHEMA, "base": base_seq, "head": head}) + "\n"


def write_journal(path: Path, base_seq: int, head: str = ZERO, later: bytes = b"") -> None:
    """Replace the journal atomically: a header, then ``later`` (records carried over)."""
    write_atomically(path, [journal_header(base_seq, head), later], FILE_MODE)


def parse_header(line: bytes) -> Chain:
    """The chain a journal's header starts (raises ValueError when it is not one)."""
    header = json.loads(line)
    if not isinstance(header, dict) or header.get("journal") != FORMAT \
            or type(header.get("base")) is not int:
        raise ValueError("not a journal header")
    schema = header.get("schema")
    head = header.get("head")
    if isinstance(schema, int) and schema >= SEALED_SINCE:
        if not isinstance(head, str) or len(head) != len(ZERO):
            raise ValueError("a header without its chain's start")
        return Chain(header["base"], head, sealed=True)
    return Chain(header["base"], checksum(line), sealed=False)


def read_header(data: bytes, path: Path) -> tuple[Chain, int]:
    """The chain a journal continues from, and where its first record starts."""
    end = data.find(b"\n")
    if end < 0:
        raise StorageError(f"{path}: the journal header is damaged; {check_hint(path)}")
    try:
        return parse_header(data[:end]), end + 1
    except (ValueError, KeyError, TypeError, AttributeError):
        raise StorageError(f"{path}: not a Funnel journal (bad header); "
                           f"{check_hint(path)}") from None


# -- writing records ------------------------------------------------------------------

def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def record_line(seq: int, prev: str, table: str, puts: Mapping[str, dict],
                gone: Sequence[str], by: str | None) -> bytes:
    """One commit's sealed line, newline included."""
    record: dict[str, object] = {"seq": seq, "prev": prev, "at": _now(), "by": by,
                                 "table": table}
    if puts:
        record["put"] = puts
    if gone:
        record["del"] = list(gone)
    return seal(dump(record).encode("utf-8"))[0] + b"\n"


def _key(key: str) -> bytes:
    # Digits need no escaping (the ids): quoting them is what ``dump`` would do.
    return b'"%s":' % key.encode("ascii") if key.isascii() and key.isdigit() \
        else dump(key).encode("utf-8") + b":"


class SealedRecord:
    """One commit's line in pieces, for documents encoded beforehand (``Encoded``):
    their JSON is spliced in as is, and the line is never built whole (an import of
    500,000 contacts is a record of some 400 MB). Iterating yields the very bytes
    ``record_line`` gives for the same documents, newline included; then ``sum``
    holds the record's sum (the chain's new head)."""

    def __init__(self, seq: int, prev: str, table: str, puts: Iterable[tuple[str, Encoded]],
                 gone: Sequence[str], by: str | None) -> None:
        self._head = dump({"seq": seq, "prev": prev, "at": _now(), "by": by, "table": table})
        self._puts = puts
        self._gone = gone
        self.sum = ""

    def _body(self) -> Iterator[bytes]:
        """The record as sealed, but its closing brace."""
        yield self._head[:-1].encode("utf-8")
        opened = False
        for key, encoded in self._puts:
            yield (b"," if opened else b',"put":{') + _key(key)
            yield encoded
            opened = True
        if opened:
            yield b"}"
        if self._gone:
            yield b',"del":' + dump(list(self._gone)).encode("utf-8")

    def __iter__(self) -> Iterator[bytes]:
        crc = 0
        for piece in self._body():
            crc = zlib.crc32(piece, crc)
            yield piece
        self.sum = f"{zlib.crc32(b'}', crc):08x}"  # as ``seal`` sums the whole body
        yield b',"sum":"%s"}\n' % self.sum.encode("ascii")


# -- reading records ------------------------------------------------------------------

def _shaped(record: object) -> Record:
    if not isinstance(record, dict):
        raise ValueError("not an object")
    table, puts, gone, seq = (record["table"], record.get("put", {}), record.get("del", []),
                              record["seq"])
    prev = record.get("prev")
    if type(table) is not str or type(seq) is not int or type(puts) is not dict \
            or type(gone) is not list or (prev is not None and type(prev) is not str) \
            or not all(type(doc) is dict for doc in puts.values()) \
            or not all(type(key) is str for key in gone):
        raise ValueError("a record of the wrong shape")
    return Record(seq, table, puts, gone, prev)


def parse_record(line: bytes) -> Record:
    """One journal line as a record; raises ``BadRecord`` when it cannot be trusted."""
    claimed, intact = verify(line)
    try:
        record = _shaped(json.loads(line))
    except (ValueError, KeyError, TypeError, AttributeError):
        raise BadRecord("damaged-record") from None
    record.sum = claimed or checksum(line)
    if claimed is None:
        record.prev = None  # only a sealed record's link can be trusted
    elif not intact:
        raise BadRecord("bad-checksum", record)
    return record


def read_records(data: bytes, start: int, chain: Chain, report: LoadReport,
                 where: Callable[[int, int], str], path: Path) -> Iterator[tuple[Record, int]]:
    """Each complete record in ``data`` from offset ``start``, with the offset just past
    its line, each checked against ``chain`` (which advances). A torn or unreadable last
    line ends the walk and is noted in ``report``; anything else out of place raises
    ``ChainBroken``. ``where(line number, offset)`` names a line."""
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
            record = parse_record(data[position:end])
        except BadRecord as bad:
            if bad.kind == "damaged-record" and data.find(b"\n", end + 1) < 0 \
                    and not data[end + 1:].strip():
                report.torn_tail = data[position:]
                report.warnings.append(f"{where(line_number, position)}: ignored a damaged "
                                       "last record (an interrupted write)")
                return
            raise ChainBroken(path, line_number) from None
        if not chain.follows(record):
            raise ChainBroken(path, line_number)
        chain.advance(record)
        position = end + 1
        line_number += 1
        yield record, position
