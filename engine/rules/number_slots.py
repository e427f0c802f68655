"""Where each editable number of a rules file sits in its text.

Each number is found by the YAML parser's own marks, so an edit replaces only its
characters. Numbers are addressed by keys:

    fit.<rule id>.points            engagement.<rule id>.points
    engagement.<rule id>.max        grades.4  grades.3  grades.2
    scoring.half_life_days
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import yaml

from funnel.engine.errors import ConfigError
from funnel.engine.yaml_lines import check_limits

HALF_LIFE = "scoring.half_life_days"
GRADES = ("grades.4", "grades.3", "grades.2")
NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")  # a number as written, or as typed

_Entry = tuple[yaml.Node, yaml.Node]  # a mapping's key node and value node


@dataclass(frozen=True)
class Slot:
    """One editable number of the rules file."""

    key: str
    what: str  # "fit rule 'need'": how error messages name it
    name: str  # the YAML key: points, max, half_life_days, 4
    value: float | None  # None: absent (an activity rule without a cap)
    line: int  # 1-based line of the value (where it would go, when absent)
    start: int = -1  # character offsets of the number in the text (-1: absent)
    end: int = -1
    insert_at: int = -1  # absent `max`: where its new line goes ...
    indent: str = ""  # ... and that line's indentation
    whole_line: tuple[int, int] | None = None  # the value's own line, if it may be removed
    locked: str = ""  # why it cannot be edited here ("" if it can)
    activity: bool = False  # belongs to an engagement rule that counts activities

    @property
    def whole(self) -> bool:
        """Only whole numbers make sense: the classifier rounds flat points, and scores
        (so grade thresholds) are whole. Per-activity points and caps fade, so they and
        the half-life may have decimals."""
        return not (self.key == HALF_LIFE or self.activity)

    @property
    def optional(self) -> bool:
        return self.name == "max"

    @property
    def title(self) -> str:
        """How messages name the number: points, max, half_life_days, grade 4."""
        return f"grade {self.name}" if self.key in GRADES else self.name


def locate_numbers(text: str, source: str) -> dict[str, Slot]:
    """Every editable number of the rules ``text``, by key; ConfigError if not YAML."""
    return _Locator(text, source).slots


class _Locator:
    def __init__(self, text: str, source: str) -> None:
        self.text = text
        self.slots: dict[str, Slot] = {}
        try:
            check_limits(text, source)  # depth, size and aliases, before compose recurses
            # The pure-Python parser: its marks count characters, which the edits rely on.
            root = yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.YAMLError as error:
            mark = getattr(error, "problem_mark", None)
            raise ConfigError(source, mark.line + 1 if mark else None,
                              f"not valid YAML: {getattr(error, 'problem', error)}") from None
        if not isinstance(root, yaml.MappingNode):
            raise ConfigError(source, 1, "the rules file must be a mapping")
        self.seen: dict[int, int] = {}
        self.count(root)
        self.scoring(_get(root, "scoring"))
        grades = _get(root, "grades")
        if isinstance(grades, yaml.MappingNode):
            for key in GRADES:
                entry = _entry(grades, key.split(".")[1])
                if entry is not None:
                    self.add(key, "grades", key.split(".")[1], entry, grades)

    def scoring(self, scoring: yaml.Node | None) -> None:
        if not isinstance(scoring, yaml.MappingNode):
            return
        half = _entry(scoring, "half_life_days")
        if half is not None:
            self.add(HALF_LIFE, "scoring", "half_life_days", half, scoring)
        for family in ("fit", "engagement"):
            rules = _get(scoring, family)
            if not isinstance(rules, yaml.SequenceNode):
                continue
            for node in rules.value:
                if not isinstance(node, yaml.MappingNode):
                    continue
                rule_id = _get(node, "id")
                if not isinstance(rule_id, yaml.ScalarNode):
                    continue
                what = f"{family} rule {rule_id.value!r}"
                activity = family == "engagement" and _get(node, "activity") is not None
                points = _entry(node, "points")
                if points is not None:
                    self.add(f"{family}.{rule_id.value}.points", what, "points", points,
                             node, activity=activity)
                if family == "engagement" and activity:
                    self.add(f"engagement.{rule_id.value}.max", what, "max",
                             _entry(node, "max"), node, after=points, activity=True)

    def count(self, node: yaml.Node) -> None:
        """How often each node is reached: an aliased value is shared, not editable here."""
        self.seen[id(node)] = self.seen.get(id(node), 0) + 1
        if self.seen[id(node)] > 1:
            return
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                self.count(key)
                self.count(value)
        elif isinstance(node, yaml.SequenceNode):
            for value in node.value:
                self.count(value)

    def add(self, key: str, what: str, name: str, entry: _Entry | None,
            parent: yaml.MappingNode, *, after: _Entry | None = None,
            activity: bool = False) -> None:
        locked = ""
        if any(k.tag == "tag:yaml.org,2002:merge" for k, _ in parent.value):
            locked = "comes through a YAML merge key (<<); edit the file by hand"
        if entry is None:  # an optional number not written yet: a line goes after `after`
            if after is None or parent.flow_style:
                locked = locked or f"add '{name}' to the file by hand"
                self.slots[key] = Slot(key, what, name, None, parent.start_mark.line + 1,
                                       locked=locked, activity=activity)
                return
            key_node, value_node = after
            end = self.text.find("\n", value_node.end_mark.index)
            insert_at = len(self.text) if end < 0 else end + 1
            self.slots[key] = Slot(key, what, name, None, value_node.end_mark.line + 2,
                                   insert_at=insert_at, indent=" " * key_node.start_mark.column,
                                   locked=locked, activity=activity)
            return
        key_node, node = entry
        value = None
        start, end = node.start_mark.index, node.end_mark.index
        if not isinstance(node, yaml.ScalarNode) or node.style is not None:
            locked = locked or f"{name} is not written as a plain number"
        else:
            # Keep a tag or an anchor in front of the number; replace only the number.
            written = self.text[start:end]
            prefix = re.match(r"(?:[!&]\S*\s+)*", written)
            start += prefix.end() if prefix else 0
            if NUMBER.fullmatch(self.text[start:end]):
                value = float(self.text[start:end])
            else:
                locked = locked or f"{name} is not written as a plain number"
            if self.seen.get(id(node), 0) > 1:
                locked = locked or f"{name} is shared through a YAML alias; edit it by hand"
        self.slots[key] = Slot(key, what, name, value, node.start_mark.line + 1, start, end,
                               whole_line=self.own_line(key_node, node, end), locked=locked,
                               activity=activity)

    def own_line(self, key_node: yaml.Node, node: yaml.Node, end: int
                 ) -> tuple[int, int] | None:
        """The line holding just this key and value (and maybe a comment): removable."""
        line_start = self.text.rfind("\n", 0, key_node.start_mark.index) + 1
        line_end = self.text.find("\n", end)
        line_end = len(self.text) if line_end < 0 else line_end + 1
        rest = self.text[end:line_end].strip()
        if not self.text[line_start:key_node.start_mark.index].strip() and \
                (not rest or rest.startswith("#")) and node.start_mark.line == \
                key_node.start_mark.line:
            return (line_start, line_end)
        return None


def _get(node: yaml.MappingNode, name: str) -> yaml.Node | None:
    found = _entry(node, name)
    return found[1] if found else None


def _entry(node: yaml.MappingNode, name: str) -> _Entry | None:
    for key, value in node.value:
        if isinstance(key, yaml.ScalarNode) and key.value == name:
            return key, value
    return None
