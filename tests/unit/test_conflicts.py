"""Nobody's change disappears unannounced: an edit carries what it was based on, and a
change made since to a field it is based on refuses it, naming who changed it, from
what, to what and when. Two real workspaces on one database file play two people."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from funnel.engine.errors import Conflict, FieldError
from funnel.engine.model import format_datetime
from funnel.engine.workspace.facade import Workspace

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=timezone.utc)


def open_as(path, user: str) -> Workspace:
    return Workspace.open(path, "default", clock=lambda: NOW, user=user)


@pytest.fixture
def desk(tmp_path):
    """anna and bob, each with their own session on one database."""
    path = tmp_path / "funnel.json"
    with open_as(path, "anna") as anna, open_as(path, "bob") as bob:
        contact_id = anna.add({"name": "Ada Lovelace", "title": "Analyst",
                               "created_at": format_datetime(NOW - timedelta(days=2))})
        bob.refresh()
        yield anna, bob, contact_id


def test_a_save_based_on_an_older_value_is_refused_even_after_a_refresh(desk):
    """The issue's reproduction: anna starts editing the title, bob changes it, anna's
    session refreshes (as the app does every half second), anna saves. Before, the
    check compared with the refreshed document and bob's change was overwritten."""
    anna, bob, contact_id = desk
    seen = anna.get(contact_id)["title"]  # anna presses Enter on the title
    bob.edit(contact_id, {"title": "bob-cli"})
    anna.refresh()  # the app's poll: anna's session now knows bob's value
    with pytest.raises(Conflict) as refused:
        anna.edit(contact_id, {"title": "CTO"}, expect={"title": seen})
    conflict = refused.value
    assert [(c.field, c.seen, c.theirs, c.mine, c.by) for c in conflict.clashes] == [
        ("title", "Analyst", "bob-cli", "CTO", "bob")]
    assert conflict.clashes[0].at == format_datetime(NOW)
    message = str(conflict)
    assert "title changed by bob" in message and "'Analyst'" in message \
        and "'bob-cli'" in message and "not saved" in message
    bob.refresh()
    assert bob.get(contact_id)["title"] == "bob-cli"


def test_fields_the_edit_is_not_based_on_merge_silently(desk):
    anna, bob, contact_id = desk
    seen = {"need": anna.get(contact_id).get("need")}
    bob.edit(contact_id, {"owner": "bob", "title": "Head of data"})
    result = anna.edit(contact_id, {"need": "yes"}, expect=seen)
    assert result.changed == {"need": ("unknown", "yes")}
    document = anna.get(contact_id)
    assert (document["need"], document["owner"], document["title"]) == \
        ("yes", "bob", "Head of data")


def test_without_expect_an_edit_is_based_on_what_the_session_shows(desk):
    anna, bob, contact_id = desk
    bob.edit(contact_id, {"title": "bob-cli"})
    with pytest.raises(Conflict):  # anna's session still shows "Analyst"
        anna.edit(contact_id, {"title": "CTO"})
    anna.edit(contact_id, {"title": "CTO"})  # now it has seen bob's value
    assert anna.get(contact_id)["title"] == "CTO"


def test_override_writes_mine_over_theirs_and_says_so_in_the_history(desk):
    anna, bob, contact_id = desk
    bob.edit(contact_id, {"title": "bob-cli"})
    with pytest.raises(Conflict) as refused:
        anna.edit(contact_id, {"title": "CTO"}, expect={"title": "Analyst"})
    anna.override(refused.value)
    document = anna.get(contact_id)
    assert document["title"] == "CTO"
    last = document["history"][-1]
    assert (last["field"], last["from"], last["to"], last["by"], last["override"]) == \
        ("title", "bob-cli", "CTO", "anna", True)
    assert "replaced bob's 'bob-cli'" in last["why"]


def test_override_is_refused_again_if_the_contact_changed_once_more(desk):
    anna, bob, contact_id = desk
    bob.edit(contact_id, {"title": "bob-cli"})
    with pytest.raises(Conflict) as refused:
        anna.edit(contact_id, {"title": "CTO"}, expect={"title": "Analyst"})
    bob.edit(contact_id, {"title": "bob again"})
    with pytest.raises(Conflict) as again:
        anna.override(refused.value)
    assert again.value.clashes[0].theirs == "bob again"
    assert again.value.clashes[0].seen == "bob-cli"


def test_expect_can_name_a_field_the_edit_does_not_change(desk):
    """A script reads owner, decides, and writes need: refused if owner moved on."""
    anna, bob, contact_id = desk
    bob.edit(contact_id, {"owner": "bob"})
    with pytest.raises(Conflict) as refused:
        anna.edit(contact_id, {"need": "yes"}, expect={"owner": None})
    assert refused.value.clashes[0].mine is None
    assert anna.get(contact_id).get("need") == "unknown"


def test_expect_a_derived_stage_refuses_a_move_from_a_stage_left_since(desk):
    anna, bob, contact_id = desk
    stage = anna.classification(contact_id).stage
    bob.move(contact_id, "lost", "went with a competitor")
    with pytest.raises(Conflict) as refused:
        anna.disqualify(contact_id, "a student", expect={"stage": stage})
    assert (refused.value.clashes[0].field, refused.value.clashes[0].theirs) == ("stage", "lost")
    anna.move(contact_id, "lead", "back to work", expect={"stage": "lost"})


def test_expect_names_are_checked(desk):
    anna, _, contact_id = desk
    with pytest.raises(FieldError, match="no_such_field"):
        anna.edit(contact_id, {"need": "yes"}, expect={"no_such_field": 1})


def test_someone_else_writing_the_very_value_i_write_is_no_conflict(desk):
    anna, bob, contact_id = desk
    bob.edit(contact_id, {"title": "CTO", "need": "no"})
    result = anna.edit(contact_id, {"title": "CTO"}, expect={"title": "Analyst"})
    assert result.changed == {}  # nothing of bob's is lost: it already says CTO
    with pytest.raises(Conflict):  # but a different value over bob's "no" is refused
        anna.edit(contact_id, {"need": "yes"}, expect={"need": "unknown"})
