"""Triage actions (advance, move back, disqualify, snooze, assign, tag, adjust score)
on one contact or on every marked one. The table and the card share them; each asks
what it needs in a dialog and then goes through the workspace, never around it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from funnel.engine.errors import FunnelError

from funnel.tui.dialogs.prompts import (DISQUALIFY_REASONS, NO_DATE, ChoiceDialog, ScoreAdjustDialog, SnoozeDialog,
                      TextDialog)

if TYPE_CHECKING:
    from funnel.tui.app.app import FunnelApp


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


class Triage:
    def __init__(self, app: "FunnelApp") -> None:
        self.app = app

    @property
    def workspace(self):
        return self.app.workspace

    def _apply(self, ids: list[int], change: Callable[[int], object], done: str) -> None:
        """Apply ``change`` to each contact; report what happened in one notification."""
        changed, problems = 0, []
        for contact_id in ids:
            try:
                if change(contact_id) is not False:
                    changed += 1
            except FunnelError as error:
                problems.append(f"#{contact_id}: {error}")
        if changed:
            self.app.notify(f"{done}: {_plural(changed, 'contact')}")
        if problems:
            more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
            self.app.notify("\n".join(problems[:3]) + more, severity="error", timeout=8)
        self.app.after_triage(ids)

    def _stage_at(self, contact_id: int, step: int):
        rules = self.workspace.rules
        current = rules.by_id.get(self.workspace.classification(contact_id).stage)
        if current is None or current.is_exit:
            return None
        index = rules.stages.index(current) + step
        return rules.stages[index] if 0 <= index < len(rules.stages) else None

    # -- actions -------------------------------------------------------------
    def advance(self, ids: list[int]) -> None:
        def change(contact_id: int):
            target = self._stage_at(contact_id, 1)
            if target is None:
                return False
            return self.workspace.move(contact_id, target.id, "advanced by hand")
        self._apply(ids, change, "Advanced")

    def back(self, ids: list[int]) -> None:
        if not ids:
            return
        first = self._stage_at(ids[0], -1)
        where = f" to {first.id}" if first and len(ids) == 1 else " one stage"
        count = "" if len(ids) == 1 else f" ({_plural(len(ids), 'contact')})"

        def answered(why: str | None) -> None:
            if why:
                def change(contact_id: int):
                    target = self._stage_at(contact_id, -1)
                    if target is None:
                        return False
                    return self.workspace.move(contact_id, target.id, why)
                self._apply(ids, change, "Moved back")

        self.app.push_screen(TextDialog(f"Move back{where}{count}: why?",
                                        hint="The reason goes into the history; "
                                             "the stage stays pinned until released."),
                             answered)

    def move_to(self, ids: list[int]) -> None:
        if not ids:
            return
        rules = self.workspace.rules
        stages = [(stage.id, f"{stage.id}  {stage.label}" if stage.label != stage.id
                   else stage.id) for stage in rules.stages + rules.exits]

        def picked(stage_id: str | None) -> None:
            if not stage_id:
                return

            def reasoned(why: str | None) -> None:
                if why:
                    self._apply(ids, lambda cid: self.workspace.move(cid, stage_id, why),
                                f"Moved to {stage_id}")
            self.app.push_screen(TextDialog(f"Move to {stage_id}: why?"), reasoned)

        self.app.push_screen(ChoiceDialog("Move to stage", stages), picked)

    def disqualify(self, ids: list[int]) -> None:
        if not ids:
            return
        count = "" if len(ids) == 1 else f" {_plural(len(ids), 'contact')}"

        def answered(reason: str | None) -> None:
            if reason:
                self._apply(ids, lambda cid: self.workspace.disqualify(cid, reason),
                            "Disqualified")
        self.app.push_screen(ChoiceDialog(f"Disqualify{count}: why?",
                                          [(reason, reason) for reason in DISQUALIFY_REASONS],
                                          other="another reason…"), answered)

    def snooze(self, ids: list[int]) -> None:
        if not ids:
            return

        def answered(day: str | None) -> None:
            if day == NO_DATE:
                day = ""
            if day is not None:
                self._apply(ids, lambda cid: self.workspace.edit(cid, {"follow_up": day or None}),
                            f"Follow-up {day}" if day else "Follow-up cleared")
        self.app.push_screen(SnoozeDialog(self.app.today()), answered)

    def assign(self, ids: list[int]) -> None:
        if not ids:
            return
        current = self.workspace.get(ids[0]).get("owner") if len(ids) == 1 else None

        def answered(owner: str | None) -> None:
            if owner is not None:
                self._apply(ids, lambda cid: self.workspace.edit(cid, {"owner": owner or None}),
                            f"Assigned to {owner}" if owner else "Unassigned")
        self.app.push_screen(TextDialog("Owner (empty: nobody)", current or self.workspace.user,
                                        allow_empty=True,
                                        suggestions=[self.workspace.user]), answered)

    def tag(self, ids: list[int]) -> None:
        if not ids:
            return

        def answered(text: str | None) -> None:
            if not text:
                return
            remove = text.startswith("-")
            tag = text.lstrip("-").strip().lower()

            def change(contact_id: int):
                tags = list(self.workspace.get(contact_id).get("tags") or [])
                if remove == (tag not in tags):
                    return False
                tags = [t for t in tags if t != tag] if remove else tags + [tag]
                return self.workspace.edit(contact_id, {"tags": tags})
            self._apply(ids, change, f"{'Untagged' if remove else 'Tagged'} {tag}")
        self.app.push_screen(TextDialog("Tag (a leading - removes it)"), answered)

    def adjust_score(self, contact_id: int) -> None:
        document = self.workspace.get(contact_id)

        def answered(result: tuple[int, str] | None) -> None:
            if result is not None:
                points, reason = result
                self._apply([contact_id],
                            lambda cid: self.workspace.adjust_score(cid, points, reason),
                            "Score adjusted")
        self.app.push_screen(ScoreAdjustDialog(document.get("score_adjustment") or 0,
                                               document.get("score_adjustment_reason") or ""),
                             answered)
