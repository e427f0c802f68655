"""Benchmark: an action on many marked contacts (issue #15), and its undo.

    python tests/benchmarks/bench_bulk.py [--contacts 20000] [--marked 1204] [--seed 1]

Assigns the marked contacts to two owners in turn through ``Workspace.bulk_assign``
(one commit, one journal record, one undo entry), then undoes it in one step, and
prints each figure beside the baseline it replaces, measured in the same run: the
same assignment as one ``Workspace.edit`` per contact (a commit and an undo step
each, as the app did before). DESIGN.md sets no budget for bulk actions; the app
runs one of ``BACKGROUND_FROM`` contacts or more in a worker thread, so the figure
says how long the person waits for the result, not how long the keys wait.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from funnel.engine.demo.generate import generate_contacts
from funnel.engine.workspace.facade import Workspace

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=timezone.utc)


def line(what: str, figure: float, baseline: float | None = None) -> None:
    text = f"{what:<44} {figure:9.3f} s"
    if baseline is not None:
        text += f"  vs one edit per contact {baseline:9.3f} s ({baseline / figure:.1f}x faster)"
    print(text, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=20_000)
    parser.add_argument("--marked", type=int, default=1_204)
    parser.add_argument("--seed", type=int, default=1)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "funnel.json"
        with Workspace.open(path, None, clock=lambda: NOW, user="bench") as workspace:
            workspace.add_many(generate_contacts(options.contacts, options.seed, NOW))
            workspace.classify_all()
            ids = workspace.ids()[:options.marked]
            started = time.perf_counter()
            for index, contact_id in enumerate(ids):  # the baseline: one commit each
                workspace.edit(contact_id, {"owner": ("ola", "piotr")[index % 2]})
            one_by_one = time.perf_counter() - started
            started = time.perf_counter()
            for _ in ids:
                workspace.undo()
            undo_one_by_one = time.perf_counter() - started

            started = time.perf_counter()
            workspace.owners()
            line(f"owner picker's counts over {options.contacts:,}",
                 time.perf_counter() - started)
            started = time.perf_counter()
            result = workspace.bulk_assign(ids, ["ola", "piotr"])
            line(f"assign {len(result.changed):,} in turn (one commit)",
                 time.perf_counter() - started, one_by_one)
            started = time.perf_counter()
            workspace.undo()
            line("undo it (one step, one commit)", time.perf_counter() - started,
                 undo_one_by_one)


if __name__ == "__main__":
    main()
