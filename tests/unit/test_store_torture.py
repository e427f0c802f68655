"""Store torture tests: ``kill -9`` of writers, several processes writing at once.

Every test runs real processes on real files in ``tmp_path``:

- a writer killed at random moments (and at chosen points inside a compaction)
  never loses an acknowledged edit, and the database still opens and checks;
- several ``funnel set`` processes at once, on different contacts and on the same
  one: every edit is recorded, or the command says "conflict"; never a silent loss;
- several processes inserting through ``FunnelTable`` at once: unique ids, nothing lost.

The tests that run many processes are marked ``stress``: the default run leaves them
out, ``pytest -m stress`` (as ``.ci/run`` does) runs them, sized by
``FUNNEL_STRESS_SCALE`` (a factor; 1, the default, is small: the CLI test runs 4 processes
x 25 edits; 8 runs the full 4 x 200). The in-process ones and the single held-lock
conflict stay in the default run.
Timings are printed (``-s``), never asserted: budgets belong to ``tests/benchmarks``.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

import pytest

from funnel.engine.rules.loading import load_rules
from funnel.engine.errors import Conflict
from funnel.engine.demo.generate import generate_contacts
from funnel.engine.store.contacts import ContactStore, FunnelDB
from funnel.engine.workspace.facade import Workspace

from cli_support import run_cli

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=timezone.utc)
SCALE = float(os.environ.get("FUNNEL_STRESS_SCALE", "").strip() or 1)  # tests/conftest.py


def _scaled(count: int, minimum: int) -> int:
    return max(minimum, round(count * SCALE))


KILL_TRIALS = _scaled(12, 3)
CLI_EDITS = _scaled(25, 2)  # per process, 4 processes
RACE_ATTEMPTS = _scaled(6, 2)  # per process on the same contact, 4 processes
INSERTS = _scaled(150, 10)  # per process, 4 processes
TIMEOUT = 120


# -- helpers -------------------------------------------------------------------------

def _env() -> dict[str, str]:
    """The environment for child processes, without the user's FUNNEL_* settings."""
    return {key: value for key, value in os.environ.items() if not key.startswith("FUNNEL_")}


def _seed(db: Path, count: int) -> None:
    with Workspace.open(db, "default", clock=lambda: NOW, user="seed") as workspace:
        workspace.add_many(generate_contacts(count, 7, NOW), by="seed")


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "funnel.tui.cli", *args], capture_output=True,
                          text=True, timeout=TIMEOUT, env=_env())


def _check(db: Path, repair: bool = True) -> dict:
    """``funnel check --json`` (in this process; the writers are the real processes):
    must exit 0 and find at most a torn last record."""
    args = ["check", "--db", str(db), "--json"] + ([] if repair else ["--no-repair"])
    result = run_cli(db.parent, *args)
    assert result.returncode == 0, f"funnel check failed: {result.stderr}{result.stdout}"
    report = json.loads(result.stdout)
    assert report["fatal"] is None
    damage = [finding for finding in report["findings"]
              if not finding.startswith("an incomplete last journal record")]
    assert damage == [], f"funnel check found damage: {damage}"
    return report


def _field_entries(document: dict, name: str) -> list[dict]:
    return [entry for entry in document["history"]
            if entry.get("kind") == "field" and entry.get("field") == name]


def _assert_chain(entries: list[dict], first_from) -> None:
    """Each change starts from the value the previous one left: no update was lost."""
    expected = first_from
    for index, entry in enumerate(entries):
        assert entry["from"] == expected, (
            f"history entry {index} goes from {entry['from']!r}, but the value before it "
            f"was {expected!r}: an update was lost")
        expected = entry["to"]


def _open_store(db: Path) -> ContactStore:
    # Never closed: close() may compact, and a verifier must not write.
    return ContactStore(db, create=False)


