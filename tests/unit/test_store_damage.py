"""Damage a database the way a tester would, and see each kind noticed and saved from.

For every kind of damage (a journal line deleted, two swapped, one pasted twice, one
changed; commits made by two writers when the lock file was removed; a newline of
the snapshot turned into a space; one bad byte in one contact of 2,000):

- opening the database refuses it with one line naming the file and the fix
  (``funnel check --db PATH``), instead of losing edits silently or failing later
  (a changed letter that leaves every document readable, as a hand edit does, is
  a warning instead);
- ``check_database`` names the kind, keeps every readable contact, copies what it
  cannot read to ``PATH.quarantine`` byte for byte (appending, never overwriting), and
  says which contacts were quarantined and which acknowledged commits were lost;
- after the repair the database opens, and checks healthy.

And the writer lock still excludes a second process when its file is removed while
held (real processes). Everything works on real files in ``tmp_path``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from funnel.engine.errors import StorageError
from funnel.engine.store.check import check_database
from funnel.engine.store.contacts import ContactStore
from funnel.engine.store.layout import StorePaths

from damage_support import (generated_database, JOURNAL_DAMAGE, contact, contacts_of, copy_database,
                            damage_changed_value, damage_document, damage_layout,
                            journal_lines, line_of_record, small_database,
                            write_journal_lines)


@pytest.fixture
def db(tmp_path) -> Path:
    return tmp_path / "leads.json"


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    return generated_database(tmp_path_factory.mktemp("generated"))


@pytest.fixture
def big(generated, db) -> Path:
    return copy_database(generated, db)


def refused(db: Path) -> str:
    """Opening ``db`` fails: the one-line message."""
    with pytest.raises(StorageError) as caught:
        store = ContactStore(db, create=False)
        try:
            dict(store.items())  # every document read, as the app does at start
        finally:
            store.close()
    message = str(caught.value)
    assert "\n" not in message
    assert str(db) in message and f"funnel check --db {db}" in message, message
    return message


def healthy_after(db: Path) -> None:
    again = check_database(db)
    assert again.healthy and again.kinds == [], again.lines()
    assert ContactStore(db, create=False).warnings == []


# == the journal ===============================================================================

def test_a_deleted_journal_line_is_a_gap_refused_on_open_and_named_by_check(db):
    small_database(db)
    damage = JOURNAL_DAMAGE["gap"]
    damage(db)
    assert "gap" in refused(db)
    report = check_database(db)
    assert report.kinds == ["gap"], report.lines()
    assert report.lost_commits == [3]  # contact 3's insert: acknowledged, and gone
    assert report.quarantined == []
    assert sorted(contacts_of(db)) == [1, 2, 4, 5, 6]
    assert contacts_of(db)[1]["owner"] == "bartek"
    assert any("commit 3" in line for line in report.lines())
    healthy_after(db)


def test_two_swapped_journal_lines_are_reordered_and_replayed_in_order(db):
    small_database(db)
    expected = contacts_of(db)
    JOURNAL_DAMAGE["reordered"](db)
    assert "reordered" in refused(db)
    report = check_database(db)
    assert report.kinds == ["reordered"], report.lines()
    assert report.lost_commits == [] and report.quarantined == []
    assert contacts_of(db) == expected  # bartek's later edit wins, as it did
    healthy_after(db)


def test_a_line_pasted_twice_is_a_duplicate_and_applied_once(db):
    small_database(db)
    expected = contacts_of(db)
    JOURNAL_DAMAGE["duplicate"](db)
    assert "duplicate" in refused(db)
    report = check_database(db)
    assert report.kinds == ["duplicate"], report.lines()
    assert report.lost_commits == [] and report.quarantined == []
    assert contacts_of(db) == expected
    healthy_after(db)


def test_a_changed_byte_in_a_record_fails_its_checksum_and_is_kept_as_read(db):
    small_database(db)
    damaged_line = journal_lines(db)[2]
    JOURNAL_DAMAGE["bad-checksum"](db)
    changed_line = journal_lines(db)[2]
    assert changed_line != damaged_line
    assert "bad-checksum" in refused(db)
    report = check_database(db)
    assert report.kinds == ["bad-checksum"], report.lines()
    # Still readable: kept as read (it may hold one changed value), and the line as it
    # was found is copied to the quarantine for a person to compare.
    assert contacts_of(db)[2]["name"] == "Contact 7"
    assert report.lost_commits == []
    quarantine = Path(f"{db}.quarantine").read_bytes()
    assert changed_line in quarantine
    assert any("contact 2" in line for line in report.lines())
    healthy_after(db)


def test_an_unreadable_record_in_the_middle_saves_its_readable_documents(db):
    small_database(db)  # records 1-8
    store = ContactStore(db)
    store.insert_many([contact(7), contact(8), contact(9)], by="import")  # record 9
    store.put(4, contact(4, rev=1, owner="dorota"), by="dorota")  # record 10
    store.close()
    lines = journal_lines(db)
    index = line_of_record(db, 9)
    damaged = lines[index].replace(b'"Contact 8"', b'"Contact \xff8')  # a quote lost
    write_journal_lines(db, lines[:index] + [damaged] + lines[index + 1:])
    refused(db)
    report = check_database(db)
    assert report.kinds == ["damaged-record"], report.lines()
    assert report.quarantined == [8]  # the one document that cannot be read
    assert report.lost_commits == [9]  # only partly saved
    assert damaged in Path(f"{db}.quarantine").read_bytes()
    after = contacts_of(db)
    assert after[7]["name"] == "Contact 7" and after[9]["name"] == "Contact 9"
    assert 8 not in after and after[4]["owner"] == "dorota"  # the record after it: applied
    healthy_after(db)


def test_commits_made_while_the_lock_file_was_replaced_are_named_and_both_kept(db):
    small_database(db)
    JOURNAL_DAMAGE["lock-replaced"](db)
    assert "lock-replaced" in refused(db)
    report = check_database(db)
    assert report.kinds == ["lock-replaced"], report.lines()
    assert report.lost_commits == []
    after = contacts_of(db)
    assert after[2]["owner"] == "anna" and after[3]["owner"] == "cyprian"
    healthy_after(db)


def _schema_2_database(db: Path) -> tuple[bytes, list[bytes]]:
    """Files as written before records were chained: no sums anywhere."""
    snapshot = (b'{"funnel":{"format":"funnel-store","schema":2,"seq":0},\n"tables":{\n'
                b'"contacts":{\n"1":' + json.dumps(contact(1)).encode() + b"\n}\n}}\n")
    records = [json.dumps({"seq": seq, "at": "2026-11-01T09:00:00Z", "by": "x",
                           "table": "contacts", "put": {str(seq): contact(seq)}}).encode()
               for seq in (1, 2, 3)]
    lines = [b'{"journal":"funnel-store","schema":2,"base":0}'] + records
    db.write_bytes(snapshot)
    write_journal_lines(db, lines)
    return snapshot, lines


def test_a_schema_2_database_opens_unchanged_and_its_journal_is_still_checked(db):
    """Read as it is (reading never rewrites it), its sequence numbers still checked; a
    session that writes to it leaves it in schema 3."""
    _, lines = _schema_2_database(db)
    before = db.read_bytes(), StorePaths.of(db).journal.read_bytes()
    assert sorted(contacts_of(db)) == [1, 2, 3]
    assert (db.read_bytes(), StorePaths.of(db).journal.read_bytes()) == before
    assert check_database(db).healthy
    assert (db.read_bytes(), StorePaths.of(db).journal.read_bytes()) == before

    write_journal_lines(db, lines[:2] + lines[3:])  # record 2 deleted
    assert "gap" in refused(db)
    report = check_database(db, repair=False)
    assert report.kinds == ["gap"] and report.lost_commits == [2], report.lines()

    _schema_2_database(db)
    store = ContactStore(db)
    store.insert_many([contact(4)])  # a chained record after the unchained ones
    assert ContactStore(db).get(4) == contact(4)  # another reader follows the chain
    store.close()
    assert db.read_bytes().startswith(b'{"funnel":{"format":"funnel-store","schema":3,')
    assert journal_lines(db)[0].startswith(b'{"journal":"funnel-store","schema":3,')
    assert sorted(contacts_of(db)) == [1, 2, 3, 4]
    assert check_database(db).healthy


def test_a_schema_2_snapshot_with_a_damaged_document_is_refused_on_opening(db):
    """Without a checksum, every document is parsed on opening: none is found damaged
    half-way through a command (or the app)."""
    snapshot, _ = _schema_2_database(db)
    db.write_bytes(snapshot.replace(b'"Contact 1"', b'"Contact \xff1'))
    assert "document 1 cannot be read" in refused(db)
    db.write_bytes(snapshot.replace(b'"history": [], ', b""))
    assert "lacks history" in refused(db)


# == the snapshot ==============================================================================

def test_a_newline_of_the_snapshot_turned_into_a_space_is_refused_then_repaired(big):
    expected = contacts_of(big)
    damage_layout(big)
    refused(big)
    report = check_database(big)
    assert report.kinds == ["layout"], report.lines()
    assert report.quarantined == [] and report.lost_commits == []
    assert contacts_of(big) == expected
    healthy_after(big)


def test_one_bad_byte_in_one_contact_of_2000_quarantines_it_and_keeps_the_rest(big):
    expected = contacts_of(big)
    damaged_line = damage_document(big, 1000)
    message = refused(big)
    assert "damaged" in message
    report = check_database(big)
    assert report.kinds == ["damaged-document"], report.lines()
    assert report.quarantined == [1000] and report.lost_commits == []
    assert report.contacts == 1999
    after = contacts_of(big)
    del expected[1000]
    assert after == expected
    quarantine = Path(f"{big}.quarantine")
    assert damaged_line in quarantine.read_bytes()  # byte for byte
    assert any("1000" in line and "quarantine" in line for line in report.lines())
    healthy_after(big)

    # Damaged again: the new quarantine is appended, the old one kept.
    first = quarantine.read_bytes()
    second_line = damage_document(big, 1500)
    report = check_database(big)
    assert report.quarantined == [1500]
    now = quarantine.read_bytes()
    assert now.startswith(first) and second_line in now[len(first):]


def test_a_bad_byte_on_a_line_holding_two_documents_costs_only_the_damaged_one(big):
    expected = contacts_of(big)
    damage_document(big, 1000)
    damage_layout(big)  # 999 and the damaged 1000 now share a line
    refused(big)
    report = check_database(big)
    assert report.kinds == ["damaged-document"], report.lines()
    assert report.quarantined == [1000]
    after = contacts_of(big)
    assert after[999] == expected[999] and 1000 not in after and len(after) == 1999
    healthy_after(big)


def test_a_changed_letter_in_a_snapshot_document_fails_the_checksum(big):
    """Every document still reads (a hand edit looks the same): opening warns, naming the
    fix, and check says bad-checksum and seals the file again."""
    expected = contacts_of(big)
    damage_changed_value(big, 1000)
    store = ContactStore(big, create=False)
    assert [warning for warning in store.warnings
            if "checksum" in warning and f"funnel check --db {big}" in warning]
    assert len(dict(store.items())) == 2000
    store.close()
    report = check_database(big)
    assert report.kinds == ["bad-checksum"], report.lines()
    after = contacts_of(big)
    assert after[1000]["created_at"] != expected[1000]["created_at"]  # kept as read: no
    assert len(after) == 2000  # copy to compare it with; every contact is kept
    healthy_after(big)


def test_check_without_repair_names_the_damage_and_changes_nothing(big):
    damage_document(big, 1000)
    before = big.read_bytes()
    report = check_database(big, repair=False)
    assert report.kinds == ["damaged-document"] and report.quarantined == [1000]
    assert big.read_bytes() == before
    assert not Path(f"{big}.quarantine").exists()


# == the lock, with real processes ===============================================================

HOLDER = textwrap.dedent("""
    import sys
    from funnel.engine.store.contacts import ContactStore
    store = ContactStore(sys.argv[1])
    with store.transaction():
        print("held", flush=True)
        sys.stdin.readline()
        document = dict(store.get(1), owner="anna", rev=store.get(1)["rev"] + 1)
        store.put(1, document, by="anna")
    print("committed", flush=True)
