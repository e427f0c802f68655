"""The rule condition language: operators, literals, facts, phases, errors and safety.

Conditions are compiled with ``compile_condition(text, vocabulary(phase))`` and
evaluated as ``cond(contact, facts)`` on contacts built by ``new_contact`` with
facts from ``gather``, exactly as the classifier does.
"""

from __future__ import annotations

import ast
import builtins
import operator
import re
import warnings
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import funnel.engine as engine
from funnel.engine.rules.condition_tokens import tokenize
from funnel.engine.rules.conditions import Condition, compile_condition
from funnel.engine.errors import ConditionError
from funnel.engine.rules.facts import PHASE_OUTCOME, PHASE_SCORING, PHASE_STAGE, gather, vocabulary
from funnel.engine.model import ACTIVITY_KINDS, format_datetime, new_contact
from funnel.engine.rules.pattern_match import LinearPattern

NOW = datetime(2026, 8, 1, 12, 0, tzinfo=timezone.utc)
HALF_LIFE = 45.0
STAGE_IDS = ("suspect", "lead", "prospect", "opportunity", "customer", "lost")


# -- helpers -----------------------------------------------------------------

def ago(days: float) -> str:
    """An activity time ``days`` before NOW."""
    return format_datetime(NOW - timedelta(days=days))


def build(fields: dict[str, Any] | None = None) -> tuple[dict, dict]:
    """A validated contact document and its facts, as the classifier sees them."""
    contact = new_contact(dict(fields or {}), NOW)
    return contact, gather(contact, NOW, HALF_LIFE)


def holds(text: str, fields: dict[str, Any] | None = None, *, phase: str = PHASE_SCORING,
          extra_facts: dict[str, Any] | None = None) -> bool:
    """Compile ``text`` for ``phase`` and evaluate it on a contact with ``fields``."""
    contact, facts = build(fields)
    facts.update(extra_facts or {})
    result = compile_condition(text, vocabulary(phase, STAGE_IDS))(contact, facts)
    assert isinstance(result, bool), f"{text!r} gave {result!r}, not a bool"
    return result


def fails(text: Any, phase: str = PHASE_SCORING) -> ConditionError:
    """The ConditionError that compiling ``text`` raises."""
    with pytest.raises(ConditionError) as info:
        compile_condition(text, vocabulary(phase, STAGE_IDS))
    return info.value


# -- comparison operators ----------------------------------------------------

@pytest.mark.parametrize(("text", "fields", "expected"), [
    ("need == yes", {"need": "yes"}, True),
    ("need == yes", {"need": "no"}, False),
    ("company_size == 40", {"company_size": 40}, True),
    ("company_size == 41", {"company_size": 40}, False),
    ("budget_amount == 2.5", {"budget_amount": 2.5}, True),
    ("need != yes", {"need": "no"}, True),
    ("need != yes", {"need": "yes"}, False),
    ("referred_by != none", {"referred_by": "Ann"}, True),
    ("referred_by != none", {}, False),
])
def test_equality_operators(text: str, fields: dict, expected: bool) -> None:
    """== and != compare a field with a literal of the right type."""
    assert holds(text, fields) is expected


@pytest.mark.parametrize(("text", "expected"), [
    ("company_size < 51", True), ("company_size < 50", False),
    ("company_size <= 50", True), ("company_size <= 49", False),
    ("company_size > 49", True), ("company_size > 50", False),
    ("company_size >= 50", True), ("company_size >= 51", False),
    ("budget_amount > 0.5", False), ("score_adjustment >= -5", True),
])
def test_ordering_operators_compare_numbers(text: str, expected: bool) -> None:
    """< <= > >= compare numbers as numbers, boundaries included or not."""
    fields = {"company_size": 50, "budget_amount": 0.5, "score_adjustment": -5}
    assert holds(text, fields) is expected


