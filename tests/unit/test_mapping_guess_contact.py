"""A guessed mapping does not take a column named ``contact`` for the contact's name.

In exports such as the bank-marketing data set, ``contact`` is how a person was
reached (cellular, telephone, unknown): guessed as the name, 40,000 people were
called "cellular". Only names that say so (contact name, contact person) are names.
"""

from __future__ import annotations

import json
from pathlib import Path

from cli_support import run_cli

from funnel.engine.transfer.mapping_guess import guess_mapping


def feeds(header: list[str]) -> dict[str, tuple[str, str]]:
    return {c.column: (c.targets[0].kind, c.targets[0].name)
            for c in guess_mapping(header).columns}


def test_a_column_named_contact_is_kept_as_a_custom_field() -> None:
    assert feeds(["Email", "contact", "Contact"])["contact"] == ("custom", "contact")
    assert feeds(["Email", "Contact"])["Contact"] == ("custom", "Contact")


def test_names_that_say_they_are_names_still_are() -> None:
    found = feeds(["Contact Name", "Contact person", "E-mail"])
    assert found["Contact Name"] == ("field", "name")
    assert found["Contact person"] == ("field", "name")


def test_importing_a_channel_column_named_contact_names_nobody_cellular(tmp_path: Path
                                                                        ) -> None:
    (tmp_path / "calls.csv").write_text(
        "email,age,contact,y\n"
        "a@example.com,30,cellular,no\n"
        "b@example.com,41,telephone,yes\n"
        "c@example.com,52,unknown,no\n", encoding="utf-8")
    done = run_cli(tmp_path, "import", "calls.csv", "--db", "db.json", "--json")
    assert done.returncode == 0, done.stderr
    for contact_id, channel in ((1, "cellular"), (2, "telephone"), (3, "unknown")):
        shown = json.loads(run_cli(tmp_path, "show", contact_id, "--db", "db.json",
                                   "--json").stdout)
        assert shown["fields"]["name"] is None
        assert shown["custom"]["contact"] == channel
