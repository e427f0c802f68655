"""Importing files through the engine: plan (nothing written), then apply (all or nothing).

Every error kind, de-duplication, merging into existing contacts, concurrency with
another session, and progress.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from funnel.engine.errors import ConfigError, FunnelError
from funnel.engine.transfer.importer import ImportRefused, plan_import
from funnel.engine.transfer.mapping_file import parse_mapping
from funnel.engine.workspace.facade import Workspace

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=timezone.utc)
LATER = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "leads.json"


@pytest.fixture
def workspace(db: Path, clock: Clock):
    with Workspace.open(db, "default", clock=clock, user="tester") as opened:
        yield opened


def write(tmp_path: Path, text: str, name: str = "leads.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def files_of(db: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in db.parent.glob(db.name + "*")
            if not path.name.endswith(".lock")}


def by_email(workspace: Workspace) -> dict[str, dict]:
    return {workspace.get(cid)["email"]: workspace.get(cid) for cid in workspace.ids()
            if workspace.get(cid).get("email")}


FAIR = """\
funnel_mapping: 1
name: fair
defaults:
  source: trade_show
  tags: [fair-2026]
columns:
  Email: email
  Name: name
  Interested:
    field: need
    values: {Yes: yes, No: no}
  Visits:
    activity: page_visit
  Last touch:
    field: activities
    values: {Opened: email_open, Demo: demo_request}
  Stage: stage