@pytest.mark.parametrize(("text", "fields", "expected"), [
    ("source in [trade_show, referral]", {"source": "referral"}, True),
    ("source in [trade_show, referral]", {"source": "web_form"}, False),
    ("company_size in [10, 50]", {"company_size": 50}, True),
    ("company_size in [10, 50]", {"company_size": 51}, False),
    ("industry not in [government]", {"industry": "software"}, True),
    ("industry not in [government]", {"industry": "government"}, False),
    ("industry not in [government]", {}, True),
    ("industry in [government]", {}, False),
    ("country in []", {"country": "Spain"}, False),
])
def test_in_and_not_in_lists(text: str, fields: dict, expected: bool) -> None:
    """in / not in test membership of a field's value in a literal list."""
    assert holds(text, fields) is expected


@pytest.mark.parametrize(("text", "fields", "expected"), [
    ('"vip" in tags', {"tags": ["vip", "hot"]}, True),
    ('"vip" in tags', {"tags": ["hot"]}, False),
    ('"ACME" in company', {"company": "The Acme Corp"}, True),
    ('"acme" not in company', {"company": "Globex"}, True),
])
def test_in_with_a_field_on_the_right(text: str, fields: dict, expected: bool) -> None:
    """A value in a list field, or text in a text field (case-insensitive)."""
    assert holds(text, fields) is expected


@pytest.mark.parametrize(("text", "fields", "expected"), [
    ("tags contains vip", {"tags": ["hot", "vip"]}, True),
    ("tags contains vip", {"tags": ["hot"]}, False),
    ("tags contains vip", {}, False),
    ('title contains "chief"', {"title": "Chief Executive Officer"}, True),
    ("company contains ACME", {"company": "the acme corp"}, True),
    ("company contains acme", {"company": "Globex"}, False),
    ("company contains acme", {}, False),
])
def test_contains_lists_and_case_insensitive_text(text: str, fields: dict,
                                                  expected: bool) -> None:
    """contains: a list holds an item; text holds text ignoring case; none holds nothing."""
    assert holds(text, fields) is expected


@pytest.mark.parametrize(("title", "expected"), [
    ("CEO", True), ("Co-CEO & founder", True), ("ceo", True),
    ("CEOs office manager", False), ("Aceo", False), (None, False),
])
def test_matches_keeps_word_boundaries(title: str | None, expected: bool) -> None:
    r"""matches is a case-insensitive regex search; \b stays a word boundary."""
    assert holds(r'title matches "\bceo\b"', {"title": title}) is expected


@pytest.mark.parametrize(("text", "fields", "expected"), [
    ('title matches "^vp"', {"title": "VP Sales"}, True),
    ('title matches "^vp"', {"title": "SVP Sales"}, False),
    ("title matches '(chief|head) of'", {"title": "Head Of Growth"}, True),
    ('tags matches "^v"', {"tags": ["hot", "vip"]}, True),
    ('tags matches "^v"', {"tags": ["hot"]}, False),
    ('company_size matches "^4"', {"company_size": 40}, True),
])
def test_matches_text_lists_and_numbers(text: str, fields: dict, expected: bool) -> None:
    """matches searches text, any item of a list, or a number's digits."""
    assert holds(text, fields) is expected


def test_quoted_strings_keep_regex_escapes_and_unescape_quotes() -> None:
    r"""In quoted text only \" \' \\ are escapes; \b and \d reach the regex intact."""
    tokens = tokenize(r'title matches "\bceo\b\d" and name == "say \"hi\"" or x == ' + r"'it\'s'")
    strings = [token.value for token in tokens if token.kind == "string"]
    assert strings == ["\\bceo\\b\\d", 'say "hi"', "it's"]


# -- boolean logic and precedence --------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("true or false and false", True),      # or (and) - wrong if "or" bound tighter
    ("false and false or true", True),
    ("false and true or true and false", False),
    ("not false and false", False),         # (not false) and false
    ("not true or true", True),             # (not true) or true
    ("(true or false) and false", False),   # parentheses override
    ("not (false or true)", False),
    ("((true))", True),
    ("not not true", True),
    ("TRUE AND NOT FALSE", True),           # keywords and constants ignore case
])
def test_and_binds_tighter_than_or_and_not_tighter_than_and(text: str, expected: bool) -> None:
    """Precedence: not > and > or; parentheses group."""
    assert holds(text) is expected


