"""Import mappings: which column of a file feeds which part of a contact.

A mapping is YAML (the format is documented in ``config/x-education.yaml`` and
the README), loaded with PyYAML's safe loader only; every mistake is reported
with the file and line, like the rules. Without a mapping file, ``guess_mapping``
makes a best guess from the header names, which ``funnel import --dry-run`` shows
before anything is written.

Two YAML habits that would bite here are switched off: ``Yes``/``No``/``on``/``off``
stay text (YAML 1.1 would make them booleans), and the keys of ``values`` are taken
exactly as written (so ``01`` stays ``01``).
"""

from __future__ import annotations

import difflib
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import yaml

from funnel.engine.transfer.cells import to_field, value_key
from funnel.engine.rules.loading import presets_dir
from funnel.engine.transfer.csvread import header_key
from funnel.engine.errors import ConfigError, FieldError
from funnel.engine.model import ACTIVITY_KINDS, FIELDS

MAPPING_FORMAT = 1
MATCH_KEYS = ("email", "external_id")
# Placeholder texts read as empty in every column, unless a mapping lists its own.
DEFAULT_EMPTY_VALUES = ("Select", "N/A", "#N/A", "null", "-", "--", "(none)", "(blank)")
# What a column can feed besides the contact fields.
SPECIAL_TARGETS = ("custom", "ignore", "activities", "stage", "stage_since")
_ENTRY_KEYS = {"field", "custom", "activity", "values", "other", "per", "at", "optional",
               "date_format"}
_OTHER_WORDS = ("keep", "empty", "error")
_TRUE_WORDS = {"true", "yes", "on"}
_FALSE_WORDS = {"false", "no", "off"}


@dataclass(frozen=True)
class Target:
    """One thing a column feeds.

    kind: ``field`` (name = a contact field), ``custom`` (name = the custom field),
    ``count`` (name = an activity kind; the cell is how many), ``activities`` (the
    cell is a JSON list, or with ``values`` names one activity), ``stage`` (the stage
    the contact has reached), ``stage_since``, ``ignore``; and for a file written by
    ``funnel export``, ``funnel_id``: the contact's id in the database it came from.
    """

    kind: str
    name: str = ""
    values: dict[str, Any] | None = None  # value_key(cell) -> value (None: empty)
    other: str = "keep"  # for a cell not in values: keep, empty, error, or "value"
    other_value: Any = None
    per: float = 1.0
    at: str | None = None  # the column holding this activity's date
    date_format: str | None = None
    line: int | None = None
    soft: bool = False  # a value the field cannot take is kept as a custom field (guesses)

    def describe(self) -> str:
        if self.kind == "field":
            text = self.name
        elif self.kind == "custom":
            text = f"custom field {self.name!r}"
        elif self.kind == "count":
            text = f"{self.name} activities, one per {self.per:g}" if self.per != 1 \
                else f"{self.name} activities (the cell is a count)"
        elif self.kind == "activities":
            text = "an activity named by the cell" if self.values is not None \
                else "activities (a JSON list)"
        elif self.kind == "stage":
            text = "the stage reached"
        elif self.kind == "stage_since":
            text = "when the stage was reached"
        elif self.kind == "funnel_id":
            text = "matches the contact it was exported from (same id and created time)"
        else:
            text = "ignored"
        if self.soft:
            text += " (other values kept as a custom field)"
        if self.values is not None:
            text += f", {len(self.values)} value{'s' if len(self.values) != 1 else ''} " \
                    "translated"
        return text


@dataclass(frozen=True)
class ColumnMap:
    column: str  # as written in the mapping (or the file, for a guess)
    targets: tuple[Target, ...]
    optional: bool = False
    line: int | None = None
    note: str = ""  # why a guess chose this

    @property
    def key(self) -> str:
        return header_key(self.column)


@dataclass(frozen=True)
class Mapping:
    name: str
    source: str  # the file, or "a best guess from the header"
    columns: tuple[ColumnMap, ...] = ()
    description: str = ""
    match_on: tuple[str, ...] = MATCH_KEYS
    defaults: dict[str, Any] = field(default_factory=dict)
    empty_values: frozenset[str] = frozenset(value_key(v) for v in DEFAULT_EMPTY_VALUES)
    keep_unmapped: bool = True
    date_format: str | None = None
    guessed: bool = False

    def column(self, name: str) -> ColumnMap | None:
        key = header_key(name)
        return next((column for column in self.columns if column.key == key), None)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "source": self.source, "guessed": self.guessed,
                "match_on": list(self.match_on), "defaults": dict(self.defaults),
                "columns": {column.column: [target.describe() for target in column.targets]
                            for column in self.columns}}


# -- loading ------------------------------------------------------------------------
class _Located(dict):
    line: int = 0
    lines: dict[str, int]


