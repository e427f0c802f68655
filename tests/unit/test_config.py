"""Loading rules files: the shipped presets, and errors that name file, line and rule.

Broken documents are built from the text of ``config/default.yaml`` with one
exact edit each (the edit must match exactly once), or from a small complete
document; expected line numbers are computed from the text that was built.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from funnel.engine.rules.loading import load_rules, parse_rules
from funnel.engine.errors import ConfigError
from funnel.engine.rules.ruleset import Rules

ROOT = Path(__file__).resolve().parents[2]
DEFAULT = (ROOT / "config" / "default.yaml").read_text(encoding="utf-8")
SOURCE = "my.yaml"

MINIMAL = """\
funnel_rules: 1
name: tiny
stages:
  - id: suspect
    when: always
scoring:
  half_life_days: 30
grades:
  4: 70
  3: 45
  2: 20
temperature:
  default: cold
lead_types:
  default: none
"""


# -- helpers -----------------------------------------------------------------

def edited(old: str, new: str, text: str = DEFAULT) -> str:
    """``text`` with the single occurrence of ``old`` replaced by ``new``."""
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times"
    return text.replace(old, new)


def line_of(text: str, needle: str, nth: int = 1, after: str | None = None) -> int:
    """1-based line of the ``nth`` occurrence of ``needle`` (searching from ``after``)."""
    start = text.index(after) if after else 0
    found = -1
    for _ in range(nth):
        found = text.index(needle, start)
        start = found + 1
    return text.count("\n", 0, found) + 1


def config_error(text: str | bytes) -> ConfigError:
    """The ConfigError raised by parsing ``text`` as ``my.yaml``."""
    with pytest.raises(ConfigError) as info:
        parse_rules(text, SOURCE)
    return info.value


def assert_reported(error: ConfigError, line: int | None, *words: str) -> None:
    """The error names my.yaml and ``line`` first, then every one of ``words``."""
    message = str(error)
    assert error.path == SOURCE
    assert error.line == line, message
    prefix = f"{SOURCE}:{line}: " if line else f"{SOURCE}: "
    assert message.startswith(prefix), message
    for word in words:
        assert word in message, f"{word!r} not in {message!r}"


def test_helpers_find_lines() -> None:
    """line_of counts lines from 1 and finds later occurrences."""
    text = "a\nb\na\n"
    assert line_of(text, "a") == 1
    assert line_of(text, "a", nth=2) == 3
    assert line_of(text, "a", after="b") == 3


# -- the presets ---------------------------------------------------------------

@pytest.fixture(scope="module")
def default() -> Rules:
    return load_rules("default")


@pytest.fixture(scope="module")
def fit_first() -> Rules:
    return load_rules("fit-first")


def test_default_preset_stages_and_exits(default: Rules) -> None:
    """default: the lifecycle funnel in order, then two exits sorted after it."""
    assert default.name == "default"
    assert [s.id for s in default.stages] == ["suspect", "lead", "prospect", "opportunity",
                                              "customer", "ambassador"]
    assert [s.id for s in default.exits] == ["disqualified", "lost"]
    assert [s.order for s in default.stages + default.exits] == list(range(8))
    assert all(s.when is not None and not s.is_exit for s in default.stages)
    assert all(s.is_exit for s in default.exits)
    assert default.stage("disqualified").when is None        # set only by a person
    assert default.stage("lost").when.text == "outcome == lost"
    assert default.stage("suspect").when.text == "always"
    assert default.stage("opportunity").rotting_days == 14
    assert default.stage("lead").line == line_of(DEFAULT, "  - id: lead")


def test_default_preset_scoring_grades_and_choices(default: Rules) -> None:
    """default: half-life, grade bars, fit and engagement rules, temperature, lead types."""
    assert default.half_life_days == 45.0
    assert default.grades == ((4, 70.0), (3, 45.0), (2, 20.0))
    assert default.fit[0].id == "fit.decision_maker" and default.fit[0].points == 20
    assert len(default.fit) == 16 and len(default.engagement) == 13
    webinar = next(r for r in default.engagement if r.id == "engagement.webinar")
    assert (webinar.activity, webinar.points, webinar.maximum, webinar.when) == \
        ("webinar", 8, 16, None)
    assert default.temperature_default == "cold"
    assert [(t.value, t.when.text) for t in default.temperatures] == \
        [("hot", "bant >= 3"), ("warm", "bant == 2")]
    assert default.lead_type_default is None
    assert [t.value for t in default.lead_types] == ["SRL", "SQL", "MSRL", "IQL", "MQL"]


def test_fit_first_preset(fit_first: Rules) -> None:
    """fit-first: prospect (fit alone) comes before lead (interest alone)."""
    assert fit_first.name == "fit-first"
    assert [s.id for s in fit_first.stages] == ["suspect", "prospect", "lead", "opportunity",
                                                "customer", "ambassador"]
    assert [s.id for s in fit_first.exits] == ["disqualified", "lost"]
    assert fit_first.stage("prospect").when.text == "fit >= 35"
    assert fit_first.half_life_days == 45.0
    assert fit_first.grades == ((4, 70.0), (3, 45.0), (2, 20.0))
    assert "fit.target_country" in {r.id for r in fit_first.fit}
    assert "engagement.need" in {r.id for r in fit_first.engagement}


@pytest.mark.parametrize(("score", "grade"), [(100, 4), (70, 4), (69.9, 3), (45, 3),
                                              (44, 2), (20, 2), (19.5, 1), (0, 1), (-5, 1)])
def test_grade_thresholds(default: Rules, score: float, grade: int) -> None:
    """A score gets the best grade whose lowest score it reaches."""
    assert default.grade_for(score) == grade


@pytest.mark.parametrize(("title", "expected"), [
    ("Chief Executive", True), ("VP Sales", True), ("Директор по продажам", True),
    ("Directory assistant", False), ("Sales engineer", False),
])
def test_preset_regex_survives_yaml_and_keeps_word_boundaries(default: Rules, title: str,
                                                              expected: bool) -> None:
    r"""The decision-maker regex (\b in a folded YAML scalar) matches whole words only."""
    rule = next(r for r in default.fit if r.id == "fit.decision_maker")
    assert rule.when({"title": title}, {}) is expected


@pytest.mark.parametrize("spec", [None, ""])
def test_no_spec_means_the_default_preset(spec: str | None) -> None:
    """load_rules() with no name loads the default preset."""
    assert load_rules(spec).name == "default"


def test_load_rules_from_a_path(tmp_path: Path) -> None:
    """A path loads that file; the source and fingerprint describe its bytes."""
    path = tmp_path / "mine.yaml"
    path.write_text(MINIMAL, encoding="utf-8")
    rules = load_rules(path)
    assert rules.name == "tiny"
    assert rules.source == str(path)
    assert rules.fingerprint == hashlib.sha256(MINIMAL.encode()).hexdigest()
    assert load_rules(str(path)).fingerprint == rules.fingerprint
    assert parse_rules(MINIMAL + "# edited\n").fingerprint != rules.fingerprint


def test_minimal_document_and_defaults() -> None:
    """Optional sections default: no exits or rules, labels from ids, cold, no lead type."""
    rules = parse_rules(MINIMAL, SOURCE)
    assert [s.id for s in rules.stages] == ["suspect"]
    assert rules.stages[0].label == "Suspect"
    assert rules.exits == () and rules.fit == () and rules.engagement == ()
    assert rules.temperature_default == "cold" and rules.temperatures == ()
    assert rules.lead_type_default is None
    assert rules.source == SOURCE


def test_utf8_byte_order_mark_is_accepted() -> None:
    """A file saved with a BOM loads like one without."""
    assert parse_rules(b"\xef\xbb\xbf" + MINIMAL.encode(), SOURCE).name == "tiny"


def test_same_rule_id_in_fit_and_engagement_is_allowed() -> None:
    """Rule ids are qualified by family, so fit.budget and engagement.budget coexist."""
    rules = parse_rules(edited("    - id: webinar\n", "    - id: budget\n"), SOURCE)
    ids = [r.id for r in rules.fit + rules.engagement]
    assert "fit.budget" in ids and "engagement.budget" in ids


# -- structure errors ------------------------------------------------------------

def test_unknown_top_level_key() -> None:
    """An unknown key at the top is reported at its line with the allowed keys."""
    text = edited("name: default\n", "name: default\ncolour: red\n")
    assert_reported(config_error(text), line_of(text, "colour: red"),
                    "unknown key 'colour'", "allowed:", "funnel_rules", "stages")


@pytest.mark.parametrize(("old", "new", "needle", "words"), [
    ("    label: Lead\n", "    label: Lead\n    colour: red\n", "    colour: red",
     ("stage 'lead'", "unknown key 'colour'")),
    ("      label: Decision maker by title\n",
     "      label: Decision maker by title\n      weight: 3\n", "      weight: 3",
     ("fit rule 'decision_maker'", "unknown key 'weight'")),
    ("  half_life_days: 45\n", "  half_life_days: 45\n  speed: 3\n", "  speed: 3",
     ("scoring", "unknown key 'speed'")),
])
def test_unknown_nested_keys_name_their_rule(old: str, new: str, needle: str,
                                             words: tuple[str, ...]) -> None:
    """Unknown keys inside a stage, a rule or a section name it and its line."""
    text = edited(old, new)
    assert_reported(config_error(text), line_of(text, needle), *words)


@pytest.mark.parametrize(("value", "shown"), [("2", "found 2"), ("'1'", "found '1'"),
                                              ("0.9", "found 0.9")])
def test_wrong_format_version(value: str, shown: str) -> None:
    """funnel_rules must be the number 1; the error points at its line."""
    text = edited("funnel_rules: 1\n", f"funnel_rules: {value}\n")
    assert_reported(config_error(text), line_of(text, "funnel_rules: "),
                    "expected format version 1", shown)


def test_missing_format_version() -> None:
    """Without funnel_rules the error says so (line 1 of a document without it)."""
    text = MINIMAL.replace("funnel_rules: 1\n", "")
    assert_reported(config_error(text), 1, "funnel_rules", "found None")


def test_duplicate_stage_id() -> None:
    """Two stages with one id: the error names it at one of the two definitions."""
    text = edited("  - id: prospect\n", "  - id: lead\n")
    error = config_error(text)
    lines = {line_of(text, "  - id: lead\n"), line_of(text, "  - id: lead\n", nth=2)}
    assert error.line in lines
    assert_reported(error, error.line, "stage 'lead' is defined twice")


def test_exit_reusing_a_stage_id() -> None:
    """An exit may not reuse a stage's id."""
    text = edited("  - id: lost\n", "  - id: suspect\n")
    error = config_error(text)
    assert error.line in {line_of(text, "  - id: suspect\n"),
                          line_of(text, "  - id: suspect\n", nth=2)}
    assert_reported(error, error.line, "stage 'suspect' is defined twice")


