"""The tokenizer of the rule condition language: numbers, quoted text, operators, names."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from funnel.engine.errors import ConditionError

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<number>-?\d+(?:\.\d+)?)(?![\w.])
      | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
      | (?P<op>==|!=|<=|>=|<|>|\[|\]|\(|\)|,)
      | (?P<name>[A-Za-z_][\w\-]*(?:\.[A-Za-z_][\w\-]*)*)
    )""",
    re.VERBOSE,
)


@dataclass(frozen=True)
class Token:
    kind: str  # number, string, op, name, end
    text: str
    position: int
    value: Any = None


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    position = 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN.match(text, position)
        if not match or match.end() == position:
            start = position + (len(text[position:]) - len(text[position:].lstrip()))
            raise ConditionError(text, start, f"unexpected character {text[start]!r}")
        kind = match.lastgroup or ""
        raw = match.group(kind)
        start = match.start(kind)
        value: Any = None
        if kind == "number":
            value = float(raw) if "." in raw else int(raw)
        elif kind == "string":
            # Only quotes and backslashes are escaped, so regex escapes like \b stay.
            value = re.sub(r"\\([\"'\\])", r"\1", raw[1:-1])
        tokens.append(Token(kind, raw, start, value))
        position = match.end()
    tokens.append(Token("end", "", len(text)))
    return tokens
