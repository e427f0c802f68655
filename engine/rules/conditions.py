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
``count.webinar``), a custom field (``custom.City``, or ``custom."Lead Quality"``
when its name is not a plain word: see ``custom_fields``), or one of ``true``,
``false``, ``none``, ``always``. On the
right of a comparison a bare word that is not a known name is a literal text, so
``need == yes`` and ``source in [trade_show, referral]`` read naturally; a literal
compared with a field of fixed choices must be one of them, which catches typos.
``matches`` takes a regular expression, case-insensitive. A missing value (none)
makes every ordering comparison false.

Here lives the parser and ``compile_condition``; ``condition_tokens`` splits the text,
``condition_names`` says which names exist, ``condition_eval`` holds the closures. The
parser builds a small tree (``condition_names.Node``) whose nodes carry their closures:
the per-contact path calls the root's, and ``engine.columns`` evaluates the same tree
over all contacts at once.

Limits, so a hostile rules file gets a ConditionError, never a hang or a crash: a
condition is at most ``MAX_LENGTH`` characters; parentheses, ``not`` and lists nest at
most ``MAX_NESTING`` levels (the parser recurses once per level, and so do the
closures); a list holds at most ``MAX_LIST`` values; numbers have at most 15 digits
before and after the point. A chain of ``and`` (or ``or``) is one node that tests its
parts in a loop, however long. The tokenizer makes one pass over the text.

Regular expressions (``matches``) are never run by Python's backtracking ``re``: a
pattern such as ``^(a+)+$`` made it try 2^n ways on a text of n letters. They are read
by ``pattern_syntax`` (a subset of Python's syntax: no backreferences, lookarounds or
inline flags, each refused with a message; at most 1,000 characters) and searched by
``pattern_match`` in time linear in the text, whatever the pattern.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any

from funnel.engine.errors import ConditionError
from funnel.engine.rules.condition_eval import (COMPARE, Constant, fold_and, fold_or, fused,
                                                membership, regex_test)
from funnel.engine.rules.condition_names import Name, Node, Predicate, Vocabulary, node
from funnel.engine.rules.condition_tokens import Token, condition_error, tokenize
from funnel.engine.rules.custom_fields import CUSTOM_PREFIX, custom_literal
from funnel.engine.rules.pattern_match import LinearPattern
from funnel.engine.rules.pattern_syntax import PatternError

