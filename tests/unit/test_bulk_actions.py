"""Bulk actions on the workspace (issue #15): one commit and one undo step per action,
undo that says what it undoes, conflicts per contact, and hand moves that do not pin
a stage the rules already give. Real TinyDB files on disk."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from funnel.engine.errors import FunnelError
from funnel.engine.model import format_datetime
from funnel.engine.workspace.facade import Workspace

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=timezone.utc)


def clock() -> datetime:
    return NOW


@pytest.fixture
def db(tmp_path):
    return tmp_path / "funnel.json"


@pytest.fixture
def workspace(db):
    with Workspace.open(db, "default", clock=clock, user="tester") as opened:
        yield opened


def add_leads(workspace, count: int) -> list[int]:
    return workspace.add_many([{"name": f"Lead {n}", "email": f"lead{n}@example.pl",
                                "created_at": format_datetime(NOW - timedelta(days=3))}
                               for n in range(count)], by="tester")


def test_advancing_to_the_stage_the_rules_give_releases_the_pin(workspace):
    (contact_id,) = add_leads(workspace, 1)
    assert workspace.classification(contact_id).stage == "lead"
    workspace.move(contact_id, "suspect", "not reachable yet")
    assert workspace.classification(contact_id).manual
    workspace.move(contact_id, "lead", "advanced by hand")
    after = workspace.classification(contact_id)
    assert after.stage == "lead"
    assert not after.manual, after.stage_reason
    assert workspace.get(contact_id).get("stage_pin") is None


def test_advancing_past_the_rules_stage_from_a_pin_is_kept_forward_only(workspace):
    (contact_id,) = add_leads(workspace, 1)
    workspace.move(contact_id, "suspect", "not reachable yet")
    workspace.move(contact_id, "prospect", "qualified on the phone")
    after = workspace.classification(contact_id)
    assert after.stage == "prospect" and after.rules_stage == "lead"
    assert not after.manual  # kept by forward-only moves, not pinned


def owners(workspace, ids):
    return [workspace.get(contact_id).get("owner") for contact_id in ids]


def test_bulk_assign_is_one_journal_record_and_one_undo_step_that_says_what(workspace):
    ids = add_leads(workspace, 3)
    version = workspace.version
    result = workspace.bulk_edit(ids, {"owner": "ola"})
    assert result.changed == ids and result.description == "assign 3 contacts to ola"
    assert workspace.version == version + 1  # one commit, one record
    assert owners(workspace, ids) == ["ola"] * 3
    assert workspace.undo_description == "assign 3 contacts to ola"
    undone = workspace.undo()
    assert undone.message == "Undo: assign 3 contacts to ola"
    assert sorted(undone.ids) == ids
    assert owners(workspace, ids) == [None] * 3  # all three in one press
    assert workspace.version == version + 2
    assert not workspace.can_undo  # adding is not an undo step: nothing older to undo
    redone = workspace.redo()
    assert redone.message == "Redo: assign 3 contacts to ola"
    assert owners(workspace, ids) == ["ola"] * 3


def test_undo_names_a_single_edit_and_the_contact(workspace):
    (contact_id,) = add_leads(workspace, 1)
    workspace.disqualify(contact_id, "spam")
    assert workspace.undo().message == "Undo: disqualify Lead 0"
    workspace.edit(contact_id, {"owner": "ola"})
    assert workspace.undo_description == "edit owner of Lead 0"


def test_a_contact_changed_by_another_session_since_it_was_marked_is_a_conflict(workspace, db):
    ids = add_leads(workspace, 3)
    seen = {contact_id: {"owner": None} for contact_id in ids}  # as marked
    with Workspace.open(db, "default", clock=clock, user="bob") as bob:
        bob.edit(ids[1], {"owner": "bob"})
    result = workspace.bulk_assign(ids, ["ola"], expect=seen)
    assert result.changed == [ids[0], ids[2]]
    assert [conflict.contact_id for conflict in result.conflicts] == [ids[1]]
    assert "bob" in str(result.conflicts[0])
    assert owners(workspace, ids) == ["ola", "bob", "ola"]  # bob's change is kept
    assert result.description == "assign 2 contacts to ola"


def test_round_robin_follows_the_order_given(workspace):
    ids = add_leads(workspace, 5)
    result = workspace.bulk_assign(ids, ["piotr", "ola"])
    assert owners(workspace, ids) == ["piotr", "ola", "piotr", "ola", "piotr"]
    assert result.description == "assign 5 contacts in turn to piotr, ola"
    workspace.undo()
    assert owners(workspace, ids) == [None] * 5


def test_a_bad_value_refuses_the_whole_bulk_edit(workspace):
    ids = add_leads(workspace, 2)
    version = workspace.version
    with pytest.raises(FunnelError, match="budget"):
        workspace.bulk_edit(ids, {"budget": "maybe"})
    assert workspace.version == version and not workspace.can_undo


def test_bulk_move_names_the_contacts_it_could_not_move(workspace):
    ids = add_leads(workspace, 3)
    stages = {ids[0]: "prospect", ids[1]: "prospect", ids[2]: "nowhere"}
    result = workspace.bulk_move(stages, "advanced by hand", description="advance {contacts}")
    assert result.changed == ids[:2] and result.description == "advance 2 contacts"
    assert [skip.contact_id for skip in result.skipped] == [ids[2]]
    assert "not a stage" in result.skipped[0].reason
    assert [workspace.classification(i).stage for i in ids] == ["prospect", "prospect", "lead"]
    assert workspace.undo().message == "Undo: advance 2 contacts"
    assert [workspace.classification(i).stage for i in ids] == ["lead"] * 3


def test_bulk_disqualify_and_undo_skips_a_contact_changed_since(workspace, db):
    ids = add_leads(workspace, 3)
    workspace.bulk_disqualify(ids, "spam")
    assert {workspace.classification(i).stage for i in ids} == {"disqualified"}
    with Workspace.open(db, "default", clock=clock, user="bob") as bob:
        bob.edit(ids[0], {"owner": "bob"})
    workspace.refresh()
    undone = workspace.undo()
    assert undone.left == (ids[0],)
    assert f"#{ids[0]}" in undone.message and "left as they are" in undone.message
    stages = [workspace.classification(i).stage for i in ids]
    assert stages == ["disqualified", "lead", "lead"]
    assert workspace.get(ids[0])["owner"] == "bob"


def test_a_bulk_action_on_one_contact_names_it(workspace):
    ids = add_leads(workspace, 2)
    result = workspace.bulk_edit(ids, {"follow_up": "2026-12-01"})
    assert result.description == "set follow-up 2026-12-01 on 2 contacts"
    result = workspace.bulk_edit(ids[:1], {"owner": "ola"})
    assert result.description == "assign Lead 0 to ola"


def test_nothing_written_when_every_contact_already_has_the_value(workspace):
    ids = add_leads(workspace, 2)
    workspace.bulk_edit(ids, {"owner": "ola"})
    version = workspace.version
    result = workspace.bulk_edit(ids, {"owner": "ola"})
    assert result.unchanged == ids and not result.changed
    assert workspace.version == version  # no empty record
    assert workspace.undo_description == "assign 2 contacts to ola"  # the first, still


def test_owners_are_listed_with_their_counts_most_first(workspace):
    ids = add_leads(workspace, 6)
    workspace.bulk_assign(ids[:5], ["piotr", "ola", "ola"])
    assert workspace.owners() == [("ola", 3), ("piotr", 2)]


def test_each_contact_its_own_change_described_by_the_fields(workspace):
    ids = add_leads(workspace, 2)
    result = workspace.bulk_edit_each({ids[0]: {"tags": ["vip"]}, ids[1]: {"tags": ["new"]}})
    assert result.description == "edit tags of 2 contacts"
    assert [workspace.get(i)["tags"] for i in ids] == [["vip"], ["new"]]
