"""The tokenizer of the rule condition language: numbers, quoted text, operators, names."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from funnel.engine.errors import ConditionError

MAX_DIGITS = 15  # before and after the point: up to 999,999,999,999,999

_TOKEN = re.compile(
    r"""(?:
        (?P<number>-?\d+(?:\.\d+)?)(?![\w.])
      | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
      | (?P<op>==|!=|<=|>=|<|>|\[|\]|\(|\)|,)
      | (?P<quoted_name>[A-Za-z_][\w\-]*\.(?:"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'))
      | (?P<name>[A-Za-z_][\w\-]*(?:\.[A-Za-z_][\w\-]*)*)
    )""",
    re.VERBOSE,
)
_SPACE = re.compile(r"\s*")
_QUOTED = re.compile(r"\\([\"'\\])")


@dataclass(frozen=True)
class Token:
    kind: str  # number, string, op, name, end
    text: str
    position: int
    value: Any = None


def tokenize(text: str) -> list[Token]:
    """The tokens of ``text`` and an end token; one pass, so time grows with the length."""
    tokens: list[Token] = []
    length = len(text)
    position = _SPACE.match(text).end()  # type: ignore[union-attr]  # \s* always matches
    while position < length:
        match = _TOKEN.match(text, position)
        if not match:
            raise condition_error(text, position, _unexpected(text, position, tokens))
        kind = match.lastgroup or ""
        raw = match.group(kind)
        value: Any = None
        if kind == "quoted_name":  # custom."Lead Quality": a name that is not a plain word
            prefix, _, quoted = raw.partition(".")
            kind, value = "name", prefix + "." + _QUOTED.sub(r"\1", quoted[1:-1])
        elif kind == "number":
            whole, _, fraction = raw.lstrip("-").partition(".")
            if len(whole.lstrip("0")) > MAX_DIGITS or len(fraction) > MAX_DIGITS:
                raise condition_error(text, position, f"numbers may have at most {MAX_DIGITS} "
                                     "digits before and after the point (up to "
                                     "999,999,999,999,999)")
            value = float(raw) if "." in raw else int(raw)
        elif kind == "string":
            # Only quotes and backslashes are escaped, so regex escapes like \b stay.
            value = _QUOTED.sub(r"\1", raw[1:-1])
        tokens.append(Token(kind, raw, position, value))
        position = _SPACE.match(text, match.end()).end()  # type: ignore[union-attr]
    tokens.append(Token("end", "", length))
    return tokens


def _unexpected(text: str, position: int, tokens: list[Token]) -> str:
    """What is wrong at ``position``; a dot right after a name starts a name that is
    not a plain word (custom.2024, custom. ), which needs quotes."""
    found = text[position]
    last = tokens[-1] if tokens else None
    if found == "." and last is not None and last.kind == "name" \
            and last.position + len(last.text) == position:
        rest = _WORD.match(text, position + 1).group()  # type: ignore[union-attr]
        example = rest or "A Name"
        return (f"after {last.text + '.'!r} give a name: {last.text}.NAME, in quotes when it "
                f'is not a plain word (spaces, a leading digit): {last.text}."{example}"')
    return f"unexpected character {found!r}"


_WORD = re.compile(r"[^\s\"'()\[\],=!<>]{0,40}")


def condition_error(text: str, position: int, message: str) -> ConditionError:
    """A ConditionError whose message quotes at most a stretch of a long condition
    around the problem (``text`` and ``position`` stay whole on the error)."""
    error = ConditionError(text, position, message)
    if len(text) > 200:
        start = max(0, position - 60)
        shown = ("…" if start else "") + text[start:position + 60] + \
            ("…" if position + 60 < len(text) else "")
        error.args = (f"{message} (at column {position + 1} of {shown!r})",)
    return error
