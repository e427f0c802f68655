"""What a rule condition compiles to: plain closures of ``(contact, facts)``.

The parser (``conditions``) picks these; they decide what each operator means for
missing values, lists and text, and fuse the common comparisons into one closure.
"""

from __future__ import annotations

import operator
from typing import Any, Callable

from funnel.engine.rules.condition_names import Getter, Name, Predicate
from funnel.engine.rules.pattern_match import LinearPattern


class Constant:
    """A literal operand; also callable so it can stand where a getter is expected."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __call__(self, contact: dict, facts: dict) -> Any:
        return self.value


def fold_or(parts: list[Predicate]) -> Predicate:
    # Two or three parts: one closure (cheaper per call than a loop); more: one loop, so
    # a chain of thousands of `or` neither recurses when built nor when called.
    if len(parts) == 2:
        first, second = parts
        return lambda c, f: first(c, f) or second(c, f)
    if len(parts) == 3:
        first, second, third = parts
        return lambda c, f: first(c, f) or second(c, f) or third(c, f)
    members = tuple(parts)

    def any_part(c: dict, f: dict) -> bool:
        for part in members:
            if part(c, f):
                return True
        return False
    return any_part


def fold_and(parts: list[Predicate]) -> Predicate:
    if len(parts) == 2:
        first, second = parts
        return lambda c, f: first(c, f) and second(c, f)
    if len(parts) == 3:
        first, second, third = parts
        return lambda c, f: first(c, f) and second(c, f) and third(c, f)
    members = tuple(parts)

    def every_part(c: dict, f: dict) -> bool:
        for part in members:
            if not part(c, f):
                return False
        return True
    return every_part


def regex_test(pattern: LinearPattern, left: Getter) -> Predicate:
    search = pattern.search  # linear in the text, whatever the pattern (pattern_match)
    seen: dict[str, bool] = {}  # titles and the like repeat a lot; search each once

    def test(contact: dict, facts: dict) -> bool:
        value = left(contact, facts)
        if value is None:
            return False
        if isinstance(value, list):
            return any(search(str(item)) for item in value)
        if not isinstance(value, str):
            value = str(value)
        found = seen.get(value)
        if found is None:
            if len(seen) > 50_000:
                seen.clear()
            found = seen[value] = search(value)
        return found
    return test


_FUSED_ORDER = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}


def fused(op: str, name: Name, value: Any) -> Predicate | None:
    """One closure for `name OP constant` where the value's home is known."""
    if not name.access or name.access[0] == "custom":  # its getter reads the value
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


def membership(item: Any, container: Any) -> bool:
    if isinstance(item, list):  # a list field is "in" a list when any of its items is
        return any(_contains(container, one) for one in item)
    return _contains(container, item)


COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": _ordered(lambda a, b: a < b),
    "<=": _ordered(lambda a, b: a <= b),
    ">": _ordered(lambda a, b: a > b),
    ">=": _ordered(lambda a, b: a >= b),
    "contains": _contains,
    "in": membership,
    "not in": lambda a, b: not membership(a, b),
}
