"""Logging work from the list or the card (``l``): ask with ``LogWorkDialog``, then
record the same activity on each contact asked for (the one shown, or every marked
one: "emailed all 12", one commit and one undo step) through the workspace, and say
what was done, naming any contact it could not be logged on and why."""

from __future__ import annotations

from textual.dom import DOMNode

from funnel.engine.errors import FunnelError
from funnel.tui.app.services import services
from funnel.tui.dialogs.log_work import LogWorkDialog, WorkEntry
from funnel.tui.widgets.text import literal

SHOWN_PROBLEMS = 3


def _title(host: DOMNode, ids: list[int]) -> str:
    if len(ids) > 1:
        return f"Log work on {len(ids):,} marked contacts"
    document = services(host).workspace.row(ids[0])[0]
    name = document.get("name") or document.get("email") or document.get("external_id")
    return f"Log work on #{ids[0]}" + (f" {literal(name)}" if name else "")


def log_work(host: DOMNode, ids: list[int]) -> None:
    """Ask what was done, then log it on every contact of ``ids``."""
    if not ids:
        return
    workspace = services(host).workspace

    def answered(entry: WorkEntry | None) -> None:
        if entry is None:
            return
        done, problems = 0, []
        try:
            if len(ids) == 1:
                workspace.log_activity(ids[0], entry.kind, entry.at, note=entry.note,
                                       outcome=entry.outcome, follow_up=entry.follow_up)
                done = 1
            else:  # one commit, one undo step
                outcome = workspace.log_activity_many(
                    ids, entry.kind, entry.at, note=entry.note, outcome=entry.outcome,
                    follow_up=entry.follow_up)
                done = len(outcome.changed)
                problems += [f"#{skip.contact_id}: {skip.reason}" for skip in outcome.skipped]
                problems += [str(conflict) for conflict in outcome.conflicts]
        except FunnelError as error:  # a conflict on the follow-up, a deleted contact
            problems.append(f"#{ids[0]}: {error}")
        kind = entry.kind.replace("_", " ")
        if done:
            where = f"#{ids[0]}" if len(ids) == 1 else f"{done:,} contacts"
            follow = (f"; follow-up {entry.follow_up}" if entry.follow_up
                      else "; follow-up cleared" if entry.follow_up == "" else "")
            host.app.notify(f"Logged {kind} on {where}{follow}", markup=False)
        if problems:
            more = len(problems) - SHOWN_PROBLEMS
            host.app.notify(f"Not logged on {len(problems):,}:\n"
                            + "\n".join(literal(line) for line in problems[:SHOWN_PROBLEMS])
                            + (f"\n(and {more} more)" if more > 0 else ""),
                            severity="error", timeout=10, markup=False)
        services(host).after_triage(ids)

    host.app.push_screen(LogWorkDialog(_title(host, ids), workspace.now()), answered)
