"""Rules read custom fields: ``custom.NAME`` (or ``custom."A Name"``) in conditions.

The value is ``document["custom"][NAME]``: a number when it is one (an int or float,
or text that reads as a finite number: "34", "2.5", "-1e3"), its text otherwise, and
none when the contact has no such field. Names are case-sensitive, as stored. Every
phase may read them; the classifier and the CLI see them through a rules file.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from cli_support import run_cli

from funnel.engine.errors import ConditionError
from funnel.engine.model import new_contact
from funnel.engine.rules.conditions import compile_condition
from funnel.engine.rules.custom_fields import custom_value
from funnel.engine.rules.facts import PHASE_OUTCOME, PHASE_SCORING, PHASE_STAGE, gather, vocabulary
from funnel.engine.rules.loading import load_rules

NOW = datetime(2026, 8, 1, 12, 0, tzinfo=timezone.utc)
STAGES = ("lead", "prospect")


def holds(text: str, custom: dict[str, Any] | None, phase: str = PHASE_SCORING) -> bool:
    contact = new_contact({"custom": custom} if custom is not None else {}, NOW)
    facts = gather(contact, NOW, 45.0)
    facts.update({"fit": 0, "engagement": 0, "score": 0, "grade": 1, "stage": "lead"})
    result = compile_condition(text, vocabulary(phase, STAGES))(contact, facts)
    assert isinstance(result, bool), (text, result)
    return result


def fails(text: str) -> ConditionError:
    with pytest.raises(ConditionError) as caught:
        compile_condition(text, vocabulary(PHASE_SCORING))
    return caught.value


@pytest.mark.parametrize(("text", "custom", "expected"), [
    ("custom.age >= 30", {"age": "34"}, True),
    ("custom.age >= 30", {"age": "29"}, False),
    ("custom.age >= 30", {}, False),  # missing: every ordering is false
    ("custom.age >= 30", {"age": "thirty"}, False),  # text never orders with a number
    ("custom.age == 34", {"age": "34"}, True),
    ("custom.age == 34", {"age": "34.0"}, True),
    ("custom.ratio > 2", {"ratio": "2.5"}, True),
    ("custom.ratio < 0", {"ratio": "-1e3"}, True),
    ("custom.ratio > 0", {"ratio": "inf"}, False),  # not finite: text
    ("custom.ratio > 0", {"ratio": "1_000"}, False),  # not how a number is written
    ("custom.Score in [10, 20]", {"Score": "20"}, True),
    ('custom.age == "34"', {"age": "34"}, True),  # a number in quotes is a number too
    ("custom.visits > custom.pages", {"visits": "10", "pages": "9"}, True),  # not as text
    ("custom.City == Mumbai", {"City": "Mumbai"}, True),
    ("custom.City == Mumbai", {"City": "Delhi"}, False),
    ("custom.City in [mumbai, delhi]", {"City": "Mumbai"}, True),  # as for fields: any case
    ("custom.City contains mum", {"City": "Mumbai"}, True),
    ('custom.City matches "^m"', {"City": "Mumbai"}, True),
    ("custom.City != none", {"City": "Mumbai"}, True),
    ("custom.City == none", {}, True),
    ("not custom.City", {}, True),
    ("custom.city == Mumbai", {"City": "Mumbai"}, False),  # names are case-sensitive
    ('custom."Lead Quality" == "High in Relevance"', {"Lead Quality": "High in Relevance"},
     True),
    ("custom.'Lead Quality' contains high", {"Lead Quality": "High in Relevance"}, True),
    ('custom."Asymmetrique Activity Score" >= 15',
     {"Asymmetrique Activity Score": "16"}, True),
    ('custom."say \\"hi\\"" == x', {'say "hi"': "x"}, True),
    ("custom.What-is_2 == x", {"What-is_2": "x"}, True),
])
def test_custom_fields_in_conditions(text: str, custom: dict, expected: bool) -> None:
    assert holds(text, custom) is expected


@pytest.mark.parametrize("phase", [PHASE_SCORING, PHASE_STAGE, PHASE_OUTCOME])
def test_every_phase_reads_custom_fields(phase: str) -> None:
    assert holds("custom.Tier == gold", {"Tier": "gold"}, phase) is True
    assert holds("custom.Tier == gold", {"Tier": "tin"}, phase) is False


def test_custom_value_reads_numbers_and_text() -> None:
    assert custom_value("34") == 34 and type(custom_value("34")) is int
    assert custom_value(" 2.50 ") == 2.5
    assert custom_value("Mumbai") == "Mumbai"
    assert custom_value("nan") == "nan" and custom_value("") == ""
    assert custom_value(None) is None and custom_value(7) == 7
    assert custom_value("9" * 5000) == "9" * 5000  # too long to be a number: its text


@pytest.mark.parametrize(("text", "words"), [
    ("custom. == 1", "after 'custom.'"),
    ('custom."" == 1', "empty"),
    ("custom.2024 > 1", 'custom."2024"'),
    ('custom."' + "x" * 101 + '" == 1', "at most 100"),
    ("custom == 1", "unknown name 'custom'"),
    ('count."web inar" > 1', "unknown name 'count.web inar'"),
])
def test_bad_custom_names_are_clear_errors(text: str, words: str) -> None:
    error = fails(text)
    assert words in error.reason, error.reason


def test_unknown_names_list_custom() -> None:
    error = fails("budget_amout > 1")
    assert "custom.<name>" in error.reason


RULES_EXTRA = """
    - id: mumbai
      label: Lives in Mumbai
      points: 20
      when: custom.City == Mumbai
    - id: active
      label: Active on the site
      points: 7
      when: 'custom."Activity Score" >= 15'
