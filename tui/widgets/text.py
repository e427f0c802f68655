"""Contact text made safe to show: literal, never markup, never terminal escapes."""

from __future__ import annotations

import re
from typing import Any

from rich.cells import cell_len, set_cell_size
from textual.content import Content

# C0 and C1 control characters (ESC among them) would drive the terminal; tabs and
# newlines would break a one-line cell. Each shows as a visible stand-in instead.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_STAND_IN = {"\x1b": "␛", "\t": " ", "\n": "⏎", "\r": "⏎"}


def literal(value: Any) -> str:
    """One line of plain text for ``value``: control characters replaced."""
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        value = ", ".join(str(item) for item in value)
    text = str(value)
    if _CONTROL.search(text):
        text = _CONTROL.sub(lambda match: _STAND_IN.get(match.group(), "�"), text)
    return text


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
