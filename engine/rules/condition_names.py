"""The names a rule condition may use (each with its getter and, if fixed, its choices),
and the small tree a condition parses to (``Node``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

Predicate = Callable[[dict, dict], bool]
Getter = Callable[[dict, dict], Any]


@dataclass(frozen=True)
class Name:
    """What the compiler knows about one name a condition may use.

    ``access`` says where the value lives, so common comparisons compile to one
    fused closure instead of a chain of calls (classify runs 100,000 times per
    rules change): ("contact", key), ("facts", key), ("facts", map, key, default)
    or ("custom", name) for ``document["custom"][name]``.
    """

    getter: Getter
    choices: tuple[str, ...] = ()
    access: tuple = ()
    numeric: bool = False


@dataclass(frozen=True, eq=False)
class Node:
    """One part of a parsed condition, with the closure that computes it for one contact.

    ``kind`` is "const" (``value`` is the literal), "name" (``name``), "not", "and",
    "or" (``parts``), "truth" (``parts[0]`` taken as true or false) or "compare"
    (``op`` between ``parts[0]`` and ``parts[1]``; for "matches" ``value`` is the
    compiled pattern). ``test`` is what the per-contact path calls; ``reads`` holds
    the ``Name.access`` of every name below, so a column evaluator knows which
    columns a part depends on and may run ``test`` once per distinct combination.
    """

    kind: str
    test: Getter
    parts: tuple["Node", ...] = ()
    op: str = ""
    value: Any = None
    name: Name | None = None
    reads: frozenset = frozenset()


def node(kind: str, test: Getter, parts: tuple[Node, ...] = (), op: str = "",
         value: Any = None) -> Node:
    """A node over ``parts``; it reads what they read."""
    reads: frozenset = frozenset().union(*(part.reads for part in parts))
    return Node(kind, test, parts, op, value, None, reads)


class Vocabulary:
    """The names available to one kind of condition, with their getters.

    A prefix (``count``, ``custom``) names a family: ``prefix.REST`` asks its function,
    which gives the Name, None (no such name) or raises ValueError saying why REST
    cannot be one. ``placeholders`` says how ``known`` shows each family's REST.
    """

    def __init__(self, names: dict[str, Name], prefixes: dict[str, Callable[[str], Name | None]]
                 | None = None, placeholders: dict[str, str] | None = None) -> None:
        self._names = names
        self._prefixes = prefixes or {}
        self._placeholders = placeholders or {}

    def lookup(self, name: str) -> Name | None:
        if name in self._names:
            return self._names[name]
        prefix, dot, rest = name.partition(".")
        if dot and prefix in self._prefixes:
            return self._prefixes[prefix](rest)
        return None

    def known(self) -> list[str]:
        return sorted(self._names) + [f"{prefix}.<{self._placeholders.get(prefix, 'kind')}>"
                                      for prefix in sorted(self._prefixes)]
