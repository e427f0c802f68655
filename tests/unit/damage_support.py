"""Damaging a database by hand, the way a tester would, for the damage tests.

Each ``damage_*`` function takes a database built by ``small_database`` (or the 2,000
contacts of ``generated_database``) and changes its files as a person with an editor
would: a journal line deleted, two lines swapped, a line pasted twice, a byte changed,
a newline turned into a space. ``DAMAGE`` maps each kind ``funnel check`` must name to
the function that makes it.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Callable

from funnel.engine.store.contacts import ContactStore
from funnel.engine.store.layout import StorePaths


def contact(number: int, **extra) -> dict:
    document = {"name": f"Contact {number}", "email": f"c{number}@example.pl",
                "created_at": "2026-11-01T09:00:00Z", "history": [], "rev": 0}
    document.update(extra)
    return document


def small_database(db: Path, count: int = 6) -> None:
    """``count`` contacts, one journal record each (records 1..count), then two edits of
    contact 1 (records count+1, count+2), so that their order matters."""
    store = ContactStore(db)
    for number in range(1, count + 1):
        store.insert_many([contact(number)], by="seed")
    store.put(1, contact(1, rev=1, owner="anna"), by="anna")
    store.put(1, contact(1, rev=2, owner="bartek"), by="bartek")
    store.close()


def contacts_of(db: Path) -> dict[int, dict]:
    store = ContactStore(db, create=False)
    try:
        return {contact_id: dict(document) for contact_id, document in store.items()}
    finally:
        store.close()


def copy_database(source: Path, target: Path) -> Path:
    for name in (source.name, source.name + ".journal"):
        if (source.parent / name).exists():
            shutil.copy2(source.parent / name, target.parent / name.replace(source.name,
                                                                            target.name))
    return target


# -- the journal --------------------------------------------------------------------------

def journal_lines(db: Path) -> list[bytes]:
    """The journal's lines (header first), without their newlines."""
    data = StorePaths.of(db).journal.read_bytes()
    assert data.endswith(b"\n")
    return data.split(b"\n")[:-1]


def write_journal_lines(db: Path, lines: list[bytes]) -> None:
    StorePaths.of(db).journal.write_bytes(b"".join(line + b"\n" for line in lines))


def line_of_record(db: Path, seq: int) -> int:
    """The index in ``journal_lines`` of the record numbered ``seq``."""
    for index, line in enumerate(journal_lines(db)):
        if index and json.loads(line)["seq"] == seq:
            return index
    raise AssertionError(f"no record {seq} in the journal")


def damage_gap(db: Path) -> None:
    """Delete the line of record 3 (contact 3's insert)."""
    lines = journal_lines(db)
    del lines[line_of_record(db, 3)]
    write_journal_lines(db, lines)


def damage_reordered(db: Path) -> None:
    """Swap the last two records (contact 1 given to anna, then to bartek)."""
    lines = journal_lines(db)
    lines[-1], lines[-2] = lines[-2], lines[-1]
    write_journal_lines(db, lines)


def damage_duplicate(db: Path) -> None:
    """Paste record 4's line a second time, right after itself."""
    lines = journal_lines(db)
    index = line_of_record(db, 4)
    lines.insert(index + 1, lines[index])
    write_journal_lines(db, lines)


def damage_bad_checksum(db: Path) -> None:
    """Change one character of contact 2's name inside record 2 (still valid JSON)."""
    lines = journal_lines(db)
    index = line_of_record(db, 2)
    assert lines[index].count(b"Contact 2") == 1
    lines[index] = lines[index].replace(b"Contact 2", b"Contact 7")
    write_journal_lines(db, lines)


def damage_lock_replaced(db: Path) -> None:
    """What two writers wrote when the lock did not keep them apart (its file had been
    removed): two commits with the same number, each made without seeing the other."""
    from funnel.engine.store.records import parse_record, record_line

    lines = journal_lines(db)
    last = parse_record(lines[-1])
    first = record_line(last.seq + 1, last.sum, "contacts",
                        {"2": contact(2, rev=1, owner="anna")}, (), "anna")
    second = record_line(last.seq + 1, last.sum, "contacts",
                         {"3": contact(3, rev=1, owner="cyprian")}, (), "cyprian")
    write_journal_lines(db, lines + [first.rstrip(b"\n"), second.rstrip(b"\n")])


# -- the snapshot (of a compacted database) --------------------------------------------------

def snapshot_line_start(data: bytes, contact_id: int) -> int:
    start = data.find(b'\n"%d":{' % contact_id)
    assert start > 0, f"contact {contact_id} is not on a line of its own"
    return start + 1


def damage_layout(db: Path) -> None:
    """Replace the newline between contacts 999 and 1000 with a space."""
    data = bytearray(db.read_bytes())
    newline = snapshot_line_start(bytes(data), 1000) - 1
    assert data[newline - 1:newline] == b","
    data[newline] = ord(" ")
    db.write_bytes(bytes(data))


def damage_document(db: Path, contact_id: int = 1000) -> bytes:
    """One bad byte inside contact ``contact_id``: the colon after its first field's name
    becomes 0xff. Returns the damaged line, as it is now in the file."""
    data = bytearray(db.read_bytes())
    start = snapshot_line_start(bytes(data), contact_id)
    end = data.index(b"\n", start)
    colon = data.index(b'":', start + len(b'"%d":{"' % contact_id)) + 1
    assert colon < end
    data[colon] = 0xFF
    db.write_bytes(bytes(data))
    return bytes(data[start:end])


def damage_changed_value(db: Path, contact_id: int = 1000) -> None:
    """One digit of contact ``contact_id``'s creation date changed: still valid JSON."""
    data = bytearray(db.read_bytes())
    start = snapshot_line_start(bytes(data), contact_id)
    at = data.index(b'"created_at":"', start) + len(b'"created_at":"') + 3  # 202[6]
    assert at < data.index(b"\n", start)
    data[at] = ord("5") if data[at] != ord("5") else ord("4")
    db.write_bytes(bytes(data))


JOURNAL_DAMAGE: dict[str, Callable[[Path], None]] = {
    "gap": damage_gap,
    "reordered": damage_reordered,
    "duplicate": damage_duplicate,
    "bad-checksum": damage_bad_checksum,
    "lock-replaced": damage_lock_replaced,
}
SNAPSHOT_DAMAGE: dict[str, Callable[[Path], object]] = {
    "layout": damage_layout,
    "damaged-document": damage_document,
}


def generated_database(folder: Path) -> Path:
    """2,000 contacts made by ``funnel generate`` (compacted into the snapshot, one
    contact per line), in ``folder``."""
    from cli_support import run_cli

    db = folder / "leads.json"
    result = run_cli(folder, "generate", "--db", db, "--contacts", 2000)
    assert result.returncode == 0, result.stderr
    assert db.read_bytes().count(b"\n") > 2000  # one contact per line: in the snapshot
    return db
