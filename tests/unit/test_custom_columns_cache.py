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


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(1, 60), min_size=1, max_size=25),
       st.lists(st.integers(1, 70), max_size=8), st.lists(st.integers(1, 70), max_size=5))
def test_rows_are_found_in_a_table_read_back_as_in_the_one_written(
        ids: list[int], removed: list[int], added: list[int]) -> None:
    # A table read back finds rows by its ids' order (no id -> row dict until it
    # changes); every lookup agrees with the table written, dead and unknown ids too.
    table = ContactColumns()
    for contact_id in ids:  # any order, repeats: puts of the same contact
        table.put(contact_id, {"name": f"c{contact_id}"})
    for contact_id in removed:
        table.remove(contact_id)
    back = table_from_arrays(*table_arrays(table))
    assert back is not None and len(back) == len(table)
    for contact_id in range(0, 72):
        assert back.row(contact_id) == table.row_of.get(contact_id), contact_id
    for contact_id in added:  # then it changes as the table written does
        back.put(contact_id, {"name": "again"})
        table.put(contact_id, {"name": "again"})
    assert back.row_of == table.row_of and len(back) == len(table)
    assert all(back.row(contact_id) == table.row_of.get(contact_id) for contact_id in range(72))


def test_an_edit_of_one_field_looks_up_only_that_fields_dictionary() -> None:
    # A table read from the cache has no value -> code lookups; an edit of one field
    # must not make the others' (at a million contacts, each is a dict of a million
    # keys). The edited row reads back as the new document, values of every type.
    documents = {contact_id: {"name": f"n{contact_id}", "email": f"{contact_id}@x.io",
                              "company_size": contact_id, "tags": ["a", str(contact_id)],
                              "created_at": f"2026-01-{contact_id:02d}T00:00:00+00:00"}
                 for contact_id in range(1, 21)}
    table = ContactColumns.build(documents.items())
    back = table_from_arrays(*table_arrays(table))
    assert back is not None
    edited = dict(documents[7], title="CTO", tags=["a", "7"])  # equal list, new object
    back.put(7, edited)
    looked_up = {name for name, column in back.columns.items() if column._index is not None}
    assert looked_up == {"title"}
    assert back.values(back.row(7)) == edited
    # A value of another type is another value: looked up, and read back as given.
    back.put(7, dict(edited, company_size=7.0, tags=("a", "7")))
    assert back.values(back.row(7))["company_size"].__class__ is float
    assert back.values(back.row(7))["tags"] == ("a", "7")