class _Child:
    """A child Python process whose stdout lines are collected as they arrive."""

    def __init__(self, code: str, *args: str) -> None:
        self.proc = subprocess.Popen([sys.executable, "-c", code, *args],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, env=_env())
        self.lines: list[str] = []
        self._seen = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            with self._seen:
                self.lines.append(line.rstrip("\n"))
                self._seen.notify_all()
        with self._seen:
            self._seen.notify_all()

    def wait_for(self, prefix: str, timeout: float = 60) -> None:
        def seen() -> bool:
            return any(line.startswith(prefix) for line in self.lines) \
                or self.proc.poll() is not None
        with self._seen:
            if not self._seen.wait_for(seen, timeout):
                self.proc.kill()
                raise AssertionError(f"child never printed {prefix!r}")
        if self.proc.poll() is not None:
            self._reader.join(timeout=TIMEOUT)  # take in the lines it printed before exiting
        if not any(line.startswith(prefix) for line in self.lines):
            raise AssertionError(f"child exited ({self.proc.returncode}) before {prefix!r}: "
                                 + self.proc.stderr.read())

    def kill(self) -> None:
        os.kill(self.proc.pid, signal.SIGKILL)
        self.finish()

    def finish(self) -> str:
        self.proc.wait(timeout=TIMEOUT)
        self._reader.join(timeout=TIMEOUT)
        self.stderr = self.proc.stderr.read()
        self.proc.stderr.close()
        self.proc.stdout.close()
        return self.stderr

    def acks(self) -> list[int]:
        return [int(line.split()[1]) for line in self.lines if line.startswith("ACK ")]


# -- a. kill -9 of a writer ----------------------------------------------------------

# Edits contacts round-robin: edit n goes to ids[n % len(ids)] and sets notes to
# "edit n" (with a history entry, as Workspace.edit records it). "ACK n" is printed
# only after the commit returned. Every k edits it compacts explicitly, and the
# tiny compact_bytes makes the storage also compact in its background thread.
EDITOR = r"""
import sys
from funnel.engine.rules.loading import load_rules
from funnel.engine.store.contacts import ContactStore
from funnel.engine.workspace.facade import Workspace

path, mode, start, ids, every, compact_bytes = sys.argv[1:7]
start, every, compact_bytes = int(start), int(every), int(compact_bytes)
ids = [int(part) for part in ids.split(",")]
store = ContactStore(path, create=False, compact_bytes=compact_bytes)
workspace = Workspace(store, load_rules("default"), user="child") if mode == "workspace" \
    else None
print("READY", flush=True)
n = start
while True:
    contact_id, text = ids[n % len(ids)], f"edit {n}"
    if workspace is not None:
        workspace.edit(contact_id, {"notes": text}, by="child")
    else:
        with store.transaction():
            current = store.get(contact_id)
            new = dict(current)
            new["history"] = current["history"] + [
                {"at": "2026-11-22T09:00:00Z", "by": "child", "kind": "field",
                 "field": "notes", "from": current.get("notes"), "to": text}]
            new["notes"] = text
            new["rev"] = current["rev"] + 1
            store.put(contact_id, new, by="child")
    print(f"ACK {n}", flush=True)
    n += 1
    if every and n % every == 0:
        print(f"COMPACT {n}", flush=True)
        store.compact()
        print(f"COMPACTED {n}", flush=True)
"""

EDITED = (1, 2, 3)


def _notes_numbers(document: dict) -> list[int]:
    return [int(entry["to"].split()[1]) for entry in _field_entries(document, "notes")]


