"""What triage says after acting on many contacts: how many it changed, which it left
alone and why (named, never "Advanced: 2 contacts" with one silently missing), and
which stage is a won deal (moving there by hand is confirmed first)."""

from __future__ import annotations

from typing import Callable

from textual.app import App

from funnel.engine.rules.ruleset import Rules, Stage
from funnel.engine.workspace.bulk_edit import BulkResult
from funnel.engine.workspace.many import Skipped

SKIPPED_SHOWN = 3  # contacts named in the notification; the rest are counted


def plural(count: int, word: str) -> str:
    return f"{count:,} {word}{'' if count == 1 else 's'}"


def won_stage(rules: Rules) -> Stage | None:
    """The stage a won deal enters (its rule reads ``outcome == won``; else the stage
    called customer)."""
    for stage in rules.stages:
        if stage.when is not None and "outcome" in stage.when.names \
                and "won" in stage.when.text:
            return stage
    return rules.by_id.get("customer")


def say_result(app: App, result: BulkResult, done: str, not_done: str,
               skipped: list[Skipped], named: Callable[[int], str]) -> None:
    """Notify what a bulk action did (``done``: "Advanced") and, apart, each contact
    it left alone with the reason (``not_done``: "Not advanced")."""
    if result.changed:
        already = f" ({plural(len(result.unchanged), 'contact')} already so)" \
            if result.unchanged else ""
        app.notify(f"{done}: {plural(len(result.changed), 'contact')}{already}")
    elif result.unchanged and not skipped and not result.conflicts:
        app.notify(f"Nothing to change: {plural(len(result.unchanged), 'contact')} already so")
    if skipped:
        lines = [f"{named(skip.contact_id)}: {skip.reason}" for skip in skipped[:SKIPPED_SHOWN]]
        more = len(skipped) - SKIPPED_SHOWN
        app.notify(f"{not_done}: " + "\n".join(lines)
                   + (f"\n(and {more:,} more)" if more > 0 else ""),
                   severity="warning", timeout=10)
