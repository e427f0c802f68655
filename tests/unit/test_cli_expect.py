"""``funnel set|move|disqualify --expect FIELD=VALUE``: a script that read a contact
and then writes it is refused (exit 3, and with --json what changed) when a field it
read changed in between. Nothing is written then."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from funnel.engine.workspace.facade import Workspace

from cli_support import run_cli


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "funnel.json"
    with Workspace.open(path, None, user="setup") as workspace:
        workspace.add({"name": "Ada", "email": "ada@example.com", "title": "Analyst"})
    return path


def stored(db: Path) -> dict:
    with Workspace.open(db, None, create=False) as workspace:
        return workspace.get(1)


def test_set_with_a_met_expectation_writes(db: Path, tmp_path: Path) -> None:
    ran = run_cli(tmp_path, "set", 1, "title=CTO", "--expect", "title=Analyst", "--db", db)
    assert ran.returncode == 0, ran.stderr
    assert stored(db)["title"] == "CTO"


def test_set_refused_when_the_field_changed_since(db: Path, tmp_path: Path) -> None:
    assert run_cli(tmp_path, "set", 1, "title=bob-cli", "--by", "bob", "--db", db).returncode == 0
    ran = run_cli(tmp_path, "set", 1, "title=CTO", "--expect", "title=Analyst", "--db", db,
                  "--json")
    assert ran.returncode == 3
    assert ran.stderr.count("\n") == 1 and "title changed by bob" in ran.stderr
    clash = json.loads(ran.stdout)["conflict"]["clashes"][0]
    assert (clash["field"], clash["expected"], clash["now"], clash["yours"], clash["by"]) == \
        ("title", "Analyst", "bob-cli", "CTO", "bob")
    assert stored(db)["title"] == "bob-cli"


def test_expect_on_a_field_not_being_set_and_on_the_derived_stage(db: Path,
                                                                 tmp_path: Path) -> None:
    assert run_cli(tmp_path, "set", 1, "need=yes", "--expect", "owner=", "--db", db
                   ).returncode == 0
    run_cli(tmp_path, "set", 1, "owner=bob", "--db", db)
    assert run_cli(tmp_path, "set", 1, "timing=yes", "--expect", "owner=", "--db", db
                   ).returncode == 3
    stage = stored(db)["stage"]
    refused = run_cli(tmp_path, "move", 1, "lost", "--why", "x", "--expect", "stage=customer",
                      "--db", db)
    assert refused.returncode == 3 and "stage changed" in refused.stderr
    moved = run_cli(tmp_path, "disqualify", 1, "--why", "student", "--expect",
                    f"stage={stage}", "--db", db)
    assert moved.returncode == 0, moved.stderr
    assert stored(db)["stage"] == "disqualified"


@pytest.mark.parametrize("bad, said", [("title", "write FIELD=VALUE"),
                                       ("colour=red", "colour"),
                                       ("authority=maybe", "authority")])
def test_a_bad_expectation_is_a_user_error(db: Path, tmp_path: Path, bad: str, said: str) -> None:
    ran = run_cli(tmp_path, "set", 1, "need=yes", "--expect", bad, "--db", db)
    assert ran.returncode == 2 and said in ran.stderr and "Traceback" not in ran.stderr
    assert stored(db).get("need") != "yes"
