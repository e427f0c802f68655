"""Reading the regular expressions of ``matches``: a subset of Python's syntax, compiled
to a small program for the linear-time matcher in ``pattern_match``.

Supported (what rules use): literal characters and escapes (``\\.``, ``\\n``, ``\\t``,
``\\xhh``, ``\\uhhhh``, ``\\N{name}``), ``.``, classes ``[a-z]`` ``[^,]`` with ``\\d \\w \\s``
and their negations, anchors ``^ $ \\A \\Z``, word boundaries ``\\b \\B``, groups ``(...)``
``(?:...)`` ``(?P<name>...)``, comments ``(?#...)``, alternation ``|`` and the
quantifiers ``* + ? {n} {n,} {n,m} {,m}`` (lazy forms too: for a yes/no search they
mean the same). Refused, each with a message: backreferences and lookarounds (no
linear-time matcher can have them), inline flags (matching is already case-insensitive),
atomic groups and possessive quantifiers.

Limits: a pattern of at most ``MAX_PATTERN`` characters, groups nested at most
``MAX_GROUPS`` deep (the reader recurses once per group), and a program of at most
``MAX_STEPS`` steps once counted repeats are written out (``(a{1000}){1000}`` is refused).

The program is a list of steps ``[op, arg, next, other]``: ``CHAR`` (``arg`` tests one
character), ``SPLIT`` (go on at ``next`` and at ``other``), ``JUMP``, ``ASSERT`` (``arg``
is one of ``^ $ A Z b B``) and ``MATCH``.
"""

from __future__ import annotations

import unicodedata
from typing import Any, Callable

MAX_PATTERN = 1_000
MAX_GROUPS = 50
MAX_STEPS = 5_000

CHAR, SPLIT, JUMP, ASSERT, MATCH = range(5)

CharTest = Callable[[str], bool]
Node = tuple[Any, ...]


class PatternError(ValueError):
    """A pattern that cannot be read or is outside the supported subset."""

    def __init__(self, message: str, position: int) -> None:
        super().__init__(f"{message} at position {position}")
        self.position = position


def is_word(char: str) -> bool:
    return char.isalnum() or char == "_"


_CATEGORIES: dict[str, CharTest] = {
    "d": str.isdecimal, "D": lambda c: not c.isdecimal(),
    "w": is_word, "W": lambda c: not is_word(c),
    "s": str.isspace, "S": lambda c: not c.isspace(),
}
_SIMPLE_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "f": "\f", "v": "\v", "a": "\a"}
_HEX_DIGITS = {"x": 2, "u": 4, "U": 8}


def _literal(char: str) -> CharTest:
    forms = {char, char.lower(), char.upper()}
    return lambda c: c in forms or c.lower() in forms or c.upper() in forms


def _any_but_newline(c: str) -> bool:
    return c != "\n"


def _class(ranges: list[tuple[str, str]], categories: list[CharTest], negated: bool
           ) -> CharTest:
    def hit(c: str) -> bool:
        return any(low <= c <= high for low, high in ranges) or \
            any(test(c) for test in categories)

    def test(c: str) -> bool:  # case-insensitive, like re.IGNORECASE
        return (hit(c) or hit(c.lower()) or hit(c.upper())) != negated
    return test