def test_duplicate_rule_id() -> None:
    """Two fit rules with one id: the error names the qualified id."""
    text = edited("    - id: influencer\n", "    - id: decision_maker\n")
    error = config_error(text)
    assert error.line in {line_of(text, "    - id: decision_maker\n"),
                          line_of(text, "    - id: decision_maker\n", nth=2)}
    assert_reported(error, error.line, "rule 'fit.decision_maker' is defined twice")


def test_duplicate_yaml_key() -> None:
    """A key given twice in one mapping is refused at the second occurrence."""
    text = edited("    label: Lead\n", "    label: Lead\n    label: Again\n")
    assert_reported(config_error(text), line_of(text, "    label: Again"),
                    "'label' appears twice")


def test_missing_points() -> None:
    """A score rule without points is reported at the rule, naming it."""
    text = edited("      when: authority == yes\n      points: 10\n",
                  "      when: authority == yes\n")
    assert_reported(config_error(text), line_of(text, "    - id: authority"),
                    "fit rule 'authority'", "missing 'points'")


def test_both_when_and_activity() -> None:
    """A score rule with both when and activity is refused at the rule."""
    text = edited("      activity: webinar\n", "      activity: webinar\n      when: need == yes\n")
    assert_reported(config_error(text), line_of(text, "    - id: webinar"),
                    "engagement rule 'webinar'", "exactly one of 'when'", "'activity'")


