"""Reading a snapshot that may be damaged, for ``funnel check``: every document that can be
read, and the lines that cannot.

A snapshot in Funnel's layout (one document per line, see ``snapshot``) is read line by
line, so that one bad byte costs one contact, not the file: each document is parsed
with the parser opening uses (``documents.parse_document``), a line holding two
documents (a newline lost) gives both back, an unreadable line is set aside for the
quarantine with the contact id it names, and the sum on the last line is compared.
A file laid out otherwise (schema 1, or by hand) is read whole, as opening does.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from funnel.engine.errors import StorageError
from funnel.engine.store.damage import Damage, Quarantined, contact_ids, numbers
from funnel.engine.store.documents import parse_document
from funnel.engine.store.migrate import READ_IN_PLACE, read_snapshot, schema_of
from funnel.engine.store.salvage import salvage_documents
from funnel.engine.store.snapshot import FORMAT, SCHEMA, checksum_matches

_TABLE_LINE = re.compile(rb'("(?:[^"\\]|\\.){1,200}"):\{')
_DOCUMENT_LINE = re.compile(rb'"([^"\\]{1,64})":(\{.*\}),?', re.S)
Tables = dict[str, dict[str, Any]]  # table name -> {id: parsed document}


@dataclass
class SnapshotScan:
    tables: Tables = field(default_factory=dict)
    seq: int | None = None  # None: the header is unreadable
    schema: int | None = None
    damage: list[Damage] = field(default_factory=list)
    notices: list[Damage] = field(default_factory=list)
    quarantine: list[Quarantined] = field(default_factory=list)
    fatal: str | None = None


def scan_snapshot(data: bytes, path: Path) -> SnapshotScan:
    if data.startswith(b'{"funnel":') and data[data.find(b"\n") + 1:].startswith(
            b'"tables":{\n'):
        return _scan_lines(data, path)
    return _scan_whole(data, path)


# -- Funnel's own layout, line by line ---------------------------------------------------------

def _scan_lines(data: bytes, path: Path) -> SnapshotScan:
    scan = SnapshotScan()
    lines = data.split(b"\n")
    first = lines[0]
    try:
        header = json.loads(first[len(b'{"funnel":'):-1])
        if not isinstance(header, dict) or header.get("format") != FORMAT \
                or type(header.get("seq")) is not int or type(header.get("schema")) is not int:
            raise ValueError
        scan.seq, scan.schema = header["seq"], header["schema"]
    except ValueError:
        scan.damage.append(Damage("damaged-header", f"{path}:1", "the snapshot's header is "
                                  "damaged", remedy="its commit number is taken from the "
                                  "journal; the line as found goes to the quarantine"))
        scan.quarantine.append(Quarantined(f"{path}:1", "the snapshot header", first))
    if scan.schema is not None and scan.schema > SCHEMA:
        scan.fatal = f"written by a newer Funnel (schema {scan.schema}); nothing was changed"
        return scan
    end = _walk_tables(lines, path, scan)
    if end is None:
        scan.damage.append(Damage("truncated", str(path), "the snapshot ends before its last "
                                  "line (cut short)", remedy="every complete document kept"))
        return scan
    ending, rest_at = end
    rest = b"\n".join(lines[rest_at:])
    if rest.strip():
        where = f"{path}:{rest_at + 1}"
        scan.damage.append(Damage("trailing-garbage", where, f"{len(rest.strip())} bytes of "
                                  "garbage after the snapshot", remedy="moved to the "
                                  "quarantine"))
        scan.quarantine.append(Quarantined(where, "bytes after the snapshot's end", rest))
    if ending == b"},":
        sealed = b"\n".join(lines[:rest_at]) + b"\n"
        if checksum_matches(sealed) is not True and not _explained(scan):
            scan.damage.append(Damage("bad-checksum", str(path), "the snapshot's checksum "
                                      "does not match: a byte was changed outside Funnel, "
                                      "though every document still reads",
                                      remedy="every document kept as read"))
    elif scan.schema is not None and scan.schema >= SCHEMA:
        scan.damage.append(Damage("bad-checksum", str(path), "the snapshot has lost its "
                                  "checksum line", remedy="every document kept as read"))
    elif scan.schema is not None and scan.schema in READ_IN_PLACE:
        scan.notices.append(Damage("old-schema", str(path), f"a schema {scan.schema} file "
                                   "(no checksums): read as it is; the next repair or "
                                   f"compaction writes schema {SCHEMA}"))
    return scan


def _explained(scan: SnapshotScan) -> bool:
    """Whether damage already found accounts for a checksum that fails."""
    return any(damage.kind != "trailing-garbage" for damage in scan.damage)


def _walk_tables(lines: list[bytes], path: Path,
                 scan: SnapshotScan) -> tuple[bytes, int] | None:
    """Read the tables' lines into ``scan``; (the ending line, the index after the end)."""
    table: dict[str, Any] | None = None
    index = 2
    while index < len(lines):
        line, number = lines[index], index + 1
        index += 1
        if table is None:
            if line == b"}}":
                return line, index
            if line == b"},":
                return line, index + 1  # the sum line follows
            name = _table_name(line)
            if name is not None:
                table = scan.tables.setdefault(name, {})
            elif line.strip():
                _unreadable(line, number, path, scan)
            continue
        if line in (b"}", b"},"):
            table = None
            continue
        _document_line(line, number, path, scan, table)
    return None


