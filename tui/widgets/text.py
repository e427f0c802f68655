"""Contact text made safe to show: literal, never markup, never terminal escapes."""

from __future__ import annotations

from typing import Any

from rich.cells import cell_len, set_cell_size
from textual.content import Content

from funnel.engine.text import visible


def literal(value: Any) -> str:
    """One line of plain text for ``value``: control and bidi characters replaced."""
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        value = ", ".join(str(item) for item in value)
    # Control and bidi characters would drive the terminal or reorder the line; tabs and
    # newlines would break a one-line cell. Each shows as a visible stand-in instead.
    return visible(str(value), one_line=True, other="�")


def multiline(value: Any) -> str:
    """Like ``literal`` but keeps line breaks (for notes)."""
    if value is None:
        return ""
    return "\n".join(literal(line) for line in str(value).splitlines())


def content(value: Any) -> Content:
    """A Textual Content holding ``value`` as literal text (square brackets and all)."""
    return Content(literal(value))


def fit(text: str, width: int, *, right: bool = False) -> str:
    """``text`` padded or cut to exactly ``width`` terminal cells (wide CJK counted as 2)."""
    if width <= 0:
        return ""
    length = cell_len(text)
    if length > width:
        return set_cell_size(text, width - 1) + "…"
    if right:
        return " " * (width - length) + text
    return text + " " * (width - length)
