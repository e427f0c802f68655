"""A closed contact (disqualified or lost: an exit) is never overdue and never rotting.

A follow-up date left on a contact that was disqualified as spam, or lost, asks nobody
to do anything: the Overdue view, the ``overdue`` count and the ``overdue:`` filter
must leave it out. Customers and ambassadors stay in the funnel (a renewal call or a
request for a referral is real work), so their follow-ups still fall due. Checked
through the command line on a real database, and for both classification paths
(per contact and over columns) on documents stored in an exit: fixed ones, and a
property test (the column-path property test's documents, closed at random).
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from cli_support import run_cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_columns_classify import assert_same_classification
from test_columns_documents import NOW, documents, moments

from funnel.engine.model import new_contact
from funnel.engine.rules.classify import classify
from funnel.engine.rules.loading import load_rules

PAST = "2020-01-02"


@pytest.fixture()
def db(tmp_path: Path) -> Path:
    path = tmp_path / "leads.json"
    done = run_cli(tmp_path, "generate", "--db", path, "--contacts", 30, "--seed", 1)
    assert done.returncode == 0, done.stderr
    return path


def _card(db: Path, contact_id: int) -> dict:
    done = run_cli(db.parent, "show", contact_id, "--db", db, "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _overdue_count(db: Path) -> int:
    done = run_cli(db.parent, "stats", "--db", db, "--json")
    assert done.returncode == 0, done.stderr
    return int(json.loads(done.stdout)["overdue"])


def _make_overdue(db: Path, contact_id: int) -> None:
    done = run_cli(db.parent, "set", contact_id, f"follow_up={PAST}", "--db", db)
    assert done.returncode == 0, done.stderr
    assert _card(db, contact_id)["classification"]["overdue"] is True


def test_a_disqualified_contact_is_no_longer_overdue(db: Path) -> None:
    _make_overdue(db, 11)
    before = _overdue_count(db)
    done = run_cli(db.parent, "disqualify", 11, "--why", "spam", "--db", db)
    assert done.returncode == 0, done.stderr
    card = _card(db, 11)
    assert card["classification"]["stage"] == "disqualified"
    assert card["fields"]["follow_up"] == PAST  # the date is kept, it just asks for nothing
    assert card["classification"]["overdue"] is False
    assert card["classification"]["rotting"] is False
    assert _overdue_count(db) == before - 1


def test_a_contact_moved_to_lost_is_no_longer_overdue(db: Path) -> None:
    _make_overdue(db, 12)
    before = _overdue_count(db)
    done = run_cli(db.parent, "move", 12, "lost", "--why", "went elsewhere", "--db", db)
    assert done.returncode == 0, done.stderr
    assert _card(db, 12)["classification"]["overdue"] is False
    assert _overdue_count(db) == before - 1


def test_a_customer_with_a_past_follow_up_is_still_overdue(db: Path) -> None:
    _make_overdue(db, 13)
    done = run_cli(db.parent, "move", 13, "customer", "--why", "signed", "--db", db)
    assert done.returncode == 0, done.stderr
    assert _card(db, 13)["classification"]["overdue"] is True


def _closed_documents() -> list[tuple[int, dict]]:
    """Documents long idle in each exit (pinned, or only stored there), follow-up past."""
    items = []
    for number, (exit_id, pinned) in enumerate(
            [(e, p) for e in ("disqualified", "lost") for p in (True, False)], start=1):
        document = new_contact({"name": f"closed {number}", "follow_up": PAST,
                                "outcome": "lost" if exit_id == "lost" else None}, NOW)
        document.update(stage=exit_id, stage_rules="default",
                        stage_since="2021-03-04T00:00:00Z", created_at="2021-03-04T00:00:00Z")
        if pinned:
            document.update(stage_pin=exit_id, pin_reason="spam")
        items.append((number, {k: v for k, v in document.items() if v is not None}))
    return items


def test_closed_documents_are_neither_overdue_nor_rotting_in_both_paths() -> None:
    rules = load_rules("default")
    # Rules that give the exits an idle limit too must still not flag closed contacts.
    rules = replace(rules, exits=tuple(replace(stage, rotting_days=1.0)
                                       for stage in rules.exits))
    items = _closed_documents()
    for _, document in items:
        result = classify(document, rules, NOW)
        assert result.stage in ("disqualified", "lost"), (result.stage, document)
        assert (result.overdue, result.rotting) == (False, False), document
    assert_same_classification(items, rules)


@st.composite
def closed_documents(draw: st.DrawFn) -> dict:
    """Any stored document, put in an exit (pinned there, or stored there by these
    rules) with a follow-up that may be past; lost ones may also say so in outcome."""
    document = draw(documents())
    exit_id = draw(st.sampled_from(("disqualified", "lost")))
    document.update(stage=exit_id, stage_rules="default", follow_up=draw(st.sampled_from(
        (PAST, NOW.date().isoformat(), "2030-01-01"))), stage_since=draw(moments()))
    if draw(st.booleans()):
        document.update(stage_pin=exit_id, pin_reason="closed")
    elif exit_id == "lost":
        document["outcome"] = "lost"
    return document


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(closed_documents(), documents()), min_size=1, max_size=10),
       st.sampled_from((None, 1.0, 30.0)))
def test_property_closed_contacts_agree_and_are_never_flagged(docs: list[dict],
                                                              exit_limit: float | None) -> None:
    """Both paths agree on a mix of open and closed contacts, exits given idle limits
    or not; and no contact in an exit is overdue or rotting."""
    rules = load_rules("default")
    rules = replace(rules, exits=tuple(replace(stage, rotting_days=exit_limit)
                                       for stage in rules.exits))
    items = list(enumerate(docs, start=1))
    assert_same_classification(items, rules)
    for _, document in items:
        result = classify(document, rules, NOW, explain=False)
        if rules.by_id[result.stage].is_exit:
            assert not result.overdue and not result.rotting, document