def test_precedence_with_real_comparisons() -> None:
    """``a or b and c`` reads as ``a or (b and c)`` with field comparisons too."""
    text = "need == yes or budget == yes and authority == yes"
    assert holds(text, {"need": "yes", "budget": "no", "authority": "no"}) is True
    assert holds(text, {"need": "no", "budget": "yes", "authority": "no"}) is False
    assert holds("(" + text.replace(" and", ") and"),
                 {"need": "yes", "budget": "no", "authority": "no"}) is False


@st.composite
def boolean_chains(draw: st.DrawFn) -> tuple[str, bool]:
    """A flat chain like ``not true and false or true`` with its Python value."""
    size = draw(st.integers(1, 7))
    values = draw(st.lists(st.booleans(), min_size=size, max_size=size))
    negated = draw(st.lists(st.booleans(), min_size=size, max_size=size))
    joins = draw(st.lists(st.sampled_from(["and", "or"]), min_size=size - 1,
                          max_size=size - 1))
    words = [("not " if neg else "") + ("true" if value else "false")
             for value, neg in zip(values, negated)]
    text = words[0] + "".join(f" {join} {word}" for join, word in zip(joins, words[1:]))
    # Oracle: split at "or" into and-groups (Python's and documented precedence).
    groups: list[list[bool]] = [[]]
    for index, (value, neg) in enumerate(zip(values, negated)):
        if index and joins[index - 1] == "or":
            groups.append([])
        groups[-1].append(value != neg)
    return text, any(all(group) for group in groups)


@given(boolean_chains())
def test_property_boolean_chains_follow_precedence(chain: tuple[str, bool]) -> None:
    """Any flat and/or/not chain of constants evaluates like Python's precedence."""
    text, expected = chain
    assert holds(text) is expected


# -- literals and constants --------------------------------------------------

@pytest.mark.parametrize(("text", "fields", "expected"), [
    ('country == "United Kingdom"', {"country": "United Kingdom"}, True),
    ("country == 'United Kingdom'", {"country": "United Kingdom"}, True),
    ('country == "united kingdom"', {"country": "United Kingdom"}, False),  # == is exact
    ("industry == software", {"industry": "software"}, True),
    ("industry == e-commerce", {"industry": "e-commerce"}, True),
    ("score_adjustment == -5", {"score_adjustment": -5}, True),
    ("budget_amount >= 0.25", {"budget_amount": 0.3}, True),
    ('country in ["United Kingdom", Poland, \'Spain\']', {"country": "Spain"}, True),
    ('country in ["United Kingdom", Poland, \'Spain\']', {"country": "Norway"}, False),
    ("title == name", {"title": "Boss", "name": "Boss"}, True),   # known name: a field
    ("title == name", {"title": "Boss", "name": "Ann"}, False),
])
def test_numbers_quoted_strings_bare_words_and_lists(text: str, fields: dict,
                                                     expected: bool) -> None:
    """Literals: numbers (negative, decimal), quoted text, bare words, lists."""
    assert holds(text, fields) is expected


@pytest.mark.parametrize(("text", "expected"), [
    ("always", True), ("true", True), ("false", False), ("none", False),
    ("ALWAYS", True), ("outcome == none", True), ("outcome != none", False),
    ("has_contact == false", True), ("has_contact == true", False),
])
def test_constants(text: str, expected: bool) -> None:
    """true / false / none / always, alone or as comparison values."""
    assert holds(text) is expected


def test_a_lone_name_tests_truthiness() -> None:
    """A name without an operator holds when its value is truthy."""
    assert holds("title", {"title": "CEO"}) is True
    assert holds("title", {}) is False
    assert holds("has_contact", {"email": "a@example.com"}) is True


