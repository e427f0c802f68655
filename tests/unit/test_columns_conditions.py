"""A condition over columns gives, for every contact, the per-contact answer.

The reference is the condition's own closure called as classify calls it:
``condition(document, facts)`` with ``facts`` from ``gather`` (plus fit, engagement,
score, stage and grade, which the columns receive as arrays). Contacts come from the
demo generator and from hypothesis (``test_columns_documents.documents``); conditions
from both presets and from a generator of the whole language.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from test_columns_documents import (HALF_LIFE, NOW, PATTERNS, SAMPLE_TEXT, STAGE_IDS, TAGS,
                                    demo_documents, documents)

from funnel.engine.columns.encoded import Coded, Numbers
from funnel.engine.columns.evaluate import ConditionInputs, by_distinct_values, evaluate
from funnel.engine.columns.table import ContactColumns
from funnel.engine.errors import ConditionError
from funnel.engine.model import ACTIVITY_KINDS, FIELDS
from funnel.engine.rules.classify import classify
from funnel.engine.rules.conditions import Condition, compile_condition
from funnel.engine.rules.facts import PHASE_OUTCOME, gather, vocabulary
from funnel.engine.rules.loading import load_rules

LATER = ("fit", "engagement", "score", "grade")


def later_facts(items: list[tuple[int, dict]], rules_name: str | None, seed: int
                ) -> list[dict]:
    """fit, engagement, score, stage and grade per contact: from classify under a preset,
    else drawn at random (generated conditions need only some values)."""
    if rules_name is not None:
        rules = load_rules(rules_name)
        found = []
        for _, document in items:
            result = classify(document, rules, NOW, explain=False)
            found.append({"fit": result.fit, "engagement": result.engagement,
                          "score": result.score, "grade": result.grade,
                          "stage": result.stage})
        return found
    rng = np.random.default_rng(seed)
    return [{"fit": int(rng.integers(-30, 90)), "engagement": int(rng.integers(-10, 60)),
             "score": int(rng.integers(0, 101)), "grade": int(rng.integers(1, 5)),
             "stage": STAGE_IDS[int(rng.integers(0, len(STAGE_IDS)))]} for _ in items]


def inputs_for(table: ContactColumns, later: list[dict]) -> ConditionInputs:
    extra: dict[str, Coded | Numbers] = {
        name: Numbers.of(np.array([facts[name] for facts in later], np.float64),
                         integral=True) for name in LATER}
    stages = list(STAGE_IDS)
    extra["stage"] = Coded(np.array([stages.index(facts["stage"]) for facts in later],
                                    np.int32), stages)
    return ConditionInputs(table, NOW, HALF_LIFE, extra)


def assert_agree(conditions: list[Condition], items: list[tuple[int, dict]],
                 later: list[dict]) -> None:
    table = ContactColumns.build(items)
    inputs = inputs_for(table, later)
    scalar_facts = []
    for (_, document), extra in zip(items, later):
        facts = gather(document, NOW, HALF_LIFE)
        facts.update(extra)
        scalar_facts.append(facts)
    for condition in conditions:
        vector = evaluate(condition, inputs)
        assert vector.dtype == bool and len(vector) == table.rows
        for (contact_id, document), facts in zip(items, scalar_facts):
            expected = condition(document, facts)
            assert vector[table.row_of[contact_id]] == expected, (condition.text, document)


@pytest.mark.parametrize("preset", ["default", "fit-first"])
def test_every_preset_condition_agrees_on_demo_contacts(preset: str) -> None:
    """All conditions of a preset (stages, exits, fit, engagement, temperature, lead
    type) over 400 generated contacts: the same answer for every one."""
    items = list(enumerate(demo_documents(400, seed=3), start=1))
    conditions = load_rules(preset).conditions()
    assert len(conditions) >= 20
    assert_agree(conditions, items, later_facts(items, preset, 0))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(documents(), min_size=1, max_size=15), st.sampled_from(["default", "fit-first"]))
def test_property_preset_conditions_agree_on_generated_documents(docs: list[dict],
                                                                 preset: str) -> None:
    items = list(enumerate(docs, start=1))
    assert_agree(load_rules(preset).conditions(), items, later_facts(items, preset, 0))


# -- generated conditions ----------------------------------------------------------

NAMES = tuple(FIELDS) + ("bant", "bant_known", "has_contact", "age_days",
                         "last_activity_days", "days_in_stage", "overdue", "activities",
                         "fit", "engagement", "score", "stage", "grade") + tuple(
    f"{prefix}.{kind}" for prefix in ("count", "days_since") for kind in ACTIVITY_KINDS[:6]) + (
    "custom.City", "custom.city", "custom.Score", 'custom."Lead Quality"', "custom.age",
    "custom.Missing")  # after grade: every phase reads them
WORDS = ("yes", "no", "unknown", "referral", "won", "lost", "software", "vip", "lead",
         "prospect", "none", "true", "false", "Mumbai", "mumbai", '"34"', '"2.5"', "inf")
NUMBERS = ("0", "1", "2", "-1", "2.5", "10", "50", "120", "1000", "5000", "5000.0",
           "999999999999999")


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


LITERALS = st.one_of(st.sampled_from(NUMBERS), st.sampled_from(WORDS),
                     st.sampled_from(SAMPLE_TEXT + TAGS).map(_quoted))
LISTS = st.lists(LITERALS, min_size=0, max_size=4).map(lambda items: f"[{', '.join(items)}]")
SCORING_NAMES = NAMES[:NAMES.index("fit")] + NAMES[NAMES.index("grade") + 1:]
STAGE_NAMES = SCORING_NAMES + ("fit", "engagement", "score")
NUMBER_NAMES = ("company_size", "budget_amount", "score_adjustment", "bant", "age_days",
                "last_activity_days", "days_in_stage", "activities", "fit", "grade",
                "count.webinar", "days_since.page_visit", "days_since.email_open",
                "custom.Score", "custom.age")


def conditions_over(names: tuple[str, ...]) -> st.SearchStrategy[str]:
    """Condition texts of the whole language over ``names``."""
    name = st.sampled_from(names)
    numbers = tuple(one for one in NUMBER_NAMES if one in names)
    number_comparisons = st.tuples(st.sampled_from(numbers),
                                   st.sampled_from(("==", "!=", "<", "<=", ">", ">=")),
                                   st.sampled_from(NUMBERS)).map(" ".join)
    comparisons = st.one_of(
        number_comparisons, number_comparisons,
        st.tuples(name, st.sampled_from(("==", "!=", "<", "<=", ">", ">=")),
                  st.one_of(LITERALS, name)).map(" ".join),
        st.tuples(name, st.sampled_from(("in", "not in")), LISTS).map(" ".join),
        st.tuples(name, st.just("contains"), st.one_of(LITERALS, name)).map(" ".join),
        st.tuples(name, st.just("matches"), st.sampled_from(PATTERNS).map(_quoted)).map(
            " ".join),
        name, st.sampled_from(("always", "true", "false", "none", "1 == 1", "[a] contains a")),
    )
    return st.recursive(comparisons, lambda inner: st.one_of(
        inner.map(lambda text: f"not {text}"),
        st.tuples(inner, st.sampled_from(("and", "or")), inner).map(" ".join),
        inner.map(lambda text: f"({text})"),
        st.tuples(inner, st.sampled_from((" == true", " != false", " in [true]"))).map(
            lambda pair: f"({pair[0]}){pair[1]}"),
        st.lists(inner, min_size=3, max_size=5).map(" or ".join),
    ), max_leaves=6)


CONDITIONS = conditions_over(NAMES)


def compiled(text: str) -> Condition:
    try:
        return compile_condition(text, vocabulary(PHASE_OUTCOME, STAGE_IDS))
    except ConditionError:
        assume(False)
        raise


@settings(max_examples=80, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(st.lists(CONDITIONS, min_size=1, max_size=4),
       st.lists(documents(), min_size=1, max_size=10), st.integers(0, 1000))
def test_property_generated_conditions_agree(texts: list[str], docs: list[dict],
                                             seed: int) -> None:
    """Any condition of the language (numbers, text, tags, lists, in, contains,
    matches, not, and, or, parentheses, every fact) on any contacts: the same answer."""
    conditions = [compiled(text) for text in texts]
    items = list(enumerate(docs, start=1))
    assert_agree(conditions, items, later_facts(items, None, seed))


def test_demo_contacts_with_generated_conditions_agree() -> None:
    """A fixed handful of tricky conditions over generated contacts."""
    texts = ['title matches "\\bvp\\b" or tags contains VIP', "company_size > budget_amount",
             "(need == yes) == true", "tags in [vip, partner]", "not (bant >= 2 or overdue)",
             "days_since.call < 30 and count.call >= 1", "budget_amount == 5000",
             "industry contains soft", "referred_by != none and source != referral",
             "stage in [lead, prospect] and grade >= 2", "age_days > days_in_stage",
             "company_size != 50", "days_since.call != 3", "budget_amount != 5000.0",
             "not company_size < 10", "company_size == true", "count.call >= 2.5",
             "company_size == budget_amount", "days_since.call != days_since.meeting",
             "count.call <= count.meeting", "score_adjustment >= fit",
             "custom.age >= 30", "custom.City in [mumbai, delhi]", 'custom."Lead Quality" '
             'contains high', "custom.Score > custom.age", "custom.age == fit",
             "company_size < custom.Score", "custom.City == none and custom.age != 34"]
    items = list(enumerate(demo_documents(300, seed=11), start=1))
    customs = ({"City": "Mumbai", "age": "34"}, {"Lead Quality": "High in Relevance",
                                                  "Score": "10", "age": "9"}, {},
               {"City": "Delhi", "age": "abc", "Score": "2.5"})
    for contact_id, document in items:
        document["custom"] = customs[contact_id % len(customs)]
    assert_agree([compiled(text) for text in texts], items, later_facts(items, None, 5))


def test_matches_runs_once_per_distinct_value() -> None:
    """A regex is searched once per distinct title, not once per contact."""
    titles = ("CEO", "Head of Sales", "Intern")
    items = [(number, {"title": titles[number % 3], "created_at": "2026-01-01T00:00:00Z"})
             for number in range(3000)]
    table = ContactColumns.build(items)
    tree = compiled('title matches "ceo|head"').tree
    assert tree is not None
    calls = []

    def counted(contact: dict, facts: dict) -> bool:
        calls.append(contact.get("title"))
        return tree.test(contact, facts)
    answer = by_distinct_values(replace(tree, test=counted), ConditionInputs(table, NOW, 45.0))
    assert len(calls) <= len(titles) + 1  # each title, and the missing value
    assert answer.sum() == 2000


def test_removed_and_replaced_rows_are_evaluated_by_their_new_values() -> None:
    items = [(1, {"need": "yes"}), (2, {"need": "no"}), (3, {"need": "yes"})]
    table = ContactColumns.build(items)
    table.put(2, {"need": "yes"})
    table.remove(3)
    table.put(4, {"need": "no"})
    answer = evaluate(compiled("need == yes"), ConditionInputs(table, NOW, 45.0))
    assert [bool(answer[table.row_of[key]]) for key in (1, 2, 4)] == [True, True, False]
    assert not table.live()[2] and len(table) == 3


@pytest.mark.parametrize(("text", "fields", "expected"), [
    ("(budget == yes) == true", {"budget": "yes"}, True),
    ("(budget == yes) == true", {"budget": "no"}, False),
    ("(need) == yes", {"need": "yes"}, False),  # a truth value is not the text "yes"
    ("(company_size > 5) != false", {"company_size": 9}, True),
])
def test_a_parenthesised_part_is_compared_as_a_whole(text: str, fields: dict,
                                                     expected: bool) -> None:
    """The closure follows the tree: the name inside the parentheses is not the left
    side of the comparison after them (it was: `(budget == yes) == true` compared
    budget itself with true, and was false for everyone)."""
    document = {"created_at": "2026-01-01T00:00:00Z", **fields}
    condition = compiled(text)
    assert condition(document, gather(document, NOW, HALF_LIFE)) is expected
    table = ContactColumns.build([(1, document)])
    assert bool(evaluate(condition, ConditionInputs(table, NOW, HALF_LIFE))[0]) is expected