def test_neither_when_nor_activity() -> None:
    """A score rule with neither when nor activity is refused at the rule."""
    text = edited("      when: authority == yes\n", "")
    assert_reported(config_error(text), line_of(text, "    - id: authority"),
                    "fit rule 'authority'", "exactly one of 'when'")


def test_unknown_activity_kind() -> None:
    """An activity rule must count a real activity kind; the kinds are listed."""
    text = edited("      activity: webinar\n", "      activity: webinars\n")
    assert_reported(config_error(text), line_of(text, "      activity: webinars"),
                    "engagement rule 'webinar'", "activity 'webinars' is not one of",
                    "page_visit", "referral_made")


# -- bad conditions --------------------------------------------------------------

def test_bad_condition_in_a_stage() -> None:
    """A syntax error in a stage's when is reported at that when, with the column."""
    text = edited("    when: has_contact\n", "    when: has_contact and\n")
    assert_reported(config_error(text), line_of(text, "    when: has_contact and"),
                    "stage 'lead': when:", "expected a value", "column 16")


def test_bad_name_in_a_multi_line_stage_condition() -> None:
    """A folded (>-) condition is reported at the line of its when key."""
    text = edited("or count.demo_request > 0", "or count.demo_requests > 0")
    assert_reported(config_error(text), line_of(text, "    when: >-", after="id: opportunity"),
                    "stage 'opportunity': when:", "unknown name 'count.demo_requests'")


