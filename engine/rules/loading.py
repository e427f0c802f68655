"""Load rules from YAML into typed ``Rules``; every error names file, line and rule.

YAML is read by ``funnel.engine.yaml_lines`` (safe loading only). Mappings come back
as ``Located`` dicts that remember the line of each key, so a bad value can be pointed at.
Every number has a range, named in the error: points and caps -100..100 (the score runs
0-100), ``half_life_days`` up to 3650, ``rotting_days`` 1..3650, grades 0..100.
"""

from __future__ import annotations

import hashlib
import math
import os
from importlib import resources
from pathlib import Path
from typing import Any

from funnel.engine.rules.condition_names import Vocabulary
from funnel.engine.rules.conditions import Condition, compile_condition
from funnel.engine.errors import ConditionError, ConfigError
from funnel.engine.inputs import RULES_LIMIT, InputFileError, read_input
from funnel.engine.rules.number_checks import HALF_LIFE_LIMIT, POINTS_LIMIT
from funnel.engine.rules.facts import PHASE_OUTCOME, PHASE_SCORING, PHASE_STAGE, vocabulary
from funnel.engine.model import ACTIVITY_KINDS
from funnel.engine.rules.ruleset import (TEMPERATURES, ChoiceRule, ResponseDeadline, Rules,
                                        ScoreRule, Stage)
from funnel.engine.yaml_lines import Located, load_yaml

FORMAT_VERSION = 1
PRESETS = ("default", "fit-first")
_ID_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789_-")
ROTTING_LIMIT = 3650  # days a contact may sit in a stage before it rots: ten years
RESPONSE_HOURS_LIMIT = 8760  # a first-response deadline of up to a year


def presets_dir() -> Path:
    """Where the shipped presets live, in a source checkout or an installed wheel."""
    try:
        installed = resources.files("funnel.presets")
        if installed.joinpath("default.yaml").is_file():
            return Path(str(installed))
    except ModuleNotFoundError:
        pass
    return Path(__file__).resolve().parents[2] / "config"


def resolve(spec: str | os.PathLike | None) -> Path:
    """A preset name (``default``, ``fit-first``) or a path to a rules file."""
    if spec is None or str(spec) == "":
        spec = "default"
    if str(spec) in PRESETS:
        return presets_dir() / f"{spec}.yaml"
    return Path(spec)


def load_rules(spec: str | os.PathLike | None = None) -> Rules:
    path = resolve(spec)
    if not path.exists():
        raise ConfigError(str(path), None, "no such rules file; give a path or a preset ("
                          + ", ".join(PRESETS) + ")")
    try:  # a regular file of at most RULES_LIMIT bytes (never a FIFO or a device)
        data = read_input(path, RULES_LIMIT, "rules file")
    except InputFileError as error:
        raise ConfigError(str(path), None, error.reason) from None
    return parse_rules(data, str(path))


def parse_rules(data: bytes | str, source: str = "<rules>") -> Rules:
    raw = data.encode() if isinstance(data, str) else data
    document = load_yaml(raw, source)
    return _Builder(source, hashlib.sha256(raw).hexdigest()).build(document)


