"""Benchmark: importing CSV files, against adding the same contacts one by one.

    python tests/benchmarks/bench_import.py [--rows 10000] [--baseline-rows 1000]
                                            [--existing 0] [--seed 1]

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
"""

from __future__ import annotations

import argparse
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


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--baseline-rows", type=int, default=1000)
    parser.add_argument("--existing", type=int, default=0,
                        help="contacts already in the database the generated file goes into")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
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
