"""Merging a duplicate from the list (``D``): find the current contact's likely
duplicates (in a worker: it reads every contact), pick one, confirm, merge it into the
current contact through ``Workspace.merge``. ``u`` undoes it like any other action."""

from __future__ import annotations

from textual.widget import Widget

from funnel.engine.errors import FunnelError
from funnel.engine.workspace.duplicates import DuplicateGroup
from funnel.tui.app.services import services
from funnel.tui.dialogs.prompts import ChoiceDialog
from funnel.tui.widgets.text import literal

MERGE = "merge"


def _label(host: Widget, contact_id: int) -> str:
    document = services(host).workspace.row(contact_id)[0]
    parts = [document.get(name) for name in ("name", "email", "phone", "company")]
    return f"#{contact_id}  " + literal(" · ".join(str(part) for part in parts if part))


def find_and_merge(host: Widget, contact_id: int | None) -> None:
    """Look for ``contact_id``'s likely duplicates, then ask which to merge into it."""
    if contact_id is None:
        return
    workspace = services(host).workspace

    def look() -> None:
        found = workspace.duplicates_of(contact_id)  # over the columns: fast at 100k
        host.app.call_from_thread(_pick, host, contact_id, found)

    host.app.notify("Looking for duplicates…", timeout=2)
    host.run_worker(look, thread=True, group="duplicates", exclusive=True)


def _pick(host: Widget, keep_id: int, group: DuplicateGroup | None) -> None:
    others = [contact_id for contact_id in (group.ids if group else []) if contact_id != keep_id]
    if not group or not others:
        host.app.notify(f"No likely duplicates of #{keep_id}")
        return

    def picked(value: str | None) -> None:
        if value and value.isdigit():
            _confirm(host, keep_id, int(value))

    host.app.push_screen(ChoiceDialog(
        f"Merge into {_label(host, keep_id)}",
        [(str(other), _label(host, other)) for other in others],
        hint="Why: " + literal("; ".join(group.reasons))[:200] + " · Enter picks · Esc cancels"),
        picked)


def _confirm(host: Widget, keep_id: int, other_id: int) -> None:
    def answered(value: str | None) -> None:
        if value != MERGE:
            return
        try:
            services(host).workspace.merge(keep_id, other_id, why="duplicate")
        except FunnelError as error:
            host.app.notify(literal(error), severity="error", markup=False)
            return
        host.app.notify(f"Merged #{other_id} into #{keep_id} (u undoes)")
        services(host).after_triage([keep_id])

    host.app.push_screen(ChoiceDialog(
        f"Merge #{other_id} into #{keep_id}?",
        [(MERGE, f"merge: #{keep_id} keeps its values, gets #{other_id}'s missing ones, "
                 "activities and history; #" + str(other_id) + " is deleted"),
         ("cancel", "cancel")]), answered)
