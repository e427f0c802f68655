"""Hostile rules, mappings and key maps (issue #12, part 4): each gets one clear line on
stderr and exit status 2 from the CLI (or a ``FunnelError`` from the engine), in bounded
time and memory, and nothing is written.

Cases that crashed the interpreter (libyaml's segfault on 30,000 nested ``[``) or that
ran for minutes (alias bombs, catastrophic regular expressions) run in a child process
with a timeout, so a regression fails the test instead of killing or stalling pytest.
Everything else runs ``main()`` in-process (``cli_support.run_cli``).
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest

from funnel.engine.errors import ConditionError, ConfigError, FieldError, FunnelError
from funnel.engine.model.values import parse_value, validate_value
from funnel.engine.rules.condition_tokens import tokenize
from funnel.engine.rules.conditions import compile_condition
from funnel.engine.rules.facts import PHASE_SCORING, vocabulary
from funnel.engine.rules.loading import parse_rules
from funnel.engine.transfer.mapping_file import parse_mapping
from funnel.engine.yaml_lines import load_yaml
from funnel.engine.workspace.facade import Workspace

from cli_support import Ran, run_cli, run_process

RULES = """\
funnel_rules: 1
name: hostile
description: {description}
stages:
  - id: suspect
    when: always
scoring:
  half_life_days: {half_life}
  fit:
    - id: probe
      when: {when}
      points: {points}
grades:
  4: 70
  3: 45
  2: 20
temperature:
  default: cold
lead_types:
  default: none
"""

MAPPING = """\
funnel_mapping: 1
name: hostile
columns:
  Email: email
  Visits:
    activity: page_visit
    per: {per}
  Notes: {notes}
