"""Triage actions (advance, move back, disqualify, snooze, assign, tag, adjust score)
on one contact or on every marked one. The list and the card share them: the same
bindings (``triage_bindings``) and the same actions (``TriageActions``). Each asks what
it needs in a dialog and then goes through the workspace, never around it."""

from __future__ import annotations

from typing import Any, Callable

from textual.binding import Binding
from textual.dom import DOMNode

from funnel.engine.errors import Conflict, FunnelError
from funnel.engine.rules.ruleset import Stage
from funnel.engine.workspace.facade import Workspace
from funnel.tui.app.services import services
from funnel.tui.dialogs.conflict import ConflictDialog, Resolution
from funnel.tui.dialogs.prompts import (DISQUALIFY_REASONS, ChoiceDialog, FollowUp,
                                        ScoreAdjustDialog, ScoreAdjustment, SnoozeDialog,
                                        TextDialog)


def triage_bindings(scope: str, *, back: str, owner_and_tag_shown: bool) -> list[Binding]:
    """The triage keys; ids are ``<scope>.advance`` and so on (keys.yaml remaps them)."""
    return [
        Binding("greater_than_sign,right_square_bracket", "advance", "Advance",
                id=f"{scope}.advance"),
        Binding("less_than_sign,left_square_bracket", "back", back, id=f"{scope}.back"),
        Binding("m", "move", "Move to…", show=False, id=f"{scope}.move"),
        Binding("d", "disqualify", "Disqualify", id=f"{scope}.disqualify"),
        Binding("z", "snooze", "Follow-up", id=f"{scope}.snooze"),
        Binding("o", "assign", "Owner", show=owner_and_tag_shown, id=f"{scope}.assign"),
        Binding("t", "tag", "Tag", show=owner_and_tag_shown, id=f"{scope}.tag"),
    ]


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


