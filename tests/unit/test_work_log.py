"""Logging work (issue #15) on real database files: ``Workspace.log_activity`` with a
note, an outcome and a follow-up in one commit and one undo step; the activity makes
a rotting contact fresh; the date words the log and the follow-up picker share."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone

import pytest

from funnel.engine.errors import FieldError
from funnel.engine.model import format_datetime
from funnel.engine.model.date_words import parse_day, parse_moment
from funnel.engine.workspace.facade import Workspace
from funnel.engine.workspace.work_log import activity_kind, check_note, outcome_value
from funnel.tui.dialogs.prompts import NO_DATE, snooze_choices

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)  # a Friday


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def workspace(tmp_path, clock):
    with Workspace.open(tmp_path / "funnel.json", "default", clock=clock,
                        user="tester") as opened:
        yield opened


def add_lead(workspace: Workspace) -> int:
    return workspace.add({"name": "Ola Nordmann", "email": "ola@example.no",
                          "created_at": format_datetime(NOW - timedelta(days=3))})


def test_a_call_with_note_outcome_and_follow_up_is_one_commit_and_one_undo_step(
        workspace, tmp_path):
    contact_id = add_lead(workspace)
    before = workspace.get(contact_id)
    result = workspace.log_activity(contact_id, "call", note="Spoke to Ola.\n[bold]budget[/]",
                                    outcome="no answer", follow_up="2026-11-25")
    after = workspace.get(contact_id)
    assert after["rev"] == before["rev"] + 1  # one commit
    assert result.activity == {"kind": "call", "at": "2026-11-20T09:00:00Z",
                               "note": "Spoke to Ola.\n[bold]budget[/]",
                               "outcome": "no_answer"}
    assert after["activities"][-1] == result.activity
    assert after["follow_up"] == "2026-11-25"
    assert result.changed == {"follow_up": (None, "2026-11-25")}
    kinds = [entry["kind"] for entry in after["history"][len(before["history"]):]]
    assert kinds[:2] == ["activity", "field"]
    assert result.after.engagement > result.before.engagement  # a call feeds engagement
    workspace.undo()  # one step: the call and its follow-up go together
    restored = workspace.get(contact_id)
    assert not restored.get("activities") and restored.get("follow_up") is None
    workspace.redo()
    workspace.close()  # reopened from disk: it was written, not only cached
    with Workspace.open(tmp_path / "funnel.json", "default", clock=lambda: NOW) as again:
        assert again.get(contact_id)["activities"][-1] == result.activity
        assert again.get(contact_id)["follow_up"] == "2026-11-25"


def test_the_old_call_still_works(workspace):
    contact_id = add_lead(workspace)
    result = workspace.log_activity(contact_id, "email_open", "2026-11-19T10:00:00Z", 2)
    assert result.activity == {"kind": "email_open", "at": "2026-11-19T10:00:00Z", "count": 2}
    assert result.changed == {}


def test_logged_work_makes_a_rotting_contact_fresh(workspace, clock):
    contact_id = add_lead(workspace)
    clock.now = NOW + timedelta(days=40)  # a lead rots after 30 idle days
    assert workspace.classification(contact_id).rotting
    for kind in ("note", "email_sent"):  # work that is not the contact's engagement
        fresh = workspace.log_activity(contact_id, kind, note="chased by mail")
        assert not fresh.after.rotting and fresh.before.engagement == fresh.after.engagement
        workspace.undo()
        assert workspace.classification(contact_id).rotting


def test_nothing_is_written_for_bad_input(workspace):
    contact_id = add_lead(workspace)
    rev = workspace.get(contact_id)["rev"]
    bad = [dict(kind="fax"), dict(kind="call", outcome="maybe"),
           dict(kind="call", follow_up="31/02"), dict(kind="call", at="yesterday"),
           dict(kind="call", note="esc \x1b[31m red")]
    for arguments in bad:
        with pytest.raises(FieldError):
            workspace.log_activity(contact_id, **arguments)
    assert workspace.get(contact_id)["rev"] == rev
    assert not workspace.get(contact_id).get("activities")


def test_note_checks_say_where_the_control_character_is():
    assert check_note("a\r\nb\t[red]c[/]  \n") == "a\nb\t[red]c[/]"
    assert check_note("   ") is None
    with pytest.raises(FieldError, match=r"\\x1b on line 2"):
        check_note("first\nsecond \x1b[2J")


def test_kind_and_outcome_words():
    assert activity_kind("Email") == "email_sent" and activity_kind("call") == "call"
    assert activity_kind("page visit") == "page_visit"
    with pytest.raises(FieldError, match="call, email_sent, meeting, note"):
        activity_kind("fax")
    assert outcome_value("No answer") == "no_answer" and outcome_value("") is None
    assert outcome_value("left-message") == "left_message"


def test_every_follow_up_the_picker_offers_parses_to_the_same_day():
    for today in (date(2026, 11, 20), date(2026, 11, 23), date(2026, 12, 31)):
        for value, label in snooze_choices(today):
            if value == NO_DATE:
                continue
            words = re.match(r"(.*?)\s+\d{4}-", label).group(1)  # "in 3 days", …
            assert parse_day(words, today).isoformat() == value, (today, label)


def test_moments_are_in_the_past_and_utc():
    assert parse_moment("", NOW) == NOW
    assert parse_moment("yesterday", NOW) == NOW - timedelta(days=1)
    assert parse_moment("2 hours ago", NOW) == NOW - timedelta(hours=2)
    assert parse_moment("2026-11-19T14:30", NOW) == datetime(2026, 11, 19, 14, 30,
                                                              tzinfo=timezone.utc)
    for text in ("tomorrow", "31/02", "2026-02-31", "soon", "x" * 200):
        with pytest.raises(FieldError):
            parse_moment(text, NOW)


def test_the_same_work_on_many_contacts_is_one_record_and_one_undo_step(tmp_path, workspace):
    ids = [add_lead(workspace) for _ in range(3)]
    journal = tmp_path / "funnel.json.journal"
    lines = len(journal.read_bytes().splitlines())
    with Workspace.open(tmp_path / "funnel.json", "default", clock=lambda: NOW,
                        user="bob") as elsewhere:
        elsewhere.edit(ids[2], {"follow_up": "2026-12-01"})  # after this session read it
    workspace.get(ids[2])  # (shown before the refresh the commit makes)
    done = workspace.log_activity_many(ids, "email", note="price list",
                                       follow_up="2026-11-27")
    assert done.changed == ids[:2] and [c.contact_id for c in done.conflicts] == [ids[2]]
    assert len(journal.read_bytes().splitlines()) == lines + 2  # bob's edit, then one
    for contact_id in ids[:2]:
        stored = workspace.get(contact_id)
        assert stored["activities"][-1]["kind"] == "email_sent"
        assert stored["follow_up"] == "2026-11-27"
    assert workspace.get(ids[2])["follow_up"] == "2026-12-01"  # bob's, not overwritten
    assert workspace.undo_description == "log email sent on 2 contacts"
    workspace.undo()
    assert all(not workspace.get(contact_id).get("activities") for contact_id in ids)
