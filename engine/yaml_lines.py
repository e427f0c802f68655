"""YAML that remembers lines: the one loader behind the rules and the import mappings.

Only PyYAML's safe constructors are used (``safe_load`` semantics: no Python tags).
Every mapping comes back as a ``Located`` dict that knows its own line and the line
of each key, so a bad value can be pointed at.

API::

    from funnel.engine.yaml_lines import Located, load_yaml

    document = load_yaml(data, source)                    # the rules' dialect
    document = load_yaml(data, source, text_keys=True,    # the mappings' dialect
                         booleans=False)
    check_limits(text, source)   # only the limits, before a yaml.compose of one's own

``data`` is bytes (decoded as UTF-8, a BOM allowed) or text. Every problem is raised
as ``ConfigError(source, line, message)``: "not UTF-8 text (byte N)", "not valid
YAML: ...", "'key' appears twice", and for keys "unusable key ...; keys are names or
whole numbers" (``text_keys=False``: keys are constructed, so ``2:`` is the int 2) or
"a key must be plain text" (``text_keys=True``: keys are their text as written, so
``01`` stays ``"01"``). ``booleans=False`` keeps yes/no/on/off/true/false as text.

Limits (hostile files get one ``ConfigError``, never a crash, hang or memory blow-up):
at most ``RULES_LIMIT`` bytes; nesting at most ``MAX_DEPTH`` levels (PyYAML's composer
and constructor recurse once per level: thousands of levels were a RecursionError, and
30,000 crashed libyaml's composer); at most ``MAX_NODES`` values, counting each use of
an alias in full (a "billion laughs" file is refused, while a shared value or two stay
fine); no alias inside the value it names; numbers of at most ``MAX_DIGITS`` digits
(Python refuses to read integers of more than 4,300 digits, and no setting needs more).
These are checked first by ``scan_yaml``, a walk over the parser's events, which does
not recurse; only a document that passed is composed and constructed.
"""

from __future__ import annotations

import functools
import re
from typing import Any

import yaml

from funnel.engine.errors import ConfigError
from funnel.engine.inputs import RULES_LIMIT, size_text

_BOOL_TAG = "tag:yaml.org,2002:bool"
_NUMBER_TAGS = ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")

MAX_DEPTH = 50  # a rules file needs about 6
MAX_NODES = 100_000  # values in a document, each alias counted as what it repeats
MAX_DIGITS = 15  # of a number before its point: up to 999,999,999,999,999


class Located(dict[Any, Any]):
    """A mapping from YAML that knows its own line and the line of each key."""

    line: int = 0
    lines: dict[Any, int]


class _KeyProblem(Exception):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


def _located(loader: yaml.SafeLoader, node: yaml.MappingNode, *, text_keys: bool) -> Located:
    loader.flatten_mapping(node)
    mapping = Located()
    mapping.line = node.start_mark.line + 1
    mapping.lines = {}
    for key_node, value_node in node.value:
        line = key_node.start_mark.line + 1
        key: Any
        if text_keys:
            if not isinstance(key_node, yaml.ScalarNode):
                raise _KeyProblem(line, "a key must be plain text")
            key = key_node.value
        else:
            key = loader.construct_object(key_node, deep=True)
            if isinstance(key, bool) or not isinstance(key, (str, int)):
                raise _KeyProblem(line, f"unusable key {key!r}; keys are names or whole numbers")
        if key in mapping:
            raise _KeyProblem(line, f"{key!r} appears twice")
        mapping[key] = loader.construct_object(value_node, deep=True)
        # The key's line: for a nested block or a folded condition that is where it starts.
        mapping.lines[key] = line
    return mapping


def _dialect(base: type[Any], text_keys: bool, booleans: bool) -> type[Any]:
    loader: type[Any] = type("_LineLoader", (base,), {})
    if not booleans:
        loader.yaml_implicit_resolvers = {
            first: [(tag, regexp) for tag, regexp in resolvers if tag != _BOOL_TAG]
            for first, resolvers in base.yaml_implicit_resolvers.items()
        }
    loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
                           functools.partial(_located, text_keys=text_keys))
    return loader


@functools.cache
def _loaders(text_keys: bool, booleans: bool) -> tuple[type[Any], type[Any]]:
    # libyaml's parser when PyYAML has it: 10x faster (the Scoring tab re-reads the rules
    # on every applied number), the same safe constructors and line marks. Its messages
    # for broken YAML differ, so a file it refuses is read again by the pure-Python one.
    fast = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return (_dialect(fast, text_keys, booleans),
            _dialect(yaml.SafeLoader, text_keys, booleans))


class _Open:
    """A mapping or sequence the event walk is inside of."""

    __slots__ = ("anchor", "first_node", "is_mapping", "entries")

    def __init__(self, anchor: str | None, first_node: int, is_mapping: bool) -> None:
        self.anchor = anchor
        self.first_node = first_node
        self.is_mapping = is_mapping
        self.entries = 0  # keys and values seen so far: even means a key comes next


_RESOLVER = yaml.resolver.Resolver()
_CONSTRUCTOR = yaml.constructor.SafeConstructor()
_CHECKED = {tag: yaml.constructor.SafeConstructor.yaml_constructors[tag] for tag in (
    *_NUMBER_TAGS, _BOOL_TAG, "tag:yaml.org,2002:timestamp")}


