"""Characters that must never reach a terminal as they are, and how to show them instead.

The one definition behind input checks (``funnel.engine.model`` refuses terminal
controls in contact text, and bidi controls too in names and tags) and display
(the TUI's widgets and the command line's printed text).
"""

from __future__ import annotations

import functools
import re

# C0 controls, DEL and C1 controls drive the terminal (ESC starts an escape sequence);
# the bidi controls reorder what is drawn, so text could show other than it reads.
_TERMINAL_RANGES = (
    (0x00, 0x1F),  # C0
    (0x7F, 0x9F),  # DEL and C1
)
_BIDI_RANGES = (
    (0x061C, 0x061C),  # Arabic letter mark
    (0x200E, 0x200F),  # left-to-right and right-to-left marks
    (0x202A, 0x202E),  # embeddings, overrides and their pop
    (0x2066, 0x2069),  # isolates and their pop
)
_UNSAFE_RANGES = _TERMINAL_RANGES + _BIDI_RANGES

# Where one line is wanted (a table cell, a title): pictures that keep it one line.
_ONE_LINE = {"\x1b": "␛", "\t": " ", "\n": "⏎", "\r": "⏎"}


@functools.cache
def unsafe_pattern(keep: str = "", *, bidi: bool = True) -> re.Pattern[str]:
    """A regex matching one unsafe character, except those in ``keep`` (e.g. tab, newline).

    ``bidi=False`` matches the terminal controls only: contact values may hold bidi
    marks (real data does: phone numbers copied from mail clients carry U+202A/U+202C),
    which are stored as given and shown visibly on screen.
    """
    allowed = {ord(char) for char in keep}
    ranges = _UNSAFE_RANGES if bidi else _TERMINAL_RANGES
    codes = [code for low, high in ranges for code in range(low, high + 1)
             if code not in allowed]
    return re.compile("[" + "".join(re.escape(chr(code)) for code in codes) + "]")


UNSAFE = unsafe_pattern()


def escape(char: str) -> str:
    """``char`` written as a Python escape: ``\\x1b``, ``\\x85``, ``\\u202e``."""
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: str, *, one_line: bool = False, keep: str = "",
            other: str | None = None) -> str:
    """``text`` with every unsafe character shown rather than acted on.

    Characters in ``keep`` pass through. With ``one_line``, ESC shows as ␛, a tab as
    a space and a newline or CR as ⏎. Any other unsafe character shows as ``other``
    when given, else as its escape (``\\x07``, ``\\u202e``).
    """
    pattern = unsafe_pattern(keep)
    if not pattern.search(text):
        return text
    stand_ins = _ONE_LINE if one_line else {}

    def shown(match: re.Match[str]) -> str:
        char = match.group()
        return stand_ins.get(char) or (other if other is not None else escape(char))

    return pattern.sub(shown, text)


def json_visible(text: str) -> str:
    """JSON ``text`` with every unsafe character written as a ``\\uXXXX`` escape.

    ``json.dumps(..., ensure_ascii=False)`` escapes C0 controls but leaves DEL, C1
    and the bidi controls raw. They can only stand inside JSON strings, where the
    escape means the same character: the JSON decodes to the same data and is safe
    to print. Newlines are kept: inside strings JSON escapes them, so a raw one is
    the indentation's.
    """
    return unsafe_pattern("\n").sub(lambda match: f"\\u{ord(match.group()):04x}", text)
