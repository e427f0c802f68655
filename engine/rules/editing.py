"""Edit the numbers of a rules file in place, keeping every comment and the layout.

The Scoring tab tunes a rule's points (and an activity rule's ``max``), the grade
thresholds and the engagement half-life. The file is never re-dumped: each
number is found in the text by the YAML parser's own marks and only its
characters are replaced, so comments, blank lines, quoting and key order all
stay as the person wrote them. The result is checked with ``parse_rules`` (the
same loader that opens the app) before anyone can use or save it, and saving
writes atomically, never into the shipped presets.

Numbers are addressed by keys:

    fit.<rule id>.points            engagement.<rule id>.points
    engagement.<rule id>.max        grades.4  grades.3  grades.2
    scoring.half_life_days
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

import yaml

from funnel.engine.rules.loading import parse_rules, presets_dir
from funnel.engine.errors import ConfigError, FunnelError
from funnel.engine.rules.ruleset import Rules

HALF_LIFE = "scoring.half_life_days"
GRADES = ("grades.4", "grades.3", "grades.2")
FILE_MODE = 0o640  # owner reads and writes, group reads, nobody else
POINTS_LIMIT = 100  # the score runs 0-100: one rule moving it further means nothing
HALF_LIFE_LIMIT = 3650  # ten years; more is surely a typo
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")
_DECIMALS = 2
_ANY = object()
_CHECKOUT_PRESETS = Path(__file__).resolve().parents[2] / "config"


class EditError(ConfigError):
    """A value that cannot go into the rules: names the file, the line, the rule and key."""

    def __init__(self, path: str, line: int | None, message: str, key: str | None) -> None:
        super().__init__(path, line, message)
        self.key = key


class RulesConflict(FunnelError):
    """The file to save over changed since the draft started (someone else saved)."""


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


def fingerprint(data: bytes | str) -> str:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    return hashlib.sha256(raw).hexdigest()


def file_fingerprint(path: str | os.PathLike) -> str | None:
    """The sha256 of a file's bytes, or None when it does not exist."""
    try:
        return fingerprint(Path(path).read_bytes())
    except FileNotFoundError:
        return None
    except OSError as error:
        raise FunnelError(f"{path}: cannot read: {error.strerror or error}") from None


def format_number(value: float) -> str:
    """A number as plain YAML: ``20``, ``-5``, ``2.5`` (never an exponent)."""
    text = f"{value:.{_DECIMALS}f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def parse_number(text: str) -> float:
    """What a person typed, as a number; ValueError with a message if it is not one."""
    cleaned = text.strip()
    if not _NUMBER.fullmatch(cleaned):
        raise ValueError(f"{cleaned!r} is not a number" if cleaned else "a number is needed")
    if "." in cleaned and len(cleaned.split(".")[1]) > _DECIMALS:
        raise ValueError(f"at most {_DECIMALS} decimals")
    return float(cleaned)


