"""Actions on many contacts at once (the marked ones): edit fields, assign owners in
turn, move to a stage, disqualify. Each is one commit (one journal record, see
``many``), one undo entry that says what it was ("assign 3 contacts to ola"), and
one ``BulkResult`` that names every contact left alone and why.

Values are checked before anything is written, the same way a single edit checks
them: a bad value refuses the whole action (FieldError), nothing written. A contact
someone else changed since it was marked (``expect``: what each showed when the person
decided) is a Conflict for that contact only; the others are written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from funnel.engine.errors import Conflict, FieldError, FunnelError
from funnel.engine.model.people_text import check_name
from funnel.engine.workspace.cache import ClassificationCache
from funnel.engine.workspace.commands import Commands, checked_expectation
from funnel.engine.workspace.documents import validated
from funnel.engine.workspace.events import ChangeKind
from funnel.engine.workspace.many import Outcome, Planned, Skipped, commit_many
from funnel.engine.workspace.shared import Shared
from funnel.engine.workspace.undo import UndoHistory
from funnel.engine.workspace.writer import Writer

Expectations = Mapping[int, Mapping[str, Any]]  # contact id -> field -> value as seen
COUNT = "{contacts}"  # in a description: replaced by "3 contacts" (those changed)


@dataclass
class BulkResult:
    """What a bulk action did; each asked-for contact is in exactly one list."""

    description: str  # as undo will name it: "assign 3 contacts to ola"
    changed: list[int] = field(default_factory=list)
    unchanged: list[int] = field(default_factory=list)  # already as asked: nothing written
    skipped: list[Skipped] = field(default_factory=list)  # left alone, with the reason
    conflicts: list[Conflict] = field(default_factory=list)  # changed by someone since


def contacts(count: int) -> str:
    return f"{count:,} contact{'' if count == 1 else 's'}"


def round_robin(ids: Sequence[int], owners: Sequence[str]) -> dict[int, str]:
    """Each contact's owner, in turn in the order given: the first contact to the first
    owner, the second to the second… then round again (deterministic)."""
    if not owners:
        raise FieldError("owner", "choose at least one owner")
    return {contact_id: owners[index % len(owners)] for index, contact_id in enumerate(ids)}


def describe_edit(changes: Mapping[str, Any]) -> str:
    """How undo names an edit of these fields on ``COUNT`` contacts."""
    if set(changes) == {"owner"}:
        owner = changes["owner"]
        return f"assign {COUNT} to {owner}" if owner else f"unassign {COUNT}"
    if set(changes) == {"follow_up"}:
        day = changes["follow_up"]
        return f"set follow-up {day} on {COUNT}" if day else f"clear follow-up of {COUNT}"
    return f"edit {', '.join(changes)} of {COUNT}"


class BulkActions:
    def __init__(self, shared: Shared, cache: ClassificationCache, writer: Writer,
                 undo: UndoHistory, commands: Commands) -> None:
        self._shared = shared
        self._cache = cache
        self._writer = writer
        self._undo = undo
        self._commands = commands

    def edit(self, changes: Mapping[int, Mapping[str, Any]], by: str, why: str | None,
             expect: Expectations | None, description: str | None) -> BulkResult:
        """Set each contact's own ``changes`` (id -> field -> value)."""
        rules = self._shared.rules
        checked: dict[int, dict[str, Any]] = {}
        for contact_id, fields in changes.items():
            if not fields:
                raise FieldError("changes", "choose a field to change")
            checked[contact_id] = validated(rules, dict(fields))
        plans = [Planned(contact_id, clean,
                         self._commands.edit_builder(clean, by, why),
                         self._expected(expect, contact_id))
                 for contact_id, clean in checked.items()]
        if description is None:
            kinds = {repr(sorted(clean.items())) for clean in checked.values()}  # lists too
            first = next(iter(checked.values()), {})
            description = describe_edit(first) if len(kinds) == 1 \
                else f"edit {', '.join(sorted({n for c in checked.values() for n in c}))} " \
                     f"of {COUNT}"
        return self._commit(plans, "edit", by, description)

    def assign(self, ids: Sequence[int], owners: Sequence[str], by: str,
               expect: Expectations | None) -> BulkResult:
        """Give the contacts to ``owners`` in turn (one owner: all to them)."""
        owners = [check_name(owner, "owner") for owner in owners]
        plan = round_robin(ids, owners)
        description = (describe_edit({"owner": owners[0]}) if len(set(owners)) == 1
                       else f"assign {COUNT} in turn to {', '.join(owners)}")
        return self.edit({contact_id: {"owner": owner} for contact_id, owner in plan.items()},
                         by, None, expect, description)

    def move(self, stages: Mapping[int, str], why: str, by: str, expect: Expectations | None,
             description: str | None) -> BulkResult:
        """Move each contact to its stage by hand (``Commands.move``'s rules)."""
        if not (why or "").strip():
            raise FieldError("why", "a reason is required to move a contact by hand")
        plans, skipped = [], []
        for contact_id, stage_id in stages.items():
            try:
                clean = validated(self._shared.rules,
                                  self._commands.move_changes(contact_id, stage_id, why))
                plans.append(self._stage_plan(contact_id, stage_id, clean, why, by, expect))
            except FunnelError as error:
                skipped.append(Skipped(contact_id, str(error)))
        targets = set(stages.values())
        if description is None:
            description = f"move {COUNT} to {targets.pop() if len(targets) == 1 else 'stages'}"
        result = self._commit(plans, "move", by, description)
        result.skipped[:0] = skipped
        return result

    def disqualify(self, ids: Sequence[int], reason: str, by: str,
                   expect: Expectations | None) -> BulkResult:
        clean = validated(self._shared.rules, self._commands.disqualify_changes(reason))
        plans = [self._stage_plan(contact_id, "disqualified", clean, reason.strip(), by, expect)
                 for contact_id in ids]
        return self._commit(plans, "move", by, f"disqualify {COUNT} ({reason.strip()})")

    # -- parts ---------------------------------------------------------------
    def _stage_plan(self, contact_id: int, stage_id: str, clean: dict[str, Any], why: str,
                    by: str, expect: Expectations | None) -> Planned:
        seen = self._commands.stage_expectation(contact_id, clean,
                                                self._expected(expect, contact_id))
        return Planned(contact_id, clean,
                       self._commands.stage_builder(stage_id, clean, why.strip(), by),
                       checked_expectation(seen))

    @staticmethod
    def _expected(expect: Expectations | None, contact_id: int) -> dict[str, Any] | None:
        if expect is None or contact_id not in expect:
            return None  # based on what this session shows
        return checked_expectation(expect[contact_id])

    def _commit(self, plans: list[Planned], kind: ChangeKind, by: str,
                description: str) -> BulkResult:
        outcome: Outcome = commit_many(self._shared, self._writer, plans, kind, by) \
            if plans else Outcome()
        count = len(outcome.changed)
        described = description.replace(COUNT, self._commands.named(outcome.changed[0])
                                        if count == 1 else contacts(count))
        self._undo.record(described, outcome.before, outcome.after)
        return BulkResult(described, outcome.changed, outcome.unchanged, outcome.skipped,
                          outcome.conflicts)
