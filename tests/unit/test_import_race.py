"""``funnel import`` while three ``funnel set`` loops edit the same contacts: real processes.

Three loops (threads here, each running one ``funnel set`` process after another, about
one commit a second each) set ``title`` (a field the file also sets) or ``notes`` (one
it does not) on contacts the file names, while ``funnel import`` runs again and again.
Every import must succeed, and afterwards no edit may have been lost unannounced:

- every ``funnel set`` that reported success is in its contact's history;
- per contact and field, each history entry starts from the value the previous one
  left (an import that wrote over an edit it never saw would break that chain), and
  the last one is the stored value;
- a conflict the import reports names a value one of the loops did set there.

The default run is small (200 rows, two imports) and imports in this process, so it
can wait, between planning and applying, until edits have landed: every import there
must re-derive rows. ``-m stress`` runs the acceptance size with ``funnel import`` as
a process too: 2,000 rows, ``min(10, 3 x FUNNEL_STRESS_SCALE)`` imports (10 of 10
from a scale of 4). Timings are printed (``-s``), never asserted.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import pytest

from funnel.engine.transfer.importer import apply_import, plan_import
from funnel.engine.workspace.facade import Workspace

from cli_support import clean_env

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=timezone.utc)
LOOPS = 3
PACE = 1.0  # seconds between the starts of one loop's edits: about 3 commits/s in all
TIMEOUT = 300


@dataclass
class SetLoop:
    """One person running ``funnel set`` over and over until told to stop."""

    name: str
    db: Path
    ids: list[int]
    stop: threading.Event
    heard: threading.Condition  # notified after every edit
    done: list[tuple[int, str, str, int, str]] = field(default_factory=list)
    # (contact id, field, value, exit status, stderr) of every edit tried

    def run(self) -> None:
        chance = random.Random(self.name)
        turn = 0
        while not self.stop.is_set():
            started = time.monotonic()
            contact_id = chance.choice(self.ids)
            name = "title" if turn % 2 == 0 else "notes"
            value = f"{self.name}-{turn}"
            ran = subprocess.run(
                [sys.executable, "-m", "funnel.tui.cli", "set", str(contact_id),
                 f"{name}={value}", "--db", str(self.db), "--by", self.name, "--json"],
                capture_output=True, text=True, timeout=TIMEOUT, env=clean_env(self.db.parent))
            with self.heard:
                self.done.append((contact_id, name, value, ran.returncode, ran.stderr))
                self.heard.notify_all()
            turn += 1
            self.stop.wait(max(0.0, PACE - (time.monotonic() - started)))


def _seed(db: Path, count: int) -> list[int]:
    with Workspace.open(db, "default", clock=lambda: NOW, user="seed") as workspace:
        return workspace.add_many([{"email": f"c{i}@x.pl", "name": f"Contact {i}"}
                                   for i in range(count)], by="seed")


def _file(folder: Path, count: int, repeat: int) -> Path:
    """Every seeded contact gets a new title and company; a tenth more are new."""
    lines = ["email,title,company"]
    lines += [f"c{i}@x.pl,imported {repeat}-{i},Company {repeat}-{i}"
              for i in range(count + count // 10)]
    path = folder / f"leads-{repeat}.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def _import_here(db: Path, path: Path, loops: list[SetLoop], heard: threading.Condition
                 ) -> dict:
    """Plan, wait until edits land, then apply: ``funnel import --json``'s figures."""
    with Workspace.open(db, "default", user="importer") as workspace:
        plan = plan_import(path, None, workspace)
        with heard:
            before = [len(loop.done) for loop in loops]
            # Once a loop has finished two edits since, its second began after the plan.
            landed = heard.wait_for(lambda: any(len(loop.done) >= count + 2 for loop, count
                                                in zip(loops, before)), timeout=TIMEOUT)
        assert landed, "the set loops stopped editing"
        result = apply_import(workspace, plan)
    assert result.replanned > 0, "edits landed after the plan, yet no row was derived again"
    return {"replanned": result.replanned,
            "conflicts": [conflict.to_dict() for conflict in result.conflicts]}


