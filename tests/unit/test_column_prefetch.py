"""The column cache read beside the store's opening (``early_columns``): taken only
when it was written for the position the store opened at; anything else (stale,
damaged, a reader that fails) is a miss, and the answers are the store's."""

from __future__ import annotations

import os
from datetime import datetime, timezone

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
        workspace.add_many(generate_contacts(600, 9, NOW.replace(hour=0)))
        workspace.stats()  # builds the columns; closing writes the cache
    assert sidecar_path(path).exists()
    return path


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


@pytest.fixture
def builds(monkeypatch):
    counted: list[int] = []
    original = ColumnState._build_in_chunks

    def counting(self, ids):
        counted.append(len(ids))
        return original(self, ids)
    monkeypatch.setattr(ColumnState, "_build_in_chunks", counting)
    return counted


def answers(path, early):
    with Workspace.open(path, None, clock=lambda: NOW, user="ola",
                        early_columns=early) as workspace:
        return workspace.stats(), workspace.select("temp:warm", "score")


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


@pytest.mark.parametrize("damage", ["truncate", "flip", "garbage"])
def test_a_damaged_cache_read_ahead_is_rebuilt_not_an_error(db, builds, damage):
    expected = answers(db, early=False)
    path = sidecar_path(db)
    data = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(data[:len(data) // 2])
    elif damage == "flip":
        middle = len(data) - 100
        path.write_bytes(data[:middle] + bytes([data[middle] ^ 0xFF]) + data[middle + 1:])
    else:
        path.write_bytes(b"not a cache at all\n" * 50)
    assert answers(db, early=True) == expected
    assert len(builds) == 1


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