def test_bad_condition_in_an_exit() -> None:
    """Exit conditions are checked too; the typo check catches a wrong outcome."""
    text = edited("    when: outcome == lost\n", "    when: outcome == lots\n")
    assert_reported(config_error(text), line_of(text, "    when: outcome == lots"),
                    "exit 'lost'", "'lots' is not a possible value")


def test_bad_condition_in_a_fit_rule() -> None:
    """A misspelt name in a fit rule is reported at its when, naming the rule."""
    text = edited("      when: budget_amount >= 5000\n", "      when: budget_amout >= 5000\n")
    assert_reported(config_error(text), line_of(text, "      when: budget_amout"),
                    "fit rule 'budget_fits': when:", "unknown name 'budget_amout'")


def test_bad_condition_in_an_engagement_rule() -> None:
    """Flat-points engagement rules are compiled and reported the same way."""
    text = edited("      when: last_activity_days > 120\n", "      when: last_activity_days >\n")
    assert_reported(config_error(text), line_of(text, "      when: last_activity_days >"),
                    "engagement rule 'gone_quiet'", "expected a value")


@pytest.mark.parametrize(("old", "new", "words"), [
    ("      when: need == no\n", "      when: fit >= 10\n",
     ("fit rule 'no_need'", "unknown name 'fit'")),            # no scores while scoring
    ("    when: has_contact\n", "    when: grade >= 2\n",
     ("stage 'lead'", "unknown name 'grade'")),                # no grade in stage rules
    ("      when: bant == 2\n", "      when: stage == leed\n",
     ("temperature rule 'warm'", "'leed' is not a possible value")),
])
def test_conditions_are_checked_for_their_phase(old: str, new: str,
                                                words: tuple[str, ...]) -> None:
    """Scoring rules cannot use scores, stages cannot use grade, stage ids are checked."""
    text = edited(old, new)
    assert_reported(config_error(text), line_of(text, new.rstrip("\n")), *words)


def test_outcome_rules_may_use_stage_and_grade() -> None:
    """Temperature and lead-type rules see the stage (of these rules) and grade."""
    text = edited("      when: bant == 2\n", "      when: stage == lead and grade >= 2\n")
    rules = parse_rules(text, SOURCE)
    assert rules.temperatures[1].when({}, {"stage": "lead", "grade": 3}) is True


# -- grades and temperatures -----------------------------------------------------

