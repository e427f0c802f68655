"""The column cache beside the store (``funnel.engine.columns.sidecar``), on real files.

A cache is used only when it was written whole for exactly the key asked for: the
store's sequence and chain (so another process's commit, a backup restored or another
database of the same sequence is seen), the rules' fingerprint, the columns' schema
and the day. Anything else (missing, stale, truncated, one changed byte, a hostile
header, not a file at all) gives None with a reason, at once, without an exception
and without allocating more than the file holds. Writing is atomic (a crash leaves
the old cache), the file is its owner's only, a read-only folder means no cache, and
``funnel check`` and compaction live beside it without tripping over it.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import struct
import subprocess
import sys
import tempfile
import textwrap
import tracemalloc
import zlib
from pathlib import Path

import numpy as np
import pytest

from cli_support import run_cli
from funnel.engine.columns.sidecar import (MAGIC, CacheKey, cache_key, load_columns,
                                           read_columns, save_columns, sidecar_path)
from funnel.engine.rules.loading import load_rules
from funnel.engine.store.contacts import ContactStore
from funnel.engine.store.journal import JournalStorage
from funnel.engine.store.layout import StorePaths, remove_stale_temps

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = "test-columns-1"


@pytest.fixture(scope="module")
def rules():
    return load_rules("default")


@pytest.fixture
def db(tmp_path) -> Path:
    return tmp_path / "leads.json"


def contact(number: int, **fields) -> dict:
    return {"name": f"Person {number}", "email": f"p{number}@example.com", "history": [],
            "rev": 0, "created_at": "2026-01-01T00:00:00Z", **fields}


def make_store(db: Path, count: int = 3, tag: str = "a") -> ContactStore:
    store = ContactStore(db)
    for number in range(1, count + 1):
        store.insert_many([contact(number, company=f"{tag}{number}")], by="test")
    return store


def sample_arrays(rows: int = 5) -> dict[str, np.ndarray]:
    return {
        "score": np.array([1.5, np.nan, -3.0, 0.0, 1e300][:rows]),
        "codes": np.arange(rows, dtype=np.int32),
        "small": np.arange(rows, dtype=np.uint16)[::-1],  # not contiguous
        "missing": np.array([True, False, True, False, False][:rows]),
        "when": np.array(["2026-01-01T10:00", "NaT", "1999-12-31T23:59", "2030-06-01",
                          "2026-11-22"][:rows], dtype="datetime64[s]"),
        "big_endian": np.arange(rows, dtype=">i4"),
        "pair": np.arange(rows * 2, dtype=np.float32).reshape(rows, 2),
        "empty": np.zeros(0, dtype=np.int64),
        "scalar": np.array(7, dtype=np.int8),
        "complex": np.array([1 + 2j] * rows, dtype=np.complex128),
    }


META = {"dictionary": ["", "Łódź", "naïve ☃", "a\nb"], "rows": 5, "nested": {"k": [1, 2]}}


def saved(db: Path, key: CacheKey) -> Path:
    assert save_columns(db, key, sample_arrays(), META)
    return sidecar_path(db)


def some_key(**changes) -> CacheKey:
    base = dict(seq=3, chain="1234abcd", rules="f" * 64, schema=SCHEMA, day=None)
    base.update(changes)
    return CacheKey(**base)


# -- round trip -------------------------------------------------------------------------

def test_arrays_of_every_kind_and_the_meta_come_back_as_they_were_saved(db):
    key = some_key()
    path = saved(db, key)
    assert path == db.with_name("leads.json.columns")
    assert stat.S_IMODE(path.stat().st_mode) == 0o640  # as the database: its group reads it
    found = load_columns(db, key)
    assert found is not None
    arrays, meta = found
    assert meta == META
    for name, original in sample_arrays().items():
        assert arrays[name].dtype == original.dtype, name
        assert arrays[name].shape == original.shape, name
        assert np.array_equal(arrays[name], original, equal_nan=original.dtype.kind in "fc"
                              ) or (original.dtype.kind == "M" and np.array_equal(
                                  np.isnat(arrays[name]), np.isnat(original))), name
    assert str(arrays["when"][2]) == "1999-12-31T23:59:00"


def test_the_expected_arrays_are_checked_by_name_dtype_and_shape(db):
    key = some_key()
    saved(db, key)
    expect = {name: (array.dtype, tuple(None if side == 5 else side for side in array.shape))
              for name, array in sample_arrays().items()}
    assert load_columns(db, key, expect=expect) is not None
    wrong_dtype = dict(expect, score=(np.float32, (None,)))
    assert "score is float64, not float32" in read_columns(db, key, expect=wrong_dtype).reason
    wrong_shape = dict(expect, pair=(np.float32, (None, 3)))
    assert "pair has shape (5, 2)" in read_columns(db, key, expect=wrong_shape).reason
    missing = dict(expect, rotting=(np.bool_, (None,)))
    assert "rotting" in read_columns(db, key, expect=missing).reason


@pytest.mark.parametrize("bad", [np.array(["a", "b"], dtype=object), np.array(["a", "b"]),
                                 np.zeros(2, dtype=[("x", "i4")]), [1, 2]])
def test_object_text_and_structured_arrays_are_refused_and_nothing_is_written(db, bad):
    with pytest.raises((TypeError, ValueError)):
        save_columns(db, some_key(), {"bad": bad}, {})
    assert not sidecar_path(db).exists()
    assert list(db.parent.iterdir()) == []


# -- the key ----------------------------------------------------------------------------

@pytest.mark.parametrize("field, value", [("seq", 4), ("chain", "abcd1234"),
                                          ("rules", "0" * 64), ("schema", "test-columns-2"),
                                          ("day", "2026-11-23")])
def test_a_cache_written_for_another_key_is_stale(db, field, value):
    saved(db, some_key())
    found = read_columns(db, some_key(**{field: value}))
    assert found.arrays is None and found.reason.startswith(f"stale: written for another {field}")
    assert load_columns(db, some_key(**{field: value})) is None


def test_the_key_follows_the_store_and_the_rules(db, rules):
    store = make_store(db)
    key = cache_key(store, rules, SCHEMA)
    assert key is not None and key.seq == store.version == 3 and key.rules == rules.fingerprint
    assert cache_key(store, load_rules("fit-first"), SCHEMA) != key  # other rules
    store.put(1, contact(1, rev=1, owner="anna"))
    assert cache_key(store, rules, SCHEMA).seq == 4
    store.close()


def test_another_database_with_the_same_sequence_has_another_key(tmp_path, rules):
    first, second = tmp_path / "first.json", tmp_path / "second.json"
    keys = []
    for path, tag in ((first, "a"), (second, "b")):
        store = make_store(path, tag=tag)
        keys.append(cache_key(store, rules, SCHEMA))
        store.close()
    assert keys[0].seq == keys[1].seq and keys[0].chain != keys[1].chain
    saved(first, keys[0])
    # The second database's files replace the first's; its cache stays behind.
    for suffix in ("", ".journal"):
        shutil.copy(str(second) + suffix, str(first) + suffix)
    store = ContactStore(first, create=False)
    found = read_columns(first, cache_key(store, rules, SCHEMA))
    store.close()
    assert found.arrays is None and "another chain" in found.reason


def test_a_restored_backup_that_went_on_differently_is_seen(tmp_path, db, rules):
    store = make_store(db)
    store.close()
    backup = tmp_path / "backup"
    backup.mkdir()
    for suffix in ("", ".journal"):
        shutil.copy(str(db) + suffix, backup)
    store = ContactStore(db)
    store.put(2, contact(2, rev=1, owner="anna"))
    key = cache_key(store, rules, SCHEMA)
    saved(db, key)
    store.close()
    for suffix in ("", ".journal"):
        shutil.copy(backup / (db.name + suffix), str(db) + suffix)
    store = ContactStore(db)
    store.put(2, contact(2, rev=1, owner="bartek"))  # the same sequence, another history
    other = cache_key(store, rules, SCHEMA)
    store.close()
    assert other.seq == key.seq and load_columns(db, other) is None


COMMIT = textwrap.dedent("""
    import sys
    from funnel.engine.store.contacts import ContactStore
    store = ContactStore(sys.argv[1], create=False)
    store.insert_many([{"name": "From elsewhere", "history": [], "rev": 0,
                        "created_at": "2026-01-02T00:00:00Z"}], by="other")
    store.close()
