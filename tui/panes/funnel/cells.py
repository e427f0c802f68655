"""The text of the Funnel tab's cells: bars, counts, days and percentages.

Plain functions (the tests use them too), each fitting its value in a few cells.
"""

from __future__ import annotations

from textual.content import Content

_EIGHTHS = " ▏▎▍▌▋▊▉"
NOTHING = "–"  # a figure with nothing to say (nobody got this far, no stay yet)


def bar(fraction: float, width: int) -> str:
    """A bar of ``width`` cells filled to ``fraction``, in eighths of a cell.

    Anything above nothing shows at least a sliver, so a small stage is not mistaken
    for an empty one.
    """
    if width <= 0:
        return ""
    fraction = min(max(fraction, 0.0), 1.0)
    eighths = round(fraction * width * 8)
    if fraction > 0 and eighths == 0:
        eighths = 1
    full, part = divmod(eighths, 8)
    text = "█" * full + (_EIGHTHS[part] if part else "")
    return text + " " * (width - len(text))


def number(value: int) -> str:
    """A count in at most five cells: 9,999 then 12.3k, 123k, 1.2M."""
    if value < 10_000:
        return f"{value:,}"
    if value < 100_000:
        return f"{value / 1000:.1f}k"
    if value < 1_000_000:
        return f"{value // 1000}k"
    return f"{value / 1_000_000:.1f}M"


def days(value: float | None) -> str:
    if value is None:
        return NOTHING
    if value < 1:
        return "<1d"
    if value < 10:
        return f"{value:.1f}d"
    return f"{value:,.0f}d"


def percent(value: float | None) -> str:
    if value is None:
        return ""
    if 0 < value < 0.005:
        return "<1%"
    return f"{value * 100:.0f}%"


def movement(entered: int, left: int) -> Content:
    """'+12 −3': moves in, then out; a dim dot when nothing moved."""
    if not entered and not left:
        return Content.styled("·", "dim")
    return Content.assemble((f"+{number(entered)}", "$success" if entered else "dim"), " ",
                            (f"−{number(left)}", "$error" if left else "dim"))

