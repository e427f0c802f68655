"""Checking a mapping file's YAML document and building the ``Mapping`` it describes.

Every mistake is a ``ConfigError`` naming the file and line, like the rules: an
unknown key (with the closest allowed one), a field that does not exist, a
translation the field cannot take. Translations are checked here, at load, so a
typo fails once and not on every row. ``mapping_file`` reads the YAML.

Entry options besides the target: ``values``, ``other``, ``per``, ``at``,
``date_format``, ``optional: true`` (the column may be missing) and
``after_contact: true`` (the column was filled in after the sales contact: imported
as usual, but every contact records what it fed in ``after_contact``, and a learner
leaves that out; see ``ColumnMap.sources``). Both flags, on any entry of a column,
mark the whole column.
"""

from __future__ import annotations

import difflib
import math
from pathlib import Path
from typing import Any, Iterable

from funnel.engine.errors import ConfigError, FieldError
from funnel.engine.model import ACTIVITY_KINDS, FIELDS
from funnel.engine.transfer.cells import to_field, value_key
from funnel.engine.transfer.csvread import header_key
from funnel.engine.transfer.mapping import (MAPPING_FORMAT, MATCH_KEYS, SPECIAL_TARGETS,
                                            ColumnMap, Mapping, Target)
from funnel.engine.yaml_lines import Located

_ENTRY_KEYS = {"field", "custom", "activity", "values", "other", "per", "at", "optional",
               "date_format", "after_contact"}
_OTHER_WORDS = ("keep", "empty", "error")
_TRUE_WORDS = {"true", "yes", "on"}
_FALSE_WORDS = {"false", "no", "off"}


def build_mapping(document: Any, source: str) -> Mapping:
    """The mapping a loaded YAML document describes (mappings in it as ``Located``)."""
    return _Builder(source).build(document)