@pytest.mark.parametrize(("old", "new", "at", "words"), [
    ("  3: 45\n", "  3: 80\n", "  4: 70", "grade 4 needs a higher score than grade 3 (70 <= 80)"),
    ("  3: 45\n", "  3: 70\n", "  4: 70", "grade 4 needs a higher score than grade 3 (70 <= 70)"),
    ("  2: 20\n", "  2: 50\n", "  3: 45", "grade 3 needs a higher score than grade 2 (45 <= 50)"),
])
def test_grades_must_descend(old: str, new: str, at: str, words: str) -> None:
    """Each grade needs a strictly higher bar than the next; reported at the higher grade."""
    text = edited(old, new)
    assert_reported(config_error(text), line_of(text, at, after="grades:"), "grades:", words)


def test_grade_above_100() -> None:
    """No grade bar may exceed the maximum score of 100."""
    text = edited("  4: 70\n", "  4: 170\n")
    assert_reported(config_error(text), line_of(text, "  4: 170"), "grades: 4: 170 is above 100")


@pytest.mark.parametrize(("old", "new", "at", "words"), [
    ("  2: 20\n", "  2: -1\n", "  2: -1", "2 must be at least 0"),
    ("  2: 20\n", "  2: 20\n  5: 90\n", "  5: 90", "key 5 must be 2, 3 or 4"),
    ("  2: 20\n", "  2: twenty\n", "  2: twenty", "2 must be a number"),
])
def test_other_grade_mistakes(old: str, new: str, at: str, words: str) -> None:
    """Negative bars, unknown grades and non-numbers are refused at their line."""
    text = edited(old, new)
    assert_reported(config_error(text), line_of(text, at), "grades:", words)


def test_unknown_temperature_name() -> None:
    """A temperature rule must give hot, warm or cold."""
    text = edited("    - temperature: warm\n", "    - temperature: tepid\n")
    assert_reported(config_error(text), line_of(text, "    - temperature: tepid"),
                    "temperature rule 'tepid'", "must be one of hot, warm, cold")


def test_unknown_default_temperature() -> None:
    """The temperature default must be hot, warm or cold."""
    text = edited("  default: cold\n", "  default: lukewarm\n")
    assert_reported(config_error(text), line_of(text, "  default: lukewarm"),
                    "temperature: default must be one of hot, warm, cold")


@given(g4=st.integers(-5, 120), g3=st.integers(-5, 120), g2=st.integers(-5, 120))
@settings(max_examples=60)
def test_property_grade_bars_accepted_exactly_when_valid(g4: int, g3: int, g2: int) -> None:
    """Bars load iff 100 >= g4 > g3 > g2 >= 0; otherwise the error is on a grades line."""
    text = MINIMAL.replace("  4: 70\n  3: 45\n  2: 20\n", f"  4: {g4}\n  3: {g3}\n  2: {g2}\n")
    valid = 100 >= g4 > g3 > g2 >= 0
    try:
        rules = parse_rules(text, SOURCE)
    except ConfigError as error:
        assert not valid, str(error)
        assert error.line in (9, 10, 11) and "grades" in str(error)
        return
    assert valid
    assert rules.grades == ((4, g4), (3, g3), (2, g2))
    assert rules.grade_for(g3) == 3 and rules.grade_for(g4) == 4


# -- files that are not usable YAML ------------------------------------------------

@pytest.mark.parametrize(("old", "new", "bad", "words"), [
    ("    label: Lead\n", "    label: Lead: x\n", "    label: Lead: x",
     "mapping values are not allowed here"),
    ("    label: Lead\n", "   label: Lead\n", "   label: Lead", "expected <block end>"),
])
def test_invalid_yaml_syntax(old: str, new: str, bad: str, words: str) -> None:
    """A YAML syntax error is a ConfigError at the line of the mistake."""
    text = edited(old, new)
    assert_reported(config_error(text), line_of(text, bad), "not valid YAML", words)


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n", "---\n"])
def test_empty_file(text: str) -> None:
    """An empty document (or only comments) says so, without a line."""
    assert_reported(config_error(text), None, "the rules file is empty")