"""


def _rules_with_custom(tmp_path: Path) -> Path:
    text = (Path(load_rules("default").source)).read_text(encoding="utf-8")
    head, marker, rest = text.partition("\n  fit:\n")
    assert marker, "the default preset has a fit: section"
    path = tmp_path / "custom-rules.yaml"
    path.write_text(head + marker + RULES_EXTRA.lstrip("\n") + rest, encoding="utf-8")
    return path


def test_cli_scores_custom_fields_from_a_rules_file(tmp_path: Path) -> None:
    """An import keeps unknown columns as custom fields; a rules file reading them
    scores them, in `show` (per contact) and in `stats` (every contact)."""
    (tmp_path / "leads.csv").write_text(
        "Email,City,Activity Score\n"
        "a@example.com,Mumbai,16\n"
        "b@example.com,Delhi,3\n"
        "c@example.com,Mumbai,\n", encoding="utf-8")
    rules = _rules_with_custom(tmp_path)
    done = run_cli(tmp_path, "import", "leads.csv", "--db", "db.json", "--json")
    assert done.returncode == 0, done.stderr
    fits = []
    for contact_id in (1, 2, 3):
        shown = run_cli(tmp_path, "--rules", rules, "show", contact_id, "--db", "db.json",
                        "--json")
        assert shown.returncode == 0, shown.stderr
        data = json.loads(shown.stdout)
        explained = {item["rule"] for item in data["classification"]["explanation"]}
        fits.append(("fit.mumbai" in explained, "fit.active" in explained))
    assert fits == [(True, True), (False, False), (True, False)]
    plain = json.loads(run_cli(tmp_path, "show", 1, "--db", "db.json", "--json").stdout)
    scored = json.loads(run_cli(tmp_path, "--rules", rules, "show", 1, "--db", "db.json",
                                "--json").stdout)
    assert scored["classification"]["fit"] == plain["classification"]["fit"] + 27
    # Every contact counted in bulk (over columns, from the column cache the second
    # time) as it is classified one by one.
    grades = {"1": 0, "2": 0, "3": 0, "4": 0}
    for contact_id in (1, 2, 3):
        shown = json.loads(run_cli(tmp_path, "--rules", rules, "show", contact_id, "--db",
                                   "db.json", "--json").stdout)
        grades[str(shown["classification"]["grade"])] += 1
    assert grades != {"1": 3, "2": 0, "3": 0, "4": 0}  # the custom rules lift some
    for _ in range(2):
        stats = run_cli(tmp_path, "--rules", rules, "stats", "--db", "db.json", "--json")
        assert stats.returncode == 0, stats.stderr
        assert json.loads(stats.stdout)["grades"] == grades
