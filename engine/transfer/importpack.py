"""An import's rows kept packed, so that planning a file of 500,000 rows stays small.

As Python objects one ``Incoming`` row (its dicts of fields and custom fields, its
lists, their strings) costs ~1.2 KB: 600 MB for such a file before anything is
built. ``PackedRows`` keeps each row as a plain tuple, marshalled ``BLOCK`` rows at a
time and compressed (~60 bytes a row, measured on generated leads); reading a row
decompresses its block, and the last block decompressed is kept, so a pass in file
order decompresses each block once.

A row read back is a new ``Incoming``: changing it changes nothing stored until it
is put back with ``replace`` (rows replaced are kept apart, unpacked).
"""

from __future__ import annotations

import marshal
import zlib
from collections.abc import Iterable, Iterator, Sequence
from typing import overload

from funnel.engine.transfer.incoming import Incoming

BLOCK = 256  # rows compressed together: big enough to compress well, small to unpack
_Values = tuple  # an Incoming's fields, in order (see ``_values``)


def _values(item: Incoming) -> _Values:
    return (item.row, item.line, item.fields, item.activities, item.totals, item.custom,
            item.stage, item.stage_since, item.rows, item.funnel_id)


def _item(values: _Values) -> Incoming:
    return Incoming(*values)


class PackedRows(Sequence[Incoming]):
    """A list of ``Incoming`` rows that holds them marshalled and compressed."""

    def __init__(self, items: Iterable[Incoming] = ()) -> None:
        self._blocks: list[bytes] = []  # BLOCK rows each
        self._tail: list[bytes] = []  # the rows after the last whole block, marshalled
        self._replaced: dict[int, bytes] = {}  # index -> the row put back, marshalled
        self._open: tuple[int, list[bytes]] = (-1, [])  # the block last unpacked
        for item in items:
            self.append(item)

    def append(self, item: Incoming) -> None:
        self._tail.append(marshal.dumps(_values(item)))
        if len(self._tail) == BLOCK:
            self._blocks.append(zlib.compress(marshal.dumps(self._tail), 1))
            self._tail = []

    def replace(self, index: int, item: Incoming) -> None:
        """Put back a changed row (e.g. a later row of the same contact merged in)."""
        if not 0 <= index < len(self):
            raise IndexError(index)
        self._replaced[index] = marshal.dumps(_values(item))

    def __len__(self) -> int:
        return len(self._blocks) * BLOCK + len(self._tail)

    def _block(self, number: int) -> list[bytes]:
        """A block's rows, each still marshalled: every read makes its own objects."""
        if self._open[0] != number:
            self._open = (number, marshal.loads(zlib.decompress(self._blocks[number])))
        return self._open[1]

    @overload
    def __getitem__(self, index: int) -> Incoming: ...

    @overload
    def __getitem__(self, index: slice) -> list[Incoming]: ...

    def __getitem__(self, index: int | slice) -> Incoming | list[Incoming]:
        if isinstance(index, slice):
            return [self[at] for at in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        replaced = self._replaced.get(index)
        if replaced is not None:
            return _item(marshal.loads(replaced))
        number, at = divmod(index, BLOCK)
        rows = self._tail if number == len(self._blocks) else self._block(number)
        return _item(marshal.loads(rows[at]))

    def __iter__(self) -> Iterator[Incoming]:
        replaced = self._replaced
        for number, block in enumerate(self._blocks):
            start = number * BLOCK
            for at, row in enumerate(marshal.loads(zlib.decompress(block))):
                yield _item(marshal.loads(replaced.get(start + at, row)))
        start = len(self._blocks) * BLOCK
        for at, row in enumerate(list(self._tail)):
            yield _item(marshal.loads(replaced.get(start + at, row)))


def packed(items: Sequence[Incoming]) -> PackedRows:
    """``items`` as PackedRows (the same object when they already are)."""
    return items if isinstance(items, PackedRows) else PackedRows(items)
