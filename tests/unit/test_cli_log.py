"""``funnel log ID KIND``: in-process runs on a real database file. A good log prints
the new classification (``--json``: id, the activity as stored, before and after);
a bad kind, date, outcome, note or id is one line on stderr, exit 2, and the
database files are left byte for byte as they were."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from funnel.engine.model import format_datetime, utc_now
from funnel.engine.workspace.facade import Workspace

from cli_support import run_cli


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """Two contacts: #1 a lead idle for 100 days (rotting), #2 a fresh one."""
    path = tmp_path / "funnel.json"
    long_ago = format_datetime(utc_now() - timedelta(days=100))
    with Workspace.open(path, "default", user="setup") as workspace:
        workspace.add({"name": "Idle Lead", "email": "idle@example.com", "created_at": long_ago})
        workspace.add({"name": "New Lead", "email": "new@example.com"})
    return path


def files(db: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in db.parent.iterdir()
            if path.name.startswith(db.name) and not path.name.endswith(".lock")}


def test_log_json_gives_the_activity_and_the_classification_before_and_after(tmp_path, db):
    ran = run_cli(tmp_path, "log", "1", "call", "--db", db, "--note", "line one\n[bold]two",
                  "--outcome", "left message", "--follow-up", "tomorrow", "--by", "ola",
                  "--json")
    assert ran.returncode == 0, ran.stderr
    data = json.loads(ran.stdout)
    assert set(data) >= {"id", "activity", "changed", "before", "after"}
    assert data["id"] == 1
    assert data["activity"]["kind"] == "call" and data["activity"]["outcome"] == "left_message"
    assert data["activity"]["note"] == "line one\n[bold]two"
    tomorrow = (utc_now() + timedelta(days=1)).date().isoformat()
    assert data["changed"] == {"follow_up": {"from": None, "to": tomorrow}}
    assert data["before"]["rotting"] is True and data["after"]["rotting"] is False
    assert data["after"]["engagement"] > data["before"]["engagement"]
    with Workspace.open(db, "default") as workspace:
        stored = workspace.get(1)
        assert stored["activities"][-1] == data["activity"]
        assert stored["history"][-2]["by"] == "ola"  # the activity entry, then the follow-up


def test_log_text_names_what_was_logged(tmp_path, db):
    ran = run_cli(tmp_path, "log", "2", "email", "--db", db, "--at", "2 hours ago",
                  "--note", "sent the price list")
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.startswith("#2: logged email_sent at ")
    assert "  sent the price list" in ran.stdout


@pytest.mark.parametrize("arguments, said", [
    (["1", "fax"], "'fax' is not an activity kind"),
    (["99", "call"], "99"),
    (["1", "call", "--at", "tomorrow"], "in the future"),
    (["1", "call", "--at", "31/02"], "'31/02' is not a moment"),
    (["1", "call", "--follow-up", "31/02"], "'31/02' is not a date"),
    (["1", "call", "--outcome", "maybe"], "'maybe' is not an outcome"),
    (["1", "call", "--note", "red \x1b[31m"], "control character"),
    (["1", "call", "--by", "bad\nname"], "--by"),
])
def test_bad_input_is_one_line_exit_2_and_nothing_written(tmp_path, db, arguments, said):
    before = files(db)
    ran = run_cli(tmp_path, "log", *arguments, "--db", db)
    assert ran.returncode == 2
    assert ran.stdout == ""
    assert len(ran.stderr.strip().splitlines()) == 1 and said in ran.stderr
    assert "\x1b" not in ran.stderr and "Traceback" not in ran.stderr
    assert files(db) == before
