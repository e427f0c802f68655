"""Benchmark: the Duplicates view at 100,000 contacts (issue #15).

    python tests/benchmarks/bench_duplicate_view.py --db PATH
    (make one: funnel generate --db /tmp/hl100k.json --contacts 100000 --seed 1)

Opens the database, builds the columns (not timed), then times, each beside its
budget (the key-press budget of DESIGN.md, 50 ms, for what a keystroke or a change
costs; 1 s, the first sorted screen's, for the first grouping):
- the first ``duplicate`` list in ``duplicates`` order: every contact grouped once;
- the same list again (kept: a keystroke costs the filter, not the grouping);
- after one edit: All (what any list costs while the columns catch up, not this
  module's), then the Duplicates list (each value's key is kept; only the arrays are
  grouped again);
- ``duplicates_of`` one contact (what ``D`` asks): its group over the columns.
The baseline is the per-document finder ``Workspace.duplicates()``, which ``D`` ran
on every press before and which reads every document.
"""

from __future__ import annotations

import argparse
import time

from funnel.engine.workspace.facade import Workspace

BUDGET_FIRST_S = 1.0
BUDGET_KEY_S = 0.050


def line(what: str, seconds: float, budget: float, baseline: float | None = None) -> None:
    text = f"{what:<48} {seconds * 1000:9.1f} ms  budget {budget * 1000:g} ms " \
           f"(x{seconds / budget:.2f})"
    if baseline is not None:
        text += f"  baseline {baseline * 1000:.0f} ms ({baseline / seconds:,.0f}x faster)"
    print(text, flush=True)


def timed(work):
    started = time.perf_counter()
    answer = work()
    return time.perf_counter() - started, answer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True)
    args = parser.parse_args()
    with Workspace.open(args.db, None, create=False, user="bench") as workspace:
        workspace.select("")  # the columns built or read from their cache: not timed
        baseline, groups = timed(workspace.duplicates)
        first, ids = timed(lambda: workspace.select("duplicate", "duplicates"))
        print(f"{len(workspace):,} contacts; {len(ids):,} in {len(groups):,} groups of "
              "likely duplicates")
        line("first Duplicates list (grouping every contact)", first, BUDGET_FIRST_S,
             baseline)
        again, _ = timed(lambda: workspace.select("duplicate", "duplicates"))
        line("the list again (groups kept)", again, BUDGET_KEY_S)
        one = ids[0]
        workspace.edit(one, {"notes": f"bench: one edit at {time.time()}"})
        plain, _ = timed(lambda: workspace.select(""))
        edited, _ = timed(lambda: workspace.select("duplicate", "duplicates"))
        line("after one edit: All (the columns catch up)", plain, BUDGET_KEY_S)
        line("then Duplicates (grouped again)", edited, BUDGET_KEY_S)
        found, _ = timed(lambda: workspace.duplicates_of(one))
        line("duplicates_of one contact (D)", found, BUDGET_KEY_S, baseline)
        workspace.undo()  # the database as it was


if __name__ == "__main__":
    main()