class RulesText:
    """The text of a rules file with its editable numbers located."""

    def __init__(self, text: str, source: str = "<rules>") -> None:
        self.text = text
        self.source = source
        self.slots: dict[str, Slot] = {}
        self.stale = False  # the file changed on disk since the rules were loaded (``of``)
        self._locate()

    @classmethod
    def of(cls, rules: Rules) -> "RulesText":
        """The text the active rules were loaded from (``rules.source``).

        ``stale`` tells whether the file changed on disk since the rules were loaded.
        """
        path = Path(rules.source)
        try:
            raw = path.read_bytes()
        except OSError as error:
            raise ConfigError(rules.source, None, "cannot read the rules file to edit it: "
                              f"{error.strerror or error}") from None
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise ConfigError(rules.source, None, f"not UTF-8 text (byte {error.start})") \
                from None
        found = cls(text, rules.source)
        found.stale = fingerprint(raw) != rules.fingerprint
        return found

    # -- locating --------------------------------------------------------------
    def _locate(self) -> None:
        try:
            # The pure-Python parser: its marks count characters, which the edits rely on.
            root = yaml.compose(self.text, Loader=yaml.SafeLoader)
        except yaml.YAMLError as error:
            mark = getattr(error, "problem_mark", None)
            raise ConfigError(self.source, mark.line + 1 if mark else None,
                              f"not valid YAML: {getattr(error, 'problem', error)}") from None
        if not isinstance(root, yaml.MappingNode):
            raise ConfigError(self.source, 1, "the rules file must be a mapping")
        self._seen: dict[int, int] = {}
        self._count(root)
        scoring = _get(root, "scoring")
        if isinstance(scoring, yaml.MappingNode):
            half = _entry(scoring, "half_life_days")
            if half is not None:
                self._add(HALF_LIFE, "scoring", "half_life_days", half, scoring)
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
                        self._add(f"{family}.{rule_id.value}.points", what, "points", points,
                                  node, activity=activity)
                    if family == "engagement" and activity:
                        self._add(f"engagement.{rule_id.value}.max", what, "max",
                                  _entry(node, "max"), node, after=points, activity=True)
        grades = _get(root, "grades")
        if isinstance(grades, yaml.MappingNode):
            for key in GRADES:
                entry = _entry(grades, key.split(".")[1])
                if entry is not None:
                    self._add(key, "grades", key.split(".")[1], entry, grades)

    def _count(self, node: yaml.Node) -> None:
        """How often each node is reached: an aliased value is shared, not editable here."""
        self._seen[id(node)] = self._seen.get(id(node), 0) + 1
        if self._seen[id(node)] > 1:
            return
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                self._count(key)
                self._count(value)
        elif isinstance(node, yaml.SequenceNode):
            for value in node.value:
                self._count(value)

    def _add(self, key: str, what: str, name: str,
             entry: tuple[yaml.Node, yaml.Node] | None, parent: yaml.MappingNode, *,
             after: tuple[yaml.Node, yaml.Node] | None = None, activity: bool = False) -> None:
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
            if _NUMBER.fullmatch(self.text[start:end]):
                value = float(self.text[start:end])
            else:
                locked = locked or f"{name} is not written as a plain number"
            if self._seen.get(id(node), 0) > 1:
                locked = locked or f"{name} is shared through a YAML alias; edit it by hand"
        whole_line = None
        line_start = self.text.rfind("\n", 0, key_node.start_mark.index) + 1
        line_end = self.text.find("\n", end)
        line_end = len(self.text) if line_end < 0 else line_end + 1
        rest = self.text[end:line_end].strip()
        if not self.text[line_start:key_node.start_mark.index].strip() and \
                (not rest or rest.startswith("#")) and node.start_mark.line == \
                key_node.start_mark.line:
            whole_line = (line_start, line_end)
        self.slots[key] = Slot(key, what, name, value, node.start_mark.line + 1, start, end,
                               whole_line=whole_line, locked=locked, activity=activity)

    # -- editing -----------------------------------------------------------------
    def check(self, key: str, value: float | None,
              draft: Mapping[str, float | None] | None = None) -> None:
        """Refuse a value that cannot go into this slot; EditError names the rule.

        With ``draft`` (the other numbers being edited), also what depends on them: a
        cap has the sign of its points, grade bars rise from grade 2 to 4. ``draft``
        loading through ``parse_rules`` stays the final word.
        """
        slot = self.slots.get(key)
        if slot is None:
            raise EditError(self.source, None, f"{key}: there is no such number to edit", key)

        def refuse(message: str) -> EditError:
            return EditError(self.source, slot.line, f"{slot.what}: {slot.title} {message}",
                             key)

        if slot.locked:
            raise refuse(f"cannot be edited here: {slot.locked}")
        if value is None:
            if not slot.optional:
                raise refuse("needs a number")
            if slot.value is not None and slot.whole_line is None:
                raise refuse("cannot be removed here (it shares its line); edit it by hand")
            return
        if value != value or value in (float("inf"), float("-inf")):
            raise refuse("must be a number")
        if slot.whole and value != int(value):
            raise refuse("must be a whole number")
        if round(value, _DECIMALS) != value:
            raise refuse(f"takes at most {_DECIMALS} decimals")
        if key == HALF_LIFE:
            if not 0 < value <= HALF_LIFE_LIMIT:
                raise refuse(f"must be more than 0 and at most {HALF_LIFE_LIMIT} days")
        elif key in GRADES:
            if not 0 <= value <= 100:
                raise refuse("must be between 0 and 100 (the score runs 0-100)")
        elif not -POINTS_LIMIT <= value <= POINTS_LIMIT:
            raise refuse(f"must be between -{POINTS_LIMIT} and {POINTS_LIMIT} "
                         "(the score runs 0-100)")
        if draft is not None:
            self._check_with_others(slot, value, draft, refuse)

    def _check_with_others(self, slot: Slot, value: float,
                           draft: Mapping[str, float | None], refuse) -> None:
        def now(key: str) -> float | None:
            if key in draft:
                return draft[key]
            found = self.slots.get(key)
            return found.value if found is not None else None

        if slot.activity and slot.name in ("points", "max"):
            base = slot.key.rsplit(".", 1)[0]
            other = now(f"{base}.max" if slot.name == "points" else f"{base}.points")
            if other is not None and other * value < 0:
                raise refuse("must have the sign of points" if slot.name == "max" else
                             f"must have the sign of its max ({format_number(other)})")
        if slot.key in GRADES:
            grade = int(slot.name)
            higher, lower = now(f"grades.{grade + 1}"), now(f"grades.{grade - 1}")
            if grade < 4 and higher is not None and value >= higher:
                raise refuse(f"must be below grade {grade + 1}'s {format_number(higher)}")
            if grade > 2 and lower is not None and value <= lower:
                raise refuse(f"must be above grade {grade - 1}'s {format_number(lower)}")

    def apply(self, edits: Mapping[str, float | None]) -> str:
        """New text with ``edits`` (key -> value; None removes an optional ``max``).

        Each value is checked on its own (``check``); the whole file is not: use
        ``draft`` for that. Only the characters of the numbers change.
        """
        changes: list[tuple[int, int, str]] = []
        newline = "\r\n" if "\r\n" in self.text else "\n"
        for key, value in edits.items():
            self.check(key, value, edits)
            slot = self.slots[key]
            if value is None:
                if slot.value is not None:
                    assert slot.whole_line is not None
                    changes.append((*slot.whole_line, ""))
            elif slot.value is None:
                before = "" if slot.insert_at == 0 or \
                    self.text[slot.insert_at - 1:slot.insert_at] == "\n" else newline
                changes.append((slot.insert_at, slot.insert_at,
                                f"{before}{slot.indent}{slot.name}: {format_number(value)}"
                                f"{newline}"))
            elif value != slot.value:
                changes.append((slot.start, slot.end, format_number(value)))
        text = self.text
        for start, end, new in sorted(changes, reverse=True):
            text = text[:start] + new + text[end:]
        return text

    def draft(self, edits: Mapping[str, float | None], source: str | None = None
              ) -> tuple[str, Rules]:
        """The edited text and the rules it loads as; EditError (file, line, rule) if the
        result is not valid rules (grades out of order, a cap of the wrong sign...)."""
        text = self.apply(edits)
        source = source or self.source
        try:
            rules = parse_rules(text, source)
        except ConfigError as error:
            raise EditError(source, error.line, error.reason,
                            self._blame(edits, error.line, source)) from None
        return text, rules

    def _blame(self, edits: Mapping[str, float | None], line: int | None, source: str
               ) -> str | None:
        """Which edit made the rules invalid: the one whose line the error names, else
        the one without which they load (grade 3 raised above grade 4 is reported on
        grade 4's line)."""
        if line is not None:
            # Back to the numbering of the original text: added or removed `max` lines
            # above the error moved it.
            shift = 0
            for key in sorted(edits, key=lambda k: self.slots[k].line):
                slot, value = self.slots[key], edits[key]
                if slot.value is None and value is not None:
                    if line == slot.line + shift:
                        return key  # the added line itself
                    shift += line > slot.line + shift
                elif slot.value is not None and value is None:
                    shift -= line >= slot.line + shift
            for key in edits:
                if self.slots[key].line == line - shift:
                    return key
        changed = [key for key, value in edits.items() if value != self.slots[key].value]
        for key in changed:
            try:
                parse_rules(self.apply({k: v for k, v in edits.items() if k != key}), source)
            except ConfigError:
                continue
            return key
        return None  # broken without these edits too, or only by several together


