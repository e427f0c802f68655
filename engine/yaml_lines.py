"""YAML that remembers lines: the one loader behind the rules and the import mappings.

Only PyYAML's safe constructors are used (``safe_load`` semantics: no Python tags).
Every mapping comes back as a ``Located`` dict that knows its own line and the line
of each key, so a bad value can be pointed at.

API::

    from funnel.engine.yaml_lines import Located, load_yaml

    document = load_yaml(data, source)                    # the rules' dialect
    document = load_yaml(data, source, text_keys=True,    # the mappings' dialect
                         booleans=False)

``data`` is bytes (decoded as UTF-8, a BOM allowed) or text. Every problem is raised
as ``ConfigError(source, line, message)``: "not UTF-8 text (byte N)", "not valid
YAML: ...", "'key' appears twice", and for keys "unusable key ...; keys are names or
whole numbers" (``text_keys=False``: keys are constructed, so ``2:`` is the int 2) or
"a key must be plain text" (``text_keys=True``: keys are their text as written, so
``01`` stays ``"01"``). ``booleans=False`` keeps yes/no/on/off/true/false as text.
"""

from __future__ import annotations

import functools
from typing import Any

import yaml

from funnel.engine.errors import ConfigError

_BOOL_TAG = "tag:yaml.org,2002:bool"


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


def load_yaml(data: bytes | str, source: str, *, text_keys: bool = False,
              booleans: bool = True) -> Any:
    """The document in ``data``, mappings as ``Located``; problems as ``ConfigError``."""
    raw = data.encode() if isinstance(data, str) else data
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ConfigError(source, None, f"not UTF-8 text (byte {error.start})") from None
    fast, careful = _loaders(text_keys, booleans)
    try:
        try:
            return yaml.load(text, Loader=fast)  # noqa: S506 - safe loaders only
        except yaml.YAMLError:
            return yaml.load(text, Loader=careful)  # noqa: S506
    except _KeyProblem as error:
        raise ConfigError(source, error.line, error.message) from None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        raise ConfigError(source, mark.line + 1 if mark else None,
                          f"not valid YAML: {error.problem}") from None
    except yaml.YAMLError as error:
        raise ConfigError(source, None, f"not valid YAML: {error}") from None
