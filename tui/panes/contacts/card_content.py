"""What the contact card shows, as Content: the badges (with a draft's changes), why
the score and stage are what they are, and the lifecycle timeline. Contact text is
always shown literally."""

from __future__ import annotations

from typing import Any

from textual.content import Content

from funnel.engine.rules.classify import Classification
from funnel.tui.widgets.text import literal


def field_text(value: Any) -> str:
    """A field's value as the text you would type to set it."""
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def badges(result: Classification, draft: Classification | None = None) -> Content:
    """Stage, score, grade, temperature, lead type; with a draft, old → new where they differ."""
    def pair(label: str, before: Any, after: Any, style: str = "bold") -> Content:
        head = Content.styled(f"{label} ", "dim")
        if draft is None or before == after:
            return head + Content.styled(str(before), style)
        return head + Content.styled(str(before), "strike dim") + Content(" → ") + \
            Content.styled(str(after), "bold reverse")
    other = draft or result
    temperature_style = {"hot": "bold $error", "warm": "bold $warning",
                         "cold": "bold $primary"}.get(result.temperature, "bold")
    parts = [
        pair("Stage", result.stage + (" (pinned)" if result.manual else ""),
             other.stage + (" (pinned)" if other.manual else "")),
        pair("Score", result.score, other.score),
        pair("Fit", result.fit, other.fit, ""),
        pair("Eng", result.engagement, other.engagement, ""),
        pair("Grade", result.grade, other.grade),
        pair("Temp", result.temperature, other.temperature, temperature_style),
        pair("Type", result.lead_type or "–", other.lead_type or "–"),
    ]
    line = Content("  ").join(parts)
    flags = []
    if other.rotting:
        flags.append(Content.styled(" ROTTING ", "bold reverse $warning"))
    if other.overdue:
        flags.append(Content.styled(" OVERDUE ", "bold reverse $error"))
    if flags:
        line += Content("  ") + Content(" ").join(flags)
    return line


def explanation(result: Classification, draft: Classification | None = None) -> Content:
    shown = draft or result
    lines = [Content.styled("Why this score", "bold underline")]
    for item in shown.explanation or ():
        points = f"{item.points:+d}"
        lines.append(Content.styled(f"{points:>4} ", "bold") + Content(literal(item.label)))
    total = f"= {shown.raw_score} raw, {shown.score} shown (0-100)"
    lines.append(Content.styled(total, "dim"))
    lines.append(Content(""))
    lines.append(Content.styled("Stage", "bold underline"))
    lines.append(Content(literal(shown.stage_reason)))
    if shown.manual and shown.rules_stage != shown.stage:
        lines.append(Content.styled(f"the rules alone would say: {shown.rules_stage}", "italic"))
    lines.append(Content(""))
    lines.append(Content.styled("Next action", "bold underline"))
    lines.append(Content(literal(shown.next_action)))
    return Content("\n").join(lines)


def timeline(document: dict) -> Content:
    lines = [Content.styled("Timeline", "bold underline")]
    for entry in reversed(document.get("history") or []):
        when = (entry.get("at") or "")[:16].replace("T", " ")
        kind = entry.get("kind")
        if kind == "stage":
            what = Content.styled(f"{literal(entry.get('from')) or '–'} → "
                                  f"{literal(entry.get('to'))}", "bold")
        elif kind == "field":
            what = Content(f"{literal(entry.get('field'))}: "
                           f"{literal(entry.get('from')) or '–'} → "
                           f"{literal(entry.get('to')) or '–'}")
        elif kind == "activity":
            activity = entry.get("to") or {}
            what = Content(f"activity {literal(activity.get('kind'))}")
        else:
            what = Content(literal(kind))
        line = Content.styled(when + " ", "dim") + what + \
            Content.styled(f"  by {literal(entry.get('by'))}", "dim")
        if entry.get("why"):
            line += Content.styled(" — " + literal(entry["why"]), "italic")
        lines.append(line)
    return Content("\n").join(lines)
