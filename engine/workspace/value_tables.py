"""Per-distinct-value tables that filters and sorts reuse between keystrokes.

A column's dictionary of values only grows while its codes stay valid, so what is
derived from each distinct value (its lowered text, its moment in time, its rank in a
text order) is computed once and extended when new values appear; a new dictionary
(the columns were built again) starts afresh. At 100,000 contacts that turns a filter
from 100,000 string operations per keystroke into a few array gathers.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from funnel.engine.columns.encoded import Coded
from funnel.engine.columns.moments import micro_table
from funnel.engine.model import parse_datetime

_LAST = "\U0010ffff"  # sorts after any text: missing values go last
SEARCHES_KEPT = 4  # per column: a bool per distinct value each (4 MB at 1,000,000)


def lowered_text(value: Any) -> str:
    """What text search and prefix terms compare: the value as lower-case text."""
    if value is None:
        return ""
    if isinstance(value, list):
        return " ".join(str(item) for item in value).lower()
    text = str(value)
    lowered = text.lower()
    # The value itself when it is lower-case already (most e-mail addresses): a copy of
    # each would double what a million addresses take.
    return text if lowered == text else lowered


def moment_of(value: Any) -> float:
    """A date or date-time value as seconds since the epoch (UTC); NaN if it is none."""
    if not isinstance(value, str) or not value:
        return np.nan
    try:  # a date alone is its day's first moment
        return parse_datetime(value).timestamp()
    except (ValueError, TypeError, OverflowError):
        return np.nan


def moments_of(values: list) -> np.ndarray:
    """``moment_of`` of each value, stored moments read by numpy in one go."""
    micro, present = micro_table(values)
    return np.where(present, micro / 1e6, np.nan)


class ValueTables:
    """See the module docstring; one per workspace, used under its lock."""

    def __init__(self) -> None:
        self._lists: dict[str, tuple[list, list]] = {}
        self._arrays: dict[str, tuple[list, np.ndarray]] = {}
        self._ranks: dict[str, tuple[list, int, np.ndarray]] = {}
        # Per column, the last texts searched for and which values hold each: typing on
        # ("ac", then "acm") looks again only at the values that held a shorter text
        # within it; going back (a deleted letter) finds the answer kept.
        self._found: dict[str, tuple[list, dict[str, np.ndarray]]] = {}

    def lowered(self, name: str, coded: Coded) -> list[str]:
        """Each distinct value of column ``name`` as lower-case text (by code)."""
        values = coded.values
        found = self._lists.get(name)
        if found is None or found[0] is not values:
            found = (values, [])
        done = found[1]
        if len(done) < len(values):
            done.extend(lowered_text(value) for value in values[len(done):])
        self._lists[name] = found
        return done

    def containing(self, name: str, coded: Coded, needle: str) -> np.ndarray:
        """Which distinct values of ``name`` hold ``needle`` in their lowered text."""
        texts = self.lowered(name, coded)
        kept = self._found.get(name)
        if kept is None or kept[0] is not coded.values:
            kept = self._found[name] = (coded.values, {})
        searched = kept[1]
        again = searched.get(needle)
        if again is not None and len(again) == len(texts):
            return again
        narrower = [held for text, held in searched.items()
                    if text in needle and len(held) == len(texts)]
        if narrower:  # a value holding ``needle`` holds every text within it
            held = min(narrower, key=lambda found: int(found.sum()))
            found = np.zeros(len(texts), bool)
            candidates = np.flatnonzero(held).tolist()
            found[candidates] = [needle in texts[code] for code in candidates]
        else:
            found = np.fromiter((needle in text for text in texts), bool, len(texts))
        searched.pop(needle, None)
        searched[needle] = found
        if len(searched) > SEARCHES_KEPT:
            del searched[next(iter(searched))]
        return found

    def per_value(self, name: str, coded: Coded, function: Callable[[Any], Any],
                  dtype: Any = np.float64, many: bool = False) -> np.ndarray:
        """``function`` of each distinct value of ``name`` (one function per name);
        ``many``: ``function`` takes a list of values and gives their array."""
        values = coded.values
        found = self._arrays.get(name)
        if found is None or found[0] is not values:
            found = (values, np.zeros(0, dtype))
        done = found[1]
        if len(done) < len(values):
            rest = values[len(done):]
            extra = function(rest) if many else np.fromiter(
                (function(value) for value in rest), dtype, len(rest))
            done = np.concatenate([done, extra])
        self._arrays[name] = (values, done)
        return done

    def ranks(self, name: str, coded: Coded) -> np.ndarray:
        """Each distinct value's place in case-insensitive text order (missing last)."""
        values = coded.values
        found = self._ranks.get(name)
        if found is not None and found[0] is values and found[1] == len(values):
            return found[2]
        keys = [_LAST if value is None or value == "" else lowered_text(value).casefold()
                for value in values]
        order = np.argsort(np.array(keys, dtype=np.dtypes.StringDType()), kind="stable")
        ranks = np.empty(len(values), np.int64)
        ranks[order] = np.arange(len(values))
        # Equal texts share a rank, so the next key (the score, the id) decides.
        sorted_keys = [keys[index] for index in order]
        for place in range(1, len(order)):
            if sorted_keys[place] == sorted_keys[place - 1]:
                ranks[order[place]] = ranks[order[place - 1]]
        self._ranks[name] = (values, len(values), ranks)
        return ranks