class Triage:
    """Triage started from ``host`` (the list or the card)."""

    def __init__(self, host: DOMNode) -> None:
        self._host = host

    @property
    def workspace(self) -> Workspace:
        return services(self._host).workspace

    def seen(self, ids: list[int], name: str) -> dict[int, dict[str, Any]]:
        """What each contact showed of ``name`` when the person decided: the
        expectation its change is based on (``stage`` is the derived stage)."""
        workspace = self.workspace
        if name == "stage":
            return {cid: {"stage": workspace.classification(cid).stage} for cid in ids}
        return {cid: {name: workspace.row(cid)[0].get(name)} for cid in ids}

    def _apply(self, ids: list[int], change: Callable[[int], object], done: str) -> None:
        """Apply ``change`` to each contact; report what happened in one notification.
        ``change`` returns False for a contact it left alone. Contacts refused because
        someone changed them since are settled one by one afterwards (ConflictDialog)."""
        changed, problems, refused = 0, [], []
        for contact_id in ids:
            try:
                if change(contact_id) is not False:
                    changed += 1
            except Conflict as conflict:
                refused.append(conflict)
            except FunnelError as error:
                problems.append(f"#{contact_id}: {error}")
        self._report(changed, problems, done)
        services(self._host).after_triage(ids)
        if refused:
            self._settle(refused, done, [], None)

    def _report(self, changed: int, problems: list[str], done: str) -> None:
        app = self._host.app
        if changed:
            app.notify(f"{done}: {_plural(changed, 'contact')}")
        if problems:
            more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
            app.notify("\n".join(problems[:3]) + more, severity="error", timeout=8)

    def _settle(self, refused: list[Conflict], done: str, kept: list[int],
                every: Resolution | None) -> None:
        """Ask about the first refused contact (unless a choice for all was made), act
        on the answer, then go on with the rest; finally say which were refused."""
        if not refused:
            if kept:
                self._host.app.notify(
                    "Changed by someone else since you looked, so left as they are: "
                    + ", ".join(f"#{cid}" for cid in kept), severity="warning", timeout=10)
            return
        conflict, rest = refused[0], refused[1:]

        def answered(answer: Resolution | None) -> None:
            answer = answer or Resolution("theirs")
            contact_id = conflict.contact_id or 0
            if answer.choice == "mine":
                try:
                    self.workspace.override(conflict)
                    self._report(1, [], f"{done} over someone's change")
                except Conflict as again:
                    rest.insert(0, again)  # changed once more: ask again
                except FunnelError as error:
                    self._report(0, [f"#{contact_id}: {error}"], done)
                services(self._host).after_triage([contact_id])
            else:
                kept.append(contact_id)
            self._settle(rest, done, kept, answer if answer.for_all else None)

        if every is not None:
            answered(every)
            return
        document = self.workspace.row(conflict.contact_id or 0)[0]
        name = document.get("name") or document.get("email") or "(no name)"
        self._host.app.push_screen(ConflictDialog(conflict, name, remaining=len(rest)),
                                   answered)

    def _stage_at(self, contact_id: int, step: int) -> Stage | None:
        rules = self.workspace.rules
        current = rules.by_id.get(self.workspace.classification(contact_id).stage)
        if current is None or current.is_exit:
            return None
        index = rules.stages.index(current) + step
        return rules.stages[index] if 0 <= index < len(rules.stages) else None

    def _move(self, contact_id: int, step: int, why: str,
              seen: dict[int, dict[str, Any]]) -> object:
        target = self._stage_at(contact_id, step)
        if target is None:
            return False
        return self.workspace.move(contact_id, target.id, why, expect=seen[contact_id])

    # -- actions -------------------------------------------------------------
    def advance(self, ids: list[int]) -> None:
        seen = self.seen(ids, "stage")
        self._apply(ids, lambda cid: self._move(cid, 1, "advanced by hand", seen), "Advanced")

    def back(self, ids: list[int]) -> None:
        if not ids:
            return
        seen = self.seen(ids, "stage")
        first = self._stage_at(ids[0], -1)
        where = f" to {first.id}" if first and len(ids) == 1 else " one stage"
        count = "" if len(ids) == 1 else f" ({_plural(len(ids), 'contact')})"

        def answered(why: str | None) -> None:
            if why:
                self._apply(ids, lambda cid: self._move(cid, -1, why, seen), "Moved back")

        self._host.app.push_screen(TextDialog(f"Move back{where}{count}: why?",
                                              hint="The reason goes into the history; "
                                                   "the stage stays pinned until released."),
                                   answered)

    def move_to(self, ids: list[int]) -> None:
        if not ids:
            return
        rules = self.workspace.rules
        seen = self.seen(ids, "stage")
        stages = [(stage.id, f"{stage.id}  {stage.label}" if stage.label != stage.id
                   else stage.id) for stage in rules.stages + rules.exits]

        def picked(stage_id: str | None) -> None:
            if not stage_id:
                return

            def reasoned(why: str | None) -> None:
                if why:
                    self._apply(ids, lambda cid: self.workspace.move(
                        cid, stage_id, why, expect=seen[cid]), f"Moved to {stage_id}")
            self._host.app.push_screen(TextDialog(f"Move to {stage_id}: why?"), reasoned)

        self._host.app.push_screen(ChoiceDialog("Move to stage", stages), picked)

    def disqualify(self, ids: list[int]) -> None:
        if not ids:
            return
        count = "" if len(ids) == 1 else f" {_plural(len(ids), 'contact')}"
        seen = self.seen(ids, "stage")

        def answered(reason: str | None) -> None:
            if reason:
                self._apply(ids, lambda cid: self.workspace.disqualify(cid, reason,
                                                                       expect=seen[cid]),
                            "Disqualified")
        self._host.app.push_screen(
            ChoiceDialog(f"Disqualify{count}: why?",
                         [(reason, reason) for reason in DISQUALIFY_REASONS],
                         other="another reason…"), answered)

    def snooze(self, ids: list[int]) -> None:
        if not ids:
            return
        seen = self.seen(ids, "follow_up")

        def answered(follow_up: FollowUp | None) -> None:
            if follow_up is None:
                return
            day = follow_up.day.isoformat() if follow_up.day else None
            self._apply(ids, lambda cid: self.workspace.edit(cid, {"follow_up": day},
                                                             expect=seen[cid]),
                        f"Follow-up {day}" if day else "Follow-up cleared")
        self._host.app.push_screen(SnoozeDialog(services(self._host).today()), answered)

    def assign(self, ids: list[int]) -> None:
        if not ids:
            return
        user = self.workspace.user
        seen = self.seen(ids, "owner")
        current = seen[ids[0]]["owner"] if len(ids) == 1 else None

        def answered(owner: str | None) -> None:
            if owner is not None:
                self._apply(ids, lambda cid: self.workspace.edit(cid, {"owner": owner or None},
                                                                 expect=seen[cid]),
                            f"Assigned to {owner}" if owner else "Unassigned")
        self._host.app.push_screen(TextDialog("Owner (empty: nobody)", current or user,
                                              allow_empty=True, suggestions=[user]), answered)

    def tag(self, ids: list[int]) -> None:
        if not ids:
            return
        seen = self.seen(ids, "tags")

        def answered(text: str | None) -> None:
            if not text:
                return
            remove = text.startswith("-")
            tag = text.lstrip("-").strip().lower()

            def change(contact_id: int) -> object:
                tags = list(seen[contact_id]["tags"] or [])
                if remove == (tag not in tags):
                    return False
                tags = [t for t in tags if t != tag] if remove else tags + [tag]
                return self.workspace.edit(contact_id, {"tags": tags}, expect=seen[contact_id])
            self._apply(ids, change, f"{'Untagged' if remove else 'Tagged'} {tag}")
        self._host.app.push_screen(TextDialog("Tag (a leading - removes it)"), answered)

    def adjust_score(self, contact_id: int) -> None:
        document = self.workspace.get(contact_id)
        seen = {name: document.get(name)
                for name in ("score_adjustment", "score_adjustment_reason")}

        def answered(adjustment: ScoreAdjustment | None) -> None:
            if adjustment is not None:
                self._apply([contact_id],
                            lambda cid: self.workspace.adjust_score(
                                cid, adjustment.points, adjustment.reason, expect=seen),
                            "Score adjusted")
        self._host.app.push_screen(
            ScoreAdjustDialog(document.get("score_adjustment") or 0,
                              document.get("score_adjustment_reason") or ""), answered)

    def unpin(self, contact_id: int) -> None:
        try:
            self.workspace.unpin(contact_id)
        except FunnelError as error:
            self._host.app.notify(str(error), severity="error")
            return
        self._host.app.notify("Stage back to automatic")
        services(self._host).after_triage([contact_id])


class TriageActions:
    """The actions behind ``triage_bindings``, mixed into the list and the card;
    each acts on ``triage_targets()``."""

    def triage_targets(self) -> list[int]:
        raise NotImplementedError

    @property
    def triage(self) -> Triage:
        assert isinstance(self, DOMNode), "mixed into a widget or a screen"
        return Triage(self)

    def action_advance(self) -> None:
        self.triage.advance(self.triage_targets())

    def action_back(self) -> None:
        self.triage.back(self.triage_targets())

    def action_move(self) -> None:
        self.triage.move_to(self.triage_targets())

    def action_disqualify(self) -> None:
        self.triage.disqualify(self.triage_targets())

    def action_snooze(self) -> None:
        self.triage.snooze(self.triage_targets())

    def action_assign(self) -> None:
        self.triage.assign(self.triage_targets())

    def action_tag(self) -> None:
        self.triage.tag(self.triage_targets())