def test_condition_keeps_text_and_names_used() -> None:
    """A compiled Condition remembers its text and the names it reads."""
    condition = compile_condition("need == yes and count.webinar > 0 or always",
                                  vocabulary(PHASE_SCORING))
    assert isinstance(condition, Condition)
    assert condition.text == "need == yes and count.webinar > 0 or always"
    assert condition.names == frozenset({"need", "count.webinar"})


@pytest.mark.parametrize(("value", "text"), [(True, "true"), (False, "false")])
def test_yaml_booleans_are_accepted_as_conditions(value: bool, text: str) -> None:
    """YAML turns ``when: true`` into a bool; it compiles to the constant."""
    condition = compile_condition(value, vocabulary(PHASE_SCORING))
    assert condition.text == text
    assert condition({}, {}) is value


# -- missing values ------------------------------------------------------------

@pytest.mark.parametrize("op", ["<", "<=", ">", ">="])
def test_missing_values_make_ordering_false(op: str) -> None:
    """With no budget_amount every ordering comparison is false, either way round."""
    assert holds(f"budget_amount {op} 1000") is False
    assert holds(f"budget_amount {op} -1000") is False
    assert holds(f"1000 {op} budget_amount") is False
    assert holds(f"not budget_amount {op} 1000") is True
    assert holds(f"budget_amount {op} 1000", {"budget_amount": 1000}) is (op in ("<=", ">="))


def test_missing_value_equals_none() -> None:
    """A missing value compares equal to none and unequal to anything else."""
    assert holds("budget_amount == none") is True
    assert holds("budget_amount == 0") is False
    assert holds("budget_amount != 0") is True


@pytest.mark.parametrize("text", ['company_size > "5"', "title > 5", "tags < 3"])
def test_mismatched_types_are_false_not_errors(text: str) -> None:
    """Ordering text against numbers gives false instead of a TypeError."""
    assert holds(text, {"company_size": 40, "title": "CEO", "tags": ["a"]}) is False


# -- facts -------------------------------------------------------------------

WEBINARS = [{"kind": "webinar", "at": ago(10), "count": 3},
            {"kind": "webinar", "at": ago(3)},
            {"kind": "page_visit", "at": ago(20)}]


@pytest.mark.parametrize(("text", "expected"), [
    ("count.webinar == 4", True),          # counts add up the count of each activity
    ("count.webinar > 3", True),
    ("count.webinar > 4", False),
    ("count.page_visit == 1", True),
    ("count.call == 0", True),             # never done: 0, not none
    ("count.call > 0", False),
    ("activities == 5", True),
])
def test_count_facts(text: str, expected: bool) -> None:
    """count.KIND is how many activities of that kind (with their counts)."""
    assert holds(text, {"activities": WEBINARS}) is expected


@pytest.mark.parametrize(("text", "expected"), [
    ("days_since.webinar == 3", True),     # the latest webinar, not the first
    ("days_since.webinar < 3", False),
    ("days_since.webinar <= 3", True),
    ("days_since.page_visit > 19", True),
    ("days_since.call == none", True),     # never: none ...
    ("days_since.call < 1000", False),     # ... so ordering is false
    ("days_since.call > 0", False),
    ("last_activity_days == 3", True),
])
def test_days_since_facts(text: str, expected: bool) -> None:
    """days_since.KIND is days since the latest activity of that kind, none if never."""
    assert holds(text, {"activities": WEBINARS}) is expected


def test_future_activities_count_as_today() -> None:
    """An activity dated after now is 0 days ago, never negative."""
    assert holds("days_since.call == 0", {"activities": [{"kind": "call", "at": ago(-2)}]})