""")

SECOND = textwrap.dedent("""
    import sys
    from funnel.engine.errors import StorageError
    from funnel.engine.store.contacts import ContactStore
    store = ContactStore(sys.argv[1], lock_timeout=float(sys.argv[2]))
    try:
        with store.transaction():
            document = dict(store.get(2), owner="bartek", rev=store.get(2)["rev"] + 1)
            store.put(2, document, by="bartek")
    except StorageError as error:
        print(error)
        sys.exit(3)
    print("committed")
""")


def test_a_removed_lock_file_still_keeps_a_second_writer_out(db):
    small_database(db)
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(db)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        StorePaths.of(db).lock.unlink()  # removed while held
        second = subprocess.run([sys.executable, "-c", SECOND, str(db), "0.5"],
                                capture_output=True, text=True, timeout=60)
        assert second.returncode == 3, second.stdout + second.stderr
        assert "locked by another process" in second.stdout
        holder.stdin.write("\n")
        holder.stdin.flush()
        assert holder.stdout.readline().strip() == "committed"
    finally:
        holder.stdin.close()
        assert holder.wait(timeout=60) == 0, holder.stderr.read()
        holder.stdout.close()
        holder.stderr.close()
    second = subprocess.run([sys.executable, "-c", SECOND, str(db), "10"],
                            capture_output=True, text=True, timeout=60)
    assert second.returncode == 0, second.stdout + second.stderr
    after = contacts_of(db)  # both commits, one after the other: nothing dropped
    assert after[1]["owner"] == "anna" and after[2]["owner"] == "bartek"
    seqs = [json.loads(line)["seq"] for line in journal_lines(db)[1:]]
    assert seqs == list(range(1, len(seqs) + 1))
    assert check_database(db).healthy


def test_writers_of_two_databases_in_one_folder_do_not_wait_for_each_other(tmp_path):
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    small_database(first)
    small_database(second)
    holder = ContactStore(first)
    other = ContactStore(second, lock_timeout=0.5)
    with holder.transaction():  # a's lock held, as a long check or import would
        other.insert_many([contact(9)])  # b commits at once: no "locked" error
        StorePaths.of(first).lock.unlink()
        with pytest.raises(StorageError, match="locked"):  # but a's removed lock file is
            ContactStore(first, lock_timeout=0.3).insert_many([contact(9)])  # not recreated
    assert contacts_of(second)[7]["name"] == "Contact 9"
    ContactStore(first).insert_many([contact(9)])  # now it is
    assert StorePaths.of(first).lock.exists()
    assert check_database(first).healthy


def test_a_snapshot_restored_without_its_journal_names_the_missing_commits(db, tmp_path):
    small_database(db)  # records 1-8
    ContactStore(db).compact()  # snapshot at 8
    old_snapshot = db.read_bytes()
    store = ContactStore(db)
    store.insert_many([contact(7)])  # 9
    store.compact()  # snapshot at 9, journal from 9
    store.insert_many([contact(8)])  # 10
    store.close()
    db.write_bytes(old_snapshot)  # yesterday's backup of the snapshot alone
    assert "gap" in refused(db)
    report = check_database(db)
    assert report.kinds == ["gap"] and report.lost_commits == [9], report.lines()
    assert sorted(contacts_of(db)) == [1, 2, 3, 4, 5, 6, 8]  # 10 replayed on top
    healthy_after(db)


@pytest.mark.parametrize("header", [b"", b'{"journal":"funnel-st'], ids=["empty", "cut"])
def test_a_damaged_or_empty_journal_header_is_rebuilt_from_the_records(db, header):
    small_database(db)
    expected = contacts_of(db)
    lines = journal_lines(db)
    if header:
        write_journal_lines(db, [header] + lines[1:])
    else:
        StorePaths.of(db).journal.write_bytes(b"")
    refused(db)
    report = check_database(db)
    assert report.kinds == ["damaged-header"], report.lines()
    assert contacts_of(db) == (expected if header else {})
    healthy_after(db)


@pytest.mark.parametrize("odd_id", ["7\\u0000", "seven", "07x", "-7"])
def test_a_contact_id_that_is_not_a_number_is_refused_on_opening(tmp_path: Path, odd_id: str):
    from cli_support import run_cli
    from funnel.engine.workspace.facade import Workspace

    path = tmp_path / "d.json"
    with Workspace.open(path, None, user="x") as workspace:
        for number in range(3):
            workspace.add({"name": f"N{number}", "email": f"n{number}@example.com"})
        workspace._shared.store.compact()  # every contact in the snapshot
    data = path.read_bytes()
    path.write_bytes(data.replace(b'\n"2":', b'\n"' + odd_id.encode() + b'":', 1))
    before = path.read_bytes()
    ran = run_cli(tmp_path, "stats", "--db", path)
    assert ran.returncode == 2, ran.stderr
    assert "not a number" in ran.stderr and "funnel check" in ran.stderr
    assert "\x00" not in ran.stderr
    assert path.read_bytes() == before  # nothing written
