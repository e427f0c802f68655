"""The Scoring tab's two lines of words: the status bar (which rules, the draft,
progress, where Save writes) and the detail line (the rule under the cursor in full)."""

from __future__ import annotations

from collections.abc import Mapping

from textual.content import Content

from funnel.engine.rules.editing import RulesText, is_preset
from funnel.engine.rules.ruleset import Rules

from funnel.tui.panes.scoring.rows import RowSpec, number_text, short_path
from funnel.tui.widgets.text import literal


def status_line(rules: Rules, drafts: Mapping[str, float | None], progress: str,
                problem: str, target: str | None) -> Content:
    """The rules' name, unsaved changes, progress, a problem, and where Save writes."""
    parts = [Content.styled(f"Rules: {literal(rules.name)}", "bold")]
    if drafts:
        count = len(drafts)
        parts.append(Content.styled(f"{count} unsaved change{'s' if count > 1 else ''}",
                                    "bold $warning"))
    if progress:
        parts.append(Content.styled(progress, "italic"))
    if problem:
        parts.append(Content.styled(literal(problem), "$warning"))
    if drafts and target:
        parts.append(Content(f"ctrl+s saves to {literal(short_path(str(target)))}"))
    elif is_preset(rules.source):
        parts.append(Content("the shipped preset (never changed: ctrl+s saves your copy)"))
    else:
        parts.append(Content(literal(short_path(rules.source))))
    return Content(" · ").join(parts)


def detail_line(spec: RowSpec, key: str | None, text: RulesText | None,
                drafts: Mapping[str, float | None], editing: str | None) -> Content:
    """The row under the cursor in full: the number ``key`` (draft and file value), its
    note, condition and line, and while ``editing`` the keys that end the edit."""
    parts: list[Content] = []
    if key is not None and text is not None:
        slot = text.slots[key]
        head = Content.styled(f"{slot.what}: {slot.title}", "bold")
        if key in drafts:
            head += Content(f" {number_text(key, drafts[key])} (was "
                            f"{number_text(key, slot.value)})")
        parts.append(head)
        if slot.locked:
            parts.append(Content.styled(f"not editable here: {slot.locked}", "$warning"))
    elif spec.label:
        parts.append(Content.styled(literal(spec.label), "bold"))
    if spec.note:
        parts.append(Content(spec.note))
    if spec.condition and not spec.condition.startswith("each "):
        parts.append(Content.styled("when ", "dim") + Content(literal(
            " ".join(spec.condition.split()))))
    line = text.slots[key].line if key is not None and text else spec.line
    if line:
        parts.append(Content.styled(f"line {line}", "dim"))
    if editing is not None:
        parts = [Content.styled("Enter applies · Esc cancels · an empty cap means no cap"
                                if editing.endswith(".max") else
                                "Enter applies · Esc cancels", "bold")] + parts
    elif key is None and spec.kind in ("temperature", "lead_type"):
        parts.append(Content.styled("(edited in the rules file, not here)", "dim"))
    return Content(" · ").join(parts)
