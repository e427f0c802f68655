"""``funnel import`` and ``funnel export`` on real files.

Like test_cli.py: ``main()`` called in-process from ``tmp_path`` (``cli_support.run_cli``),
with the ``FUNNEL_*`` variables removed and the XDG folders pointed at empty ones.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from cli_support import Ran, run_cli

COUNT_KEYS = {"created", "updated", "unchanged", "skipped", "errors", "duplicates_in_file"}


def funnel(cwd: Path, *args: Any) -> Ran:
    return run_cli(cwd, *args)


def files_of(db: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in db.parent.glob(db.name + "*")
            if not p.name.endswith(".lock")}


LEADS = ("Email,Name,Company,Lead Source,Budget\n"
         "anna@example.pl,Anna Nowak,Acme,Trade Show,yes\n"
         "piet@example.nl,Piet Jansen,,Referral,\n")


def test_import_then_import_again_with_the_json_contract(tmp_path: Path) -> None:
    (tmp_path / "leads.csv").write_text(LEADS)
    result = funnel(tmp_path, "import", "leads.csv", "--db", "leads.json", "--json")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    data = json.loads(result.stdout)
    assert COUNT_KEYS <= set(data)
    assert (data["created"], data["updated"], data["unchanged"], data["skipped"]) == (2, 0, 0, 0)
    assert data["errors"] == [] and data["duplicates_in_file"] == []
    assert data["dry_run"] is False and data["refused"] is False
    assert data["lock_seconds"] > 0 and data["mapping"]["guessed"] is True
    again = json.loads(funnel(tmp_path, "import", "leads.csv", "--db", "leads.json",
                              "--json").stdout)
    assert (again["created"], again["unchanged"]) == (0, 2)
    shown = json.loads(funnel(tmp_path, "show", "1", "--db", "leads.json", "--json").stdout)
    assert shown["fields"]["source"] == "trade_show"
    assert shown["history"][0]["by"] == "import:leads.csv"


def test_a_dry_run_shows_the_guess_and_writes_nothing(tmp_path: Path) -> None:
    (tmp_path / "leads.csv").write_text(LEADS)
    result = funnel(tmp_path, "import", "leads.csv", "--db", "leads.json", "--dry-run")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "leads.csv: 2 rows, comma-separated, UTF-8" in out
    assert "Lead Source  -> source (other values kept as a custom field)" in out
    assert "row 2: create: email anna@example.pl; name Anna Nowak" in out
    assert "would have: created 2, updated 0, unchanged 0, skipped 0" in out
    assert "dry run: nothing was written" in out
    assert list(tmp_path.glob("leads.json*")) == []


def test_a_broken_row_refuses_the_file_with_one_line(tmp_path: Path) -> None:
    (tmp_path / "leads.csv").write_text(LEADS + "x@,Bad Address,,,\n")
    assert funnel(tmp_path, "import", "leads.csv", "--db", "leads.json").returncode == 2
    funnel(tmp_path, "generate", "--db", "leads.json", "--contacts", "20")
    before = files_of(tmp_path / "leads.json")
    result = funnel(tmp_path, "import", "leads.csv", "--db", "leads.json")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.splitlines() == [
        "funnel: import leads.csv: row 4, column \"Email\": 'x@' is not an email address; "
        "use name@example.com; nothing was imported (fix it, or pass --skip-bad to import "
        "the other rows)"]
    assert files_of(tmp_path / "leads.json") == before
    data = json.loads(funnel(tmp_path, "import", "leads.csv", "--db", "leads.json",
                             "--json").stdout)
    assert data["refused"] is True and data["created"] == 0
    assert data["errors"] == [{"row": 4, "column": "Email", "value": "x@",
                               "message": "'x@' is not an email address; use name@example.com",
                               "kind": "value", "line": 4}]
    skipped = funnel(tmp_path, "import", "leads.csv", "--db", "leads.json", "--skip-bad")
    assert skipped.returncode == 0
    assert "created 2, updated 0, unchanged 0, skipped 1" in skipped.stdout
    assert skipped.stderr.startswith("funnel: import leads.csv: skipped row 4, column")


def test_many_errors_give_a_line_each_and_a_summary(tmp_path: Path) -> None:
    rows = "".join(f"bad{i},B{i},,,\n" for i in range(25))
    (tmp_path / "leads.csv").write_text(LEADS + rows)
    result = funnel(tmp_path, "import", "leads.csv", "--db", "leads.json")
    lines = result.stderr.splitlines()
    assert result.returncode == 2 and len(lines) == 22
    assert lines[0].startswith("funnel: import leads.csv: row 4, column \"Email\": 'bad0'")
    assert lines[20] == "funnel: import leads.csv: ... and 5 more errors (--json lists them)"
    assert lines[21] == ("funnel: import leads.csv: 25 rows with errors; nothing was imported "
                         "(fix them, or pass --skip-bad to import the other rows)")


def test_bad_mapping_and_missing_file_are_one_line_errors(tmp_path: Path) -> None:
    (tmp_path / "leads.csv").write_text(LEADS)
    (tmp_path / "map.yaml").write_text("funnel_mapping: 1\ncolumns:\n  Email: emial\n")
    result = funnel(tmp_path, "import", "leads.csv", "--db", "l.json", "--map", "map.yaml")
    assert result.returncode == 2
    assert result.stderr.startswith("funnel: map.yaml:3: column 'Email': 'emial' is not a "
                                    "contact field; did you mean 'email'?")
    assert len(result.stderr.splitlines()) == 1
    missing = funnel(tmp_path, "import", "nope.csv", "--db", "l.json")
    assert missing.stderr == "funnel: import nope.csv: no such file\n"
    assert funnel(tmp_path, "export", "--db", "l.json", "--format", "xml").returncode == 2


def test_export_to_stdout_and_to_a_file(tmp_path: Path) -> None:
    funnel(tmp_path, "generate", "--db", "leads.json", "--contacts", "50")
    result = funnel(tmp_path, "export", "--db", "leads.json", "temp:hot")
    assert result.returncode == 0 and result.stderr == ""
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert rows and {row["temperature"] for row in rows} == {"hot"}
    negated = funnel(tmp_path, "export", "--db", "leads.json", "--format", "json", "--",
                     "-stage:suspect")
    assert all(d["classification"]["stage"] != "suspect" for d in json.loads(negated.stdout))
    written = funnel(tmp_path, "export", "--db", "leads.json", "--format", "json", "-o",
                     "all.json")
    assert written.stdout == "exported 50 contacts to all.json\n"
    copied = funnel(tmp_path, "import", "all.json", "--db", "copy.json", "--json")
    assert json.loads(copied.stdout)["created"] == 50
    original = json.loads(funnel(tmp_path, "stats", "--db", "leads.json", "--json").stdout)
    copy = json.loads(funnel(tmp_path, "stats", "--db", "copy.json", "--json").stdout)
    assert copy == original
    assert funnel(tmp_path, "export", "--db", "leads.json", "--stage", "nowhere").returncode == 2


# -- importing while others edit; compaction that fails after the commit --------------
def _edit_after_planning(monkeypatch, db: Path, contact_id: int, changes: dict) -> None:
    """Make ``funnel import`` meet a change another person commits after its plan."""
    from funnel.engine.transfer import importer
    from funnel.engine.workspace.facade import Workspace

    planned = importer.plan_import

    def plan_then_someone_edits(*args: Any, **kwargs: Any) -> Any:
        plan = planned(*args, **kwargs)
        with Workspace.open(db, "default", user="olga") as other:
            other.edit(contact_id, changes)
        return plan

    monkeypatch.setattr(importer, "plan_import", plan_then_someone_edits)


def test_a_field_edited_while_importing_is_a_reported_conflict(tmp_path: Path,
                                                               monkeypatch) -> None:
    (tmp_path / "leads.csv").write_text(LEADS)
    assert funnel(tmp_path, "import", "leads.csv", "--db", "leads.json").returncode == 0
    (tmp_path / "again.csv").write_text("Email,Company,Title\nanna@example.pl,Acme SA,CEO\n"
                                        "piet@example.nl,Jansen BV,CTO\n")
    _edit_after_planning(monkeypatch, tmp_path / "leads.json", 1, {"company": "Acme Group"})
    result = funnel(tmp_path, "import", "again.csv", "--db", "leads.json")
    assert result.returncode == 0, result.stderr
    assert "created 0, updated 2, unchanged 0, skipped 0" in result.stdout
    assert ("1 conflict: kept a value changed by someone else while importing" in result.stdout)
    assert ("  row 2, contact #1, company: kept 'Acme Group' (olga), the file has 'Acme SA'"
            in result.stdout)
    shown = json.loads(funnel(tmp_path, "show", "1", "--db", "leads.json", "--json").stdout)
    assert (shown["fields"]["company"], shown["fields"]["title"]) == ("Acme Group", "CEO")

    _edit_after_planning(monkeypatch, tmp_path / "leads.json", 1, {"company": "Acme AG"})
    data = json.loads(funnel(tmp_path, "import", "again.csv", "--db", "leads.json",
                             "--json").stdout)
    [conflict] = data["conflicts"]
    assert {key: conflict[key] for key in ("row", "contact", "field", "theirs", "file", "by")
            } == {"row": 2, "contact": 1, "field": "company", "theirs": "Acme AG",
                  "file": "Acme SA", "by": "olga"}
    assert data["refused"] is False and data["replanned"] >= 1


def test_strict_refuses_the_file_when_a_row_conflicts(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "leads.csv").write_text(LEADS)
    assert funnel(tmp_path, "import", "leads.csv", "--db", "leads.json").returncode == 0
    (tmp_path / "again.csv").write_text("Email,Company\nanna@example.pl,Acme SA\n"
                                        "new@example.pl,New Ltd\n")
    _edit_after_planning(monkeypatch, tmp_path / "leads.json", 1, {"company": "Acme Group"})
    result = funnel(tmp_path, "import", "again.csv", "--db", "leads.json", "--strict")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.splitlines() == [
        "funnel: import again.csv: row 2, contact #1, company: changed by olga to "
        "'Acme Group' while importing; the file has 'Acme SA'",
        "funnel: import again.csv: 1 row conflicts with changes made while importing; "
        "nothing was imported (--strict)"]
    assert "nothing was imported" in result.stdout
    stats = json.loads(funnel(tmp_path, "stats", "--db", "leads.json", "--json").stdout)
    assert stats["total"] == 2  # new@example.pl was not created either
    _edit_after_planning(monkeypatch, tmp_path / "leads.json", 1, {"company": "Acme AG"})
    data = json.loads(funnel(tmp_path, "import", "again.csv", "--db", "leads.json",
                             "--strict", "--json").stdout)
    assert data["refused"] is True and data["created"] == 0
    assert [c["field"] for c in data["conflicts"]] == ["company"]


def test_compaction_failing_after_the_commit_is_a_warning_not_a_failure(
        tmp_path: Path, monkeypatch) -> None:
    import errno

    from funnel.engine.store.contacts import ContactStore
    from funnel.engine.workspace.facade import Workspace

    rows = 1500  # a batch this big compacts the store straight after its commit
    (tmp_path / "big.csv").write_text("email,name\n" + "".join(
        f"c{i}@example.pl,Contact {i}\n" for i in range(rows)))

    def disk_full(self: ContactStore) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(ContactStore, "compact", disk_full)
    result = funnel(tmp_path, "import", "big.csv", "--db", "leads.json", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["created"] == rows
    assert any("compacting the database afterwards failed" in w for w in data["warnings"])
    assert result.stderr.startswith("funnel: warning: the changes were saved, but compacting")
    assert "No space left on device" in result.stderr
    with Workspace.open(tmp_path / "leads.json", "default") as reopened:
        assert len(reopened) == rows
