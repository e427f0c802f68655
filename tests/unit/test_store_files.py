"""The one atomic file writer (``funnel.engine.files``): the database, rules files and
exports all save through it, so its promises are pinned here once."""

from __future__ import annotations

import os
import stat

import pytest

from funnel.engine.files import AtomicFile, fsync_directory, write_atomically


@pytest.fixture
def umask_027():
    previous = os.umask(0o027)
    yield
    os.umask(previous)


def leftovers(folder):
    return [path.name for path in folder.iterdir() if path.name.startswith(".")]


def test_write_atomically_replaces_the_file_and_leaves_no_temp(tmp_path):
    target = tmp_path / "data.json"
    target.write_bytes(b"old")
    write_atomically(target, [b"new ", "text \u00e9", memoryview(b"!")], 0o640)
    assert target.read_bytes() == "new text \u00e9!".encode("utf-8")
    assert leftovers(tmp_path) == []


def test_the_mode_is_narrowed_by_the_umask_unless_exact(tmp_path, umask_027):
    loose, exact = tmp_path / "loose", tmp_path / "exact"
    write_atomically(loose, [b"x"], 0o664)
    write_atomically(exact, [b"x"], 0o664, exact_mode=True)
    assert stat.S_IMODE(loose.stat().st_mode) == 0o640
    assert stat.S_IMODE(exact.stat().st_mode) == 0o664


def test_an_error_while_writing_keeps_the_old_file_and_removes_the_temp(tmp_path):
    target = tmp_path / "data.json"
    target.write_bytes(b"old")

    def chunks():
        yield b"half"
        raise RuntimeError("the writer failed")

    with pytest.raises(RuntimeError):
        write_atomically(target, chunks(), 0o640)
    assert target.read_bytes() == b"old"
    assert leftovers(tmp_path) == []


def test_leaving_without_install_discards_the_temp(tmp_path):
    target = tmp_path / "snapshot"
    with AtomicFile(target, 0o640, kind="compact") as temp:
        assert temp.temp.name.startswith(f".snapshot.{os.getpid()}.")
        assert temp.temp.name.endswith(".compact")
        temp.write(b"stale")
        temp.sync()
    assert not target.exists() and leftovers(tmp_path) == []


def test_a_text_layer_writes_utf8_with_newlines_as_given(tmp_path):
    target = tmp_path / "export.csv"
    with AtomicFile(target, 0o640, exact_mode=True) as temp:
        out = temp.text(encoding="utf-8", newline="")
        out.write("a,\u00e9\r\nb,c\n")
        temp.install()
    assert target.read_bytes() == "a,\u00e9\r\nb,c\n".encode("utf-8")
    assert leftovers(tmp_path) == []


def test_a_missing_folder_is_an_os_error_and_leaves_nothing(tmp_path):
    with pytest.raises(FileNotFoundError):
        write_atomically(tmp_path / "absent" / "file", [b"x"], 0o640)
    fsync_directory(tmp_path)  # and a folder can be synced on its own
