"""What a served session's app process inherits from the server and the client."""

from __future__ import annotations

from pathlib import Path

import asyncssh
import pytest

from funnel.tui.serve.hub import Hub, ServeConfig
from funnel.tui.serve.keys import KeyRing


@pytest.fixture
def hub(tmp_path: Path) -> Hub:
    keys = tmp_path / "authorized_keys"
    public = asyncssh.generate_private_key("ssh-ed25519").export_public_key().decode()
    keys.write_text(public.strip() + " anna@laptop\n")
    config = ServeConfig(db=tmp_path / "db.json", authorized_keys=keys,
                         host_key=tmp_path / "host_key")
    return Hub(config, KeyRing(keys))


def test_the_servers_terminal_size_does_not_pin_the_sessions(hub, monkeypatch) -> None:
    """With COLUMNS/LINES inherited, the app ignores its pty's size and every resize."""
    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.setenv("LINES", "24")
    env = hub.app_env("anna", "xterm-256color", {"COLUMNS": "300", "LC_ALL": "C.UTF-8"})
    assert "COLUMNS" not in env and "LINES" not in env
    assert env["LC_ALL"] == "C.UTF-8" and env["FUNNEL_USER"] == "anna"


def test_a_client_cannot_steer_the_apps_python(hub) -> None:
    env = hub.app_env("anna", "xterm\x1b[2J", {"PYTHONPATH": "/tmp/evil", "LANG": "C.UTF-8"})
    assert env.get("PYTHONPATH") != "/tmp/evil"
    assert env["TERM"] == "xterm-256color"
    assert env["LANG"] == "C.UTF-8"
