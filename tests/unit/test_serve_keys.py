"""``funnel serve``'s gatekeeping: the authorized-keys file, user names, the host key,
and the command line's one-line errors for bad input (no SSH client needed)."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest

asyncssh = pytest.importorskip("asyncssh", reason="funnel serve needs asyncssh "
                               "(pip install -e '.[test]' installs it)")

from cli_support import Ran, run_cli  # noqa: E402
from funnel.engine.errors import FunnelError  # noqa: E402
from funnel.tui.serve.hostkey import load_or_create_host_key  # noqa: E402
from funnel.tui.serve.keys import (KeyRing, check_user_name, parse_authorized_keys,  # noqa: E402
                            read_authorized_keys, user_from_comment)


@pytest.fixture(scope="module")
def public_keys() -> list[str]:
    """Three real public keys, as ``TYPE BASE64`` (no comment)."""
    keys = [asyncssh.generate_private_key("ssh-ed25519"),
            asyncssh.generate_private_key("ssh-ed25519"),
            asyncssh.generate_private_key("ecdsa-sha2-nistp256")]
    return [" ".join(key.export_public_key().decode().split()[:2]) for key in keys]


def parse(text: str):
    return parse_authorized_keys(text, "keys")


def error_of(text: str) -> str:
    with pytest.raises(FunnelError) as caught:
        parse(text)
    return str(caught.value)


# -- user names ----------------------------------------------------------------------
@pytest.mark.parametrize("comment, user", [
    ("anna@laptop", "anna"), ("anna.k@example.com", "anna.k"), ("Anna Smith", "Anna"),
    ("bob", "bob"), ("", ""), ("  eva@x  trailing words", "eva"), ("Łucja@dom", "Łucja")])
def test_user_from_comment(comment, user):
    assert user_from_comment(comment) == user


def test_comment_names_the_user(public_keys):
    keys = parse(f"{public_keys[0]} anna@laptop\n{public_keys[2]} bob\n")
    assert [(key.user, key.line) for key in keys] == [("anna", 1), ("bob", 2)]
    assert keys[0].key_type == "ssh-ed25519" and keys[1].key_type == "ecdsa-sha2-nistp256"
    assert keys[0].fingerprint.startswith("SHA256:")


def test_environment_option_wins_over_the_comment(public_keys):
    (key,) = parse(f'environment="FUNNEL_USER=carmen" {public_keys[0]} anna@laptop')
    assert key.user == "carmen"


def test_restricting_options_are_accepted(public_keys):
    line = (f'restrict,pty,no-port-forwarding,no-agent-forwarding,no-X11-forwarding,'
            f'no-user-rc,environment="FUNNEL_USER=dmitri" {public_keys[1]}')
    (key,) = parse(line)
    assert key.user == "dmitri"


def test_comments_blank_lines_and_crlf_are_skipped(public_keys):
    text = f"# the sales team\r\n\r\n   \n{public_keys[0]} anna@laptop\r\n# end\n"
    assert [(key.user, key.line) for key in parse(text)] == [("anna", 4)]


def test_a_key_is_found_by_its_wire_form(public_keys, tmp_path):
    path = tmp_path / "authorized_keys"
    path.write_text(f"{public_keys[0]} anna@laptop\n{public_keys[1]} bob@laptop\n")
    ring = KeyRing(path)
    offered = asyncssh.import_public_key(public_keys[1])
    assert ring.find(offered.public_data).user == "bob"
    stranger = asyncssh.generate_private_key("ssh-ed25519").convert_to_public()
    assert ring.find(stranger.public_data) is None
    assert ring.users() == ["anna", "bob"]


@pytest.mark.parametrize("name, ok", [
    ("anna", True), ("Łucja", True), ("a" * 64, True), ("a" * 65, False), ("", False),
    ("anna smith", False), ("bad\x1b[31m", False), ("tab\there", False)])
def test_check_user_name(name, ok):
    assert (check_user_name(name) is None) is ok


# -- malformed lines: file and line named ---------------------------------------------
def test_malformed_lines_name_file_and_line(public_keys):
    good = f"{public_keys[0]} anna@laptop\n"
    cases = {
        "not a key at all": "not a public key line",
        f"{public_keys[1].split()[0]} AAAAnotbase64!!! bob": "does not decode",
        "ssh-ed25519": "has no data",
        f"{public_keys[1]}": "no user name",
        f'environment="FUNNEL_USER=" {public_keys[1]}': "no user name",
        f'from="10.0.0.0/8" {public_keys[1]} bob': "unsupported option 'from'",
        f'command="/bin/sh" {public_keys[1]} bob': "unsupported option 'command'",
        f'environment="PATH=/tmp" {public_keys[1]} bob': "only environment=\"FUNNEL_USER",
        f'environment="FUNNEL_USER=bob {public_keys[1]}': "never closed",
        f"{public_keys[0]} anna-again": "already on line 1 (for anna)",
        f'environment="FUNNEL_USER=bob smith" {public_keys[1]}': "spaces",
        f"ssh-ed25519-cert-v01@openssh.com AAAA bob": "certificates are not supported",
        f"ssh-rsa {public_keys[1].split()[1]} bob": "algorithm mismatch",
    }
    for line, expected in cases.items():
        message = error_of(good + "\n" + line + "\n")
        assert message.startswith("keys:3: "), (line, message)
        assert expected in message, (line, message)
        assert "\n" not in message


def test_file_errors(tmp_path, public_keys):
    with pytest.raises(FunnelError, match="no such authorized-keys file"):
        read_authorized_keys(tmp_path / "missing")
    with pytest.raises(FunnelError, match="is a directory"):
        read_authorized_keys(tmp_path)
    empty = tmp_path / "empty"
    empty.write_text("# nobody yet\n")
    with pytest.raises(FunnelError, match="holds no keys"):
        read_authorized_keys(empty)
    binary = tmp_path / "binary"
    binary.write_bytes(f"{public_keys[0]} anna\n".encode() + b"\xff\xfe\n")
    with pytest.raises(FunnelError, match=r"binary:2: not UTF-8"):
        read_authorized_keys(binary)
    if os.geteuid() != 0:  # root reads everything
        locked = tmp_path / "locked"
        locked.write_text(f"{public_keys[0]} anna\n")
        locked.chmod(0)
        with pytest.raises(FunnelError, match="cannot read"):
            read_authorized_keys(locked)


def test_the_ring_follows_the_file_and_keeps_old_keys_when_it_breaks(tmp_path,
                                                                      public_keys):
    path = tmp_path / "authorized_keys"
    path.write_text(f"{public_keys[0]} anna\n")
    ring = KeyRing(path)
    assert ring.reload_if_changed() is None and ring.users() == ["anna"]
    path.write_text(f"{public_keys[0]} anna\n{public_keys[1]} bob\n")
    os.utime(path, ns=(1, 1))  # a changed stamp even on coarse file systems
    assert ring.reload_if_changed() is None and ring.users() == ["anna", "bob"]
    path.write_text(f"{public_keys[0]} anna\nrubbish\n")
    problem = ring.reload_if_changed()
    assert "authorized_keys:2:" in problem and "keeping the 2 keys" in problem
    assert ring.users() == ["anna", "bob"]
    assert ring.reload_if_changed() is None  # reported once


# -- the host key ---------------------------------------------------------------------
def test_host_key_is_created_private_and_then_kept(tmp_path):
    path = tmp_path / "deep" / "hostkey"
    key, created = load_or_create_host_key(path)
    assert created and stat.S_IMODE(path.stat().st_mode) == 0o600
    again, created_again = load_or_create_host_key(path)
    assert not created_again
    assert again.get_fingerprint() == key.get_fingerprint()
    assert (tmp_path / "deep" / "hostkey.pub").read_text().startswith("ssh-ed25519 ")


def test_host_key_problems(tmp_path):
    path = tmp_path / "hostkey"
    load_or_create_host_key(path)
    path.chmod(0o644)
    with pytest.raises(FunnelError, match="readable by others.*chmod 600"):
        load_or_create_host_key(path)
    junk = tmp_path / "junk"
    junk.write_text("not a key")
    junk.chmod(0o600)
    with pytest.raises(FunnelError, match="not a usable private host key"):
        load_or_create_host_key(junk)


# -- the command line: one line on stderr, exit 2 -------------------------------------
def serve_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FUNNEL_")}
    env["XDG_DATA_HOME"] = str(tmp_path / "data")
    env["XDG_CONFIG_HOME"] = str(tmp_path / "config")
    return env


def run_serve(tmp_path: Path, *args: str) -> Ran:
    """``funnel serve`` in this process: each of these is refused before it listens."""
    return run_cli(tmp_path, "serve", "--db", tmp_path / "leads.json", *args,
                   env=serve_env(tmp_path))


def serve_process(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    """``funnel serve`` as a real process (a regression that listens cannot hang the run)."""
    return subprocess.run([sys.executable, "-m", "funnel.tui.cli", "serve", "--db",
                           str(tmp_path / "leads.json"), *args], env=serve_env(tmp_path),
                          cwd=tmp_path, capture_output=True, text=True, timeout=60)


def assert_one_line_error(result: Ran | subprocess.CompletedProcess, *fragments: str) -> None:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("funnel: "), result.stderr
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def test_cli_bad_input(tmp_path, public_keys):
    keys = tmp_path / "keys"
    keys.write_text(f"{public_keys[0]} anna\n{public_keys[1]}\n")
    assert_one_line_error(run_serve(tmp_path), "config/funnel/authorized_keys",
                          "no such authorized-keys file")
    assert_one_line_error(run_serve(tmp_path, "--authorized-keys", str(keys)),
                          f"{keys}:2:", "no user name")
    keys.write_text(f"{public_keys[0]} anna\n")
    assert_one_line_error(run_serve(tmp_path, "--authorized-keys", str(keys), "--port",
                                    "70000"), "--port 70000")
    assert_one_line_error(run_serve(tmp_path, "--authorized-keys", str(keys),
                                    "--max-sessions", "0"), "--max-sessions")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert_one_line_error(serve_process(tmp_path, "--authorized-keys", str(keys),
                                            "--port", str(port)),
                              f"127.0.0.1:{port}", "already in use", "--port")
