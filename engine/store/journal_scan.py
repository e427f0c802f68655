"""Reading a journal that may be damaged: what is wrong with it, and what can be saved.

``scan_journal`` reads every line leniently and compares the records with the chain
they should form (see ``records``): each kind of damage is named (see ``damage``) with
the line it is on, the commits it lost and the contacts it concerns. It also gives the
records to replay, in order: a duplicate once, swapped records in their sequence,
both branches of a fork (two writers that were not kept apart) in the order they were
written, a record that fails its checksum as it reads (flagged, and copied to the
quarantine), and the readable documents of an unreadable record.

``funnel check`` repairs from it; an open that meets a broken chain calls
``journal_damage`` so that its one-line refusal uses the same words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from funnel.engine.errors import StorageError
from funnel.engine.store.damage import Damage, Quarantined, contact_ids, numbers
from funnel.engine.store.layout import StorePaths, check_hint
from funnel.engine.store.records import BadRecord, Chain, Record, parse_header, parse_record
from funnel.engine.store.salvage import salvage_documents

_SEQ = re.compile(rb'\{"seq":(\d{1,18}),')
_TABLE = re.compile(rb'"table":"([A-Za-z0-9_.-]{1,64})"')
_UNNUMBERED = "a record (its number unreadable)"


@dataclass
class JournalScan:
    start: Chain | None  # from the header (None: it is damaged)
    records: list[Record] = field(default_factory=list)  # to replay, in order
    damage: list[Damage] = field(default_factory=list)
    notices: list[Damage] = field(default_factory=list)
    quarantine: list[Quarantined] = field(default_factory=list)
    last_seq: int = 0  # the highest commit number seen


@dataclass
class _Slot:
    """One record line: a record read whole, or what was saved from an unreadable one."""

    line: int
    record: Record | None  # None: nothing in it could be read
    seq: int | None  # its number (None: unreadable)
    suspect: bool = False  # read whole, but its checksum failed
    salvaged: bool = False  # unreadable as a whole: ``record`` holds what was saved
    damage: Damage | None = None  # what was said about it (a number told later joins it)

    @property
    def whole(self) -> bool:
        return self.record is not None and not self.salvaged


def scan_journal(data: bytes, path: Path, snapshot_seq: int | None = None) -> JournalScan:
    lines = data.split(b"\n")
    tail = lines.pop()  # whatever follows the last newline
    try:
        start: Chain | None = parse_header(lines[0]) if lines else None
    except (ValueError, KeyError, TypeError, AttributeError):
        start = None
    scan = JournalScan(start)
    if start is None:
        scan.damage.append(Damage("damaged-header", f"{path}:1", "the journal header is "
                                  "damaged", remedy="rebuilt from the records"))
    if tail.strip():
        scan.notices.append(Damage("torn-tail", f"{path}:{len(lines) + 1}", f"an incomplete "
                                   f"last journal record ({len(tail)} bytes): a write "
                                   "interrupted before it was acknowledged",
                                   remedy="dropped"))
    slots = _read_slots(lines, path, scan, tail)
    _number_holes(slots, start)
    _analyse(slots, scan, path, snapshot_seq)
    return scan


def _read_slots(lines: list[bytes], path: Path, scan: JournalScan,
                tail: bytes) -> list[_Slot]:
    slots = []
    for number, line in enumerate(lines[1:], start=2):
        where = f"{path}:{number}"
        try:
            record = parse_record(line)
            slots.append(_Slot(number, record, record.seq))
            continue
        except BadRecord as bad:
            if bad.record is not None:  # readable: its bytes changed
                record = bad.record
                touched = contact_ids(list(record.puts) + record.gone) \
                    if record.table == "contacts" else []
                scan.damage.append(Damage(
                    "bad-checksum", where, f"record {record.seq}'s bytes are not those "
                    "written (checksum mismatch)" + (f"; it changes contact {numbers(touched)}"
                                                     if touched else ""), touched,
                    remedy="kept as read (it may hold one changed value); the line as "
                    "found is copied to the quarantine"))
                scan.quarantine.append(Quarantined(where, f"record {record.seq} "
                                                   "(bad-checksum)", line))
                slots.append(_Slot(number, record, record.seq, suspect=True))
                continue
        if number == len(lines) and not tail.strip():  # unreadable last line: torn
            scan.notices.append(Damage("torn-tail", where, "an unreadable last journal "
                                       "record: a write interrupted before it was "
                                       "acknowledged", remedy="dropped"))
            continue
        if not line.strip():
            scan.damage.append(Damage("damaged-record", where, "an empty line in the "
                                      "journal", remedy="dropped"))
            continue
        slots.append(_salvage(line, number, where, scan))
    return slots


def _salvage(line: bytes, number: int, where: str, scan: JournalScan) -> _Slot:
    """An unreadable record: keep the documents in it that can still be read."""
    found = _SEQ.match(line)
    seq = int(found.group(1)) if found else None
    table = _TABLE.search(line)
    begin = line.find(b'"put":{')
    saved, lost = salvage_documents(line, begin + len(b'"put":{')) if table and begin >= 0 \
        else ({}, [])
    name = table.group(1).decode() if table else ""
    what = f"record {seq}" if seq is not None else _UNNUMBERED
    lost_ids = contact_ids(lost) if name == "contacts" else []
    detail = "cannot be read" + (f" (contact {numbers(lost_ids)} in it cannot)"
                                 if lost_ids else "")
    remedy = (f"{len(saved)} document(s) in it saved; " if saved else "") + \
        "the line as found goes to the quarantine"
    damage = Damage("damaged-record", where, f"{what} {detail}", lost_ids,
                    [seq] if seq is not None else [], remedy=remedy)
    scan.damage.append(damage)
    scan.quarantine.append(Quarantined(where, f"{what} (damaged-record)", line, lost_ids))
    record = Record(seq if seq is not None else -1, name, saved, []) if saved else None
    return _Slot(number, record, seq, salvaged=True, damage=damage)


def _number_holes(slots: list[_Slot], start: Chain | None) -> None:
    """An unreadable record whose number is unreadable too is the one its neighbours
    skip: 4, ?, 6 makes it 5."""
    for index, slot in enumerate(slots):
        if slot.seq is not None:
            continue
        before = next((other.seq for other in reversed(slots[:index])
                       if other.seq is not None), start.seq if start else None)
        after = next((other.seq for other in slots[index + 1:] if other.seq is not None), None)
        if before is None or (after is not None and after != before + 2):
            continue
        slot.seq = before + 1
        if slot.record is not None:
            slot.record.seq = slot.seq
        if slot.damage is not None:
            slot.damage.lost = [slot.seq]
            slot.damage.detail = slot.damage.detail.replace(
                _UNNUMBERED, f"record {slot.seq} (its number told by the records around it)")


def _analyse(slots: list[_Slot], scan: JournalScan, path: Path,
             snapshot_seq: int | None) -> None:
    seen: dict[tuple[int, str], int] = {}
    kept: list[_Slot] = []
    for slot in slots:  # a line pasted twice: the same number and the same sum
        if slot.whole and slot.record is not None:
            key = (slot.record.seq, slot.record.sum)
            if key in seen:
                scan.damage.append(Damage("duplicate", f"{path}:{slot.line}", f"record "
                                          f"{slot.record.seq} appears again (first on line "
                                          f"{seen[key]})", remedy="applied once"))
                continue
            seen[key] = slot.line
        kept.append(slot)
    by_seq: dict[int, list[_Slot]] = {}
    for slot in kept:
        if slot.whole and slot.seq is not None:
            by_seq.setdefault(slot.seq, []).append(slot)
    forks = {seq for seq, group in by_seq.items() if len(group) > 1}
    for seq in sorted(forks):
        group = by_seq[seq]
        scan.damage.append(Damage(
            "lock-replaced", f"{path}:{group[1].line}", f"two commits are numbered {seq} "
            f"(lines {', '.join(str(slot.line) for slot in group)}), each made without "
            "seeing the other: the writer lock did not keep two writers apart (its file "
            "was removed or replaced while held)", remedy="both kept, in the order written"))
    highest = scan.start.seq if scan.start else 0
    order: dict[int, float] = {}  # slot line -> its place in the replay
    for slot in kept:
        if slot.seq is None:
            order[slot.line] = highest + 0.5  # unnumbered: after the record before it
            continue
        if slot.seq < highest and slot.seq not in forks:
            scan.damage.append(Damage("reordered", f"{path}:{slot.line}", f"record "
                                      f"{slot.seq} comes after record {highest}",
                                      remedy="replayed in order"))
        order[slot.line] = slot.seq
        highest = max(highest, slot.seq)
    scan.last_seq = highest
    numbered = {slot.seq for slot in kept if slot.seq is not None}
    first = scan.start.seq + 1 if scan.start else min(numbered, default=1)
    if snapshot_seq is not None and scan.start and scan.start.seq > snapshot_seq:
        first = snapshot_seq + 1  # the journal continues from a later snapshot
    missing = [seq for seq in range(first, highest + 1) if seq not in numbered]
    if missing:
        lost = [seq for seq in missing if snapshot_seq is None or seq > snapshot_seq]
        scan.damage.append(Damage("gap", str(path), f"commit {numbers(missing)} "
                                  f"{'is' if len(missing) == 1 else 'are'} missing from the "
                                  "journal: acknowledged edits lost", lost=lost))
    _check_links(kept, by_seq, scan, path)
    replay = sorted((slot for slot in kept if slot.record is not None),
                    key=lambda slot: (order[slot.line], slot.line))
    for slot in replay:
        assert slot.record is not None
        if slot.record.seq < 0:  # saved from a record whose number is unreadable
            slot.record.seq = int(order[slot.line]) + 1
        scan.records.append(slot.record)


def _check_links(kept: list[_Slot], by_seq: dict[int, list[_Slot]], scan: JournalScan,
                 path: Path) -> None:
    """Each sealed record must name the sum of a record before it."""
    start = scan.start
    for slot in kept:
        record = slot.record
        if record is None or not slot.whole or slot.suspect:
            continue
        if start is not None and start.sealed and record.prev is None:
            scan.damage.append(Damage("bad-checksum", f"{path}:{slot.line}", f"record "
                                      f"{record.seq} carries no checksum",
                                      remedy="kept as read"))
            continue
        if record.prev is None:
            continue
        if start is not None and record.seq == start.seq + 1:
            expected = {start.head}
        elif record.seq - 1 in by_seq:
            expected = {other.record.sum for other in by_seq[record.seq - 1]
                        if other.record is not None}
        else:
            continue  # the one before is missing or unreadable: already said
        if record.prev not in expected:
            scan.damage.append(Damage("broken-chain", f"{path}:{slot.line}", f"record "
                                      f"{record.seq} does not follow record "
                                      f"{record.seq - 1} (a line from another journal?)",
                                      remedy="kept"))


def journal_damage(paths: StorePaths) -> StorageError:
    """The one-line refusal of an open that met a broken chain, in check's words."""
    try:
        data = paths.journal.read_bytes()
    except OSError as error:
        return StorageError(f"{paths.journal}: cannot read the journal: {error.strerror}")
    scan = scan_journal(data, paths.journal)
    if not scan.damage:
        return StorageError(f"{paths.journal}: the journal changed while it was read; "
                            "try again")
    first = scan.damage[0]
    more = f" (and {len(scan.damage) - 1} more)" if len(scan.damage) > 1 else ""
    return StorageError(f"{first.where}: damaged journal ({first.kind}): {first.detail}"
                        f"{more}; {check_hint(paths.snapshot)}")


def missing_commits(paths: StorePaths, snapshot_seq: int, base: int) -> StorageError:
    """The journal continues from a later snapshot than the one there (restored alone?)."""
    return StorageError(
        f"{paths.journal}: damaged journal (gap): it continues from commit {base}, but the "
        f"snapshot holds commits up to {snapshot_seq} only: commit "
        f"{numbers(list(range(snapshot_seq + 1, base + 1)))} missing (a snapshot restored "
        f"without its journal?); {check_hint(paths.snapshot)}")
