"""Benchmark: finding likely duplicates among every contact (issue #15).

    python tests/benchmarks/bench_duplicates.py [--contacts 100000] [--seed 3] [--db PATH]

Prints the time of ``find_duplicates`` over N generated contacts (grouped by keys)
beside its budget (2 s at 100,000, as for reclassifying everyone; DESIGN.md sets no
figure of its own) and beside the baseline it replaces: comparing every pair, timed
on 2,000 contacts and scaled by the square of the count. ``--db`` also times
``Workspace.duplicates()`` on an existing database (the documents read from the store).
"""

from __future__ import annotations

import argparse
import time
from datetime import datetime, timezone
from itertools import combinations

from funnel.engine.demo.generate import generate_contacts
from funnel.engine.workspace.duplicates import KEYS, find_duplicates

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=timezone.utc)
BUDGET_S = 2.0  # at 100,000 contacts
PAIRWISE_SAMPLE = 2_000


def pairwise(documents: list[tuple[int, dict]]) -> int:
    """The naive way: compare the keys of every pair of contacts."""
    keys = [[key_of(document) for _, key_of in KEYS] for _, document in documents]
    found = 0
    for left, right in combinations(keys, 2):
        if any(a is not None and a == b for a, b in zip(left, right)):
            found += 1
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--db", help="also time Workspace.duplicates() on this database")
    args = parser.parse_args()

    documents = list(enumerate(generate_contacts(args.contacts, args.seed, NOW), 1))
    started = time.perf_counter()
    groups = find_duplicates(documents)
    grouped = time.perf_counter() - started
    budget = BUDGET_S * args.contacts / 100_000
    sample = documents[:PAIRWISE_SAMPLE]
    started = time.perf_counter()
    pairwise(sample)
    naive = (time.perf_counter() - started) * (args.contacts / len(sample)) ** 2
    print(f"find_duplicates, {args.contacts:,} contacts: {grouped:.2f} s "
          f"(budget {budget:.2f} s, {grouped / budget:.2f}x); {len(groups):,} groups")
    print(f"  baseline, every pair compared (scaled from {len(sample):,}): {naive:.0f} s "
          f"({naive / grouped:,.0f}x slower)")
    if args.db:
        from funnel.engine.workspace.facade import Workspace

        with Workspace.open(args.db, None, create=False) as workspace:
            started = time.perf_counter()
            found = workspace.duplicates()
            took = time.perf_counter() - started
        print(f"Workspace.duplicates() on {args.db} ({len(workspace):,} contacts): "
              f"{took:.2f} s; {len(found):,} groups")


if __name__ == "__main__":
    main()