def _verify_edits(db: Path, last_acked: int, initial_rev: dict[int, int]) -> int:
    """Every acknowledged edit is on disk, in order; returns the last edit on disk."""
    store = _open_store(db)
    documents = {contact_id: store.get(contact_id) for contact_id in EDITED}
    numbers = {contact_id: _notes_numbers(document) for contact_id, document in documents.items()}
    last = max((n for found in numbers.values() for n in found), default=-1)
    # The child commits one edit at a time: at most one committed edit was not yet acked.
    assert last in (last_acked, last_acked + 1), (
        f"last acknowledged edit {last_acked}, but the last edit on disk is {last}")
    for index, contact_id in enumerate(EDITED):
        expected = [n for n in range(last + 1) if n % len(EDITED) == index]
        assert numbers[contact_id] == expected, f"contact {contact_id} lost edits"
        document = documents[contact_id]
        if expected:
            assert document["notes"] == f"edit {expected[-1]}"
        assert document["rev"] == initial_rev[contact_id] + len(expected)
        _assert_chain(_field_entries(document, "notes"), None)
    return last


@pytest.mark.stress
def test_kill_9_at_random_moments_never_loses_an_acknowledged_edit(tmp_path):
    db = tmp_path / "kill.json"
    _seed(db, 1500)  # a snapshot of ~1.4 MB: a compaction takes long enough to be hit
    store = _open_store(db)
    initial_rev = {contact_id: store.get(contact_id)["rev"] for contact_id in EDITED}
    for contact_id in EDITED:
        assert not store.get(contact_id).get("notes")
    rng = random.Random(20261122)
    outcomes: Counter = Counter()
    next_edit = 0
    started = time.perf_counter()
    for trial in range(KILL_TRIALS):
        mode = "workspace" if trial % 2 else "store"
        aim_at_compaction = trial % 3 == 2
        child = _Child(EDITOR, str(db), mode, str(next_edit), ",".join(map(str, EDITED)),
                       str(rng.choice([5, 9, 13])), str(rng.choice([8_192, 65_536])))
        child.wait_for("READY")
        if aim_at_compaction:
            child.wait_for("COMPACT ")
            time.sleep(rng.uniform(0, 0.04))
        else:
            time.sleep(rng.uniform(0, 0.4))
        child.kill()
        assert child.proc.returncode == -signal.SIGKILL, (
            f"trial {trial}: the writer died by itself: {child.stderr}")
        assert "Traceback" not in child.stderr, child.stderr
        acks = child.acks()
        assert acks == list(range(next_edit, next_edit + len(acks)))
        last_acked = acks[-1] if acks else next_edit - 1
        compacting = [line for line in child.lines if line.startswith("COMPACT")]
        in_compaction = bool(compacting) and compacting[-1].startswith("COMPACT ")
        outcomes["killed during an explicit compaction" if in_compaction
                 else "killed during edits"] += 1
        outcomes["acknowledged edits"] += len(acks)

        last = _verify_edits(db, last_acked, initial_rev)
        outcomes["an unacknowledged edit made it"] += last == last_acked + 1
        # Repair on every other trial; otherwise the next writer meets the torn tail.
        report = _check(db, repair=trial % 2 == 1)
        outcomes["torn tails found by check"] += bool(report["findings"])
        assert report["contacts"] == 1500
        assert _verify_edits(db, last_acked, initial_rev) == last  # the repair lost nothing
        next_edit = last + 1
    leftovers = sorted(path.name for path in tmp_path.iterdir() if path.name.startswith("."))
    print(f"\n{KILL_TRIALS} kill -9 trials in {time.perf_counter() - started:.1f} s: "
          f"{dict(outcomes)}; temp files left behind: {len(leftovers)}")
    assert outcomes["acknowledged edits"] > KILL_TRIALS  # the kills did land among edits


