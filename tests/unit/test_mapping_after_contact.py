"""``after_contact: true`` in a mapping, and what the shipped X Education mapping says.

A column marked ``after_contact`` was filled in after the sales contact. What it feeds
is imported as usual (rules may read it), and every contact the mapping imports
records the sources it fed in the engine-kept key ``after_contact`` (a sorted list of
field names, ``custom.NAME`` and ``activity.KIND``) so a learner leaves them out. The
key survives updates (a union), ``show --json`` and export/import round trips.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
from cli_support import run_cli

from funnel.engine.errors import ConfigError, FieldError
from funnel.engine.model import FIELDS, new_contact
from funnel.engine.model.fields import STATE_KEYS
from funnel.engine.transfer.mapping_file import load_mapping, parse_mapping

NOW = datetime(2026, 12, 1, tzinfo=timezone.utc)

MARKED = """\
funnel_mapping: 1
columns:
  Email: email
  Quality:
    - field: need
      after_contact: true
      values: {High: yes, Low: no}
      other: empty
    - custom
  Notes:
    field: custom
    after_contact: true
  Last step:
    field: activities
    after_contact: true
    values: {Called: call, Met: meeting}
  Calls:
    activity: call
    after_contact: true
  Stage:
    field: stage
    after_contact: true
  Visits:
    activity: page_visit
