"""The rule condition language: a small, safe expression syntax compiled to closures.

No ``eval``: text is tokenised, parsed by recursive descent and turned into plain
Python functions of ``(contact, facts)``. Grammar::

    condition  := or_expr
    or_expr    := and_expr ("or" and_expr)*
    and_expr   := not_expr ("and" not_expr)*
    not_expr   := "not" not_expr | comparison
    comparison := operand [OP operand]
    OP         := == | != | < | <= | > | >= | in | not in | contains | matches
    operand    := NUMBER | "quoted text" | 'quoted text' | NAME | [operand, ...] | ( or_expr )

A NAME is a contact field (``need``, ``title``), a fact (``bant``, ``fit``,
``count.webinar``), or one of ``true``, ``false``, ``none``, ``always``. On the
right of a comparison a bare word that is not a known name is a literal text, so
``need == yes`` and ``source in [trade_show, referral]`` read naturally; a literal
compared with a field of fixed choices must be one of them, which catches typos.
``matches`` takes a regular expression, case-insensitive. A missing value (none)
makes every ordering comparison false.
"""

from __future__ import annotations

import difflib
import operator
import re
from dataclasses import dataclass
from typing import Any, Callable

from funnel.engine.errors import ConditionError

Predicate = Callable[[dict, dict], bool]
Getter = Callable[[dict, dict], Any]

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<number>-?\d+(?:\.\d+)?)(?![\w.])
      | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
      | (?P<op>==|!=|<=|>=|<|>|\[|\]|\(|\)|,)
      | (?P<name>[A-Za-z_][\w\-]*(?:\.[A-Za-z_][\w\-]*)*)
    )""",
    re.VERBOSE,
)

MAX_NESTING = 32
_KEYWORDS = {"and", "or", "not", "in", "contains", "matches"}
_CONSTANTS = {"true": True, "false": False, "none": None, "always": True}


@dataclass(frozen=True)
class Token:
    kind: str  # number, string, op, name, end
    text: str
    position: int
    value: Any = None


@dataclass(frozen=True)
class Name:
    """What the compiler knows about one name a condition may use.

    ``access`` says where the value lives, so common comparisons compile to one
    fused closure instead of a chain of calls (classify runs 100,000 times per
    rules change): ("contact", key), ("facts", key) or ("facts", map, key, default).
    """

    getter: Getter
    choices: tuple[str, ...] = ()
    access: tuple = ()
    numeric: bool = False


class Vocabulary:
    """The names available to one kind of condition, with their getters."""

    def __init__(self, names: dict[str, Name], prefixes: dict[str, Callable[[str], Name | None]]
                 | None = None) -> None:
        self._names = names
        self._prefixes = prefixes or {}

    def lookup(self, name: str) -> Name | None:
        if name in self._names:
            return self._names[name]
        prefix, _, rest = name.partition(".")
        if rest and prefix in self._prefixes:
            return self._prefixes[prefix](rest)
        return None

    def known(self) -> list[str]:
        return sorted(self._names) + [f"{prefix}.<kind>" for prefix in sorted(self._prefixes)]


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


class _Parser:
    def __init__(self, text: str, vocabulary: Vocabulary) -> None:
        self.text = text
        self.vocabulary = vocabulary
        self.tokens = tokenize(text)
        self.index = 0
        self.names_used: set[str] = set()
        self.depth = 0
        self.last_name: Name | None = None

    # -- token helpers -------------------------------------------------
    def peek(self) -> Token:
        return self.tokens[self.index]

    def take(self) -> Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def is_word(self, word: str, offset: int = 0) -> bool:
        token = self.tokens[min(self.index + offset, len(self.tokens) - 1)]
        return token.kind == "name" and token.text.lower() == word

    def fail(self, token: Token, message: str) -> ConditionError:
        return ConditionError(self.text, token.position, message)

    def expect_op(self, op: str) -> None:
        token = self.take()
        if token.kind != "op" or token.text != op:
            raise self.fail(token, f"expected {op!r}, found {token.text or 'the end'!r}")

    # -- grammar -------------------------------------------------------
    def parse(self) -> Predicate:
        if self.peek().kind == "end":
            raise self.fail(self.peek(), "the condition is empty")
        predicate = self.or_expr()
        if self.peek().kind != "end":
            raise self.fail(self.peek(), f"unexpected {self.peek().text!r}")
        return predicate

    def or_expr(self) -> Predicate:
        parts = [self.and_expr()]
        while self.is_word("or"):
            self.take()
            parts.append(self.and_expr())
        if len(parts) == 1:
            return parts[0]
        return _fold_or(parts)

    def and_expr(self) -> Predicate:
        parts = [self.not_expr()]
        while self.is_word("and"):
            self.take()
            parts.append(self.not_expr())
        if len(parts) == 1:
            return parts[0]
        return _fold_and(parts)

    def not_expr(self) -> Predicate:
        if self.is_word("not") and not self.is_word("in", 1):
            token = self.take()
            self.enter(token)
            inner = self.not_expr()
            self.depth -= 1
            return lambda c, f: not inner(c, f)
        return self.comparison()

    def enter(self, token: Token) -> None:
        # Deep nesting is never needed in a rule; refusing it keeps the parser's
        # recursion (and the closures' call depth) far from Python's limit.
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise self.fail(token, f"nested more than {MAX_NESTING} levels deep")

    def comparison(self) -> Predicate:
        left_token = self.peek()
        self.last_name = None
        left, left_choices = self.operand(literal_ok=False)
        left_name = self.last_name
        token = self.peek()
        op = None
        if token.kind == "op" and token.text in ("==", "!=", "<", "<=", ">", ">="):
            op = self.take().text
        elif self.is_word("not") and self.is_word("in", 1):
            self.take()
            self.take()
            op = "not in"
        elif token.kind == "name" and token.text.lower() in ("in", "contains", "matches"):
            op = self.take().text.lower()
        if op is None:
            if isinstance(left, _Constant):
                value = left.value
                return lambda c, f: bool(value)
            return lambda c, f: bool(left(c, f))
        right_token = self.peek()
        right, _ = self.operand(literal_ok=True)
        self.check_choices(left_choices, right, right_token, op)
        if left_name is not None and isinstance(right, _Constant):
            fused = _fused(op, left_name, right.value)
            if fused is not None:
                return fused
        return self.build(op, left, right, left_token, right_token)

    def operand(self, literal_ok: bool) -> tuple[Getter, tuple[str, ...]]:
        token = self.take()
        if token.kind in ("number", "string"):
            return _Constant(token.value), ()
        if token.kind == "op" and token.text == "(":
            self.enter(token)
            inner = self.or_expr()
            self.expect_op(")")
            self.depth -= 1
            return (lambda c, f: inner(c, f)), ()
        if token.kind == "op" and token.text == "[":
            self.enter(token)
            items: list[Any] = []
            while not (self.peek().kind == "op" and self.peek().text == "]"):
                item, _ = self.operand(literal_ok=True)
                if not isinstance(item, _Constant):
                    raise self.fail(self.tokens[self.index - 1], "lists may hold only values")
                items.append(item.value)
                if self.peek().kind == "op" and self.peek().text == ",":
                    self.take()
                elif not (self.peek().kind == "op" and self.peek().text == "]"):
                    raise self.fail(self.peek(), "expected ',' or ']' in the list")
            self.take()
            self.depth -= 1
            return _Constant(tuple(items)), ()
        if token.kind == "name":
            lowered = token.text.lower()
            if lowered in _CONSTANTS:
                return _Constant(_CONSTANTS[lowered]), ()
            if lowered in _KEYWORDS:
                raise self.fail(token, f"{token.text!r} needs a value before it")
            name = self.vocabulary.lookup(token.text)
            if name is not None:
                self.names_used.add(token.text)
                self.last_name = name
                return name.getter, name.choices
            if literal_ok:
                return _Constant(token.text), ()
            known = self.vocabulary.known()
            close = difflib.get_close_matches(token.text, known, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise self.fail(token, f"unknown name {token.text!r}{hint}; known names: "
                            + ", ".join(known))
        raise self.fail(token, f"expected a value, found {token.text or 'the end'!r}")

    def check_choices(self, choices: tuple[str, ...], right: Getter, token: Token,
                      op: str) -> None:
        if not choices or not isinstance(right, _Constant):
            return
        values = right.value if isinstance(right.value, tuple) else (right.value,)
        if op in ("contains", "matches"):  # a pattern or a part, not one of the choices
            return
        for value in values:
            if value is not None and value not in choices:
                raise self.fail(token, f"{value!r} is not a possible value here; use one of "
                                + ", ".join(choices))

    def build(self, op: str, left: Getter, right: Getter, left_token: Token,
              right_token: Token) -> Predicate:
        if op == "matches":
            if not isinstance(right, _Constant) or not isinstance(right.value, str):
                raise self.fail(right_token, "matches needs a quoted regular expression")
            try:
                pattern = re.compile(right.value, re.IGNORECASE)
            except (re.error, OverflowError, RecursionError, ValueError) as error:
                raise self.fail(right_token, f"bad regular expression: {error}") from None
            return _regex_test(pattern, left)
        if op in ("in", "not in") and isinstance(right, _Constant):
            if not isinstance(right.value, tuple):
                raise self.fail(right_token, f"{op} needs a list such as [a, b]")
            if op == "in":
                return lambda c, f: _membership(left(c, f), right.value)
            return lambda c, f: not _membership(left(c, f), right.value)
        compare = _COMPARE[op]
        if isinstance(right, _Constant):
            value = right.value
            return lambda c, f: compare(left(c, f), value)
        return lambda c, f: compare(left(c, f), right(c, f))


def _fold_or(parts: list[Predicate]) -> Predicate:
    # Nested two-way closures: cheaper per call than any() over a generator.
    first, rest = parts[0], parts[1:]
    second = rest[0] if len(rest) == 1 else _fold_or(rest)
    return lambda c, f: first(c, f) or second(c, f)


def _fold_and(parts: list[Predicate]) -> Predicate:
    first, rest = parts[0], parts[1:]
    second = rest[0] if len(rest) == 1 else _fold_and(rest)
    return lambda c, f: first(c, f) and second(c, f)


class _Constant:
    """A literal operand; also callable so it can stand where a getter is expected."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __call__(self, contact: dict, facts: dict) -> Any:
        return self.value


