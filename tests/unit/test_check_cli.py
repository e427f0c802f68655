"""``funnel check`` and a damaged database, through the command line (in-process).

The contract: ``funnel check --db PATH [--json] [--no-repair]`` exits 0 when nothing
acknowledged is damaged (an interrupted, never acknowledged last write may have been
cut), 1 when it found damage (and repaired it, unless ``--no-repair``), 2 when it
cannot repair (not a Funnel database, no such file). ``--json`` names each kind of
damage (``kinds``), the contacts quarantined and the commits lost.

Every other command, and the app, meets a damaged database with one line naming the
file and ``funnel check --db PATH``, exit 2, never a traceback. Read-only commands
(``show``, ``stats``, ``export``) leave the files byte for byte as they were.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli_support import run_cli, run_process
from damage_support import (generated_database, JOURNAL_DAMAGE, SNAPSHOT_DAMAGE, contacts_of, copy_database,
                            small_database)
from funnel.engine.store.contacts import ContactStore
from funnel.engine.store.layout import StorePaths


@pytest.fixture
def db(tmp_path) -> Path:
    return tmp_path / "leads.json"


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    return generated_database(tmp_path_factory.mktemp("generated"))


def check(db: Path, *options: str):
    result = run_cli(db.parent, "check", "--db", db, "--json", *options)
    assert "Traceback" not in result.stderr
    return result, json.loads(result.stdout)


def files_of(db: Path) -> dict[str, tuple[bytes, int]]:
    """Every file of the database's folder: its bytes and its modification time (but
    the column cache, ``PATH.columns``, which reading commands may write)."""
    return {path.name: (path.read_bytes(), path.stat().st_mtime_ns)
            for path in sorted(db.parent.iterdir())
            if path.is_file() and not path.name.endswith(".columns")}


@pytest.mark.parametrize("kind", sorted(JOURNAL_DAMAGE))
def test_check_names_each_kind_of_journal_damage_and_exits_1_then_0(db, kind):
    small_database(db)
    JOURNAL_DAMAGE[kind](db)
    result, data = check(db)
    assert result.returncode == 1, result.stdout + result.stderr
    assert data["kinds"] == [kind]
    assert data["status"] == "repaired" and data["healthy"] is False
    assert [damage["kind"] for damage in data["damage"]] == [kind]
    assert data["fatal"] is None
    result, data = check(db)
    assert result.returncode == 0 and data["status"] == "healthy" and data["kinds"] == []


@pytest.mark.parametrize("kind", sorted(SNAPSHOT_DAMAGE))
def test_check_names_each_kind_of_snapshot_damage_and_exits_1_then_0(generated, db, kind):
    copy_database(generated, db)
    SNAPSHOT_DAMAGE[kind](db)
    result, data = check(db)
    assert result.returncode == 1, result.stdout + result.stderr
    assert data["kinds"] == [kind]
    expected = [1000] if kind == "damaged-document" else []
    assert data["quarantined"] == expected and data["lost_commits"] == []
    assert data["contacts"] == 2000 - len(expected)
    assert (data["quarantine"] is not None) == bool(expected)
    result, data = check(db)
    assert result.returncode == 0 and data["kinds"] == []


def test_the_text_report_says_what_was_quarantined_lost_and_what_the_status_means(db):
    small_database(db)
    JOURNAL_DAMAGE["gap"](db)
    result = run_cli(db.parent, "check", "--db", db)
    assert result.returncode == 1
    text = result.stdout
    assert "gap" in text and "commit 3" in text
    assert "lost commits: 3" in text
    assert "repaired" in text.splitlines()[-1]


def test_a_healthy_database_exits_0_and_is_left_alone(db):
    small_database(db)
    before = files_of(db)
    result, data = check(db)
    assert result.returncode == 0
    assert data["status"] == "healthy" and data["healthy"] is True and data["damage"] == []
    assert data["contacts"] == 6 and data["quarantine"] is None
    del before[StorePaths.of(db).lock.name]  # held for the check: its time may change
    after = files_of(db)
    del after[StorePaths.of(db).lock.name]
    assert after == before


def test_an_interrupted_last_write_is_cut_and_exits_0(db):
    small_database(db)
    with open(StorePaths.of(db).journal, "ab") as handle:
        handle.write(b'{"seq":9,"prev":"00')
    result, data = check(db)
    assert result.returncode == 0, result.stdout
    assert data["kinds"] == [] and data["status"] == "healthy"
    assert any("incomplete last journal record" in finding for finding in data["findings"])


def test_no_repair_reports_exits_1_and_changes_nothing(db):
    small_database(db)
    JOURNAL_DAMAGE["gap"](db)
    before = files_of(db)
    result, data = check(db, "--no-repair")
    assert result.returncode == 1
    assert data["status"] == "damaged" and data["kinds"] == ["gap"] and data["repairs"] == []
    assert data["lost_commits"] == [3]
    after = files_of(db)
    for files in (before, after):
        del files[StorePaths.of(db).lock.name]
    assert after == before


def test_what_cannot_be_repaired_exits_2(db):
    db.write_bytes(b'{"a": 1}')
    result, data = check(db)
    assert result.returncode == 2
    assert data["status"] == "unrepairable" and "not a Funnel database" in data["fatal"]
    assert result.stderr.count("\n") == 1 and str(db) in result.stderr
    missing = db.with_name("missing.json")
    result = run_cli(db.parent, "check", "--db", missing)
    assert result.returncode == 2 and str(missing) in result.stderr


# == other commands on a damaged database ========================================================

@pytest.fixture
def damaged(generated, db) -> Path:
    copy_database(generated, db)
    SNAPSHOT_DAMAGE["damaged-document"](db)
    return db


@pytest.mark.parametrize("command", [["stats"], ["stats", "--json"], ["show", "5"],
                                     ["export", "--format", "json"], ["set", "5", "owner=x"]])
def test_commands_on_a_damaged_database_give_one_line_and_exit_2(damaged, command):
    result = run_cli(damaged.parent, *command, "--db", damaged)
    assert result.returncode == 2, result.stdout[:300]
    assert result.stderr.count("\n") == 1, result.stderr
    assert str(damaged) in result.stderr
    assert f"funnel check --db {damaged}" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_app_is_not_started_on_a_damaged_database(damaged, monkeypatch):
    from funnel.tui.app import app as app_module

    started = []
    monkeypatch.setattr(app_module.FunnelApp, "run", lambda self: started.append(self))
    result = run_cli(damaged.parent, "--db", damaged)
    assert started == []
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and f"funnel check --db {damaged}" in result.stderr


def test_the_json_of_a_damaged_check_is_one_clean_process_run(generated, db):
    """The one real process: the console entry point, its exit status, no traceback."""
    copy_database(generated, db)
    SNAPSHOT_DAMAGE["damaged-document"](db)
    finished = run_process(db.parent, "check", "--db", db, "--json")
    assert finished.returncode == 1, finished.stderr
    assert "Traceback" not in finished.stderr
    assert json.loads(finished.stdout)["quarantined"] == [1000]


# == read-only commands write nothing ==========================================================

def test_show_stats_and_export_leave_the_files_byte_identical(generated, db, tmp_path):
    copy_database(generated, db)
    # A journal past the size at which a session that wrote folds it on close.
    store = ContactStore(db)
    documents = dict(store.items())
    for round_ in range(3):
        with store.transaction():
            store.write_many([], {contact_id: store.encode(
                dict(document, notes=f"round {round_} " + "x" * 1200))
                for contact_id, document in documents.items()})
    journal = StorePaths.of(db).journal
    assert journal.stat().st_size > 5 * 2**20
    del store  # not closed: closing a session that wrote this much would compact
    before = files_of(db)
    out = tmp_path / "out"
    out.mkdir()
    for command in (["stats"], ["stats", "--json"], ["show", "7"], ["show", "7", "--json"],
                    ["export", "--format", "json", "-o", out / "all.json"],
                    ["export", "-o", out / "hot.csv", "temp:hot"]):
        result = run_cli(db.parent, *command, "--db", db)
        assert result.returncode == 0, (command, result.stderr)
        assert files_of(db) == before, f"{command} changed the database files"
    assert (out / "all.json").stat().st_size > 0


def test_a_session_that_wrote_still_folds_a_large_journal_on_close(generated, db):
    copy_database(generated, db)
    store = ContactStore(db)
    documents = dict(store.items())
    with store.transaction():
        store.write_many([], {contact_id: store.encode(dict(document, notes="y" * 3000))
                              for contact_id, document in documents.items()})
    store.close()
    assert StorePaths.of(db).journal.read_bytes().count(b"\n") == 1  # header only
    assert contacts_of(db)[5]["notes"] == "y" * 3000
