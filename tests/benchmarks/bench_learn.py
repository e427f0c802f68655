"""Benchmark: train the likelihood model on 100,000 contacts, and score them all.

    python tests/benchmarks/bench_learn.py [--contacts 100000] [--seed 1] [--db PATH]

Every generated contact gets an outcome (won or lost, drawn from a logistic model of
its source, industry, BANT and activities), so all of them teach: the worst case for
training. The database is written first (not timed); a fresh child process then
opens it as ``funnel learn`` does and measures, each beside its budget from
DESIGN.md (a ratio below 1.00 is within budget):
- train: read every document as known before its outcome, plan the features, fit
  and calibrate on the training part, validate, then retrain on everything (the
  rules' baseline on the held-out part is timed apart: it classifies per contact);
- the peak memory of that process (VmHWM);
- score everyone under the saved model: reading the documents' values, then the
  likelihoods and factor points from those values.
There was no learned model before (issue #14): the baseline is the rules' own
reclassification, which is what answered "who is likely" until now.
"""

from __future__ import annotations

import argparse
import math
import random
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=timezone.utc)
BUDGET_TRAIN_S = 10.0
BUDGET_MEMORY_MB = 400.0
BUDGET_SCORE_S = 1.0


def line(what: str, figure: float, unit: str, budget: float | None = None) -> None:
    text = f"{what:<52} {figure:10.3f} {unit:<3}"
    if budget is not None:
        text += f"  budget {budget:g} {unit} (x{figure / budget:.2f})"
    print(text, flush=True)


def peak_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for row in status:
            if row.startswith("VmHWM:"):
                return int(row.split()[1]) / 1024
    return float("nan")


def build(db: Path, count: int, seed: int) -> None:
    from funnel.engine.demo.generate import generate_contacts
    from funnel.engine.workspace.facade import Workspace

    rng = random.Random(seed)
    items = []
    for fields in generate_contacts(count, seed, NOW):
        fields.pop("stage_pin", None)
        fields.pop("pin_reason", None)
        log_odds = (-0.8 + 1.2 * (fields.get("need") == "yes") - 0.8 * (fields.get("need") == "no")
                    + 0.7 * (fields.get("source") == "referral")
                    + 0.5 * (fields.get("industry") in ("software", "finance"))
                    + 0.15 * min(len(fields.get("activities") or []), 10))
        fields["outcome"] = "won" if rng.random() < 1 / (1 + math.exp(-log_odds)) else "lost"
        items.append(fields)
    with Workspace.open(db, clock=lambda: NOW, user="bench") as workspace:
        workspace.add_many(items)


def measure(db: Path) -> None:
    from funnel.engine.learn.score import Scored, read_contacts
    from funnel.engine.learn.train import learn
    from funnel.engine.rules.loading import load_rules
    from funnel.engine.workspace.facade import Workspace

    rules = load_rules("default")
    workspace = Workspace.open(db, rules, clock=lambda: NOW, user="bench", create=False)
    started = time.perf_counter()
    model, report = learn(workspace.documents, rules, NOW, baseline=False)
    line(f"train ({report['train']:,} + {report['holdout']:,} held out, retrained on all)",
         time.perf_counter() - started, "s", BUDGET_TRAIN_S)
    line("peak memory of the training process (VmHWM)", peak_mb(), "MB", BUDGET_MEMORY_MB)
    print(f"  held-out AUC {report['auc']:.3f}, Brier {report['brier']:.3f}, "
          f"{report['features']} features", flush=True)
    started = time.perf_counter()
    raw = read_contacts(model, workspace.documents(), NOW)
    read = time.perf_counter() - started
    started = time.perf_counter()
    scored = Scored(model, raw)
    score = time.perf_counter() - started
    line(f"score all {len(scored.ids):,}: likelihoods and factor points", score, "s",
         BUDGET_SCORE_S)
    line("  ... after reading their values from the documents", read, "s")
    line("  ... both together", read + score, "s", BUDGET_SCORE_S)
    workspace.stats()  # the columns ready, as an open app or a stats run has them
    started = time.perf_counter()
    from_columns = workspace.likelihoods(model)
    line("score all from the columns (what the app, filters and stats do)",
         time.perf_counter() - started, "s", BUDGET_SCORE_S)
    assert len(from_columns.ids) == len(scored.ids)
    started = time.perf_counter()
    _, with_baseline = learn(workspace.documents, rules, NOW, baseline=True)
    line("train with the rules' baseline on the held-out part", time.perf_counter() - started,
         "s")
    started = time.perf_counter()
    workspace.classify_all()
    line("baseline: the rules' reclassification of everyone", time.perf_counter() - started, "s")
    workspace.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--db", type=Path, help="reuse (or create) this database")
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        measure(args.measure)
        return
    with tempfile.TemporaryDirectory() as folder:
        db = args.db or Path(folder) / "learn.json"
        if not db.exists():
            started = time.perf_counter()
            build(db, args.contacts, args.seed)
            print(f"(wrote {args.contacts:,} contacts with outcomes in "
                  f"{time.perf_counter() - started:.1f} s)", flush=True)
        subprocess.run([sys.executable, __file__, "--measure", str(db)], check=True)


if __name__ == "__main__":
    main()
