"""Benchmark: the Scoring tab at scale.

    python tests/benchmarks/bench_scoring.py [--contacts 100000] [--db PATH]

Figures (each beside its DESIGN.md budget as a ratio where there is one):
- the counts under the active rules when the tab is first shown (every contact
  classified, in a worker);
- key press to updated screen: moving over the rules, opening a number for
  editing, applying it (the draft is parsed and checked on the UI thread);
- the preview: from applying a number to the draft's counts on screen (every
  contact classified under the draft, in a worker), and key presses answered
  while it runs;
- save: the rules file written and every contact reclassified (the next counts).
``--db`` keeps the generated database between runs (it is made when missing).
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from funnel.engine.rules.loading import load_rules  # noqa: E402
from funnel.engine.demo.generate import generate_contacts  # noqa: E402
from funnel.engine.workspace.facade import Workspace  # noqa: E402
from funnel.tui.app.app import FunnelApp, Settings  # noqa: E402
from funnel.tui.panes.scoring.pane import ScoringPane  # noqa: E402

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=timezone.utc)
BUDGET_KEY_MS = 50.0
BUDGET_RECLASSIFY_S = 2.0
SIZE = (120, 36)
EDITS = 5


def clock() -> datetime:
    return NOW


def line(what: str, figure: float, unit: str, budget: float | None = None) -> None:
    text = f"{what:<68} {figure:10.3f} {unit:<3}"
    if budget is not None:
        text += f"  budget {budget:g} {unit} (x{figure / budget:.2f})"
    print(text, flush=True)


def ensure_db(path: Path, count: int) -> None:
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with Workspace.open(path, load_rules(None), clock=clock, user="bench") as workspace:
        workspace.add_many(generate_contacts(count, 1, NOW), by="bench")
    line(f"generate {count} contacts (setup)", time.perf_counter() - started, "s")


class FrameClock:
    """When the app hands finished frames to the terminal driver, and when the pane's
    handlers finish. A key's latency runs from the press to the first frame after its
    handler: Pilot's own waiting (until the process is idle, which a busy worker thread
    never is) is left out."""

    def __init__(self, app, pane: ScoringPane) -> None:
        self.frames: list[float] = []
        self.handled: list[float] = []
        original = app._display

        def display(screen, renderable):
            if renderable is not None:
                self.frames.append(time.perf_counter())
            return original(screen, renderable)
        app._display = display
        for name in ("_move", "action_edit", "_apply_edit", "action_save"):
            self._watch(pane, name)

    def _watch(self, pane: ScoringPane, name: str) -> None:
        original = getattr(pane, name)
        handled = self.handled

        if asyncio.iscoroutinefunction(original):
            async def watched(*args, **kwargs):
                result = await original(*args, **kwargs)
                handled.append(time.perf_counter())
                return result
        else:
            def watched(*args, **kwargs):
                result = original(*args, **kwargs)
                handled.append(time.perf_counter())
                return result
        setattr(pane, name, watched)

    def latency(self, started: float) -> float | None:
        done = next((moment for moment in self.handled if moment > started), None)
        if done is None:
            return None
        frame = next((frame for frame in self.frames if frame > done), None)
        return None if frame is None else (frame - started) * 1000


async def press_timed(pilot, frames: FrameClock, key: str) -> float | None:
    started = time.perf_counter()
    await pilot.press(key)
    await pilot.pause()
    return frames.latency(started)


async def until(pilot, test, limit: float = 120.0) -> float:
    started = time.perf_counter()
    while not test():
        if time.perf_counter() - started > limit:
            raise TimeoutError("the Scoring tab did not settle")
        await pilot.pause(0.01)
    return time.perf_counter() - started


def summary(timings: list[float]) -> tuple[float, float]:
    ordered = sorted(timings)
    return statistics.median(ordered), ordered[max(0, int(len(ordered) * 0.95) - 1)]


async def bench(db: Path, rules_path: Path) -> None:
    workspace = Workspace.open(db, load_rules(None), clock=clock, user="bench", create=False)
    app = FunnelApp(workspace, Settings(poll_seconds=0, rules_path=str(rules_path)))
    async with app.run_test(size=SIZE) as pilot:
        pane = app.query_one(ScoringPane)
        frames = FrameClock(app, pane)
        started = time.perf_counter()
        await pilot.press("3")
        await until(pilot, lambda: pane.settled and pane.current_stats is not None)
        line("tab shown to counts under the active rules", time.perf_counter() - started, "s")

        moves = []
        for key in ["j"] * 30 + ["k"] * 10:
            latency = await press_timed(pilot, frames, key)
            if latency is not None:
                moves.append(latency)
        median, p95 = summary(moves)
        line("key press to screen: move (median)", median, "ms", BUDGET_KEY_MS)
        line("key press to screen: move (p95)", p95, "ms", BUDGET_KEY_MS)

        opens, applies, previews, during = [], [], [], []
        for step in range(EDITS):
            await pilot.press("g", *["j"] * step)  # the first fit rules, one by one
            opens.append(await press_timed(pilot, frames, "enter") or 0)
            await pilot.press("ctrl+a", "ctrl+k", *str(30 + step))
            started = time.perf_counter()
            applies.append(await press_timed(pilot, frames, "enter") or 0)
            while pane.draft_stats is None or not pane.settled:
                latency = await press_timed(pilot, frames, "j" if len(during) % 2 == 0
                                            else "k")
                if latency is not None:
                    during.append(latency)
                await pilot.pause(0.05)
            previews.append(time.perf_counter() - started)
        for what, timings in (("open a number for editing", opens),
                              ("apply it (draft parsed and checked)", applies)):
            median, p95 = summary(timings)
            line(f"key press to screen: {what} (median of {len(timings)})", median, "ms",
                 BUDGET_KEY_MS)
        line(f"apply to the draft's counts on screen, the preview (median of {EDITS})",
             statistics.median(previews), "s")
        if during:
            median, p95 = summary(during)
            line(f"key press to screen while previewing (median of {len(during)})", median,
                 "ms", BUDGET_KEY_MS)
            line("key press to screen while previewing (p95)", p95, "ms", BUDGET_KEY_MS)

        started = time.perf_counter()
        saved = await press_timed(pilot, frames, "ctrl+s")
        line("ctrl+s to screen: file written, rules switched", (saved or 0) / 1000, "s")
        await until(pilot, lambda: pane.settled and pane.current_stats is not None)
        workspace.stats()
        line("ctrl+s to every contact reclassified", time.perf_counter() - started, "s",
             BUDGET_RECLASSIFY_S)
    workspace.close()
    line("peak resident memory", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
         "MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--db", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        db = args.db or Path(folder) / "bench.json"
        ensure_db(db, args.contacts)
        print(f"Scoring tab, {args.contacts:,} contacts, {SIZE[0]}x{SIZE[1]}", flush=True)
        asyncio.run(bench(db, Path(folder) / "cfg" / "rules.yaml"))


if __name__ == "__main__":
    main()
