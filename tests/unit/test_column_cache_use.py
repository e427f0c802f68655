"""The column cache beside the database (issue #13): a later session that finds it
written for exactly the store's state reads no document to answer lists and counts;
a stale or damaged one is rebuilt from the store, and the answer is the store's."""

from __future__ import annotations

from datetime import datetime, timezone

import numpy as np
import pytest

from funnel.engine.columns.sidecar import sidecar_path
from funnel.engine.demo.generate import generate_contacts
from funnel.engine.workspace.column_state import ColumnState
from funnel.engine.workspace.facade import Workspace

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "d.json"
    with Workspace.open(path, None, clock=lambda: NOW, user="ola") as workspace:
        workspace.add_many(generate_contacts(800, 5, NOW.replace(hour=0)))
        workspace.stats()  # builds the columns; closing writes the cache
    assert sidecar_path(path).exists()
    return path


@pytest.fixture
def builds(monkeypatch):
    """How many times the columns were built from the documents."""
    counted = []
    original = ColumnState._build_in_chunks

    def counting(self, ids):
        counted.append(1)
        return original(self, ids)
    monkeypatch.setattr(ColumnState, "_build_in_chunks", counting)
    return counted


def answers(path):
    with Workspace.open(path, None, clock=lambda: NOW, user="ola") as workspace:
        return workspace.stats(), workspace.select("temp:hot", "name")


def test_a_current_cache_is_used_and_gives_the_same_answers(db, builds):
    sidecar_path(db).rename(db.with_name("kept"))
    fresh = answers(db)  # no cache: built (and written again)
    assert builds == [1]
    cached = answers(db)
    assert builds == [1]  # not built again: read from the cache
    assert cached == fresh


def test_a_cache_behind_another_process_commit_is_rebuilt(db, builds):
    with Workspace.open(db, None, clock=lambda: NOW, user="eve") as other:
        target = other.select("temp:cold unowned")[0]
        other._cache.save = lambda: False  # this writer leaves the cache behind
        other.edit(target, {"owner": "eve"})
    stats, _ = answers(db)
    assert builds == [1]
    with Workspace.open(db, None, clock=lambda: NOW, user="ola") as workspace:
        assert target in workspace.select("owner:eve")
    assert builds == [1]  # the rebuilt cache was written and is now current


def test_an_edit_in_this_session_is_cached_at_close(db, builds):
    with Workspace.open(db, None, clock=lambda: NOW, user="ola") as workspace:
        target = workspace.select("unowned")[0]
        workspace.edit(target, {"owner": "zoe"})
        assert target in workspace.select("owner:zoe")
    assert builds == []
    with Workspace.open(db, None, clock=lambda: NOW, user="ola") as workspace:
        assert workspace.select("owner:zoe") == [target]
    assert builds == []


@pytest.mark.parametrize("damage", ["truncate", "flip", "empty", "garbage"])
def test_a_damaged_cache_is_rebuilt_not_an_error(db, builds, damage):
    expected = answers(db)
    path = sidecar_path(db)
    data = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(data[:len(data) // 2])
    elif damage == "flip":
        middle = len(data) - 100
        path.write_bytes(data[:middle] + bytes([data[middle] ^ 0xFF]) + data[middle + 1:])
    elif damage == "empty":
        path.write_bytes(b"")
    else:
        path.write_bytes(b"not a cache at all\n" * 50)
    assert answers(db) == expected
    assert builds == [1]


def test_a_cache_of_other_rules_days_or_users_is_still_the_same_columns(db, builds):
    """The cached columns hold the documents' values only: other rules, another day or
    another user classify them afresh without reading any document."""
    with Workspace.open(db, "fit-first", clock=lambda: NOW, user="eve") as workspace:
        assert workspace.stats()["rules"] == "fit-first"
    assert builds == []


def test_a_session_that_lists_counts_and_sorts_parses_no_value_it_does_not_read(db):
    # At a million contacts the near-unique values (e-mail, phone, the moments) are a
    # quarter of a gigabyte of text: the cache's stay unparsed until something reads
    # them, while every answer is the one the documents give.
    expected = answers(db)
    with Workspace.open(db, None, clock=lambda: NOW, user="ola") as workspace:
        assert (workspace.stats(), workspace.select("temp:hot", "name")) == expected
        workspace.select("", "attention")
        workspace.select("", "created")
        table = workspace._cache._columns.table()
        unread = {name for name, column in table.columns.items() if column._values is None}
        assert {"email", "phone", "created_at", "stage_since"} <= unread
        contact = workspace.select("", "attention")[0]
        document = workspace.get(contact)
        assert contact in workspace.select(document["email"])  # a text search: parsed now
        assert table.columns["email"]._values is not None


def test_a_cache_whose_values_are_damaged_under_a_good_checksum_is_rebuilt(db, builds):
    # Values are parsed when first needed, after the cache was taken: a file written
    # by hand with its checksums made to match is found out then, and the columns are
    # built from the store, the question answered as if there had been no cache.
    from funnel.engine.columns import sidecar

    with Workspace.open(db, None, clock=lambda: NOW, user="ola") as workspace:
        target = workspace.select("", "attention")[3]
        address = workspace.get(target)["email"]
        expected = workspace.select(address, "name")
    found = sidecar.read_any_columns(db)
    arrays = dict(found.arrays)
    text = arrays["values.email"].tobytes()
    cut = text.index(b'"', 10)
    arrays["values.email"] = np.frombuffer(text[:cut] + b"x" + text[cut + 1:], np.uint8)
    assert sidecar.save_columns(db, sidecar.CacheKey(**found.written), arrays, found.meta)
    with Workspace.open(db, None, clock=lambda: NOW, user="ola") as workspace:
        assert workspace.select(address, "name") == expected  # a text search reads e-mail
        assert builds == [1]
    with Workspace.open(db, None, clock=lambda: NOW, user="ola") as workspace:
        assert workspace.select(address, "name") == expected
    assert builds == [1]  # the cache written again at close is whole