"""


def test_a_marked_column_lists_every_source_it_feeds() -> None:
    mapping = parse_mapping(MARKED, "marked.yaml")
    assert mapping.after_contact == ["activity.call", "activity.meeting", "custom.Notes",
                                     "custom.Quality", "need"]
    assert mapping.column("Quality").after_contact  # one entry marks the whole column
    assert not mapping.column("Visits").after_contact
    assert mapping.to_dict()["after_contact"] == mapping.after_contact


@pytest.mark.parametrize(("text", "line", "words"), [
    ("funnel_mapping: 1\ncolumns:\n  A:\n    field: need\n    after_contact: maybe\n", 5,
     "after_contact must be true or false"),
    ("funnel_mapping: 1\ncolumns:\n  A:\n    field: need\n    after_contcat: true\n", 5,
     "did you mean 'after_contact'"),
])
def test_a_bad_after_contact_option_is_refused_with_its_line(text: str, line: int,
                                                              words: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_mapping(text, "bad.yaml")
    assert caught.value.line == line and words in str(caught.value)


def test_after_contact_is_engine_kept_and_checked() -> None:
    assert "after_contact" in STATE_KEYS and "after_contact" not in FIELDS
    document = new_contact({"after_contact": ["need", "custom.A", "need"]}, NOW)
    assert document["after_contact"] == ["custom.A", "need"]
    assert "after_contact" not in new_contact({}, NOW)  # absent when empty
    for bad in ("need", [3], ["a\x00b"], ["x" * 200]):
        with pytest.raises(FieldError):
            new_contact({"after_contact": bad}, NOW)


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_import_records_after_contact_and_keeps_it_through_updates_and_exports(
        tmp_path: Path) -> None:
    _write(tmp_path, "plain.yaml", "funnel_mapping: 1\ncolumns:\n  Email: email\n"
           "  Visits:\n    activity: page_visit\n")
    _write(tmp_path, "marked.yaml", MARKED)
    _write(tmp_path, "first.csv", "Email,Visits\na@example.com,3\n")
    _write(tmp_path, "second.csv", "Email,Quality,Notes,Last step,Calls,Stage,Visits\n"
           "a@example.com,High,rang twice,Called,2,lead,3\n"
           "b@example.com,Low,,Met,0,,1\n")
    # A mapping without marked columns records nothing.
    done = run_cli(tmp_path, "import", "first.csv", "--db", "db.json", "--map", "plain.yaml",
                   "--json")
    assert done.returncode == 0, done.stderr
    shown = json.loads(run_cli(tmp_path, "show", 1, "--db", "db.json", "--json").stdout)
    assert shown["after_contact"] == []
    # A marked mapping: the contact it updates and the one it creates record it.
    done = run_cli(tmp_path, "import", "second.csv", "--db", "db.json", "--map",
                   "marked.yaml", "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert (data["created"], data["updated"]) == (1, 1)
    expected = ["activity.call", "activity.meeting", "custom.Notes", "custom.Quality", "need"]
    for contact_id in (1, 2):
        shown = json.loads(run_cli(tmp_path, "show", contact_id, "--db", "db.json",
                                   "--json").stdout)
        assert shown["after_contact"] == expected, contact_id
    assert shown["fields"]["need"] == "no"  # what a marked column feeds is still imported
    # Importing with the plain mapping again keeps what was recorded.
    done = run_cli(tmp_path, "import", "first.csv", "--db", "db.json", "--map", "plain.yaml")
    assert done.returncode == 0, done.stderr
    shown = json.loads(run_cli(tmp_path, "show", 1, "--db", "db.json", "--json").stdout)
    assert shown["after_contact"] == expected
    # Both export formats carry it, and importing them back restores it.
    for form in ("csv", "json"):
        out = tmp_path / f"all.{form}"
        assert run_cli(tmp_path, "export", "--db", "db.json", "--format", form, "-o",
                       out).returncode == 0
        copy = f"copy-{form}.json"
        done = run_cli(tmp_path, "import", out, "--db", copy, "--json")
        assert done.returncode == 0, done.stderr
        for contact_id in (1, 2):
            shown = json.loads(run_cli(tmp_path, "show", contact_id, "--db", copy,
                                       "--json").stdout)
            assert shown["after_contact"] == expected, (form, contact_id)
    rows = list(csv.DictReader(io.StringIO((tmp_path / "all.csv").read_text("utf-8"))))
    assert rows[0]["after_contact"] == ",".join(expected)


# -- the shipped X Education mapping -------------------------------------------------

X_HEADER = (
    "Prospect ID,Lead Number,Lead Origin,Lead Source,Do Not Email,Do Not Call,Converted,"
    "TotalVisits,Total Time Spent on Website,Page Views Per Visit,Last Activity,Country,"
    "Specialization,How did you hear about X Education,What is your current occupation,"
    "What matters most to you in choosing a course,Search,Magazine,Newspaper Article,"
    "X Education Forums,Newspaper,Digital Advertisement,Through Recommendations,"
    "Receive More Updates About Our Courses,Tags,Lead Quality,"
    "Update me on Supply Chain Content,Get updates on DM Content,Lead Profile,City,"
    "Asymmetrique Activity Index,Asymmetrique Profile Index,Asymmetrique Activity Score,"
    "Asymmetrique Profile Score,I agree to pay the amount through cheque,"
    "A free copy of Mastering The Interview,Last Notable Activity").split(",")


def _x_row(**cells: str) -> str:
    row = {column: "" for column in X_HEADER}
    row.update({key.replace("_", " "): value for key, value in cells.items()})
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow([row[column] for column in X_HEADER])
    return out.getvalue()


def test_x_education_outcomes_and_need_follow_the_data(tmp_path: Path) -> None:
    """Lost to EINS is no loss (97.7% of those rows converted); Low in Relevance says
    nothing of need (81.8% converted); Converted = 0 is a lead that did not buy."""
    lines = ",".join(X_HEADER) + "\n"
    lines += _x_row(Lead_Number="1", Tags="Lost to EINS")  # no Converted: no outcome
    lines += _x_row(Lead_Number="2", Lead_Quality="Low in Relevance", Converted="1")
    lines += _x_row(Lead_Number="3", Converted="0", Lead_Quality="Worst")
    lines += _x_row(Lead_Number="4", Converted="1", Tags="Lost to EINS")
    _write(tmp_path, "x.csv", lines)
    done = run_cli(tmp_path, "import", "x.csv", "--db", "db.json", "--map", "x-education",
                   "--json")
    assert done.returncode == 0, done.stderr
    shown = {contact_id: json.loads(run_cli(tmp_path, "show", contact_id, "--db", "db.json",
                                            "--json").stdout) for contact_id in (1, 2, 3, 4)}
    fields = {key: value["fields"] for key, value in shown.items()}
    assert fields[1]["outcome"] is None
    assert (fields[2]["outcome"], fields[2]["need"]) == ("won", "unknown")
    assert (fields[3]["outcome"], fields[3]["outcome_reason"], fields[3]["need"]) == (
        "lost", "not converted (export)", "no")
    assert fields[4]["outcome"] == "won" and fields[4]["outcome_reason"] is None
    assert shown[3]["classification"]["stage"] == "lost"
    assert shown[4]["custom"]["Tags"] == "Lost to EINS"  # kept for rules to read


def test_x_education_marks_the_sales_teams_columns() -> None:
    mapping = load_mapping("x-education")
    marked = {column.column for column in mapping.columns if column.after_contact}
    assert marked == {"Tags", "Lead Quality", "Last Activity", "Last Notable Activity",
                      "Lead Profile", "I agree to pay the amount through cheque"}
    sources = mapping.after_contact
    assert {"custom.Tags", "custom.Lead Quality", "custom.Last Notable Activity", "need",
            "activity.email_open", "activity.call"} <= set(sources)
    # Visits and the form's sign-ups were known before contact: not hidden from learning.
    assert "activity.page_visit" not in sources and "activity.newsletter_signup" not in sources
    assert "activity.content_download" not in sources and "outcome" not in sources