# Deterministic crash points: the child SIGKILLs itself at one exact point. During
# the compaction a second store in the same process commits an edit (between the
# capture and the swap), so the swap must carry it over to the new journal.
CRASHER = r"""
import os, signal, sys
import funnel.engine.store.compaction as journal
from funnel.engine.store.contacts import ContactStore

path, point = sys.argv[1], sys.argv[2]
store = ContactStore(path, create=False)
other = ContactStore(path, create=False)  # its own lock: like another process
n = 0

def edit(target):
    global n
    contact_id, text = (1, 2, 3)[n % 3], f"edit {n}"
    with target.transaction():
        current = target.get(contact_id)
        new = dict(current)
        new["history"] = current["history"] + [
            {"at": "2026-11-22T09:00:00Z", "by": "child", "kind": "field", "field": "notes",
             "from": current.get("notes"), "to": text}]
        new["notes"], new["rev"] = text, current["rev"] + 1
        target.put(contact_id, new)
    print(f"ACK {n}", flush=True)
    n += 1

def die():
    os.kill(os.getpid(), signal.SIGKILL)

for _ in range(7):
    edit(store)
real_replace, real_write, real_chunks = os.replace, os.write, journal.snapshot_chunks
replaced = 0

def replace(source, target):
    global replaced
    replaced += 1
    if point == "before-snapshot-swap" and replaced == 1:
        die()
    real_replace(source, target)
    if point == "after-snapshot-swap" and replaced == 1:
        die()
    if point == "after-journal-swap" and replaced == 2:
        die()

def chunks(tables, seq):  # runs outside the lock, between capture and swap
    edit(other)
    yield from real_chunks(tables, seq)

def torn_write(descriptor, data):
    real_write(descriptor, data[: len(data) // 2])
    die()

if point == "torn-commit":
    os.write = torn_write
    edit(store)
else:
    os.replace, journal.snapshot_chunks = replace, chunks
    store.compact()
    print("COMPACTED", flush=True)
"""


@pytest.mark.stress
@pytest.mark.parametrize("point", ["none", "before-snapshot-swap", "after-snapshot-swap",
                                   "after-journal-swap", "torn-commit"])
def test_kill_9_at_each_step_of_a_compaction_or_commit(tmp_path, point):
    db = tmp_path / "crash.json"
    _seed(db, 60)
    store = _open_store(db)
    initial_rev = {contact_id: store.get(contact_id)["rev"] for contact_id in EDITED}
    child = _Child(CRASHER, str(db), point)
    child.finish()
    assert "Traceback" not in child.stderr, child.stderr
    expected_code = 0 if point == "none" else -signal.SIGKILL
    assert child.proc.returncode == expected_code, child.stderr
    # 7 edits, then one more: committed during the compaction, or torn and never acked.
    last_acked = 6 if point == "torn-commit" else 7
    assert child.acks() == list(range(last_acked + 1))
    assert _verify_edits(db, last_acked, initial_rev) == last_acked
    report = _check(db, repair=False)
    assert bool(report["findings"]) == (point == "torn-commit")

    # A writer carries on from there; then everything is still there after a repair.
    editor = _Child(EDITOR, str(db), "store", str(last_acked + 1), "1,2,3", "4", "65536")
    editor.wait_for("COMPACTED")  # 4 more edits and a compaction, then stop it
    editor.kill()
    last_acked = editor.acks()[-1]
    last = _verify_edits(db, last_acked, initial_rev)
    _check(db, repair=True)
    assert _verify_edits(db, last_acked, initial_rev) == last


@pytest.mark.stress
def test_a_compaction_killed_midway_leaves_no_temp_file_behind_for_good(tmp_path):
    db = tmp_path / "crash.json"
    _seed(db, 60)
    child = _Child(CRASHER, str(db), "before-snapshot-swap")
    child.finish()
    assert child.proc.returncode == -signal.SIGKILL, child.stderr
    assert child.acks() == list(range(8))
    _check(db, repair=True)
    editor = _Child(EDITOR, str(db), "store", "8", "1,2,3", "4", "65536")
    editor.wait_for("COMPACTED")  # the next writer compacted successfully
    editor.kill()
    _open_store(db).compact()
    leftovers = [path.name for path in tmp_path.iterdir() if path.name.endswith(".compact")]
    assert leftovers == []


# -- the journal is identified by its inode number ---------------------------------------

def _raw_edit(store: ContactStore, contact_id: int, text: str) -> None:
    with store.transaction():
        current = store.get(contact_id)
        store.put(contact_id, dict(current, notes=text, rev=current["rev"] + 1))


