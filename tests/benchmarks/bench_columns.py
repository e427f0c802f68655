"""Benchmark: the column store (issue #13): build, conditions and classification over
columns, against today's per-contact pass over the same contacts.

    python tests/benchmarks/bench_columns.py [--contacts 100000] [--seed 1]

Prints each figure beside its budget (ratio below 1.00 is within it) and beside the
baseline it replaces, measured in the same run:
- build the columns from the documents, against parsing the same documents' JSON
  (orjson, as the store reads its snapshot): the build should cost about as much;
- per preset, every condition of the rules over every contact (a filter is one such
  condition: budget 50 ms), against calling each condition's closure per contact;
- per preset, classify everyone over columns, cold (facts derived first) and after a
  rules change (facts kept: budget 200 ms), against ``classify()`` per contact with
  the activity summaries kept (what the workspace reuses after a rules change) and
  from scratch;
- one ``put`` (an edit arriving) and the memory the columns take, and the peak.
"""

from __future__ import annotations

import argparse
import gc
import resource
import statistics
import sys
import time
from dataclasses import replace
from datetime import datetime, timezone
from typing import Any, Callable

import numpy as np
import orjson

from funnel.engine.columns.classify import ColumnClassification, classify_columns
from funnel.engine.columns.encoded import Coded, Numbers
from funnel.engine.columns.evaluate import ConditionInputs, evaluate
from funnel.engine.columns.fact_columns import FactColumns
from funnel.engine.columns.table import ContactColumns
from funnel.engine.demo.generate import generate_contacts
from funnel.engine.model import new_contact
from funnel.engine.rules.classify import classify
from funnel.engine.rules.facts import gather, summarise_activities
from funnel.engine.rules.loading import load_rules

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=timezone.utc)
BUDGET_FILTER_MS = 50.0  # a filter keystroke, at 100,000 contacts
BUDGET_RECLASSIFY_MS = 200.0  # reclassify all after a rules change
BUDGET_WHAT_IF_MS = 100.0  # the Scoring tab's preview, per keystroke
BUDGET_MEMORY_MB = 250.0  # the app's peak, all of it


def line(what: str, figure: float, unit: str, budget: float | None = None,
         baseline: float | None = None, baseline_name: str = "") -> None:
    text = f"{what:<52} {figure:10.3f} {unit:<3}"
    if budget is not None:
        text += f"  budget {budget:g} {unit} (x{figure / budget:.2f})"
    if baseline is not None:
        text += f"  vs {baseline_name} {baseline:.3f} {unit} (x{baseline / figure:.1f})"
    print(text, flush=True)


def timed(action: Callable[[], Any], repeat: int = 1) -> tuple[float, Any]:
    """The median wall time of ``action`` in seconds, and its last result."""
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = action()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def peak_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for row in status:
            if row.startswith("VmHWM:"):
                return int(row.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def column_bytes(table: ContactColumns) -> int:
    arrays = [table.alive, table.activities.rows, table.activities.kinds,
              table.activities.moments, table.activities.amounts, table.activities.start,
              table.activities.stop] + [column.codes for column in table.columns.values()]
    return sum(array.nbytes for array in arrays)


def preset_figures(name: str, table: ContactColumns, documents: list[dict],
                   scale: float) -> None:
    rules = load_rules(name)
    print(f"-- preset {name}: {len(rules.conditions())} conditions")
    facts = FactColumns(table, NOW, rules.half_life_days)
    cold, result = timed(lambda: classify_columns(table, rules, NOW, facts))
    line("  classify all over columns, cold (facts derived)", cold * 1000, "ms")
    tuned = replace(rules, grades=((4, 65.0), (3, 40.0), (2, 15.0)))
    warm, result = timed(lambda: classify_columns(table, tuned, NOW, facts), repeat=3)

    # Every condition over columns, with the later phases' facts from the vector pass.
    inputs = ConditionInputs(table, NOW, rules.half_life_days, _later(result), facts=facts)
    conditions = rules.conditions()
    vector, _ = timed(lambda: [evaluate(condition, inputs) for condition in conditions], 3)
    scalar_facts = [gather(document, NOW, rules.half_life_days) for document in documents]
    for facts_of, row in zip(scalar_facts, range(table.rows)):
        facts_of.update(result.row(row) | {"stage": result.stage_ids[result.stage[row]]})
    scalar, _ = timed(lambda: [[condition(document, facts_of) for document, facts_of
                                in zip(documents, scalar_facts)] for condition in conditions])
    line(f"  all {len(conditions)} conditions over columns", vector * 1000, "ms",
         None, scalar * 1000, "per contact")
    line("  one condition over columns (mean)", vector * 1000 / len(conditions), "ms",
         BUDGET_FILTER_MS * scale)

    summaries = [summarise_activities(document, NOW, rules.half_life_days)
                 for document in documents]
    kept, _ = timed(lambda: [classify(document, tuned, NOW, summary, explain=False)
                             for document, summary in zip(documents, summaries)])
    fresh, _ = timed(lambda: [classify(document, tuned, NOW, explain=False)
                              for document in documents])
    line("  reclassify all over columns after a rules change", warm * 1000, "ms",
         BUDGET_RECLASSIFY_MS * scale, kept * 1000, "classify(), summaries kept")
    line("  the same, as a what-if preview per keystroke", warm * 1000, "ms",
         BUDGET_WHAT_IF_MS * scale, fresh * 1000, "classify() from scratch")


def _later(result: ColumnClassification) -> dict[str, Coded | Numbers]:
    """fit, engagement, score, grade and stage as the outcome conditions read them."""
    later: dict[str, Coded | Numbers] = {key: Numbers.of(getattr(result, key).astype(np.float64),
                                             integral=True)
                             for key in ("fit", "engagement", "score", "grade")}
    later["stage"] = Coded(result.stage.astype(np.int32), list(result.stage_ids))
    return later


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    count = args.contacts
    scale = count / 100_000

    started = time.perf_counter()
    blob = orjson.dumps([new_contact(fields, NOW)
                         for fields in generate_contacts(count, args.seed, NOW)])
    line(f"generate {count} contacts (not measured against anything)",
         time.perf_counter() - started, "s")
    gc.collect()
    gc.disable()  # as the store reads its snapshot
    parse, documents = timed(lambda: orjson.loads(blob))
    gc.enable()
    del blob
    line("parse their JSON (orjson, GC off): the baseline", parse, "s")
    items = list(enumerate(documents, start=1))
    resident_before = peak_mb()
    build, table = timed(lambda: ContactColumns.build(items))
    line("build the columns", build, "s", None, parse, "the JSON parse")
    line("  the columns' arrays", column_bytes(table) / 2**20, "MB")

    for name in ("default", "fit-first"):
        preset_figures(name, table, documents, scale)

    edits = [(contact_id, dict(document, need="yes")) for contact_id, document
             in items[:: max(1, count // 1000)]]
    put, _ = timed(lambda: [table.put(contact_id, document) for contact_id, document in edits])
    line("put one edited contact (mean of 1,000)", put / len(edits) * 1000, "ms", 1.0)
    # The process also holds the JSON, the documents and the per-contact baselines'
    # facts: only the columns' own arrays are what the app would add.
    line("peak memory of this process (documents, JSON, baselines)", peak_mb(), "MB",
         BUDGET_MEMORY_MB * max(scale, 1.0))
    line("  the peak before the columns were built", resident_before, "MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
