"""The Funnel tab's timeline: the stages one contact went through, newest first."""

from __future__ import annotations

from datetime import datetime

from textual.content import Content

from funnel.engine.reports.lifecycle import Stay
from funnel.engine.rules.ruleset import Rules

from funnel.tui.panes.funnel.cells import days
from funnel.tui.panes.funnel.table import LABEL_MAX
from funnel.tui.widgets.text import fit, literal


def timeline_lines(contact_id: int | None, document: dict | None, stays: list[Stay],
                   rules: Rules, now: datetime) -> list[Content]:
    """The stays of the selected contact, newest first: stage, days, from → to, by, why."""
    title = Content.styled("Stage timeline", "bold underline")
    if contact_id is None or document is None:
        return [title, Content.styled("Select a contact in the Contacts tab (1) to see "
                                      "its stages here.", "dim")]
    name = literal(document.get("name") or document.get("email") or "no name")
    lines = [title + Content("  ") + Content.styled(name, "bold")
             + Content.styled(f" #{contact_id}", "dim")]
    if not stays:
        lines.append(Content.styled("no stage recorded yet", "dim"))
    labels = {stage.id: literal(stage.label) for stage in rules.stages + rules.exits}
    label_width = min(LABEL_MAX, max(len(label) for label in labels.values()))
    for stay in reversed(stays):
        label = labels.get(stay.stage) or literal(stay.stage)
        if not stay.recorded:
            when = "now, by the rules"
        else:
            when = f"{_date(stay.entered, now)} → " + ("now" if stay.current
                                                       else _date(stay.left, now))
        lines.append(Content.assemble(("▶ " if stay.current else "  ", "bold"),
                                      (fit(label, label_width), "bold" if stay.current else ""),
                                      f" {days(stay.days):>5}  ", (when, "dim")))
        who = literal(stay.by)
        if stay.why:
            who += " — " + literal(stay.why)
        if who:
            lines.append(Content.styled("    " + who, "dim italic"))
    return lines


def _date(moment: datetime | None, now: datetime) -> str:
    """'30 Oct' this year, '30 Oct 2025' another."""
    if moment is None:
        return "?"
    if moment.year == now.year:
        return f"{moment.day} {moment.strftime('%b')}"
    return f"{moment.day} {moment.strftime('%b %Y')}"