def test_a_session_idle_across_other_processes_compactions_keeps_its_commit(tmp_path):
    db = tmp_path / "idle.json"
    _seed(db, 3)
    idle = ContactStore(db, create=False)  # e.g. the TUI, open all afternoon
    busy = ContactStore(db, create=False)  # e.g. scripts and imports elsewhere
    _raw_edit(idle, 1, "idle session, morning")
    # Many compactions while the idle session sleeps: on ext4 an inode number of a
    # swapped-out journal comes back within a few, which once hid the swap from the
    # idle session (it now holds its journal open, so the number cannot return).
    for round_ in range(20):
        _raw_edit(busy, 2, f"busy {round_}")
        busy.compact()
    _raw_edit(idle, 3, "idle session, afternoon")  # acknowledged: put() returned
    fresh = _open_store(db)
    assert fresh.get(2)["notes"] == f"busy {round_}"
    assert fresh.get(1)["notes"] == "idle session, morning"
    assert fresh.get(3).get("notes") == "idle session, afternoon"


# -- b. several CLI processes, each on its own contact -----------------------------------

def _run_loops(loops: list[list[list[str]]]) -> list[list[subprocess.CompletedProcess]]:
    """Run each loop's commands one after the other, all loops at once."""
    results: list[list[subprocess.CompletedProcess]] = [[] for _ in loops]

    def run(index: int) -> None:
        for args in loops[index]:
            results[index].append(_cli(*args))

    threads = [threading.Thread(target=run, args=(index,)) for index in range(len(loops))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.mark.stress
def test_four_cli_processes_editing_their_own_contacts_lose_nothing(tmp_path):
    db = tmp_path / "cli.json"
    _seed(db, 8)
    seeded = _open_store(db)
    before = {contact_id: seeded.get(contact_id) for contact_id in range(1, 9)}
    loops = [[["set", str(k), f"notes=edit-{n}", "--db", str(db), "--by", f"p{k}"]
              for n in range(1, CLI_EDITS + 1)] for k in range(1, 5)]
    started = time.perf_counter()
    results = _run_loops(loops)
    elapsed = time.perf_counter() - started
    print(f"\n4 x {CLI_EDITS} 'funnel set' processes: {elapsed:.1f} s "
          f"({elapsed / (4 * CLI_EDITS) * 1000:.0f} ms per edit, wall clock)")
    for k, loop in enumerate(results, start=1):
        failed = [(n, result.returncode, result.stderr) for n, result in enumerate(loop, 1)
                  if result.returncode != 0 or result.stderr]
        assert failed == [], f"p{k}: {failed[:3]}"
    store = _open_store(db)
    for k in range(1, 5):
        document = store.get(k)
        entries = _field_entries(document, "notes")
        assert [entry["to"] for entry in entries] == \
            [f"edit-{n}" for n in range(1, CLI_EDITS + 1)]
        assert {entry["by"] for entry in entries} == {f"p{k}"}
        _assert_chain(entries, before[k].get("notes"))
        assert document["notes"] == f"edit-{CLI_EDITS}"
        assert document["rev"] == before[k]["rev"] + CLI_EDITS
    for k in range(5, 9):  # nobody's edit landed on a contact no one edited
        assert store.get(k) == before[k]
    _check(db, repair=False)


# -- c. several CLI processes on the same contact and field -------------------------------

@pytest.mark.stress
def test_racing_cli_edits_of_one_field_either_land_or_say_conflict(tmp_path):
    db = tmp_path / "race.json"
    _seed(db, 3)
    first_owner = _open_store(db).get(1).get("owner")
    loops = [[["set", "1", f"owner=p{k}-{n}", "--db", str(db), "--by", f"p{k}"]
              for n in range(RACE_ATTEMPTS)] for k in range(1, 5)]
    results = _run_loops(loops)
    succeeded, conflicts = [], 0
    for k, loop in enumerate(results, start=1):
        for n, result in enumerate(loop):
            if result.returncode == 0:
                succeeded.append(f"p{k}-{n}")
                assert result.stderr == ""
            else:
                assert result.returncode == 3, result.stderr  # refused: a conflict
                message = result.stderr.strip()
                assert "\n" not in message and "Traceback" not in message
                assert message.startswith("funnel: conflict on contact 1 "), message
                assert "owner" in message
                conflicts += 1
    print(f"\n4 x {RACE_ATTEMPTS} racing edits of contact 1's owner: {len(succeeded)} "
          f"saved, {conflicts} conflicts")
    document = _open_store(db).get(1)
    entries = _field_entries(document, "owner")
    assert len(entries) == len(succeeded)  # each success recorded, nothing silent
    assert sorted(entry["to"] for entry in entries) == sorted(succeeded)
    assert all(entry["by"] == entry["to"].split("-")[0] for entry in entries)
    _assert_chain(entries, first_owner)
    assert document["owner"] == entries[-1]["to"]
    for k in range(1, 5):  # each process's own edits land in the order it made them
        own = [int(entry["to"].split("-")[1]) for entry in entries
               if entry["to"].startswith(f"p{k}-")]
        assert own == sorted(own)
    _check(db, repair=False)


def test_two_workspaces_editing_the_same_field_get_a_conflict(tmp_path):
    db = tmp_path / "two.json"
    _seed(db, 3)
    rules = load_rules("default")
    alice = Workspace.open(db, rules, clock=lambda: NOW, user="alice")
    bob = Workspace.open(db, rules, clock=lambda: NOW, user="bob")
    rev = alice.get(1)["rev"]
    alice.edit(1, {"owner": "alice"})
    with pytest.raises(Conflict) as raised:
        bob.edit(1, {"owner": "bob"})
    message = str(raised.value)
    assert "conflict" in message and "contact 1 " in message and "owner" in message
    assert "by alice" in message
    # Bob changing another field still works, on top of Alice's change.
    bob.edit(1, {"notes": "called back"})
    fresh = _open_store(db).get(1)
    assert fresh["owner"] == "alice" and fresh["notes"] == "called back"
    assert [entry["to"] for entry in _field_entries(fresh, "owner")] == ["alice"]
    assert fresh["rev"] == rev + 2
    alice.close()
    bob.close()


def test_a_cli_edit_loaded_before_another_commit_to_its_field_reports_a_conflict(tmp_path):
    db = tmp_path / "held.json"
    _seed(db, 3)
    store = ContactStore(db, create=False)
    workspace = Workspace(store, load_rules("default"), clock=lambda: NOW, user="parent")
    lock = os.path.realpath(f"{db}.lock")
    with store.transaction():  # hold the writer lock
        proc = subprocess.Popen([sys.executable, "-m", "funnel.tui.cli", "set", "1", "owner=cli",
                                 "--db", str(db), "--by", "cli"], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=_env())
        deadline = time.monotonic() + 60
        while True:  # until the CLI has loaded the contact and waits for the lock
            try:
                fds = os.listdir(f"/proc/{proc.pid}/fd")
                held = any(os.path.realpath(f"/proc/{proc.pid}/fd/{fd}") == lock
                           for fd in fds)
            except (FileNotFoundError, ProcessLookupError):
                held = False
            if held:
                break
            assert proc.poll() is None, proc.stderr.read()
            assert time.monotonic() < deadline, "the CLI never reached the lock"
            time.sleep(0.005)
        workspace.edit(1, {"owner": "parent"})
    out, err = proc.communicate(timeout=TIMEOUT)
    assert proc.returncode == 3, out + err  # a conflict: refused, not bad input
    assert err.startswith("funnel: conflict on contact 1 ") and "owner" in err
    assert "by parent" in err
    fresh = _open_store(db).get(1)
    assert fresh["owner"] == "parent"
    assert [entry["to"] for entry in _field_entries(fresh, "owner")] == ["parent"]


# -- d. raw concurrent writers through FunnelTable ---------------------------------------

INSERTER = r"""
import sys
from funnel.engine.store.contacts import FunnelDB
path, k, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
table = FunnelDB(path).table("items")  # all four may create the database at once
for n in range(count):
    table.insert({"proc": k, "n": n})
print("DONE", flush=True)
"""


@pytest.mark.stress
def test_four_processes_inserting_at_once_get_unique_ids_and_lose_nothing(tmp_path):
    db = tmp_path / "raw.json"
    started = time.perf_counter()
    children = [_Child(INSERTER, str(db), str(k), str(INSERTS)) for k in range(4)]
    for child in children:
        child.finish()
        assert child.proc.returncode == 0, child.stderr
        assert child.stderr == "" and child.lines == ["DONE"]
    print(f"\n4 x {INSERTS} concurrent inserts: {time.perf_counter() - started:.1f} s")
    table = FunnelDB(db, create=False).table("items")
    documents = table.all()
    assert len(documents) == 4 * INSERTS == len(table)
    assert sorted(document.doc_id for document in documents) == list(range(1, 4 * INSERTS + 1))
    assert sorted((d["proc"], d["n"]) for d in documents) == \
        [(k, n) for k in range(4) for n in range(INSERTS)]
    for k in range(4):  # each process's own inserts got increasing ids
        own = sorted((d["n"], d.doc_id) for d in documents if d["proc"] == k)
        assert [doc_id for _, doc_id in own] == sorted(doc_id for _, doc_id in own)
    # The journal itself: one record per insert, sequence numbers with no gap or repeat.
    lines = Path(f"{db}.journal").read_bytes().split(b"\n")
    assert lines[-1] == b""
    header, records = json.loads(lines[0]), [json.loads(line) for line in lines[1:-1]]
    assert [record["seq"] for record in records] == \
        list(range(header["base"] + 1, header["base"] + 1 + len(records)))
    assert sum(len(record["put"]) for record in records) == 4 * INSERTS
    report = _check(db, repair=False)
    assert report["healthy"] is True


def _filesystem_reuses_inode_numbers(folder: Path) -> bool:
    probe, temp = folder / "probe", folder / "probe.tmp"
    probe.write_text("0")
    seen = set()
    for round_ in range(8):
        inode = probe.stat().st_ino
        if inode in seen:
            return True
        seen.add(inode)
        temp.write_text(str(round_))
        os.replace(temp, probe)
    return False


INSERTER_COMPACTING = INSERTER.replace(
    "FunnelDB(path)", "FunnelDB(path, compact_bytes=8192)").replace(
    '{"proc": k, "n": n}', '{"proc": k, "n": n, "pad": "x" * 200}')
assert INSERTER_COMPACTING.count("8192") == 1 and INSERTER_COMPACTING.count('"pad"') == 1


@pytest.mark.stress
def test_four_processes_inserting_while_compacting_lose_nothing(tmp_path):
    if not _filesystem_reuses_inode_numbers(tmp_path):
        pytest.skip("this filesystem does not reuse inode numbers: the race cannot happen")
    for round_ in range(3):  # the race is near-certain per round on ext4; stop at the first
        db = tmp_path / f"compacting{round_}.json"
        children = [_Child(INSERTER_COMPACTING, str(db), str(k), str(INSERTS))
                    for k in range(4)]
        for child in children:
            child.finish()
        for child in children:
            assert child.proc.returncode == 0, child.stderr
            assert "Traceback" not in child.stderr, child.stderr
        documents = FunnelDB(db, create=False).table("items").all()
        assert sorted((d["proc"], d["n"]) for d in documents) == \
            [(k, n) for k in range(4) for n in range(INSERTS)]
        assert sorted(document.doc_id for document in documents) == \
            list(range(1, 4 * INSERTS + 1))