def _regex_test(pattern: re.Pattern, left: Getter) -> Predicate:
    search = pattern.search
    seen: dict[str, bool] = {}  # titles and the like repeat a lot; search each once

    def test(contact: dict, facts: dict) -> bool:
        value = left(contact, facts)
        if value is None:
            return False
        if isinstance(value, list):
            return any(search(str(item)) is not None for item in value)
        if not isinstance(value, str):
            value = str(value)
        found = seen.get(value)
        if found is None:
            if len(seen) > 50_000:
                seen.clear()
            found = seen[value] = search(value) is not None
        return found
    return test


_FUSED_ORDER = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}


def _fused(op: str, name: Name, value: Any) -> Predicate | None:
    """One closure for `name OP constant` where the value's home is known."""
    if not name.access:
        return None
    where, key, *rest = name.access
    if where == "contact":
        def get(c: dict, f: dict) -> Any: return c.get(key)
    elif not rest:
        def get(c: dict, f: dict) -> Any: return f.get(key)
    else:
        inner, default = rest
        if op in _FUSED_ORDER and default is not None and isinstance(value, (int, float)) \
                and not isinstance(value, bool):
            compare = _FUSED_ORDER[op]
            return lambda c, f: compare(f[key].get(inner, default), value)
        def get(c: dict, f: dict) -> Any: return f[key].get(inner, default)
    if op == "==" and where == "contact":
        return lambda c, f: c.get(key) == value
    if op == "==" and not rest:
        return lambda c, f: f.get(key) == value
    if op == "!=" and where == "contact":
        return lambda c, f: c.get(key) != value
    if op in _FUSED_ORDER and name.numeric and isinstance(value, (int, float)) \
            and not isinstance(value, bool):
        compare = _FUSED_ORDER[op]
        if where == "contact":
            return lambda c, f: (x := c.get(key)) is not None and compare(x, value)
        if not rest:
            return lambda c, f: (x := f.get(key)) is not None and compare(x, value)
        return lambda c, f: (x := get(c, f)) is not None and compare(x, value)
    if op in ("in", "not in") and isinstance(value, tuple):
        members = frozenset(value)
        if where == "contact":
            def member(c: dict, f: dict) -> bool:
                found = c.get(key)
                if isinstance(found, list):  # tags: any of them is in the list
                    return any(item in members for item in found)
                return found in members
            if op == "in":
                return member
            return lambda c, f: not member(c, f)
    return None


