"""Opening a snapshot by index (documents left in the file) gives exactly what parsing the
whole file gives: every table, id, order and document, at every piece boundary."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from funnel.engine.errors import StorageError
from funnel.engine.store import snapshot_index
from funnel.engine.store.migrate import read_snapshot
from funnel.engine.store.snapshot import write_snapshot
from funnel.engine.store.snapshot_rows import SnapshotRows


def parsed_whole(path: Path) -> dict:
    """The reference: the file parsed by the json module."""
    return json.loads(path.read_text(encoding="utf-8"))["tables"]


def read_back(path: Path) -> dict:
    snapshot = read_snapshot(path)
    assert snapshot.sealed
    return {name: {key: docs[key] for key in docs} for name, docs in snapshot.tables.items()}


def rows_of(path: Path) -> dict:
    return {name: docs._raw for name, docs in read_snapshot(path).tables.items()}


text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12)
document = st.dictionaries(st.sampled_from(["name", "note", '":{', "x\n", "é"]),
                           text | st.integers(-5, 10**6), max_size=4)
numeric_ids = st.lists(st.integers(0, 10**12), unique=True, max_size=12).map(
    lambda ids: [str(i) for i in ids])
any_ids = st.lists(st.text(alphabet="ab1é\"\\:{ ", min_size=1, max_size=6), unique=True,
                   max_size=6)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tables=st.dictionaries(st.sampled_from(["contacts", "meta", "views"]),
                              st.one_of(numeric_ids, any_ids), max_size=3),
       docs=st.data(), piece=st.sampled_from([64, 97, 4096, 1 << 20]))
def test_the_index_reads_what_the_whole_file_says(tmp_path: Path, monkeypatch, tables, docs,
                                                  piece):
    monkeypatch.setattr(snapshot_index, "PIECE", piece)  # lines cross the pieces' edges
    content = {name: {key: docs.draw(document) for key in ids} for name, ids in tables.items()}
    path = tmp_path / "db.json"
    write_snapshot(path, content, seq=7)
    expected = parsed_whole(path)
    got = read_back(path)
    assert got == expected
    assert [list(docs) for docs in got.values()] == [list(docs) for docs in expected.values()]
    if not any('"' in key or "\\" in key for ids in tables.values() for key in ids):
        assert all(isinstance(rows, SnapshotRows) for rows in rows_of(path).values())


def test_plain_number_ids_are_indexed_without_strings(tmp_path: Path):
    path = tmp_path / "db.json"
    write_snapshot(path, {"contacts": {str(i): {"name": f"n{i}"} for i in range(1, 2001)},
                          "meta": {"schema": {"v": 1}}}, seq=3)
    rows = rows_of(path)
    contacts = rows["contacts"]
    assert isinstance(contacts, SnapshotRows)
    assert contacts._keys.names is None and len(contacts._keys.numbers) == 2000
    assert rows["meta"]._keys.names == ["schema"]
    for absent in ("0", "2001", "01", "1.0", " 1", "-1", "", "１"):
        assert absent not in contacts
    assert b'"n1500"' in contacts["1500"]


def test_writes_and_deletes_after_opening_are_held_apart_from_the_file(tmp_path: Path):
    path = tmp_path / "db.json"
    write_snapshot(path, {"contacts": {"1": {"a": 1}, "2": {"a": 2}, "5": {"a": 5}}}, seq=1)
    before = path.read_bytes()
    docs = read_snapshot(path).tables["contacts"]
    docs["2"] = {"a": 22}
    docs["9"] = {"a": 9}
    del docs["1"]
    copy = docs.copy()
    del docs["9"]
    assert list(docs) == ["2", "5"] and len(docs) == 2
    assert docs["2"] == {"a": 22} and "1" not in docs and "9" not in docs
    assert list(copy) == ["2", "5", "9"] and len(copy) == 3 and copy["9"] == {"a": 9}
    docs["1"] = {"a": 11}
    assert list(docs) == ["1", "2", "5"] and docs["1"] == {"a": 11}
    with pytest.raises(KeyError):
        del docs["7"]
    assert path.read_bytes() == before


def test_a_snapshot_replaced_by_rename_still_reads_what_was_indexed(tmp_path: Path):
    path = tmp_path / "db.json"
    write_snapshot(path, {"contacts": {str(i): {"v": i} for i in range(1, 500)}}, seq=1)
    docs = read_snapshot(path).tables["contacts"]
    write_snapshot(path, {"contacts": {"1": {"v": "new"}}}, seq=2)  # temp file + rename
    assert docs["1"] == {"v": 1} and docs["499"] == {"v": 499}


def test_a_snapshot_cut_short_while_open_is_a_clear_error(tmp_path: Path):
    path = tmp_path / "db.json"
    write_snapshot(path, {"contacts": {str(i): {"v": "x" * 200} for i in range(1, 2000)}},
                   seq=1)
    docs = read_snapshot(path).tables["contacts"]
    os.truncate(path, 1000)  # in place: the open handle sees it
    with pytest.raises(StorageError, match="cut short while open"):
        docs["1999"]


@pytest.mark.parametrize("change", [
    lambda data: data.replace(b'\n"2":', b'\n"2":', 1).replace(b'"3":', b'"2":', 1),  # id twice
    lambda data: data.replace(b'"tables":{\n', b'"tables":{\n\n', 1),  # a blank line
    lambda data: data.replace(b'"3":{', b'"3" :{', 1),  # spaced by hand
])
def test_a_file_laid_out_otherwise_is_read_the_general_way(tmp_path: Path, change):
    path = tmp_path / "db.json"
    write_snapshot(path, {"contacts": {str(i): {"v": i} for i in range(1, 6)}}, seq=1)
    path.write_bytes(change(path.read_bytes()))
    assert snapshot_index.index_snapshot(
        snapshot_index.SnapshotFile(os.open(path, os.O_RDONLY), str(path))) is None
    snapshot = read_snapshot(path)  # the sum no longer matches: read, with a warning
    assert snapshot.warning and not snapshot.sealed
    assert {key: snapshot.tables["contacts"][key] for key in snapshot.tables["contacts"]} \
        == json.loads(path.read_bytes())["tables"]["contacts"]


def test_a_file_of_many_blank_lines_is_not_indexed_line_by_line(tmp_path: Path):
    path = tmp_path / "db.json"
    write_snapshot(path, {"contacts": {"1": {"v": 1}}}, seq=1)
    data = path.read_bytes()
    path.write_bytes(data.replace(b'"tables":{\n', b'"tables":{\n' + b"\n" * 20_000, 1))
    file = snapshot_index.SnapshotFile(os.open(path, os.O_RDONLY), str(path))
    assert snapshot_index.index_snapshot(file) is None  # given up early, not every line kept
    snapshot = read_snapshot(path)  # read the general way: still valid JSON
    assert snapshot.tables["contacts"]["1"] == {"v": 1} and snapshot.warning
