"""The shared YAML loader: safe loading only, mappings that know their lines, and the
two dialects (the rules' constructed keys; the mappings' keys and booleans as text)."""

from __future__ import annotations

import pytest

from funnel.engine.errors import ConfigError
from funnel.engine.yaml_lines import Located, load_yaml

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
