"""What the contact card shows, as Content: the badges (with a draft's changes), why
the score and stage are what they are, and the lifecycle timeline. Contact text is
always shown literally."""

from __future__ import annotations

from typing import Any

from textual.content import Content

from funnel.engine.errors import FunnelError
from funnel.engine.rules.classify import Classification
from funnel.engine.rules.first_response import response_due
from funnel.engine.workspace.facade import Workspace
from funnel.tui.widgets.text import literal, multiline

FACTORS_EACH_WAY = 3  # the card shows the three heaviest factors for and against


def field_text(value: Any) -> str:
    """A field's value as the text you would type to set it."""
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def answer_badge(workspace: Workspace, document: dict, result: Classification) -> str | None:
    """``UNANSWERED`` past the first-response deadline, ``ANSWER BY 10:00`` (UTC, with
    the date when not today) before it, None when no deadline applies (issue #15)."""
    now = workspace.now()
    due = response_due(document, workspace.rules, now, result.stage)
    if result.unanswered or (due is not None and due <= now):
        return "UNANSWERED"
    if due is None:
        return None
    return "ANSWER BY " + due.strftime("%H:%M" if due.date() == now.date() else "%Y-%m-%d %H:%M")


def badges(result: Classification, draft: Classification | None = None,
           answer: str | None = None) -> Content:
    """Stage, score, grade, temperature, lead type; with a draft, old → new where they
    differ; then the flags (``answer``: the first-response badge, see ``answer_badge``)."""
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
    if answer:
        style = "bold reverse $error" if answer == "UNANSWERED" else "bold $warning"
        flags.append(Content.styled(f" {answer} ", style))
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
            what = Content(f"{literal(activity.get('kind')).replace('_', ' ')}")
            if activity.get("outcome"):
                what += Content(f" · {literal(activity['outcome']).replace('_', ' ')}")
        elif kind == "merged" and isinstance(entry.get("to"), dict):
            what = Content(f"merged in #{literal(entry['to'].get('id'))}")
        else:
            what = Content(literal(kind))
        line = Content.styled(when + " ", "dim") + what + \
            Content.styled(f"  by {literal(entry.get('by'))}", "dim")
        if entry.get("why"):
            line += Content.styled(" — " + literal(entry["why"]), "italic")
        lines.append(line)
        if kind == "activity":  # a logged note, each line shown literally, indented
            lines += [Content("   " + text)
                      for text in multiline((entry.get("to") or {}).get("note")).split("\n")
                      if text]
    return Content("\n").join(lines)


def likelihood(workspace: Workspace, contact_id: int) -> Content:
    """The learned likelihood to convert and its heaviest factors each way; or a line
    saying there is no model (and how to make one), or why it cannot be read."""
    try:
        model = workspace.likelihood_model()
        if model is None:  # short lines: the card's side is 36 cells wide at 80x24
            return Content.styled("Likelihood: no model yet\n(funnel learn makes one from "
                                  "won and lost contacts)", "dim italic")
        chance, factors = workspace.likelihood(contact_id, model)
    except FunnelError as error:
        return Content.styled("Likelihood: unreadable model\n", "$warning") + \
            Content.styled(literal(error), "dim")
    return likelihood_section(chance, factors, leaky=model.uses_after_contact)


def likelihood_section(chance: float, factors: list[dict[str, Any]], *,
                       leaky: bool = False) -> Content:
    """``chance`` as a percentage, then the top factors for and against (feature, value,
    points), every name and value shown literally: both come from the contacts."""
    head = Content.styled("Likelihood to convert", "bold underline") + Content("  ") + \
        Content.styled(f"{100 * chance:.0f}%", "bold")
    if leaky:
        head += Content.styled("  (leaky model: learned from after-contact data)",
                               "$warning")
    lines = [head]
    for sign, style in ((1, "$success"), (-1, "$error")):
        heaviest = sorted((item for item in factors if sign * float(item["points"]) > 0),
                          key=lambda item: -abs(float(item["points"])))
        for item in heaviest[:FACTORS_EACH_WAY]:
            lines.append(Content.styled(f"{float(item['points']):>+6.1f} ", f"bold {style}")
                         + Content(f"{literal(item['feature'])}: {literal(item['value'])}"))
    if len(lines) == 1:
        lines.append(Content.styled("no factor moves it from the average", "dim"))
    return Content("\n").join(lines)

