"""A build split with a forked child gives the very table one process builds: every
row's values (custom fields too), its activities, and so every classification."""

from __future__ import annotations

import gc
import os
from datetime import datetime, timezone

import numpy as np
import pytest

from funnel.engine.columns.classify import classify_columns
from funnel.engine.demo.generate import generate_contacts
from funnel.engine.workspace import column_build, forked
from funnel.engine.workspace.facade import Workspace

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=timezone.utc)
pytestmark = pytest.mark.skipif(not forked.can_fork(), reason="needs fork and two cores")


@pytest.fixture
def workspace(tmp_path):
    contacts = list(generate_contacts(1500, 11, NOW.replace(hour=0)))
    for number, contact in enumerate(contacts[::7]):  # custom fields on some, not all
        contact["custom"] = {"Lead Quality": ["High", "Low", 3][number % 3]}
    with Workspace.open(tmp_path / "d.json", None, clock=lambda: NOW, user="ola") as opened:
        opened.add_many(contacts)
        yield opened


def stage_moves(table, row):
    log = table.stages
    return [(log.names[log.kinds[at]], log.names[log.amounts[at]], log.moments[at])
            for at in range(log.start[row], log.stop[row])]


def same_tables(split, alone):
    assert split.ids == alone.ids and split.rows == alone.rows
    assert all(stage_moves(split, row) == stage_moves(alone, row) for row in range(alone.rows))
    assert sum(len(stage_moves(alone, row)) for row in range(alone.rows)) >= alone.rows
    assert all(split.values(row) == alone.values(row) for row in range(alone.rows))
    for (rows, moments, counts), (rows2, moments2, counts2) in zip(
            split.activities.by_kind(), alone.activities.by_kind()):
        assert np.array_equal(rows, rows2) and np.array_equal(moments, moments2)
        assert np.array_equal(counts, counts2)


def test_the_split_build_equals_the_build_in_one_process(workspace):
    shared = workspace._shared
    ids = shared.store.ids()
    children = []
    real_fork = os.fork

    def counted_fork():
        children.append(1)
        return real_fork()
    os.fork = counted_fork
    try:
        split = column_build._build_split(shared, ids)
    finally:
        os.fork = real_fork
    assert children == [1]  # the second half was built by a child
    alone = column_build.build_columns(shared, ids)  # under MIN_ITEMS: here alone
    same_tables(split, alone)
    assert "Lead Quality" in split.custom
    rules = shared.rules
    one, two = classify_columns(split, rules, NOW), classify_columns(alone, rules, NOW)
    for name in ("score", "stage", "temperature", "grade"):
        assert np.array_equal(getattr(one, name), getattr(two, name)), name


def test_a_child_that_fails_leaves_its_half_to_this_process(workspace, monkeypatch):
    shared = workspace._shared
    ids = shared.store.ids()
    parent, real = os.getpid(), column_build.table_parts

    def dies_in_the_child(table):
        if os.getpid() != parent:
            raise MemoryError("the child ran out")
        return real(table)
    monkeypatch.setattr(column_build, "table_parts", dies_in_the_child)
    split = column_build._build_split(shared, ids)  # the child dies; then done here
    same_tables(split, column_build.build_columns(shared, ids))


def test_documents_are_parsed_with_the_collector_paused(workspace, monkeypatch):
    # Each collection during the build scans every document parsed so far: measured,
    # a fifth of a build without the cache at 100,000 contacts.
    shared = workspace._shared
    store, seen = shared.store, []
    real = store.peek_many

    def noted(ids):
        seen.append(gc.isenabled())
        return real(ids)
    monkeypatch.setattr(store, "peek_many", noted)
    assert gc.isenabled()
    column_build.build_columns(shared, store.ids())
    assert seen and not any(seen)
    assert gc.isenabled()  # and running again afterwards