def _import_process(db: Path, path: Path) -> dict:
    ran = subprocess.run([sys.executable, "-m", "funnel.tui.cli", "import", str(path),
                          "--db", str(db), "--json"], capture_output=True, text=True,
                         timeout=TIMEOUT, env=clean_env(db.parent))
    assert ran.returncode == 0, f"funnel import {path.name}: {ran.stderr}"
    return json.loads(ran.stdout)


def _empty(value: object) -> object:
    return None if value in ("", [], {}) else value


def _race(tmp_path: Path, rows: int, repeats: int, in_process: bool) -> None:
    db = tmp_path / "leads.json"
    ids = _seed(db, rows)
    stop, heard = threading.Event(), threading.Condition()
    loops = [SetLoop(f"loop{n}", db, ids, stop, heard) for n in range(LOOPS)]
    threads = [threading.Thread(target=loop.run, daemon=True) for loop in loops]
    for thread in threads:
        thread.start()
    reports = []
    try:
        for repeat in range(repeats):
            started = time.monotonic()
            path = _file(tmp_path, rows, repeat)
            report = (_import_here(db, path, loops, heard) if in_process
                      else _import_process(db, path))
            reports.append(report)
            print(f"import {repeat + 1}: {time.monotonic() - started:.2f} s, "
                  f"re-derived {report['replanned']} rows, "
                  f"{len(report['conflicts'])} conflicts, "
                  f"edits so far {sum(len(loop.done) for loop in loops)}")
    finally:
        stop.set()
        for thread in threads:
            thread.join(TIMEOUT)
    tried = [edit for loop in loops for edit in loop.done]
    assert tried, "the set loops never ran"
    refused = [edit for edit in tried if edit[3] != 0]
    assert all(edit[3] == 3 and "conflict" in edit[4] for edit in refused), refused[:3]
    landed = {(contact_id, name, value) for contact_id, name, value, code, _ in tried
              if code == 0}
    assert landed, "no edit succeeded while importing"
    set_values = {(contact_id, name): set() for contact_id, name, _ in landed}
    for contact_id, name, value in landed:
        set_values[contact_id, name].add(value)

    with Workspace.open(db, "default", clock=lambda: NOW) as workspace:
        assert len(workspace) == rows + rows // 10
        recorded = set()
        for contact_id in ids:
            contact = workspace.get(contact_id)
            for name in ("title", "notes", "company"):
                chain = [entry for entry in contact["history"] if entry.get("field") == name]
                value = None
                for entry in chain:
                    assert _empty(entry["from"]) == _empty(value), (
                        f"contact {contact_id} {name}: {entry['by']} wrote over {value!r} "
                        f"from {entry['from']!r}")
                    value = entry["to"]
                    if entry["by"].startswith("loop"):
                        recorded.add((contact_id, name, value))
                assert _empty(contact.get(name)) == _empty(value)
        lost = landed - recorded
        assert not lost, f"{len(lost)} edits that reported success are not recorded"
    for report in reports:
        for conflict in report["conflicts"]:
            assert conflict["field"] in ("title", "company")
            assert conflict["theirs"] in set_values.get(
                (conflict["contact"], conflict["field"]), set()), conflict
    print(f"{len(landed)} edits landed, {len(refused)} refused as conflicts; "
          f"{sum(len(report['conflicts']) for report in reports)} import conflicts")


@pytest.mark.stress  # (as its large version: writer processes busy for seconds)
def test_imports_succeed_while_set_loops_edit_small(tmp_path: Path) -> None:
    _race(tmp_path, rows=200, repeats=2, in_process=True)


@pytest.mark.stress
def test_imports_succeed_while_set_loops_edit(tmp_path: Path, stress_size) -> None:
    _race(tmp_path, rows=2000, repeats=min(10, stress_size(3)), in_process=False)
