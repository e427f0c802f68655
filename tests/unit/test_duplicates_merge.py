"""Likely duplicates and merging two contacts (issue #15), on real database files:
what counts as the same, what a merge keeps (nothing is lost), that it is one
journal record which another process, a reopen and ``funnel check`` all read back,
and that undo puts both contacts back."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from funnel.engine.errors import FunnelError, NotFound
from funnel.engine.model import format_datetime
from funnel.engine.store.check import check_database
from funnel.engine.workspace.duplicates import find_duplicates
from funnel.engine.workspace.facade import Workspace

from cli_support import run_cli

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)
EARLY = format_datetime(NOW - timedelta(days=40))


def groups(*documents: dict) -> list[list[int]]:
    return [group.ids for group in find_duplicates(enumerate(documents, 1))]


def test_what_counts_as_the_same():
    assert groups({"email": "Ana@Example.com "}, {"email": "ana@example.com"},
                  {"email": "ana@example.org"}) == [[1, 2]]
    assert groups({"phone": "+47 912 34 567"}, {"phone": "0047 91234567"},
                  {"phone": "912-34-567"}, {"phone": "12345"}, {"phone": "012345"}) \
        == [[1, 2, 3]]  # short numbers never match
    assert groups({"name": "José Núñez", "company": "Acme Inc."},
                  {"name": "Nunez, Jose", "company": "ACME"},
                  {"name": "José Núñez", "company": "Other Ltd"},
                  {"name": "José Núñez"}) == [[1, 2]]  # same company only, and given
    # Groups join through a shared contact: 1~2 by email, 2~3 by phone.
    assert groups({"email": "a@x.io"}, {"email": "a@x.io", "phone": "55512345"},
                  {"phone": "555 123 45"}) == [[1, 2, 3]]
    found = find_duplicates(enumerate([{"email": "a@x.io"}, {"email": "A@x.io"}], 1))
    assert found[0].reasons == ["email: a@x.io"]


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "funnel.json"
    with Workspace.open(path, "default", clock=lambda: NOW, user="setup") as workspace:
        workspace.add({"name": "José Núñez", "company": "Acme Inc.", "email": "jose@acme.com",
                       "tags": ["vip"], "notes": "met at the fair", "need": "yes",
                       "custom": {"badge": "A1"}})
        workspace.add({"name": "Nunez, Jose", "company": "ACME", "email": "jn@acme.com",
                       "phone": "+34 600 123 456", "tags": ["fair"], "owner": "ola",
                       "created_at": EARLY, "custom": {"badge": "B2", "shoe": "44"}})
        workspace.log_activity(2, "call", note="asked for prices")
        workspace.add({"name": "Someone Else", "email": "else@example.com"})
    return path


def journal_lines(db: Path) -> int:
    return len(db.with_name(db.name + ".journal").read_bytes().splitlines())


def test_merge_keeps_everything_in_one_record_and_undo_puts_both_back(db: Path):
    with Workspace.open(db, "default", clock=lambda: NOW, user="tester") as workspace, \
            Workspace.open(db, "default", clock=lambda: NOW, user="other") as elsewhere:
        keep_before, other_before = workspace.get(1), workspace.get(2)
        lines = journal_lines(db)
        result = workspace.merge(1, 2, why="same person")
        assert journal_lines(db) == lines + 1  # one commit
        merged = workspace.get(1)
        assert result.filled == {"phone": "+34 600 123 456", "owner": "ola"}
        assert result.set_aside == {"name": "Nunez, Jose", "email": "jn@acme.com",
                                    "company": "ACME", "custom badge": "B2"}
        assert merged["email"] == "jose@acme.com" and merged["owner"] == "ola"
        assert merged["tags"] == ["vip", "fair"]
        assert merged["custom"] == {"badge": "A1", "shoe": "44"}
        assert merged["created_at"] == EARLY  # known since the earlier of the two
        assert "jn@acme.com" in merged["notes"] and "met at the fair" in merged["notes"]
        assert merged["activities"] == other_before["activities"]
        # Both histories, each entry with its own date (the other's saying whose it
        # was), then the merge.
        for entry in keep_before["history"]:
            assert entry in merged["history"]
        for entry in other_before["history"]:
            assert dict(entry, merged_from=2) in merged["history"]
        last = merged["history"][-1]
        assert last["kind"] == "merged" and last["to"]["id"] == 2
        assert last["why"] == "same person" and last["to"]["set_aside"]["email"] == "jn@acme.com"
        assert [entry["at"] for entry in merged["history"]] == \
            sorted(entry["at"] for entry in merged["history"])
        with pytest.raises(FunnelError):
            workspace.get(2)
        assert len(workspace) == 2
        elsewhere.refresh()  # another process sees the contact gone
        assert sorted(elsewhere.ids()) == [1, 3]
        assert workspace.undo_description == "merge #2 into #1"

        undone = workspace.undo()
        assert set(undone.ids) == {1, 2}
        for contact_id, before in ((1, keep_before), (2, other_before)):
            restored = workspace.get(contact_id)
            for name in ("name", "email", "phone", "owner", "tags", "notes", "custom",
                         "activities", "created_at"):
                assert restored.get(name) == before.get(name), (contact_id, name)
        elsewhere.refresh()
        assert sorted(elsewhere.ids()) == [1, 2, 3]
        workspace.redo()
        assert sorted(workspace.ids()) == [1, 3]
    with Workspace.open(db, "default", clock=lambda: NOW) as reopened:  # from disk
        assert sorted(reopened.ids()) == [1, 3]
        assert reopened.get(1)["owner"] == "ola"
    report = check_database(db, repair=False)
    assert report.to_dict()["status"] == "healthy", report.lines()


def test_a_merge_refused_writes_nothing(db: Path):
    with Workspace.open(db, "default", clock=lambda: NOW, user="tester") as workspace:
        lines = journal_lines(db)
        with pytest.raises(FunnelError, match="itself"):
            workspace.merge(1, 1)
        with pytest.raises(NotFound):
            workspace.merge(1, 99)
        with pytest.raises(NotFound):
            workspace.merge(99, 1)
        assert journal_lines(db) == lines and not workspace.can_undo


def test_undo_of_a_merge_waits_for_nobody_else_to_have_changed_it(db: Path):
    with Workspace.open(db, "default", clock=lambda: NOW, user="tester") as workspace, \
            Workspace.open(db, "default", clock=lambda: NOW, user="other") as elsewhere:
        workspace.merge(1, 2)
        elsewhere.refresh()
        elsewhere.edit(1, {"title": "CTO"})
        with pytest.raises(FunnelError, match="changed since"):
            workspace.undo()
        assert workspace.get(1)["title"] == "CTO" and sorted(workspace.ids()) == [1, 3]


def test_cli_duplicates_and_merge(tmp_path: Path, db: Path):
    ran = run_cli(tmp_path, "duplicates", "--db", db, "--json")
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout) == {"groups": [
        {"ids": [1, 2], "reasons": ["name at company: jose nunez @ acme"]}]}
    text = run_cli(tmp_path, "duplicates", "--db", db)
    assert "#1" in text.stdout and "#2" in text.stdout and "Nunez, Jose" in text.stdout
    bad = run_cli(tmp_path, "merge", "1", "99", "--db", db)
    assert bad.returncode == 2 and "99" in bad.stderr and len(bad.stderr.splitlines()) == 1
    ran = run_cli(tmp_path, "merge", "1", "2", "--db", db, "--why", "one person", "--json")
    assert ran.returncode == 0, ran.stderr
    data = json.loads(ran.stdout)
    assert data["kept"] == 1 and data["removed"] == 2
    assert data["filled"]["owner"] == "ola" and set(data["before"]) >= {"stage", "score"}
    after = run_cli(tmp_path, "duplicates", "--db", db, "--json")
    assert json.loads(after.stdout) == {"groups": []}


def test_the_other_contacts_stage_moves_are_kept_but_not_counted_as_the_kept_ones(db: Path):
    from funnel.engine.reports.lifecycle import stage_timeline

    earlier = NOW - timedelta(days=1)  # before any of the kept contact's own history
    with Workspace.open(db, "default", clock=lambda: earlier, user="tester") as workspace:
        workspace.move(2, "opportunity", "demo booked")  # the other one's move
    with Workspace.open(db, "default", clock=lambda: NOW, user="tester") as workspace:
        own = [stay.stage for stay in stage_timeline(workspace.get(1), NOW)]
        workspace.merge(1, 2)
        merged = workspace.get(1)
        theirs = [entry for entry in merged["history"] if entry.get("merged_from") == 2]
        assert any(entry.get("to") == "opportunity" for entry in theirs)  # still on record
        stays = [stay.stage for stay in stage_timeline(merged, NOW)]
        assert "opportunity" not in stays[:len(own)] and stays[:len(own)] == own


def test_the_other_contacts_moves_do_not_count_in_the_funnel_figures(db: Path):
    from funnel.engine.reports import lifecycle

    earlier = NOW - timedelta(days=1)
    with Workspace.open(db, "default", clock=lambda: earlier, user="tester") as workspace:
        workspace.move(2, "opportunity", "demo booked")
    with Workspace.open(db, "default", clock=lambda: NOW, user="tester") as workspace:
        before = lifecycle.compute(workspace)
        entered = {stage.id: stage.entered[7] for stage in before.stages}
        assert entered["opportunity"] == 1  # contact 2's move, while it is its own
        workspace.merge(1, 2)
        after = lifecycle.compute(workspace)
        moved = {stage.id: stage.entered[7] for stage in after.stages}
        kept_stage = workspace.classification(1).stage
        assert moved["opportunity"] == (1 if kept_stage == "opportunity" else 0)
