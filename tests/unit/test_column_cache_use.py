"""The column cache beside the database (issue #13): a later session that finds it
written for exactly the store's state reads no document to answer lists and counts;
a stale or damaged one is rebuilt from the store, and the answer is the store's. Read
ahead (beside the store's opening) or after, the same."""

from __future__ import annotations

import os
from datetime import datetime, timezone

import numpy as np
import pytest

from funnel.engine.columns import sidecar
from funnel.engine.columns.sidecar import sidecar_path
from funnel.engine.demo.generate import generate_contacts
from funnel.engine.workspace import column_build, column_prefetch, forked
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


def answers(path, early=False):
    """Counts and a list; ``early``: the cache read beside the store's opening."""
    with Workspace.open(path, None, clock=lambda: NOW, user="ola",
                        early_columns=early) as workspace:
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


@pytest.mark.parametrize("early", [False, True], ids=["read after", "read ahead"])
@pytest.mark.parametrize("damage", ["truncate", "flip", "empty", "garbage"])
def test_a_damaged_cache_is_rebuilt_not_an_error(db, builds, damage, early):
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
    assert answers(db, early) == expected
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

# -- read ahead: beside the store's opening (``early_columns``) -------------------------
# Taken only when written for the position the store opened at; anything else (stale,
# damaged, a reader that fails) is a miss, and the answers are the store's.

@pytest.fixture
def reads(monkeypatch):
    """Which way the cache was read: "ahead" (beside the opening) or "after"."""
    seen: list[str] = []
    ahead, after = column_prefetch.read_any_columns, ColumnState._load.__globals__[
        "read_columns"]

    def read_ahead(database):
        seen.append("ahead")
        return ahead(database)

    def read_after(database, key, **options):
        seen.append("after")
        return after(database, key, **options)
    monkeypatch.setattr(column_prefetch, "read_any_columns", read_ahead)
    monkeypatch.setattr("funnel.engine.workspace.column_state.read_columns", read_after)
    return seen


def test_a_current_cache_read_ahead_is_used_once_and_answers_the_same(db, reads, builds):
    expected = answers(db, early=False)
    assert reads == ["after"]
    reads.clear()
    assert answers(db, early=True) == expected
    assert reads == ["ahead"] and builds == []  # not read a second time, nor built


def test_a_cache_read_ahead_but_left_behind_by_another_commit_is_not_used(db, reads,
                                                                          builds):
    with Workspace.open(db, None, clock=lambda: NOW, user="eve") as other:
        target = other.select("unowned")[0]
        other._cache.save = lambda: False  # this writer leaves the cache behind
        other.edit(target, {"owner": "eve"})
    reads.clear()
    stats, _ = answers(db, early=True)
    # Read ahead, found stale for the store's position; read again (it may have been
    # written meanwhile), stale again; built from the documents.
    assert reads == ["ahead", "after"] and len(builds) == 1
    with Workspace.open(db, None, clock=lambda: NOW, user="ola",
                        early_columns=True) as workspace:
        assert workspace.select("owner:eve") == [target]
        assert workspace.stats() == stats


def test_a_reader_that_fails_is_a_miss_not_a_failed_opening(db, monkeypatch, builds):
    expected = answers(db, early=False)

    def fails(database):
        raise MemoryError("no room")
    monkeypatch.setattr(column_prefetch, "read_any_columns", fails)
    assert answers(db, early=True) == expected
    assert builds == []  # the ordinary read found the cache


def test_without_a_cache_the_build_still_forks_after_the_reader_is_done(
        db, monkeypatch, builds):
    if not forked.can_fork():
        pytest.skip("needs fork and two cores")
    expected = answers(db, early=False)
    sidecar_path(db).unlink()
    monkeypatch.setattr(column_build, "MIN_ITEMS", 100)
    children = []
    real_fork = os.fork

    def counted_fork():
        children.append(1)
        return real_fork()
    monkeypatch.setattr(os, "fork", counted_fork)
    assert answers(db, early=True) == expected
    assert children == [1]  # the reader thread was joined: the process could fork


def test_the_key_read_ahead_is_checked_against_the_store_position(db):
    found = sidecar.read_any_columns(db)
    assert found.arrays is not None and found.written is not None
    with Workspace.open(db, None, clock=lambda: NOW, user="ola") as workspace:
        key = sidecar.cache_key(workspace._store, "-", found.written["schema"])
    assert key is not None
    assert found.serves(key) is found
    other = sidecar.CacheKey(key.seq + 1, key.chain, key.rules, key.schema)
    missed = found.serves(other)
    assert missed.arrays is None and "seq" in missed.reason
