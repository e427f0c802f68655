"""Dates in the filter language from the command line (issue #15): ``funnel export`` with
``created>=DATE``, ``created<7d`` and ``last_activity>30d`` gives exactly the contacts the
dates say, and a date that cannot be read is one clear line and exit 2."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from funnel.engine.model import parse_datetime
from funnel.engine.workspace.facade import Workspace

from cli_support import run_cli
from test_cli import assert_user_error


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("dates")
    path = folder / "leads.json"
    result = run_cli(folder, "generate", "--db", path, "--contacts", 300, "--seed", 4)
    assert result.returncode == 0, result.stderr
    return path


def exported_ids(db: Path, *words: str) -> list[int]:
    result = run_cli(db.parent, "export", "--db", db, "--format", "json", "--", *words)
    assert result.returncode == 0, result.stderr
    return sorted(item["id"] for item in json.loads(result.stdout))


def documents(db: Path) -> dict[int, dict]:
    with Workspace.open(db) as workspace:
        return {contact_id: workspace.get(contact_id) for contact_id in workspace.ids()}


def test_created_since_a_date_and_within_days(db: Path) -> None:
    contacts = documents(db)
    created = {contact_id: parse_datetime(document["created_at"])
               for contact_id, document in contacts.items()}
    middle = sorted(created.values())[len(created) // 2]
    day = middle.date().isoformat()
    start = datetime.combine(middle.date(), datetime.min.time(), timezone.utc)
    assert exported_ids(db, f"created>={day}") == sorted(
        contact_id for contact_id, moment in created.items() if moment >= start)
    assert exported_ids(db, f"created<{day}") == sorted(
        contact_id for contact_id, moment in created.items() if moment < start)
    now = datetime.now(timezone.utc)
    recent = exported_ids(db, "created<30d")
    assert recent == sorted(contact_id for contact_id, moment in created.items()
                            if now - moment < timedelta(days=30))


def test_last_activity_older_than(db: Path) -> None:
    contacts = documents(db)
    now = datetime.now(timezone.utc)

    def quiet_for_long(document: dict) -> bool:
        moments = [parse_datetime(item["at"]) for item in document.get("activities") or []]
        return bool(moments) and now - max(moments) > timedelta(days=30)
    expected = sorted(contact_id for contact_id, document in contacts.items()
                      if quiet_for_long(document))
    assert expected  # the generated data has quiet contacts
    assert exported_ids(db, "last_activity>30d") == expected


@pytest.mark.parametrize("word, fragment", [
    ("created>soon", "created compares with a date"),
    ("created:7d", "use created<7d"),
    ("last_activity>abc", "last_activity compares with a date"),
])
def test_a_date_that_cannot_be_read_is_one_line_and_exit_2(db: Path, word: str,
                                                           fragment: str) -> None:
    assert_user_error(run_cli(db.parent, "export", "--db", db, "--", word), fragment)
