"""Benchmark: importing CSV files, against adding the same contacts one by one.

    python tests/benchmarks/bench_import.py [--rows 10000] [--baseline-rows 1000]
                                            [--existing 0] [--seed 1]
    python tests/benchmarks/bench_import.py --stream-rows 50000 100000 500000

Prints each figure beside its DESIGN.md budget (import 10,000 CSV rows <= 5 s;
``xB`` = figure / budget, 1.00 or less is within budget) and, for the generated
file, beside the naive baseline measured in the same run: ``Workspace.add`` per row
(one durable commit each), timed on ``--baseline-rows`` rows and scaled to the
file's size. Measured:
- the real export ../shared/data/x-education-leads.csv with the shipped mapping
  (skipped with a note when the file is not there): first import into an empty
  database, then the same file again (all unchanged, nothing written);
- N generated contacts written by ``funnel export`` (activities, custom fields, stage
  pins) and read back into an empty database, optionally beside ``--existing``
  contacts already in it (the matching then has to look at them);
- for each import: planning (read, map, check, match) and writing apart, and how
  long the database stayed locked (what another user waits, at most);
- a file that changes every one of those contacts (a new title), imported twice:
  quietly, then with another session committing an edit of one of them after the
  batch was built: the import derives rows again under the lock instead of giving up
  (issue #11), and the lock is held longer by that much.

``--stream-rows N...`` measures only big files (issue #12): for each N a CSV of N
plain lead rows is written to disk and ``funnel import FILE --db D`` runs in a child
process on an empty database (or one holding ``--stream-existing`` generated
contacts); it prints rows/s and the child's peak memory (VmHWM) beside the budget,
500,000 rows at >= 10,000 rows/s in <= 600 MB, and beside the figures measured before
imports streamed (``BEFORE``).
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from funnel.engine.rules.loading import load_rules
from funnel.engine.transfer.exporter import export_contacts
from funnel.engine.demo.generate import generate_contacts
from funnel.engine.transfer.importer import plan_import
from funnel.engine.workspace.facade import Workspace

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=timezone.utc)
BUDGET_S_PER_10K = 5.0
BUDGET_ROWS_PER_S = 10_000  # streamed import (issue #12)
BUDGET_PEAK_MB = 600
# Streamed imports into an empty database before issue #12's memory work (same
# machine): rows -> (rows per CPU second, peak MB). Every document was then held as
# a dict (twice while building) and the journal record was built whole.
BEFORE = {50_000: (5_756, 407), 500_000: (5_332, 3_574)}
REAL = Path(__file__).resolve().parents[3] / "shared" / "data" / "x-education-leads.csv"


def line(what: str, figure: float, unit: str, budget: float | None = None,
         baseline: float | None = None, baseline_name: str = "") -> None:
    text = f"{what:<50} {figure:9.3f} {unit:<2}"
    if budget is not None:
        text += f"  budget {budget:g} {unit} (x{figure / budget:.2f})"
    if baseline is not None:
        text += f"  vs {baseline_name} {baseline:.2f} {unit} ({baseline / figure:.1f}x faster)"
    print(text, flush=True)


def timed_import(db: Path, path: Path, mapping: str | None, rules, label: str,
                 baseline: float | None = None) -> dict[str, int]:
    with Workspace.open(db, rules, clock=lambda: NOW, user="bench") as workspace:
        started = time.perf_counter()
        plan = plan_import(path, mapping, workspace)
        planned = time.perf_counter()
        if not plan.ok:
            raise SystemExit(f"{label}: {plan.problems[:3]}")
        result = workspace.apply_import(plan)
        done = time.perf_counter()
    total = done - started
    rows = plan.rows
    line(f"{label}: import {rows} rows", total, "s", BUDGET_S_PER_10K * rows / 10_000,
         baseline, "one by one")
    line("  planning (read, map, check, match)", planned - started, "s")
    line("  writing (build, classify, commit, compact)", done - planned, "s")
    line("  the database was locked for", result.lock_seconds, "s")
    counts = result.counts()
    print(f"  {counts}", flush=True)
    return counts


def timed_update(db: Path, folder: Path, rules, meddle: bool) -> None:
    """Give every contact with an email a new title; with ``meddle``, another session
    edits one of them once the batch is built (before the import takes the lock)."""
    with Workspace.open(db, rules, clock=lambda: NOW, user="bench") as workspace:
        emails = [(contact_id, document["email"]) for contact_id, document
                  in workspace.documents() if document.get("email")]
        path = folder / "titles.csv"
        path.write_text("email,title\n" + "".join(
            f"{email},title {meddle} {contact_id}\n" for contact_id, email in emails))
        with Workspace.open(db, rules, clock=lambda: NOW, user="other") as other:
            edited = []

            def meanwhile(phase: str, done: int, total: int) -> None:
                if meddle and phase == "write" and done == total and not edited:
                    other.edit(emails[0][0], {"title": "edited meanwhile"})
                    edited.append(emails[0][0])

            started = time.perf_counter()
            plan = plan_import(path, None, workspace)
            result = workspace.apply_import(plan, progress=meanwhile)
            total = time.perf_counter() - started
    label = "  ... while another session commits" if meddle else "every contact a new title"
    line(f"{label}: {plan.rows} rows", total, "s", BUDGET_S_PER_10K * plan.rows / 10_000)
    line("  the database was locked for", result.lock_seconds, "s")
    print(f"  {result.counts()}, rows derived again {result.replanned}, conflicts "
          f"{len(result.conflicts)}", flush=True)


def naive_seconds(folder: Path, contacts: list[dict], rules) -> float:
    """Workspace.add per contact (each a durable commit), per contact."""
    with Workspace.open(folder / "naive.json", rules, clock=lambda: NOW,
                        user="bench") as workspace:
        started = time.perf_counter()
        for fields in contacts:
            workspace.add(fields, by="bench")
        return (time.perf_counter() - started) / len(contacts)


def write_leads(path: Path, rows: int, seed: int) -> None:
    """``rows`` plain lead rows, as a CRM export has them (the guessed mapping reads
    every column: fields by name, the rest as custom fields)."""
    pick = random.Random(seed)
    sources = ("Trade Show", "Referral", "Website", "Webinar", "Cold Call", "Partner")
    titles = ("CTO", "Head of Sales", "Engineer", "Founder", "Buyer", "Analyst")
    countries = ("Poland", "Netherlands", "Germany", "India", "France", "Spain")
    with open(path, "w", encoding="utf-8", newline="") as out:
        out.write("Email,First Name,Last Name,Company,Job Title,Country,Lead Source,"
                  "Created,Notes,Favourite Colour\n")
        for row in range(rows):
            out.write(f"lead{row}@example{row % 977}.com,Anna{row},Nowak{row % 313},"
                      f"Company {row % 5003},{pick.choice(titles)},{pick.choice(countries)},"
                      f"{pick.choice(sources)},2025-{1 + row % 12:02d}-{1 + row % 28:02d},"
                      f"\"met at booth {row % 17}, asked about pricing\","
                      f"{pick.choice(('red', 'blue', 'green'))}\n")


_CHILD = """
import json, resource, sys, time
from funnel.tui.cli.main import main
started, cpu = time.perf_counter(), time.process_time()
status = main(sys.argv[1:])
seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
peak = 0
with open("/proc/self/status") as status_file:
    for text in status_file:
        if text.startswith("VmHWM:"):
            peak = int(text.split()[1]) * 1024
