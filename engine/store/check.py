"""``funnel check``: find every kind of damage in a database, and save what can be saved.

Holds the writer lock for the whole run, so no one commits while it looks. It reads
the snapshot line by line (``snapshot_scan``) and the journal leniently
(``journal_scan``), with the parsers and checksums opening uses, so the two agree on
what is damaged. A repair keeps every readable contact, appends what it cannot read
to ``PATH.quarantine`` byte for byte (``quarantine``), and only then writes a clean
snapshot and an empty journal, atomically. The report names each kind of damage
(``damage``), the contacts quarantined and the acknowledged commits lost.

Exit status (the command line's contract, ``CheckReport.exit_status``): 0 when nothing
acknowledged is damaged (an interrupted, never acknowledged write may have been cut),
1 when damage was found (and repaired, unless asked not to), 2 when the files cannot
be repaired (not a Funnel database, written by a newer Funnel, unreadable).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from funnel.engine.errors import FieldError, StorageError
from funnel.engine.store.damage import Damage, Quarantined, numbers
from funnel.engine.store.journal_scan import scan_journal
from funnel.engine.store.layout import StorePaths, remove_stale_temps
from funnel.engine.store.lock import FileLock
from funnel.engine.store.quarantine import append_quarantine
from funnel.engine.store.records import write_journal
from funnel.engine.store.snapshot import write_snapshot
from funnel.engine.store.snapshot_scan import Tables, scan_snapshot
from funnel.engine.store.values import check_json_native

_REQUIRED_DEFAULTS: dict[str, Any] = {"history": [], "rev": 0}


@dataclass
class CheckReport:
    path: Path
    damage: list[Damage] = field(default_factory=list)
    notices: list[Damage] = field(default_factory=list)  # found and cleaned, not damage
    info: list[str] = field(default_factory=list)  # worth knowing, nothing to repair
    repairs: list[str] = field(default_factory=list)  # what was done
    fatal: str | None = None  # why the files cannot be repaired
    contacts: int = 0
    records: int = 0  # journal records replayed
    quarantine: list[Quarantined] = field(default_factory=list)
    quarantine_path: Path | None = None  # set once the quarantine was written
    repaired: bool = False

    @property
    def findings(self) -> list[str]:
        return [item.detail for item in self.damage + self.notices]

    @property
    def kinds(self) -> list[str]:
        return sorted({damage.kind for damage in self.damage})

    @property
    def lost_commits(self) -> list[int]:
        return sorted({seq for damage in self.damage for seq in damage.lost})

    @property
    def quarantined(self) -> list[int]:
        """Contacts whose only copy is in the quarantine (none of them stays)."""
        return sorted({contact for item in self.quarantine for contact in item.contacts})

    @property
    def healthy(self) -> bool:
        """Nothing at all was found (not even an interrupted write)."""
        return not self.damage and not self.notices and self.fatal is None

    @property
    def status(self) -> str:
        if self.fatal is not None:
            return "unrepairable"
        if self.damage:
            return "repaired" if self.repaired else "damaged"
        return "healthy"

    @property
    def exit_status(self) -> int:
        return {"unrepairable": 2, "repaired": 1, "damaged": 1}.get(self.status, 0)

    def lines(self) -> list[str]:
        out = [f"{self.path}: {self.contacts} contacts, {self.records} journal records "
               "applied"]
        for label, items in (("damage", self.damage), ("notice", self.notices)):
            out += [f"{label} ({item.kind}) at {item.where}: {item.detail}"
                    + (f"; {'repaired' if self.repaired else 'to repair'}: {item.remedy}"
                       if item.remedy else "") for item in items]
        out += [f"note: {line}" for line in self.info]
        out += [f"repaired: {repair}" for repair in self.repairs]
        if self.quarantine:
            ids = self.quarantined
            what = (f"contact {numbers(ids)}; " if ids else "") + \
                f"{len(self.quarantine)} line(s) as found"
            where = self.quarantine_path or StorePaths.of(self.path).quarantine
            verb = "quarantined" if self.quarantine_path else "would quarantine"
            out.append(f"{verb}: {what} -> {where}")
        if self.lost_commits:
            out.append(f"lost commits: {numbers(self.lost_commits)}")
        out.append(self._verdict())
        return out

    def _verdict(self) -> str:
        status = self.status
        if status == "unrepairable":
            return f"status: cannot repair: {self.fatal}"
        if status == "repaired":
            return "status: damage found and repaired; every readable contact was kept"
        if status == "damaged":
            return "status: damage found; nothing was changed (run without --no-repair to " \
                "repair)"
        if self.notices:
            return "healthy: nothing acknowledged was damaged (see the notices)"
        return "healthy: no damage found"

    def to_dict(self) -> dict[str, Any]:
        return {"path": str(self.path), "status": self.status, "healthy": self.healthy,
                "contacts": self.contacts, "records": self.records, "kinds": self.kinds,
                "damage": [item.to_dict() for item in self.damage],
                "notices": [item.to_dict() for item in self.notices],
                "findings": self.findings, "repairs": self.repairs,
                "quarantined": self.quarantined,
                "quarantine": str(self.quarantine_path) if self.quarantine_path else None,
                "lost_commits": self.lost_commits, "fatal": self.fatal}


def check_database(path: str | Path, *, repair: bool = True) -> CheckReport:
    paths = StorePaths.of(path)
    report = CheckReport(paths.snapshot)
    if not paths.snapshot.is_file():
        report.fatal = "no such database file"
        return report
    lock = FileLock(paths.lock)
    try:
        lock.acquire()
    except StorageError as error:
        report.fatal = str(error)
        return report
    try:
        _check(paths, report, repair)
    except OSError as error:
        report.fatal = f"cannot read or write the files: {error.strerror}"
    finally:
        lock.release()
    return report


def _check(paths: StorePaths, report: CheckReport, repair: bool) -> None:
    if repair:
        for stale in remove_stale_temps(paths):  # housekeeping, not damage
            report.repairs.append(f"removed {stale.name}, a temp file left by an "
                                  "interrupted write")
    snapshot = scan_snapshot(paths.snapshot.read_bytes(), paths.snapshot)
    report.damage += snapshot.damage
    report.notices += [item for item in snapshot.notices if item.kind != "old-schema"]
    report.info += [item.detail for item in snapshot.notices if item.kind == "old-schema"]
    if snapshot.fatal is not None:
        report.fatal = snapshot.fatal
        return
    tables, quarantine = snapshot.tables, list(snapshot.quarantine)
    try:
        journal: bytes | None = paths.journal.read_bytes()
    except FileNotFoundError:
        journal = None
    seq = snapshot.seq or 0
    top = seq
    if journal is not None:
        scan = scan_journal(journal, paths.journal, snapshot.seq)
        if snapshot.seq is None and scan.start is not None:
            seq = scan.start.seq  # the snapshot's header is unreadable: the journal's base
        report.damage += scan.damage
        report.notices += scan.notices
        quarantine += scan.quarantine
        for record in scan.records:
            if record.seq > seq:
                documents = tables.setdefault(record.table, {})
                documents.update(record.puts)
                for key in record.gone:
                    documents.pop(key, None)
                report.records += 1
        top = max(seq, scan.last_seq)
    _check_documents(tables, report)
    report.contacts = len(tables.get("contacts", {}))
    report.quarantine = quarantine
    if not repair:
        report.repairs.clear()  # what would have been done: said by each damage's remedy
    if repair and (report.damage or report.notices):
        if quarantine:
            append_quarantine(paths.quarantine, quarantine)  # before anything is replaced
            report.quarantine_path = paths.quarantine
        # A new sequence number: open sessions must re-read the repaired snapshot
        # rather than take it for the one they already have.
        top += 1
        write_snapshot(paths.snapshot, tables, top)
        write_journal(paths.journal, top)
        report.repaired = True
        report.repairs.append(f"wrote a clean snapshot at commit {top} and an empty journal")


def _check_documents(tables: Tables, report: CheckReport) -> None:
    contacts = tables.get("contacts", {})
    where = str(report.path)
    for key in list(contacts):
        document = contacts[key]
        if not isinstance(document, dict) or not str(key).isdigit():
            report.damage.append(Damage("not-a-document", where,
                                        f"contact {key} is not a document; removed"))
            report.repairs.append(f"removed contact {key}")
            del contacts[key]
            continue
        try:
            check_json_native(document, f"contact {key}")
        except FieldError as error:
            report.damage.append(Damage("not-a-document", where, str(error)))
        for name, default in _REQUIRED_DEFAULTS.items():
            if name not in document:
                report.damage.append(Damage("incomplete-document", where,
                                            f"contact {key} lacks {name}", [int(key)]))
                report.repairs.append(f"gave contact {key} an empty {name}")
                document[name] = type(default)()  # a fresh [] or 0, never shared
        if "created_at" not in document:
            moment = document.get("updated_at") or "1970-01-01T00:00:00Z"
            report.damage.append(Damage("incomplete-document", where,
                                        f"contact {key} lacks created_at", [int(key)]))
            report.repairs.append(f"set contact {key}'s created_at to {moment}")
            document["created_at"] = moment
