"""Benchmark: custom fields in the column store (issue #14): building their columns
and deciding ``custom.NAME`` conditions over them.

    python tests/benchmarks/bench_custom_columns.py [--contacts 100000] [--seed 1]

Demo contacts are given 14 custom fields shaped like the X Education export's (a city,
indexes, scores, free text, a distinct id each). Prints, beside the baseline measured
in the same run:
- building the columns of those contacts, against the same contacts without custom
  fields (what a build cost before custom columns);
- ``custom.NAME`` conditions over columns (budget: a filter keystroke, 50 ms), against
  calling each condition's closure per contact;
- the custom columns' arrays.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import datetime, timezone
from typing import Any, Callable

from funnel.engine.columns.evaluate import ConditionInputs, evaluate
from funnel.engine.columns.table import ContactColumns
from funnel.engine.demo.generate import generate_contacts
from funnel.engine.model import new_contact
from funnel.engine.rules.conditions import compile_condition
from funnel.engine.rules.facts import PHASE_SCORING, gather, vocabulary

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=timezone.utc)
BUDGET_FILTER_MS = 50.0
CONDITIONS = ('custom.City in [mumbai, thane]', 'custom."Asymmetrique Activity Score" >= 15',
              'custom."Lead Quality" == "High in Relevance" and custom.Visits > 3',
              'custom."Prospect ID" matches "^8c"', "custom.Missing != none")


def line(what: str, figure: float, unit: str, budget: float | None = None,
         baseline: float | None = None, baseline_name: str = "") -> None:
    text = f"{what:<52} {figure:10.3f} {unit:<3}"
    if budget is not None:
        text += f"  budget {budget:g} {unit} (x{figure / budget:.2f})"
    if baseline is not None:
        text += f"  vs {baseline_name} {baseline:.3f} {unit} (x{figure / baseline:.2f})"
    print(text, flush=True)


def timed(action: Callable[[], Any], repeat: int = 3) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = action()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def custom_fields(rng: random.Random, number: int) -> dict[str, str]:
    cities = ("Mumbai", "Thane & Outskirts", "Other Cities", "Other Metro Cities")
    return {
        "Prospect ID": f"{rng.getrandbits(64):016x}-{number}",
        "City": rng.choice(cities), "Lead Quality": rng.choice(
            ("Might be", "Not Sure", "High in Relevance", "Worst", "Low in Relevance")),
        "Asymmetrique Activity Index": rng.choice(("01.High", "02.Medium", "03.Low")),
        "Asymmetrique Profile Index": rng.choice(("01.High", "02.Medium", "03.Low")),
        "Asymmetrique Activity Score": str(rng.randint(7, 18)),
        "Asymmetrique Profile Score": str(rng.randint(11, 20)),
        "Visits": str(rng.randint(0, 30)), "Page Views Per Visit": f"{rng.random() * 8:.2f}",
        "Tags": rng.choice(("Will revert after reading the email", "Ringing", "Busy")),
        "Lead Profile": rng.choice(("Potential Lead", "Other Leads", "Lateral Student")),
        "Last Notable Activity": rng.choice(("Modified", "Email Opened", "SMS Sent")),
        "Lead Origin": rng.choice(("Landing Page Submission", "API", "Lead Add Form")),
        "What matters most": "Better Career Prospects",
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    plain = [new_contact(fields, NOW) for fields in generate_contacts(args.contacts,
                                                                     args.seed, NOW)]
    with_custom = [dict(document, custom=custom_fields(rng, number))
                   for number, document in enumerate(plain)]
    plain_items = list(enumerate(plain, start=1))
    custom_items = list(enumerate(with_custom, start=1))
    base, _ = timed(lambda: ContactColumns.build(plain_items))
    line("build the columns, no custom fields: the baseline", base, "s")
    build, table = timed(lambda: ContactColumns.build(custom_items))
    line("build the columns, 14 custom fields each", build, "s", None, base,
         "no custom fields")
    size = sum(column.codes.nbytes for column in table.custom.values())
    line(f"  the {len(table.custom)} custom columns' arrays", size / 2**20, "MB")

    words = vocabulary(PHASE_SCORING)
    conditions = [compile_condition(text, words) for text in CONDITIONS]
    inputs = ConditionInputs(table, NOW, 45.0)
    facts = [gather(document, NOW, 45.0) for document in with_custom[:20_000]]
    for condition in conditions:
        vector, _ = timed(lambda: evaluate(condition, ConditionInputs(table, NOW, 45.0,
                                                                      facts=inputs.facts)))
        scalar, _ = timed(lambda: [condition(document, fact) for document, fact
                                   in zip(with_custom, facts)], repeat=1)
        scalar *= len(with_custom) / len(facts)  # per contact, scaled to all of them
        line(f"  {condition.text[:50]}", vector * 1000, "ms", BUDGET_FILTER_MS,
             scalar * 1000, "per contact")
    return 0


if __name__ == "__main__":
    sys.exit(main())