@pytest.mark.parametrize(("fields", "bant", "known"), [
    ({}, 0, 0),
    ({"need": "yes", "budget": "yes", "authority": "no"}, 2, 3),
    ({"need": "yes", "budget": "yes", "authority": "yes", "timing": "yes"}, 4, 4),
    ({"need": "no", "budget": "no", "authority": "no", "timing": "unknown"}, 0, 3),
])
def test_bant_and_bant_known(fields: dict, bant: int, known: int) -> None:
    """bant counts yes answers; bant_known counts yes or no answers."""
    assert holds(f"bant == {bant}", fields)
    assert holds(f"bant_known == {known}", fields)
    assert not holds(f"bant == {bant + 1}", fields)
    assert holds(f"bant >= {bant} and bant < {bant + 1}", fields)


@pytest.mark.parametrize(("fields", "expected"), [
    ({}, False),
    ({"email": "ann@example.com"}, True),
    ({"phone": "+47 22 33 44 55"}, True),
    ({"name": "Ann", "company": "Acme"}, False),
])
def test_has_contact(fields: dict, expected: bool) -> None:
    """has_contact holds with an email or a phone, and not otherwise."""
    assert holds("has_contact", fields) is expected
    assert holds("not has_contact", fields) is (not expected)


@pytest.mark.parametrize("text", ["count.webinars > 0", "days_since.nothing < 3",
                                  "count > 0", "days_since > 1"])
def test_unknown_activity_kinds_are_errors(text: str) -> None:
    """count.KIND and days_since.KIND accept only real activity kinds."""
    error = fails(text)
    assert error.position == 0
    assert f"unknown name {text.split()[0]!r}" in error.reason
    assert "count.<kind>" in error.reason


def test_every_activity_kind_has_count_and_days_since() -> None:
    """Each activity kind of the model is usable as count.KIND and days_since.KIND."""
    for kind in ACTIVITY_KINDS:
        activity = {"kind": kind, "at": ago(2)}
        assert holds(f"count.{kind} == 1 and days_since.{kind} == 2",
                     {"activities": [activity]}), kind


# -- choices and unknown names -----------------------------------------------

@pytest.mark.parametrize(("text", "bad", "column"), [
    ("need == maybe", "maybe", 9),
    ('need == "Yes"', "Yes", 9),
    ("source in [trade_show, tradeshow]", "tradeshow", 11),
    ("outcome != wn", "wn", 12),
])
def test_literal_outside_a_fields_choices_is_an_error(text: str, bad: str, column: int) -> None:
    """A literal that is not one of the field's choices is a typo, with the choices listed."""
    error = fails(text)
    assert f"{bad!r} is not a possible value" in error.reason
    assert error.position == column - 1
    assert f"column {column}" in str(error)


def test_contains_on_a_choice_field_is_not_checked() -> None:
    """contains is a substring test, so partial text of a choice is allowed."""
    assert holds("source contains trade", {"source": "trade_show"}) is True


def test_unknown_name_lists_the_known_names() -> None:
    """An unknown name on the left is an error naming it and every known name."""
    error = fails("budget_amout >= 5000")
    assert "unknown name 'budget_amout'" in error.reason
    known = error.reason.split("known names:", 1)[1]
    for name in ("budget_amount", "need", "title", "bant", "bant_known", "has_contact",
                 "count.<kind>", "days_since.<kind>"):
        assert name in known
    assert error.position == 0


def test_unknown_word_on_the_right_is_literal_text() -> None:
    """On the right, an unknown bare word is text rather than an error."""
    assert holds("industry == biotech", {"industry": "biotech"}) is True


# -- phases ------------------------------------------------------------------

@pytest.mark.parametrize("name", ["fit", "engagement", "score"])
def test_scores_are_usable_in_stage_rules_only_after_scoring(name: str) -> None:
    """fit/engagement/score: fine in stage rules, unknown in scoring rules."""
    assert holds(f"{name} >= 30", phase=PHASE_STAGE, extra_facts={name: 30}) is True
    assert holds(f"{name} >= 30", phase=PHASE_STAGE, extra_facts={name: 29}) is False
    error = fails(f"{name} >= 30", PHASE_SCORING)
    assert f"unknown name {name!r}" in error.reason
    assert name not in error.reason.split("known names:", 1)[1].split(", ")


