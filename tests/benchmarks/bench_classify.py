"""Benchmark: classify one contact, and reclassify every contact after a rules change.

    python tests/benchmarks/bench_classify.py [--contacts 100000] [--seed 1]

Prints each figure beside its budget from DESIGN.md (as a ratio: below 1.00 is
within budget) and beside the baseline it improves on, measured in the same run:
- classify: per contact, with its full explanation, facts gathered from scratch;
- reclassify everything after a rules change through the workspace, which reuses
  what does not depend on the rules (slim copies, activity summaries), against the
  first pass from the documents; a preset switch; the memory of the process.
The workspace figures come from a fresh process that opens the generated database,
as the app does (generating 100,000 contacts first would leave a bloated heap).
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

from funnel.engine.rules.classify import classify
from funnel.engine.rules.loading import load_rules
from funnel.engine.demo.generate import generate_contacts
from funnel.engine.workspace.facade import Workspace

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=timezone.utc)
BUDGET_CLASSIFY_MS = 0.2
BUDGET_RECLASSIFY_S = 2.0  # at 100,000 contacts
BUDGET_MEMORY_MB = 400


def line(what: str, figure: float, unit: str, budget: float | None = None,
         baseline: float | None = None, baseline_name: str = "") -> None:
    text = f"{what:<46} {figure:10.4f} {unit:<3}"
    if budget is not None:
        text += f"  budget {budget:g} {unit} (x{figure / budget:.2f})"
    if baseline is not None:
        text += f"  vs {baseline_name} {baseline:.4f} {unit} ({baseline / figure:.1f}x faster)"
    print(text, flush=True)


def resident_mb() -> float:
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / 2**20


def peak_mb() -> float:
    """The high-water mark of this process's memory (VmHWM: unlike ru_maxrss, it does
    not carry the parent's peak over the fork and exec that started this process)."""
    with open("/proc/self/status", encoding="ascii") as status:
        for row in status:
            if row.startswith("VmHWM:"):
                return int(row.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(db: Path, count: int) -> None:
    """The workspace figures, in a process that only opens the database (as the app
    does): generating 100,000 contacts leaves a heap that would slow and bloat them."""
    scale = count / 100_000
    rules = load_rules("default")
    started = time.perf_counter()
    workspace = Workspace.open(db, rules, clock=lambda: NOW, user="bench", create=False)
    line("open the database (journal store)", time.perf_counter() - started, "s", 1.0 * scale)

    sample = workspace.ids()[:: max(1, count // 10_000)]  # 10,000 contacts spread out
    documents = [workspace.get(contact_id) for contact_id in sample]
    timings = []
    for document in documents:
        begun = time.perf_counter()
        classify(document, rules, NOW)
        timings.append(time.perf_counter() - begun)
    del documents
    line("classify one contact with explanation (median)",
         statistics.median(timings) * 1000, "ms", BUDGET_CLASSIFY_MS)
    line("classify one contact (95th percentile)",
         statistics.quantiles(timings, n=20)[-1] * 1000, "ms", BUDGET_CLASSIFY_MS)

    started = time.perf_counter()
    workspace.classify_all()
    cold = time.perf_counter() - started
    line(f"classify all {count}, from scratch (first pass)", cold, "s")

    # A rules change: different points and thresholds, the same half-life.
    tuned = load_rules("default")
    tuned = replace(tuned, grades=((4, 65.0), (3, 40.0), (2, 15.0)))
    warm = []
    for candidate in (tuned, rules, tuned):
        started = time.perf_counter()
        workspace.set_rules(candidate)
        workspace.classify_all()
        warm.append(time.perf_counter() - started)
    line(f"reclassify all {count} after a rules change (median of 3)",
         statistics.median(warm), "s", BUDGET_RECLASSIFY_S * scale, cold, "the first pass")
    line(f"  slowest of the 3", max(warm), "s", BUDGET_RECLASSIFY_S * scale)

    started = time.perf_counter()
    workspace.set_rules(load_rules("fit-first"))
    stats = workspace.stats()
    line("switch to the fit-first preset + stats", time.perf_counter() - started, "s",
         BUDGET_RECLASSIFY_S * scale)
    populated = sum(1 for value in stats["stages"].values() if value)
    print(f"  fit-first stages populated: {populated}; {stats['stages']}")
    line("resident memory now", resident_mb(), "MB", BUDGET_MEMORY_MB)
    line("peak memory of this process", peak_mb(), "MB", BUDGET_MEMORY_MB)
    workspace.close()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        measure(args.measure, args.contacts)
        return 0
    count = args.contacts
    rules = load_rules("default")
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "bench.json"
        started = time.perf_counter()
        with Workspace.open(db, rules, clock=lambda: NOW, user="bench") as workspace:
            workspace.add_many(generate_contacts(count, args.seed, NOW), by="bench")
        line(f"generate + insert {count} contacts", time.perf_counter() - started, "s")
        # The figures come from a fresh process that opens the database, as the app does.
        return subprocess.run([sys.executable, __file__, "--contacts", str(count),
                               "--measure", str(db)]).returncode


if __name__ == "__main__":
    sys.exit(main())
