"""Custom fields' columns survive the column cache (``engine.columns.persist``): a table
read back holds every custom value, takes edits, and a cache written before custom
columns existed is not used (it would have answered "missing" for every custom rule)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_columns_documents import documents

from funnel.engine.columns.persist import table_arrays, table_from_arrays
from funnel.engine.columns.table import ContactColumns


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(documents(), min_size=1, max_size=10), documents())
def test_custom_columns_read_back_from_the_cache(docs: list[dict], later: dict) -> None:
    table = ContactColumns.build(enumerate(docs, start=1))
    arrays, meta = table_arrays(table)
    back = table_from_arrays(arrays, meta)
    assert back is not None
    for contact_id, row in table.row_of.items():
        assert back.values(back.row_of[contact_id]) == table.values(row)
    assert set(back.custom) == set(table.custom)
    # The table read back takes edits as a fresh one does.
    back.put(1, later)
    table.put(1, later)
    assert back.values(back.row_of[1]) == table.values(table.row_of[1])


def test_a_cache_without_custom_columns_is_rebuilt() -> None:
    table = ContactColumns.build([(1, {"custom": {"City": "Mumbai"}})])
    arrays, meta = table_arrays(table)
    assert table_from_arrays(arrays, {k: v for k, v in meta.items() if k != "custom"}) is None
    meta["custom"][0][1] = [None]  # codes pointing past the values
    assert table_from_arrays(arrays, meta) is None