class _Loader(yaml.SafeLoader):
    """Safe loading; yes/no/on/off stay text; mapping keys are their text as written."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


class _Problem(Exception):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> _Located:
    loader.flatten_mapping(node)
    mapping = _Located()
    mapping.line = node.start_mark.line + 1
    mapping.lines = {}
    for key_node, value_node in node.value:
        line = key_node.start_mark.line + 1
        if not isinstance(key_node, yaml.ScalarNode):
            raise _Problem(line, "a key must be plain text")
        key = key_node.value
        if key in mapping:
            raise _Problem(line, f"{key!r} appears twice")
        mapping[key] = loader.construct_object(value_node, deep=True)
        mapping.lines[key] = line
    return mapping


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def mapping_presets() -> list[str]:
    """The mapping presets shipped in ``config/`` (files whose first key is funnel_mapping)."""
    names = []
    for path in sorted(presets_dir().glob("*.yaml")):
        try:
            with open(path, encoding="utf-8") as handle:
                head = handle.read(4096)
        except OSError:
            continue
        if any(line.startswith("funnel_mapping:") for line in head.splitlines()):
            names.append(path.stem)
    return names


def resolve_mapping(spec: str | os.PathLike) -> Path:
    """A preset name (``x-education``) or a path to a mapping file."""
    text = str(spec)
    path = Path(text)
    if path.is_file():
        return path
    presets = mapping_presets()
    if text in presets:
        return presets_dir() / f"{text}.yaml"
    if os.sep in text or text.endswith((".yaml", ".yml")):
        raise ConfigError(text, None, "no such mapping file")
    close = difflib.get_close_matches(text, presets, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise ConfigError(text, None, "no such mapping file or preset; presets: "
                      + (", ".join(presets) or "none") + hint)


def load_mapping(spec: str | os.PathLike) -> Mapping:
    path = resolve_mapping(spec)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ConfigError(str(path), None, f"cannot read: {error.strerror}") from None
    return parse_mapping(data, str(path))


def parse_mapping(data: bytes | str, source: str = "<mapping>") -> Mapping:
    raw = data.encode() if isinstance(data, str) else data
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ConfigError(source, None, f"not UTF-8 text (byte {error.start})") from None
    try:
        document = yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    except _Problem as error:
        raise ConfigError(source, error.line, error.message) from None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        raise ConfigError(source, mark.line + 1 if mark else None,
                          f"not valid YAML: {error.problem}") from None
    except yaml.YAMLError as error:
        raise ConfigError(source, None, f"not valid YAML: {error}") from None
    return _Builder(source).build(document)


class _Builder:
    def __init__(self, source: str) -> None:
        self.source = source

    def error(self, line: int | None, message: str) -> ConfigError:
        return ConfigError(self.source, line, message)

    def only_keys(self, node: _Located, allowed: Iterable[str], what: str) -> None:
        allowed = set(allowed)
        for key in node:
            if key not in allowed:
                close = difflib.get_close_matches(key, sorted(allowed), n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise self.error(node.lines[key], f"{what}: unknown key {key!r}{hint} "
                                 f"(allowed: {', '.join(sorted(allowed))})")

    def text(self, node: _Located, key: str, what: str) -> str | None:
        value = node.get(key)
        if value is None:
            return None
        if isinstance(value, (dict, list)):
            raise self.error(node.lines[key], f"{what}: {key} must be text")
        return str(value)

    def flag(self, node: _Located, key: str, what: str, default: bool) -> bool:
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
        if not isinstance(document, _Located):
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
        if not isinstance(columns_node, _Located) or not columns_node:
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

    def match_on(self, root: _Located) -> tuple[str, ...]:
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

    def defaults(self, root: _Located) -> dict[str, Any]:
        node = root.get("defaults")
        if node is None:
            return {}
        if not isinstance(node, _Located):
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

    def empty_values(self, root: _Located) -> frozenset[str]:
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
        targets = []
        for item in items:
            if isinstance(item, _Located):
                optional = optional or self.flag(item, "optional", f"column {column!r}", False)
                targets.append(self.entry(column, item, date_format))
            elif isinstance(item, str) or item is None:
                targets.append(self.shorthand(column, item or "", line))
            else:
                raise self.error(line, f"column {column!r}: give a field name or an entry with "
                                 "field/activity/custom, not {item!r}")
        return ColumnMap(column, tuple(targets), optional, line)

    def shorthand(self, column: str, name: str, line: int) -> Target:
        name = name.strip()
        if name == "custom":
            return Target("custom", column.strip(), line=line)
        if name in ("ignore", "activities", "stage", "stage_since"):
            return Target(name, line=line)
        if name in FIELDS:
            return Target("field", name, line=line)
        raise self.error(line, f"column {column!r}: {self.unknown_field(name)}")

    def entry(self, column: str, node: _Located, date_format: str | None) -> Target:
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

    def per(self, node: _Located, what: str) -> float:
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

    def values(self, node: _Located, target: Target, what: str
               ) -> tuple[dict[str, Any], str, Any]:
        table = node["values"]
        if not isinstance(table, _Located):
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


# -- the best guess ------------------------------------------------------------------
_SYNONYMS: dict[str, tuple[str, ...]] = {
    "name": ("name", "fullname", "contactname", "contact", "person", "leadname",
             "firstname", "givenname", "forename", "lastname", "surname", "familyname"),
    "email": ("email", "emailaddress", "mail", "workemail", "businessemail", "emailaddr"),
    "phone": ("phone", "phonenumber", "telephone", "tel", "mobile", "mobilephone", "cell",
              "cellphone", "workphone", "mobilenumber"),
    "company": ("company", "companyname", "organisation", "organization", "org", "account",
                "accountname", "employer"),
    "title": ("title", "jobtitle", "position", "role", "jobrole", "designation"),
    "country": ("country", "countryregion"),
    "industry": ("industry", "sector", "vertical"),
    "company_size": ("companysize", "employees", "numberofemployees", "headcount"),
    "source": ("source", "leadsource", "channel", "acquisitionchannel"),
    "created_at": ("createdat", "created", "createdon", "createddate", "datecreated",
                   "creationdate", "signupdate", "dateadded", "submittedat"),
    "referred_by": ("referredby", "referrer"),
    "external_id": ("externalid", "externalreference", "leadid", "contactid", "recordid",
                    "crmid", "customerid", "prospectid"),
    "budget_amount": ("budgetamount", "budgetvalue"),
    "owner": ("owner", "leadowner", "contactowner", "assignedto", "salesrep", "accountowner"),
    "tags": ("tags", "tag", "labels", "label"),
    "notes": ("notes", "note", "comments", "comment", "remarks"),
    "follow_up": ("followup", "followupdate", "nextfollowup", "nextcontactdate"),
    "outcome_reason": ("outcomereason", "lostreason"),
}
_GUESS: dict[str, str] = {header_key(name): name for name in FIELDS}
for _field_name, _words in _SYNONYMS.items():
    for _word in _words:
        _GUESS.setdefault(_word, _field_name)
_SPECIAL_GUESS = {"activities": "activities", "stage": "stage", "lifecyclestage": "stage",
                  "stagesince": "stage_since"}
# Columns `funnel export` writes that the rules derive: skipped when reading an export.
DERIVED_COLUMNS = ("id", "score", "fit", "engagement", "grade", "temperature", "lead_type",
                   "rotting", "overdue")
CUSTOM_PREFIX = "custom."


def is_export(header: Iterable[str]) -> bool:
    """A file written by ``funnel export`` (its derived columns are then skipped)."""
    names = set(header)
    return {"stage_since", "activities"} <= names


def guess_mapping(header: Iterable[str], name: str = "best guess") -> Mapping:
    """A mapping from the header names alone: fields by name and common synonyms
    (any case, spaces and punctuation), ``custom.X`` columns and every other column as
    custom fields. An ``id`` column is the external id unless the file has one."""
    header = [column for column in header]
    export = is_export(header)
    keys = [header_key(column) for column in header]
    has_external = any(_GUESS.get(key) == "external_id" for key in keys)
    columns = []
    claimed: set[str] = set()
    fields_taken: set[str] = set()  # a second column for one field stays a custom field
    for column, key in zip(header, keys):
        if not column.strip() or key in claimed:
            continue  # unnamed or repeated columns are kept as custom fields by the importer
        claimed.add(key)
        if export and column == "id":
            columns.append(ColumnMap(column, (Target("funnel_id"),),
                                     note="read back into its own database"))
        elif export and column in DERIVED_COLUMNS:
            columns.append(ColumnMap(column, (Target("ignore"),),
                                     note="derived by the rules: not imported"))
        elif column.lower().startswith(CUSTOM_PREFIX) and len(column) > len(CUSTOM_PREFIX):
            columns.append(ColumnMap(column, (Target("custom", column[len(CUSTOM_PREFIX):]),)))
        elif key in _SPECIAL_GUESS:
            columns.append(ColumnMap(column, (Target(_SPECIAL_GUESS[key]),)))
        elif key in _GUESS and (_GUESS[key] not in fields_taken
                                or _GUESS[key] in ("name", "tags", "notes")):
            fields_taken.add(_GUESS[key])
            soft = FIELDS[_GUESS[key]].kind == "enum"
            columns.append(ColumnMap(column, (Target("field", _GUESS[key], soft=soft),),
                                     note="" if key == header_key(_GUESS[key])
                                     else "by a common name"))
        elif key == "id" and not has_external and "external_id" not in fields_taken:
            fields_taken.add("external_id")
            columns.append(ColumnMap(column, (Target("field", "external_id"),),
                                     note="the other system's id"))
        else:
            columns.append(ColumnMap(column, (Target("custom", column.strip()),)))
    # An export says what it means: "N/A" in it is text, not a placeholder.
    empty = frozenset() if export else Mapping.empty_values
    return Mapping(name=name, source="a best guess from the header", columns=tuple(columns),
                   empty_values=empty, guessed=True)


def mapping_from(spec: Mapping | str | os.PathLike | None, header: Iterable[str]) -> Mapping:
    if isinstance(spec, Mapping):
        return spec
    if spec is None or str(spec) == "":
        return guess_mapping(header)
    return load_mapping(spec)

