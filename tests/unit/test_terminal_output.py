"""Nothing stored reaches a terminal raw: a ``by`` or ``why`` an old database holds
(written before names and reasons were checked on the way in) is printed by the
command line with its control and bidi characters shown as escapes, in text and in
``--json`` alike (the JSON stays valid and decodes to the stored value)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from funnel.engine.history import entry
from funnel.engine.model import utc_now
from funnel.engine.store.contacts import ContactStore
from funnel.engine.workspace.facade import Workspace

from cli_support import run_cli

# Written out here, not imported from the code under test: C0 but tab and newline,
# DEL, C1, and the bidi controls.
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")

# A clipboard write (OSC 52), a clear-screen, a hyperlink (OSC 8), a right-to-left
# override and a C1 CSI: what a hostile colleague could have stored as their name.
HOSTILE_BY = ("ev\x1b]52;c;cm0gLXJmIH4=\x1b\\il\x1b[2J"
              "\x1b]8;;https://evil.example/\x1b\\click\x1b]8;;\x1b\\\u202eesrever\x9b31m")
HOSTILE_WHY = "because\x1b[2J\x07\u202e\x9b"


def plant(db: Path, contact_id: int, field: str, value: str, by: str, why: str) -> None:
    """Change a field the way an old version would have, with no check of ``by``/``why``."""
    store = ContactStore(db)
    try:
        with store.transaction():
            document = dict(store.get(contact_id) or {})
            before = document.get(field)
            document[field] = value
            document["history"] = list(document["history"]) + [
                entry(utc_now(), by, "field", field=field, before=before, after=value, why=why)]
            store.put(contact_id, document, by=by)
    finally:
        store.close()


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "funnel.json"
    with Workspace.open(path, None, user="setup") as workspace:
        workspace.add({"name": "Ada", "email": "ada@example.com", "title": "Analyst"})
    plant(path, 1, "title", "Boss", HOSTILE_BY, HOSTILE_WHY)
    return path


def assert_safe(text: str) -> None:
    found = RAW.search(text)
    assert found is None, f"raw {found.group()!r} at {found.start()} in {text!r}"


def test_the_conflict_message_shows_a_hostile_by_escaped(db: Path, tmp_path: Path) -> None:
    ran = run_cli(tmp_path, "set", 1, "title=CTO", "--expect", "title=Analyst", "--db", db)
    assert ran.returncode == 3
    assert_safe(ran.stderr)
    assert_safe(ran.stdout)
    assert ran.stderr.count("\n") == 1
    assert "\\x1b]52;c;" in ran.stderr and "\\x1b[2J" in ran.stderr and "\\u202e" in ran.stderr


def test_the_conflict_json_escapes_and_still_decodes(db: Path, tmp_path: Path) -> None:
    ran = run_cli(tmp_path, "set", 1, "title=CTO", "--expect", "title=Analyst", "--db", db,
                  "--json")
    assert ran.returncode == 3
    assert_safe(ran.stderr)
    assert_safe(ran.stdout)
    clash = json.loads(ran.stdout)["conflict"]["clashes"][0]
    assert clash["by"] == HOSTILE_BY  # the data is intact, only its printing is escaped


@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
def test_show_prints_the_history_escaped(db: Path, tmp_path: Path, as_json: bool) -> None:
    ran = run_cli(tmp_path, "show", 1, "--db", db, *(["--json"] if as_json else []))
    assert ran.returncode == 0, ran.stderr
    assert_safe(ran.stdout)
    assert_safe(ran.stderr)
    if as_json:
        history = json.loads(ran.stdout)["history"]
        assert (history[-1]["by"], history[-1]["why"]) == (HOSTILE_BY, HOSTILE_WHY)
    else:
        assert "ev\\x1b]52;c;" in ran.stdout and "because\\x1b[2J\\x07\\u202e\\x9b" in ran.stdout


@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
def test_stats_and_a_later_edit_print_nothing_raw(db: Path, tmp_path: Path,
                                                   as_json: bool) -> None:
    flag = ["--json"] if as_json else []
    for args in (["stats"], ["set", 1, "need=yes"]):
        ran = run_cli(tmp_path, *args, "--db", db, *flag)
        assert ran.returncode == 0, ran.stderr
        assert_safe(ran.stdout)
        assert_safe(ran.stderr)


def test_a_json_value_with_c1_and_bidi_is_escaped_inside_the_string(tmp_path: Path) -> None:
    path = tmp_path / "funnel.json"
    with Workspace.open(path, None, user="setup") as workspace:
        # Contact values may hold bidi marks (real data does); C1 is refused there.
        workspace.add({"name": "Ada \u202eadA", "email": "ada@example.com"})
    ran = run_cli(tmp_path, "show", 1, "--db", path, "--json")
    assert ran.returncode == 0, ran.stderr
    assert_safe(ran.stdout)
    assert "\\u202e" in ran.stdout
    assert json.loads(ran.stdout)["fields"]["name"] == "Ada \u202eadA"


def test_a_user_error_naming_hostile_text_is_one_escaped_line(db: Path, tmp_path: Path) -> None:
    ran = run_cli(tmp_path, "set", 1, "colour\x1b[2J=red", "--db", db)
    assert ran.returncode == 2
    assert_safe(ran.stderr)
    assert ran.stderr.count("\n") == 1 and "Traceback" not in ran.stderr


def test_an_import_summary_shows_a_hostile_header_escaped(tmp_path: Path) -> None:
    csv = tmp_path / "leads.csv"
    csv.write_text("name,email,x\x9by\u202e\nAda,ada@example.com,1\n", encoding="utf-8")
    for flag in ([], ["--json"]):
        ran = run_cli(tmp_path, "import", csv, "--db", tmp_path / "new.json", "--dry-run", *flag)
        assert ran.returncode in (0, 2), ran.stderr
        assert_safe(ran.stdout)
        assert_safe(ran.stderr)
        assert "x\\x9by\\u202e" in ran.stdout if not flag else "x\\u009by\\u202e" in ran.stdout