class _Reader:
    def __init__(self, pattern: str) -> None:
        self.text = pattern
        self.at = 0
        self.groups = 0

    def fail(self, message: str, position: int | None = None) -> PatternError:
        return PatternError(message, self.at if position is None else position)

    def peek(self) -> str:
        return self.text[self.at] if self.at < len(self.text) else ""

    def take(self) -> str:
        char = self.peek()
        self.at += 1
        return char

    def alternation(self) -> Node:
        options = [self.sequence()]
        while self.peek() == "|":
            self.at += 1
            options.append(self.sequence())
        return options[0] if len(options) == 1 else ("alt", options)

    def sequence(self) -> Node:
        items: list[Node] = []
        while self.peek() not in ("", "|", ")"):
            start = self.at
            atom = self.atom()
            if atom is None:  # a comment
                continue
            items.append(self.quantified(atom, start))
        return ("cat", items)

    def quantified(self, atom: Node, start: int) -> Node:
        bounds = self.quantifier()
        if bounds is None:
            return atom
        if atom[0] == "assert":
            raise self.fail("nothing to repeat", start)
        if self.peek() == "?":  # lazy: the same yes/no answer
            self.at += 1
        elif self.peek() == "+":
            raise self.fail("possessive quantifiers are not supported")
        if self.peek() in ("*", "+", "?") or self.quantifier_ahead():
            raise self.fail("multiple repeat")
        low, high = bounds
        if high is not None and high < low:
            raise self.fail("min repeat greater than max repeat", start)
        return ("repeat", atom, low, high)

    def quantifier_ahead(self) -> bool:
        saved = self.at
        found = self.peek() == "{" and self.quantifier() is not None
        self.at = saved
        return found

    def quantifier(self) -> tuple[int, int | None] | None:
        char = self.peek()
        if char in ("*", "+", "?"):
            self.at += 1
            return {"*": (0, None), "+": (1, None), "?": (0, 1)}[char]
        if char != "{":
            return None
        end = self.text.find("}", self.at)
        body = self.text[self.at + 1:end] if end > 0 else ""
        low, comma, high = body.partition(",")
        if end < 0 or not (low or high) or not (low.isdigit() or not low) or \
                not (high.isdigit() or not high) or not body.isascii():
            return None  # not a quantifier: '{' is a literal, as in Python
        self.at = end + 1
        if len(low) > 9 or len(high) > 9:
            raise self.fail("repeat count too large")
        minimum = int(low) if low else 0
        return minimum, (int(high) if high else None) if comma else minimum

    def atom(self) -> Node | None:
        start = self.at
        char = self.take()
        if char == "(":
            return self.group(start)
        if char == "[":
            return ("char", self.char_class(start))
        if char == ".":
            return ("char", _any_but_newline)
        if char in ("^", "$"):
            return ("assert", char)
        if char in ("*", "+", "?") or (char == "{" and self.quantifier_after(start)):
            raise self.fail("nothing to repeat", start)
        if char == "\\":
            return self.escape(start)
        return ("char", _literal(char))

    def quantifier_after(self, start: int) -> bool:
        self.at = start
        found = self.quantifier() is not None
        self.at = start + 1
        return found

    def group(self, start: int) -> Node | None:
        if self.text.startswith("?#", self.at):
            end = self.text.find(")", self.at)
            if end < 0:
                raise self.fail("missing ), unterminated comment", start)
            self.at = end + 1
            return None
        if self.text.startswith("?", self.at):
            self.prefix(start)
        self.groups += 1
        if self.groups > MAX_GROUPS:
            raise self.fail(f"groups nested more than {MAX_GROUPS} deep", start)
        inner = self.alternation()
        self.groups -= 1
        if self.take() != ")":
            raise self.fail("missing ), unterminated subpattern", start)
        return inner

    def prefix(self, start: int) -> None:
        rest = self.text[self.at:self.at + 4]
        if rest.startswith("?:"):
            self.at += 2
        elif rest.startswith("?P<"):
            end = self.text.find(">", self.at)
            name = self.text[self.at + 3:end] if end > 0 else ""
            if not name.isidentifier():
                raise self.fail("bad group name", start)
            self.at = end + 1
        elif rest.startswith(("?=", "?!", "?<=", "?<!")):
            raise self.fail("lookarounds ((?=...), (?!...), (?<=...), (?<!...)) are not "
                            "supported", start)
        elif rest.startswith("?P="):
            raise self.fail("backreferences ((?P=name)) are not supported", start)
        elif rest.startswith("?>"):
            raise self.fail("atomic groups are not supported", start)
        elif rest.startswith("?("):
            raise self.fail("conditional groups are not supported", start)
        else:
            raise self.fail("inline flags and other (?...) groups are not supported "
                            "(matching is already case-insensitive)", start)

    def escape(self, start: int) -> Node:
        char = self.take()
        if char in _CATEGORIES:
            return ("char", _CATEGORIES[char])
        if char in ("b", "B", "A", "Z"):
            return ("assert", char)
        if char.isdigit() and char != "0":
            raise self.fail(f"backreferences (\\{char}) are not supported", start)
        return ("char", _literal(self.escaped_char(char, start)))

    def escaped_char(self, char: str, start: int) -> str:
        """The character an escape stands for (outside or inside a class)."""
        if char == "":
            raise self.fail("bad escape (end of pattern)", start)
        if char in _SIMPLE_ESCAPES:
            return _SIMPLE_ESCAPES[char]
        if char == "0":
            digits = char
            while len(digits) < 3 and self.peek() in "01234567" and self.peek():
                digits += self.take()
            return chr(int(digits, 8))
        if char in _HEX_DIGITS:
            digits = self.text[self.at:self.at + _HEX_DIGITS[char]]
            if len(digits) != _HEX_DIGITS[char] or \
                    not all(d in "0123456789abcdefABCDEF" for d in digits):
                raise self.fail(f"incomplete escape \\{char}{digits}", start)
            self.at += len(digits)
            if int(digits, 16) > 0x10FFFF:
                raise self.fail(f"bad escape \\{char}{digits}", start)
            return chr(int(digits, 16))
        if char == "N":
            end = self.text.find("}", self.at)
            if self.peek() != "{" or end < 0:
                raise self.fail("missing {name} after \\N", start)
            try:
                found = unicodedata.lookup(self.text[self.at + 1:end])
            except KeyError:
                raise self.fail("undefined character name", start) from None
            self.at = end + 1
            return found
        if char.isascii() and char.isalnum():
            raise self.fail(f"bad escape \\{char}", start)
        return char

    def char_class(self, start: int) -> CharTest:
        negated = self.peek() == "^"
        if negated:
            self.at += 1
        ranges: list[tuple[str, str]] = []
        categories: list[CharTest] = []
        first = True
        while True:
            char = self.take()
            if char == "":
                raise self.fail("unterminated character set", start)
            if char == "]" and not first:
                break
            first = False
            if char == "\\":
                code = self.take()
                if code in _CATEGORIES:
                    categories.append(_CATEGORIES[code])
                    continue
                if code.isdigit() and code != "0":
                    raise self.fail(f"bad escape \\{code}", self.at - 2)
                char = "\b" if code == "b" else self.escaped_char(code, self.at - 2)
            if self.peek() == "-" and self.text[self.at + 1:self.at + 2] not in ("]", ""):
                self.at += 1
                high = self.take()
                if high == "\\":
                    code = self.take()
                    if code in _CATEGORIES:
                        raise self.fail("bad character range", start)
                    high = "\b" if code == "b" else self.escaped_char(code, self.at - 2)
                if high < char:
                    raise self.fail(f"bad character range {char}-{high}", start)
                ranges.append((char, high))
            else:
                ranges.append((char, char))
        return _class(ranges, categories, negated)


