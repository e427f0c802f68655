"""Text search kept between keystrokes (narrowed, or found again) gives what searching
every value afresh gives, as the dictionary grows and the texts come and go; and a
filter over all rows in a kept sort order is the order of those rows sorted alone."""

from __future__ import annotations

from datetime import datetime, timezone

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from funnel.engine.columns.encoded import Coded
from funnel.engine.demo.generate import generate_contacts
from funnel.engine.workspace.facade import Workspace
from funnel.engine.workspace.list_context import ListContext
from funnel.engine.workspace.query import parse_query
from funnel.engine.workspace.sorting import order_rows
from funnel.engine.workspace.value_tables import ValueTables

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=timezone.utc)
letters = st.text(alphabet="abcAB é", max_size=4)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(letters, st.lists(letters, max_size=3)), min_size=1, max_size=12))
def test_kept_searches_agree_with_searching_afresh(steps):
    values: list = [None]
    tables = ValueTables()
    for needle, added in steps:
        values.extend(added)  # the dictionary only grows
        coded = Coded(np.zeros(0, np.int32), values)
        got = tables.containing("name", coded, needle.lower())
        expected = [needle.lower() in ("" if value is None else value.lower())
                    for value in values]
        assert got.tolist() == expected


def sorted_alone(cache, query, sort, descending, me):
    """The oracle: the matching rows sorted by themselves (no order kept)."""
    parsed = parse_query(query, me)
    cache._columns.ensure()
    found = cache._columns.classified(cache._refresh_clock(), cache._chances)
    context = ListContext(found.table, found.result, found.rules, found.now, cache._values,
                          cache._custom_column, me)
    rows = np.flatnonzero(parsed.mask(context))
    ids = found.table.ids
    return [ids[row] for row in order_rows(context, rows, sort, descending).tolist()]


def test_lists_in_a_kept_order_equal_lists_sorted_alone(tmp_path):
    with Workspace.open(tmp_path / "d.json", None, clock=lambda: NOW, user="ola") as one:
        one.add_many(generate_contacts(600, 4, NOW.replace(hour=0)))
        queries = ["", "temp:hot", "a", "an", "-temp:cold", "stage:lead score>30"]
        for sort in ("attention", "name", "created", "score", "company"):
            for query in queries:
                for down in (False, True):
                    assert one.select(query, sort, down) == sorted_alone(
                        one._cache, query, sort, down, "ola"), (query, sort, down)
