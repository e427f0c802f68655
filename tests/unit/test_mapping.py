"""Import mapping files (YAML, with file:line errors) and the best guess from a header."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from funnel.engine.rules.loading import presets_dir
from funnel.engine.errors import ConfigError
from funnel.engine.transfer.mapping_file import load_mapping, mapping_presets, parse_mapping
from funnel.engine.transfer.mapping_guess import guess_mapping

GOOD = """\
funnel_mapping: 1
name: fair
match_on: [email, external_id]
defaults:
  source: trade_show
  tags: [fair-2026]
empty_values: [Select, "N/A"]
columns:
  E-mail address: email
  Badge: external_id
  Visitor: name
  Interested:
    field: need
    values: {Yes: yes, No: no, Maybe: ~}
    other: error
  Visits:
    activity: page_visit
  Seconds on stand:
    activity: meeting
    per: 600
  Last touch:
    field: activities
    values: {Opened: email_open}
  Notes:
    - custom
    - field: notes
"""


def test_a_mapping_file_loads_with_its_translations() -> None:
    mapping = parse_mapping(GOOD, "fair.yaml")
    assert mapping.name == "fair" and mapping.match_on == ("email", "external_id")
    assert mapping.defaults == {"source": "trade_show", "tags": ["fair-2026"]}
    assert mapping.empty_values == {"select", "n/a"}
    interested = mapping.column("interested").targets[0]
    # Yes/No stay text (YAML 1.1 would make them booleans) and are matched as written.
    assert interested.values == {"yes": "yes", "no": "no", "maybe": None}
    assert interested.other == "error"
    seconds = mapping.column("SECONDS ON STAND").targets[0]
    assert (seconds.kind, seconds.name, seconds.per) == ("count", "meeting", 600)
    assert [t.kind for t in mapping.column("Notes").targets] == ["custom", "field"]
    assert mapping.column("Last touch").targets[0].other == "empty"


def test_the_shipped_x_education_mapping_is_a_preset() -> None:
    assert "x-education" in mapping_presets()
    assert "default" not in mapping_presets()  # rules presets are not mappings
    mapping = load_mapping("x-education")
    assert Path(mapping.source) == presets_dir() / "x-education.yaml"
    assert mapping.match_on == ("external_id",)
    assert mapping.column("Lead Number").targets[0].name == "external_id"
    # A closed export: 0 is a lead that did not buy (lost), with the reason saying so.
    converted = mapping.column("converted").targets
    assert converted[0].values == {"1": "won", "0": "lost"}
    assert (converted[1].name, converted[1].values) == ("outcome_reason",
                                                         {"0": "not converted (export)"})


def test_an_unknown_preset_suggests_the_closest() -> None:
    with pytest.raises(ConfigError, match="did you mean 'x-education'"):
        load_mapping("x-educaton")
    with pytest.raises(ConfigError, match="no such mapping file"):
        load_mapping("missing/mapping.yaml")


@pytest.mark.parametrize("text, line, fragment", [
    ("", None, "the mapping file is empty"),
    ("funnel_rules: 1\n", 1, "unknown key 'funnel_rules'"),
    ("funnel_mapping: 2\ncolumns: {a: email}\n", 1, "expected format version 1"),
    ("funnel_mapping: 1\n", 1, "columns: list the file's columns"),
    ("funnel_mapping: 1\ncolumns:\n  Mail: emial\n", 3, "did you mean 'email'"),
    ("funnel_mapping: 1\ncolumns:\n  Mail:\n    feild: email\n", 4,
     "unknown key 'feild'; did you mean 'field'"),
    ("funnel_mapping: 1\ncolumns:\n  Visits:\n    activity: page_view\n", 4,
     "'page_view' is not an activity kind"),
    ("funnel_mapping: 1\ncolumns:\n  Src:\n    field: source\n    values:\n"
     "      Google: paid_serch\n", 6, "'paid_serch' is not allowed"),
    ("funnel_mapping: 1\ncolumns:\n  Src:\n    field: source\n    values:\n"
     "      Google: paid_search\n      GOOGLE: organic_search\n", 7, "listed twice"),
    ("funnel_mapping: 1\ncolumns:\n  E-mail: email\n  email: email\n", 4,
     "is the same column as 'E-mail'"),
    ("funnel_mapping: 1\ncolumns:\n  V:\n    activity: page_visit\n    per: 0\n", 5,
     "per must be a number above 0"),
    ("funnel_mapping: 1\ncolumns:\n  V:\n    field: name\n    other: empty\n", 5,
     "'other' goes with 'values'"),
    ("funnel_mapping: 1\nmatch_on: phone\ncolumns: {a: email}\n", 2,
     "'phone' is not a key contacts are matched on"),
    ("funnel_mapping: 1\ndefaults:\n  source: fair\ncolumns: {a: email}\n", 3,
     "defaults: source: 'fair' is not allowed"),
    ("funnel_mapping: 1\ncolumns:\n  a: email\n  a: phone\n", 4, "'a' appears twice"),
    ("funnel_mapping: 1\ncolumns: [a, b\n", 3, "not valid YAML"),
    ("funnel_mapping: 1\ncolumns:\n  V:\n    field: name\n    custom: x\n", 4,
     "exactly one of field, custom or activity"),
])
def test_mistakes_are_reported_with_file_and_line(text: str, line: int | None,
                                                   fragment: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_mapping(text, "my-map.yaml")
    assert caught.value.line == line, str(caught.value)
    assert str(caught.value).startswith(f"my-map.yaml:{line}: " if line else "my-map.yaml: ")
    assert fragment in str(caught.value)


def test_yaml_is_loaded_safely() -> None:
    with pytest.raises(ConfigError):
        parse_mapping("funnel_mapping: 1\ncolumns: !!python/object/apply:os.system [ls]\n")


# -- the best guess ------------------------------------------------------------------
def test_a_guess_maps_fields_by_name_and_common_synonyms() -> None:
    mapping = guess_mapping(["First Name", "Last Name", "E-mail Address", "Mobile",
                             "Organisation", "Job Title", "Lead Source", "Record ID",
                             "Favourite colour", "Tags", "custom.Badge"])
    feeds = {c.column: (c.targets[0].kind, c.targets[0].name) for c in mapping.columns}
    assert feeds == {
        "First Name": ("field", "name"), "Last Name": ("field", "name"),
        "E-mail Address": ("field", "email"), "Mobile": ("field", "phone"),
        "Organisation": ("field", "company"), "Job Title": ("field", "title"),
        "Lead Source": ("field", "source"), "Record ID": ("field", "external_id"),
        "Favourite colour": ("custom", "Favourite colour"), "Tags": ("field", "tags"),
        "custom.Badge": ("custom", "Badge")}
    assert mapping.guessed and mapping.match_on == ("email", "external_id")
    # A guessed choice field keeps values it cannot take as a custom field.
    assert mapping.column("Lead Source").targets[0].soft


def test_a_second_column_for_one_field_stays_a_custom_field() -> None:
    mapping = guess_mapping(["Email", "Work email", "id"])
    feeds = [(c.column, c.targets[0].kind) for c in mapping.columns]
    assert feeds == [("Email", "field"), ("Work email", "custom"), ("id", "field")]


def test_an_export_is_recognised_and_its_derived_columns_skipped() -> None:
    header = ["id", "name", "email", "stage", "stage_since", "activities", "custom.City",
              "score", "grade", "temperature"]
    mapping = guess_mapping(header)
    kinds = {c.column: c.targets[0].kind for c in mapping.columns}
    assert kinds == {"id": "funnel_id", "name": "field", "email": "field", "stage": "stage",
                     "stage_since": "stage_since", "activities": "activities",
                     "custom.City": "custom", "score": "ignore", "grade": "ignore",
                     "temperature": "ignore"}
    assert mapping.empty_values == frozenset()  # "N/A" in an export is text
    # The same names in someone else's file are kept.
    other = guess_mapping(["name", "score", "grade"])
    assert [c.targets[0].kind for c in other.columns] == ["field", "custom", "custom"]


def test_the_readme_example_is_a_valid_mapping() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    blocks = [part.split("```", 1)[0] for part in readme.split("```yaml\n")[1:]]
    example = next(block for block in blocks if "funnel_mapping:" in block)
    mapping = parse_mapping(example, "README.md")
    assert mapping.match_on == ("email",)
    assert [t.kind for t in mapping.column("Notes").targets] == ["custom", "field"]
    assert mapping.column("Lifecycle stage").targets[0].kind == "stage"


def test_a_mapping_file_must_be_a_small_regular_file(tmp_path: Path) -> None:
    """A FIFO would block the read for ever; a huge file is refused before it is read."""
    fifo = tmp_path / "map.yaml"
    os.mkfifo(fifo)
    with pytest.raises(ConfigError, match=r"map.yaml: is a pipe \(FIFO\); only regular"):
        load_mapping(fifo)
    big = tmp_path / "big.yaml"
    big.write_bytes(b"# " + b"x" * (2 << 20))
    with pytest.raises(ConfigError, match=r"big.yaml: is 2.0 MiB; a mapping file may be at most"):
        load_mapping(big)


def test_hostile_mappings_get_one_clear_error() -> None:
    line = GOOD[:GOOD.index("per: 600")].count("\n") + 1
    with pytest.raises(ConfigError, match=rf"m.yaml:{line}: .*at most 15 digits"):
        parse_mapping(GOOD.replace("per: 600", "per: " + "9" * 5_000), "m.yaml")
    with pytest.raises(ConfigError, match=r"m.yaml:\d+: nested more than 50 levels"):
        parse_mapping(GOOD + "  Deep: " + "[" * 20_000 + "\n", "m.yaml")