class _Builder:
    def __init__(self, source: str) -> None:
        self.source = source

    def error(self, line: int | None, message: str) -> ConfigError:
        return ConfigError(self.source, line, message)

    def only_keys(self, node: Located, allowed: Iterable[str], what: str) -> None:
        allowed = set(allowed)
        for key in node:
            if key not in allowed:
                close = difflib.get_close_matches(key, sorted(allowed), n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise self.error(node.lines[key], f"{what}: unknown key {key!r}{hint} "
                                 f"(allowed: {', '.join(sorted(allowed))})")

    def text(self, node: Located, key: str, what: str) -> str | None:
        value = node.get(key)
        if value is None:
            return None
        if isinstance(value, (dict, list)):
            raise self.error(node.lines[key], f"{what}: {key} must be text")
        return str(value)

    def flag(self, node: Located, key: str, what: str, default: bool) -> bool:
        value = node.get(key)
        if value is None:
            return default
        word = str(value).strip().lower()
        if word in _TRUE_WORDS:
            return True
        if word in _FALSE_WORDS:
            return False
        raise self.error(node.lines[key], f"{what}: {key} must be true or false, not {value!r}")

    def build(self, document: Any) -> Mapping:
        if document is None:
            raise self.error(None, "the mapping file is empty")
        if not isinstance(document, Located):
            raise self.error(1, "a mapping file is a set of keys (funnel_mapping, columns, ...)")
        root = document
        self.only_keys(root, {"funnel_mapping", "name", "description", "match_on", "defaults",
                              "empty_values", "keep_unmapped", "date_format", "columns"},
                       "mapping file")
        version = root.get("funnel_mapping")
        if str(version) != str(MAPPING_FORMAT):
            raise self.error(root.lines.get("funnel_mapping", 1),
                             f"funnel_mapping: expected format version {MAPPING_FORMAT}, found "
                             f"{version!r} (is this a mapping file?)")
        date_format = self.text(root, "date_format", "mapping file")
        columns_node = root.get("columns")
        if not isinstance(columns_node, Located) or not columns_node:
            raise self.error(root.lines.get("columns", root.line),
                             "columns: list the file's columns, each with what it feeds "
                             "(e.g. 'E-mail address: email')")
        columns = []
        seen: dict[str, str] = {}
        for column, entry in columns_node.items():
            line = columns_node.lines[column]
            if not column.strip():
                raise self.error(line, "columns: a column name is empty")
            key = header_key(column)
            if key in seen:
                raise self.error(line, f"columns: {column!r} is the same column as "
                                 f"{seen[key]!r} (names match ignoring case and spaces)")
            seen[key] = column
            columns.append(self.column(column, entry, line, date_format))
        return Mapping(
            name=self.text(root, "name", "mapping file") or Path(self.source).stem,
            source=self.source,
            description=" ".join((self.text(root, "description", "mapping file") or "").split()),
            columns=tuple(columns),
            match_on=self.match_on(root),
            defaults=self.defaults(root),
            empty_values=self.empty_values(root),
            keep_unmapped=self.flag(root, "keep_unmapped", "mapping file", True),
            date_format=date_format,
        )

    def match_on(self, root: Located) -> tuple[str, ...]:
        value = root.get("match_on")
        if value is None:
            return MATCH_KEYS
        keys = value if isinstance(value, list) else [value]
        line = root.lines["match_on"]
        if not keys:
            raise self.error(line, "match_on: give email, external_id or both")
        for key in keys:
            if key not in MATCH_KEYS:
                raise self.error(line, f"match_on: {key!r} is not a key contacts are matched "
                                 "on; use email, external_id or a list of both")
        return tuple(dict.fromkeys(keys))

    def defaults(self, root: Located) -> dict[str, Any]:
        node = root.get("defaults")
        if node is None:
            return {}
        if not isinstance(node, Located):
            raise self.error(root.lines["defaults"], "defaults: give field: value pairs")
        clean = {}
        for name, value in node.items():
            line = node.lines[name]
            if name not in FIELDS or not FIELDS[name].editable:
                raise self.error(line, f"defaults: {self.unknown_field(name)}")
            try:
                converted = to_field(name, ", ".join(map(str, value))
                                     if isinstance(value, list) else value)
            except FieldError as error:
                raise self.error(line, f"defaults: {error}") from None
            if converted not in (None, []):
                clean[name] = converted
        return clean

    def empty_values(self, root: Located) -> frozenset[str]:
        value = root.get("empty_values")
        if value is None:
            return Mapping.empty_values
        if not isinstance(value, list) or any(isinstance(v, (dict, list)) for v in value):
            raise self.error(root.lines["empty_values"], "empty_values: give a list of texts, "
                             "e.g. [Select, N/A]")
        return frozenset(value_key("" if v is None else str(v)) for v in value)

    def unknown_field(self, name: str) -> str:
        names = [n for n in FIELDS if FIELDS[n].editable or n == "created_at"]
        close = difflib.get_close_matches(name, names + list(SPECIAL_TARGETS), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        return f"{name!r} is not a contact field{hint} (fields: {', '.join(names)}; or " \
               f"{', '.join(SPECIAL_TARGETS)})"

    def column(self, column: str, entry: Any, line: int, date_format: str | None
               ) -> ColumnMap:
        items = entry if isinstance(entry, list) else [entry]
        if not items:
            raise self.error(line, f"column {column!r}: say what it feeds (a field, custom, "
                             "ignore, or an entry with field/activity/custom)")
        optional = False
        after_contact = False  # on any entry, it marks the whole column (as optional does)
        targets = []
        for item in items:
            if isinstance(item, Located):
                optional = optional or self.flag(item, "optional", f"column {column!r}", False)
                after_contact = after_contact or self.flag(item, "after_contact",
                                                           f"column {column!r}", False)
                targets.append(self.entry(column, item, date_format))
            elif isinstance(item, str) or item is None:
                targets.append(self.shorthand(column, item or "", line))
            else:
                raise self.error(line, f"column {column!r}: give a field name or an entry with "
                                 "field/activity/custom, not {item!r}")
        return ColumnMap(column, tuple(targets), optional, line, after_contact=after_contact)

    def shorthand(self, column: str, name: str, line: int) -> Target:
        name = name.strip()
        if name == "custom":
            return Target("custom", column.strip(), line=line)
        if name in ("ignore", "activities", "stage", "stage_since"):
            return Target(name, line=line)
        if name in FIELDS:
            return Target("field", name, line=line)
        raise self.error(line, f"column {column!r}: {self.unknown_field(name)}")

    def entry(self, column: str, node: Located, date_format: str | None) -> Target:
        what = f"column {column!r}"
        self.only_keys(node, _ENTRY_KEYS, what)
        chosen = [key for key in ("field", "custom", "activity") if key in node]
        if len(chosen) != 1:
            raise self.error(node.line, f"{what}: give exactly one of field, custom or "
                             "activity")
        date_format = self.text(node, "date_format", what) or date_format
        at = self.text(node, "at", what)
        kind = chosen[0]
        if kind == "custom":
            name = self.text(node, "custom", what) or column
            target = Target("custom", name.strip(), line=node.line)
        elif kind == "activity":
            activity = self.text(node, "activity", what)
            if activity not in ACTIVITY_KINDS:
                raise self.error(node.lines["activity"], f"{what}: {activity!r} is not an "
                                 "activity kind; use one of " + ", ".join(ACTIVITY_KINDS))
            target = Target("count", activity, per=self.per(node, what), at=at,
                            line=node.line)
        else:
            name = (self.text(node, "field", what) or "").strip()
            if name in FIELDS:
                target = Target("field", name, date_format=date_format, line=node.line)
            elif name in ("activities", "stage", "stage_since", "ignore"):
                target = Target(name, at=at, date_format=date_format, line=node.line)
            elif name == "custom":
                target = Target("custom", column.strip(), line=node.line)
            else:
                raise self.error(node.lines["field"], f"{what}: {self.unknown_field(name)}")
        if "per" in node and target.kind != "count":
            raise self.error(node.lines["per"], f"{what}: 'per' applies to activity counts")
        if at is not None and target.kind not in ("count", "activities"):
            raise self.error(node.lines["at"], f"{what}: 'at' applies to activities")
        if "values" in node:
            values, other, other_value = self.values(node, target, what)
            target = Target(target.kind, target.name, values, other, other_value, target.per,
                            target.at, target.date_format, target.line)
        elif "other" in node:
            raise self.error(node.lines["other"], f"{what}: 'other' goes with 'values'")
        return target

    def per(self, node: Located, what: str) -> float:
        if "per" not in node:
            return 1.0
        value = node["per"]
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = math.nan
        if not math.isfinite(number) or number <= 0:
            raise self.error(node.lines["per"], f"{what}: per must be a number above 0, "
                             f"not {value!r}")
        return number

    def values(self, node: Located, target: Target, what: str
               ) -> tuple[dict[str, Any], str, Any]:
        table = node["values"]
        if not isinstance(table, Located):
            raise self.error(node.lines["values"], f"{what}: values must be pairs of "
                             "'text in the file: value', one per line")
        values: dict[str, Any] = {}
        for cell, value in table.items():
            line = table.lines[cell]
            key = value_key(cell)
            if key in values:
                raise self.error(line, f"{what}: {cell!r} is listed twice (values match "
                                 "ignoring case and spaces)")
            values[key] = self.translated(target, value, line, what)
        other = node.get("other")
        other_word = "keep" if "other" not in node else "empty" if other is None \
            else str(other).strip()
        other_value = None
        if other_word not in _OTHER_WORDS:
            other_value = self.translated(target, other, node.lines["other"], what)
            other_word = "value" if other_value is not None else "empty"
        if target.kind == "activities" and other_word == "keep":
            other_word = "empty"  # a value not listed names no activity
        return values, other_word, other_value

    def translated(self, target: Target, value: Any, line: int, what: str) -> Any:
        """A translation's result, checked now so a typo fails at load, not per row."""
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if isinstance(value, (dict, list)):
            raise self.error(line, f"{what}: a translation must be a single value")
        text = str(value).strip()
        if target.kind == "activities":
            if text not in ACTIVITY_KINDS:
                raise self.error(line, f"{what}: {text!r} is not an activity kind; use one of "
                                 + ", ".join(ACTIVITY_KINDS))
            return text
        if target.kind == "field":
            try:
                return to_field(target.name, text, target.date_format)
            except FieldError as error:
                raise self.error(line, f"{what}: {error}") from None
        if target.kind == "count":
            raise self.error(line, f"{what}: an activity count takes no values")
        return text
