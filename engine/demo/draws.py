"""Random draws for the demo generator: weighted tables and cheap picks.

Every draw goes through the one ``random.Random`` a run is given, so the same
seed gives the same contacts.
"""

from __future__ import annotations

import random
from bisect import bisect_right
from typing import Generic, Sequence, TypeVar

T = TypeVar("T")


class Weighted(Generic[T]):
    """A weighted choice table: a pick is one ``random()`` and one bisect."""

    __slots__ = ("options", "cum", "total")

    def __init__(self, pairs: Sequence[tuple[T, float]]) -> None:
        self.options = tuple(item for item, _ in pairs)
        cum: list[float] = []
        total = 0.0
        for _, weight in pairs:
            total += weight
            cum.append(total)
        self.cum = tuple(cum)
        self.total = total

    def pick(self, rng: random.Random) -> T:
        # hi= keeps a float that rounds up to the total on the last option.
        return self.options[bisect_right(self.cum, rng.random() * self.total, 0,
                                         len(self.cum) - 1)]


# randint and choice each go through several Python-level calls; with a few
# hundred thousand draws per 10,000 contacts these plain forms are cheaper.
def between(rng: random.Random, low: int, high: int) -> int:
    """A whole number in [low, high]."""
    return low + int(rng.random() * (high - low + 1))


def one_of(rng: random.Random, options: Sequence[T]) -> T:
    """One of ``options``, each as likely."""
    return options[int(rng.random() * len(options))]
