"""Likely duplicates over the columns: each row's group, for the ``duplicate`` filter
and the ``duplicates`` sort (the Duplicates view).

The keys are ``duplicates``' own (normalised email, the phone's last digits, a name's
words at a company's words), worked out once per distinct value of each column, never
per pair of contacts. Rows sharing a key are joined by label propagation: every row
starts labelled with its contact id, and each key hands the smallest label among its
rows to all of them until nothing changes (as many rounds as the longest chain of
keys, two or three in practice). A row's group is then the lowest contact id in it.

The answer is kept per column table and its version, so it is computed once per change
of the data, not per keystroke; and as a column's dictionary of values only grows,
each value's key is worked out once per table, so after an edit only the arrays are
grouped again (milliseconds at 100,000 contacts).
"""

from __future__ import annotations

import weakref
from typing import Any, Callable

import numpy as np

from funnel.engine.columns.encoded import Coded
from funnel.engine.columns.table import ContactColumns
from funnel.engine.errors import FunnelError
from funnel.engine.workspace.duplicates import company_words, email_key, name_words, phone_key
from funnel.engine.workspace.list_context import ListContext

NO_GROUP = -1


class _ValueKeys:
    """One column's key per distinct value as a number (0: none), extended as the
    column's dictionary grows."""

    def __init__(self, key_of: Callable[[Any], str | None]) -> None:
        self._key_of = key_of
        self._numbers: dict[str, int] = {}
        self._values: list | None = None  # the dictionary these were worked out for
        self._per_value = np.zeros(0, np.int64)

    def per_row(self, coded: Coded, live: np.ndarray) -> np.ndarray:
        values = coded.values
        if values is not self._values or len(values) < len(self._per_value):
            self._numbers, self._per_value = {}, np.zeros(0, np.int64)  # another: start again
            self._values = values
        done = len(self._per_value)
        if len(values) > done:
            extra = np.zeros(len(values) - done, np.int64)
            for offset, value in enumerate(values[done:]):
                if value.__class__ is str and value:
                    key = self._key_of(value)
                    if key is not None:
                        extra[offset] = self._numbers.setdefault(key, len(self._numbers) + 1)
            self._per_value = np.concatenate([self._per_value, extra])
        return np.where(live, self._per_value[coded.codes], 0)


class _TableDuplicates:
    """What is kept for one column table: each column's value keys, the last answer."""

    def __init__(self) -> None:
        self.email = _ValueKeys(email_key)
        self.phone = _ValueKeys(phone_key)
        self.name = _ValueKeys(_name_or_none)
        self.company = _ValueKeys(lambda text: company_words(text) or None)
        self.answer: tuple[int, int, np.ndarray] | None = None  # version, rows, groups


_kept: "weakref.WeakKeyDictionary[ContactColumns, _TableDuplicates]" = \
    weakref.WeakKeyDictionary()


def duplicate_groups(table: ContactColumns) -> np.ndarray:
    """Per row: the lowest contact id of its group of likely duplicates, or ``NO_GROUP``."""
    kept = _kept.get(table)
    if kept is None:
        kept = _kept[table] = _TableDuplicates()
    if kept.answer is None or kept.answer[:2] != (table.version, table.rows):
        kept.answer = (table.version, table.rows, _groups(table, kept))
    return kept.answer[2]


def _groups(table: ContactColumns, kept: _TableDuplicates) -> np.ndarray:
    live = table.live()
    ids = table.id_array()
    names = kept.name.per_row(table.coded("name"), live)
    companies = kept.company.per_row(table.coded("company"), live)
    keyed = [kept.email.per_row(table.coded("email"), live),
             kept.phone.per_row(table.coded("phone"), live),
             # a name at a company: both given, one number per pair
             np.where((names > 0) & (companies > 0),
                      names * (int(companies.max(initial=0)) + 1) + companies, 0)]
    links = [link for link in map(_shared_keys, keyed) if link is not None]
    labels = ids.copy()
    changed = bool(links)
    while changed:
        changed = False
        for rows, key, count in links:
            least = np.full(count, np.iinfo(np.int64).max)
            np.minimum.at(least, key, labels[rows])
            handed = least[key]
            lower = handed < labels[rows]
            if lower.any():
                labels[rows[lower]] = handed[lower]
                changed = True
    grouped = np.zeros(table.rows, bool)
    for rows, _, _ in links:
        grouped[rows] = True
    return np.where(grouped, labels, NO_GROUP)


def _name_or_none(text: str) -> str | None:
    words = name_words(text)
    return words if len(words) >= 2 else None


def _shared_keys(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, int] | None:
    """The rows whose key another row shares, each with its key renumbered 0..count-1."""
    rows = np.flatnonzero(keys)
    if not len(rows):
        return None
    distinct, inverse, counts = np.unique(keys[rows], return_inverse=True,
                                          return_counts=True)
    shared = counts[inverse] > 1
    if not shared.any():
        return None
    kept, number = np.unique(inverse[shared], return_inverse=True)
    return rows[shared], number.reshape(-1), len(kept)


# -- the filter term and the sort (``query`` and ``sorting`` hand over to these) ------
def duplicate_term(value: str) -> Callable[[ListContext], np.ndarray]:
    """``duplicate``: has a likely duplicate; ``duplicate:ID``: contact ID's group."""
    if not value:
        return lambda context: duplicate_groups(context.table) != NO_GROUP
    if not value.isdigit():
        raise FunnelError(f"filter: duplicate:{value}: give a contact number, "
                          "e.g. duplicate:42 (or just duplicate)")
    wanted = int(value)

    def test(context: ListContext) -> np.ndarray:
        groups = duplicate_groups(context.table)
        row = context.table.row(wanted)
        if row is None or groups[row] == NO_GROUP:
            return np.zeros(context.rows, bool)
        return groups == groups[row]
    return test


def duplicate_order(context: ListContext) -> list[np.ndarray]:
    """Groups together (by their lowest id), each contact next to its duplicates;
    contacts without one after them."""
    groups = duplicate_groups(context.table)
    return [np.where(groups == NO_GROUP, np.iinfo(np.int64).max, groups)]