@pytest.mark.parametrize("text", ["stage == lead", "grade >= 3"])
def test_stage_and_grade_only_in_outcome_rules(text: str) -> None:
    """stage and grade are known to temperature and lead-type rules only."""
    facts = {"stage": "lead", "grade": 3, "fit": 0, "engagement": 0, "score": 0}
    assert holds(text, phase=PHASE_OUTCOME, extra_facts=facts) is True
    assert holds(text, phase=PHASE_OUTCOME, extra_facts={**facts, "stage": "suspect",
                                                          "grade": 2}) is False
    for phase in (PHASE_SCORING, PHASE_STAGE):
        assert "unknown name" in fails(text, phase).reason


def test_stage_literals_must_be_stage_ids() -> None:
    """In outcome rules, stage is compared with the ids of the rules' stages."""
    error = fails("stage in [lead, leed]", PHASE_OUTCOME)
    assert "'leed' is not a possible value" in error.reason
    assert "opportunity" in error.reason


# -- syntax errors -------------------------------------------------------------

@pytest.mark.parametrize(("text", "position", "words"), [
    ("(need == yes", 12, "expected ')'"),
    ("need == yes)", 11, "unexpected ')'"),
    ("need ==", 7, "expected a value"),
    ("need == yes and", 15, "expected a value"),
    ("and need == yes", 0, "'and' needs a value"),
    ("need == yes or or budget == yes", 15, "'or' needs a value"),
    ("not", 3, "expected a value"),
    ("need yes", 5, "unexpected 'yes'"),
    ("1 < 2 < 3", 6, "unexpected '<'"),
    ("", 0, "empty"),
    ("   ", 3, "empty"),
    ('title matches "(unclosed"', 14, "bad regular expression"),
    ('title matches "[a-"', 14, "bad regular expression"),
    ('title == "abc', 9, "unexpected character '\"'"),
    ("title == 'abc", 9, "unexpected character \"'\""),
    ("need == yes && budget == yes", 12, "unexpected character '&'"),
    ("source in [referral", 19, "expected ',' or ']'"),
    ("industry in [finance, owner]", 22, "lists may hold only values"),
    ("title matches 5", 14, "matches needs a quoted regular expression"),
    ("need in yes", 8, "in needs a list"),
])
def test_syntax_errors_have_a_useful_position(text: str, position: int, words: str) -> None:
    """Each mistake raises ConditionError pointing at the offending place."""
    error = fails(text)
    assert words in error.reason
    assert error.position == position
    assert error.text == text
    assert f"column {position + 1} of {text!r}" in str(error)


@pytest.mark.parametrize("value", [5, None, ["need == yes"], {"need": "yes"}])
def test_non_text_conditions_are_errors(value: Any) -> None:
    """A condition must be text (or a YAML boolean)."""
    assert "must be text" in fails(value).reason


# -- security ------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "__import__('os')",
    "__import__('os').system('echo x')",
    "open('x')",
    "eval('1')",
    "exec('x = 1')",
    "getattr(name, '__class__')",
    "globals()",
    "__builtins__",
    "name.__class__",
    "title.__class__.__mro__",
    "os.system('echo x')",
    "().__class__",
    "[].__class__",
    "lambda: 1",
    "title; import os",
    "need == yes; x = 1",
    "title == 1 if true else 0",
    "{}",
    "`id`",
])
def test_python_code_is_rejected(text: str) -> None:
    """Function calls, attribute access and statements are not part of the language."""
    error = fails(text)
    assert isinstance(error, ConditionError)
    assert error.position < len(text)


def test_dunder_words_on_the_right_are_inert_text() -> None:
    """A bare word like __class__ on the right is just text, never an attribute."""
    assert holds("title == __class__", {"title": "__class__"}) is True
    assert holds("title == name.__class__", {"title": "name.__class__"}) is True
    assert holds("title == name.__class__", {"title": "Ann"}) is False


