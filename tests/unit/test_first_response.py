"""First-response deadlines (issue #15): the ``first_response`` rules section, the
``unanswered`` flag on both classifier paths, and ``funnel show``/``funnel export``.

A contact is unanswered when its deadline (the first matching entry's hours after
``created_at``) has passed, no person logged a call, email, meeting or note, and it is
not closed (an exit, an outcome).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_columns_documents import NOW, demo_documents, documents

from funnel.engine.columns.classify import classify_columns
from funnel.engine.columns.table import ContactColumns
from funnel.engine.errors import ConfigError
from funnel.engine.model import format_datetime, new_contact, parse_datetime
from funnel.engine.rules.classify import classify
from funnel.engine.rules.first_response import PERSON_KINDS, response_due
from funnel.engine.rules.loading import load_rules, parse_rules, resolve
from funnel.engine.rules.ruleset import Rules
from funnel.engine.workspace.facade import Workspace
from funnel.engine.workspace.work_log import LOGGED_KINDS

from cli_support import run_cli

DEADLINES = """
first_response:
  - when: count.demo_request > 0 or source in [inbound_call, chat]
    within_hours: 1
  - when: always
    within_hours: 24
"""


def base_text() -> str:
    """The default preset without its own ``first_response`` section."""
    text = resolve("default").read_text()
    return text[:text.index("\n# First-response deadlines")] + "\n"


def rules_with(section: str) -> Rules:
    return parse_rules(base_text() + section, "rules.yaml")


RULES = rules_with(DEADLINES)


def contact(hours_ago: float, **fields: object) -> dict:
    created = format_datetime(NOW - timedelta(hours=hours_ago))
    return new_contact({"name": "Ann", "created_at": created, **fields}, NOW)


def activity(kind: str, hours_ago: float = 0.1) -> dict:
    return {"kind": kind, "at": format_datetime(NOW - timedelta(hours=hours_ago))}


def unanswered(document: dict, rules: Rules = RULES) -> bool:
    return classify(document, rules, NOW).unanswered


# -- loading -----------------------------------------------------------------

def test_the_section_is_read_in_order() -> None:
    assert [d.within_hours for d in RULES.first_response] == [1.0, 24.0]
    assert RULES.first_response[0].when.text.startswith("count.demo_request")
    assert load_rules("default").first_response and load_rules("fit-first").first_response


@pytest.mark.parametrize("section, line, words", [  # line: in ``section``, from 1
    ("first_response: soon\n", 1, "first_response must be a list"),
    ("first_response:\n  - when: always\n", 2, "missing 'within_hours'"),
    ("first_response:\n  - within_hours: 2\n", 2, "missing 'when'"),
    ("first_response:\n  - when: always\n    within_hours: 0\n", 3, "more than 0"),
    ("first_response:\n  - when: always\n    within_hours: soon\n", 3, "must be a number"),
    ("first_response:\n  - when: always\n    within_hours: 9000\n", 3, "at most 8760"),
    ("first_response:\n  - when: always\n    within_hours: 1\n    by: ola\n", 4,
     "unknown key 'by'"),
    ("first_response:\n  - when: score > 50\n    within_hours: 1\n", 2,
     "unknown name 'score'"),  # the scoring phase: no score yet
])
def test_a_bad_section_names_file_line_and_entry(section: str, line: int, words: str) -> None:
    base = base_text()
    first = base.count("\n") + 2  # the line of 'first_response:' in the joined text
    with pytest.raises(ConfigError) as caught:
        parse_rules(base + "\n" + section, "rules.yaml")
    message = str(caught.value)
    assert words in message, message
    assert message.startswith(f"rules.yaml:{first + line - 1}: "), message
    if line > 1:
        assert "first_response[1]" in message, message


def test_no_section_means_no_deadlines() -> None:
    bare = rules_with("")
    assert bare.first_response == ()
    assert not unanswered(contact(500, source="chat"), bare)


# -- the rule -----------------------------------------------------------------

def test_past_the_deadline_unanswered_before_it_not() -> None:
    assert unanswered(contact(2, source="chat"))  # 1 hour for chat
    assert not unanswered(contact(0.5, source="chat"))
    assert not unanswered(contact(20, source="web_form"))  # 24 hours for the rest
    assert unanswered(contact(25, source="web_form"))
    assert unanswered(contact(2, activities=[activity("demo_request", 1.5)]))


@pytest.mark.parametrize("kind", PERSON_KINDS)
def test_a_contact_a_person_worked_is_answered(kind: str) -> None:
    assert not unanswered(contact(30, source="chat", activities=[activity(kind)]))


def test_the_contacts_own_activity_is_no_answer() -> None:
    assert unanswered(contact(30, activities=[activity("page_visit"), activity("email_open")]))


def test_the_kinds_a_person_logs_are_the_kinds_that_answer() -> None:
    assert {kind for kind, _ in LOGGED_KINDS} == set(PERSON_KINDS)


def test_a_closed_contact_is_never_unanswered() -> None:
    lost = contact(30, source="chat")
    lost["stage"] = lost["stage_pin"] = "disqualified"
    assert classify(lost, RULES, NOW).stage == "disqualified"
    assert not unanswered(lost)
    assert not unanswered(contact(30, source="chat", outcome="won"))
    assert not unanswered(contact(30, source="chat", outcome="lost"))


# -- both paths agree -----------------------------------------------------------

def assert_paths_agree(items: list[tuple[int, dict]], rules: Rules) -> int:
    table = ContactColumns.build(items)
    vector = classify_columns(table, rules, NOW)
    for contact_id, document in items:
        expected = classify(document, rules, NOW, explain=False).unanswered
        assert vector.row(table.row_of[contact_id])["unanswered"] == expected, document
    return int(vector.unanswered[table.live()].sum())


@pytest.mark.parametrize("preset", ["default", "fit-first"])
def test_demo_contacts_agree_and_some_are_unanswered(preset: str) -> None:
    items = list(enumerate(demo_documents(600, seed=11), start=1))
    for contact_id, document in items[::5]:  # some worked by a person
        kind = PERSON_KINDS[contact_id % len(PERSON_KINDS)]
        document["activities"] = document.get("activities", []) + [activity(kind)]
    for contact_id, document in items[::13]:
        document["outcome"] = "won"
    found = assert_paths_agree(items, load_rules(preset))
    assert 0 < found < len(items)


@st.composite
def worked_documents(draw: st.DrawFn) -> dict:
    """Generated documents, some given work a person logged (at any moment)."""
    document = draw(documents())
    for kind in draw(st.lists(st.sampled_from(PERSON_KINDS + ("page_visit",)), max_size=2)):
        document["activities"] = document.get("activities", []) + [
            activity(kind, draw(st.sampled_from((0.0, 5.0, -3.0, 800.0))))]
    if draw(st.booleans()):
        document["outcome"] = draw(st.sampled_from(("won", "lost")))
    return document


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(worked_documents(), min_size=1, max_size=12),
       st.sampled_from([RULES, load_rules("default"), load_rules("fit-first")]))
def test_property_both_paths_agree(docs: list[dict], rules: Rules) -> None:
    assert_paths_agree(list(enumerate(docs, start=1)), rules)


# -- workspace and command line ---------------------------------------------------

@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("answer")
    path = folder / "leads.json"
    result = run_cli(folder, "generate", "--db", path, "--contacts", 200, "--seed", 3)
    assert result.returncode == 0, result.stderr
    return path


def shown(db: Path, contact_id: int) -> dict:
    result = run_cli(db.parent, "show", "--db", db, str(contact_id), "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["classification"]


def exported_ids(db: Path, *words: str) -> list[int]:
    result = run_cli(db.parent, "export", "--db", db, "--format", "json", "--", *words)
    assert result.returncode == 0, result.stderr
    return sorted(item["id"] for item in json.loads(result.stdout))


def test_export_filters_unanswered_and_show_says_so(db: Path) -> None:
    with Workspace.open(db) as workspace:
        every = {contact_id: workspace.classification(contact_id).unanswered
                 for contact_id in workspace.ids()}
        assert workspace.stats()["unanswered"] == sum(every.values())
    waiting = exported_ids(db, "unanswered")
    assert waiting == sorted(contact_id for contact_id, flag in every.items() if flag)
    assert 0 < len(waiting) < len(every)
    assert exported_ids(db, "-unanswered") == sorted(set(every) - set(waiting))
    first = waiting[0]
    assert shown(db, first)["unanswered"] is True
    text = run_cli(db.parent, "show", "--db", db, str(first))
    assert "UNANSWERED" in text.stdout.splitlines()[1], text.stdout
    stats = run_cli(db.parent, "stats", "--db", db)
    assert f"unanswered {len(waiting)}" in stats.stdout, stats.stdout
    # Logging a call answers it: the flag, the filter and the count all follow.
    result = run_cli(db.parent, "log", "--db", db, str(first), "call")
    assert result.returncode == 0, result.stderr
    assert shown(db, first)["unanswered"] is False
    assert first not in exported_ids(db, "unanswered")


def add_at(path: Path, moment: datetime, fields: dict) -> int:
    with Workspace.open(path, RULES, clock=lambda: moment, user="ola") as workspace:
        return workspace.add(fields)


def test_attention_puts_unanswered_with_overdue_after_fresh_hot(tmp_path: Path) -> None:
    path = tmp_path / "d.json"
    earlier = NOW - timedelta(hours=30)
    yes = {"budget": "yes", "authority": "yes", "need": "yes", "timing": "yes"}
    # Worked first: on every other key (score, age, id) it would sort before Waiting.
    worked = add_at(path, earlier, {"name": "Worked", "source": "web_form"})
    waiting = add_at(path, earlier, {"name": "Waiting", "source": "web_form"})
    due = add_at(path, earlier, {"name": "Due", "source": "web_form",
                                 "follow_up": (NOW.date() - timedelta(days=1)).isoformat()})
    hot = add_at(path, NOW - timedelta(hours=3), {"name": "Hot", "source": "chat", **yes})
    with Workspace.open(path, RULES, clock=lambda: NOW, user="ola") as workspace:
        workspace.log_activity(worked, "call")
        workspace.log_activity(due, "note")
        assert workspace.classification(waiting).unanswered
        assert workspace.classification(hot).unanswered  # chat: 1 hour
        assert not workspace.classification(worked).unanswered
        order = workspace.select(None, "attention")
        assert order.index(hot) == 0
        # Unanswered is as urgent as an overdue follow-up: both before worked contacts.
        assert max(order.index(waiting), order.index(due)) < order.index(worked)
        assert sorted(workspace.select("unanswered")) == sorted([hot, waiting])
        assert workspace.stats()["unanswered"] == 2


def test_a_deadline_passing_during_the_day_is_seen(tmp_path: Path) -> None:
    clock = [NOW.replace(hour=9, minute=0, second=0, microsecond=0)]
    with Workspace.open(tmp_path / "d.json", RULES, clock=lambda: clock[0]) as workspace:
        chat = workspace.add({"name": "Chat", "source": "chat"})
        assert not workspace.classification(chat).unanswered
        clock[0] += timedelta(hours=2)  # 11:00 the same day: the 1-hour deadline is gone
        assert workspace.classification(chat).unanswered
        assert workspace.select("unanswered") == [chat]


def test_response_due_is_the_deadline_while_no_one_has_answered() -> None:
    waiting = contact(0.5, source="chat")
    assert response_due(waiting, RULES, NOW, "suspect") == \
        parse_datetime(waiting["created_at"]) + timedelta(hours=1)
    late = contact(30, source="web_form")
    assert response_due(late, RULES, NOW, "suspect") == \
        parse_datetime(late["created_at"]) + timedelta(hours=24)
    worked = contact(0.5, source="chat", activities=[activity("call")])
    assert response_due(worked, RULES, NOW, "suspect") is None
    assert response_due(waiting, RULES, NOW, "disqualified") is None
    assert response_due(waiting, rules_with(""), NOW, "suspect") is None
    end_of_time = dict(waiting, created_at="9999-12-31T23:00:00Z")
    assert response_due(end_of_time, RULES, NOW, "suspect") is None
