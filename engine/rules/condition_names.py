"""The names a rule condition may use: each with its getter and, if fixed, its choices."""

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