def _scalar_problem(event: yaml.ScalarEvent) -> str | None:
    """Why a number, boolean or date cannot be read (None if it can, or if it is text).

    PyYAML's constructors fail with a bare ValueError, IndexError or KeyError on a
    value such as ``!!int A``, ``!!float`` or ``2024-13-45``; an int of thousands of
    digits is a ValueError too (and slow); here each gets a message and a line."""
    value = event.value
    tag = event.tag
    if tag is None or tag == "!":
        if not event.implicit[0]:  # quoted: text
            return None
        tag = _RESOLVER.resolve(yaml.ScalarNode, value, (True, False))
    construct = _CHECKED.get(tag or "")
    if construct is None:
        return None
    shown = value if len(value) <= 24 else value[:20] + "…"
    if tag in _NUMBER_TAGS and len(value) > MAX_DIGITS:
        whole = value if tag == _NUMBER_TAGS[0] else re.split(r"[.eE]", value)[0]
        digits = whole.lstrip("+-").replace("_", "").lstrip("0")
        if sum(ch.isdigit() for ch in digits) > MAX_DIGITS:
            return (f"{shown} has too many digits; numbers have at most {MAX_DIGITS} "
                    "digits (up to 999,999,999,999,999)")
    try:
        construct(_CONSTRUCTOR, yaml.ScalarNode(tag, value))
    except Exception:  # noqa: BLE001 - whatever the constructor trips on, say so here
        return f"{shown!r} is not a valid {tag.rsplit(':', 1)[-1]}"
    return None


def scan_yaml(text: str, source: str, *, text_keys: bool = False,
              loader: type[Any] = yaml.SafeLoader) -> None:
    """Refuse a document beyond the limits (see the module docstring), walking the
    parser's events without recursion and stopping at the first problem. Broken YAML
    raises the parser's ``yaml.YAMLError`` (``load_yaml`` turns it into ConfigError)."""
    nodes = 0
    open_nodes: list[_Open] = []
    sizes: dict[str, int] = {}  # anchor -> values it stands for

    def refuse(event: yaml.Event, message: str) -> ConfigError:
        mark = event.start_mark
        return ConfigError(source, mark.line + 1 if mark else None, message)

    for event in yaml.parse(text, Loader=loader):
        if isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            done = open_nodes.pop()
            if done.anchor is not None:
                sizes[done.anchor] = nodes - done.first_node + 1
            continue
        if not isinstance(event, yaml.NodeEvent):  # stream and document marks
            continue
        is_key = False
        if open_nodes:
            parent = open_nodes[-1]
            is_key = parent.is_mapping and parent.entries % 2 == 0
            parent.entries += 1
        if isinstance(event, yaml.AliasEvent):
            if any(one.anchor == event.anchor for one in open_nodes):
                raise refuse(event, f"the alias *{event.anchor} refers to a value that "
                                    "contains it; write the value out instead")
            nodes += sizes.get(event.anchor or "", 1)  # undefined: the composer says so
        else:
            nodes += 1
            if isinstance(event, yaml.ScalarEvent):
                if event.anchor is not None:
                    sizes[event.anchor] = 1
                problem = None if is_key and text_keys else _scalar_problem(event)
                if problem:
                    raise refuse(event, problem)
            else:  # the start of a mapping or a sequence
                if len(open_nodes) >= MAX_DEPTH:
                    raise refuse(event, f"nested more than {MAX_DEPTH} levels deep; a "
                                        "settings file needs only a few levels")
                open_nodes.append(_Open(event.anchor, nodes,
                                        isinstance(event, yaml.MappingStartEvent)))
        if nodes > MAX_NODES:
            raise refuse(event, f"more than {MAX_NODES:,} values (each use of an alias "
                                "counted in full); make the file smaller or use fewer "
                                "aliases (*name)")


def check_limits(text: str, source: str, *, text_keys: bool = False) -> None:
    """``scan_yaml`` before a ``yaml.compose`` elsewhere: libyaml's parser when PyYAML has
    it (fifteen times faster); where it finds broken YAML, the pure-Python one, whose
    events up to the problem are what the pure-Python composer would see."""
    try:
        scan_yaml(text, source, text_keys=text_keys,
                  loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError:
        scan_yaml(text, source, text_keys=text_keys, loader=yaml.SafeLoader)


def load_yaml(data: bytes | str, source: str, *, text_keys: bool = False,
              booleans: bool = True) -> Any:
    """The document in ``data``, mappings as ``Located``; problems as ``ConfigError``."""
    raw = data.encode() if isinstance(data, str) else data
    if len(raw) > RULES_LIMIT:
        raise ConfigError(source, None, f"is {size_text(len(raw))}; a YAML file may be at "
                                        f"most {size_text(RULES_LIMIT)}")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ConfigError(source, None, f"not UTF-8 text (byte {error.start})") from None
    fast, careful = _loaders(text_keys, booleans)
    try:
        try:
            scan_yaml(text, source, text_keys=text_keys, loader=fast)
            return yaml.load(text, Loader=fast)  # noqa: S506 - safe loaders only
        except yaml.YAMLError:
            # The pure-Python parser yields its events up to the problem it reports, so
            # the limits hold for everything its composer would see.
            scan_yaml(text, source, text_keys=text_keys, loader=careful)
            return yaml.load(text, Loader=careful)  # noqa: S506
    except _KeyProblem as error:
        raise ConfigError(source, error.line, error.message) from None
    except (ValueError, IndexError, KeyError, TypeError, OverflowError) as error:
        # A constructor's bare error on a value the scan did not foresee: still one line.
        raise ConfigError(source, None, f"not valid YAML: a value cannot be read ({error})"
                          ) from None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        raise ConfigError(source, mark.line + 1 if mark else None,
                          f"not valid YAML: {error.problem}") from None
    except yaml.YAMLError as error:
        raise ConfigError(source, None, f"not valid YAML: {error}") from None