"""


# -- creating -----------------------------------------------------------------------
def test_a_file_becomes_contacts_with_their_classification(tmp_path, workspace) -> None:
    path = write(tmp_path, "Email,Name,Interested,Visits,Last touch,Stage,Booth\n"
                           "anna@example.pl,Anna Nowak,Yes,3,Demo,,B12\n"
                           "piet@example.nl,Piet Jansen,No,0,,lead,\n")
    plan = plan_import(path, parse_mapping(FAIR, "fair.yaml"), workspace)
    assert plan.ok and plan.counts() == {"created": 2, "updated": 0, "unchanged": 0,
                                         "skipped": 0}
    assert len(workspace) == 0  # planning writes nothing
    result = workspace.apply_import(plan)
    assert len(result.created) == 2 and result.lock_seconds > 0
    anna = by_email(workspace)["anna@example.pl"]
    assert anna["need"] == "yes" and anna["source"] == "trade_show"
    assert anna["tags"] == ["fair-2026"]
    assert anna["custom"] == {"Booth": "B12"}  # not in the mapping: kept, not dropped
    assert sorted((a["kind"], a.get("count", 1)) for a in anna["activities"]) == [
        ("demo_request", 1), ("page_visit", 3)]
    assert workspace.classification(result.created[0]).stage == "opportunity"
    created = anna["history"][0]
    assert created["by"] == "import:leads.csv" and created["kind"] == "created"
    assert created["why"] == "imported from leads.csv row 2"
    piet = by_email(workspace)["piet@example.nl"]
    assert "activities" not in piet  # a count of 0 is no activity
    assert workspace.classification(result.created[1]).stage == "lead"


def test_preview_shows_the_first_contacts_as_they_would_be_written(tmp_path, workspace):
    path = write(tmp_path, "e-mail;Company;Budget amount\nzofia@x.pl;Acme;\"12 500\"\n")
    plan = plan_import(path, None, workspace)
    assert plan.mapping.guessed and plan.dialect == "semicolon-separated, UTF-8"
    assert plan.columns == [("e-mail", "email", ""),
                            ("Company", "company", ""), ("Budget amount", "budget_amount", "")]
    assert plan.preview() == [{"row": 2, "action": "create", "contact": None,
                               "fields": {"email": "zofia@x.pl", "company": "Acme",
                                          "budget_amount": 12500},
                               "activities": [], "custom": {}, "stage": None}]


def test_json_is_recognised_by_its_content_too(tmp_path, workspace) -> None:
    data = b"\xef\xbb\xbf" + json.dumps({"contacts": [{"E-mail": "a@x.pl"}]}).encode()
    plan = plan_import(write(tmp_path, data.decode("utf-8"), "contacts.txt"), None, workspace)
    assert plan.file_format == "json" and plan.unit == "item"
    assert plan.incoming[0].fields == {"email": "a@x.pl"}


def test_a_json_list_of_flat_objects_imports(tmp_path, workspace) -> None:
    path = write(tmp_path, json.dumps([
        {"email": "a@x.pl", "company_size": 120, "tags": ["vip", "Key Account"],
         "custom": {"Badge": 7}},
        {"email": "b@x.pl", "need": True, "company_size": "many"}]), "contacts.json")
    plan = plan_import(path, None, workspace)
    assert [str(p) for p in plan.problems] == [
        "item 2, column \"company_size\": 'many' is not a whole number"]
    workspace.apply_import(plan, skip_bad=True)
    contact = by_email(workspace)["a@x.pl"]
    assert contact["company_size"] == 120 and contact["tags"] == ["vip", "key-account"]
    assert contact["custom"] == {"Badge": "7"}


# -- every kind of error ---------------------------------------------------------------
@pytest.mark.parametrize("row, column, value, fragment", [
    ("x@,Anna,Yes,1,,", "Email", "x@", "'x@' is not an email address"),
    ("a@x.pl,Anna,Perhaps,1,,", "Interested", "Perhaps", "'Perhaps' is not allowed; use one "
     "of yes, no, unknown"),
    ("a@x.pl,Anna,Yes,lots,,", "Visits", "lots", "'lots' is not a number"),
    ("a@x.pl,Anna,Yes,-2,,", "Visits", "-2", "is not a count of 0 or more"),
    ("a@x.pl,Anna,Yes,1,,nirvana", "Stage", "nirvana", "'nirvana' is not a stage of the "
     "rules 'default'"),
    ("a@x.pl,Anna\x07,Yes,1,,", "Name", "Anna\x07", "control characters"),
])
def test_each_bad_value_is_an_error_naming_row_column_and_value(
        tmp_path, workspace, db, row, column, value, fragment) -> None:
    path = write(tmp_path, "Email,Name,Interested,Visits,Last touch,Stage\n"
                           "ok@x.pl,Ok,Yes,1,,\n" + row + "\n")
    plan = plan_import(path, parse_mapping(FAIR, "fair.yaml"), workspace)
    assert len(plan.problems) == 1
    problem = plan.problems[0]
    assert (problem.row, problem.column, problem.value, problem.kind) == (3, column, value,
                                                                         "value")
    assert fragment in problem.message
    assert str(problem).startswith(f'row 3, column "{column}"')
    before = files_of(db)
    with pytest.raises(ImportRefused, match="1 row has errors; nothing was imported"):
        workspace.apply_import(plan)
    assert files_of(db) == before and len(workspace) == 0  # the good row is not written


def test_a_value_the_mapping_does_not_list_can_be_an_error(tmp_path, workspace) -> None:
    mapping = parse_mapping("funnel_mapping: 1\ncolumns:\n  Email: email\n  Q:\n"
                            "    field: need\n    values: {Hot: yes}\n    other: error\n")
    plan = plan_import(write(tmp_path, "Email,Q\na@x.pl,Lukewarm\n"), mapping, workspace)
    assert "'Lukewarm' is not one of the values the mapping lists (hot)" in str(
        plan.problems[0])


def test_a_date_in_another_form_says_how_to_read_it(tmp_path, workspace) -> None:
    path = write(tmp_path, "email,follow up\na@x.pl,05/03/2027\n")
    plan = plan_import(path, None, workspace)
    assert "set date_format in the mapping (e.g. %d/%m/%Y)" in plan.problems[0].message
    mapping = parse_mapping('funnel_mapping: 1\ndate_format: "%d/%m/%Y"\ncolumns:\n'
                            '  email: email\n  follow up: follow_up\n')
    plan = plan_import(path, mapping, workspace)
    assert plan.ok and plan.incoming[0].fields["follow_up"] == "2027-03-05"


def test_a_row_of_the_wrong_width_is_an_error(tmp_path, workspace) -> None:
    path = write(tmp_path, "email,name\na@x.pl,Anna,extra\nb@x.pl\nc@x.pl,Cees,,\n")
    plan = plan_import(path, None, workspace)
    assert [(p.row, p.kind) for p in plan.problems] == [(2, "shape"), (3, "shape")]
    assert "has 3 cells but the header has 2 columns" in plan.problems[0].message
    assert plan.counts()["created"] == 1  # trailing empty cells are fine


def test_a_broken_file_is_fatal_even_with_skip_bad(tmp_path, workspace) -> None:
    path = write(tmp_path, 'email,notes\na@x.pl,"open\nb@x.pl,x\n')
    plan = plan_import(path, None, workspace)
    assert plan.fatal and plan.problems[0].kind == "file" and plan.problems[0].row == 2
    with pytest.raises(ImportRefused, match="quoted cell is not closed"):
        workspace.apply_import(plan, skip_bad=True)


def test_a_mapping_naming_a_missing_column_is_fatal(tmp_path, workspace) -> None:
    mapping = parse_mapping("funnel_mapping: 1\ncolumns:\n  Email: email\n  Phone no: phone\n"
                            "  Fax:\n    field: notes\n    optional: true\n", "m.yaml")
    plan = plan_import(write(tmp_path, "Email,Phone\na@x.pl,123456\n"), mapping, workspace)
    assert plan.fatal
    assert str(plan.problems[0]) == (
        'column "Phone no": m.yaml:4: the mapping names column \'Phone no\', which the file '
        "does not have (did you mean 'Phone'?); mark it 'optional: true' if it may be missing")


def test_rows_without_the_configured_key_are_errors(tmp_path, workspace) -> None:
    mapping = parse_mapping("funnel_mapping: 1\nmatch_on: external_id\ncolumns:\n"
                            "  Badge: external_id\n  Name: name\n")
    plan = plan_import(write(tmp_path, "Badge,Name\nB1,Anna\n,Piet\n"), mapping, workspace)
    assert [(p.row, p.column, p.kind) for p in plan.problems] == [(3, "Badge", "missing")]


def test_skip_bad_imports_the_good_rows(tmp_path, workspace) -> None:
    path = write(tmp_path, "email,name\na@x.pl,Anna\nbad,Bad\nc@x.pl,Cees\n")
    plan = plan_import(path, None, workspace)
    result = workspace.apply_import(plan, skip_bad=True)
    assert result.counts() == {"created": 2, "updated": 0, "unchanged": 0, "skipped": 1}


def test_unreadable_inputs_raise_one_clear_error(tmp_path, workspace) -> None:
    with pytest.raises(FunnelError, match="nope.csv: no such file"):
        plan_import(tmp_path / "nope.csv", None, workspace)
    with pytest.raises(ConfigError, match="no such mapping file or preset"):
        plan_import(write(tmp_path, "email\na@x.pl\n"), "nope", workspace)
    with pytest.raises(FunnelError, match="--source: 'fair' is not allowed"):
        plan_import(write(tmp_path, "email\na@x.pl\n"), None, workspace, default_source="fair")


# -- de-duplication and merging ---------------------------------------------------------
def test_rows_match_existing_contacts_by_normalised_email(tmp_path, workspace) -> None:
    existing = workspace.add({"name": "Anna Nowak", "email": "Anna@Example.PL",
                              "company": "Acme", "tags": ["vip"]}, by="tester")
    rev = workspace.get(existing)["rev"]
    path = write(tmp_path, "Email,Title,Company,Tags\n anna@example.pl ,CEO,,new\n")
    plan = plan_import(path, None, workspace)
    assert plan.counts() == {"created": 0, "updated": 1, "unchanged": 0, "skipped": 0}
    workspace.apply_import(plan)
    contact = workspace.get(existing)
    assert len(workspace) == 1
    assert contact["title"] == "CEO" and contact["company"] == "Acme"  # empty cell: kept
    assert contact["tags"] == ["vip", "new"] and contact["rev"] == rev + 1
    changes = [(h["field"], h["from"], h["to"], h["by"]) for h in contact["history"]
               if h["kind"] == "field"]
    assert changes == [("title", None, "CEO", "import:leads.csv"),
                       ("tags", ["vip"], ["vip", "new"], "import:leads.csv")]


def test_rows_match_on_external_id_when_configured(tmp_path, workspace) -> None:
    workspace.add({"external_id": "660737", "email": "old@x.pl"}, by="tester")
    mapping = parse_mapping("funnel_mapping: 1\nmatch_on: external_id\ncolumns:\n"
                            "  Lead Number: external_id\n  Mail: email\n")
    plan = plan_import(write(tmp_path, "Lead Number,Mail\n660737,new@x.pl\n660738,b@x.pl\n"),
                       mapping, workspace)
    assert plan.counts()["updated"] == 1 and plan.counts()["created"] == 1
    workspace.apply_import(plan)
    assert sorted(by_email(workspace)) == ["b@x.pl", "new@x.pl"]


def test_importing_the_same_file_again_changes_nothing(tmp_path, workspace, db) -> None:
    path = write(tmp_path, "Email,Name,Interested,Visits,Last touch,Stage\n"
                           "a@x.pl,Anna,Yes,3,Opened,lead\nb@x.pl,Bob,,,,\n")
    mapping = parse_mapping(FAIR)
    workspace.apply_import(plan_import(path, mapping, workspace))
    before = files_of(db)
    plan = plan_import(path, mapping, workspace)
    assert plan.counts() == {"created": 0, "updated": 0, "unchanged": 2, "skipped": 0}
    result = workspace.apply_import(plan)
    assert result.lock_seconds == 0 and files_of(db) == before


def test_a_count_column_is_a_running_total(tmp_path, workspace, clock) -> None:
    mapping = parse_mapping(FAIR)
    header = "Email,Name,Interested,Visits,Last touch,Stage\n"
    workspace.apply_import(plan_import(write(tmp_path, header + "a@x.pl,A,,3,Opened,\n"),
                                       mapping, workspace))
    clock.now = LATER
    workspace.apply_import(plan_import(write(tmp_path, header + "a@x.pl,A,,5,Opened,\n"),
                                       mapping, workspace))
    visits = [(a["at"], a.get("count", 1)) for a in by_email(workspace)["a@x.pl"]["activities"]
              if a["kind"] == "page_visit"]
    assert visits == [("2026-11-22T12:00:00Z", 3), ("2026-12-01T12:00:00Z", 2)]
    opens = [a for a in by_email(workspace)["a@x.pl"]["activities"] if a["kind"] == "email_open"]
    assert len(opens) == 1  # the same last activity is not added twice
    workspace.apply_import(plan_import(write(tmp_path, header + "a@x.pl,A,,4,Opened,\n"),
                                       mapping, workspace))
    visits = [(a["at"], a.get("count", 1)) for a in by_email(workspace)["a@x.pl"]["activities"]
              if a["kind"] == "page_visit"]
    assert visits == [("2026-11-22T12:00:00Z", 4)]  # a smaller total replaces


def test_custom_fields_merge_and_defaults_fill_only_gaps(tmp_path, workspace) -> None:
    cid = workspace.add({"email": "a@x.pl", "source": "referral", "custom": {"City": "Gdańsk",
                                                                             "Size": "L"}})
    mapping = parse_mapping(FAIR.replace("Stage: stage", "Stage: stage\n  City: custom"))
    path = write(tmp_path, "Email,Name,Interested,Visits,Last touch,Stage,City\n"
                           "a@x.pl,,,,,,Sopot\n")
    workspace.apply_import(plan_import(path, mapping, workspace))
    contact = workspace.get(cid)
    assert contact["custom"] == {"City": "Sopot", "Size": "L"}
    assert contact["source"] == "referral"  # the default does not overwrite
    assert contact["tags"] == ["fair-2026"]  # default tags are added
    custom_history = [h for h in contact["history"] if h.get("field") == "custom.City"]
    assert custom_history[0]["from"] == "Gdańsk" and custom_history[0]["to"] == "Sopot"


def test_a_stage_from_the_file_moves_contacts_forward_only(tmp_path, workspace) -> None:
    ahead = workspace.add({"email": "a@x.pl", "need": "yes"})
    workspace.move(ahead, "opportunity", "called", by="tester")
    behind = workspace.add({"email": "b@x.pl"})
    path = write(tmp_path, "Email,Stage\na@x.pl,lead\nb@x.pl,Prospect\n")  # id or label
    plan = plan_import(path, None, workspace)
    assert plan.counts()["unchanged"] == 1 and plan.counts()["updated"] == 1
    workspace.apply_import(plan)
    assert workspace.classification(ahead).stage == "opportunity"
    assert workspace.classification(behind).stage == "prospect"
    moved = [h for h in workspace.get(behind)["history"] if h["kind"] == "stage"][-1]
    assert (moved["from"], moved["to"], moved["by"]) == ("lead", "prospect", "import:leads.csv")


def test_duplicates_within_a_file_are_merged_and_reported(tmp_path, workspace) -> None:
    path = write(tmp_path, "email,name,tags,title\nA@x.pl,Anna,a,\nb@x.pl,Bob,,\n"
                           "a@x.pl,,b,CEO\n")
    plan = plan_import(path, None, workspace)
    assert [d.to_dict() for d in plan.duplicates] == [{"key": "email a@x.pl", "rows": [2, 4]}]
    workspace.apply_import(plan)
    anna = by_email(workspace)["A@x.pl"]
    assert (anna["name"], anna["title"], anna["tags"]) == ("Anna", "CEO", ["a", "b"])
    assert len(workspace) == 2


def test_placeholders_and_yes_no_words_are_understood(tmp_path, workspace) -> None:
    path = write(tmp_path, "email,budget,authority,need,source\n"
                           "a@x.pl,Y,TRUE,Select,Trade Show\nb@x.pl,n/a,No,unknown,#N/A\n")
    workspace.apply_import(plan_import(path, None, workspace))
    a, b = by_email(workspace)["a@x.pl"], by_email(workspace)["b@x.pl"]
    assert (a["budget"], a["authority"], a["need"], a["source"]) == ("yes", "yes", "unknown",
                                                                      "trade_show")
    assert (b["budget"], b["authority"], "source" in b) == ("unknown", "no", False)


# -- concurrency and progress -------------------------------------------------------------
def test_a_commit_by_someone_else_between_plan_and_apply_is_taken_into_account(
        tmp_path, workspace, db, clock) -> None:
    path = write(tmp_path, "email,title\na@x.pl,CEO\nb@x.pl,CTO\n")
    plan = plan_import(path, None, workspace)
    assert plan.counts()["created"] == 2
    with Workspace.open(db, "default", clock=clock, user="other") as other:
        other.add({"email": "a@x.pl", "name": "Anna"}, by="other")
    result = workspace.apply_import(plan)
    assert result.replanned == 1
    assert result.counts() == {"created": 1, "updated": 1, "unchanged": 0, "skipped": 0}
    anna = by_email(workspace)["a@x.pl"]
    assert (anna["name"], anna["title"]) == ("Anna", "CEO") and len(workspace) == 2


def test_progress_is_reported_for_every_phase(tmp_path, workspace) -> None:
    rows = "".join(f"c{i}@x.pl,Contact {i}\n" for i in range(1200))
    seen: list[tuple[str, int, int]] = []
    plan = plan_import(write(tmp_path, "email,name\n" + rows), None, workspace,
                       progress=lambda *report: seen.append(report))
    workspace.apply_import(plan, progress=lambda *report: seen.append(report))
    phases = [phase for phase, _, _ in seen]
    assert set(phases) == {"read", "check", "match", "write"}
    for phase in ("check", "match", "write"):
        reports = [(done, total) for p, done, total in seen if p == phase]
        assert reports[-1] == (1200, 1200) and len(reports) >= 3
        assert [done for done, _ in reports] == sorted(done for done, _ in reports)


def test_a_workspace_hears_about_imported_contacts(tmp_path, workspace) -> None:
    workspace.add({"email": "a@x.pl"})
    heard = []
    workspace.subscribe(heard.append)
    path = write(tmp_path, "email,title\na@x.pl,CEO\nb@x.pl,CTO\n")
    workspace.apply_import(plan_import(path, None, workspace))
    assert [(event.kind, len(event.ids), event.by) for event in heard] == [
        ("add", 1, "import:leads.csv"), ("edit", 1, "import:leads.csv")]
