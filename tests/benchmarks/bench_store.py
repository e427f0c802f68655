"""Benchmark: the Funnel store against stock TinyDB (JSONStorage), built in the same run.

    python tests/benchmarks/bench_store.py [--contacts 100000] [--edits 200] [--seed 1]

Builds a database of N generated contacts through the workspace, and the very same
documents in stock TinyDB (``TinyDB(path)`` + ``insert_multiple``) as the baseline.
Prints each figure beside its DESIGN.md budget (``xB`` = figure / budget: 1.00 or
less is within budget) and, where stock TinyDB has an equivalent, as a ratio:
- opening the database (no classification) vs stock open + reading every document;
- a durable one-field edit, median and 95th percentile: a ContactStore put of the
  changed document inside a transaction (what Workspace.edit does underneath) and
  Workspace.edit end to end, vs stock ``table.update(..., doc_ids=[id])`` (which
  rewrites the whole file, and does not even fsync);
- opening again with the journal those edits left (every record's checksum and chain
  link verified), compaction at N, and ``funnel check`` of the healthy database (which
  parses every document);
- peak memory (VmHWM, see PEAK) of a child process that only opens the database, and
  of one that opens the stock file and reads every document.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import tinydb

from funnel.engine.rules.loading import load_rules
from funnel.engine.demo.generate import generate_contacts
from funnel.engine.store.check import check_database
from funnel.engine.store.contacts import ContactStore
from funnel.engine.workspace.facade import Workspace

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=timezone.utc)
BUDGET_OPEN_S = 1.0  # at 100,000 contacts
BUDGET_EDIT_MS = 2.0
BUDGET_MEMORY_MB = 400
TARGET_SPEEDUP = 500  # durable edit vs stock TinyDB

# Children print their peak resident memory in KiB after opening, and nothing else.
# Not ru_maxrss: Linux carries the parent's high-water mark over fork + exec, so every
# child would report at least this (large) process's peak. VmHWM belongs to the
# child's own address space, which exec makes fresh.
PEAK = """
def peak_kib():
    with open("/proc/self/status") as status:
        for entry in status:
            if entry.startswith("VmHWM:"):
                return int(entry.split()[1])
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
"""
FUNNEL_OPEN = PEAK + """
import sys
from funnel.engine.workspace.facade import Workspace
workspace = Workspace.open(sys.argv[1], "default", create=False)
assert len(workspace) == int(sys.argv[2])
if sys.argv[3] == "classify":
    workspace.classify_all()