MAX_LENGTH = 10_000
MAX_NESTING = 50
MAX_LIST = 1_000
_KEYWORDS = {"and", "or", "not", "in", "contains", "matches"}
_CONSTANTS = {"true": True, "false": False, "none": None, "always": True}


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
        return condition_error(self.text, token.position, message)

    def expect_op(self, op: str) -> None:
        token = self.take()
        if token.kind != "op" or token.text != op:
            raise self.fail(token, f"expected {op!r}, found {token.text or 'the end'!r}")

    # -- grammar -------------------------------------------------------
    def parse(self) -> Node:
        if self.peek().kind == "end":
            raise self.fail(self.peek(), "the condition is empty")
        predicate = self.or_expr()
        if self.peek().kind != "end":
            raise self.fail(self.peek(), f"unexpected {self.peek().text!r}")
        return predicate

    def or_expr(self) -> Node:
        parts = [self.and_expr()]
        while self.is_word("or"):
            self.take()
            parts.append(self.and_expr())
        if len(parts) == 1:
            return parts[0]
        return node("or", fold_or([part.test for part in parts]), tuple(parts))

    def and_expr(self) -> Node:
        parts = [self.not_expr()]
        while self.is_word("and"):
            self.take()
            parts.append(self.not_expr())
        if len(parts) == 1:
            return parts[0]
        return node("and", fold_and([part.test for part in parts]), tuple(parts))

    def not_expr(self) -> Node:
        if self.is_word("not") and not self.is_word("in", 1):
            token = self.take()
            self.enter(token)
            inner_node = self.not_expr()
            self.depth -= 1
            inner = inner_node.test
            return node("not", lambda c, f: not inner(c, f), (inner_node,))
        return self.comparison()

    def enter(self, token: Token) -> None:
        # Deep nesting is never needed in a rule; refusing it keeps the parser's
        # recursion (and the closures' call depth) far from Python's limit.
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise self.fail(token, f"nested more than {MAX_NESTING} levels deep")

    def comparison(self) -> Node:
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
            if left.kind == "const":
                value = left.value
                return node("truth", lambda c, f: bool(value), (left,))
            get = left.test
            return node("truth", lambda c, f: bool(get(c, f)), (left,))
        right_token = self.peek()
        self.last_name = None
        right, _ = self.operand(literal_ok=True)
        left, right = _custom_literals(op, left, right, left_name, self.last_name)
        self.check_choices(left_choices, right, right_token, op)
        if left_name is not None and right.kind == "const":
            one_closure = fused(op, left_name, right.value)
            if one_closure is not None:
                return node("compare", one_closure, (left, right), op)
        return self.build(op, left, right, left_token, right_token)

    def operand(self, literal_ok: bool) -> tuple[Node, tuple[str, ...]]:
        token = self.take()
        if token.kind in ("number", "string"):
            return _constant(token.value), ()
        if token.kind == "op" and token.text == "(":
            self.enter(token)
            inner = self.or_expr()
            self.expect_op(")")
            self.depth -= 1
            self.last_name = None  # a name inside is not this operand: no fused closure
            return inner, ()
        if token.kind == "op" and token.text == "[":
            self.enter(token)
            items: list[Any] = []
            while not (self.peek().kind == "op" and self.peek().text == "]"):
                item, _ = self.operand(literal_ok=True)
                if item.kind != "const":
                    raise self.fail(self.tokens[self.index - 1], "lists may hold only values")
                items.append(item.value)
                if len(items) > MAX_LIST:
                    raise self.fail(self.tokens[self.index - 1],
                                    f"a list may hold at most {MAX_LIST:,} values")
                if self.peek().kind == "op" and self.peek().text == ",":
                    self.take()
                elif not (self.peek().kind == "op" and self.peek().text == "]"):
                    raise self.fail(self.peek(), "expected ',' or ']' in the list")
            self.take()
            self.depth -= 1
            return _constant(tuple(items)), ()
        if token.kind == "name":
            lowered = token.text.lower()
            if lowered in _CONSTANTS:
                return _constant(_CONSTANTS[lowered]), ()
            if lowered in _KEYWORDS:
                raise self.fail(token, f"{token.text!r} needs a value before it")
            spelled = token.value if token.value is not None else token.text  # unquoted
            try:
                name = self.vocabulary.lookup(spelled)
            except ValueError as problem:  # a family's name it cannot be (custom."")
                raise self.fail(token, str(problem)) from None
            if name is not None:
                self.names_used.add(spelled)
                self.last_name = name
                return Node("name", name.getter, name=name,
                            reads=frozenset((name.access,))), name.choices
            if literal_ok and token.value is None:
                return _constant(token.text), ()
            known = self.vocabulary.known()
            close = difflib.get_close_matches(spelled, known, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise self.fail(token, f"unknown name {spelled!r}{hint}; known names: "
                            + ", ".join(known))
        raise self.fail(token, f"expected a value, found {token.text or 'the end'!r}")

    def check_choices(self, choices: tuple[str, ...], right: Node, token: Token,
                      op: str) -> None:
        if not choices or right.kind != "const":
            return
        values = right.value if isinstance(right.value, tuple) else (right.value,)
        if op in ("contains", "matches"):  # a pattern or a part, not one of the choices
            return
        for value in values:
            if value is not None and value not in choices:
                raise self.fail(token, f"{value!r} is not a possible value here; use one of "
                                + ", ".join(choices))

    def build(self, op: str, left_node: Node, right_node: Node, left_token: Token,
              right_token: Token) -> Node:
        parts = (left_node, right_node)
        left, right = left_node.test, right_node.test
        if op == "matches":
            if right_node.kind != "const" or not isinstance(right_node.value, str):
                raise self.fail(right_token, "matches needs a quoted regular expression")
            try:
                pattern = LinearPattern(right_node.value)
            except PatternError as error:
                raise self.fail(right_token, f"bad regular expression: {error}") from None
            return node("compare", regex_test(pattern, left), parts, op, pattern)
        if op in ("in", "not in") and right_node.kind == "const":
            values = right_node.value
            if not isinstance(values, tuple):
                raise self.fail(right_token, f"{op} needs a list such as [a, b]")
            if op == "in":
                return node("compare", lambda c, f: membership(left(c, f), values), parts, op)
            return node("compare", lambda c, f: not membership(left(c, f), values), parts, op)
        compare = COMPARE[op]
        if right_node.kind == "const":
            value = right_node.value
            return node("compare", lambda c, f: compare(left(c, f), value), parts, op)
        return node("compare", lambda c, f: compare(left(c, f), right(c, f)), parts, op)


def _constant(value: Any) -> Node:
    return Node("const", Constant(value), value=value)


def _custom_literals(op: str, left: Node, right: Node, left_name: Name | None,
                     right_name: Name | None) -> tuple[Node, Node]:
    """A literal compared with a custom field is read as the field is: quoted digits
    as the number (``custom.age == "34"``). Not for contains and matches, whose right
    side is a part of a text or a pattern."""
    if op in ("contains", "matches"):
        return left, right
    if left_name is not None and left_name.access[:1] == (CUSTOM_PREFIX,) \
            and right.kind == "const":
        return left, _constant(custom_literal(right.value))
    if right_name is not None and right_name.access[:1] == (CUSTOM_PREFIX,) \
            and left.kind == "const":
        return _constant(custom_literal(left.value)), right
    return left, right


@dataclass(frozen=True)
class Condition:
    """A compiled condition; ``text`` is kept for explanations and saving."""

    text: str
    test: Predicate
    names: frozenset[str]
    tree: Node | None = field(default=None, compare=False, repr=False)

    def __call__(self, contact: dict, facts: dict) -> bool:
        return self.test(contact, facts)


def compile_condition(text: Any, vocabulary: Vocabulary) -> Condition:
    """Compile condition text; raises ConditionError with the position of the problem."""
    if isinstance(text, bool):
        text = "true" if text else "false"
    if not isinstance(text, str):
        raise condition_error(str(text), 0, "a condition must be text such as 'need == yes'")
    if len(text) > MAX_LENGTH:
        raise condition_error(text, MAX_LENGTH, f"a condition may be at most {MAX_LENGTH:,} "
                              "characters long; split it into several rules")
    parser = _Parser(text, vocabulary)
    tree = parser.parse()
    return Condition(text, tree.test, frozenset(parser.names_used), tree)