""")


def test_another_process_commit_makes_the_cache_stale(db, rules):
    store = make_store(db)
    key = cache_key(store, rules, SCHEMA)
    saved(db, key)
    subprocess.run([sys.executable, "-c", COMMIT, str(db)], check=True, timeout=60, cwd=ROOT)
    assert load_columns(db, key) is not None  # what this process has seen is still cached
    store.refresh()
    now = cache_key(store, rules, SCHEMA)
    assert now.seq == key.seq + 1
    assert "another seq" in read_columns(db, now).reason
    store.close()
    reopened = ContactStore(db, create=False)
    assert cache_key(reopened, rules, SCHEMA) == now
    reopened.close()


def test_a_database_written_whole_is_keyed_by_its_snapshot_sum(tmp_path, rules):
    # Written whole (TinyDB's Storage.write): a new sequence, nothing in the journal, so
    # the chain says nothing: the snapshot's own sum tells two such databases apart.
    keys = []
    for name, owner in (("a", "anna"), ("b", "bartek")):
        path = tmp_path / f"{name}.json"
        storage = JournalStorage(path)
        storage.write({"contacts": {"1": contact(1, owner=owner)}})
        storage.close()
        for _reopen in range(2):
            store = ContactStore(path, create=False)
            keys.append(cache_key(store, rules, SCHEMA))
            store.close()
    assert keys[0] == keys[1] and keys[2] == keys[3]  # the same files, the same key
    assert keys[0].seq == keys[2].seq == 1 and keys[0].chain.startswith("snapshot-")
    assert keys[0].chain != keys[2].chain


def test_a_snapshot_edited_by_hand_is_never_cached(db, rules):
    store = make_store(db)
    store.compact()
    store.close()
    db.write_bytes(db.read_bytes().replace(b"Person 2", b"Person X"))
    store = ContactStore(db, create=False)
    assert store.warnings  # the snapshot's sum no longer matches
    assert cache_key(store, rules, SCHEMA) is None
    assert read_columns(db, None).reason == "this state of the store may not be cached"
    with pytest.raises(TypeError):
        save_columns(db, None, {}, {})  # type: ignore[arg-type]
    store.close()


# -- damage -----------------------------------------------------------------------------

def _rewrite_header(path: Path, change) -> None:
    """Edit the header and give it a matching checksum: only the other checks remain."""
    data = path.read_bytes()
    magic, version, length, _crc, zero = struct.unpack_from("<8sIIII", data)
    header = json.loads(data[24:24 + length])
    change(header)
    new = json.dumps(header).encode()
    start = -(-(24 + length) // 64) * 64
    prefix = struct.pack("<8sIIII", magic, version, len(new), zlib.crc32(new), zero)
    path.write_bytes(prefix + new + bytes(-(-(24 + len(new)) // 64) * 64 - 24 - len(new))
                     + data[start:])


def _flip(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


def _huge_array(header) -> None:
    header["arrays"][0]["shape"] = [100 * 2**30 // 8]  # 100 GB of float64


def _huge_data(header) -> None:
    _huge_array(header)
    del header["arrays"][1:]
    header["data"]["bytes"] = 100 * 2**30  # and a consistent header, CRC and all


def _object_dtype(header) -> None:
    header["arrays"][0]["dtype"] = "|O"


def _overlap(header) -> None:
    header["arrays"][1]["offset"] = 0


DAMAGE = {
    "truncated in the prefix": lambda path: path.write_bytes(path.read_bytes()[:10]),
    "truncated in the header": lambda path: path.write_bytes(path.read_bytes()[:60]),
    "truncated in the data": lambda path: path.write_bytes(path.read_bytes()[:-7]),
    "extended": lambda path: path.write_bytes(path.read_bytes() + b"\0" * 64),
    "a byte flipped in the data": lambda path: _flip(path, path.stat().st_size - 100),
    "a byte flipped in the header": lambda path: _flip(path, 40),
    "a byte flipped in the padding": lambda path: _flip(
        path, (24 + struct.unpack_from("<I", path.read_bytes(), 12)[0]) | 63),
    "another format version": lambda path: _flip(path, 8),
    "a header claiming a 100 GB array": lambda path: _rewrite_header(path, _huge_array),
    "a header claiming 100 GB of data": lambda path: _rewrite_header(path, _huge_data),
    "a header length of 3 GB": lambda path: path.write_bytes(
        path.read_bytes()[:12] + struct.pack("<I", 3 * 2**30) + path.read_bytes()[16:]),
    "an object dtype": lambda path: _rewrite_header(path, _object_dtype),
    "overlapping arrays": lambda path: _rewrite_header(path, _overlap),
    "a header that is JSON but not a cache's": lambda path: _rewrite_header(
        path, lambda header: header.update(arrays={"x": 1})),
    "garbage": lambda path: path.write_bytes(os.urandom(5000)),
    "garbage after the magic": lambda path: path.write_bytes(MAGIC + os.urandom(5000)),
    "an empty file": lambda path: path.write_bytes(b""),
    "a directory": lambda path: (path.unlink(), path.mkdir()),
    "a FIFO": lambda path: (path.unlink(), os.mkfifo(path)),
    "missing": lambda path: path.unlink(),
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_a_damaged_cache_is_not_used_and_costs_nothing(db, damage):
    key = some_key()
    path = saved(db, key)
    DAMAGE[damage](path)
    tracemalloc.start()
    try:
        found = read_columns(db, key)
        assert load_columns(db, key) is None
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert found.arrays is None and found.meta is None and found.reason != "loaded"
    assert peak < 2**20, f"{damage}: {peak} bytes allocated"
    # And the cache is rebuilt over it (a directory or a FIFO in its place is left alone).
    rebuilt = damage not in ("a directory", "a FIFO")
    assert save_columns(db, key, sample_arrays(), META) == rebuilt
    assert (load_columns(db, key) is not None) == rebuilt


def test_the_reasons_say_what_was_wrong(db):
    key = some_key()
    path = saved(db, key)
    _flip(path, path.stat().st_size - 100)
    assert read_columns(db, key).reason == "damaged: the data's checksum does not match"
    path.write_bytes(b"")
    assert "truncated" in read_columns(db, key).reason
    path.unlink()
    os.mkfifo(path)
    assert read_columns(db, key).reason == "not a regular file"


# -- writing: atomic, and never an error ------------------------------------------------

CRASH_BEFORE_RENAME = textwrap.dedent("""
    import os, sys
    import numpy as np
    from funnel.engine.columns.sidecar import CacheKey, save_columns
    os.replace = lambda *args: os._exit(9)  # killed after the temp file, before the rename
    save_columns(sys.argv[1], CacheKey(9, "new", "r", "s"), {"x": np.ones(1000)}, {})
