"""Options given before the command (``funnel --rules fit-first stats``) mean the same as
after it: before, the subcommand's own defaults silently replaced them, so `stats`
reported the default rules and `--db` before the command was ignored."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli_support import run_cli


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "leads.json"
    assert run_cli(tmp_path, "generate", "--db", path, "--contacts", "60", "--seed", "3").returncode == 0
    return path


@pytest.mark.parametrize("where", ["before", "after"])
def test_rules_before_or_after_the_command_are_used(tmp_path: Path, db: Path, where: str) -> None:
    args = (["--rules", "fit-first", "stats", "--db", db, "--json"] if where == "before"
            else ["stats", "--db", db, "--json", "--rules", "fit-first"])
    ran = run_cli(tmp_path, *args)
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout)["rules"] == "fit-first"


def test_db_before_the_command_is_the_database_used(tmp_path: Path, db: Path) -> None:
    ran = run_cli(tmp_path, "--db", db, "stats", "--json")
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout)["total"] == 60


def test_the_option_after_the_command_wins_when_given_twice(tmp_path: Path, db: Path) -> None:
    ran = run_cli(tmp_path, "--rules", "default", "stats", "--db", db, "--json",
                  "--rules", "fit-first")
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout)["rules"] == "fit-first"


def test_export_with_rules_before_the_command_derives_with_them(tmp_path: Path, db: Path
                                                               ) -> None:
    before = run_cli(tmp_path, "--rules", "fit-first", "export", "--db", db, "--format", "json")
    after = run_cli(tmp_path, "export", "--db", db, "--format", "json", "--rules", "fit-first")
    assert before.returncode == after.returncode == 0, before.stderr + after.stderr
    assert json.loads(before.stdout) == json.loads(after.stdout)
