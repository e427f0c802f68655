"""What a mapping makes of the X Education export, measured against its outcome column.

    python tests/tools/x_education_mapping.py [--map x-education] [--csv PATH]

Reads the file through the importer's own row reader (nothing is written) and prints,
beside how often those rows really converted (``Converted`` = 1):
- per Tags and Lead Quality value that sets an outcome or BANT, what the rows get;
- the outcomes the learner gets (won, lost, none) and the stages the default rules
  then show (exits win; otherwise the furthest of the rules' stage and the stage the
  file says was reached, as the import's forward-only move does);
- the after-contact sources the mapping declares (``after_contact``).
"""

from __future__ import annotations

import argparse
import collections
import sys
from datetime import datetime, timezone
from pathlib import Path

from funnel.engine.model import new_contact
from funnel.engine.rules.classify import classify
from funnel.engine.rules.loading import load_rules
from funnel.engine.transfer.csvread import open_table
from funnel.engine.transfer.importplan import ImportPlan
from funnel.engine.transfer.importrows import RowReader
from funnel.engine.transfer.mapping_file import load_mapping

DEFAULT_CSV = Path("/work/shared/data/x-education-leads.csv")
NOW = datetime(2026, 12, 1, tzinfo=timezone.utc)
WATCHED = {"Tags": ("Lost to EINS", "Lost to Others", "Closed by Horizzon",
                    "Will revert after reading the email", "Ringing"),
           "Lead Quality": ("Low in Relevance", "Worst", "High in Relevance", "Might be")}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--map", default="x-education")
    parser.add_argument("--csv", type=Path, default=DEFAULT_CSV)
    args = parser.parse_args()
    mapping = load_mapping(args.map)
    rules = load_rules("default")
    with open(args.csv, "rb") as handle:
        table = open_table(handle, str(args.csv))
        header = table.header
        plan = ImportPlan(str(args.csv), args.csv.name, "csv", table.dialect, mapping)
        reader = RowReader(table, mapping, rules, plan, NOW)
        seen = []
        for record in table.records:
            row = dict(zip(header, record.cells))
            item = reader.read(record)
            if item is None:
                print(f"row {record.row}: not imported: {plan.problems[-1:]}")
                continue
            seen.append((row, item))
    print(f"{args.csv.name}: {len(seen)} rows read with mapping {mapping.source}")
    for column, values in WATCHED.items():
        for value in values:
            rows = [(row, item) for row, item in seen if row[column] == value]
            if not rows:
                continue
            converted = sum(row["Converted"] == "1" for row, _ in rows) / len(rows)
            got = collections.Counter(
                f"outcome={item.fields.get('outcome')} need={item.fields.get('need')}"
                for _, item in rows)
            print(f"  {column} = {value!r}: {len(rows)} rows, {converted:.1%} converted; "
                  + ", ".join(f"{what}: {count}" for what, count in got.most_common()))
    outcomes = collections.Counter(item.fields.get("outcome") for _, item in seen)
    print("  outcomes:", dict(outcomes))
    reasons = collections.Counter(item.fields.get("outcome_reason") for _, item in seen)
    print("  outcome reasons:", dict(reasons))
    stages: collections.Counter[str] = collections.Counter()
    for _, item in seen:
        fields = dict(item.fields, custom=item.custom)
        shown = classify(new_contact(fields, NOW), rules, NOW, explain=False).stage
        reached = rules.by_id.get(item.stage or "")
        if reached is not None and not rules.by_id[shown].is_exit \
                and reached.order > rules.by_id[shown].order:
            shown = reached.id
        stages[shown] += 1
    print("  stages shown (default rules):",
          ", ".join(f"{stage} {stages[stage]}" for stage in rules.stage_ids if stages[stage]))
    after = getattr(mapping, "after_contact", None)
    print("  after_contact sources:", ", ".join(after) if after else "(none)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