""")


def test_a_crash_before_the_rename_leaves_the_old_cache_readable(db):
    key = some_key()
    saved(db, key)
    crashed = subprocess.run([sys.executable, "-c", CRASH_BEFORE_RENAME, str(db)],
                             timeout=60, cwd=ROOT)
    assert crashed.returncode == 9
    temps = [path for path in db.parent.iterdir() if path.name.endswith(".tmp")]
    assert len(temps) == 1 and temps[0].name.startswith(".leads.json.columns.")
    arrays, meta = load_columns(db, key)
    assert meta == META and np.array_equal(arrays["codes"], np.arange(5))
    assert remove_stale_temps(StorePaths.of(db)) == temps  # its process is gone
    assert sidecar_path(db).exists()


READ_ONLY = textwrap.dedent("""
    import json, os, sys
    import numpy as np
    from funnel.engine.columns.sidecar import CacheKey, load_columns, save_columns
    if len(sys.argv) > 2:
        os.setgid(int(sys.argv[2]))
        os.setuid(int(sys.argv[2]))
    key = CacheKey(3, "1234abcd", "f" * 64, "test-columns-1")
    found = load_columns(sys.argv[1], key)
    print(json.dumps({"loaded": found is not None and found[1]["rows"],
                      "saved": save_columns(sys.argv[1], key, {"x": np.ones(3)}, {})}))
