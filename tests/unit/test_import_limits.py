"""Hostile and odd import files (issue #12, part 4): each gets one clear line on
stderr and exit status 2 from ``funnel import``, in bounded time and memory, and the
database is left exactly as it was; odd but honest files (UTF-32) import.

Like test_cli_import.py: ``main()`` runs in-process (``cli_support.run_cli``) on real
files in ``tmp_path``.
"""

from __future__ import annotations

import codecs
import json
import os
from pathlib import Path

import pytest

from cli_support import Ran, run_cli
from funnel.engine.inputs import IMPORT_LIMIT

KEY = ("-----BEGIN OPENSSH PRIVATE KEY-----\n"
       "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n"
       "QyNTUxOQAAACBUq0b3ZcC6JqbnTwqzUxcn2sV7dC3z1Cw9pTQUQbJ7VQAAAJgxgfUrMYH1\n"
       "KwAAAAtzc2gtZWQyNTUxOQAAACBUq0b3ZcC6JqbnTwqzUxcn2sV7dC3z1Cw9pTQUQbJ7VQ\n"
       "-----END OPENSSH PRIVATE KEY-----\n")


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """A database with three contacts, to prove a refused import leaves it alone."""
    made = run_cli(tmp_path, "generate", "--db", "leads.json", "--contacts", "3")
    assert made.returncode == 0, made.stderr
    return tmp_path / "leads.json"


def files_of(db: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in db.parent.glob(db.name + "*")
            if not p.name.endswith(".lock")}


def refused(db: Path, name: str | Path, *extra: str) -> str:
    """Import ``name`` into ``db``: it must be refused with one line and change nothing.
    Returns that line."""
    before = files_of(db)
    result: Ran = run_cli(db.parent, "import", str(name), "--db", db.name, *extra)
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert files_of(db) == before
    return lines[0]


def imported(db: Path, name: str) -> dict:
    result = run_cli(db.parent, "import", name, "--db", db.name, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


# -- JSON ---------------------------------------------------------------------------
def test_json_nested_100000_deep_is_refused_with_its_line(db: Path) -> None:
    (db.parent / "deep.json").write_text("[\n" + "[" * 100_000 + "]" * 100_000 + "\n]")
    line = refused(db, "deep.json")
    assert "deep.json" in line and "line 2" in line and "nested" in line


def test_a_deep_value_inside_a_contact_names_its_line(db: Path) -> None:
    deep = "{\"a\": " * 3000 + "1" + "}" * 3000
    (db.parent / "deep.json").write_text(
        '[\n {"email": "a@x.pl"},\n {"email": "b@x.pl", "extra": ' + deep + "}\n]\n")
    line = refused(db, "deep.json")
    assert "line 3" in line and "nested" in line


def test_brackets_inside_json_strings_are_not_nesting(db: Path) -> None:
    (db.parent / "ok.json").write_text(json.dumps(
        [{"email": "a@x.pl", "notes": "[" * 5000 + "{\\\"" * 100}]))
    assert imported(db, "ok.json")["created"] == 1


def test_an_unpaired_surrogate_in_json_names_the_item(db: Path) -> None:
    (db.parent / "s.json").write_text('[{"email": "a@x.pl"},\n{"email": "b@x.pl", '
                                      '"name": "Bad \\ud800 name"}]')
    line = refused(db, "s.json")
    assert "item 2" in line and "surrogate" in line


# -- files that are not files -------------------------------------------------------
@pytest.mark.timeout(20)
def test_dev_zero_is_refused_at_once(db: Path) -> None:
    line = refused(db, "/dev/zero")
    assert "/dev/zero" in line and "device" in line


@pytest.mark.timeout(20)
def test_a_fifo_is_refused_instead_of_waiting_for_a_writer(db: Path) -> None:
    os.mkfifo(db.parent / "pipe.csv")
    line = refused(db, "pipe.csv")
    assert "pipe.csv" in line and "pipe" in line


def test_a_folder_is_refused(db: Path) -> None:
    (db.parent / "folder.csv").mkdir()
    assert "folder.csv: is a folder" in refused(db, "folder.csv")


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(db: Path) -> None:
    big = db.parent / "big.csv"
    with open(big, "wb") as handle:  # sparse: costs no disk
        handle.truncate(IMPORT_LIMIT + 1)
    assert "may be at most" in refused(db, "big.csv")


def test_an_openssh_private_key_is_not_a_contacts_file(db: Path) -> None:
    (db.parent / "id_ed25519").write_text(KEY)
    line = refused(db, "id_ed25519")
    assert "does not look like a contacts file" in line
    assert "b3BlbnNz" not in line  # the key's lines are not shown
    dry = run_cli(db.parent, "import", "id_ed25519", "--db", db.name, "--dry-run")
    assert dry.returncode == 2 and "b3BlbnNz" not in dry.stdout + dry.stderr


def test_a_file_with_no_column_for_any_contact_field_is_refused(db: Path) -> None:
    (db.parent / "odd.csv").write_text("colour,shoe size\nred,41\nblue,44\n")
    line = refused(db, "odd.csv")
    assert "does not look like a contacts file" in line and "--map" in line


# -- odd text files -------------------------------------------------------------------
def test_a_header_of_only_commas_is_an_error_not_a_silent_nothing(db: Path) -> None:
    (db.parent / "commas.csv").write_text(",,\nanna@example.pl,Anna,Acme\n")
    line = refused(db, "commas.csv")
    assert "row 1" in line and "header" in line


@pytest.mark.parametrize("codec, bom", [
    ("utf-32-le", codecs.BOM_UTF32_LE), ("utf-32-be", codecs.BOM_UTF32_BE),
    ("utf-32-le", b""), ("utf-32-be", b""),
])
def test_utf32_files_are_read(db: Path, codec: str, bom: bytes) -> None:
    text = "email,name\nzoe@example.pl,Zoë Müller\njose@example.es,José Señor\n"
    (db.parent / "u32.csv").write_bytes(bom + text.encode(codec))
    data = imported(db, "u32.csv")
    assert data["created"] == 2 and data["format"].endswith("UTF-32" + (
        "" if bom else f" ({codec[-2:].upper()})"))
    shown = run_cli(db.parent, "show", "4", "--db", db.name, "--json")
    assert json.loads(shown.stdout)["fields"]["name"] == "Zoë Müller"


def test_an_export_shaped_item_with_odd_parts_imports_them_as_data(db: Path) -> None:
    # Found by the fuzzer (test_fuzz_import): "custom": true crashed with AttributeError.
    (db.parent / "odd.json").write_text(json.dumps({"contacts": [
        {"fields": {"email": "a@x.pl"}, "custom": True, "classification": "x"}]}))
    assert imported(db, "odd.json")["created"] == 1
    shown = json.loads(run_cli(db.parent, "show", "4", "--db", db.name, "--json").stdout)
    assert shown["fields"]["email"] == "a@x.pl" and shown["custom"] == {"custom": "true"}


def test_a_json_value_nested_past_the_limit_but_parsable_is_refused(db: Path) -> None:
    deep = "[" * 100 + "]" * 100
    (db.parent / "deep.json").write_text('[{"email": "a@x.pl"},\n\n{"email": "b@x.pl", '
                                         f'"x": {deep}}}]')
    line = refused(db, "deep.json")
    assert "nested more than 64 deep at line 3" in line
