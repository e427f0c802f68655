"""Classifying over columns gives every contact exactly what ``classify`` gives it.

Every field (fit, engagement, raw score, score, grade, stage by the rules, stage,
manual, temperature, lead type, rotting, overdue, unanswered) for every contact: demo contacts and
hypothesis documents (stored stages, pins, stages kept under other rules, activities
at any age), both presets, and rules whose conditions, points, caps, half-life and
grade bars are generated.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stress_scale import scaled
from test_columns_conditions import STAGE_NAMES, SCORING_NAMES, NAMES, compiled, \
    conditions_over
from test_columns_documents import NOW, demo_documents, documents

from funnel.engine.columns.classify import classify_columns
from funnel.engine.columns.table import ContactColumns
from funnel.engine.errors import ConditionError
from funnel.engine.rules.classify import classify
from funnel.engine.rules.conditions import compile_condition
from funnel.engine.rules.facts import PHASE_SCORING, PHASE_STAGE, vocabulary
from funnel.engine.rules.loading import load_rules
from funnel.engine.rules.ruleset import ResponseDeadline, Rules

FIELDS_COMPARED = ("fit", "engagement", "raw_score", "score", "grade", "rules_stage", "stage",
                   "manual", "temperature", "lead_type", "rotting", "overdue", "unanswered")


def assert_same_classification(items: list[tuple[int, dict]], rules: Rules) -> None:
    table = ContactColumns.build(items)
    vector = classify_columns(table, rules, NOW)
    for contact_id, document in items:
        expected = classify(document, rules, NOW, explain=False)
        got = vector.row(table.row_of[contact_id])
        for name in FIELDS_COMPARED:
            assert got[name] == getattr(expected, name), (name, got, expected, document)


@pytest.mark.parametrize("preset", ["default", "fit-first"])
def test_demo_contacts_classify_the_same(preset: str) -> None:
    """1,000 generated contacts, some with stored stages, pins and other rules."""
    items = list(enumerate(demo_documents(1000, seed=5), start=1))
    stages = load_rules(preset).stage_ids
    for contact_id, document in items[::7]:  # as the store keeps them after edits
        document["stage"] = stages[contact_id % len(stages)]
        document["stage_rules"] = ("default", "fit-first", "other")[contact_id % 3]
        document["stage_since"] = document["created_at"]
    for contact_id, document in items[::31]:
        document["stage_pin"] = stages[(contact_id // 31) % len(stages)]
    assert_same_classification(items, load_rules(preset))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(documents(), min_size=1, max_size=12), st.sampled_from(["default", "fit-first"]))
def test_property_generated_documents_classify_the_same(docs: list[dict], preset: str) -> None:
    assert_same_classification(list(enumerate(docs, start=1)), load_rules(preset))


def _condition(text: str, phase: str, stage_ids: tuple[str, ...]):  # type: ignore[no-untyped-def]
    try:
        return compile_condition(text, vocabulary(phase, stage_ids))
    except ConditionError:
        return compiled("false")


@st.composite
def generated_rules(draw: st.DrawFn) -> Rules:
    """A preset with generated conditions, points, caps, half-life and grade bars."""
    rules = load_rules(draw(st.sampled_from(["default", "fit-first"])))
    ids = rules.stage_ids
    fit = tuple(replace(rule, points=draw(st.sampled_from((0, 5, -7, 12.5, 20))),
                        when=_condition(draw(conditions_over(SCORING_NAMES)), PHASE_SCORING, ids))
                for rule in rules.fit[:6]) + rules.fit[6:]
    engagement = tuple(
        replace(rule, points=draw(st.sampled_from((1, 2.5, 8, -3))),
                maximum=draw(st.sampled_from((None, 5, 16, -2, 7.5))))
        if rule.activity else
        replace(rule, when=_condition(draw(conditions_over(SCORING_NAMES)), PHASE_SCORING, ids))
        for rule in rules.engagement)
    stages = tuple(replace(stage, when=_condition(draw(conditions_over(STAGE_NAMES)),
                                                  PHASE_STAGE, ids))
                   if stage.when is not None and draw(st.booleans()) else stage
                   for stage in rules.stages)
    temperatures = tuple(replace(choice, when=_condition(draw(conditions_over(NAMES)),
                                                         "outcome", ids))
                         for choice in rules.temperatures)
    bars = sorted(draw(st.lists(st.integers(-10, 110), min_size=3, max_size=3)), reverse=True)
    # First-response deadlines: generated conditions, hours from minutes to weeks.
    first_response = tuple(
        ResponseDeadline(when=_condition(draw(conditions_over(SCORING_NAMES)), PHASE_SCORING,
                                         ids),
                         within_hours=draw(st.sampled_from((0.25, 1.0, 24.0, 100.5, 720.0))))
        for _ in range(draw(st.integers(0, 3))))
    return replace(rules, fit=fit, engagement=engagement, stages=stages,
                   temperatures=temperatures, first_response=first_response, grades=tuple(zip((4, 3, 2), map(float, bars))),
                   half_life_days=draw(st.sampled_from((0.0, 1.0, 45.0, 365.25))))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(generated_rules(), st.lists(documents(), min_size=1, max_size=10))
def test_property_generated_rules_classify_the_same(rules: Rules, docs: list[dict]) -> None:
    assert_same_classification(list(enumerate(docs, start=1)), rules)


@pytest.mark.stress
@settings(max_examples=scaled(400), deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(generated_rules(), st.lists(documents(), min_size=1, max_size=30))
def test_stress_generated_rules_classify_the_same(rules: Rules, docs: list[dict]) -> None:
    """The same as above, many more rules and contacts (``-m stress``)."""
    assert_same_classification(list(enumerate(docs, start=1)), rules)