if not peak:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"status": status, "seconds": seconds, "cpu": cpu, "peak": peak}),
      file=sys.stderr)
"""


def streamed(folder: Path, rows: int, seed: int, existing: int = 0) -> None:
    """``funnel import`` of an N-row CSV into an empty database (or one holding
    ``existing`` generated contacts), in a child process."""
    path = folder / f"leads-{rows}.csv"
    write_leads(path, rows, seed)
    size = path.stat().st_size / 2**20
    db = folder / f"streamed-{rows}.json"
    if existing:
        with Workspace.open(db, load_rules("default"), clock=lambda: NOW,
                            user="bench") as workspace:
            workspace.add_many(generate_contacts(existing, seed + 1, NOW), by="generator")
    child = subprocess.run([sys.executable, "-c", _CHILD, "import", str(path), "--db",
                            str(db), "--json"], capture_output=True, text=True)
    report = json.loads(child.stderr.strip().splitlines()[-1]) if child.stderr.strip() \
        else {}
    if child.returncode != 0 or report.get("status") != 0:
        print(f"streamed import of {rows} rows failed: {child.stderr[-2000:]}", flush=True)
        return
    created = json.loads(child.stdout)["created"]
    assert created == rows, (created, rows)
    seconds, cpu, peak = report["seconds"], report["cpu"], report["peak"] / 2**20
    into = f"a database of {existing:,} contacts" if existing else "an empty database"
    print(f"streamed: {rows:,} rows ({size:.1f} MB of CSV) into {into}", flush=True)
    line("  whole import (funnel import, in-process)", seconds, "s")
    line("  of which the process ran on a CPU", cpu, "s")
    # On a shared machine the wall clock counts other processes' turns too: both shown.
    before = BEFORE.get(rows) if not existing else None
    for what, rate in (("rows per second", rows / seconds),
                       ("rows per CPU second", rows / cpu)):
        was = f"  before: {before[0]:,}" if before and "CPU" in what else ""
        print(f"  {what:<48} {rate:11,.0f}     budget >= {BUDGET_ROWS_PER_S:,} "
              f"(x{BUDGET_ROWS_PER_S / rate:.2f}){was}", flush=True)
    was = f"  before: {before[1]:,} MB ({before[1] / peak:.1f}x more)" if before else ""
    print(f"  {'peak memory of the process (VmHWM)':<48} {peak:9.0f} MB  budget <= "
          f"{BUDGET_PEAK_MB} MB (x{peak / BUDGET_PEAK_MB:.2f}){was}", flush=True)
    for name in folder.glob(db.name + "*"):
        name.unlink()
    path.unlink()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--baseline-rows", type=int, default=1000)
    parser.add_argument("--existing", type=int, default=0,
                        help="contacts already in the database the generated file goes into")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--stream-rows", type=int, nargs="+", metavar="N",
                        help="only the streamed case: import an N-row CSV with funnel import")
    parser.add_argument("--stream-existing", type=int, default=0, metavar="N",
                        help="the streamed case into a database of N generated contacts")
    args = parser.parse_args()
    if args.stream_rows:
        with tempfile.TemporaryDirectory() as name:
            for rows in args.stream_rows:
                streamed(Path(name), rows, args.seed, args.stream_existing)
        return 0
    rules = load_rules("default")

    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        if REAL.is_file():
            db = folder / "real.json"
            timed_import(db, REAL, "x-education", rules, "x-education-leads.csv")
            counts = timed_import(db, REAL, "x-education", rules, "the same file again")
            assert counts["created"] == 0 and counts["updated"] == 0, counts
        else:
            print(f"x-education-leads.csv: skipped, not at {REAL}", flush=True)

        # A generated file, as `funnel export` writes it.
        source = folder / "source.json"
        contacts = list(generate_contacts(args.rows, args.seed, NOW))
        with Workspace.open(source, rules, clock=lambda: NOW, user="bench") as workspace:
            workspace.add_many(contacts, by="generator")
            export_contacts(workspace, folder / "contacts.csv")
        size = (folder / "contacts.csv").stat().st_size / 2**20
        print(f"generated {args.rows} contacts, exported as CSV ({size:.1f} MB)", flush=True)
        per_row = naive_seconds(folder, contacts[:args.baseline_rows], rules)
        baseline = per_row * args.rows
        line(f"  baseline: Workspace.add per row ({args.baseline_rows} timed)",
             per_row * 1000, "ms")
        target = folder / "target.json"
        if args.existing:
            with Workspace.open(target, rules, clock=lambda: NOW, user="bench") as workspace:
                workspace.add_many(generate_contacts(args.existing, args.seed + 1, NOW),
                                   by="generator")
        timed_import(target, folder / "contacts.csv", None, rules,
                     f"generated file{f' beside {args.existing}' if args.existing else ''}",
                     baseline)
        timed_update(target, folder, rules, meddle=False)
        timed_update(target, folder, rules, meddle=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