print(peak_kib())
"""
STOCK_OPEN = PEAK + """
import sys
import tinydb
documents = tinydb.TinyDB(sys.argv[1]).table("contacts").all()
assert len(documents) == int(sys.argv[2])
print(peak_kib())
"""
BARE = PEAK + """
import funnel.engine.workspace, tinydb
print(peak_kib())
"""


def line(what: str, figure: float, unit: str, budget: float | None = None,
         baseline: float | None = None, baseline_name: str = "stock TinyDB",
         note: str = "") -> None:
    text = f"{what:<52} {figure:11.3f} {unit:<3}"
    if budget is not None:
        text += f"  budget {budget:g} {unit} (x{figure / budget:.2f})"
    if baseline is not None:
        ratio = baseline / figure if figure else float("inf")
        text += f"  vs {baseline_name} {baseline:.3f} {unit} ({ratio:,.1f}x)"
    if note:
        text += f"  {note}"
    print(text, flush=True)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def timed(function, repeat: int = 1) -> float:
    """Median seconds of ``repeat`` calls."""
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def filesystem_of(path: Path) -> str:
    best, kind = "", "?"
    try:
        with open("/proc/mounts", encoding="utf-8") as mounts:
            for entry in mounts:
                _device, point, fstype = entry.split()[:3]
                if str(path).startswith(point) and len(point) > len(best):
                    best, kind = point, fstype
    except OSError:
        pass
    return kind


def child_peak_mb(code: str, *args: str) -> float:
    result = subprocess.run([sys.executable, "-c", code, *args], capture_output=True,
                            text=True, check=True)
    return int(result.stdout.split()[-1]) / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--edits", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--stock-edits", type=int, default=None,
                        help="stock TinyDB edits to time (default: 5 at 20,000+ contacts, "
                             "else --edits); each rewrites the whole file")
    args = parser.parse_args()
    count, scale = args.contacts, args.contacts / 100_000
    stock_edits = args.stock_edits or (5 if count >= 20_000 else args.edits)
    rules = load_rules("default")

    with tempfile.TemporaryDirectory(prefix="bench-store-") as folder:
        db, stock_db = Path(folder) / "funnel.json", Path(folder) / "stock.json"
        print(f"bench_store: N={count} contacts, {os.cpu_count()} CPUs, Python "
              f"{platform.python_version()}, TinyDB {tinydb.__version__}, temp folder on "
              f"{filesystem_of(Path(folder).resolve())}; budgets are for 100,000 contacts "
              f"(open budget scaled x{scale:g} here; edit and memory budgets as they are)",
              flush=True)

        # -- build both -----------------------------------------------------------
        started = time.perf_counter()
        with Workspace.open(db, rules, clock=lambda: NOW, user="bench") as workspace:
            workspace.add_many(generate_contacts(count, args.seed, NOW), by="bench")
        built = time.perf_counter() - started
        documents = [document for _, document in sorted(ContactStore(db, create=False).items(),
                                                        key=lambda item: item[0])]
        started = time.perf_counter()
        stock = tinydb.TinyDB(stock_db)
        stock.table("contacts").insert_multiple(documents)
        stock.close()
        stock_built = time.perf_counter() - started
        line(f"build: generate, classify, insert {count} (Funnel)", built, "s")
        line("build: insert_multiple of the same documents (stock)", stock_built, "s")
        print(f"{'files':<52} Funnel snapshot {db.stat().st_size / 2**20:.1f} MB, "
              f"stock {stock_db.stat().st_size / 2**20:.1f} MB", flush=True)
        del documents

        # -- open ------------------------------------------------------------------
        def stock_open() -> None:
            handle = tinydb.TinyDB(stock_db)
            assert len(handle.table("contacts").all()) == count
            handle.close()

        stock_open_s = timed(stock_open, 3)
        store_open_s = timed(lambda: ContactStore(db, create=False), 3)
        workspace_open_s = timed(lambda: Workspace.open(db, rules, create=False), 3)
        line("open: ContactStore (median of 3)", store_open_s, "s", BUDGET_OPEN_S * scale,
             stock_open_s, "stock open + all()")
        line("open: Workspace.open, no classification (median of 3)", workspace_open_s, "s",
             BUDGET_OPEN_S * scale, stock_open_s, "stock open + all()")

        # -- durable one-field edit ----------------------------------------------
        rng = random.Random(args.seed)
        ids = [rng.randint(1, count) for _ in range(args.edits)]
        store = ContactStore(db, create=False)
        put_ms = []
        for number, contact_id in enumerate(ids):
            started = time.perf_counter()
            with store.transaction():
                current = store.get(contact_id)
                new = dict(current, notes=f"bench {number}", rev=current["rev"] + 1)
                new["history"] = current["history"] + [
                    {"at": "2026-11-22T09:00:00Z", "by": "bench", "kind": "field",
                     "field": "notes", "from": current.get("notes"), "to": new["notes"]}]
                store.put(contact_id, new, by="bench")
            put_ms.append((time.perf_counter() - started) * 1000)
        del store

        workspace = Workspace.open(db, rules, user="bench", create=False)
        edit_ms = []
        for number, contact_id in enumerate(ids):
            started = time.perf_counter()
            workspace.edit(contact_id, {"notes": f"workspace {number}"}, by="bench")
            edit_ms.append((time.perf_counter() - started) * 1000)
        del workspace

        stock = tinydb.TinyDB(stock_db)
        stock_table = stock.table("contacts")
        stock_ms = []
        for number, contact_id in enumerate(ids[:stock_edits]):
            started = time.perf_counter()
            stock_table.update({"notes": f"stock {number}"}, doc_ids=[contact_id])
            stock_ms.append((time.perf_counter() - started) * 1000)
        stock.close()
        stock_median = statistics.median(stock_ms)

        line(f"edit: ContactStore put, median of {len(put_ms)}", statistics.median(put_ms),
             "ms", BUDGET_EDIT_MS, stock_median, f"stock update (median of {len(stock_ms)})")
        line("edit: ContactStore put, 95th percentile", percentile(put_ms, 0.95), "ms",
             BUDGET_EDIT_MS, percentile(stock_ms, 0.95), "stock 95th percentile")
        line(f"edit: Workspace.edit end to end, median of {len(edit_ms)}",
             statistics.median(edit_ms), "ms", BUDGET_EDIT_MS, stock_median, "stock update")
        line("edit: Workspace.edit end to end, 95th percentile", percentile(edit_ms, 0.95),
             "ms", BUDGET_EDIT_MS, percentile(stock_ms, 0.95), "stock 95th percentile")
        speedup = stock_median / statistics.median(put_ms)
        verdict = "met" if speedup >= TARGET_SPEEDUP else "NOT MET"
        print(f"{'edit: speed-up of a durable edit vs stock TinyDB':<52} {speedup:11,.0f} x    "
              f"target >= {TARGET_SPEEDUP}x: {verdict} (stock does not fsync; Funnel fsyncs "
              "every commit)", flush=True)

        # -- compaction ---------------------------------------------------------------
        journal_mb = Path(f"{db}.journal").stat().st_size / 2**20
        reopen_s = timed(lambda: ContactStore(db, create=False), 3)
        line(f"open: ContactStore with that journal ({journal_mb:.1f} MB, median of 3)",
             reopen_s, "s", BUDGET_OPEN_S * scale)
        store = ContactStore(db, create=False)
        first = timed(store.compact)
        again = timed(store.compact, 2)
        line(f"compaction at N (journal of {2 * args.edits} edits, {journal_mb:.1f} MB)", first,
             "s", note=f"(again: {again:.3f} s; no budget in DESIGN.md; off the edit path)")
        del store
        started = time.perf_counter()
        report = check_database(db)
        assert report.healthy, report.lines()
        line("check: funnel check of the healthy database", time.perf_counter() - started,
             "s", note="(every document parsed; no budget in DESIGN.md)")

        # -- peak memory, each in a fresh process -------------------------------------
        bare = child_peak_mb(BARE)
        funnel_mb = child_peak_mb(FUNNEL_OPEN, str(db), str(count), "open")
        classified_mb = child_peak_mb(FUNNEL_OPEN, str(db), str(count), "classify")
        stock_mb = child_peak_mb(STOCK_OPEN, str(stock_db), str(count))
        line("peak memory: Workspace.open (child process)", funnel_mb, "MB",
             BUDGET_MEMORY_MB, stock_mb, "stock open + all()",
             note="(ratio = stock / Funnel)")
        line("peak memory: Workspace.open + classify_all (child)", classified_mb, "MB",
             BUDGET_MEMORY_MB)
        line("peak memory: interpreter + imports only (child)", bare, "MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