def test_compiling_and_evaluating_never_calls_eval_exec_or_compile(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """With eval, exec and compile sabotaged, conditions still compile and run."""
    def forbidden(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("eval/exec/compile must not be used")
    for name in ("eval", "exec", "compile"):
        monkeypatch.setattr(builtins, name, forbidden)
    text = ('(need == yes or bant >= 2) and title matches "\\bceo\\b" '
            "and source not in [purchased_list] and count.webinar > 0")
    fields = {"need": "yes", "title": "CEO", "source": "referral",
              "activities": [{"kind": "webinar", "at": ago(1)}]}
    assert holds(text, fields) is True
    assert holds(text, {**fields, "title": "CTO"}) is False


def test_engine_source_has_no_eval_or_exec() -> None:
    """No module of the engine calls eval, exec or __import__."""
    calls = []
    for path in sorted(Path(engine.__file__).parent.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                    and node.func.id in ("eval", "exec", "__import__"):
                calls.append(f"{path.name}:{node.lineno} {node.func.id}")
    assert calls == []


# -- properties ----------------------------------------------------------------

ORDERING = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
            "==": operator.eq, "!=": operator.ne}


@given(a=st.none() | st.integers(0, 10**9), b=st.integers(-10**12, 10**12),
       op=st.sampled_from(sorted(ORDERING)))
def test_property_company_size_comparisons_agree_with_python(a: int | None, b: int,
                                                             op: str) -> None:
    """``company_size OP b`` is Python's comparison, and false for every ordering on none."""
    expected = ORDERING[op](a, b) if a is not None else op == "!="
    assert holds(f"company_size {op} {b}", {"company_size": a}) is expected


@given(n=st.integers(0, 6), b=st.integers(-3, 8) | st.integers(-30, 80).map(lambda x: x / 10),
       op=st.sampled_from(sorted(ORDERING)))
@settings(suppress_health_check=[HealthCheck.too_slow])
def test_property_count_comparisons_agree_with_python(n: int, b: float, op: str) -> None:
    """``count.call OP b`` compares the number of calls (0 when none) with b."""
    fields = {"activities": [{"kind": "call", "at": ago(day)} for day in range(n)]}
    assert holds(f"count.call {op} {b!r}", fields) is ORDERING[op](n, b)


_SAFE_TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=40)


@given(_SAFE_TEXT)
def test_property_quoted_text_round_trips(value: str) -> None:
    """Any text, escaped with \\ before quotes and backslashes, compares equal to itself."""
    quoted = '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    condition = compile_condition(f"name == {quoted}", vocabulary(PHASE_SCORING))
    assert condition({"name": value}, {}) is True
    assert condition({"name": value + "x"}, {}) is False


_PIECES = st.sampled_from([
    "need", "title", "company_size", "tags", "bant", "count.webinar", "days_since.call",
    "fit", "stage", "nosuch", "yes", "maybe", "true", "none", "always",
    "==", "!=", "<", "<=", ">", ">=", "in", "not", "contains", "matches", "and", "or",
    "(", ")", "[", "]", ",", "0", "-1", "2.5", "1.", "'", '"', "\\",
    '"\\bceo\\b"', '"(a|b"', '"[x"', "'*'", '"a+"', "__import__", ".", "@", ";", "é",
])


@given(st.lists(_PIECES, max_size=25).map(" ".join) | st.text(max_size=60))
@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
def test_property_any_text_compiles_or_raises_condition_error(text: str) -> None:
    """Random text and token soup either compile to a bool predicate or raise ConditionError."""
    contact, facts = build({"title": "CEO", "tags": ["vip"], "company_size": 3})
    facts.update(fit=1, engagement=2, score=3, stage="lead", grade=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # re's "possible nested set"
        try:
            condition = compile_condition(text, vocabulary(PHASE_SCORING))
        except ConditionError as error:
            assert 0 <= error.position <= len(text)
            return
    assert isinstance(condition(contact, facts), bool)


# -- regressions: bugs found by these tests, now fixed ------------------------

@pytest.mark.parametrize("text", ["tags in [vip, hot]", "tags not in [vip]"])
def test_in_with_a_list_field_does_not_crash(text: str) -> None:
    """``tags in [...]`` must either be rejected when compiled or evaluate to a bool."""
    try:
        condition = compile_condition(text, vocabulary(PHASE_SCORING))
    except ConditionError:
        return
    contact, facts = build({"tags": ["vip"]})
    assert isinstance(condition(contact, facts), bool)


def test_matches_on_a_choice_field_takes_a_pattern() -> None:
    """A regular expression over an enum field is a pattern, not a choice literal."""
    assert holds('source matches "search$"', {"source": "organic_search"}) is True
    assert holds('source matches "search$"', {"source": "web_form"}) is False


def test_huge_regex_repeat_count_is_a_condition_error() -> None:
    """A regex the re module cannot build is a ConditionError like any bad regex."""
    assert "bad regular expression" in fails('title matches "a{99999999999}"').reason


def test_deep_nesting_compiles_or_is_a_condition_error() -> None:
    """Deeply nested parentheses either work or are reported as a ConditionError."""
    text = "(" * 400 + "true" + ")" * 400
    try:
        condition = compile_condition(text, vocabulary(PHASE_SCORING))
    except ConditionError:
        return
    assert condition({}, {}) is True


# -- matches: the linear-time matcher agrees with Python's re -----------------------

_REGEX_ATOMS = st.sampled_from(["a", "b", "c", "A", ".", "[ab]", "[^a]", "[a-c1]", r"\d",
                                r"\w", r"\s", r"\W", r"\.", "-", "_"])
_REGEX_ANCHORS = st.sampled_from(["^", "$", r"\b", r"\B", r"\A", r"\Z"])
_QUANTIFIERS = st.sampled_from(["", "", "*", "+", "?", "*?", "{2}", "{1,2}", "{,2}", "{2,}"])


def _regex(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    quantified = st.tuples(_REGEX_ATOMS | inner.map(lambda e: f"({e})") |
                           inner.map(lambda e: f"(?:{e})"), _QUANTIFIERS).map("".join)
    piece = quantified | _REGEX_ANCHORS
    sequence = st.lists(piece, min_size=1, max_size=4).map("".join)
    return st.lists(sequence, min_size=1, max_size=3).map("|".join)


_PATTERNS = st.recursive(_REGEX_ATOMS, _regex, max_leaves=12)


@given(_PATTERNS, st.lists(st.text("abcAB1 _-.\n", max_size=12), min_size=1, max_size=5))
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
def test_property_the_linear_matcher_agrees_with_re(pattern: str, texts: list[str]) -> None:
    """For the supported syntax, a search says what ``re.search(..., re.I)`` says."""
    linear = LinearPattern(pattern)
    for text in texts:
        assert linear.search(text) is (re.search(pattern, text, re.IGNORECASE) is not None), \
            (pattern, text)


@pytest.mark.parametrize(("pattern", "text", "expected"), [
    (r"\bceo\b", "Co-Founder & CEO", True),
    (r"директор|社長", "Генеральный ДИРЕКТОР", True),
    ("director[a]?$", "Directora\n", True),
    ("a$", "a\n\n", False),
    (r"\B", "", False),
    (r"x(?#a comment)y", "xy", True),
    (r"(?P<role>vp|head)\s+of", "Head  of sales", True),
    (r"\x41\u0042\N{DIGIT ONE}", "ab1", True),
    ("a{,2}b", "b", True),
    ("a{x}", "a{x}", True),
])
def test_matches_cases_of_the_supported_syntax(pattern: str, text: str, expected: bool) -> None:
    assert LinearPattern(pattern).search(text) is expected
    assert (re.search(pattern, text, re.IGNORECASE) is not None) is expected

