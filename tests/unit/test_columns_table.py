"""Incremental upkeep: ``put`` and ``remove`` leave the columns a fresh build would give.

Compared contact by contact (rows differ: a fresh build packs them): every stored
value, every fact, every decayed sum. Also: rows keep their positions, removed rows
are dead, and squeezing the activity log of replaced blocks changes no answer.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_columns_documents import (FACT_NAMES, HALF_LIFE, NOW, assert_same_facts,
                                    column_value, demo_documents, documents)

from funnel.engine.columns.activity_log import ActivityLog
from funnel.engine.columns.fact_columns import FactColumns
from funnel.engine.columns.table import ContactColumns
from funnel.engine.model import ACTIVITY_KINDS

IDS = st.integers(1, 12)
OPERATIONS = st.lists(st.one_of(st.tuples(st.just("put"), IDS, documents()),
                                st.tuples(st.just("remove"), IDS, st.none())), max_size=25)


def assert_same_columns(incremental: ContactColumns, fresh: ContactColumns) -> None:
    assert set(incremental.row_of) == set(fresh.row_of)
    assert len(incremental) == len(fresh) == int(incremental.live().sum())
    ours = FactColumns(incremental, NOW, HALF_LIFE)
    theirs = FactColumns(fresh, NOW, HALF_LIFE)
    for contact_id, row in incremental.row_of.items():
        other = fresh.row_of[contact_id]
        assert incremental.ids[row] == contact_id
        assert incremental.values(row) == fresh.values(other)
        for name in FACT_NAMES:
            assert column_value(ours, name, row) == column_value(theirs, name, other), name
        for kind in ACTIVITY_KINDS:
            assert ours.decayed(kind)[row] == theirs.decayed(kind)[other], kind


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(IDS, documents(), max_size=8), OPERATIONS, st.booleans())
def test_property_put_and_remove_match_a_fresh_build(start: dict[int, dict],
                                                     operations: list, squeeze: bool) -> None:
    table = ContactColumns.build(start.items())
    if squeeze:  # squeeze at the first dead entry, so every replacement exercises it
        table.activities.squeeze_after = 0
    state = dict(start)
    positions = dict(table.row_of)
    for action, contact_id, document in operations:
        if action == "put":
            table.put(contact_id, document)
            state[contact_id] = document
        else:
            table.remove(contact_id)
            state.pop(contact_id, None)
            positions.pop(contact_id, None)
        for kept, row in positions.items():  # a contact's row never moves
            assert table.row_of[kept] == row
        positions.update(table.row_of)
    assert_same_columns(table, ContactColumns.build(state.items()))
    assert_same_facts(table, list(state.items()))


def test_replacing_every_contact_twice_squeezes_the_log_and_keeps_the_answers(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """600 demo contacts replaced twice each: the dead entries are dropped (the log
    stays about as long as the live activities) and nothing answers differently."""
    monkeypatch.setattr(ActivityLog, "squeeze_after", 64)
    first = demo_documents(600, seed=1)
    second = demo_documents(600, seed=2)
    table = ContactColumns.build(enumerate(first))
    for documents_now in (second, first):
        for contact_id, document in enumerate(documents_now):
            table.put(contact_id, document)
    live = sum(len(document.get("activities", ())) for document in first)
    assert table.activities.size - table.activities.dead == live
    assert table.activities.size <= 2 * live + 64
    assert_same_columns(table, ContactColumns.build(enumerate(first)))


def test_removed_rows_stay_dead_and_a_returning_id_gets_a_new_row() -> None:
    table = ContactColumns.build([(1, {"need": "yes"}), (2, {"need": "no"})])
    table.remove(1)
    assert list(table.live()) == [False, True] and table.values(0) == {}
    row = table.put(1, {"need": "no"})
    assert row == 2 and table.row_of == {2: 1, 1: 2} and len(table) == 2
    table.remove(99)  # not there: nothing happens
    assert len(table) == 2


def test_growing_past_the_capacity_keeps_every_row() -> None:
    table = ContactColumns()
    for contact_id in range(100):
        table.put(contact_id, {"company": f"C{contact_id % 7}", "tags": ["a", str(contact_id)],
                               "activities": [{"kind": "call", "at": "2026-05-01T00:00:00Z",
                                               "count": contact_id + 1}]})
    assert table.rows == 100 and len(table.alive) >= 100
    counts = FactColumns(table, NOW, HALF_LIFE).count("call")
    assert [counts.python(table.row_of[key]) for key in range(100)] == list(range(1, 101))
    assert table.values(table.row_of[42])["tags"] == ["a", "42"]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(IDS, documents()), max_size=30), st.integers(1, 6))
def test_property_a_build_in_small_chunks_is_a_build_in_one(pairs: list, chunk: int) -> None:
    """``build`` reads its documents a chunk at a time (bounded memory); an id seen in an
    earlier chunk is replaced by the later document, as one big chunk does it."""
    in_one = ContactColumns.build(pairs, chunk=10_000)
    assert_same_columns(ContactColumns.build(pairs, chunk=chunk), in_one)
    assert_same_columns(in_one, ContactColumns.build(dict(pairs).items()))
