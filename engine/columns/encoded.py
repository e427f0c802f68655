"""Column forms: dictionary-encoded values (``EncodedColumn``, viewed as ``Coded``) and
numbers with a missing mask (``Numbers``).

An encoded column keeps one int32 code per row and the list of distinct values the
codes point at; code 0 is always "missing" (None). A condition over one column can then
be decided once per distinct value and gathered by code, whatever the value's type:
text, a choice, a list of tags. Numbers are float64 with a per-row kind (missing, int,
float, or something that is not a number at all), so comparisons with a number are
array operations and a value can still be turned back into the exact Python value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Hashable

import numpy as np

from funnel.engine.columns.moments import micro_table
from funnel.engine.columns.stored_values import StoredValues, stored_arrays

MISSING = 0  # the code of a missing value (None) in every dictionary

# Kinds of a number cell: what the Python value was.
ABSENT, INTEGER, REAL, OTHER = 0, 1, 2, 3
_EXACT = 2**53  # larger whole numbers are not all exact as floats: OTHER, decided one by one


def value_key(value: Any) -> Hashable:
    """What makes two values the same entry of a dictionary: equal and of one type
    (1, 1.0 and True are one key to a dict, but ``str()`` and ``matches`` tell them
    apart). Lists become tuples; anything unhashable is keyed by its repr."""
    cls = value.__class__
    if cls is str:
        return value
    if cls is list or cls is tuple:
        return (cls.__name__,) + tuple(value_key(item) for item in value)
    try:
        hash(value)
    except TypeError:
        return ("repr", cls.__name__, repr(value))
    return (cls.__name__, value)


@dataclass(frozen=True)
class Coded:
    """Rows as codes into ``values`` (``values[code]`` is the row's Python value)."""

    codes: np.ndarray
    values: list

    def table(self, function: Callable[[Any], Any], dtype: Any = bool) -> np.ndarray:
        """``function`` of every distinct value, as an array indexed by code."""
        return np.fromiter(map(function, self.values), dtype, len(self.values))

    def gather(self, function: Callable[[Any], Any], dtype: Any = bool) -> np.ndarray:
        """``function`` of each row's value, computed once per distinct value."""
        return self.table(function, dtype)[self.codes]


@dataclass(frozen=True)
class Numbers:
    """Rows as float64 ``values`` with ``kinds`` (ABSENT, INTEGER, REAL or OTHER)."""

    values: np.ndarray
    kinds: np.ndarray

    @classmethod
    def of(cls, values: np.ndarray, present: np.ndarray | None = None, *,
           integral: bool) -> "Numbers":
        kinds = np.full(len(values), INTEGER if integral else REAL, np.int8)
        if present is not None:
            kinds[~present] = ABSENT
        return cls(np.asarray(values, np.float64), kinds)

    @property
    def present(self) -> np.ndarray:
        return self.kinds != ABSENT

    def python(self, row: int) -> Any:
        kind = self.kinds[row]
        if kind == ABSENT:
            return None
        value = float(self.values[row])
        return int(value) if kind == INTEGER else value

    def coded(self) -> Coded:
        """The same rows dictionary-encoded (one entry per distinct number and kind)."""
        if not len(self.values):
            return Coded(np.zeros(0, np.int64), [])
        keys = np.where(self.kinds == ABSENT, 0.0, self.values) + 1j * self.kinds
        _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
        return Coded(inverse.reshape(-1), [self.python(int(row)) for row in first])


class EncodedColumn:
    """One field over all rows: an int32 code per row and the distinct values.

    The dictionary only grows (codes stay valid while rows change); a value no row
    holds any more stays in it until the columns are built afresh.
    """

    __slots__ = ("_values", "_stored", "_index", "codes", "_truthy", "_moments")

    def __init__(self, capacity: int) -> None:
        self._values: list | None = [None]
        self._stored: StoredValues | None = None  # a cache's values, until they are read
        self._index: dict[Hashable, int] | None = {}
        self.codes = np.zeros(capacity, np.int32)
        self._truthy: np.ndarray | None = None  # bool of each value (kept: ``truthy``)
        self._moments: tuple[np.ndarray, np.ndarray] | None = None  # (``moments``)

    @property
    def values(self) -> list:
        """The distinct values by code (a cache's are parsed on first use)."""
        if self._values is None:
            assert self._stored is not None
            self._values, self._stored = self._stored.all(), None
        return self._values

    @values.setter
    def values(self, values: list) -> None:
        self._values, self._stored, self._truthy, self._moments = values, None, None, None

    @property
    def size(self) -> int:
        """How many distinct values (None, code 0, included), without parsing them."""
        return len(self._values) if self._values is not None else len(self._stored or ())

    def value_of(self, code: int) -> Any:
        """The value of one code (parsed alone while the values are a cache's)."""
        if self._values is None:
            assert self._stored is not None
            return self._stored.one(int(code))
        return self._values[code]

    def truthy(self) -> np.ndarray:
        """``bool`` of each value, by code."""
        if self._truthy is None or len(self._truthy) != self.size:
            self._truthy = self._stored.truthy if self._values is None and \
                self._stored is not None else np.fromiter(map(bool, self.values), bool,
                                                          self.size)
        return self._truthy

    def moments(self) -> tuple[np.ndarray, np.ndarray]:
        """Each value's moment in microseconds since the epoch, and which have one
        (``moments.micro_table``), extended as values are added."""
        micro, present = self._moments or (np.zeros(0, np.int64), np.zeros(0, bool))
        if len(micro) < self.size:
            more, known = micro_table(self.values[len(micro):])
            micro, present = np.concatenate([micro, more]), np.concatenate([present, known])
            self._moments = (micro, present)
        return micro, present

    def stored_arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The values as a cache stores them (``StoredValues``; TypeError if a value
        cannot be JSON)."""
        if self._values is None and self._stored is not None:  # as read: not parsed
            return self._stored.blob, self._stored.starts, self._stored.truthy
        return stored_arrays(self.values)

    def prime_moments(self, micro: np.ndarray, present: np.ndarray) -> None:
        """The moments of every value, computed elsewhere (a cache)."""
        if len(micro) != self.size or len(present) != self.size:
            raise ValueError("the moments do not fit the values")
        self._moments = (micro, present)

    def index(self) -> dict[Hashable, int]:
        """Value key -> code; a column read back from a cache makes it on first use
        (most sessions only read: a million keys would cost seconds at every start)."""
        if self._index is None:
            self._index = {(value if value.__class__ is str else value_key(value)): code
                           for code, value in enumerate(self.values) if code}
        return self._index

    def code(self, value: Any) -> int:
        if value is None:
            return MISSING
        key = value if value.__class__ is str else value_key(value)
        index = self.index()  # (made from the values: they are a list from here on)
        found = index.get(key)
        if found is None:
            known = self.values
            found = index[key] = len(known)
            known.append(value)
        return found

    def set(self, row: int, value: Any) -> None:
        """Row ``row`` holds ``value`` now. A row that holds it already keeps its code
        without a lookup: an edit of one field would otherwise make every column's
        lookup (at a million contacts, dicts of a million keys: seconds, hundreds of MB)."""
        old = self.value_of(self.codes[row])
        if old is value or (old is not None and value is not None and (
                old == value if old.__class__ is str and value.__class__ is str
                else old.__class__ is value.__class__ and value_key(old) == value_key(value))):
            return
        self.codes[row] = self.code(value)

    @classmethod
    def restored(cls, codes: np.ndarray, values: list | StoredValues, capacity: int
                 ) -> "EncodedColumn":
        """A column from its codes and values as ``view`` gave them, or as a cache
        stores them; ValueError when they do not fit together."""
        if not len(values) or len(codes) > capacity or (
                isinstance(values, list) and values[0] is not None) or (
                len(codes) and (codes.min() < 0 or codes.max() >= len(values))):
            raise ValueError("the codes do not fit the values")
        column = cls(0)
        if isinstance(values, StoredValues):
            column._values, column._stored = None, values
        else:
            column.values = values
        column._index = None
        if len(codes) == capacity:  # a cache's buffer, read for this table: not copied
            column.codes = np.require(codes, np.int32, ["C", "W"])
        else:
            column.codes = np.zeros(capacity, np.int32)
            column.codes[:len(codes)] = codes
        return column

    def resize(self, capacity: int) -> None:
        grown = np.zeros(capacity, np.int32)
        grown[:len(self.codes)] = self.codes[:capacity]
        self.codes = grown

    def view(self, rows: int) -> Coded:
        return Coded(self.codes[:rows], self.values)

    def numbers(self, rows: int) -> Numbers:
        """The rows as numbers; a value that is not a number is OTHER (and NaN)."""
        floats = np.empty(len(self.values), np.float64)
        kinds = np.empty(len(self.values), np.int8)
        for code, value in enumerate(self.values):
            cls = value.__class__
            if value is None:
                floats[code], kinds[code] = 0.0, ABSENT
            elif cls is float or (cls is int and -_EXACT <= value <= _EXACT):
                floats[code], kinds[code] = float(value), INTEGER if cls is int else REAL
            else:
                floats[code], kinds[code] = np.nan, OTHER
        codes = self.codes[:rows]
        return Numbers(floats[codes], kinds[codes])


def encode_documents(columns: dict[str, EncodedColumn], documents: list[dict],
                     custom: dict[str, EncodedColumn] | None = None,
                     capacity: int = 0, start: int = 0) -> None:
    """Set rows ``start``.. of ``columns`` from ``documents`` (the bulk build's loop,
    kept tight).

    One pass over each document's own keys: stored documents leave out empty values,
    so this reads about half as many as asking every column of each document. With
    ``custom``, each custom field NAME found becomes the column ``custom[NAME]`` (made
    with ``capacity`` rows when first seen)."""
    targets = {name: (column.index(), column.values, [MISSING] * len(documents))
               for name, column in columns.items()}
    find = targets.get
    for row, document in enumerate(documents):
        for key, value in document.items():
            target = find(key)
            if target is None or value is None:
                continue
            index, known, codes = target
            found = index.get(value if value.__class__ is str else value_key(value))
            if found is None:
                found = len(known)
                index[value if value.__class__ is str else value_key(value)] = found
                known.append(value)
            codes[row] = found
    for name, (_, _, codes) in targets.items():
        columns[name].codes[start:start + len(codes)] = codes
    if custom is not None:
        _encode_custom(custom, documents, capacity, start)


def _encode_custom(custom: dict[str, EncodedColumn], documents: list[dict],
                   capacity: int, start: int) -> None:
    """Each custom field NAME of ``documents`` into the column ``custom[NAME]`` (a pass
    of its own: most documents have none, and the main loop stays as it was)."""
    rows = len(documents)
    named: dict[str, tuple] = {}  # custom name -> (index, values, codes)
    for row, document in enumerate(documents):
        fields = document.get("custom")
        if not fields or fields.__class__ is not dict:
            continue
        for name, value in fields.items():
            if value is None:
                continue
            target = named.get(name)
            if target is None:
                column = custom.get(name)
                if column is None:
                    column = custom[name] = EncodedColumn(max(capacity, start + rows))
                target = named[name] = (column.index(), column.values, [MISSING] * rows)
            index, known, codes = target
            key = value if value.__class__ is str else value_key(value)
            found = index.get(key)
            if found is None:
                found = index[key] = len(known)
                known.append(value)
            codes[row] = found
    for name, (_, _, codes) in named.items():
        custom[name].codes[start:start + rows] = codes