def _ordered(test: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    def compare(left: Any, right: Any) -> bool:
        if left is None or right is None:
            return False
        try:
            return test(left, right)
        except TypeError:
            return False
    return compare


def _contains(container: Any, item: Any) -> bool:
    if container is None:
        return False
    if isinstance(container, str):
        return isinstance(item, str) and item.lower() in container.lower()
    if isinstance(item, str) and isinstance(container, (list, tuple)):
        wanted = item.casefold()  # tags are stored lowercase; VIP finds vip
        return any(isinstance(one, str) and one.casefold() == wanted for one in container)
    try:
        return item in container
    except TypeError:
        return False


def _membership(item: Any, container: Any) -> bool:
    if isinstance(item, list):  # a list field is "in" a list when any of its items is
        return any(_contains(container, one) for one in item)
    return _contains(container, item)


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": _ordered(lambda a, b: a < b),
    "<=": _ordered(lambda a, b: a <= b),
    ">": _ordered(lambda a, b: a > b),
    ">=": _ordered(lambda a, b: a >= b),
    "contains": _contains,
    "in": _membership,
    "not in": lambda a, b: not _membership(a, b),
}


@dataclass(frozen=True)
class Condition:
    """A compiled condition; ``text`` is kept for explanations and saving."""

    text: str
    test: Predicate
    names: frozenset[str]

    def __call__(self, contact: dict, facts: dict) -> bool:
        return self.test(contact, facts)


def compile_condition(text: Any, vocabulary: Vocabulary) -> Condition:
    """Compile condition text; raises ConditionError with the position of the problem."""
    if isinstance(text, bool):
        text = "true" if text else "false"
    if not isinstance(text, str):
        raise ConditionError(str(text), 0, "a condition must be text such as 'need == yes'")
    parser = _Parser(text, vocabulary)
    return Condition(text, parser.parse(), frozenset(parser.names_used))
