"""Opening a named input file: regular files only, within a size limit, and a FIFO
never blocks the open."""

from __future__ import annotations

import os
import socket
import threading

import pytest

from funnel.engine.inputs import InputFileError, is_input_file, open_input, read_input


def refusal(path, limit=1000) -> str:
    with pytest.raises(InputFileError) as caught:
        read_input(path, limit, "rules file")
    return str(caught.value)


def test_a_regular_file_within_the_limit_is_read(tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_bytes(b"scoring: {}\n")
    assert read_input(path, 100, "rules file") == b"scoring: {}\n"
    assert is_input_file(path)


def test_devices_folders_and_missing_files_are_refused_by_name(tmp_path):
    assert refusal("/dev/zero") == ("/dev/zero: is a device; only regular files can be "
                                    "read as a rules file")
    assert "is a folder" in refusal(tmp_path)
    assert refusal(tmp_path / "nope") == f"{tmp_path / 'nope'}: no such rules file"
    assert not is_input_file("/dev/zero") and not is_input_file(tmp_path)


def test_a_fifo_is_refused_at_once_instead_of_waiting_for_a_writer(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    outcome: list[str] = []
    reader = threading.Thread(target=lambda: outcome.append(refusal(fifo)), daemon=True)
    reader.start()
    reader.join(timeout=5)
    if reader.is_alive():  # unblock the open so the thread ends, then fail
        with open(fifo, "wb"):
            pass
        pytest.fail("opening a FIFO blocked")
    assert outcome == [f"{fifo}: is a pipe (FIFO); only regular files can be read as a rules file"]


def test_a_socket_is_refused(tmp_path):
    path = tmp_path / "s"
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(path))
    try:
        assert "is a socket" in refusal(path)
    finally:
        server.close()


def test_a_file_over_the_limit_is_refused_before_it_is_read(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_bytes(b"x" * 2048)
    assert refusal(path, limit=1024) == (f"{path}: is 2.0 KiB; a rules file may be at most "
                                         "1.0 KiB")


def test_an_unreadable_file_says_permission_denied(tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root reads every file")
    path = tmp_path / "secret"
    path.write_bytes(b"x")
    path.chmod(0)
    assert "permission denied" in refusal(path)


def test_open_input_gives_a_blocking_binary_handle(tmp_path):
    path = tmp_path / "rows.csv"
    path.write_bytes(b"a,b\n1,2\n")
    with open_input(path, 100, "import file") as handle:
        assert os.get_blocking(handle.fileno())
        assert handle.read() == b"a,b\n1,2\n"
