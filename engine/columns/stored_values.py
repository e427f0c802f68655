"""A column's distinct values as the column cache holds them, read only when needed.

At a million contacts the columns whose values are nearly all distinct (e-mail
addresses, creation moments, stage moments, phone numbers) hold millions of Python
strings: a quarter of a gigabyte, and a quarter of a second to parse, that a session
listing, counting and sorting never reads. What it does read of them has its own
arrays: which values are truthy (``has_contact``), and the moments (``moments``).
So the cache keeps each column's values as one JSON list with where each value
begins; one value is parsed alone (a row's old value, compared on an edit), and the
whole list only when something needs it (a text search of that field, a new value to
encode).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import orjson

from funnel.engine.errors import FunnelError


class StoredValuesDamaged(FunnelError):
    """A cache's values do not parse as what it said (its checksum matched: a file made
    so by hand). The workspace then builds the columns from the store again."""


class StoredValues:
    """Values 0.. of one column: ``blob`` is the list as ``orjson`` writes it indented
    (each value on its own lines, two spaces in), value ``i`` beginning at
    ``starts[i]``; ``truthy[i]`` is ``bool(value i)``."""

    __slots__ = ("blob", "starts", "truthy", "name")

    def __init__(self, blob: np.ndarray, starts: np.ndarray, truthy: np.ndarray,
                 name: str) -> None:
        count, size = len(starts), len(blob)
        if count == 0 or len(truthy) != count or size < 8 or starts[0] != 4 or \
                starts[-1] > size - 3 or bytes(blob[:4]) != b"[\n  " or \
                bytes(blob[-2:]) != b"\n]" or bool((starts[1:] <= starts[:-1] + 4).any()):
            raise ValueError(f"the stored values of {name!r} do not fit together")
        self.blob, self.starts, self.truthy, self.name = blob, starts, truthy, name

    def __len__(self) -> int:
        return len(self.starts)

    def one(self, code: int) -> Any:
        """Value ``code``, parsed alone."""
        last = code + 1 == len(self.starts)
        end = len(self.blob) - 2 if last else int(self.starts[code + 1]) - 4  # ",\n  "
        return self._parsed(self.blob.data[int(self.starts[code]):end])

    def all(self) -> list:
        """Every value, parsed (StoredValuesDamaged if not what the cache said)."""
        found = self._parsed(self.blob.data)
        if not isinstance(found, list) or len(found) != len(self) or found[0] is not None:
            raise StoredValuesDamaged(f"column cache: the values of {self.name!r} are "
                                      "damaged; delete the .columns file beside the database "
                                      "(it is rebuilt)")
        return found

    def _parsed(self, data: Any) -> Any:
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError as error:
            raise StoredValuesDamaged(f"column cache: the values of {self.name!r} are "
                                      f"damaged ({error}); delete the .columns file beside "
                                      "the database (it is rebuilt)") from None


_NEWLINE, _SPACE, _CLOSES = 10, 32, (93, 125)  # "\n", " ", "]" and "}"


def stored_arrays(values: list) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``values`` as ``StoredValues`` keeps them: (blob, starts, truthy). TypeError for a
    value JSON cannot hold.

    One ``orjson.dumps`` of the whole list (a million values in a fraction of a second,
    where one call per value took seconds): indented, every value of the list begins a
    line with exactly two spaces, and nothing else does (JSON text holds no raw line
    break; what is nested inside a value is indented further, or closes it)."""
    blob = np.frombuffer(orjson.dumps(values, option=orjson.OPT_INDENT_2), np.uint8)
    breaks = np.flatnonzero(blob[:-3] == _NEWLINE)
    indented = breaks[(blob[breaks + 1] == _SPACE) & (blob[breaks + 2] == _SPACE)]
    first = blob[indented + 3]
    starts = indented[(first != _SPACE) & (first != _CLOSES[0]) & (first != _CLOSES[1])] + 3
    if len(starts) != len(values):
        raise ValueError("the values' JSON is not laid out as expected")
    truthy = np.fromiter(map(bool, values), bool, len(values))
    return blob, starts, truthy
