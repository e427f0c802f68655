"""Reading a JSON import into a ``Table``: the shape ``csvread`` gives a CSV file, so
the same ``RowReader`` checks both. Cells keep their JSON values (lists, numbers).

A JSON file is parsed whole, so it is bounded first: at most ``JSON_LIMIT`` bytes
(CSV streams; JSON cannot), nesting at most ``MAX_DEPTH`` deep (checked without
recursion; the error names the line), and text that JSON can escape but no file can
hold (an unpaired surrogate such as ``"\\ud800"``) is an error naming the item.
"""

from __future__ import annotations

import json
import re
from typing import Any

from funnel.engine.inputs import MiB
from funnel.engine.transfer.csvread import ImportFileError, Record, Table, decode

JSON_LIMIT = 256 * MiB
MAX_DEPTH = 64  # a contact as exported is 5 deep
_BRACKET_OR_QUOTE = re.compile(r'["\[\]{}]')
_STRING_REST = re.compile(r'(?:[^"\\]++|\\.)*+"', re.DOTALL)  # after the opening quote
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def read_json(data: bytes, path: str) -> Table:
    """A list of contacts: the documents ``funnel export --format json`` writes, or flat
    objects whose keys are read like a CSV header."""
    text, encoding = decode(data, path)
    try:
        items = json.loads(text)
    except RecursionError:
        raise _too_deep(text, path) from None
    except ValueError as error:
        line = getattr(error, "lineno", None)
        raise ImportFileError(path, f"not valid JSON ({getattr(error, 'msg', error)}"
                              f"{f' at line {line}' if line else ''})") from None
    if _depth_over(items, MAX_DEPTH):
        raise _too_deep(text, path)
    if isinstance(items, dict) and isinstance(items.get("contacts"), list):
        items = items["contacts"]
    if not isinstance(items, list):
        raise ImportFileError(path, "a JSON import is a list of contacts: [{...}, {...}]")
    surrogates = _SURROGATE_ESCAPE.search(text) is not None
    flats = []
    header: dict[str, None] = {}
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise ImportFileError(path, "is not an object of fields", index + 1)
        if surrogates:
            _check_characters(item, path, index + 1)
        flat = _flatten(item)
        flats.append(flat)
        header.update(dict.fromkeys(flat))
    names = tuple(header)
    records = tuple(Record(index + 1, 0, tuple(flat.get(name) for name in names))
                    for index, flat in enumerate(flats))
    return Table(encoding, "", names, records)


def _depth_over(value: Any, limit: int) -> bool:
    """Whether lists and objects nest more than ``limit`` deep (a walk, not recursion)."""
    stack = [(value, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            value = list(value.values())
        elif not isinstance(value, list):
            continue
        if depth > limit:
            return True
        stack.extend((item, depth + 1) for item in value if isinstance(item, (dict, list)))
    return False


def deep_line(text: str, limit: int = MAX_DEPTH) -> int | None:
    """The line where brackets first nest more than ``limit`` deep, skipping strings;
    None if they never do. Reads each character once whatever the text holds."""
    depth, position = 0, 0
    while (found := _BRACKET_OR_QUOTE.search(text, position)) is not None:
        position = found.end()
        mark = found.group()
        if mark == '"':
            rest = _STRING_REST.match(text, position)
            if rest is None:
                return None  # a string never closed: not JSON, and no deeper than here
            position = rest.end()
        elif mark in "[{":
            depth += 1
            if depth > limit:
                return 1 + text.count("\n", 0, found.start())
        else:
            depth -= 1
    return None


def _too_deep(text: str, path: str) -> ImportFileError:
    line = deep_line(text)
    return ImportFileError(path, f"lists or objects nested more than {MAX_DEPTH} deep"
                           f"{f' at line {line}' if line else ''}; a contact is a flat "
                           "object of fields")


def _check_characters(item: dict, path: str, number: int) -> None:
    try:
        json.dumps(item, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError as error:
        raise ImportFileError(path, f"text holds an unpaired surrogate "
                              f"({error.object[error.start:error.end]!a}), which is no "
                              "character; fix that \\u escape", number) from None


def _flatten(item: dict) -> dict[str, Any]:
    if isinstance(item.get("fields"), dict):  # the export's document shape
        flat = {"id": item.get("id"), **item["fields"]}
        flat["activities"] = item.get("activities") or []
        custom = item.get("custom")
        for key, value in (custom.items() if isinstance(custom, dict) else ()):
            flat[f"custom.{key}"] = value
        if custom is not None and not isinstance(custom, dict):
            flat["custom"] = custom  # checked (and refused) as a cell like any other
        classification = item.get("classification")
        if isinstance(classification, dict) and classification.get("stage"):
            flat["stage"] = classification["stage"]
        if item.get("stage_since"):
            flat["stage_since"] = item["stage_since"]
        if item.get("after_contact"):
            flat["after_contact"] = item["after_contact"]
        return flat
    flat = {}
    for key, value in item.items():
        if key == "custom" and isinstance(value, dict):
            for custom_key, custom_value in value.items():
                flat[f"custom.{custom_key}"] = custom_value
        else:
            flat[str(key)] = value
    return flat
