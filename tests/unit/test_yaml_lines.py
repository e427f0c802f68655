"""The shared YAML loader: safe loading only, mappings that know their lines, and the
two dialects (the rules' constructed keys; the mappings' keys and booleans as text)."""

from __future__ import annotations

import pytest

from funnel.engine.errors import ConfigError
from funnel.engine.inputs import RULES_LIMIT
from funnel.engine.yaml_lines import Located, check_limits, load_yaml

DOCUMENT = "top: 1\nnested:\n  a: yes\n  2: [x, y]\nlist:\n  - b: 01\n"


def test_mappings_know_their_line_and_each_keys_line() -> None:
    document = load_yaml(DOCUMENT, "x.yaml")
    assert isinstance(document, Located) and document.line == 1
    assert document.lines == {"top": 1, "nested": 2, "list": 5}
    nested = document["nested"]
    assert nested.line == 3 and nested.lines == {"a": 3, 2: 4}
    assert nested["a"] is True and nested[2] == ["x", "y"]
    assert document["list"][0].line == 6 and document["list"][0]["b"] == 1


def test_the_mapping_dialect_keeps_keys_and_booleans_as_written() -> None:
    document = load_yaml(DOCUMENT.encode(), "m.yaml", text_keys=True, booleans=False)
    assert document["nested"] == {"a": "yes", "2": ["x", "y"]}
    assert load_yaml("01: on\n", "m.yaml", text_keys=True, booleans=False) == {"01": "on"}


@pytest.mark.parametrize("text, options, message", [
    ("a: 1\nb: 2\na: 3\n", {}, "m.yaml:3: 'a' appears twice"),
    ("? [1]\n: 2\n", {}, "m.yaml:1: unusable key [1]; keys are names or whole numbers"),
    ("true: 2\n", {}, "m.yaml:1: unusable key True"),
    ("? [1]\n: 2\n", {"text_keys": True}, "m.yaml:1: a key must be plain text"),
    ("a: [1\n", {}, "m.yaml:2: not valid YAML: expected ',' or ']'"),
    ("a: !!python/object:os.system x\n", {}, "m.yaml:1: not valid YAML: could not "
     "determine a constructor"),
])
def test_problems_name_the_file_and_line(text: str, options: dict, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_yaml(text, "m.yaml", **options)
    assert str(caught.value).startswith(message)


def test_bytes_must_be_utf8_and_a_bom_is_fine() -> None:
    assert load_yaml("\ufeffa: 1\n".encode(), "m.yaml") == {"a": 1}
    with pytest.raises(ConfigError, match=r"m.yaml: not UTF-8 text \(byte 3\)"):
        load_yaml(b"a: \xff\n", "m.yaml")


# -- limits: depth, values, aliases, numbers, size (issue #12) --------------------------

def test_nesting_is_refused_past_the_limit_before_the_parser_recurses() -> None:
    assert load_yaml("a: " + "[" * 49 + "]" * 49, "m.yaml")["a"] is not None  # 50 levels
    with pytest.raises(ConfigError, match=r"m.yaml:1: nested more than 50 levels deep"):
        load_yaml("a: " + "[" * 50 + "]" * 50, "m.yaml")
    block = "".join(f"{'  ' * level}k{level}:\n" for level in range(60)) + "  " * 60 + "x\n"
    with pytest.raises(ConfigError, match=r"m.yaml:51: nested more than 50 levels deep"):
        load_yaml(block, "m.yaml")


def test_values_are_counted_with_what_each_alias_repeats() -> None:
    shared = "base: &b [1, 2, 3]\n" + "".join(f"k{i}: *b\n" for i in range(1_000))
    assert load_yaml(shared, "m.yaml")["k999"] == [1, 2, 3]
    many = "base: &b [" + ", ".join(["1"] * 1_000) + "]\n" + \
        "".join(f"k{i}: *b\n" for i in range(100))
    with pytest.raises(ConfigError, match=r"m.yaml:\d+: more than 100,000 values"):
        load_yaml(many, "m.yaml")


@pytest.mark.parametrize("text, message", [
    ("a: " + "9" * 16 + "\n", "has too many digits; numbers have at most 15 digits"),
    ("a: -" + "1" * 16 + ".5\n", "has too many digits"),
    ("a: !!int A\n", "'A' is not a valid int"),
    ("a: !!int\n", "'' is not a valid int"),
    ("a: !!float x\n", "'x' is not a valid float"),
    ("a: 2024-13-45\n", "'2024-13-45' is not a valid timestamp"),
])
def test_values_the_constructors_would_trip_on_name_their_line(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_yaml("ok: 1\n" + text, "m.yaml")
    assert str(caught.value).startswith("m.yaml:2: ") and message in str(caught.value)


def test_long_numbers_may_be_text_keys_or_quoted() -> None:
    long = "1" * 30
    assert load_yaml(f"{long}: x\nb: '{long}'\n", "m.yaml", text_keys=True,
                     booleans=False) == {long: "x", "b": long}
    assert load_yaml("a: 999999999999999\n", "m.yaml") == {"a": 999_999_999_999_999}


def test_documents_over_the_size_limit_are_refused() -> None:
    with pytest.raises(ConfigError, match=r"m.yaml: is 1.0 MiB; a YAML file may be at most"):
        load_yaml(b"#" * (RULES_LIMIT + 1), "m.yaml")


def test_check_limits_guards_a_compose_of_ones_own() -> None:
    check_limits("a: [1, 2]\n", "m.yaml")
    with pytest.raises(ConfigError, match="nested more than 50"):
        check_limits("a: " + "[" * 30_000, "m.yaml")
    with pytest.raises(ConfigError, match="refers to a value that contains it"):
        check_limits("a: &x {b: *x}\n", "m.yaml")
