"""classify(): every rule kind, both presets, and the invariants as properties."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from funnel.engine.rules.classify import ADJUSTMENT_RULE, classify
from funnel.engine.rules.loading import load_rules, parse_rules
from funnel.engine.model import ACTIVITY_KINDS, SOURCES, format_datetime, new_contact

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=timezone.utc)
DEFAULT = load_rules("default")
FIT_FIRST = load_rules("fit-first")


def ago(days: float) -> str:
    return format_datetime(NOW - timedelta(days=days))


def contact(**fields):
    fields.setdefault("created_at", ago(10))
    return new_contact(fields, NOW)


def points(result, rule_id):
    return {item.rule: item.points for item in result.explanation}.get(rule_id)


# -- scoring -----------------------------------------------------------------

def test_fit_rules_add_flat_points_and_are_explained():
    result = classify(contact(email="a@b.co", title="CEO", industry="software",
                              company_size=120), DEFAULT, NOW)
    assert points(result, "fit.decision_maker") == 20
    assert points(result, "fit.target_industry") == 10
    assert points(result, "fit.company_size") == 10
    assert result.fit == 40
    assert result.score == result.fit + result.engagement


def test_negative_fit_rules_subtract():
    result = classify(contact(email="a@b.co", budget_amount=300, company_size=3,
                              source="purchased_list"), DEFAULT, NOW)
    assert points(result, "fit.budget_too_low") == -15
    assert points(result, "fit.micro_company") == -5
    assert points(result, "fit.purchased_list") == -5
    assert result.raw_score < 0 and result.score == 0


def test_non_english_decision_maker_titles_match():
    for title in ("Dyrektor generalny", "Генеральный директор", "Daglig leder"):
        result = classify(contact(email="a@b.co", title=title), DEFAULT, NOW)
        assert points(result, "fit.decision_maker") == 20, title


def test_engagement_points_decay_with_a_half_life():
    fresh = classify(contact(email="a@b.co", activities=[
        {"kind": "demo_request", "at": ago(0)}]), DEFAULT, NOW)
    old = classify(contact(email="a@b.co", created_at=ago(100), activities=[
        {"kind": "demo_request", "at": ago(45)}]), DEFAULT, NOW)  # one half-life
    older = classify(contact(email="a@b.co", created_at=ago(100), activities=[
        {"kind": "demo_request", "at": ago(90)}]), DEFAULT, NOW)  # two half-lives
    assert points(fresh, "engagement.demo_request") == 20
    assert points(old, "engagement.demo_request") == 10
    assert points(older, "engagement.demo_request") == 5


def test_fit_does_not_decay():
    young = classify(contact(email="a@b.co", title="CEO", created_at=ago(1)), DEFAULT, NOW)
    aged = classify(contact(email="a@b.co", title="CEO", created_at=ago(700)), DEFAULT, NOW)
    assert points(young, "fit.decision_maker") == points(aged, "fit.decision_maker") == 20


def test_activity_rules_are_capped_by_max_and_count_repeats():
    result = classify(contact(email="a@b.co", activities=[
        {"kind": "page_visit", "at": ago(0), "count": 40}]), DEFAULT, NOW)
    assert points(result, "engagement.page_visits") == 10  # max
    few = classify(contact(email="a@b.co", activities=[
        {"kind": "page_visit", "at": ago(0), "count": 3}]), DEFAULT, NOW)
    assert points(few, "engagement.page_visits") == 3


def test_condition_engagement_rule_gone_quiet():
    result = classify(contact(email="a@b.co", created_at=ago(300), activities=[
        {"kind": "email_open", "at": ago(200)}]), DEFAULT, NOW)
    assert points(result, "engagement.gone_quiet") == -5


def test_manual_adjustment_is_explained_with_its_reason():
    result = classify(contact(email="a@b.co", score_adjustment=15,
                              score_adjustment_reason="met at the booth"), DEFAULT, NOW)
    item = next(item for item in result.explanation if item.rule == ADJUSTMENT_RULE)
    assert item.points == 15 and "met at the booth" in item.label
    assert result.score == sum(i.points for i in result.explanation)


@pytest.mark.parametrize("score,grade", [(0, 1), (19, 1), (20, 2), (44, 2), (45, 3), (69, 3),
                                         (70, 4), (100, 4)])
def test_grades_from_thresholds(score, grade):
    # A bare contact scores nothing, so the adjustment alone sets the score.
    result = classify(contact(email="a@b.co", score_adjustment=score,
                              score_adjustment_reason="test"), DEFAULT, NOW)
    assert result.score == score
    assert result.grade == grade


# -- temperature and lead type -------------------------------------------------

@pytest.mark.parametrize("yes_count,temperature", [(0, "cold"), (1, "cold"), (2, "warm"),
                                                   (3, "hot"), (4, "hot")])
def test_temperature_from_bant(yes_count, temperature):
    bant = dict(zip(("budget", "authority", "need", "timing"),
                    ["yes"] * yes_count + ["no"] * (4 - yes_count)))
    assert classify(contact(email="a@b.co", **bant), DEFAULT, NOW).temperature == temperature


@pytest.mark.parametrize("fields,lead_type", [
    ({"activities": [{"kind": "quote_request", "at": ago(1)}]}, "SRL"),
    ({"source": "inbound_call"}, "SRL"),
    ({"activities": [{"kind": "meeting", "at": ago(1)}]}, "SQL"),
    ({"source": "purchased_list"}, "MSRL"),
    ({"activities": [{"kind": "product_info_request", "at": ago(1)}]}, "IQL"),
    ({"activities": [{"kind": "newsletter_signup", "at": ago(1)}]}, "MQL"),
    ({"source": "web_form"}, None),
])
def test_lead_types_first_match_wins(fields, lead_type):
    assert classify(contact(email="a@b.co", **fields), DEFAULT, NOW).lead_type == lead_type


def test_sales_ready_beats_marketing_qualified():
    result = classify(contact(email="a@b.co", activities=[
        {"kind": "newsletter_signup", "at": ago(5)}, {"kind": "demo_request", "at": ago(1)}]),
        DEFAULT, NOW)
    assert result.lead_type == "SRL"


# -- stages ---------------------------------------------------------------------

def test_default_lifecycle_stages():
    assert classify(contact(activities=[{"kind": "page_visit", "at": ago(1)}]),
                    DEFAULT, NOW).stage == "suspect"
    assert classify(contact(email="a@b.co"), DEFAULT, NOW).stage == "lead"
    prospect = contact(email="a@b.co", title="CEO", industry="software", need="yes")
    assert classify(prospect, DEFAULT, NOW).stage == "prospect"
    ready = contact(email="a@b.co", budget="yes", authority="yes", need="yes")
    assert classify(ready, DEFAULT, NOW).stage == "opportunity"
    assert classify(contact(email="a@b.co", outcome="won"), DEFAULT, NOW).stage == "customer"
    ambassador = contact(email="a@b.co", outcome="won",
                         activities=[{"kind": "referral_made", "at": ago(1)}])
    assert classify(ambassador, DEFAULT, NOW).stage == "ambassador"
    assert classify(contact(email="a@b.co", outcome="lost"), DEFAULT, NOW).stage == "lost"


def test_automatic_moves_go_forward_only():
    document = contact(email="a@b.co")
    document.update(stage="opportunity", stage_rules="default")
    result = classify(document, DEFAULT, NOW)
    assert result.stage == "opportunity"
    assert result.rules_stage == "lead"
    assert "forward" in result.stage_reason and "lead" in result.stage_reason


def test_pinned_stage_is_manual_and_says_what_rules_would_give():
    document = contact(email="a@b.co", budget="yes", authority="yes", need="yes",
                       stage_pin="lead", pin_reason="not ready after all")
    result = classify(document, DEFAULT, NOW)
    assert result.stage == "lead" and result.manual
    assert result.rules_stage == "opportunity"
    assert "not ready after all" in result.stage_reason
    assert "opportunity" in result.stage_reason


def test_disqualified_stays_until_a_person_moves_it():
    document = contact(email="a@b.co", budget="yes", authority="yes", need="yes")
    document.update(stage="disqualified", stage_rules="default")
    result = classify(document, DEFAULT, NOW)
    assert result.stage == "disqualified" and result.rules_stage == "opportunity"


def test_a_stage_stored_under_other_rules_is_ignored():
    document = contact(email="a@b.co")
    document.update(stage="opportunity", stage_rules="fit-first")
    assert classify(document, DEFAULT, NOW).stage == "lead"


def test_next_action_per_stage_unless_the_contact_has_its_own():
    assert classify(contact(email="a@b.co"), DEFAULT, NOW).next_action == \
        DEFAULT.stage("lead").next_action
    own = classify(contact(email="a@b.co", next_action="Call Monday"), DEFAULT, NOW)
    assert own.next_action == "Call Monday"


def test_rotting_when_idle_longer_than_the_stage_limit():
    document = contact(email="a@b.co", created_at=ago(100))
    document.update(stage="lead", stage_rules="default", stage_since=ago(40))
    assert classify(document, DEFAULT, NOW).rotting  # lead limit is 30 days
    document["activities"] = [{"kind": "email_click", "at": ago(3)}]
    assert not classify(document, DEFAULT, NOW).rotting  # recent activity: not idle
    document.update(activities=[], stage_since=ago(10))
    assert not classify(document, DEFAULT, NOW).rotting


def test_overdue_follow_up():
    assert classify(contact(email="a@b.co", follow_up="2026-11-01"), DEFAULT, NOW).overdue
    assert not classify(contact(email="a@b.co", follow_up="2026-12-01"), DEFAULT, NOW).overdue


# -- the fit-first preset -------------------------------------------------------

def test_fit_first_prospect_by_fit_alone():
    fits = contact(email="a@b.co", title="CEO", industry="software", company_size=300)
    assert classify(fits, FIT_FIRST, NOW).stage == "prospect"
    assert classify(fits, DEFAULT, NOW).stage == "lead"  # no need known: not a prospect there


def test_fit_first_lead_by_interest_alone():
    student = contact(email="s@uni.edu", title="Student", company_size=1, activities=[
        {"kind": "webinar", "at": ago(2)}, {"kind": "content_download", "at": ago(3)}])
    result = classify(student, FIT_FIRST, NOW)
    assert result.fit < 35 and result.stage == "lead"


def test_fit_first_both_fit_and_serious_interest_is_an_opportunity():
    both = contact(email="a@b.co", title="CEO", industry="software", company_size=300,
                   activities=[{"kind": "demo_request", "at": ago(1)}])
    assert classify(both, FIT_FIRST, NOW).stage == "opportunity"


def test_fit_first_neither_is_a_suspect():
    assert classify(contact(email="a@b.co", title="Student"), FIT_FIRST, NOW).stage == "suspect"


# -- invariants (hypothesis) -----------------------------------------------------

_tristate = st.sampled_from(["yes", "no", "unknown"])
_activity = st.fixed_dictionaries(
    {"kind": st.sampled_from(ACTIVITY_KINDS), "at": st.integers(0, 800).map(ago)},
    optional={"count": st.integers(1, 50)})
_contacts = st.fixed_dictionaries({
    "created_at": st.just(ago(900)),
    "budget": _tristate, "authority": _tristate, "need": _tristate, "timing": _tristate,
}, optional={
    "email": st.just("a@b.co"),
    "phone": st.just("+48 601 234 567"),
    "title": st.sampled_from(["CEO", "Engineer", "Head of Sales", "Student", "Директор"]),
    "industry": st.sampled_from(["software", "retail", "finance", "education"]),
    "company_size": st.integers(0, 50_000),
    "budget_amount": st.integers(0, 200_000),
    "source": st.sampled_from(SOURCES),
    "outcome": st.sampled_from(["won", "lost"]),
    "follow_up": st.sampled_from(["2026-01-01", "2027-01-01"]),
    "score_adjustment": st.integers(-100, 100),
    "activities": st.lists(_activity, max_size=12),
    "stage_pin": st.sampled_from(DEFAULT.stage_ids),
})
_stored_stage = st.one_of(st.none(), st.sampled_from(DEFAULT.stage_ids))


@settings(max_examples=300, deadline=None)
@given(fields=_contacts, stored=_stored_stage, rules=st.sampled_from([DEFAULT, FIT_FIRST]))
def test_invariants(fields, stored, rules):
    document = new_contact(fields, NOW)
    document.update(stage=stored, stage_rules=rules.name)
    result = classify(document, rules, NOW)
    # score within 0-100, explanation adds up to the raw score, clamping is the only change
    assert 0 <= result.score <= 100
    assert sum(item.points for item in result.explanation) == result.raw_score
    assert result.score == max(0, min(100, result.raw_score))
    assert result.fit + result.engagement + (document.get("score_adjustment") or 0) \
        == result.raw_score
    assert result.grade == rules.grade_for(result.score)
    assert result.temperature in ("hot", "warm", "cold")
    assert result.stage in rules.stage_ids and result.rules_stage in rules.stage_ids
    # deterministic for a given now
    assert classify(document, rules, NOW) == result
    # forward only: without a pin, never behind a stored funnel stage, unless an exit
    order = {stage.id: stage.order for stage in rules.stages}
    if not document.get("stage_pin") and stored in order and result.stage in order:
        assert order[result.stage] >= order[stored]
    if document.get("stage_pin"):
        assert result.manual and result.stage == document["stage_pin"]




def test_a_rules_change_rederives_everything():
    harsher = parse_rules(
        DEFAULT.source and open(DEFAULT.source, encoding="utf-8").read().replace(
            "  4: 70\n  3: 45\n  2: 20", "  4: 95\n  3: 90\n  2: 85"), "harsh.yaml")
    document = contact(email="a@b.co", title="CEO", industry="software", company_size=100)
    assert classify(document, DEFAULT, NOW).grade == 2
    assert classify(document, harsher, NOW).grade == 1
