"""The draft on the Scoring tab, as plain functions over the rules file's text:
reading the file the active rules came from, whether a typed number is valid (and if
not, why, in words fit for under its row), the draft with a number changed, and why
a row cannot be edited at all."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from funnel.engine.errors import FunnelError
from funnel.engine.rules.editing import EditError, RulesText, file_fingerprint, parse_number
from funnel.engine.rules.ruleset import Rules

from funnel.tui.panes.scoring.rows import short_path


@dataclass(frozen=True)
class RulesFile:
    """The rules file as a draft starts from it."""

    text: RulesText | None  # its numbers located (None: it cannot be edited here)
    problem: str  # why it cannot be edited, or what to beware of ("" when nothing)
    target_state: str | None  # the fingerprint of where Save writes, to notice others


def read_rules_file(rules: Rules, target: str | None) -> RulesFile:
    """The file ``rules`` came from, and the state of ``target`` (where Save writes)."""
    text: RulesText | None = None
    problem = ""
    try:
        text = RulesText.of(rules)
    except FunnelError as error:
        problem = f"read only: {error}"
    if text is not None and text.stale:
        problem = ("the rules file changed on disk since Funnel loaded it; drafts "
                   "start from the file as it is now")
    try:
        target_state = file_fingerprint(target) if target else None
    except FunnelError as error:
        target_state = None
        problem = str(error)
    return RulesFile(text, problem, target_state)


def with_number(text: RulesText, drafts: Mapping[str, float | None], key: str,
                value: float | None) -> dict[str, float | None]:
    """The drafts with number ``key`` set to ``value`` (dropped when it is the file's)."""
    changed = dict(drafts)
    if value == text.slots[key].value:
        changed.pop(key, None)  # back to what the file says
    else:
        changed[key] = value
    return changed


def inline_message(text: RulesText, error: EditError) -> str:
    """An error as said under its own row: without the rule's name, which is right
    above; with the line when it is about another one."""
    message = error.reason
    slot = text.slots.get(error.key or "")
    if slot is not None and message.startswith(f"{slot.what}: "):
        message = message[len(slot.what) + 2:]
    if error.line and (slot is None or slot.line != error.line):
        message += f" (line {error.line})"
    return message


def typed_value(text: RulesText, key: str, typed: str,
                drafts: Mapping[str, float | None]) -> float | None:
    """The typed text as a value for the number ``key`` beside the other ``drafts``;
    ValueError (with the inline message) if it is not one."""
    if not typed.strip() and text.slots[key].optional:
        return None
    value = parse_number(typed)
    others = {name: other for name, other in drafts.items() if name != key}
    try:
        text.check(key, value, others)
    except EditError as error:
        raise ValueError(inline_message(text, error)) from None
    return value


def why_not_editable(text: RulesText | None, problem: str, kind: str, key: str | None
                     ) -> str:
    """Why number ``key`` of a row of ``kind`` cannot be edited ("" when it can)."""
    if text is None:
        return problem or "These rules cannot be edited here"
    if key is None:
        if kind == "grade":
            return "Grade 1 has no bar of its own: edit grade 2's"
        return ("Only numbers are edited here; conditions and first-match rules live "
                f"in {short_path(text.source)}")
    slot = text.slots[key]
    if slot.locked:
        return f"{slot.what}: {slot.title} is not editable here: {slot.locked}"
    return ""