"""

CSV = "Email,Visits,Notes\nann@example.com,3,hello\n"

BILLION_LAUGHS = ("\n  - &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"  - &a{i} [*a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, "
    f"*a{i - 1}, *a{i - 1}, *a{i - 1}]\n" for i in range(1, 10)))


def rules_text(*, description: str = "plain", half_life: str = "30",
               when: str = "need == yes", points: str = "10") -> str:
    return RULES.format(description=description, half_life=half_life, when=when,
                        points=points)


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def assert_one_line_error(result: Ran | subprocess.CompletedProcess[str],
                          *fragments: str) -> str:
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr[-2000:])
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr[-2000:]
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]


@contextmanager
def within(seconds: int) -> Iterator[None]:
    """Fail (instead of hanging) if the block runs longer than ``seconds``."""
    def expired(signum: int, frame: object) -> None:
        raise TimeoutError(f"took more than {seconds} s")
    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def bounded_process(cwd: Path, *args: object, timeout: float = 30) -> subprocess.CompletedProcess:
    try:
        return run_process(cwd, *args, timeout=timeout)
    except subprocess.TimeoutExpired:
        pytest.fail(f"funnel {' '.join(map(str, args))} ran for more than {timeout} s")


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """A database of one contact (id 1), titled for the catastrophic pattern below."""
    path = tmp_path / "db" / "leads.json"
    path.parent.mkdir()
    with Workspace.open(path) as workspace:
        assert workspace.add({"name": "Ann", "email": "ann@example.com",
                              "title": "a" * 32 + "!"}) == 1
    return path


@pytest.fixture
def unchanged(db: Path) -> Iterator[None]:
    """Asserts that no file of the database changed (nor any was added) by the test;
    the column cache (``PATH.columns``) is a cache, which reading may write."""
    def files() -> dict[str, bytes]:
        return {path.name: path.read_bytes() for path in db.parent.iterdir()
                if not path.name.endswith(".columns")}
    before = files()
    yield
    assert files() == before


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def config_folder(folder: Path, keys: str) -> Path:
    config = folder / "config"
    config.mkdir()
    write(config, "rules.yaml", rules_text())
    write(config, "keys.yaml", keys)
    return config


# -- YAML nesting: rules, mappings, key maps -------------------------------------------

def hostile_command(kind: str, folder: Path, db: Path, text: str) -> list[object]:
    if kind == "rules":
        return ["stats", "--rules", write(folder, "rules.yaml", text), "--db", db]
    if kind == "mapping":
        return ["import", write(folder, "in.csv", CSV), "--db", db,
                "--map", write(folder, "map.yaml", text)]
    return ["--config", config_folder(folder, text), "--db", db]


def deep_document(kind: str, depth: int) -> str:
    if kind == "rules":
        return rules_text(description=nested(depth))
    if kind == "mapping":
        return MAPPING.format(per="1", notes=nested(depth))
    return f"contacts.disqualify: {nested(depth)}\n"


@pytest.mark.parametrize("kind", ["rules", "mapping", "keys"])
@pytest.mark.parametrize("depth", [2_000, 20_000])
def test_deep_nesting_is_refused_in_one_line(kind: str, depth: int, tmp_path: Path, db: Path,
                                             unchanged: None) -> None:
    result = run_cli(tmp_path, *hostile_command(kind, tmp_path, db, deep_document(kind, depth)))
    assert_one_line_error(result, "nested more than 50 levels deep")


@pytest.mark.parametrize("kind", ["rules", "mapping", "keys"])
def test_nesting_that_crashed_libyaml_is_refused_in_a_process(kind: str, tmp_path: Path,
                                                              db: Path, unchanged: None) -> None:
    command = hostile_command(kind, tmp_path, db, deep_document(kind, 30_000))
    assert_one_line_error(bounded_process(tmp_path, *command), "nested more than 50 levels")


def test_the_key_map_loader_names_the_file_and_line(tmp_path: Path) -> None:
    from funnel.tui.cli.main import load_keymap

    config = config_folder(tmp_path, "contacts.disqualify: x\ncontacts.edit: [e\n")
    args = argparse.Namespace(config=config)
    with pytest.raises(FunnelError, match=r"keys.yaml:3: not valid YAML"):
        load_keymap(args)
    write(config, "keys.yaml", "contacts.disqualify: off\n")  # a key, not a boolean
    assert load_keymap(args) == {"contacts.disqualify": "off"}


# -- alias bombs -----------------------------------------------------------------------

def test_an_alias_bomb_in_the_description_is_refused_quickly(tmp_path: Path, db: Path,
                                                            unchanged: None) -> None:
    rules = write(tmp_path, "rules.yaml", rules_text(description=BILLION_LAUGHS))
    started = time.monotonic()
    result = bounded_process(tmp_path, "stats", "--rules", rules, "--db", db, timeout=20)
    assert_one_line_error(result, "rules.yaml", "aliases", "more than 100,000")
    assert time.monotonic() - started < 20


@pytest.mark.parametrize("dialect", [{}, {"text_keys": True, "booleans": False}])
def test_alias_expansion_is_counted_by_the_loader(dialect: dict) -> None:
    with within(5), pytest.raises(ConfigError, match=r"x.yaml:\d+: .*more than 100,000"):
        load_yaml("bomb:" + BILLION_LAUGHS, "x.yaml", **dialect)
    # A few shared values stay fine (and an alias of a number is the number).
    assert load_yaml("a: &n 5\nb: *n\n", "x.yaml", **dialect) == {"a": 5, "b": 5}


def test_an_alias_to_the_node_that_holds_it_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"x.yaml:1: .*refers to a value that contains it"):
        load_yaml("a: &loop [1, *loop]\n", "x.yaml")


# -- conditions: long chains, long lists -----------------------------------------------

SCORING = vocabulary(PHASE_SCORING)


@pytest.mark.parametrize("chain", [" and ".join(["need == yes"] * 5_000),
                                   " or ".join(["need == no"] * 20_000)],
                         ids=["5000-and", "20000-or"])
def test_long_chains_in_a_rules_file_are_refused_in_one_line(chain: str, tmp_path: Path,
                                                             db: Path, unchanged: None) -> None:
    rules = write(tmp_path, "rules.yaml", rules_text(when=chain))
    with within(10):
        result = run_cli(tmp_path, "stats", "--rules", rules, "--db", db)
    assert_one_line_error(result, "rules.yaml:11:", "at most 10,000 characters")


def test_a_flat_chain_within_the_length_limit_compiles_and_evaluates() -> None:
    # 1,100 parts: folded two by two, these were 1,100 nested calls (a RecursionError).
    ors = compile_condition(" or ".join(["false"] * 1_100 + ["true"]), SCORING)
    ands = compile_condition(" and ".join(["true"] * 1_100 + ["false"]), SCORING)
    assert ors({}, {}) is True and ands({}, {}) is False


def test_deep_nesting_in_a_condition_is_refused() -> None:
    with pytest.raises(ConditionError, match="nested more than 50 levels deep"):
        compile_condition("(" * 60 + "true" + ")" * 60, SCORING)
    with pytest.raises(ConditionError, match="nested more than 50 levels deep"):
        compile_condition("not " * 60 + "true", SCORING)
    assert compile_condition("(" * 40 + "true" + ")" * 40, SCORING)({}, {}) is True


def test_a_huge_list_is_refused_quickly_and_the_tokenizer_is_linear() -> None:
    items = ", ".join(["web_form"] * 200_000)
    with within(10):
        tokens = tokenize(f"source in [{items}]")
    assert len(tokens) == 2 + 1 + 200_000 + 199_999 + 1 + 1  # names, [, items, commas, ], end
    with within(5), pytest.raises(ConditionError, match="at most 10,000 characters"):
        compile_condition(f"source in [{items}]", SCORING)
    with pytest.raises(ConditionError, match="at most 1,000 values"):
        compile_condition("company_size in [" + ", ".join(["1"] * 1_001) + "]", SCORING)


# -- numbers ---------------------------------------------------------------------------

HUGE = "9" * 5_000


@pytest.mark.parametrize("field, value, line, fragment", [
    ("points", HUGE, 12, "at most 15 digits"),
    ("half_life", HUGE, 8, "at most 15 digits"),
    ("when", f"company_size > {HUGE}", 11, "at most 15 digits"),
    ("points", "1000", 12, "points must be between -100 and 100"),
    ("half_life", "100000", 8, "half_life_days must be more than 0 and at most 3650"),
], ids=["huge-points", "huge-half-life", "huge-literal", "points-range", "half-life-range"])
def test_numbers_in_rules_are_bounded(field: str, value: str, line: int, fragment: str,
                                      tmp_path: Path, db: Path, unchanged: None) -> None:
    rules = write(tmp_path, "rules.yaml", rules_text(**{field: value}))
    result = run_cli(tmp_path, "stats", "--rules", rules, "--db", db)
    assert_one_line_error(result, f"rules.yaml:{line}:", fragment)


def test_a_huge_per_in_a_mapping_is_refused(tmp_path: Path, db: Path, unchanged: None) -> None:
    mapping = write(tmp_path, "map.yaml", MAPPING.format(per=HUGE, notes="notes"))
    result = run_cli(tmp_path, "import", write(tmp_path, "in.csv", CSV), "--db", db,
                     "--map", mapping)
    assert_one_line_error(result, "map.yaml:7:", "at most 15 digits")
    with pytest.raises(ConfigError, match="map.yaml:7: .*at most 15 digits"):
        parse_mapping(MAPPING.format(per=HUGE, notes="notes"), "map.yaml")


def test_numbers_in_condition_literals_are_bounded() -> None:
    with pytest.raises(ConditionError, match="at most 15 digits"):
        compile_condition(f"company_size > {HUGE}", SCORING)
    with pytest.raises(ConditionError, match="at most 15 digits"):
        compile_condition("company_size > 1.0000000000000001", SCORING)
    assert compile_condition("company_size > 999999999999999", SCORING)(
        {"company_size": 10**15}, {}) is True


@pytest.mark.parametrize("value", ["99999999999999999999999", HUGE, "1e300"],
                         ids=["23-digits", "5000-digits", "1e300"])
def test_a_budget_beyond_the_limit_is_refused_with_its_range(value: str, tmp_path: Path,
                                                            db: Path, unchanged: None) -> None:
    result = run_cli(tmp_path, "set", "1", f"budget_amount={value}", "--db", db)
    assert_one_line_error(result, "budget_amount", "from 0 to 1,000,000,000,000,000")


def test_numeric_fields_have_a_documented_maximum() -> None:
    with pytest.raises(FieldError, match="company_size: .* from 0 to 1,000,000,000$"):
        validate_value("company_size", 10**9 + 1)
    with pytest.raises(FieldError, match="score_adjustment: .* from -100 to 100$"):
        validate_value("score_adjustment", -101)
    with pytest.raises(FieldError, match="more than 30 digits is out of range"):
        validate_value("budget_amount", 10**5000)
    with pytest.raises(FieldError, match="'.' is not a number"):
        parse_value("budget_amount", ".")
    with pytest.raises(FieldError, match="budget_amount: .* from 0 to 1,000,000,000,000,000"):
        validate_value("budget_amount", 1e16)
    assert parse_value("budget_amount", "1000000000000000") == 10**15


# -- regular expressions ---------------------------------------------------------------

def test_a_catastrophic_pattern_cannot_hang_stats(tmp_path: Path, db: Path,
                                                 unchanged: None) -> None:
    rules = write(tmp_path, "rules.yaml", rules_text(when="title matches '^(a+)+$'"))
    result = bounded_process(tmp_path, "stats", "--rules", rules, "--db", db, "--json",
                             timeout=30)
    assert result.returncode == 0, result.stderr


def test_a_catastrophic_pattern_is_answered_in_linear_time() -> None:
    condition = compile_condition("title matches '^(a+)+$'", SCORING)
    with within(5):
        assert condition({"title": "a" * 5_000 + "!"}, {}) is False
        assert condition({"title": "a" * 5_000}, {}) is True


@pytest.mark.parametrize("pattern, message", [
    (r"(a)\1", "backreference"),
    (r"a(?=b)", "lookaround"),
    (r"a(?<!b)", "lookaround"),
    ("a" * 1_001, "at most 1,000 characters"),
    ("(a{1000}){1000}", "too large"),
], ids=["backreference", "lookahead", "lookbehind", "long", "large"])
def test_patterns_outside_the_linear_subset_are_refused(pattern: str, message: str) -> None:
    with pytest.raises(ConditionError, match=message):
        compile_condition(f"title matches '{pattern}'", SCORING)


def test_the_shipped_rules_still_load() -> None:
    from funnel.engine.rules.loading import load_rules

    assert load_rules("default").name == "default"
    assert parse_rules(rules_text(), "x.yaml").name == "hostile"