""")


def test_a_read_only_folder_means_no_new_cache_and_no_error():
    folder = Path(tempfile.mkdtemp(prefix="funnel-ro-"))
    try:
        db = folder / "leads.json"
        saved(db, some_key())
        before = sidecar_path(db).read_bytes()
        os.chmod(sidecar_path(db), 0o644)  # let the other user read the old cache
        os.chmod(folder, 0o555)
        command = [sys.executable, "-c", READ_ONLY, str(db)]
        if os.geteuid() == 0:
            command.append("65534")  # root writes anywhere: run as nobody
        finished = subprocess.run(command, capture_output=True, text=True, timeout=60,
                                  cwd=ROOT)
        assert finished.returncode == 0, finished.stderr[-2000:]
        assert json.loads(finished.stdout) == {"loaded": 5, "saved": False}
        assert sidecar_path(db).read_bytes() == before
    finally:
        os.chmod(folder, 0o755)
        shutil.rmtree(folder, ignore_errors=True)


# -- living beside the store ------------------------------------------------------------

def test_check_reports_a_database_with_a_cache_healthy_and_leaves_the_cache(tmp_path, db,
                                                                          rules):
    store = make_store(db)
    key = cache_key(store, rules, SCHEMA)
    store.close()
    path = saved(db, key)
    before = path.read_bytes()
    result = run_cli(tmp_path, "check", "--db", db, "--json")
    report = json.loads(result.stdout)
    assert result.returncode == 0 and report["healthy"] and report["repairs"] == []
    assert path.read_bytes() == before
    store = ContactStore(db, create=False)
    assert cache_key(store, rules, SCHEMA) == key and load_columns(db, key) is not None
    store.close()


def test_compaction_keeps_the_cache_and_its_key(db, rules):
    store = make_store(db, count=5)
    key = cache_key(store, rules, SCHEMA)
    path = saved(db, key)
    journal = StorePaths.of(db).journal.stat().st_size
    store.compact()
    assert StorePaths.of(db).journal.stat().st_size < journal  # folded into the snapshot
    assert cache_key(store, rules, SCHEMA) == key and path.exists()
    store.close()
    reopened = ContactStore(db, create=False)
    assert cache_key(reopened, rules, SCHEMA) == key  # the chain's sum carried over
    assert sorted(reopened.ids()) == [1, 2, 3, 4, 5]
    reopened.put(1, contact(1, rev=1))
    assert load_columns(db, cache_key(reopened, rules, SCHEMA)) is None
    reopened.close()


def test_deleting_the_cache_is_always_safe(db, rules):
    store = make_store(db)
    saved(db, cache_key(store, rules, SCHEMA))
    sidecar_path(db).unlink()
    assert read_columns(db, cache_key(store, rules, SCHEMA)).reason == "no cache"
    store.put(1, contact(1, rev=1))
    assert sorted(store.ids()) == [1, 2, 3]
    store.close()
