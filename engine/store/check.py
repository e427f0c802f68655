"""``funnel check``: verify a database's files and repair what can be repaired.

Holds the writer lock for the whole run, so no one commits while it looks. It
reads the snapshot and every journal record itself (it must cope with damage
that stops a normal open), says what it found, and if anything needed fixing
writes a clean snapshot and an empty journal atomically. A committed record is
dropped only when it is unreadable, and then the report names it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from funnel.engine.errors import FieldError
from funnel.engine.store.layout import StorePaths, remove_stale_temps
from funnel.engine.store.lock import FileLock
from funnel.engine.store.migrate import read_snapshot, schema_of
from funnel.engine.store.records import write_journal
from funnel.engine.store.snapshot import SCHEMA, write_snapshot
from funnel.engine.store.values import check_json_native

_REQUIRED_DEFAULTS: dict[str, Any] = {"history": [], "rev": 0}
Tables = dict[str, Any]  # table name -> {id: document}, read leniently


@dataclass
class CheckReport:
    path: Path
    findings: list[str] = field(default_factory=list)  # problems found
    repairs: list[str] = field(default_factory=list)  # what was done about them
    fatal: str | None = None  # a problem that could not be repaired
    contacts: int = 0
    records: int = 0

    @property
    def healthy(self) -> bool:
        return not self.findings and self.fatal is None

    def lines(self) -> list[str]:
        out = [f"{self.path}: {self.contacts} contacts, {self.records} journal records applied"]
        out += [f"problem: {finding}" for finding in self.findings]
        out += [f"repaired: {repair}" for repair in self.repairs]
        if self.fatal:
            out.append(f"cannot repair: {self.fatal}")
        elif self.healthy:
            out.append("healthy: no damage found")
        return out


def check_database(path: str | Path, *, repair: bool = True) -> CheckReport:
    paths = StorePaths.of(path)
    report = CheckReport(paths.snapshot)
    if not paths.snapshot.is_file():
        report.fatal = "no such database file"
        return report
    lock = FileLock(paths.lock)
    lock.acquire()
    try:
        for stale in remove_stale_temps(paths):  # housekeeping, not damage
            report.repairs.append(f"removed {stale.name}, a temp file left by an "
                                  "interrupted write")
        tables, seq = _read_snapshot(paths, report)
        if tables is None:
            return report
        seq = _replay_journal(paths, tables, seq, report)
        _check_documents(tables, report)
        report.contacts = len(tables.get("contacts", {}))
        if report.findings and repair and report.fatal is None:
            # A new sequence number: open sessions must re-read the repaired snapshot
            # rather than take it for the one they already have.
            seq += 1
            write_snapshot(paths.snapshot, tables, seq)
            write_journal(paths.journal, seq)
            report.repairs.append(f"wrote a clean snapshot at record {seq} and an empty "
                                  "journal")
    except OSError as error:
        report.fatal = f"cannot write the repaired files: {error.strerror}"
    finally:
        lock.release()
    return report


def _read_snapshot(paths: StorePaths, report: CheckReport) -> tuple[Tables | None, int]:
    raw = paths.snapshot.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        report.fatal = "the snapshot is not UTF-8 text: not a Funnel database, or destroyed"
        return None, 0
    try:
        document, end = json.JSONDecoder().raw_decode(text.lstrip())
    except json.JSONDecodeError as error:
        report.fatal = (f"the snapshot is damaged at line {error.lineno}, column {error.colno}"
                        " (it is never written in place, so something outside Funnel changed"
                        " it); restore it from a backup")
        return None, 0
    trailing = text.lstrip()[end:]
    schema = schema_of(document)
    if schema is None:
        report.fatal = "not a Funnel database (no Funnel header); nothing was changed"
        return None, 0
    if trailing.strip():
        report.findings.append(f"{len(trailing.strip())} bytes of garbage after the snapshot")
        report.repairs.append("dropped the garbage after the snapshot")
    if schema != SCHEMA:
        if trailing.strip():
            report.fatal = "an old-schema file with garbage appended; remove the garbage first"
            return None, 0
        tables, seq = read_snapshot(paths.snapshot)  # migrates, keeping a backup
        report.findings.append(f"schema {schema} file")
        report.repairs.append(f"migrated to schema {SCHEMA} (backup kept beside it)")
        return tables, seq
    tables = document.get("tables")
    if not isinstance(tables, dict) or not all(isinstance(t, dict) for t in tables.values()):
        report.fatal = "the snapshot's tables are not objects of documents"
        return None, 0
    return tables, int(document["funnel"]["seq"])


def _replay_journal(paths: StorePaths, tables: Tables, seq: int, report: CheckReport) -> int:
    try:
        data = paths.journal.read_bytes()
    except FileNotFoundError:
        return seq
    lines = data.split(b"\n")
    torn = lines.pop() if lines else b""  # what follows the last newline
    if torn.strip():
        report.findings.append(f"an incomplete last journal record ({len(torn)} bytes): a "
                               "write interrupted before it was acknowledged")
        report.repairs.append("dropped the incomplete last record")
    for number, line in enumerate(lines, start=1):
        try:
            record = json.loads(line)
        except ValueError:
            record = None
        if number == 1 and isinstance(record, dict) and "journal" in record:
            continue
        if number == 1:
            report.findings.append("the journal header is damaged")
            report.repairs.append("rebuilt the journal")
        if not isinstance(record, dict) or not isinstance(record.get("seq"), int) \
                or not isinstance(record.get("table"), str):
            if number == 1 or not line.strip():
                continue
            report.findings.append(f"journal line {number} is unreadable")
            report.repairs.append(f"skipped journal line {number}; the edit it held is lost")
            continue
        if record["seq"] <= seq:
            continue
        documents = tables.setdefault(record["table"], {})
        puts, gone = record.get("put") or {}, record.get("del") or []
        if not isinstance(puts, dict) or not isinstance(gone, list):
            report.findings.append(f"journal line {number} has a malformed change")
            report.repairs.append(f"skipped journal line {number}")
            continue
        documents.update(puts)
        for key in gone:
            documents.pop(key, None)
        seq = record["seq"]
        report.records += 1
    return seq


def _check_documents(tables: Tables, report: CheckReport) -> None:
    contacts = tables.get("contacts", {})
    for key in list(contacts):
        document = contacts[key]
        if not isinstance(document, dict) or not str(key).isdigit():
            report.findings.append(f"contact {key} is not a document")
            report.repairs.append(f"removed contact {key}")
            del contacts[key]
            continue
        try:
            check_json_native(document, f"contact {key}")
        except FieldError as error:
            report.findings.append(str(error))
        for name, default in _REQUIRED_DEFAULTS.items():
            if name not in document:
                report.findings.append(f"contact {key} lacks {name}")
                report.repairs.append(f"gave contact {key} an empty {name}")
                document[name] = default
        if "created_at" not in document:
            moment = document.get("updated_at") or "1970-01-01T00:00:00Z"
            report.findings.append(f"contact {key} lacks created_at")
            report.repairs.append(f"set contact {key}'s created_at to {moment}")
            document["created_at"] = moment