class _Emitter:
    def __init__(self) -> None:
        self.program: list[list[Any]] = []

    def add(self, op: int, arg: Any = None, other: int = -1) -> int:
        if len(self.program) >= MAX_STEPS:
            raise PatternError(f"too large once its repeats are written out (more than "
                               f"{MAX_STEPS:,} steps); use smaller counts in {{m,n}}", 0)
        self.program.append([op, arg, len(self.program) + 1, other])
        return len(self.program) - 1

    def emit(self, node: Node) -> None:
        kind = node[0]
        if kind == "char":
            self.add(CHAR, node[1])
        elif kind == "assert":
            self.add(ASSERT, "A" if node[1] == "^" else node[1])
        elif kind == "cat":
            for item in node[1]:
                self.emit(item)
        elif kind == "alt":
            jumps = []
            for option in node[1][:-1]:
                split = self.add(SPLIT)
                self.emit(option)
                jumps.append(self.add(JUMP))
                self.program[split][3] = len(self.program)
            self.emit(node[1][-1])
            for jump in jumps:
                self.program[jump][2] = len(self.program)
        else:
            self.repeat(node[1], node[2], node[3])

    def repeat(self, item: Node, low: int, high: int | None) -> None:
        for _ in range(low):
            self.emit(item)
        if high is None:
            loop = self.add(SPLIT)
            self.emit(item)
            self.program[self.add(JUMP)][2] = loop
            self.program[loop][3] = len(self.program)
            return
        splits = []
        for _ in range(high - low):
            splits.append(self.add(SPLIT))
            self.emit(item)
        for split in splits:
            self.program[split][3] = len(self.program)


def compile_pattern(pattern: str) -> list[list[Any]]:
    """The program for ``pattern``; PatternError if it is unreadable or unsupported."""
    if len(pattern) > MAX_PATTERN:
        raise PatternError(f"patterns may be at most {MAX_PATTERN:,} characters long", 0)
    reader = _Reader(pattern)
    tree = reader.alternation()
    if reader.at < len(pattern):
        raise reader.fail("unbalanced parenthesis")
    emitter = _Emitter()
    emitter.emit(tree)
    emitter.add(MATCH)
    return emitter.program
