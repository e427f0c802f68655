"""Names and reasons a person types, checked on the way in.

Who made a change (``by``, the workspace's user, ``--user``, ``FUNNEL_USER``) and why
(``why``, a disqualify or score-adjust reason) are shown to other people: in the
history, in a conflict message, on another person's terminal over SSH. So they must
be printable text of a bounded length. A name is one line of at most ``NAME_MAX``
characters with no control or bidi character; a reason is at most ``REASON_MAX``
characters and may hold newlines and tabs, but no other control or bidi character.
The unsafe characters are ``funnel.engine.text``'s one definition; what was stored
before these checks existed is still escaped wherever it is shown.
"""

from __future__ import annotations

import re
from typing import overload

from funnel.engine.errors import FieldError
from funnel.engine.text import escape, unsafe_pattern

NAME_MAX = 64
REASON_MAX = 2_000

# Beyond the C0/C1/bidi controls: line and paragraph separators break a one-line
# name, and a lone surrogate (an undecodable byte in argv) is not text at all.
_SEPARATORS = re.compile("[\u2028\u2029]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_NAME_UNSAFE = unsafe_pattern()
_REASON_UNSAFE = unsafe_pattern(keep="\t\n")
_TERMINAL = unsafe_pattern(bidi=False)  # what is unsafe but not this is a bidi control

_HOW = "use printable text"


def check_name(value: str, what: str) -> str:
    """``value`` if it is a name a person may go by; else FieldError naming ``what``
    (the option or setting it came from, e.g. ``--by`` or ``FUNNEL_USER``)."""
    if not isinstance(value, str):
        raise FieldError(what, f"must be text, not {type(value).__name__}")
    if not value.strip():
        raise FieldError(what, f"is empty; give a name ({_limits(NAME_MAX, one_line=True)})")
    _check_length(value, what, NAME_MAX, one_line=True)
    _check_characters(value, what, _NAME_UNSAFE, one_line=True)
    return value


@overload
def check_reason(value: str, what: str) -> str: ...
@overload
def check_reason(value: None, what: str) -> None: ...
@overload
def check_reason(value: str | None, what: str) -> str | None: ...


def check_reason(value: str | None, what: str) -> str | None:
    """``value`` if it is a reason a person may give (None passes: no reason); else
    FieldError naming ``what``. Whether a reason is required is the command's call."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise FieldError(what, f"must be text, not {type(value).__name__}")
    _check_length(value, what, REASON_MAX, one_line=False)
    _check_characters(value, what, _REASON_UNSAFE, one_line=False)
    return value


def _check_length(value: str, what: str, limit: int, *, one_line: bool) -> None:
    if len(value) > limit:
        raise FieldError(what, f"is {len(value):,} characters long; at most {limit:,}")


def _check_characters(value: str, what: str, unsafe: re.Pattern[str], *,
                      one_line: bool) -> None:
    found = unsafe.search(value) or _SURROGATE.search(value)
    if found is None and one_line:
        found = _SEPARATORS.search(value)
    if found is None:
        return
    char = found.group()
    if _SURROGATE.fullmatch(char):
        kind = "a character that is not valid text (a lone surrogate)"
    elif _NAME_UNSAFE.fullmatch(char) and not _TERMINAL.fullmatch(char):
        kind = "a bidi control"
    elif _SEPARATORS.fullmatch(char) or char in "\n\r":
        kind = "a line break"
    else:
        kind = "a control character"
    where = f"{escape(char)} at character {found.start() + 1}"
    raise FieldError(what, f"contains {kind} ({where}); {_HOW} "
                     f"({_limits(NAME_MAX if one_line else REASON_MAX, one_line=one_line)})")


def _limits(limit: int, *, one_line: bool) -> str:
    return (f"one line of at most {limit:,} characters" if one_line
            else f"at most {limit:,} characters; newlines and tabs allowed")
