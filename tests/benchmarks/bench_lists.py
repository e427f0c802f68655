"""Benchmark: lists, counts and what-ifs over columns (issue #13), at 100,000 and 1,000,000.

    python tests/benchmarks/bench_lists.py [--contacts 100000 1000000] [--dir DIR]
                                           [--repeat 7]

For each size a database is generated (``funnel generate``, kept in ``--dir`` between
runs) and every figure is printed beside its budget (``xB`` = figure / budget, 1.00 or
less is within it) and beside the floor a design that parses the documents cannot go
under: the snapshot's JSON parsed whole by orjson with the garbage collector off,
measured in the same run (``xJ`` = figure / that parse).

Whole processes (wall time, as a person waits for them): ``funnel stats --json``
without the column cache and with it; ``funnel export`` with a filter, with the cache.
In one process, with the cache (what the app does between keystrokes): opening the
workspace and the first sorted list, a filter per keystroke, a sort change, a view
switch, opening a card, a Scoring what-if per keystroke, ctrl+s (switch rules, everyone
reclassified and re-sorted), and reclassifying everyone after a rules change; then the
process's peak memory.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from funnel.engine.rules.editing import RulesText
from funnel.engine.workspace.facade import Workspace
from funnel.engine.workspace.query import VIEWS

FUNNEL = [sys.executable, "-m", "funnel.tui.cli"]
BUDGETS_100K = {"stats, no cache": 3.0, "stats, cache": 1.0, "export filtered, cache": 1.5,
                "first sorted list": 1.0, "filter keystroke": 0.050, "sort change": 0.050,
                "view switch": 0.050, "open a card": 0.050, "what-if keystroke": 0.100,
                "ctrl+s": 0.300, "reclassify all": 0.200, "peak memory MB": 250}
BUDGETS_1M = {"stats, cache": 5.0, "first sorted list": 5.0, "filter keystroke": 0.300,
              "peak memory MB": 1500}


def show(what: str, figure: float, unit: str, budget: float | None, parse: float | None
         ) -> None:
    text = f"  {what:<34} {figure:10.3f} {unit:<3}"
    if budget is not None:
        text += f"  budget {budget:g} {unit} (x{figure / budget:.2f})"
    if parse is not None and unit == "s":
        text += f"  xJ {figure / parse:.2f}"
    print(text, flush=True)


def whole_process(args: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(FUNNEL + args, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


_PARSE = """
import gc, sys, time, orjson
data = open(sys.argv[1], "rb").read()
gc.disable()
start = time.perf_counter()
orjson.loads(data)
print(time.perf_counter() - start)
"""


def json_parse(db: Path) -> float:
    """The snapshot parsed whole by orjson, GC off, in a child (its memory is not ours)."""
    found = subprocess.run([sys.executable, "-c", _PARSE, str(db)], check=True,
                           capture_output=True, text=True)
    return float(found.stdout)


def median_of(repeat: int, action) -> float:
    times = []
    for index in range(repeat):
        start = time.perf_counter()
        action(index)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def measure(n: int, folder: Path, repeat: int) -> None:
    db = folder / f"lists-{n}.json"
    if not db.exists():
        print(f"generating {n:,} contacts ...", flush=True)
        subprocess.run(FUNNEL + ["generate", "--db", str(db), "--contacts", str(n),
                                 "--seed", "1"], check=True, stdout=subprocess.DEVNULL)
    budgets = BUDGETS_100K if n <= 100_000 else BUDGETS_1M
    parse = json_parse(db)
    print(f"{n:,} contacts ({db.stat().st_size / 2**20:.1f} MB snapshot)")
    show("JSON parse of the snapshot (floor)", parse, "s", None, None)
    cache = Path(str(db) + ".columns")
    cache.unlink(missing_ok=True)
    show("stats --json, no cache", whole_process(["stats", "--db", str(db), "--json"]), "s",
         budgets.get("stats, no cache"), parse)
    assert cache.exists(), "stats should have written the column cache"
    show("stats --json, cache", statistics.median(
        whole_process(["stats", "--db", str(db), "--json"]) for _ in range(3)), "s",
        budgets.get("stats, cache"), parse)
    show("export temp:hot stage:lead, cache", whole_process(
        ["export", "--db", str(db), "--format", "json", "temp:hot", "stage:lead"]), "s",
        budgets.get("export filtered, cache"), parse)
    in_process(db, budgets, repeat, parse)


def in_process(db: Path, budgets: dict[str, float], repeat: int, parse: float) -> None:
    start = time.perf_counter()
    workspace = Workspace.open(db, None, user="bench", early_columns=True)  # as the app
    ids = workspace.select("", "attention")
    show("open + first sorted list", time.perf_counter() - start, "s",
         budgets.get("first sorted list"), parse)
    typed = "temp:hot acme"
    show("filter keystroke (median)", median_of(len(typed), lambda i: workspace.select(
        typed[:i + 1], "attention")), "s", budgets.get("filter keystroke"), parse)
    sorts = ["score", "name", "company", "stage", "created", "attention", "owner"]
    show("sort change (median)", median_of(len(sorts), lambda i: workspace.select(
        "", sorts[i])), "s", budgets.get("sort change"), parse)
    views = list(VIEWS.values())
    show("view switch (median)", median_of(len(views), lambda i: workspace.select(
        views[i], "attention")), "s", budgets.get("view switch"), parse)
    show("open a card (median)", median_of(repeat, lambda i: (
        workspace.row(ids[i * 97]), workspace.explained(ids[i * 97]))), "s",
        budgets.get("open a card"), parse)
    text = RulesText.of(workspace.rules)
    key = next(name for name in text.slots if name.startswith("fit.") and
               name.endswith(".points"))
    show("what-if keystroke (median)", median_of(repeat, lambda i: workspace.preview_rules(
        text.draft({key: 5 + i})[1])), "s", budgets.get("what-if keystroke"), parse)
    drafts = [text.draft({key: 40 + i})[1] for i in range(repeat)]

    def save(index: int) -> None:
        workspace.set_rules(drafts[index])
        workspace.select("", "attention")
    show("ctrl+s: switch, reclassify, re-sort", median_of(repeat, save), "s",
         budgets.get("ctrl+s"), parse)
    show("reclassify all (median)", median_of(repeat, lambda i: (
        workspace.set_rules(drafts[-1 - i]), workspace.stats())), "s",
         budgets.get("reclassify all"), parse)
    workspace.close()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    show("peak memory of this process", peak, "MB", budgets.get("peak memory MB"), None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--contacts", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--dir", type=Path, help="keep the generated databases here")
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    folder = args.dir or Path(tempfile.mkdtemp(prefix="bench-lists-"))
    folder.mkdir(parents=True, exist_ok=True)
    for n in args.contacts:
        if len(args.contacts) > 1:  # each size in its own process: its own peak memory
            subprocess.run([sys.executable, __file__, "--contacts", str(n), "--dir",
                            str(folder), "--repeat", str(args.repeat)], check=True)
        else:
            measure(n, folder, args.repeat)


if __name__ == "__main__":
    main()
