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
from funnel.engine.workspace.bulk_edit import BulkResult
from funnel.engine.workspace.facade import Workspace
from funnel.engine.workspace.many import Skipped
from funnel.tui.app.services import services
from funnel.tui.dialogs.conflict import ConflictDialog, Resolution
from funnel.tui.dialogs.prompts import (DISQUALIFY_REASONS, ChoiceDialog, FollowUp,
                                        ScoreAdjustDialog, ScoreAdjustment, SnoozeDialog,
                                        TextDialog)
from funnel.tui.dialogs.owners import OwnerChoice, OwnerDialog
from funnel.tui.panes.contacts.triage_words import plural, say_result, won_stage


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


BACKGROUND_FROM = 500  # contacts a bulk action changes in a worker thread rather than at once


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

    def _named(self, contact_id: int) -> str:
        document = self.workspace.row(contact_id)[0]
        return f"#{contact_id} {document.get('name') or document.get('email') or '(no name)'}"

    def run_bulk(self, ids: list[int], act: Callable[[], BulkResult], done: str,
                 not_done: str, skipped: list[Skipped] | None = None) -> None:
        """Run one bulk action (one commit, one undo step) and say what it did: how many
        it changed, and which it left alone and why. Contacts refused because someone
        changed them since are settled one by one afterwards (ConflictDialog). From
        ``BACKGROUND_FROM`` contacts on it runs in a worker thread (seconds at 100,000),
        the app answering keys meanwhile."""
        app = self._host.app

        def finish(result: BulkResult) -> None:
            say_result(app, result, done, not_done, (skipped or []) + result.skipped,
                       self._named)
            services(self._host).after_triage(ids)
            if result.conflicts:
                self._settle(list(result.conflicts), done, [], None)

        def failed(error: FunnelError) -> None:
            app.notify(str(error), severity="error", timeout=8)

        if len(ids) < BACKGROUND_FROM:
            try:
                result = act()
            except FunnelError as error:
                failed(error)
                return
            finish(result)
            return

        def work() -> None:
            try:
                result = act()
            except FunnelError as error:
                app.call_from_thread(failed, error)
                return
            app.call_from_thread(finish, result)
        app.notify(f"Working on {plural(len(ids), 'contact')}…")
        self._host.run_worker(work, thread=True, group="bulk")

    def _apply(self, ids: list[int], change: Callable[[int], object], done: str) -> None:
        """Apply ``change`` to one contact at a time (the card's single actions)."""
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
            app.notify(f"{done}: {plural(changed, 'contact')}")
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

    def _why_not(self, contact_id: int, step: int) -> str:
        """Why a contact has no stage ``step`` away, in words."""
        stage_id = self.workspace.classification(contact_id).stage
        stage = self.workspace.rules.by_id.get(stage_id)
        if stage is not None and stage.is_exit:
            return f"{stage_id}, a closed contact (m moves it to a stage)"
        return f"already at {stage_id}, the {'last' if step > 0 else 'first'} stage"

    def _steps(self, ids: list[int], step: int) -> tuple[dict[int, str], list[Skipped]]:
        """Each contact's stage ``step`` away, and those that have none (with why)."""
        stages, skipped = {}, []
        for contact_id in ids:
            target = self._stage_at(contact_id, step)
            if target is None:
                skipped.append(Skipped(contact_id, self._why_not(contact_id, step)))
            else:
                stages[contact_id] = target.id
        return stages, skipped

    # -- actions -------------------------------------------------------------
    def advance(self, ids: list[int]) -> None:
        """One stage on, no reason asked (the history says "advanced by hand"); into
        the stage of a won deal only once confirmed."""
        if not ids:
            return
        seen = self.seen(ids, "stage")
        stages, skipped = self._steps(ids, 1)

        def go() -> None:
            self.run_bulk(ids, lambda: self.workspace.bulk_move(
                stages, "advanced by hand", expect=seen,
                description="advance {contacts} one stage"), "Advanced", "Not advanced",
                skipped)

        won = won_stage(self.workspace.rules)
        winning = [cid for cid, stage_id in stages.items() if won and stage_id == won.id]
        if not winning or won is None:
            go()
            return
        who = self._named(winning[0]) if len(winning) == 1 \
            else plural(len(winning), "contact")

        def confirmed(answer: str | None) -> None:
            if answer == "yes":
                go()
        self._host.app.push_screen(ChoiceDialog(
            f"Advance {who} to {won.id}: a won deal?",
            [("no", "No, leave the stage as it is"),
             ("yes", f"Yes, {won.label.lower()} (the deal is won)")]), confirmed)

    def back(self, ids: list[int]) -> None:
        if not ids:
            return
        seen = self.seen(ids, "stage")
        stages, skipped = self._steps(ids, -1)
        first = stages.get(ids[0])
        where = f" to {first}" if first and len(ids) == 1 else " one stage"
        count = "" if len(ids) == 1 else f" ({plural(len(ids), 'contact')})"

        def answered(why: str | None) -> None:
            if why:
                self.run_bulk(ids, lambda: self.workspace.bulk_move(
                    stages, why, expect=seen, description="move {contacts} back one stage"),
                    "Moved back", "Not moved back", skipped)

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
                    self.run_bulk(ids, lambda: self.workspace.bulk_move(
                        dict.fromkeys(ids, stage_id), why, expect=seen),
                        f"Moved to {stage_id}", "Not moved")
            self._host.app.push_screen(TextDialog(f"Move to {stage_id}: why?"), reasoned)

        self._host.app.push_screen(ChoiceDialog("Move to stage", stages), picked)

    def disqualify(self, ids: list[int]) -> None:
        if not ids:
            return
        count = "" if len(ids) == 1 else f" {plural(len(ids), 'contact')}"
        seen = self.seen(ids, "stage")

        def answered(reason: str | None) -> None:
            if reason:
                self.run_bulk(ids, lambda: self.workspace.bulk_disqualify(ids, reason,
                                                                       expect=seen),
                           "Disqualified", "Not disqualified")
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
            self.run_bulk(ids, lambda: self.workspace.bulk_edit(ids, {"follow_up": day},
                                                             expect=seen),
                       f"Follow-up {day}" if day else "Follow-up cleared", "Not changed")
        self._host.app.push_screen(SnoozeDialog(services(self._host).today()), answered)

    def assign(self, ids: list[int]) -> None:
        """The owner picker: one owner, nobody, or several in turn (round-robin)."""
        if not ids:
            return
        workspace = self.workspace
        seen = self.seen(ids, "owner")
        current = seen[ids[0]]["owner"] if len(ids) == 1 else None

        def answered(choice: OwnerChoice | None) -> None:
            if choice is None:
                return
            owners = list(choice.owners)
            if not owners:
                self.run_bulk(ids, lambda: workspace.bulk_edit(ids, {"owner": None},
                                                            expect=seen),
                           "Unassigned", "Not changed")
                return
            done = f"Assigned to {owners[0]}" if len(owners) == 1 \
                else f"Assigned in turn to {', '.join(owners)}"
            self.run_bulk(ids, lambda: workspace.bulk_assign(ids, owners, expect=seen),
                       done, "Not assigned")
        title = "Owner (empty: nobody)" + ("" if len(ids) == 1
                                           else f" for {plural(len(ids), 'contact')}")
        self._host.app.push_screen(OwnerDialog(title, current or workspace.user,
                                               workspace.owners), answered)

    def tag(self, ids: list[int]) -> None:
        if not ids:
            return
        seen = self.seen(ids, "tags")

        def answered(text: str | None) -> None:
            if not text:
                return
            remove = text.startswith("-")
            tag = text.lstrip("-").strip().lower()
            changes = {}
            for contact_id in ids:
                tags = list(seen[contact_id]["tags"] or [])
                if remove != (tag not in tags):
                    changes[contact_id] = {"tags": [t for t in tags if t != tag] if remove
                                           else tags + [tag]}
            verb = "untag" if remove else "tag"
            self.run_bulk(ids, lambda: self.workspace.bulk_edit_each(
                changes, expect=seen, description=f"{verb} {{contacts}} {tag}"),
                f"{'Untagged' if remove else 'Tagged'} {tag}", "Not changed")
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