def test_document_that_is_not_a_mapping() -> None:
    """A list at the top is not a rules file."""
    assert_reported(config_error("- 1\n- 2\n"), 1, "must be a mapping")


@pytest.mark.parametrize(("data", "byte"), [
    (b"funnel_rules: 1\nname: \xff\xfe\n", 22),
    (DEFAULT.encode().replace(b"name: default", b"name: d\xe9fault"), None),
])
def test_non_utf8_bytes(data: bytes, byte: int | None) -> None:
    """Bytes that are not UTF-8 are refused, naming the first bad byte."""
    if byte is None:
        byte = data.index(b"\xe9")
    assert_reported(config_error(data), None, f"not UTF-8 text (byte {byte})")


def test_rules_file_that_does_not_exist(tmp_path: Path) -> None:
    """A missing path is a ConfigError naming it and the presets."""
    path = tmp_path / "nope.yaml"
    with pytest.raises(ConfigError) as info:
        load_rules(path)
    assert info.value.path == str(path) and info.value.line is None
    assert str(info.value) == (f"{path}: no such rules file; give a path or a preset "
                               "(default, fit-first)")


def test_rules_path_that_is_a_directory(tmp_path: Path) -> None:
    """A directory is not readable as a rules file, nor is a FIFO (which would block)."""
    with pytest.raises(ConfigError) as info:
        load_rules(tmp_path)
    assert str(info.value) == (f"{tmp_path}: is a folder; only regular files can be read "
                               "as a rules file")
    fifo = tmp_path / "rules.yaml"
    os.mkfifo(fifo)
    with pytest.raises(ConfigError, match=r"rules.yaml: is a pipe \(FIFO\); only regular"):
        load_rules(fifo)


@pytest.mark.parametrize("template", [
    "name: !!python/object/apply:os.system ['touch {marker}']\n",
    "name: !!python/object/new:os.system ['touch {marker}']\n",
    "name: !!python/name:os.system\n",
    "stages: !!python/object/apply:subprocess.check_call [['touch', '{marker}']]\n",
])
def test_python_yaml_tags_are_refused_not_executed(tmp_path: Path, template: str) -> None:
    """Safe loading: python/* tags are a ConfigError and nothing is run."""
    marker = tmp_path / "executed"
    line = template.format(marker=marker)
    text = "funnel_rules: 1\n" + line
    error = config_error(text)
    assert_reported(error, 2, "not valid YAML", "could not determine a constructor")
    assert not marker.exists()


def test_python_tag_as_the_whole_document(tmp_path: Path) -> None:
    """A tagged top-level document is refused the same way."""
    marker = tmp_path / "executed"
    error = config_error(f"!!python/object/apply:os.system ['touch {marker}']\n")
    assert_reported(error, 1, "not valid YAML")
    assert not marker.exists()


# -- regressions: bugs found by these tests, now fixed ----------------------------

def test_unknown_key_with_a_block_value_is_reported_at_the_key() -> None:
    """``extra:`` followed by comments and a nested mapping is reported at ``extra:``."""
    text = edited("grades:\n", "extra:\n  # a comment\n  # another\n  a: 1\ngrades:\n")
    assert_reported(config_error(text), line_of(text, "extra:"), "unknown key 'extra'")


@pytest.mark.parametrize(("old", "new", "needle"), [
    ("grades:\n", "grades:\n  1.5: 3\n", "  1.5: 3"),
    ("name: default\n", "name: default\n~: 3\n", "~: 3"),
])
def test_unusable_key_names_the_file(old: str, new: str, needle: str) -> None:
    """A float or null mapping key is reported like every other error: file and line."""
    text = edited(old, new)
    assert_reported(config_error(text), line_of(text, needle), "unusable key")


@pytest.mark.parametrize(("old", "new"), [("  4: 70\n", "  4: .nan\n"),
                                          ("  half_life_days: 30\n", "  half_life_days: .nan\n")])
def test_nan_numbers_are_refused(old: str, new: str) -> None:
    """A NaN grade bar or half-life is a ConfigError at its line."""
    text = edited(old, new, MINIMAL)
    assert_reported(config_error(text), line_of(text, new.rstrip("\n")))