def _get(node: yaml.MappingNode, name: str) -> yaml.Node | None:
    found = _entry(node, name)
    return found[1] if found else None


def _entry(node: yaml.MappingNode, name: str) -> tuple[yaml.Node, yaml.Node] | None:
    for key, value in node.value:
        if isinstance(key, yaml.ScalarNode) and key.value == name:
            return key, value
    return None


# -- saving ----------------------------------------------------------------------------
def is_preset(path: str | os.PathLike) -> bool:
    """Whether ``path`` is (or is inside) a directory of shipped presets: the installed
    one and the source checkout's ``config/``."""
    target = Path(path).expanduser().resolve()
    for shipped in {presets_dir().resolve(), _CHECKOUT_PRESETS.resolve()}:
        if target == shipped or shipped in target.parents:
            return True
    return False


def save_rules(text: str, target: str | os.PathLike, *, expect: str | None | object = _ANY,
               mode: int = FILE_MODE) -> Rules:
    """Check ``text`` as rules, write it atomically to ``target``, return the rules loaded
    from it (their ``source`` is ``target``).

    Creates the directory. Never writes into the shipped presets. ``expect`` is the
    fingerprint the target had when the draft started (None: it did not exist); if the
    file changed since, RulesConflict is raised and nothing is written. The new file
    goes to a temp file beside the target, is fsynced and renamed over it, and the
    directory is fsynced: a crash leaves the old file or the new one, never a mix.
    """
    path = Path(target).expanduser()
    if path.is_symlink():
        path = path.resolve()  # write where the link points; keep the link
    if is_preset(path):
        raise FunnelError(f"{path}: the shipped presets are never overwritten; save your "
                          "rules to your own file (--config DIR or --rules FILE.yaml)")
    raw = text.encode("utf-8")
    rules = parse_rules(raw, str(path))  # never write what would not load
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o750)
    except OSError as error:
        raise FunnelError(f"{path.parent}: cannot create the directory: "
                          f"{error.strerror or error}") from None
    if expect is not _ANY:
        current = file_fingerprint(path)
        if current != expect:
            raise RulesConflict(f"{path}: the rules file changed since you started editing "
                                "(saved from elsewhere?); nothing was written")
    if path.exists():
        mode = os.stat(path).st_mode & 0o777 & FILE_MODE or mode
    try:
        descriptor, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp",
                                            dir=path.parent)
    except OSError as error:
        raise FunnelError(f"{path.parent}: cannot write there: {error.strerror or error}") \
            from None
    try:
        with os.fdopen(descriptor, "wb") as handle:
            os.fchmod(handle.fileno(), mode)
            handle.write(raw)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException as error:
        Path(temp).unlink(missing_ok=True)
        if isinstance(error, OSError):
            raise FunnelError(f"{path}: cannot save: {error.strerror or error}") from None
        raise
    _fsync_directory(path.parent)
    return rules


def _fsync_directory(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
