"""A column's values as the cache stores them (``columns.stored_values``): each value
read alone and all at once give back exactly the values written, types included,
whatever their text holds (line breaks, quotes, brackets, indentation)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from funnel.engine.columns.stored_values import StoredValues, stored_arrays
from funnel.engine.errors import FunnelError

_TRICKY = st.sampled_from(["", " ", "  ]", "\n  x", "}", '"', "\\", "[\n  null,", "é", "\x00"])
_TEXT = st.one_of(st.text(max_size=12), _TRICKY, st.builds(lambda a, b: a + b, _TRICKY,
                                                         st.text(max_size=4)))
_SCALAR = st.one_of(_TEXT, st.integers(-2**60, 2**60), st.booleans(),
                    st.floats(allow_nan=False, allow_infinity=False))
_VALUE = st.recursive(_SCALAR, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(_TEXT, inner, max_size=3)), max_leaves=6)


def same(one, other) -> bool:
    """Equal, and of the same types all the way down (1 is not 1.0 nor True)."""
    if type(one) is not type(other):
        return False
    if isinstance(one, list):
        return len(one) == len(other) and all(map(same, one, other))
    if isinstance(one, dict):
        return one.keys() == other.keys() and all(same(one[k], other[k]) for k in one)
    return one == other


@given(st.lists(_VALUE, max_size=12))
def test_every_value_reads_back_alone_and_all_together(values) -> None:
    values = [None] + values
    stored = StoredValues(*stored_arrays(values), "field")
    assert len(stored) == len(values)
    assert all(same(stored.one(code), value) for code, value in enumerate(values))
    assert same(stored.all(), values)
    assert stored.truthy.tolist() == [bool(value) for value in values]


def test_arrays_that_do_not_fit_together_are_refused() -> None:
    blob, starts, truthy = stored_arrays([None, "a", "b"])
    for bad in (starts[::-1].copy(), starts + 1):  # (a count is checked by the caller)
        with pytest.raises(ValueError):
            StoredValues(blob, bad, truthy[:len(bad)], "field")
    with pytest.raises(ValueError):
        StoredValues(blob[:-1], starts, truthy, "field")


def test_values_that_are_not_what_the_cache_said_are_one_clear_error() -> None:
    blob, starts, truthy = stored_arrays([None, "a", "b"])
    text = bytes(blob).replace(b'"b"', b'"b')  # (a cache's checksum would catch this)
    stored = StoredValues(np.frombuffer(text, np.uint8), starts, truthy, "email")
    with pytest.raises(FunnelError, match="email.*delete the .columns file"):
        stored.all()
    assert stored.one(1) == "a"