class _Builder:
    def __init__(self, source: str, fingerprint: str) -> None:
        self.source = source
        self.fingerprint = fingerprint

    # -- helpers -------------------------------------------------------
    def error(self, line: int | None, message: str) -> ConfigError:
        return ConfigError(self.source, line, message)

    def mapping(self, value: Any, line: int, what: str) -> Located:
        if not isinstance(value, Located):
            raise self.error(line, f"{what} must be a mapping of keys to values")
        return value

    def sequence(self, value: Any, line: int, what: str) -> list:
        if not isinstance(value, list):
            raise self.error(line, f"{what} must be a list (lines starting with '- ')")
        return value

    def only_keys(self, node: Located, allowed: set[str], what: str) -> None:
        for key in node:
            if key not in allowed:
                raise self.error(node.lines[key], f"{what}: unknown key {key!r}; allowed: "
                                 + ", ".join(sorted(allowed)))

    def require(self, node: Located, key: str, what: str) -> Any:
        if key not in node or node[key] is None:
            raise self.error(node.line, f"{what}: missing {key!r}")
        return node[key]

    def text(self, node: Located, key: str, what: str, default: str | None = None) -> str:
        value = node.get(key, default)
        if value is None:
            raise self.error(node.line, f"{what}: missing {key!r}")
        if not isinstance(value, str):
            raise self.error(node.lines.get(key, node.line), f"{what}: {key} must be text")
        return value

    def number(self, node: Located, key: str | int, what: str, *, required: bool = True,
               minimum: float | None = None, maximum: float | None = None,
               allowed: str = "") -> float | None:
        """The number at ``key``; out of ``minimum``..``maximum``, an error that says
        ``allowed`` (the range in words) or the range."""
        if node.get(key) is None:
            if required:
                raise self.error(node.line, f"{what}: missing {key!r}")
            return None
        value = node[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)) \
                or not math.isfinite(value):
            raise self.error(node.lines[key], f"{what}: {key} must be a number, not {value!r}")
        if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            if not allowed:
                allowed = f"at least {minimum:g}" if maximum is None else \
                    f"between {minimum:g} and {maximum:g}"
            raise self.error(node.lines[key], f"{what}: {key} must be {allowed}")
        return value

    def identifier(self, node: Located, key: str, what: str) -> str:
        value = self.require(node, key, what)
        if not isinstance(value, str) or not value or not set(value) <= _ID_CHARS:
            raise self.error(node.lines.get(key, node.line),
                             f"{what}: {key} {value!r} must be lowercase letters, digits, _ or -")
        return value

    def condition(self, node: Located, key: str, what: str, words: Vocabulary) -> Condition:
        text = self.require(node, key, what)
        try:
            return compile_condition(text, words)
        except ConditionError as error:
            raise self.error(node.lines.get(key, node.line),
                             f"{what}: {key}: {error}") from None

    # -- sections ------------------------------------------------------
    def build(self, document: Any) -> Rules:
        if document is None:
            raise self.error(None, "the rules file is empty")
        root = self.mapping(document, 1, "the rules file")
        self.only_keys(root, {"funnel_rules", "name", "description", "stages", "exits",
                              "scoring", "grades", "temperature", "lead_types",
                              "first_response"}, "rules file")
        version = root.get("funnel_rules")
        if version != FORMAT_VERSION:
            raise self.error(root.lines.get("funnel_rules", 1),
                             f"funnel_rules: expected format version {FORMAT_VERSION}, "
                             f"found {version!r}")
        stages = self.stages(root, "stages", is_exit=False)
        exits = self.stages(root, "exits", is_exit=True, first_order=len(stages))
        ids = [stage.id for stage in stages + exits]
        for stage in stages + exits:
            if ids.count(stage.id) > 1:
                raise self.error(stage.line, f"stage {stage.id!r} is defined twice")
        scoring = self.mapping(self.require(root, "scoring", "rules file"),
                               root.lines.get("scoring", 1), "scoring")
        self.only_keys(scoring, {"half_life_days", "fit", "engagement"}, "scoring")
        half_life = self.number(scoring, "half_life_days", "scoring", minimum=0.001,
                                maximum=HALF_LIFE_LIMIT, allowed=f"more than 0 and at most "
                                f"{HALF_LIFE_LIMIT} days")
        fit = self.score_rules(scoring, "fit")
        engagement = self.score_rules(scoring, "engagement")
        all_rule_ids = [rule.id for rule in fit + engagement]
        for rule in fit + engagement:
            if all_rule_ids.count(rule.id) > 1:
                raise self.error(rule.line, f"rule {rule.id!r} is defined twice")
        temperature_default, temperatures = self.choices(root, "temperature", "temperature",
                                                         tuple(ids))
        lead_default, lead_types = self.choices(root, "lead_types", "type", tuple(ids))
        return Rules(
            name=self.text(root, "name", "rules file"),
            description=str(root.get("description") or ""),
            source=self.source,
            fingerprint=self.fingerprint,
            stages=stages,
            exits=exits,
            fit=fit,
            engagement=engagement,
            half_life_days=float(half_life or 0),
            grades=self.grades(root),
            temperature_default=temperature_default or "cold",
            temperatures=temperatures,
            lead_type_default=lead_default,
            lead_types=lead_types,
            first_response=self.first_response(root),
        )

    def stages(self, root: Located, key: str, *, is_exit: bool,
               first_order: int = 0) -> tuple[Stage, ...]:
        if key not in root and is_exit:
            return ()
        items = self.sequence(self.require(root, key, "rules file"), root.lines.get(key, 1), key)
        if not items and not is_exit:
            raise self.error(root.lines.get(key), "stages: at least one stage is needed")
        words = vocabulary(PHASE_STAGE)
        result = []
        for index, item in enumerate(items):
            node = self.mapping(item, root.lines.get(key, 1), f"{key}[{index + 1}]")
            stage_id = self.identifier(node, "id", f"{key}[{index + 1}]")
            what = f"{'exit' if is_exit else 'stage'} {stage_id!r}"
            self.only_keys(node, {"id", "label", "when", "next_action", "rotting_days"}, what)
            if not is_exit and "when" not in node:
                raise self.error(node.line, f"{what}: missing 'when' (use 'when: always' for "
                                 "the first stage)")
            when = self.condition(node, "when", what, words) if "when" in node else None
            rotting = self.number(node, "rotting_days", what, required=False, minimum=1,
                                  maximum=ROTTING_LIMIT)
            result.append(Stage(
                id=stage_id,
                label=self.text(node, "label", what, default=stage_id.replace("_", " ").title()),
                order=first_order + index,
                when=when,
                next_action=self.text(node, "next_action", what, default=""),
                rotting_days=rotting,
                is_exit=is_exit,
                line=node.line,
            ))
        return tuple(result)

    def score_rules(self, scoring: Located, family: str) -> tuple[ScoreRule, ...]:
        if family not in scoring:
            return ()
        items = self.sequence(scoring[family], scoring.lines[family], f"scoring.{family}")
        words = vocabulary(PHASE_SCORING)
        rules = []
        for index, item in enumerate(items):
            node = self.mapping(item, scoring.lines[family], f"scoring.{family}[{index + 1}]")
            rule_id = self.identifier(node, "id", f"{family} rule {index + 1}")
            what = f"{family} rule {rule_id!r}"
            self.only_keys(node, {"id", "label", "when", "activity", "points", "max"}, what)
            points = self.number(node, "points", what, minimum=-POINTS_LIMIT,
                                 maximum=POINTS_LIMIT,
                                 allowed=f"between -{POINTS_LIMIT} and {POINTS_LIMIT} (the "
                                 "score runs 0-100)")
            has_when, has_activity = "when" in node, "activity" in node
            if has_when == has_activity:
                raise self.error(node.line, f"{what}: give exactly one of 'when' (flat points) "
                                 "or 'activity' (points per activity)")
            activity = None
            if has_activity:
                activity = node["activity"]
                if activity not in ACTIVITY_KINDS:
                    raise self.error(node.lines["activity"],
                                     f"{what}: activity {activity!r} is not one of "
                                     + ", ".join(ACTIVITY_KINDS))
            elif "max" in node:
                raise self.error(node.lines["max"], f"{what}: 'max' applies to activity rules")
            maximum = self.number(node, "max", what, required=False, minimum=-POINTS_LIMIT,
                                  maximum=POINTS_LIMIT,
                                  allowed=f"between -{POINTS_LIMIT} and {POINTS_LIMIT} (the "
                                  "score runs 0-100)")
            if maximum is not None and points is not None and (maximum * points < 0):
                raise self.error(node.lines["max"], f"{what}: max must have the sign of points")
            rules.append(ScoreRule(
                id=f"{family}.{rule_id}",
                family=family,
                label=self.text(node, "label", what, default=rule_id.replace("_", " ")),
                points=float(points or 0),
                when=self.condition(node, "when", what, words) if has_when else None,
                activity=activity,
                maximum=maximum,
                line=node.line,
            ))
        return tuple(rules)

    def grades(self, root: Located) -> tuple[tuple[int, float], ...]:
        node = self.mapping(self.require(root, "grades", "rules file"),
                            root.lines.get("grades", 1), "grades")
        for key in node:
            if key not in (2, 3, 4):
                raise self.error(node.lines[key], f"grades: key {key!r} must be 2, 3 or 4 "
                                 "(grade 1 is everything below grade 2)")
        thresholds = []
        for grade in (4, 3, 2):
            value = self.number(node, grade, "grades", minimum=0)
            if value is not None and value > 100:
                raise self.error(node.lines[grade], f"grades: {grade}: {value} is above 100")
            thresholds.append((grade, float(value or 0)))
        for (high, high_bar), (low, low_bar) in zip(thresholds, thresholds[1:]):
            if high_bar <= low_bar:
                raise self.error(node.lines[high], f"grades: grade {high} needs a higher score "
                                 f"than grade {low} ({high_bar:g} <= {low_bar:g})")
        return tuple(thresholds)

    def choices(self, root: Located, key: str, value_key: str,
                stage_ids: tuple[str, ...]) -> tuple[str | None, tuple[ChoiceRule, ...]]:
        node = self.mapping(self.require(root, key, "rules file"), root.lines.get(key, 1), key)
        self.only_keys(node, {"default", "rules"}, key)
        default = node.get("default")
        if key == "temperature" and default not in TEMPERATURES:
            raise self.error(node.lines.get("default", node.line),
                             "temperature: default must be one of " + ", ".join(TEMPERATURES))
        if key == "lead_types":
            default = None if default in (None, "none") else str(default)
        words = vocabulary(PHASE_OUTCOME, stage_ids)
        items = self.sequence(node.get("rules") or [], node.lines.get("rules", node.line),
                              f"{key}.rules")
        result = []
        for index, item in enumerate(items):
            entry = self.mapping(item, node.line, f"{key}.rules[{index + 1}]")
            value = self.require(entry, value_key, f"{key}.rules[{index + 1}]")
            what = f"{key} rule {value!r}"
            self.only_keys(entry, {value_key, "label", "when"}, what)
            if key == "temperature" and value not in TEMPERATURES:
                raise self.error(entry.lines[value_key], f"{what}: temperature must be one of "
                                 + ", ".join(TEMPERATURES))
            if not isinstance(value, str) or not value.strip():
                raise self.error(entry.lines[value_key], f"{what}: {value_key} must be text")
            result.append(ChoiceRule(
                value=value,
                label=self.text(entry, "label", what, default=value),
                when=self.condition(entry, "when", what, words),
                line=entry.line,
            ))
        return default, tuple(result)

    def first_response(self, root: Located) -> tuple[ResponseDeadline, ...]:
        """``first_response``: ordered ``when``/``within_hours`` entries (none: no deadlines)."""
        if root.get("first_response") is None:
            return ()
        line = root.lines.get("first_response", 1)
        items = self.sequence(root["first_response"], line, "first_response")
        words = vocabulary(PHASE_SCORING)
        result = []
        for index, item in enumerate(items):
            what = f"first_response[{index + 1}]"
            node = self.mapping(item, line, what)
            self.only_keys(node, {"when", "within_hours"}, what)
            hours = self.number(node, "within_hours", what, minimum=0,
                                maximum=RESPONSE_HOURS_LIMIT, allowed=f"more than 0 and at "
                                f"most {RESPONSE_HOURS_LIMIT} hours")
            if not hours:
                raise self.error(node.lines["within_hours"], f"{what}: within_hours must be "
                                 f"more than 0 and at most {RESPONSE_HOURS_LIMIT} hours")
            result.append(ResponseDeadline(when=self.condition(node, "when", what, words),
                                           within_hours=float(hours), line=node.line))
        return tuple(result)
