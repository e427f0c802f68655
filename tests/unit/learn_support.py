"""Data with a known signal for the learning tests: a lead export shaped unlike the
contact fields (everything but the outcome is a custom column), and its mapping.

Who converts is drawn from a logistic model the tests know: the plan a lead asked
about (enterprise > pro > basic) and their age; the region is noise. ``leak`` adds
a column that is the outcome written another way (what a leakage guard must catch).
"""

from __future__ import annotations

import csv
import math
import random
from datetime import datetime, timedelta, timezone
from pathlib import Path

PLANS = {"basic": -1.2, "pro": 0.3, "enterprise": 1.6}
REGIONS = ("north", "south", "east", "west")


def signal(plan: str, age: int) -> float:
    """The true log-odds of converting."""
    return PLANS[plan] + 0.08 * (age - 40)


def write_leads(path: Path, count: int, *, seed: int = 5, leak: bool = False,
                open_share: float = 0.1) -> None:
    rng = random.Random(seed)
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    columns = ["Ref", "Signed Up", "Plan Interest", "Age", "Region", "Result"]
    if leak:
        columns.append("Verdict")
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        for number in range(count):
            plan = rng.choice(list(PLANS))
            age = rng.randint(20, 65)
            won = rng.random() < 1 / (1 + math.exp(-signal(plan, age)))
            result = "Open" if rng.random() < open_share else ("Won" if won else "Lost")
            signed = start + timedelta(days=rng.uniform(0, 300))
            row = [f"R{number:05d}", signed.strftime("%Y-%m-%dT%H:%M:%SZ"), plan, age,
                   rng.choice(REGIONS), result]
            if leak:
                row.append({"Won": "happy customer", "Lost": "gone elsewhere"}.get(result, ""))
            writer.writerow(row)


MAPPING = """\
funnel_mapping: 1
name: plan-leads
match_on: external_id
columns:
  Ref: external_id
  Signed Up: created_at
  Result:
    field: outcome
    values: {Won: won, Lost: lost, Open: ~}
"""


def write_mapping(path: Path) -> None:
    """Everything but the key, the date and the outcome becomes a custom field."""
    path.write_text(MAPPING)
