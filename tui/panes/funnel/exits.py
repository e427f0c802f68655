"""The Funnel tab's exits: each exit with its most common reasons, folded to fit."""

from __future__ import annotations

from textual.content import Content

from funnel.engine.reports.lifecycle import Lifecycle

from funnel.tui.widgets.text import literal


def exits_lines(figures: Lifecycle | None, height: int) -> list[Content]:
    """Each exit with its most common reasons, folded to fit ``height`` lines."""
    lines = [Content.styled("Exits by reason", "bold underline")]
    if figures is None:
        return lines + [Content.styled("computing…", "italic dim")]
    exits = figures.exits
    if not exits:
        return lines + [Content.styled("these rules have no exits", "dim")]
    room = max(len(exits) * 2, height - 1)  # each exit gets its line and at least one more
    for position, item in enumerate(exits):
        share = room // len(exits) + (1 if position < room % len(exits) else 0)
        lines.append(Content.assemble((literal(item.label), "bold"), f"  {item.count:,}"))
        if not item.count:
            continue
        reasons = [(reason.reason, reason.count) for reason in item.reasons]
        other = item.other
        shown = max(1, share - 1)
        if shown == 1 and reasons:
            reasons, other = reasons[:1], 0  # one line: the top reason, rather than "other"
        elif len(reasons) + (1 if other else 0) > shown:
            other += sum(count for _, count in reasons[shown - 1:])
            reasons = reasons[:shown - 1]
        for reason, count in reasons:
            lines.append(_reason_line(reason, count, item.count, False))
        if other:
            lines.append(_reason_line("other reasons", other, item.count, True))
    return lines


def _reason_line(reason: str, count: int, total: int, dim: bool) -> Content:
    share = f"{count * 100 // max(total, 1)}%"
    line = Content.assemble(f"{count:>6,} ", (f"{share:>4} ", "dim"),
                            (literal(reason), "dim italic" if dim else ""))
    return line