def _table_name(line: bytes) -> str | None:
    found = _TABLE_LINE.fullmatch(line)
    if found is None:
        return None
    try:
        name = json.loads(found.group(1))
    except ValueError:
        return None
    return name if isinstance(name, str) else None


def _document_line(line: bytes, number: int, path: Path, scan: SnapshotScan,
                   table: dict[str, Any]) -> None:
    found = _DOCUMENT_LINE.fullmatch(line)
    if found:
        document = parse_document(found.group(2))
        key = _key(found.group(1))
        if document is not None and key is not None:
            table[key] = document
            return
    saved, lost = salvage_documents(line)  # a newline lost, or a bad byte: save the rest
    table.update(saved)
    where = f"{path}:{number}"
    if not lost and len(saved) > 1:
        scan.damage.append(Damage("layout", where, f"documents {', '.join(saved)} are on "
                                  "one line (a newline was lost)", remedy="all kept"))
    if not lost and saved:
        return
    if not lost:
        _unreadable(line, number, path, scan)
        return
    ids = contact_ids(lost)
    unnamed = len(lost) - len(ids)
    what = " and ".join(part for part in (
        f"contact {numbers(ids)}" if ids else "",
        f"{unnamed} document(s) whose id cannot be read" if unnamed else "") if part)
    also = f" (its line also held document {', '.join(saved)}: kept)" if saved else ""
    scan.damage.append(Damage("damaged-document", where, f"{what} cannot be read{also}", ids,
                              remedy="the line as found goes to the quarantine"))
    scan.quarantine.append(Quarantined(where, f"{what} (damaged-document)", line, ids))


def _key(raw: bytes) -> str | None:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _unreadable(line: bytes, number: int, path: Path, scan: SnapshotScan) -> None:
    """A line that is neither a document, a table's start nor an end."""
    where = f"{path}:{number}"
    scan.damage.append(Damage("damaged-document", where, "a line that cannot be read (no "
                              "document id on it)", remedy="the line as found goes to the "
                              "quarantine"))
    scan.quarantine.append(Quarantined(where, "an unreadable line (damaged-document)", line))


# -- any other layout: read whole, as opening does -----------------------------------------------

def _scan_whole(data: bytes, path: Path) -> SnapshotScan:
    scan = SnapshotScan()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        scan.fatal = "the snapshot is not UTF-8 text: not a Funnel database, or destroyed"
        return scan
    try:
        document, end = json.JSONDecoder().raw_decode(text.lstrip())
    except json.JSONDecodeError as error:
        scan.fatal = (f"the snapshot is damaged at line {error.lineno}, column {error.colno}"
                      " and not laid out one document per line, so nothing in it can be "
                      "told apart; restore it from a backup")
        return scan
    schema = schema_of(document)
    if schema is None:
        scan.fatal = "not a Funnel database (no Funnel header); nothing was changed"
        return scan
    scan.schema = schema
    trailing = text.lstrip()[end:].strip()
    if trailing:
        if schema not in (SCHEMA, *READ_IN_PLACE):
            scan.fatal = "an old-schema file with garbage appended; remove the garbage first"
            return scan
        scan.damage.append(Damage("trailing-garbage", str(path), f"{len(trailing)} bytes of "
                                  "garbage after the snapshot", remedy="moved to the "
                                  "quarantine"))
        scan.quarantine.append(Quarantined(str(path), "bytes after the snapshot's end",
                                           trailing.encode("utf-8")))
    elif schema == SCHEMA and checksum_matches(data) is not True:
        scan.damage.append(Damage("bad-checksum", str(path), "the snapshot's checksum does "
                                  "not match (laid out again by hand?)",
                                  remedy="kept as read"))
    if schema not in (SCHEMA, *READ_IN_PLACE):
        try:
            migrated = read_snapshot(path)  # migrates, keeping a backup
        except StorageError as error:
            scan.fatal = str(error)
            return scan
        scan.notices.append(Damage("migrated", str(path), f"a schema {schema} file: migrated "
                                   f"to schema {SCHEMA} (the old file is kept beside it)"))
        scan.tables = {name: dict(documents.items())
                       for name, documents in migrated.tables.items()}
        scan.seq = migrated.seq
        return scan
    tables = document.get("tables")
    if not isinstance(tables, dict) or not all(isinstance(t, dict) for t in tables.values()):
        scan.fatal = "the snapshot's tables are not objects of documents"
        return scan
    scan.tables, scan.seq = tables, int(document["funnel"]["seq"])
    return scan
